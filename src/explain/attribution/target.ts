/**
 * What a gradient attribution differentiates: a `GradientTarget` is a differentiable classifier
 * over one T × F input grid (for earshot the linear STFT magnitude |X|, 115 × 513, through
 * `magnitudeModel`, src/explain/maskable.ts), with the score of a class c, the class
 * probabilities, and (for Grad-CAM) a named hidden layer plus the part of the network after it.
 *
 * The score of class c follows Captum's convention of attributing the model's output for a
 * target: by default the pre-sigmoid logit (for a binary sigmoid detector with logit z the
 * log-odds of class c: z for the label, −z for its absence), or the probability p_c with
 * `output: 'probability'`.
 *
 * Layer maps (Grad-CAM) live on the layer's (time × mel-band) grid; `layerToInput` upsamples
 * them bilinearly to the classifier's T × nMels input and spreads each mel band over the linear
 * bins it is built from (`melToLinear`), so every method ends on the same |X| grid.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkEnum } from '../../../bindings/errors.ts';
import type { MagnitudeModel } from '../maskable.ts';
import { SvdCnn, SVD_TAIL_LAYERS } from '../../model/svdcnn.ts';

export type ScoreOutput = 'logit' | 'probability';

export interface GradientTarget {
  /** One example's grid [T, F] (rows = time). */
  readonly shape: readonly [number, number];
  /** Classes (2 for a binary detector: 0 = absence, 1 = the label). */
  readonly numClasses: number;
  /** The class-c score of each example of x [n, T, F] → [n] (differentiable). */
  score(x: tf.Tensor, c: number): tf.Tensor;
  /** Class probabilities [n, numClasses] (a binary detector's as [1 − P, P]). */
  probabilities(x: tf.Tensor): tf.Tensor;
  /** Layers Grad-CAM can use, in forward order. */
  readonly layers?: readonly string[];
  /** The activation of `layer` for x, NHWC [n, h, w, channels] (rows = time). */
  layerActivation?(x: tf.Tensor, layer: string): tf.Tensor;
  /** The class-c score from `layer`'s activation onward → [n] (differentiable). */
  layerScore?(act: tf.Tensor, layer: string, c: number): tf.Tensor;
  /** A map on a layer's h × w grid → the input grid T × F. */
  layerToInput?(map: Float32Array, h: number, w: number): Float32Array;
}

/**
 * Bilinear resize of an h × w map to H × W with half-pixel centres (align_corners = False, as
 * torch.nn.functional.interpolate and tf.image.resizeBilinear(halfPixelCenters)).
 */
export function resizeBilinear(src: Float32Array, h: number, w: number, H: number, W: number): Float32Array {
  if (src.length !== h * w) throw new EarshotError('BAD_SHAPE', `resizeBilinear: map must hold ${h}×${w} = ${h * w} values, got ${src.length}`);
  const out = new Float32Array(H * W);
  const sy = h / H;
  const sx = w / W;
  for (let i = 0; i < H; i++) {
    const fy = Math.min(Math.max((i + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let j = 0; j < W; j++) {
      const fx = Math.min(Math.max((j + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      const a = src[y0 * w + x0]! * (1 - dx) + src[y0 * w + x1]! * dx;
      const b = src[y1 * w + x0]! * (1 - dx) + src[y1 * w + x1]! * dx;
      out[i * W + j] = a * (1 - dy) + b * dy;
    }
  }
  return out;
}

/**
 * The linear-bin weights of a mel map: `bank` is the front end's filterbank as [bins, nMels]
 * (MagnitudeModel.melT). Linear bin k takes the average of the mel values of the filters that
 * contain it, weighted by the filters' values at k; bins no filter reaches (above nBinsUsed,
 * below the first peak) get 0 — the classifier never sees them.
 */
export function melToLinearWeights(bank: Float32Array, bins: number, nMels: number): Float32Array {
  if (bank.length !== bins * nMels) throw new EarshotError('BAD_SHAPE', `melToLinear: filterbank must be ${bins}×${nMels}, got ${bank.length} values`);
  const w = new Float32Array(bins * nMels);
  for (let k = 0; k < bins; k++) {
    let s = 0;
    for (let b = 0; b < nMels; b++) s += bank[k * nMels + b]!;
    if (s > 0) for (let b = 0; b < nMels; b++) w[k * nMels + b] = bank[k * nMels + b]! / s;
  }
  return w;
}

/** A T × nMels map → T × bins through `melToLinearWeights`. */
export function melToLinear(map: Float32Array, T: number, weights: Float32Array, bins: number, nMels: number): Float32Array {
  if (map.length !== T * nMels) throw new EarshotError('BAD_SHAPE', `melToLinear: map must hold ${T}×${nMels} values, got ${map.length}`);
  const out = new Float32Array(T * bins);
  for (let k = 0; k < bins; k++) {
    const row = weights.subarray(k * nMels, (k + 1) * nMels);
    let any = false;
    for (let b = 0; b < nMels; b++) if (row[b] !== 0) any = true;
    if (!any) continue;
    for (let t = 0; t < T; t++) {
      let s = 0;
      const m = map.subarray(t * nMels, (t + 1) * nMels);
      for (let b = 0; b < nMels; b++) s += row[b]! * m[b]!;
      out[t * bins + k] = s;
    }
  }
  return out;
}

/** The class-c score of a logits / probability tensor [n, columns] (columns = 1: a sigmoid detector). */
function classScore(z: tf.Tensor, c: number, output: ScoreOutput, binary: boolean): tf.Tensor {
  return tf.tidy(() => {
    if (binary) {
      const col = tf.reshape(z, [-1]);
      if (output === 'logit') return c === 1 ? col : tf.neg(col);
      return c === 1 ? col : tf.sub(1, col);
    }
    return tf.reshape(tf.slice(z, [0, c], [-1, 1]), [-1]);
  });
}


export interface MagnitudeTargetOptions {
  /** Score attributed: 'logit' (default) or 'probability'. */
  output?: ScoreOutput;
}

/** The GradientTarget of a magnitude model (|X| [n, 115, 513] → the classifier). */
export function magnitudeTarget(mm: MagnitudeModel, options: MagnitudeTargetOptions = {}): GradientTarget {
  const output = checkEnum(options.output ?? 'logit', 'output', ['logit', 'probability'] as const);
  const L = mm.classifier.labels.length;
  const binary = L === 1;
  const weights = melToLinearWeights(mm.melT.dataSync() as Float32Array, mm.bins, mm.nMels);
  // Grad-CAM needs the part of the network after a layer: the SVD CNN's `tailLogits`
  // (tailLogits(activation(x)) = logits(x), differentiable).
  const svd = mm.classifier instanceof SvdCnn ? mm.classifier : null;
  const raw = (x: tf.Tensor) => (output === 'logit' ? mm.logits(x) : mm.apply(x));
  const target: GradientTarget = {
    shape: [mm.frames, mm.bins],
    numClasses: binary ? 2 : L,
    score: (x, c) => tf.tidy(() => classScore(raw(x), c, output, binary)),
    probabilities: (x) =>
      tf.tidy(() => {
        const p = mm.apply(x);
        return binary ? tf.concat([tf.sub(1, p), p], 1) : p;
      }),
    layerToInput(map, h, w) {
      return melToLinear(resizeBilinear(map, h, w, mm.frames, mm.nMels), mm.frames, weights, mm.bins, mm.nMels);
    },
  };
  if (svd) {
    return {
      ...target,
      layers: SVD_TAIL_LAYERS,
      layerActivation(x, layer) {
        checkEnum(layer, 'layer', SVD_TAIL_LAYERS);
        const acts = mm.activations(x, [layer]);
        return acts[layer]!;
      },
      layerScore(act, layer, c) {
        checkEnum(layer, 'layer', SVD_TAIL_LAYERS);
        return tf.tidy(() => {
          const z = svd.tailLogits(act, layer);
          return classScore(output === 'logit' ? z : tf.sigmoid(z), c, output, binary);
        });
      },
    };
  }
  return target;
}
