// Peer libraries measured in bench/ that ship no type declarations.
declare module '@echogarden/pffft-wasm/simd';
declare module '@echogarden/pffft-wasm';
