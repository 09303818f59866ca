/**
 * The parts of the model layer that write files (Node only): re-exported by src/node.ts, kept
 * out of src/model/index.ts so the browser entry never reaches them.
 */
export { saveWeights } from './weights.ts';
