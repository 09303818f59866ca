/**
 * The model layer: the Classifier interface, the singing-voice CNN (methods.md §2) on TF.js,
 * its weight files, adapters for other models, and the TF.js backend set-up.
 */
export * from './classifier.ts';
export * from './backend.ts';
export { registerGradients, GRADIENT_KERNELS } from './gradients.ts';
export * from './svdcnn.ts';
export * from './weights.ts';
export * from './adapters.ts';

import { SvdCnn } from './svdcnn.ts';
import { loadWeights, type WeightSource } from './weights.ts';

/** Load a weight file (directory or { json, bin }) as a ready SvdCnn. Call initBackend first. */
export async function loadSvdCnn(source: WeightSource): Promise<SvdCnn> {
  return new SvdCnn(await loadWeights(source));
}
