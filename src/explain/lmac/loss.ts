/**
 * The L-MAC training objective (paper 004 eq. 2; methods.md §7), for a batch of linear
 * magnitudes X [n, frames, bins] and the classifier's predicted classes c:
 *
 *   L = λ_in·CE(f(M ⊙ X), c) − λ_out·CE(f((1 − M) ⊙ X), c) + λ_s·‖M‖₁
 *     [+ λ_g·BCE(M, B)   fine-tuning stage: guidance toward a binarised clean target B]
 *
 * f is the frozen classifier behind its own front end (src/explain/maskable.ts). CE is the
 * categorical cross-entropy against c; for a one-output sigmoid detector it is the binary
 * cross-entropy of the logit z: softplus((1 − 2c)·z). ‖M‖₁ is taken per item and normalised by
 * the number of mask cells (the reference code's `xhat.abs().mean((-1,-2,-3))`), so λ_s is "per
 * item" and independent of the grid size. The guidance term is the reference code's binary
 * guidance (`F.binary_cross_entropy(xhat, binarized_oracle)` averaged per item) applied only to
 * the items whose `guideWeight` is 1 (those passing the cross-correlation gate). All terms are
 * averaged over the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkNumber } from '../../../bindings/errors.ts';
import type { MagnitudeModel } from '../maskable.ts';
import type { LmacDecoder } from './decoder.ts';

export interface LossWeights {
  /** λ_in (default 4). */
  lambdaIn?: number;
  /** λ_out (default 0.2). */
  lambdaOut?: number;
  /** λ_s, L1 per item (default 0.4). */
  lambdaS?: number;
  /** λ_g, guidance (fine-tuning stage only; default 4, the paper's best FT setting). */
  lambdaG?: number;
}

export const DEFAULT_LOSS: Readonly<Required<LossWeights>> = Object.freeze({ lambdaIn: 4, lambdaOut: 0.2, lambdaS: 0.4, lambdaG: 4 });

export function checkLossWeights(o: LossWeights = {}): Required<LossWeights> {
  const known = Object.keys(DEFAULT_LOSS);
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new EarshotError('BAD_ARGUMENT', `unknown L-MAC loss weight '${k}' (expected ${known.join(', ')})`);
  return {
    lambdaIn: checkNumber(o.lambdaIn ?? DEFAULT_LOSS.lambdaIn, 'lambdaIn', 0, 1e6),
    lambdaOut: checkNumber(o.lambdaOut ?? DEFAULT_LOSS.lambdaOut, 'lambdaOut', 0, 1e6),
    lambdaS: checkNumber(o.lambdaS ?? DEFAULT_LOSS.lambdaS, 'lambdaS', 0, 1e6),
    lambdaG: checkNumber(o.lambdaG ?? DEFAULT_LOSS.lambdaG, 'lambdaG', 0, 1e6),
  };
}

/** Per-item cross-entropy of logits z [n, K] against classes c [n] (K = 1: sigmoid detector). */
export function crossEntropy(z: tf.Tensor, c: tf.Tensor): tf.Tensor1D {
  const n = z.shape[0]!;
  const K = z.shape[1]!;
  if (K === 1) return tf.reshape(tf.softplus(tf.mul(tf.sub(1, tf.mul(2, tf.reshape(c, [n, 1]))), z)), [n]) as tf.Tensor1D;
  const oh = tf.oneHot(tf.cast(c, 'int32'), K);
  return tf.neg(tf.sum(tf.mul(oh, tf.logSoftmax(z)), 1)) as tf.Tensor1D;
}

export interface LossParts {
  total: tf.Scalar;
  /** Batch means of CE_in, CE_out, mean(M), guidance BCE (over guided items; 0 when none). */
  ceIn: tf.Scalar;
  ceOut: tf.Scalar;
  l1: tf.Scalar;
  guide: tf.Scalar;
  /** Logits of the masked-in and masked-out inputs [n, K] (for P_c metrics). */
  zIn: tf.Tensor;
  zOut: tf.Tensor;
  mask: tf.Tensor3D;
}

export interface GuidanceInput {
  /** Binarised clean target B [n, frames, bins] (0/1). */
  target: tf.Tensor;
  /** 1 for the items the guidance applies to, else 0 [n]. */
  weight: tf.Tensor;
}

/**
 * Every term of the loss for one batch. `A`, `B` are the decoder's input activations (constants),
 * `mag` the linear magnitudes, `cls` the predicted classes [n]. Not tidied: call it inside
 * tf.variableGrads / tf.tidy.
 */
export function lmacLoss(
  decoder: LmacDecoder,
  mm: MagnitudeModel,
  mag: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  cls: tf.Tensor,
  w: Required<LossWeights>,
  guidance?: GuidanceInput,
): LossParts {
  const logits = decoder.logits(A, B);
  const M = tf.sigmoid(logits) as tf.Tensor3D;
  const zIn = mm.logits(tf.mul(M, mag));
  const zOut = mm.logits(tf.mul(tf.sub(1, M), mag));
  const ceIn = tf.mean(crossEntropy(zIn, cls)) as tf.Scalar;
  const ceOut = tf.mean(crossEntropy(zOut, cls)) as tf.Scalar;
  const l1 = tf.mean(M) as tf.Scalar; // M > 0: |M| = M
  let total = tf.add(tf.sub(tf.mul(w.lambdaIn, ceIn), tf.mul(w.lambdaOut, ceOut)), tf.mul(w.lambdaS, l1)) as tf.Scalar;
  let guide = tf.scalar(0);
  if (guidance) {
    // BCE(σ(l), t) = softplus(l) − t·l, per item averaged over the cells.
    const bce = tf.mean(tf.sub(tf.softplus(logits), tf.mul(guidance.target, logits)), [1, 2]);
    const wsum = tf.sum(guidance.weight);
    guide = tf.div(tf.sum(tf.mul(bce, guidance.weight)), tf.maximum(wsum, 1)) as tf.Scalar;
    total = tf.add(total, tf.mul(w.lambdaG, tf.div(tf.sum(tf.mul(bce, guidance.weight)), mag.shape[0]!))) as tf.Scalar;
  }
  return { total, ceIn, ceOut, l1, guide, zIn, zOut, mask: M };
}

/** P(c) from logits [n, K] and classes [n] (sigmoid for K = 1, softmax otherwise). */
export function classProbability(z: tf.Tensor, c: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const n = z.shape[0]!;
    const K = z.shape[1]!;
    if (K === 1) {
      const p = tf.reshape(tf.sigmoid(z), [n]);
      const cc = tf.reshape(c, [n]);
      return tf.add(tf.mul(cc, p), tf.mul(tf.sub(1, cc), tf.sub(1, p))) as tf.Tensor1D;
    }
    return tf.sum(tf.mul(tf.oneHot(tf.cast(c, 'int32'), K), tf.softmax(z)), 1) as tf.Tensor1D;
  });
}
