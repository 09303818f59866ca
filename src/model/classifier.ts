/**
 * The one interface every explainer talks to (architecture.md, "The interfaces"): a batch of
 * model inputs in, a batch of class probabilities out. Model-agnostic explainers (SLIME,
 * audioLIME, KernelSHAP, the veracity tests) need only `Classifier`; gradient methods, attacks
 * and L-MAC need the TF.js function of a `DifferentiableClassifier`.
 *
 * Label convention: a binary sigmoid detector (the singing-voice CNN) has ONE label, e.g.
 * ['voice'], and ONE output column, P(voice); the other class is implicit with probability
 * 1 − P. A K-class model has K labels and K columns that sum to 1. So `labels.length` is always
 * the number of output columns, and `isBinaryDetector(c)` says which case applies.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkInt } from '../../bindings/errors.ts';

export interface Classifier {
  /** Stable identifier (architecture + weights), recorded in every Explanation. */
  id: string;
  /** Shape of ONE example, e.g. [115, 80] (frames × mel bands). */
  inputShape: number[];
  /** One name per output column (a single label = a binary sigmoid detector). */
  labels: string[];
  /**
   * `batch` holds n examples back to back (n × prod(inputShape) floats, row-major); returns
   * n × labels.length probabilities.
   */
  predict(batch: Float32Array, n: number): Promise<Float32Array>;
  /** Release whatever the classifier holds (tensors, workers). */
  dispose(): void;
}

export interface DifferentiableClassifier extends Classifier {
  /** x: [n, ...inputShape] → probabilities [n, labels.length]; differentiable with tf.grad. */
  apply(x: tf.Tensor): tf.Tensor;
  /** x → pre-sigmoid / pre-softmax scores [n, labels.length], where the model has them. */
  logits?(x: tf.Tensor): tf.Tensor;
  /**
   * Named hidden activations (for L-MAC decoders and layer attributions); all when `names` is
   * omitted. The caller owns (and disposes) the returned tensors.
   */
  activations(x: tf.Tensor, names?: string[]): Record<string, tf.Tensor>;
  /** Names `activations` accepts, in forward order. */
  activationNames?: readonly string[];
}

/** Number of floats in one example. */
export function exampleSize(inputShape: readonly number[]): number {
  return inputShape.reduce((p, d) => p * d, 1);
}

/** A single-label classifier reports P(label) and implies 1 − P for "not label". */
export function isBinaryDetector(c: Pick<Classifier, 'labels'>): boolean {
  return c.labels.length === 1;
}

/** Validate a `predict` call: n a positive integer, batch a Float32Array of n × prod(inputShape) finite values. */
export function checkPredictInput(c: Pick<Classifier, 'inputShape' | 'id'>, batch: unknown, n: unknown): void {
  checkInt(n, 'n (number of examples)', 1);
  if (!(batch instanceof Float32Array)) {
    const got = batch === null ? 'null' : typeof batch === 'object' ? ((batch as object).constructor?.name ?? 'object') : typeof batch;
    throw new EarshotError('BAD_ARGUMENT', `predict batch must be a Float32Array, got ${got}`);
  }
  const size = exampleSize(c.inputShape);
  const expected = (n as number) * size;
  if (batch.length !== expected) {
    throw new EarshotError(
      'BAD_SHAPE',
      `predict batch for '${c.id}' must have n × ${c.inputShape.join('×')} = ${n} × ${size} = ${expected} values, got ${batch.length}`,
    );
  }
  for (let i = 0; i < batch.length; i++) {
    const v = batch[i]!;
    // v - v is NaN for ±Infinity and NaN: one cheap test per element.
    if (v - v !== 0) {
      throw new EarshotError('NOT_FINITE', `predict batch[${i}] (example ${Math.floor(i / size)}) is ${v}; inputs must be finite`);
    }
  }
}
