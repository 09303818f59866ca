/**
 * The classifier the mask evaluations and sanity checks run on (Node only): the singing-voice
 * CNN (methods.md §2) as the differentiable TF.js `SvdCnn` (gradients, L-MAC, retraining) seen
 * from |X| through `magnitudeModel`, from the weights `--model` names (resolveModelWeights in
 * src/cli/model-loader.ts). Weights without normalisation statistics
 * (random:SEED) are z-scored with per-band statistics of the log-mel of the given excerpts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError } from '../../bindings/errors.ts';
import { magnitudeModel, type MagnitudeModel } from '../explain/maskable.ts';
import type { BandStats } from '../frontend/stats.ts';
import { initBackend } from '../model/backend.ts';
import { createSvdCnn, type SvdCnn } from '../model/svdcnn.ts';
import { registerWasmTrainingKernels } from '../model/wasm_kernels.ts';
import { crc32, type WeightSet } from '../model/weights.ts';

export interface EvalModel {
  weights: WeightSet;
  svd: SvdCnn;
  mm: MagnitudeModel;
  stats: BandStats;
  /** The weight directory (null for random:SEED). */
  dir: string | null;
  /** What was asked for ('default', a directory, random:SEED). */
  spec: string;
}

/**
 * The model key `earshot evaluate` and `earshot sanity` write into their journals (and check on
 * resume): CRC-32 of the buffer behind fc3.kernel. Weaker than weightsFingerprint (it sees one
 * tensor's buffer), kept as it is because the committed journals are keyed by it.
 */
export function journalModelKey(weights: WeightSet): string {
  return crc32(new Uint8Array(weights.tensors['fc3.kernel']!.data.buffer.slice(0)));
}

/** Per-band mean and std of the classifier input (log-mel) of the excerpts |X| (frames × bins each). */
export function statsFromMagnitudes(template: MagnitudeModel, mags: Float32Array[]): BandStats {
  const B = template.nMels;
  const sum = new Float64Array(B);
  const sq = new Float64Array(B);
  let n = 0;
  for (const m of mags) {
    const x = tf.tidy(() => template.toInput(tf.tensor3d(m, [1, template.frames, template.bins])).dataSync() as Float32Array);
    for (let i = 0; i < x.length; i++) {
      sum[i % B] += x[i]!;
      sq[i % B] += x[i]! * x[i]!;
    }
    n += x.length / B;
  }
  const mean = Float32Array.from(sum, (s) => s / n);
  const std = Float32Array.from(sq, (s, b) => Math.sqrt(Math.max(s / n - mean[b]! ** 2, 1e-12)) || 1);
  return { mean, std };
}

/** `weights` carrying `stats` as their normalisation (for consumers that read it from the weight set, e.g. loadLmac). */
export function withStats(weights: WeightSet, stats: BandStats): WeightSet {
  if (weights.info.normalization) return weights;
  return { ...weights, info: { ...weights.info, normalization: { mean: Array.from(stats.mean), std: Array.from(stats.std) } } };
}

/** Bring up TF.js wasm (with the training kernels) and build the model from its weights. */
export async function buildEvalModel(weights: WeightSet, dir: string | null, spec: string | undefined, statsFrom: Float32Array[] = []): Promise<EvalModel> {
  await initBackend('wasm');
  registerWasmTrainingKernels();
  const svd = createSvdCnn(weights);
  const norm = weights.info.normalization;
  let stats: BandStats;
  if (norm) stats = { mean: Float32Array.from(norm.mean), std: Float32Array.from(norm.std) };
  else {
    if (statsFrom.length === 0) throw new EarshotError('BAD_ARGUMENT', 'the model has no normalisation statistics and no excerpts were given to compute them from');
    const raw = magnitudeModel(svd, { mean: new Float32Array(svd.arch.bands), std: new Float32Array(svd.arch.bands).fill(1) });
    stats = statsFromMagnitudes(raw, statsFrom);
    raw.dispose();
  }
  return { weights, svd, mm: magnitudeModel(svd, stats), stats, dir, spec: spec ?? 'default' };
}
