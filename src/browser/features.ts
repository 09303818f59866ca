/**
 * Feature tests of the browser the web app needs, kept tiny so the page can check them before it
 * loads anything heavy: wasm SIMD (the core is built with it, and TF.js wasm runs fastest with it).
 */
/** wasm SIMD feature test: a function returning a v128 constant (the core and TF.js need SIMD). */
export function simdSupported(): boolean {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return false;
  // (module (func (result v128) v128.const i32x4 0 0 0 0))
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);
  return WebAssembly.validate(bytes);
}

