/**
 * Sanity checks of attribution methods (methods.md §8; L-MAC §3.4):
 *
 * - Cascading model randomisation (Adebayo et al. 2018): re-initialise the classifier's layers
 *   one at a time from the top (logit, fc2, fc1, conv4, …, conv1) with fresh random weights of
 *   the architecture's initialiser, explain the same excerpt for the same class after each step,
 *   and compare each map with the original one by SSIM and by Spearman rank correlation (./
 *   similarity.ts). A method that explains the model must drift away; one that does not (edge
 *   detection) stays similar.
 * - ROAR, RemOve And Retrain (Hooker et al. 2019): replace the top x % of each excerpt's bins by
 *   the method's mask with an uninformative value (the training excerpts' mean |X| of that
 *   frequency bin), retrain the classifier from scratch on the degraded training excerpts, and
 *   measure its accuracy on equally degraded test excerpts. A faithful method removes what the
 *   model needs: accuracy falls faster than with a random mask.
 *
 * Only the bins the classifier sees (the mel filterbank's support) are ranked and removed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkInt, checkNumber } from '../../bindings/errors.ts';
import type { SvdCnn } from '../model/svdcnn.ts';
import { Adam, trainStep } from '../model/train.ts';
import { createSvdCnn } from '../model/svdcnn.ts';
import { initWeights, type TensorData } from '../model/weights.ts';
import { Rng } from '../explain/rng.ts';
import { spearman, ssim } from './similarity.ts';

/** Layers of the SVD CNN from the top (the order of the cascade). */
export const CASCADE_LAYERS = ['fc3', 'fc2', 'fc1', 'conv4', 'conv3', 'conv2', 'conv1'] as const;

/**
 * Re-initialise the top `depth` layers of each model (kernel and bias; batch-norm statistics
 * stay) with the random weights of `initWeights(seed + 0x5bd1e995)`; depth 0 restores `original`.
 */
export function randomiseTop(models: SvdCnn[], depth: number, original: Record<string, TensorData>, seed: number): void {
  checkInt(depth, 'depth', 0, CASCADE_LAYERS.length);
  // a seed of its own, so that randomising a model built by initWeights(seed) is not a no-op
  const fresh = initWeights((seed + 0x5bd1e995) >>> 0).tensors;
  const set: Record<string, TensorData> = {};
  CASCADE_LAYERS.forEach((layer, i) => {
    for (const part of ['kernel', 'bias']) {
      const name = `${layer}.${part}`;
      set[name] = i < depth ? fresh[name]! : original[name]!;
    }
  });
  for (const m of models) m.setWeights(set);
}

/** The region of a T × bins map the classifier sees: T × (last visible bin + 1), row-major. */
export function visibleRegion(map: Float32Array, T: number, bins: number, nVisible: number): Float32Array {
  const out = new Float32Array(T * nVisible);
  for (let t = 0; t < T; t++) out.set(map.subarray(t * bins, t * bins + nVisible), t * nVisible);
  return out;
}

/** SSIM (data range 1) and Spearman of two masks over the visible bins. */
export function mapSimilarity(a: Float32Array, b: Float32Array, T: number, bins: number, nVisible: number): { ssim: number; spearman: number } {
  const ra = visibleRegion(a, T, bins, nVisible);
  const rb = visibleRegion(b, T, bins, nVisible);
  return { ssim: ssim(ra, rb, T, nVisible, { dataRange: 1 }), spearman: spearman(ra, rb) };
}

/** Mean |X| per frequency bin over the excerpts (frames × bins each): ROAR's replacement value. */
export function binMeans(mags: Float32Array[], bins: number): Float32Array {
  const s = new Float64Array(bins);
  let n = 0;
  for (const m of mags) {
    for (let i = 0; i < m.length; i++) s[i % bins] += m[i]!;
    n += m.length / bins;
  }
  return Float32Array.from(s, (v) => v / n);
}

/**
 * |X| with the top `fraction` of the visible bins by `mask` replaced by `fill` (per bin). Ties
 * are broken by a seeded random order, so a constant mask removes a random subset.
 */
export function removeTop(mag: Float32Array, mask: Float32Array, fraction: number, fill: Float32Array, bins: number, nVisible: number, seed: number): Float32Array {
  checkNumber(fraction, 'fraction', 0, 1);
  if (mask.length !== mag.length) throw new EarshotError('BAD_SHAPE', `removeTop: mask has ${mask.length} values, |X| ${mag.length}`);
  const out = mag.slice();
  const T = mag.length / bins;
  const idx: number[] = [];
  for (let t = 0; t < T; t++) for (let k = 0; k < nVisible; k++) idx.push(t * bins + k);
  const k = Math.round(fraction * idx.length);
  if (k === 0) return out;
  const rng = new Rng(seed >>> 0);
  const jitter = new Float64Array(mag.length);
  for (const i of idx) jitter[i] = rng.uniform();
  idx.sort((a, b) => mask[b]! - mask[a]! || jitter[b]! - jitter[a]!);
  for (let j = 0; j < k; j++) {
    const i = idx[j]!;
    out[i] = fill[i % bins]!;
  }
  return out;
}

export interface RoarTrainInput {
  /** n × 115 × 80 normalised classifier inputs and their 0/1 labels. */
  train: Float32Array;
  trainLabels: Uint8Array;
  test: Float32Array;
  testLabels: Uint8Array;
  steps: number;
  batch: number;
  learningRate: number;
  seed: number;
}

export interface RoarTrainResult {
  accuracy: number;
  /** Mean training loss over the last 10 steps. */
  loss: number;
  seconds: number;
}

/** Train a fresh SVD CNN (initWeights(seed)) on balanced batches, then its test accuracy at P = 0.5. */
export async function roarTrain(o: RoarTrainInput): Promise<RoarTrainResult> {
  const t0 = performance.now();
  const model = createSvdCnn(initWeights(o.seed));
  const size = model.arch.frames * model.arch.bands;
  const nTr = o.trainLabels.length;
  const nTe = o.testLabels.length;
  if (o.train.length !== nTr * size || o.test.length !== nTe * size) throw new EarshotError('BAD_SHAPE', `roarTrain: inputs must be n × ${size} values`);
  const pos: number[] = [];
  const neg: number[] = [];
  o.trainLabels.forEach((l, i) => (l ? pos : neg).push(i));
  if (pos.length === 0 || neg.length === 0) throw new EarshotError('BAD_ARGUMENT', 'roarTrain: the training excerpts need both classes');
  const adam = new Adam(model.trainableVariables(), o.learningRate);
  const rng = new Rng(o.seed);
  const losses: number[] = [];
  try {
    for (let s = 0; s < o.steps; s++) {
      const xb = new Float32Array(o.batch * size);
      const yb = new Float32Array(o.batch);
      for (let j = 0; j < o.batch; j++) {
        const from = j % 2 ? neg : pos;
        const i = from[rng.below(from.length)]!;
        xb.set(o.train.subarray(i * size, (i + 1) * size), j * size);
        yb[j] = o.trainLabels[i]!;
      }
      const x = tf.tensor3d(xb, [o.batch, model.arch.frames, model.arch.bands]);
      const y = tf.tensor2d(yb, [o.batch, 1]);
      try {
        losses.push(trainStep(model, adam, x, y, o.seed * 100_003 + s).loss);
      } finally {
        tf.dispose([x, y]);
      }
    }
    const p = await model.predict(o.test, nTe);
    let right = 0;
    for (let i = 0; i < nTe; i++) if ((p[i]! >= 0.5 ? 1 : 0) === o.testLabels[i]) right++;
    const tail = losses.slice(-10);
    return { accuracy: right / nTe, loss: tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length), seconds: (performance.now() - t0) / 1000 };
  } finally {
    adam.dispose();
    model.dispose();
  }
}
