// The earshot compute core: the ABI that hosts call (numbers and pointers only).
// Kernels never allocate: every buffer (inputs, outputs, scratch) is owned by the host's arena
// in bindings/wasm.ts, which places them at or above heapBase() and grows memory itself.
// Each kernel family lives in its own file; this file only re-exports them (docs/abi.md).

export * from './fft';
export * from './stft';
export * from './mel';
export * from './occlude';
export * from './ridge';
export * from './resample';
export * from './conv_grad';
export * from './bn_act';
export * from './separate';
export * from './frontend_grad';
export * from './audiolime';
export * from './input_grad';

/** First byte of linear memory that the host may use for its arena. */
export function heapBase(): usize {
  return __heap_base;
}

/** ABI version: bump when an export's signature or semantics change. */
export function abiVersion(): i32 {
  return 1;
}
