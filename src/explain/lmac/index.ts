/**
 * L-MAC, Listenable Maps for Audio Classifiers (Paissan, Ravanelli & Subakan 2024, paper 004;
 * methods.md §7), for earshot's singing-voice CNN: a trained decoder turns the frozen
 * classifier's hidden activations into a mask on the linear STFT magnitude in ONE forward pass
 * (amortised: no gradients, no sampling at explanation time); the mask applied to |X| with the
 * original phase is a listenable explanation.
 *
 * The stable API (used by `earshot evaluate`, the CLI and the bench):
 *   const lmac = await loadLmac('assets/models/lmac-default', 'assets/models/svd-default');
 *   const mask = await lmac.explainMagnitude(mag);   // mag, mask: Float32Array 115 × 513
 *   lmac.dispose();
 * `loadLmac(decoder, classifier)`: decoder = a directory with decoder.json + decoder.bin or
 * { json, bin }; classifier = a WeightSet, a directory with model.json + weights.bin, or
 * { json, bin }. A decoder trained for another classifier is refused (LMAC_MISMATCH).
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkArray, checkInt } from '../../../bindings/errors.ts';
import { activeBackend, initBackend } from '../../model/backend.ts';
import { createSvdCnn, type SvdCnn } from '../../model/svdcnn.ts';
import { loadWeights, type WeightSet, type WeightSource } from '../../model/weights.ts';
import { magnitudeModel, type MagnitudeModel } from '../maskable.ts';
import { LmacDecoder } from './decoder.ts';
import { classProbability } from './loss.ts';
import { checkClassifier, classifierRef, loadDecoderFile, type DecoderFile, type DecoderSource } from './weights.ts';

export { LmacDecoder, svdLmacArchitecture, lmacTensorSpecs, initDecoderTensors, interpolationMatrix, frequencyMapInit, LMAC_ARCHITECTURE_NAME } from './decoder.ts';
export type { LmacArchitecture } from './decoder.ts';
export { lmacLoss, crossEntropy, classProbability, checkLossWeights, DEFAULT_LOSS } from './loss.ts';
export type { LossWeights, LossParts, GuidanceInput } from './loss.ts';
export { parseDecoder, serializeDecoder, loadDecoderFile, saveDecoderFile, classifierFingerprint, classifierRef, checkClassifier, LMAC_FORMAT, LMAC_FORMAT_VERSION, LMAC_MANIFEST_FILE, LMAC_WEIGHTS_FILE } from './weights.ts';
export type { DecoderFile, DecoderInfo, DecoderSource, ClassifierRef } from './weights.ts';
export { clipSpectrogram, excerptMagnitude, excerptRows, maskedExcerptAudio, excerptAudio, stftOptionsOf } from './audio.ts';
export type { ClipSpectrogram } from './audio.ts';

/** What one explanation gives besides the mask: P(c) of the original, masked-in and masked-out input. */
export interface LmacResult {
  /** T × bins mask in [0, 1]. */
  mask: Float32Array;
  /** The predicted class c (for a one-label detector: 1 = the label, 0 = not). */
  predictedClass: number;
  /** P(c | X), P(c | M ⊙ X), P(c | (1 − M) ⊙ X). */
  pOriginal: number;
  pIn: number;
  pOut: number;
  /** P(label) of the original (the detector's output). */
  prediction: number;
}

export interface Lmac {
  readonly frames: number;
  readonly bins: number;
  readonly decoder: LmacDecoder;
  readonly magnitudeModel: MagnitudeModel;
  readonly classifier: SvdCnn;
  readonly file: DecoderFile;
  /** The decision threshold defining c (from the decoder file). */
  readonly threshold: number;
  /** One excerpt's |X| (frames × bins) → its mask (frames × bins, in [0, 1]). */
  explainMagnitude(mag: Float32Array): Promise<Float32Array>;
  /** n excerpts back to back → n masks back to back. */
  explainBatch(mags: Float32Array, n: number): Promise<Float32Array>;
  /** The mask with the class probabilities of the original, masked-in and masked-out input. */
  explainDetailed(mag: Float32Array): Promise<LmacResult>;
  dispose(): void;
}

async function ensureBackend(): Promise<void> {
  try {
    activeBackend();
  } catch {
    await initBackend('wasm');
  }
}

function isWeightSet(v: unknown): v is WeightSet {
  return !!v && typeof v === 'object' && 'info' in v && 'tensors' in v;
}

/** Build an Lmac from an already parsed decoder file and classifier weights. */
export function createLmac(file: DecoderFile, weights: WeightSet, opts: { checkClassifier?: boolean } = {}): Lmac {
  if (opts.checkClassifier ?? true) checkClassifier(file, classifierRef(weights));
  const norm = weights.info.normalization;
  if (!norm) throw new EarshotError('BAD_ARGUMENT', `loadLmac: classifier '${weights.info.id ?? '?'}' has no normalisation statistics in its weight file`);
  const classifier = createSvdCnn(weights);
  const mm = magnitudeModel(classifier, { mean: Float32Array.from(norm.mean), std: Float32Array.from(norm.std) }, weights.info.frontend);
  const a = file.info.architecture;
  if (a.frames !== mm.frames || a.bins !== mm.bins || a.nMels !== mm.nMels) {
    mm.dispose();
    classifier.dispose();
    throw new EarshotError('LMAC_MISMATCH', `decoder grid ${a.frames}×${a.bins} (${a.nMels} mel bands) does not match the classifier's ${mm.frames}×${mm.bins} (${mm.nMels})`);
  }
  const decoder = new LmacDecoder(a, file.tensors, false);
  const threshold = file.info.classifier.threshold;
  const frames = mm.frames;
  const bins = mm.bins;
  const size = frames * bins;
  let disposed = false;
  const checkMag = (mag: unknown, n: number, what: string): Float32Array => {
    if (disposed) throw new EarshotError('DISPOSED', 'this L-MAC explainer was disposed');
    checkArray(mag as Float32Array, Float32Array, what, n * size);
    const m = mag as Float32Array;
    for (let i = 0; i < m.length; i++) {
      const v = m[i]!;
      if (!(v >= 0) || v === Infinity) throw new EarshotError(v >= 0 ? 'NOT_FINITE' : 'BAD_ARGUMENT', `${what}[${i}] is ${v}; magnitudes must be finite and ≥ 0`);
    }
    return m;
  };
  const masks = (x: tf.Tensor): tf.Tensor => {
    const [A, B] = decoder.activations(mm, x);
    try {
      return tf.tidy(() => decoder.mask(A, B));
    } finally {
      tf.dispose([A, B]);
    }
  };
  return {
    frames,
    bins,
    decoder,
    magnitudeModel: mm,
    classifier,
    file,
    threshold,
    async explainMagnitude(mag) {
      return this.explainBatch(mag, 1);
    },
    async explainBatch(mags, n) {
      checkInt(n, 'n (excerpts)', 1);
      checkMag(mags, n, 'mag');
      const out = new Float32Array(n * size);
      const bs = 16;
      for (let s = 0; s < n; s += bs) {
        const m = Math.min(bs, n - s);
        const x = tf.tensor3d(mags.subarray(s * size, (s + m) * size), [m, frames, bins]);
        try {
          const y = masks(x);
          out.set((await y.data()) as Float32Array, s * size);
          y.dispose();
        } finally {
          x.dispose();
        }
      }
      return out;
    },
    async explainDetailed(mag) {
      checkMag(mag, 1, 'mag');
      const x = tf.tensor3d(mag, [1, frames, bins]);
      try {
        const M = masks(x);
        const r = tf.tidy(() => {
          const z = mm.logits(x);
          const p = tf.sigmoid(z);
          const c = z.shape[1] === 1 ? tf.cast(tf.greaterEqual(tf.reshape(p, [1]), threshold), 'float32') : tf.cast(tf.argMax(z, 1), 'float32');
          return [p, c, classProbability(z, c), classProbability(mm.logits(tf.mul(M, x)), c), classProbability(mm.logits(tf.mul(tf.sub(1, M), x)), c)];
        });
        const [p, c, p0, pi, po] = await Promise.all(r.map((t) => t.data()));
        const mask = (await M.data()) as Float32Array;
        tf.dispose([M, ...r]);
        return { mask, predictedClass: c![0]!, pOriginal: p0![0]!, pIn: pi![0]!, pOut: po![0]!, prediction: p![0]! };
      } finally {
        x.dispose();
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      decoder.dispose();
      mm.dispose();
      classifier.dispose();
    },
  };
}

/**
 * Load a trained decoder and the classifier it explains. The TF.js backend is brought up
 * (wasm) if none is active.
 */
export async function loadLmac(decoder: DecoderSource, classifier: WeightSet | WeightSource, opts: { checkClassifier?: boolean } = {}): Promise<Lmac> {
  const file = await loadDecoderFile(decoder);
  const weights = isWeightSet(classifier) ? classifier : await loadWeights(classifier);
  await ensureBackend();
  return createLmac(file, weights, opts);
}
