/**
 * The model layer: the Classifier interface, the singing-voice CNN (methods.md §2) on TF.js,
 * its weight files, adapters for other models, and the TF.js backend set-up.
 *
 * This index is the browser-safe part (src/index.ts re-exports it; no node: import is reached
 * from here except lazily inside functions that only run on a directory path in Node). What
 * writes files lives in ./node.ts, re-exported by the Node entry src/node.ts.
 */
export * from './classifier.ts';
export * from './backend.ts';
export { registerGradients, GRADIENT_KERNELS } from './gradients.ts';
export * from './svdcnn.ts';
export {
  WEIGHTS_FORMAT,
  WEIGHTS_FORMAT_VERSION,
  MANIFEST_FILE,
  WEIGHTS_FILE,
  SVD_FRONTEND_DESCRIPTION,
  crc32,
  tensorSpecsFor,
  parseWeights,
  serializeWeights,
  loadWeights,
  mulberry32,
  initWeights,
} from './weights.ts';
export type { WeightDtype, TensorData, Normalization, ModelInfo, WeightSet, TensorEntry, Manifest, SerializeOptions, WeightSource, InitOptions } from './weights.ts';
export * from './adapters.ts';

import { SvdCnn } from './svdcnn.ts';
import { loadWeights, type WeightSource } from './weights.ts';

/**
 * Load a weight file as a ready SvdCnn. Call initBackend first. In a browser pass
 * `{ json, bin }` (e.g. fetched model.json text and weights.bin bytes); a directory path needs Node.
 */
export async function loadSvdCnn(source: WeightSource): Promise<SvdCnn> {
  return new SvdCnn(await loadWeights(source));
}
