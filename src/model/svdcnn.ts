/**
 * The Schlüter & Lehner singing-voice CNN (methods.md §2; "ismir2015" architecture, the
 * `model_log_0mean` model of the veracity paper 001) written with tfjs-core ops only.
 *
 * Input: excerpts of 115 frames × 80 mel bands that are ALREADY z-scored per band (the
 * reference's input BatchNorm1d over the bands is that z-scoring; its statistics travel in the
 * weight file as `normalization`). Layers (all "valid", NHWC, batch norm eps 1e-4, leaky ReLU
 * 0.01): conv1 3×3→64 with zero-mean kernels, conv2 3×3→32, max-pool 3×3, conv3 3×3→128,
 * conv4 3×3→64, max-pool 3×3, dense 256, dense 64 (each BN + lReLU + dropout 0.5 in training),
 * dense 1 → sigmoid = P(voice).
 *
 * Two forms of the same function:
 * - strided (one excerpt → one probability): pooling stride 3 in time and frequency;
 * - fully convolutional (a whole padded spectrogram → one probability per frame): pooling
 *   stride 1 in time, conv3/conv4/second pool dilated 3 in time, dense1 as an (11, 7)
 *   convolution dilated 9 in time. Each output frame then costs ≈ 5 M multiply-adds instead of
 *   the ≈ 0.24 G of a separate excerpt.
 *
 * Inference (`predict`, `predictFrames`) folds each batch norm into the preceding layer and runs
 * fused conv/matmul + bias + leaky-ReLU kernels; the fold is cached and recomputed whenever any
 * weight variable is reassigned (training, `setWeights`). `apply`, `logits`, `activations` and
 * `forward` use the plain layer-by-layer graph, which is differentiable (earshot's gradient
 * rules, ./gradients.ts) and is what training uses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkInt, checkNumber, check } from '../../bindings/errors.ts';
import { checkPredictInput, type DifferentiableClassifier } from './classifier.ts';
import type { ModelInfo, WeightSet, TensorData } from './weights.ts';
import { batchNormLeakyRelu, fusedBatchNormAvailable, maxPoolBlocks } from './fused.ts';

export const SVD_ARCHITECTURE_NAME = 'svd-cnn-ismir2015';

/** Hyper-parameters of the architecture (stored in the weight file). */
export interface SvdArchitecture {
  name: typeof SVD_ARCHITECTURE_NAME;
  /** Excerpt length in frames (115) and mel bands (80). */
  frames: number;
  bands: number;
  /** Output channels of conv1…conv4. */
  convFilters: [number, number, number, number];
  /** Units of the two hidden dense layers. */
  dense: [number, number];
  convKernel: 3;
  pool: 3;
  leakyReluAlpha: number;
  bnEpsilon: number;
  dropout: number;
  /** conv1 kernels have their 3×3 mean subtracted before use (level invariance). */
  zeroMeanConv1: boolean;
}

export const SVD_ARCHITECTURE: SvdArchitecture = {
  name: SVD_ARCHITECTURE_NAME,
  frames: 115,
  bands: 80,
  convFilters: [64, 32, 128, 64],
  dense: [256, 64],
  convKernel: 3,
  pool: 3,
  leakyReluAlpha: 0.01,
  bnEpsilon: 1e-4,
  dropout: 0.5,
  zeroMeanConv1: true,
};

/** Spatial sizes after each stage of the strided form. */
export interface SvdGeometry {
  conv1: [number, number];
  conv2: [number, number];
  pool1: [number, number];
  conv3: [number, number];
  conv4: [number, number];
  pool2: [number, number];
  /** Frames of padding on each side for frame-wise prediction (= frames // 2). */
  pad: number;
}

export function svdGeometry(a: SvdArchitecture): SvdGeometry {
  const c = (s: [number, number]): [number, number] => [s[0] - 2, s[1] - 2];
  const p = (s: [number, number]): [number, number] => [Math.floor((s[0] - 3) / 3) + 1, Math.floor((s[1] - 3) / 3) + 1];
  const conv1 = c([a.frames, a.bands]);
  const conv2 = c(conv1);
  const pool1 = p(conv2);
  const conv3 = c(pool1);
  const conv4 = c(conv3);
  const pool2 = p(conv4);
  if (pool2[0] < 1 || pool2[1] < 1) throw new EarshotError('BAD_ARGUMENT', `architecture: an input of ${a.frames}×${a.bands} is too small for the SVD CNN`);
  // The fully-convolutional form reproduces the strided one only when the excerpt is covered
  // exactly: 2+2+2 + 3·(2+2+2) + 9·(pool2_t − 1) + 1 frames.
  const rf = 6 + 18 + 9 * (pool2[0] - 1) + 1;
  if (rf !== a.frames) {
    throw new EarshotError('BAD_ARGUMENT', `architecture: frames = ${a.frames} leaves a strided remainder (receptive field ${rf}); use frames ≡ 7 (mod 9), e.g. 115`);
  }
  return { conv1, conv2, pool1, conv3, conv4, pool2, pad: Math.floor(a.frames / 2) };
}

export interface TensorSpec {
  name: string;
  shape: number[];
  /** Learned by gradient descent (false for batch-norm moving statistics). */
  trainable: boolean;
  /** How a fresh model initialises it (see weights.ts `initWeights`). */
  init: 'he' | 'glorot' | 'zeros' | 'ones';
  /** fan-in / fan-out for the random initialisers. */
  fan?: [number, number];
}

/** Every tensor of the architecture, in file order. Kernels are HWIO (conv) / [in, out] (dense). */
export function svdTensorSpecs(a: SvdArchitecture): TensorSpec[] {
  const g = svdGeometry(a);
  const specs: TensorSpec[] = [];
  const bn = (prefix: string, n: number) => {
    specs.push({ name: `${prefix}.bn.gamma`, shape: [n], trainable: true, init: 'ones' });
    specs.push({ name: `${prefix}.bn.beta`, shape: [n], trainable: true, init: 'zeros' });
    specs.push({ name: `${prefix}.bn.mean`, shape: [n], trainable: false, init: 'zeros' });
    specs.push({ name: `${prefix}.bn.variance`, shape: [n], trainable: false, init: 'ones' });
  };
  let cin = 1;
  a.convFilters.forEach((cout, i) => {
    const name = `conv${i + 1}`;
    specs.push({ name: `${name}.kernel`, shape: [3, 3, cin, cout], trainable: true, init: 'he', fan: [9 * cin, 9 * cout] });
    specs.push({ name: `${name}.bias`, shape: [cout], trainable: true, init: 'zeros' });
    bn(name, cout);
    cin = cout;
  });
  const [ph, pw] = g.pool2;
  const [d1, d2] = a.dense;
  specs.push({ name: 'fc1.kernel', shape: [ph, pw, cin, d1], trainable: true, init: 'he', fan: [ph * pw * cin, d1] });
  specs.push({ name: 'fc1.bias', shape: [d1], trainable: true, init: 'zeros' });
  bn('fc1', d1);
  specs.push({ name: 'fc2.kernel', shape: [d1, d2], trainable: true, init: 'he', fan: [d1, d2] });
  specs.push({ name: 'fc2.bias', shape: [d2], trainable: true, init: 'zeros' });
  bn('fc2', d2);
  specs.push({ name: 'fc3.kernel', shape: [d2, 1], trainable: true, init: 'glorot', fan: [d2, 1] });
  specs.push({ name: 'fc3.bias', shape: [1], trainable: true, init: 'zeros' });
  return specs;
}

/** Validate hyper-parameters read from a file or passed by a caller. */
export function checkArchitecture(a: unknown): SvdArchitecture {
  const o = a as Partial<SvdArchitecture> | null;
  check(o && typeof o === 'object', 'architecture must be an object', 'WEIGHTS_CORRUPT');
  check(o.name === SVD_ARCHITECTURE_NAME, `architecture.name must be '${SVD_ARCHITECTURE_NAME}', got ${JSON.stringify(o.name)}`, 'WEIGHTS_CORRUPT');
  checkInt(o.frames, 'architecture.frames', 7);
  checkInt(o.bands, 'architecture.bands', 7);
  check(Array.isArray(o.convFilters) && o.convFilters.length === 4, 'architecture.convFilters must list 4 channel counts', 'WEIGHTS_CORRUPT');
  o.convFilters.forEach((c, i) => checkInt(c, `architecture.convFilters[${i}]`, 1));
  check(Array.isArray(o.dense) && o.dense.length === 2, 'architecture.dense must list 2 unit counts', 'WEIGHTS_CORRUPT');
  o.dense.forEach((c, i) => checkInt(c, `architecture.dense[${i}]`, 1));
  check(o.convKernel === 3 && o.pool === 3, 'architecture: only 3×3 convolutions and 3×3 pooling are implemented', 'WEIGHTS_CORRUPT');
  checkNumber(o.leakyReluAlpha, 'architecture.leakyReluAlpha', 0, 1);
  checkNumber(o.bnEpsilon, 'architecture.bnEpsilon', 0, 1);
  checkNumber(o.dropout, 'architecture.dropout', 0, 0.99);
  check(typeof o.zeroMeanConv1 === 'boolean', 'architecture.zeroMeanConv1 must be a boolean', 'WEIGHTS_CORRUPT');
  const arch = o as SvdArchitecture;
  svdGeometry(arch);
  return arch;
}

/** Options of the differentiable forward pass. */
export interface ForwardOptions {
  /** Batch norm from batch statistics, dropout on (default false = inference form). */
  training?: boolean;
  /** Seed of the dropout masks (training only); pass a new one per step. */
  seed?: number;
  /** Apply dropout (default: = training; false gives the deterministic training-mode BN graph). */
  dropout?: boolean;
  /** Update the moving mean/variance from this batch (default: = training). */
  updateStats?: boolean;
  /** Weight of the batch in the moving statistics (PyTorch's momentum, default 0.1). */
  momentum?: number;
}

/** Stages the fused inference can start from (`predictFrom`). */
export const SVD_TAIL_STAGES = ['input', 'conv1', 'conv2', 'pool1', 'conv3', 'conv4', 'pool2'] as const;
export type SvdTailStage = (typeof SVD_TAIL_STAGES)[number];

/** Hidden activations `tailLogits` can start from (the named activations before the dense layers). */
export const SVD_TAIL_LAYERS = ['conv1', 'conv2', 'pool1', 'conv3', 'conv4', 'pool2'] as const;
export type SvdTailLayer = (typeof SVD_TAIL_LAYERS)[number];

export const SVD_ACTIVATIONS = ['conv1', 'conv2', 'pool1', 'conv3', 'conv4', 'pool2', 'fc1', 'fc2', 'logit'] as const;
export type SvdActivationName = (typeof SVD_ACTIVATIONS)[number];

export interface PredictOptions {
  /** Examples per forward pass (default 32). */
  batchSize?: number;
}

export interface FramesOptions {
  /** The spectrogram already carries `pad` frames of padding at both ends (default false). */
  padded?: boolean;
  /** Output frames per fully-convolutional pass (bounds memory; default 1024). */
  chunkFrames?: number;
}

type Folded = { key: unknown[]; tensors: Record<string, tf.Tensor> };

/**
 * The model. Holds one tf.Variable per tensor of `svdTensorSpecs` (names as in the weight file);
 * `trainableVariables()` are what an optimizer updates, the `*.bn.mean/variance` variables are
 * updated by `forward(x, { training: true })` (moving averages, PyTorch convention: unbiased
 * batch variance in the moving estimate, biased in the normalisation).
 */
export class SvdCnn implements DifferentiableClassifier {
  readonly id: string;
  readonly inputShape: number[];
  readonly labels: string[];
  readonly activationNames = SVD_ACTIVATIONS;
  readonly arch: SvdArchitecture;
  readonly geometry: SvdGeometry;
  info: ModelInfo;
  readonly vars: Record<string, tf.Variable>;
  private readonly specs: TensorSpec[];
  private folded: Folded | null = null;
  private disposed = false;

  constructor(weights: WeightSet) {
    this.arch = checkArchitecture(weights.info.architecture);
    this.geometry = svdGeometry(this.arch);
    this.specs = svdTensorSpecs(this.arch);
    this.info = weights.info;
    this.id = weights.info.id ?? `${SVD_ARCHITECTURE_NAME}`;
    this.inputShape = [this.arch.frames, this.arch.bands];
    this.labels = weights.info.labels.slice();
    check(this.labels.length === 1, `the SVD CNN is a binary detector with one label, got labels ${JSON.stringify(this.labels)}`, 'WEIGHTS_CORRUPT');
    this.vars = {};
    for (const s of this.specs) {
      const t = weights.tensors[s.name];
      if (!t) throw new EarshotError('WEIGHTS_MISSING', `weights: tensor '${s.name}' is missing`);
      checkShape(s.name, t, s.shape);
      const init = tf.tensor(t.data, s.shape, 'float32');
      this.vars[s.name] = tf.variable(init, s.trainable, `earshot/${this.id}/${s.name}/${uid()}`);
      init.dispose();
    }
  }

  /** Decision threshold on P(voice) (0.51 in 001 unless the weight file says otherwise). */
  get threshold(): number {
    return this.info.threshold;
  }

  trainableVariables(): tf.Variable[] {
    return this.specs.filter((s) => s.trainable).map((s) => this.vars[s.name]!);
  }

  /** Copy tensors into the model's variables (shapes checked); invalidates the inference fold. */
  setWeights(tensors: Record<string, TensorData>): void {
    for (const s of this.specs) {
      const t = tensors[s.name];
      if (!t) continue;
      checkShape(s.name, t, s.shape);
      const value = tf.tensor(t.data, s.shape, 'float32');
      this.vars[s.name]!.assign(value);
      value.dispose();
    }
  }

  /** The current weights as a WeightSet (for saveWeights / checkpoints). */
  async toWeights(info: Partial<ModelInfo> = {}): Promise<WeightSet> {
    const tensors: Record<string, TensorData> = {};
    for (const s of this.specs) tensors[s.name] = { shape: s.shape.slice(), data: (await this.vars[s.name]!.data()) as Float32Array };
    return { info: { ...this.info, ...info }, tensors };
  }

  // ---------------------------------------------------------------- differentiable graph

  /**
   * Logits [n, 1] of the strided form, plus the requested named activations. x: [n, T, F] or
   * [n, T, F, 1], normalised. Not wrapped in tidy: callers are (tf.tidy, tf.grad, optimizers).
   */
  forwardAll(x: tf.Tensor, opts: ForwardOptions = {}, want?: ReadonlySet<string>): { logits: tf.Tensor2D; acts: Record<string, tf.Tensor> } {
    this.assertAlive();
    const a = this.arch;
    const training = opts.training ?? false;
    const updateStats = opts.updateStats ?? training;
    const momentum = opts.momentum ?? 0.1;
    const seed = opts.seed ?? 0;
    const useDropout = opts.dropout ?? training;
    const n = x.shape[0]!;
    check(
      (x.rank === 3 || (x.rank === 4 && x.shape[3] === 1)) && x.shape[1] === a.frames && x.shape[2] === a.bands,
      `SVD CNN input must be [n, ${a.frames}, ${a.bands}] (or [n, ${a.frames}, ${a.bands}, 1]), got [${x.shape.join(', ')}]`,
      'BAD_SHAPE',
    );
    const v = this.vars;
    const acts: Record<string, tf.Tensor> = {};
    const keep = (name: string, t: tf.Tensor) => {
      if (!want || want.has(name)) acts[name] = t;
    };
    const bn = (prefix: string, h: tf.Tensor, axes: number[]): tf.Tensor => {
      const gamma = v[`${prefix}.bn.gamma`]!;
      const beta = v[`${prefix}.bn.beta`]!;
      const mm = v[`${prefix}.bn.mean`]!;
      const mv = v[`${prefix}.bn.variance`]!;
      let mean: tf.Tensor = mm;
      let variance: tf.Tensor = mv;
      if (training) {
        const m = tf.moments(h, axes);
        mean = m.mean;
        variance = m.variance;
        updateMoving(prefix, h, axes, mean, variance);
      }
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, a.bnEpsilon)));
      return tf.add(tf.mul(tf.sub(h, mean), scale), beta);
    };
    const updateMoving = (prefix: string, h: tf.Tensor, axes: number[], mean: tf.Tensor, variance: tf.Tensor) => {
      if (!updateStats) return;
      const mm = v[`${prefix}.bn.mean`]!;
      const mv = v[`${prefix}.bn.variance`]!;
      const count = axes.reduce((p, ax) => p * h.shape[ax]!, 1);
      const unbiased = tf.mul(variance, count / Math.max(count - 1, 1));
      mm.assign(tf.add(tf.mul(mm, 1 - momentum), tf.mul(mean, momentum)));
      mv.assign(tf.add(tf.mul(mv, 1 - momentum), tf.mul(unbiased, momentum)));
    };
    const lrelu = (h: tf.Tensor) => tf.leakyRelu(h, a.leakyReluAlpha);
    // bias add + BN + leaky ReLU; in training one fused kernel pair (./fused.ts) when available.
    const bnAct = (prefix: string, pre: tf.Tensor, bias: tf.Tensor, axes: number[]): tf.Tensor => {
      if (!training || !fusedBatchNormAvailable()) return lrelu(bn(prefix, tf.add(pre, bias), axes));
      const r = batchNormLeakyRelu(pre, bias, v[`${prefix}.bn.gamma`]!, v[`${prefix}.bn.beta`]!, a.bnEpsilon, a.leakyReluAlpha);
      updateMoving(prefix, pre, axes, r.mean, r.variance);
      return r.y;
    };
    const drop = (h: tf.Tensor, k: number) => (useDropout && a.dropout > 0 ? tf.dropout(h, a.dropout, undefined, seed * 7 + k) : h);
    const conv = (i: number, h: tf.Tensor4D): tf.Tensor4D => {
      let k: tf.Tensor4D = v[`conv${i}.kernel`] as tf.Tensor as tf.Tensor4D;
      if (i === 1 && a.zeroMeanConv1) k = tf.sub(k, tf.mean(k, [0, 1], true));
      const out = bnAct(`conv${i}`, tf.conv2d(h, k, 1, 'valid'), v[`conv${i}.bias`]!, [0, 1, 2]) as tf.Tensor4D;
      keep(`conv${i}`, out);
      return out;
    };
    // Training: the same pool with a one-pass first-maximum gradient kernel (./fused.ts).
    const pool = (t: tf.Tensor4D) => (training && fusedBatchNormAvailable() ? maxPoolBlocks(t, [3, 3]) : tf.maxPool(t, [3, 3], [3, 3], 'valid'));
    let h = tf.reshape(x, [n, a.frames, a.bands, 1]) as tf.Tensor4D;
    h = conv(1, h);
    h = conv(2, h);
    h = pool(h);
    keep('pool1', h);
    h = conv(3, h);
    h = conv(4, h);
    h = pool(h);
    keep('pool2', h);
    const [ph, pw] = this.geometry.pool2;
    const c4 = a.convFilters[3];
    let d = tf.reshape(h, [n, ph * pw * c4]) as tf.Tensor2D;
    d = bnAct('fc1', tf.matMul(d, tf.reshape(v['fc1.kernel']!, [ph * pw * c4, a.dense[0]]) as tf.Tensor2D), v['fc1.bias']!, [0]) as tf.Tensor2D;
    keep('fc1', d);
    d = drop(d, 1) as tf.Tensor2D;
    d = bnAct('fc2', tf.matMul(d, v['fc2.kernel'] as tf.Tensor as tf.Tensor2D), v['fc2.bias']!, [0]) as tf.Tensor2D;
    keep('fc2', d);
    d = drop(d, 2) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(d, v['fc3.kernel'] as tf.Tensor as tf.Tensor2D), v['fc3.bias']!) as tf.Tensor2D;
    keep('logit', logits);
    return { logits, acts };
  }

  /** Logits [n, 1]; `training: true` = batch-norm batch statistics, dropout, moving-stat update. */
  forward(x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor2D {
    return this.forwardAll(x, opts, new Set()).logits;
  }

  logits(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.forward(x));
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sigmoid(this.forward(x)));
  }

  activations(x: tf.Tensor, names?: string[]): Record<string, tf.Tensor> {
    const want = new Set<string>(names ?? SVD_ACTIVATIONS);
    for (const nm of want) {
      if (!(SVD_ACTIVATIONS as readonly string[]).includes(nm)) {
        throw new EarshotError('BAD_ARGUMENT', `unknown activation '${nm}'; the SVD CNN has ${SVD_ACTIVATIONS.join(', ')}`);
      }
    }
    return tf.tidy(() => this.forwardAll(x, {}, want).acts);
  }

  // ---------------------------------------------------------------- fast inference

  /** BN folded into conv/dense kernels and biases; rebuilt when any variable was reassigned. */
  private fold(): Record<string, tf.Tensor> {
    const key = this.specs.map((s) => (this.vars[s.name] as unknown as { dataId: unknown }).dataId);
    if (this.folded && this.folded.key.every((k, i) => k === key[i])) return this.folded.tensors;
    if (this.folded) tf.dispose(Object.values(this.folded.tensors));
    const a = this.arch;
    const v = this.vars;
    const tensors = tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {};
      const scaleShift = (p: string) => {
        const scale = tf.mul(v[`${p}.bn.gamma`]!, tf.rsqrt(tf.add(v[`${p}.bn.variance`]!, a.bnEpsilon)));
        const shift = tf.add(tf.mul(tf.sub(v[`${p}.bias`]!, v[`${p}.bn.mean`]!), scale), v[`${p}.bn.beta`]!);
        return { scale, shift };
      };
      for (const p of ['conv1', 'conv2', 'conv3', 'conv4', 'fc1', 'fc2']) {
        let k: tf.Tensor = v[`${p}.kernel`]!;
        if (p === 'conv1' && a.zeroMeanConv1) k = tf.sub(k, tf.mean(k, [0, 1], true));
        const { scale, shift } = scaleShift(p);
        out[`${p}.kernel`] = tf.mul(k, scale); // scale broadcasts over the last (output) axis
        out[`${p}.bias`] = shift;
      }
      out['fc1.matrix'] = tf.reshape(out['fc1.kernel']!, [-1, a.dense[0]]);
      out['fc3.kernel'] = tf.clone(v['fc3.kernel']!);
      out['fc3.bias'] = tf.clone(v['fc3.bias']!);
      return out;
    });
    for (const t of Object.values(tensors)) tf.keep(t); // survive the caller's tidy
    this.folded = { key, tensors };
    return tensors;
  }

  /**
   * Strided inference (fused kernels) from a stage onward: `from = 'input'` takes the normalised
   * batch [n, T, F, 1]; any other stage takes that stage's activation (NHWC, as `activations`
   * returns it) and runs only the layers after it → logits [n, 1].
   */
  private inferLogits(h0: tf.Tensor4D, from: SvdTailStage = 'input'): tf.Tensor2D {
    const f = this.fold();
    const alpha = this.arch.leakyReluAlpha;
    const fconv = (h: tf.Tensor4D, p: string) =>
      tf.fused.conv2d({ x: h, filter: f[`${p}.kernel`] as tf.Tensor4D, strides: 1, pad: 'valid', bias: f[`${p}.bias`], activation: 'leakyrelu', leakyreluAlpha: alpha });
    const stages: Array<[SvdTailStage, (h: tf.Tensor4D) => tf.Tensor4D]> = [
      ['input', (h) => fconv(h, 'conv1')],
      ['conv1', (h) => fconv(h, 'conv2')],
      ['conv2', (h) => tf.maxPool(h, [3, 3], [3, 3], 'valid')],
      ['pool1', (h) => fconv(h, 'conv3')],
      ['conv3', (h) => fconv(h, 'conv4')],
      ['conv4', (h) => tf.maxPool(h, [3, 3], [3, 3], 'valid')],
    ];
    let h = h0;
    for (let i = stages.findIndex(([name]) => name === from); i >= 0 && i < stages.length; i++) h = stages[i]![1](h);
    let d = tf.reshape(h, [h0.shape[0], -1]) as tf.Tensor2D;
    d = tf.fused.matMul({ a: d, b: f['fc1.matrix'] as tf.Tensor2D, bias: f['fc1.bias'], activation: 'leakyrelu', leakyreluAlpha: alpha }) as tf.Tensor2D;
    d = tf.fused.matMul({ a: d, b: f['fc2.kernel'] as tf.Tensor2D, bias: f['fc2.bias'], activation: 'leakyrelu', leakyreluAlpha: alpha }) as tf.Tensor2D;
    return tf.fused.matMul({ a: d, b: f['fc3.kernel'] as tf.Tensor2D, bias: f['fc3.bias'] }) as tf.Tensor2D;
  }

  /**
   * Logits [n, 1] from a named hidden activation onward, in inference mode (moving batch-norm
   * statistics, no dropout): `tailLogits(activations(x)[layer], layer)` = `logits(x)`.
   * `activation` is NHWC [n, ...stageShape(layer)], as `activations` returns it. Differentiable
   * with respect to `activation`: under tf.grad the fused ops run as plain ones, and the folded
   * batch norm is exactly the inference-mode one (Grad-CAM differentiates the score here).
   */
  tailLogits(activation: tf.Tensor, fromLayer: string): tf.Tensor2D {
    this.assertAlive();
    if (!(SVD_TAIL_LAYERS as readonly string[]).includes(fromLayer)) {
      throw new EarshotError('BAD_ARGUMENT', `tailLogits: unknown layer ${JSON.stringify(fromLayer)}; the tail starts from one of ${SVD_TAIL_LAYERS.join(', ')}`);
    }
    const want = this.stageShape(fromLayer as SvdTailLayer);
    const got = activation.shape;
    if (got.length !== 4 || got[0]! < 1 || want.some((d, i) => got[i + 1] !== d)) {
      throw new EarshotError('BAD_SHAPE', `tailLogits: the '${fromLayer}' activation must be [n, ${want.join(', ')}], got [${got.join(', ')}]`);
    }
    return tf.tidy(() => this.inferLogits(activation as tf.Tensor4D, fromLayer as SvdTailLayer));
  }

  /** Shape [height, width, channels] of one example's activation at a stage of the strided form. */
  stageShape(stage: SvdTailStage): [number, number, number] {
    const g = this.geometry;
    const c = this.arch.convFilters;
    const shapes: Record<SvdTailStage, [number, number, number]> = {
      input: [this.arch.frames, this.arch.bands, 1],
      conv1: [...g.conv1, c[0]],
      conv2: [...g.conv2, c[1]],
      pool1: [...g.pool1, c[1]],
      conv3: [...g.conv3, c[2]],
      conv4: [...g.conv4, c[3]],
      pool2: [...g.pool2, c[3]],
    };
    const s = shapes[stage];
    if (!s) throw new EarshotError('BAD_ARGUMENT', `stage must be one of ${SVD_TAIL_STAGES.join(', ')}, got ${JSON.stringify(stage)}`);
    return s;
  }

  /**
   * P(voice) from precomputed activations at `stage` (n examples back to back, NHWC, the shape
   * of `stageShape(stage)`): runs only the layers after it. This is the hook for receptive-field
   * caching (architecture.md: compose conv2 maps once per sample, run the tail).
   */
  async predictFrom(stage: SvdTailStage, acts: Float32Array, n: number, opts: PredictOptions = {}): Promise<Float32Array> {
    this.assertAlive();
    const shape = this.stageShape(stage);
    checkPredictInput({ id: this.id, inputShape: shape }, acts, n);
    const bs = checkInt(opts.batchSize ?? 32, 'batchSize', 1);
    const size = shape[0] * shape[1] * shape[2];
    const out = new Float32Array(n);
    for (let s = 0; s < n; s += bs) {
      const m = Math.min(bs, n - s);
      const y = tf.tidy(() => tf.sigmoid(this.inferLogits(tf.tensor4d(acts.subarray(s * size, (s + m) * size), [m, ...shape]), stage)));
      out.set(y.dataSync() as Float32Array, s);
      y.dispose();
    }
    return out;
  }

  /**
   * P(voice) for n normalised excerpts (n × 115 × 80 floats) → n probabilities. Runs to the end
   * without yielding, so `batch` may be a view into a wasm arena (copied once per chunk).
   */
  async predict(batch: Float32Array, n: number, opts: PredictOptions = {}): Promise<Float32Array> {
    this.assertAlive();
    checkPredictInput(this, batch, n);
    const bs = checkInt(opts.batchSize ?? 32, 'batchSize', 1);
    const { frames: T, bands: F } = this.arch;
    const out = new Float32Array(n);
    for (let s = 0; s < n; s += bs) {
      const m = Math.min(bs, n - s);
      const y = tf.tidy(() => tf.sigmoid(this.inferLogits(tf.tensor4d(batch.subarray(s * T * F, (s + m) * T * F), [m, T, F, 1]))));
      out.set(y.dataSync() as Float32Array, s);
      y.dispose();
    }
    return out;
  }

  /** Logits of `predict` (same fused path), for tests and calibration. */
  async predictLogits(batch: Float32Array, n: number, opts: PredictOptions = {}): Promise<Float32Array> {
    this.assertAlive();
    checkPredictInput(this, batch, n);
    const bs = checkInt(opts.batchSize ?? 32, 'batchSize', 1);
    const { frames: T, bands: F } = this.arch;
    const out = new Float32Array(n);
    for (let s = 0; s < n; s += bs) {
      const m = Math.min(bs, n - s);
      const y = tf.tidy(() => this.inferLogits(tf.tensor4d(batch.subarray(s * T * F, (s + m) * T * F), [m, T, F, 1])));
      out.set(y.dataSync() as Float32Array, s);
      y.dispose();
    }
    return out;
  }

  /**
   * Fully-convolutional logits for a padded, normalised spectrogram x: [1, L, F, 1] → [L − T + 1].
   * Same numbers as the strided form on each excerpt x[t : t + T].
   */
  private fileLogits(x: tf.Tensor4D): tf.Tensor1D {
    const f = this.fold();
    const alpha = this.arch.leakyReluAlpha;
    const fconv = (h: tf.Tensor4D, p: string, dt: number) =>
      tf.fused.conv2d({ x: h, filter: f[`${p}.kernel`] as tf.Tensor4D, strides: 1, pad: 'valid', dilations: [dt, 1], bias: f[`${p}.bias`], activation: 'leakyrelu', leakyreluAlpha: alpha });
    // Max over 3 frames spaced `dt` apart after a stride-3 max over frequency (3×3 max is separable).
    const poolTime = (h: tf.Tensor4D, dt: number): tf.Tensor4D => {
      const q = tf.maxPool(h, [1, 3], [1, 3], 'valid');
      const L = q.shape[1] - 2 * dt;
      const s = (o: number) => tf.slice(q, [0, o, 0, 0], [-1, L, -1, -1]);
      return tf.maximum(tf.maximum(s(0), s(dt)), s(2 * dt));
    };
    let h = fconv(x, 'conv1', 1);
    h = fconv(h, 'conv2', 1);
    h = poolTime(h, 1);
    h = fconv(h, 'conv3', 3);
    h = fconv(h, 'conv4', 3);
    h = poolTime(h, 3);
    h = fconv(h, 'fc1', 9); // [1, L', 1, d1]
    let d = tf.reshape(h, [h.shape[1], this.arch.dense[0]]) as tf.Tensor2D;
    d = tf.fused.matMul({ a: d, b: f['fc2.kernel'] as tf.Tensor2D, bias: f['fc2.bias'], activation: 'leakyrelu', leakyreluAlpha: alpha }) as tf.Tensor2D;
    return tf.reshape(tf.fused.matMul({ a: d, b: f['fc3.kernel'] as tf.Tensor2D, bias: f['fc3.bias'] }), [-1]) as tf.Tensor1D;
  }

  /**
   * z-score raw log-mel frames (frames × bands, row-major) with the weight file's per-band
   * statistics: (x − mean_b) / std_b. Identity when the file has no statistics.
   */
  normalize(spec: Float32Array): Float32Array {
    const F = this.arch.bands;
    checkInt(spec.length / F, `spectrogram length / ${F} bands`, 1);
    const out = new Float32Array(spec.length);
    const norm = this.info.normalization;
    if (!norm) {
      out.set(spec);
      return out;
    }
    for (let i = 0; i < spec.length; i++) {
      const b = i % F;
      out[i] = (spec[i]! - norm.mean[b]!) / norm.std[b]!;
    }
    return out;
  }

  /** Normalised value of log(1e-7) per band: what the reference pads files with (methods.md §1). */
  padValues(): Float32Array {
    const F = this.arch.bands;
    const out = new Float32Array(F);
    const norm = this.info.normalization;
    for (let b = 0; b < F; b++) out[b] = norm ? (Math.log(1e-7) - norm.mean[b]!) / norm.std[b]! : Math.log(1e-7);
    return out;
  }

  /**
   * Frame-wise logits of a whole normalised spectrogram (frames × bands, row-major) through the
   * fully-convolutional form: one logit per frame (or per excerpt start if `padded`).
   */
  async predictFrameLogits(spec: Float32Array, frames: number, opts: FramesOptions = {}): Promise<Float32Array> {
    this.assertAlive();
    const { frames: T, bands: F } = this.arch;
    checkInt(frames, 'frames', 1);
    checkPredictInput({ id: this.id, inputShape: [frames, F] }, spec, 1);
    const chunk = checkInt(opts.chunkFrames ?? 1024, 'chunkFrames', 1);
    let padded = spec;
    let L = frames;
    if (!opts.padded) {
      const p = this.geometry.pad;
      L = frames + 2 * p;
      padded = new Float32Array(L * F);
      const pv = this.padValues();
      for (let t = 0; t < p; t++) {
        padded.set(pv, t * F);
        padded.set(pv, (L - 1 - t) * F);
      }
      padded.set(spec, p * F);
    }
    const outFrames = L - T + 1;
    if (outFrames < 1) throw new EarshotError('BAD_SHAPE', `a padded spectrogram needs at least ${T} frames, got ${L}`);
    const out = new Float32Array(outFrames);
    for (let s = 0; s < outFrames; s += chunk) {
      const m = Math.min(chunk, outFrames - s);
      const rows = m + T - 1;
      const y = tf.tidy(() => this.fileLogits(tf.tensor4d(padded.subarray(s * F, (s + rows) * F), [1, rows, F, 1])));
      out.set(y.dataSync() as Float32Array, s);
      y.dispose();
    }
    return out;
  }

  /** Frame-wise P(voice) (see predictFrameLogits). */
  async predictFrames(spec: Float32Array, frames: number, opts: FramesOptions = {}): Promise<Float32Array> {
    const z = await this.predictFrameLogits(spec, frames, opts);
    for (let i = 0; i < z.length; i++) z[i] = 1 / (1 + Math.exp(-z[i]!));
    return z;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.folded) tf.dispose(Object.values(this.folded.tensors));
    this.folded = null;
    tf.dispose(Object.values(this.vars));
  }

  private assertAlive(): void {
    if (this.disposed) throw new EarshotError('DISPOSED', `model '${this.id}' was disposed`);
  }
}

function checkShape(name: string, t: TensorData, shape: number[]): void {
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!same) throw new EarshotError('WEIGHTS_SHAPE', `weights: tensor '${name}' has shape [${t.shape.join(', ')}], the architecture needs [${shape.join(', ')}]`);
  const size = shape.reduce((p, d) => p * d, 1);
  if (t.data.length !== size) throw new EarshotError('WEIGHTS_SHAPE', `weights: tensor '${name}' holds ${t.data.length} values, shape [${shape.join(', ')}] needs ${size}`);
}

let uidCounter = 0;
const uid = () => (++uidCounter).toString(36);

/** A model from weights (validated). */
export function createSvdCnn(weights: WeightSet): SvdCnn {
  return new SvdCnn(weights);
}
