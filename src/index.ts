/**
 * earshot — fast, listenable explanations of audio classifiers.
 * The public API: everything a library user imports comes from here.
 */
export { EarshotError } from '../bindings/errors.ts';
export { initCore, core } from '../bindings/wasm.ts';
