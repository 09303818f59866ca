/**
 * The classifier seen from the **linear STFT magnitude** of an excerpt: |X| (frames × bins) →
 * mel → log → z-score → CNN, as one differentiable TF.js function. This is the domain where
 * L-MAC's masks live (methods.md §7: f(M ⊙ X) and f((1 − M) ⊙ X)), where the faithfulness
 * metrics mask the input (methods.md §8), and where gradient baselines become masks that can be
 * listened to (ISTFT with the original phase).
 *
 * The mel step is a dense matMul with the front end's own filterbank (bindings/mel.ts, the
 * filterbank the wasm front end uses, zero beyond `nBinsUsed`), so for a mask of ones the
 * probabilities equal the classifier on the wasm front end's log-mel (tested to 1e-4).
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError } from '../../bindings/errors.ts';
import { melFilterbank } from '../../bindings/mel.ts';
import { SVD_FRONTEND, melOptionsOf, validateFrontEndConfig, type FrontEndConfig } from '../frontend/config.ts';
import type { BandStats } from '../frontend/stats.ts';
import type { DifferentiableClassifier } from '../model/classifier.ts';

export interface MagnitudeModel {
  /** Frames per excerpt (the classifier's input frames, 115 for the SVD CNN). */
  readonly frames: number;
  /** Linear STFT bins (nFft / 2 + 1 = 513). */
  readonly bins: number;
  /** Mel bands (80). */
  readonly nMels: number;
  /** The front end's filterbank as [bins, nMels] (zero rows beyond nBinsUsed); owned here. */
  readonly melT: tf.Tensor2D;
  /** |X| [n, frames, bins] → the classifier's normalised input [n, frames, nMels]. */
  toInput(mag: tf.Tensor): tf.Tensor;
  /** |X| [n, frames, bins] → probabilities [n, labels] (differentiable). */
  apply(mag: tf.Tensor): tf.Tensor;
  /** |X| → pre-sigmoid scores [n, labels] where the classifier has them. */
  logits(mag: tf.Tensor): tf.Tensor;
  /** |X| → the classifier's named hidden activations (caller disposes). */
  activations(mag: tf.Tensor, names?: string[]): Record<string, tf.Tensor>;
  readonly classifier: DifferentiableClassifier;
  dispose(): void;
}

/**
 * Wrap `classifier` (input [n, frames, nMels], normalised log-mel) with the magnitude → input
 * path of `config` and the z-score `stats` the classifier was trained with.
 */
export function magnitudeModel(classifier: DifferentiableClassifier, stats: BandStats, config: FrontEndConfig = SVD_FRONTEND): MagnitudeModel {
  const c = validateFrontEndConfig(config);
  if (c.spectrum !== 'magnitude') throw new EarshotError('BAD_CONFIG', `magnitudeModel: the front end must use spectrum 'magnitude', got '${c.spectrum}'`);
  const [frames, nMels] = classifier.inputShape as [number, number];
  if (classifier.inputShape.length !== 2 || nMels !== c.nMels) {
    throw new EarshotError('BAD_SHAPE', `magnitudeModel: the classifier's input must be [frames, ${c.nMels}] (log-mel bands of the front end), got [${classifier.inputShape.join(', ')}]`);
  }
  if (!stats || !(stats.mean instanceof Float32Array) || stats.mean.length !== nMels || !(stats.std instanceof Float32Array) || stats.std.length !== nMels) {
    throw new EarshotError('BAD_ARGUMENT', `magnitudeModel: stats must be { mean, std } Float32Arrays of length ${nMels}`);
  }
  const bins = c.nFft / 2 + 1;
  const opts = melOptionsOf(c);
  // nBinsUsed columns of the bank; the remaining bins carry no weight (the "svd" front end
  // ignores bins above 8 kHz entirely).
  const fb = melFilterbank({ sampleRate: opts.sampleRate, nFft: opts.nFft, nMels: opts.nMels, fMin: opts.fMin, fMax: opts.fMax, scale: opts.scale, construction: opts.construction, norm: opts.norm, nBinsUsed: opts.nBinsUsed });
  const used = fb.length / nMels;
  const dense = new Float32Array(bins * nMels);
  for (let b = 0; b < nMels; b++) for (let k = 0; k < used; k++) dense[k * nMels + b] = fb[b * used + k]!;
  const melT = tf.keep(tf.tensor2d(dense, [bins, nMels]));
  const mean = tf.keep(tf.tensor1d(stats.mean));
  const invStd = tf.keep(tf.tensor1d(stats.std.map((s) => 1 / s)));
  const floor = c.logFloor;
  let disposed = false;

  const check = (mag: tf.Tensor, where: string): void => {
    if (disposed) throw new EarshotError('DISPOSED', 'magnitudeModel was disposed');
    if (!(mag instanceof tf.Tensor) || mag.rank !== 3 || mag.shape[1] !== frames || mag.shape[2] !== bins) {
      throw new EarshotError('BAD_SHAPE', `${where}: magnitudes must be [n, ${frames}, ${bins}], got ${mag instanceof tf.Tensor ? `[${mag.shape.join(', ')}]` : typeof mag}`);
    }
  };
  const toInput = (mag: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const n = mag.shape[0]!;
      const mel = tf.matMul(tf.reshape(mag, [n * frames, bins]), melT);
      const logm = tf.log(tf.maximum(mel, floor));
      return tf.reshape(tf.mul(tf.sub(logm, mean), invStd), [n, frames, nMels]);
    });

  return {
    frames,
    bins,
    nMels,
    melT,
    classifier,
    toInput(mag) {
      check(mag, 'magnitudeModel.toInput');
      return toInput(mag);
    },
    apply(mag) {
      check(mag, 'magnitudeModel.apply');
      return tf.tidy(() => classifier.apply(toInput(mag)));
    },
    logits(mag) {
      check(mag, 'magnitudeModel.logits');
      if (!classifier.logits) throw new EarshotError('UNSUPPORTED', `classifier '${classifier.id}' has no logits`);
      return tf.tidy(() => classifier.logits!(toInput(mag)));
    },
    activations(mag, names) {
      check(mag, 'magnitudeModel.activations');
      const x = toInput(mag);
      try {
        return classifier.activations(x, names);
      } finally {
        x.dispose();
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([melT, mean, invStd]);
    },
  };
}
