/**
 * Adapters: anything that maps a batch of model inputs to class probabilities becomes a
 * `Classifier` (architecture.md, "The interfaces"), so every explainer can explain it.
 *
 * - `fromFunction`: a plain async function (batch, n) → probabilities (a remote model, an ONNX
 *   session, a hand-written rule). Model-agnostic explainers only.
 * - `fromTensorFunction`: a tfjs-core function x → probabilities (differentiable), optionally
 *   with named hidden activations: a `DifferentiableClassifier` for gradients, attacks, L-MAC.
 *
 * TF.js layers / graph models loaded from local files or memory: tfjs-adapters.ts (+ the
 * Node file reader tfjs-adapters-node.ts), built on `fromTensorFunction` / `fromFunction`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { checkPredictInput, exampleSize, type Classifier, type DifferentiableClassifier } from './classifier.ts';

export interface AdapterInfo {
  id: string;
  /** Shape of one example, e.g. [115, 80]. */
  inputShape: number[];
  /** One per output column; a single label means a binary detector reporting P(label). */
  labels: string[];
  /** Examples per call of the wrapped model (default: all at once for functions, 32 for tensors). */
  batchSize?: number;
  /** Called by dispose(). */
  dispose?: () => void;
}

function checkInfo(info: AdapterInfo): void {
  if (!info || typeof info.id !== 'string' || info.id.length === 0) throw new EarshotError('BAD_ARGUMENT', 'adapter: id must be a non-empty string');
  if (!Array.isArray(info.inputShape) || info.inputShape.length === 0) throw new EarshotError('BAD_ARGUMENT', 'adapter: inputShape must be a non-empty array of positive integers');
  info.inputShape.forEach((d, i) => checkInt(d, `adapter: inputShape[${i}]`, 1));
  if (!Array.isArray(info.labels) || info.labels.length === 0 || !info.labels.every((l) => typeof l === 'string')) {
    throw new EarshotError('BAD_ARGUMENT', 'adapter: labels must be a non-empty array of strings');
  }
  if (info.batchSize !== undefined) checkInt(info.batchSize, 'adapter: batchSize', 1);
}

/** Check what a wrapped model returned: n × labels probabilities, finite, in [0, 1]. */
function checkOutput(id: string, out: unknown, n: number, k: number): Float32Array {
  let arr: Float32Array;
  if (out instanceof Float32Array) arr = out;
  else if (out instanceof Float64Array || Array.isArray(out)) arr = Float32Array.from(out as ArrayLike<number>);
  else throw new EarshotError('MODEL_OUTPUT', `classifier '${id}' returned ${out === null ? 'null' : typeof out}, expected ${n} × ${k} probabilities`);
  if (arr.length !== n * k) throw new EarshotError('MODEL_OUTPUT', `classifier '${id}' returned ${arr.length} values, expected n × labels = ${n} × ${k} = ${n * k}`);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    if (!(v >= 0 && v <= 1)) throw new EarshotError('MODEL_OUTPUT', `classifier '${id}' returned ${v} at [${Math.floor(i / k)}, ${i % k}]; probabilities must lie in [0, 1]`);
  }
  return arr;
}

/** A plain async function (batch of n examples, n) → n × labels.length probabilities. */
export function fromFunction(fn: (batch: Float32Array, n: number) => Promise<Float32Array | ArrayLike<number>> | Float32Array, info: AdapterInfo): Classifier {
  if (typeof fn !== 'function') throw new EarshotError('BAD_ARGUMENT', 'fromFunction: fn must be a function');
  checkInfo(info);
  const size = exampleSize(info.inputShape);
  const k = info.labels.length;
  let disposed = false;
  const c: Classifier = {
    id: info.id,
    inputShape: info.inputShape.slice(),
    labels: info.labels.slice(),
    async predict(batch, n) {
      if (disposed) throw new EarshotError('DISPOSED', `classifier '${info.id}' was disposed`);
      checkPredictInput(c, batch, n);
      const bs = info.batchSize ?? n;
      const out = new Float32Array(n * k);
      for (let s = 0; s < n; s += bs) {
        const m = Math.min(bs, n - s);
        const part = checkOutput(info.id, await fn(batch.subarray(s * size, (s + m) * size), m), m, k);
        out.set(part, s * k);
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      info.dispose?.();
    },
  };
  return c;
}

export interface TensorFunctionOptions {
  /** x → pre-sigmoid/softmax scores, if the model has them. */
  logits?: (x: tf.Tensor) => tf.Tensor;
  /** x → named hidden activations (for L-MAC), with their names. */
  activations?: (x: tf.Tensor) => Record<string, tf.Tensor>;
}

/**
 * A tfjs-core function x: [n, ...inputShape] → probabilities [n, labels.length] as a
 * DifferentiableClassifier. `predict` runs it in batches inside tf.tidy (no tensor leaks).
 */
export function fromTensorFunction(fn: (x: tf.Tensor) => tf.Tensor, info: AdapterInfo, opts: TensorFunctionOptions = {}): DifferentiableClassifier {
  if (typeof fn !== 'function') throw new EarshotError('BAD_ARGUMENT', 'fromTensorFunction: fn must be a function');
  checkInfo(info);
  const size = exampleSize(info.inputShape);
  const k = info.labels.length;
  const bs = info.batchSize ?? 32;
  let disposed = false;
  const alive = () => {
    if (disposed) throw new EarshotError('DISPOSED', `classifier '${info.id}' was disposed`);
  };
  const c: DifferentiableClassifier = {
    id: info.id,
    inputShape: info.inputShape.slice(),
    labels: info.labels.slice(),
    async predict(batch, n) {
      alive();
      checkPredictInput(c, batch, n);
      const out = new Float32Array(n * k);
      for (let s = 0; s < n; s += bs) {
        const m = Math.min(bs, n - s);
        const y = tf.tidy(() => {
          const r = fn(tf.tensor(batch.subarray(s * size, (s + m) * size), [m, ...info.inputShape], 'float32'));
          if (r.size !== m * k) throw new EarshotError('MODEL_OUTPUT', `classifier '${info.id}' returned shape [${r.shape.join(', ')}], expected [${m}, ${k}]`);
          return tf.reshape(r, [m * k]);
        });
        const data = y.dataSync() as Float32Array;
        y.dispose();
        out.set(checkOutput(info.id, data, m, k), s * k);
      }
      return out;
    },
    apply(x) {
      alive();
      return fn(x);
    },
    activations(x, names) {
      alive();
      if (!opts.activations) throw new EarshotError('UNSUPPORTED', `classifier '${info.id}' exposes no hidden activations`);
      const all = opts.activations(x);
      if (!names) return all;
      const out: Record<string, tf.Tensor> = {};
      for (const nm of names) {
        if (!(nm in all)) {
          tf.dispose(Object.values(all));
          throw new EarshotError('BAD_ARGUMENT', `unknown activation '${nm}'; '${info.id}' has ${Object.keys(all).join(', ')}`);
        }
        out[nm] = all[nm]!;
      }
      tf.dispose(Object.entries(all).filter(([nm]) => !(nm in out)).map(([, t]) => t));
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      info.dispose?.();
    },
  };
  if (opts.logits) {
    const lg = opts.logits;
    c.logits = (x) => {
      alive();
      return lg(x);
    };
  }
  return c;
}
