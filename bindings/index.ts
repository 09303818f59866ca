/** The typed bindings of the compute core: every size and option is checked here, before wasm. */
export * from './errors.ts';
export * from './wasm.ts';
export * from './mel.ts';
export * from './stft.ts';
export * from './resample.ts';
export * from './conv_grad.ts';
export * from './lime.ts';
export * from './separate.ts';
export * from './frontend_grad.ts';
export * from './audiolime.ts';
export * from './input_grad.ts';
