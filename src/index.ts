/**
 * earshot — fast, listenable explanations of audio classifiers.
 * The public API: everything a library user imports comes from here.
 */
export { EarshotError } from '../bindings/errors.ts';
export { initCore, core } from '../bindings/wasm.ts';
export { decodeWav, encodeWav, mixdown, resample, resamplePoly, resampleFilter, DEFAULT_SAMPLE_RATE } from './audio/index.ts';
export type { AudioData, DecodedWav, WavSampleFormat, WavEncodeFormat, EncodeWavOptions, ResampleOptions } from './audio/index.ts';
