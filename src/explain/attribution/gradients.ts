/**
 * Gradient attributions of one input on a `GradientTarget`, following Captum's conventions
 * (captum/attr/_core/; Kokhlikyan et al. 2020), which the L-MAC paper (004, §3.2) used for its
 * baselines:
 * - saliency (Simonyan et al. 2014): ∂s_c/∂x, absolute by default (Captum `Saliency(abs=True)`);
 * - SmoothGrad (Smilkov et al. 2017): the mean of the saliency over inputs with Gaussian noise
 *   (Captum `NoiseTunnel(Saliency)`, nt_type 'smoothgrad'), noise σ = noiseLevel·(max x − min x);
 * - Integrated Gradients (Sundararajan et al. 2017): (x − x′) ⊙ ∫₀¹ ∇s_c(x′ + α(x − x′)) dα with
 *   Captum's quadratures (Gauss–Legendre by default, or Riemann trapezoid / middle / left /
 *   right); completeness: Σ attributions → s_c(x) − s_c(x′);
 * - Guided Backprop (Springenberg et al. 2015): the gradient with every ReLU's backward pass
 *   replaced by relu(dy)·1[x > 0] (Captum overrides nn.ReLU's backward the same way); for the
 *   leaky ReLUs of the SVD CNN: relu(dy)·(x > 0 ? 1 : α);
 * - Grad-CAM (Selvaraju et al. 2017): relu(Σ_k α_k A_k) on a conv layer's activation A, α_k the
 *   spatial mean of ∂s_c/∂A_k (Captum `LayerGradCam`, relu_attributions = True), upsampled to
 *   the input grid by the target's `layerToInput`;
 * - GradientSHAP (Lundberg & Lee 2017; Captum `GradientShap`): the mean over samples of
 *   ∇s_c(b + α(x̃ − b)) ⊙ (x̃ − b) with b drawn from the baselines, α ~ U(0, 1) and x̃ = x plus
 *   Gaussian noise (σ = stdev, default 0 as Captum).
 *
 * All of them batch their forward/backward passes (`batchSize`), free every tensor they make
 * (tf.memory().numTensors is unchanged after a call), and return a Float32Array on the input
 * grid (T × F).
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkEnum, checkInt, checkNumber } from '../../../bindings/errors.ts';
import { Rng } from '../rng.ts';
import type { GradientTarget } from './target.ts';

export interface Attribution {
  /** T × F attributions (signed unless the method is absolute by definition). */
  values: Float32Array;
  /** Forward + backward passes run. */
  passes: number;
}

function checkInput(target: GradientTarget, x: Float32Array, c: number, where: string): void {
  const [T, F] = target.shape;
  if (!(x instanceof Float32Array)) throw new EarshotError('BAD_ARGUMENT', `${where}: input must be a Float32Array of ${T}×${F}, got ${x === null ? 'null' : typeof x}`);
  if (x.length !== T * F) throw new EarshotError('BAD_SHAPE', `${where}: input must hold ${T}×${F} = ${T * F} values, got ${x.length}`);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) throw new EarshotError('NOT_FINITE', `${where}: input[${i}] is ${x[i]}`);
  checkInt(c, `${where}: class`, 0, target.numClasses - 1);
}

/** ∂s_c/∂x for m inputs stacked in `xs` (m × T × F), computed in one batch. */
function gradBatch(target: GradientTarget, xs: Float32Array, m: number, c: number): Float32Array {
  const [T, F] = target.shape;
  return tf.tidy(() => {
    const x = tf.tensor3d(xs, [m, T, F]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(target.score(v, c)))(x);
    return g.dataSync() as Float32Array;
  });
}

/** Gradients at `points` (a list of T × F inputs), `batchSize` at a time; `use(i, grad)` consumes each. */
function gradsAt(target: GradientTarget, count: number, point: (i: number, out: Float32Array) => void, c: number, batchSize: number, use: (i: number, g: Float32Array) => void): void {
  const size = target.shape[0] * target.shape[1];
  for (let s = 0; s < count; s += batchSize) {
    const m = Math.min(batchSize, count - s);
    const xs = new Float32Array(m * size);
    for (let j = 0; j < m; j++) point(s + j, xs.subarray(j * size, (j + 1) * size));
    const g = gradBatch(target, xs, m, c);
    for (let j = 0; j < m; j++) use(s + j, g.subarray(j * size, (j + 1) * size));
  }
}

export interface SaliencyOptions {
  /** |∂s/∂x| (default true, Captum's default). */
  abs?: boolean;
}

export function saliency(target: GradientTarget, x: Float32Array, c: number, options: SaliencyOptions = {}): Attribution {
  checkInput(target, x, c, 'saliency');
  const g = gradBatch(target, x, 1, c).slice();
  if (options.abs ?? true) for (let i = 0; i < g.length; i++) g[i] = Math.abs(g[i]!);
  return { values: g, passes: 1 };
}

export interface SmoothGradOptions {
  /** Noisy samples n (default 16). */
  samples?: number;
  /** σ as a fraction of the input's range max − min (default 0.15, Smilkov et al.'s 10–20 %). */
  noiseLevel?: number;
  /** Absolute saliency per sample before averaging (default true: NoiseTunnel over Saliency(abs=True)). */
  abs?: boolean;
  seed?: number;
  batchSize?: number;
}

export function smoothGrad(target: GradientTarget, x: Float32Array, c: number, options: SmoothGradOptions = {}): Attribution {
  checkInput(target, x, c, 'smoothgrad');
  const n = checkInt(options.samples ?? 16, 'smoothgrad: samples', 1, 1 << 16);
  const level = checkNumber(options.noiseLevel ?? 0.15, 'smoothgrad: noiseLevel', 0);
  const bs = checkInt(options.batchSize ?? 8, 'smoothgrad: batchSize', 1, 4096);
  const abs = options.abs ?? true;
  const rng = new Rng(checkInt(options.seed ?? 0, 'smoothgrad: seed', 0, 0xffffffff));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const sigma = level * (hi - lo);
  const acc = new Float64Array(x.length);
  gradsAt(
    target, n,
    (_i, out) => {
      for (let k = 0; k < out.length; k++) out[k] = x[k]! + sigma * rng.normal();
    },
    c, bs,
    (_i, g) => {
      for (let k = 0; k < g.length; k++) acc[k] += abs ? Math.abs(g[k]!) : g[k]!;
    },
  );
  return { values: Float32Array.from(acc, (v) => v / n), passes: n };
}

export const IG_METHODS = ['gausslegendre', 'riemann_trapezoid', 'riemann_middle', 'riemann_left', 'riemann_right'] as const;
export type IgMethod = (typeof IG_METHODS)[number];

/** Points α ∈ [0, 1] and weights of Captum's quadratures (captum/attr/_utils/approximation_methods.py). */
export function quadrature(method: IgMethod, n: number): { alphas: Float64Array; weights: Float64Array } {
  checkInt(n, 'steps', method === 'riemann_trapezoid' ? 2 : 1, 1 << 16);
  const alphas = new Float64Array(n);
  const weights = new Float64Array(n);
  if (method === 'gausslegendre') {
    // numpy.polynomial.legendre.leggauss(n) by Newton's method on P_n, mapped to [0, 1] as Captum does
    const legendre = (z: number): [number, number] => {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      return [p1, (n * (z * p1 - p0)) / (z * z - 1)];
    };
    for (let i = 0; i < n; i++) {
      let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
      for (let it = 0; it < 100; it++) {
        const [p, d] = legendre(z);
        const dz = p / d;
        z -= dz;
        if (Math.abs(dz) < 1e-15) break;
      }
      const d = legendre(z)[1];
      alphas[n - 1 - i] = (1 + z) / 2;
      weights[n - 1 - i] = 1 / ((1 - z * z) * d * d);
    }
    return { alphas, weights };
  }
  for (let i = 0; i < n; i++) {
    if (method === 'riemann_trapezoid') {
      alphas[i] = i / (n - 1);
      weights[i] = (i === 0 || i === n - 1 ? 0.5 : 1) / (n - 1);
    } else {
      alphas[i] = method === 'riemann_left' ? i / n : method === 'riemann_right' ? (i + 1) / n : (i + 0.5) / n;
      weights[i] = 1 / n;
    }
  }
  return { alphas, weights };
}

export interface IntegratedGradientsOptions {
  /** x′ (default: zeros = silence for a magnitude input). */
  baseline?: Float32Array;
  /** Steps of the quadrature (default 50, Captum's). */
  steps?: number;
  /** Quadrature (default 'gausslegendre', Captum's). */
  method?: IgMethod;
  batchSize?: number;
}

export function integratedGradients(target: GradientTarget, x: Float32Array, c: number, options: IntegratedGradientsOptions = {}): Attribution {
  checkInput(target, x, c, 'integratedGradients');
  const method = checkEnum(options.method ?? 'gausslegendre', 'integratedGradients: method', IG_METHODS);
  const steps = checkInt(options.steps ?? 50, 'integratedGradients: steps', 1, 1 << 16);
  const bs = checkInt(options.batchSize ?? 8, 'integratedGradients: batchSize', 1, 4096);
  const b = options.baseline ?? new Float32Array(x.length);
  if (!(b instanceof Float32Array) || b.length !== x.length) throw new EarshotError('BAD_SHAPE', `integratedGradients: baseline must be a Float32Array of ${x.length} values`);
  const { alphas, weights } = quadrature(method, steps);
  const acc = new Float64Array(x.length);
  gradsAt(
    target, steps,
    (i, out) => {
      const a = alphas[i]!;
      for (let k = 0; k < out.length; k++) out[k] = b[k]! + a * (x[k]! - b[k]!);
    },
    c, bs,
    (i, g) => {
      const w = weights[i]!;
      for (let k = 0; k < g.length; k++) acc[k] += w * g[k]!;
    },
  );
  const values = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) values[k] = (x[k]! - b[k]!) * acc[k]!;
  return { values, passes: steps };
}

/**
 * Run `fn` with the guided-backpropagation rule on ReLU and leaky ReLU (the registered gradient
 * is swapped for the duration of the call and restored after, also on error).
 */
export function withGuidedRelu<T>(fn: () => T): T {
  const kernels = ['Relu', 'LeakyRelu'];
  const saved = kernels.map((k) => tf.getGradient(k));
  const guided = (dy: tf.Tensor) => tf.relu(dy);
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved2) => ({ x: () => tf.mul(guided(dy as tf.Tensor), tf.cast(tf.greater(saved2[0]!, 0), 'float32')) }),
  });
  tf.registerGradient({
    kernelName: 'LeakyRelu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved2, attrs) => {
      const x = saved2[0]!;
      const alpha = (attrs as { alpha: number }).alpha;
      return { x: () => tf.mul(guided(dy as tf.Tensor), tf.where(tf.greater(x, 0), tf.onesLike(x), tf.fill(x.shape, alpha))) };
    },
  });
  try {
    return fn();
  } finally {
    kernels.forEach((k, i) => {
      const s = saved[i];
      if (s) tf.registerGradient(s);
      else tf.unregisterGradient(k);
    });
  }
}

export function guidedBackprop(target: GradientTarget, x: Float32Array, c: number): Attribution {
  checkInput(target, x, c, 'guidedBackprop');
  return { values: withGuidedRelu(() => gradBatch(target, x, 1, c).slice()), passes: 1 };
}

export interface GradCamOptions {
  /** The layer (default: the last convolution before pooling, 'conv4' for the SVD CNN; else the last layer listed). */
  layer?: string;
  /** relu(Σ α_k A_k) (default true: Selvaraju et al.; Captum's relu_attributions). */
  relu?: boolean;
}

/** Grad-CAM on the layer's own grid: { map: h × w, h, w }. */
export function gradCamLayer(target: GradientTarget, x: Float32Array, c: number, options: GradCamOptions = {}): { map: Float32Array; h: number; w: number; layer: string } {
  checkInput(target, x, c, 'gradCam');
  if (!target.layers || !target.layerActivation || !target.layerScore) {
    throw new EarshotError('UNSUPPORTED', 'gradCam: this classifier exposes no layer activations with a differentiable tail');
  }
  const layers = target.layers;
  const layer = checkEnum(options.layer ?? (layers.includes('conv4') ? 'conv4' : layers[layers.length - 1]!), 'gradCam: layer', layers);
  const relu = options.relu ?? true;
  const [T, F] = target.shape;
  return tf.tidy(() => {
    const act = target.layerActivation!(tf.tensor3d(x, [1, T, F]), layer);
    if (act.rank !== 4) throw new EarshotError('BAD_SHAPE', `gradCam: layer '${layer}' must be NHWC [1, h, w, channels], got [${act.shape.join(', ')}]`);
    const g = tf.grad((a: tf.Tensor) => tf.sum(target.layerScore!(a, layer, c)))(act);
    const alpha = tf.mean(g, [1, 2], true);
    let cam = tf.sum(tf.mul(alpha, act), 3);
    if (relu) cam = tf.relu(cam);
    const [, h, w] = act.shape as number[];
    return { map: cam.dataSync() as Float32Array, h: h!, w: w!, layer };
  });
}

export function gradCam(target: GradientTarget, x: Float32Array, c: number, options: GradCamOptions = {}): Attribution {
  const { map, h, w } = gradCamLayer(target, x, c, options);
  if (!target.layerToInput) throw new EarshotError('UNSUPPORTED', 'gradCam: this classifier cannot map a layer grid to its input grid');
  return { values: target.layerToInput(map, h, w), passes: 1 };
}

export interface GradientShapOptions {
  /** The baseline distribution (default: one all-zero input). */
  baselines?: Float32Array[];
  /** Samples (default 5, Captum's n_samples). */
  samples?: number;
  /** σ of the Gaussian noise added to the input (default 0, Captum's stdevs). */
  stdev?: number;
  seed?: number;
  batchSize?: number;
}

export function gradientShap(target: GradientTarget, x: Float32Array, c: number, options: GradientShapOptions = {}): Attribution {
  checkInput(target, x, c, 'gradientShap');
  const n = checkInt(options.samples ?? 5, 'gradientShap: samples', 1, 1 << 16);
  const stdev = checkNumber(options.stdev ?? 0, 'gradientShap: stdev', 0);
  const bs = checkInt(options.batchSize ?? 8, 'gradientShap: batchSize', 1, 4096);
  const baselines = options.baselines ?? [new Float32Array(x.length)];
  if (!Array.isArray(baselines) || baselines.length === 0) throw new EarshotError('BAD_ARGUMENT', 'gradientShap: baselines must be a non-empty array of inputs');
  baselines.forEach((b, i) => {
    if (!(b instanceof Float32Array) || b.length !== x.length) throw new EarshotError('BAD_SHAPE', `gradientShap: baselines[${i}] must be a Float32Array of ${x.length} values`);
  });
  const rng = new Rng(checkInt(options.seed ?? 0, 'gradientShap: seed', 0, 0xffffffff));
  // draw every sample's baseline, α and noisy input first, so batching does not change them
  const picks = Array.from({ length: n }, () => {
    const b = baselines[rng.below(baselines.length)]!;
    const alpha = rng.uniform();
    const xt = stdev > 0 ? Float32Array.from(x, (v) => v + stdev * rng.normal()) : x;
    return { b, alpha, xt };
  });
  const acc = new Float64Array(x.length);
  gradsAt(
    target, n,
    (i, out) => {
      const { b, alpha, xt } = picks[i]!;
      for (let k = 0; k < out.length; k++) out[k] = b[k]! + alpha * (xt[k]! - b[k]!);
    },
    c, bs,
    (i, g) => {
      const { b, xt } = picks[i]!;
      for (let k = 0; k < g.length; k++) acc[k] += g[k]! * (xt[k]! - b[k]!);
    },
  );
  return { values: Float32Array.from(acc, (v) => v / n), passes: n };
}

/** A gradient map as a mask in [0, 1]: |a| / max |a| (methods.md §8); all zeros stay zeros. */
export function attributionToMask(a: Float32Array): Float32Array {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  const out = new Float32Array(a.length);
  if (m > 0 && Number.isFinite(m)) for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]!) / m;
  return out;
}
