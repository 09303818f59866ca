/**
 * Gradients for the TF.js kernels earshot differentiates through: the SVD CNN (conv, pooling,
 * batch norm written out in elementwise ops, leaky ReLU, dense, sigmoid), its losses (binary
 * cross-entropy, softplus form), gradient explainers and attacks (input gradients), and small
 * decoders (L-MAC: matmul, sigmoid, pad/slice/concat).
 *
 * Why our own: tfjs-core registers no gradients, and its `register_all_gradients` module is ESM
 * with extension-less imports that Node's loader rejects (and that a Node bundle with TF.js kept
 * external cannot load either). Each rule below is the textbook derivative written with public
 * tfjs-core ops; kernels that TF.js computes with a dedicated backward kernel (MaxPoolGrad,
 * AvgPoolGrad, Conv2DBackpropFilter) are dispatched through `tf.engine().runKernel`.
 *
 * Conv2D's input gradient is computed as a forward convolution of the zero-padded upstream
 * gradient with the spatially flipped, in/out-transposed filter (stride 1): the same numbers as
 * Conv2DBackpropInput and ≈ 5× faster on the wasm backend, whose Conv2DBackpropInput is naive
 * (platform.md). Its filter gradient uses the backend's Conv2DBackpropFilter kernel when one is
 * registered (tfjs-cpu; on wasm the one of src/model/wasm_kernels.ts), and otherwise kh·kw
 * matrix products (`conv2dFilterGradByMatMul`): tfjs-backend-wasm 4.22 has no such kernel
 * (tfjs issue 8474).
 *
 * MaxPool with stride = window uses elementwise ops, not the backend's MaxPoolGrad: the wasm
 * one returns wrong values when the input size is not a multiple of the stride.
 *
 * `registerGradients()` registers a rule only where no gradient is registered yet, so a module
 * that registered its own rule earlier keeps it.
 */
import * as tf from '@tensorflow/tfjs-core';

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[], attrs: any) => Record<string, () => tf.Tensor>;
interface Rule {
  inputsToSave?: string[];
  outputsToSave?: boolean[];
  saveAllInputs?: boolean;
  gradFunc: GradFn;
}

/** Sum a broadcast gradient back down to `shape` (the inverse of broadcasting). */
function unbroadcast(g: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  const s = axes.length ? tf.sum(g, axes) : g;
  return tf.reshape(s, shape);
}

const zeros = (x: tf.Tensor) => () => tf.zerosLike(x);

const pair = (v: number | number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0]!, v[1]!]);

/**
 * Gradient of a 'valid' max-pool whose stride equals its window (blocks tile the input): dy goes
 * to the FIRST maximum of each window in row-major order, as in TF and PyTorch — which matters,
 * because padded excerpts have runs of identical frames and so exact ties.
 */
function maxPoolGradBlocks(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, [sh, sw]: [number, number]): tf.Tensor4D {
  const [n, H, W, C] = x.shape;
  const [, Ho, Wo] = y.shape;
  const xc = tf.slice(x, [0, 0, 0, 0], [n, Ho * sh, Wo * sw, C]);
  const windows = tf.reshape(tf.transpose(tf.reshape(xc, [n, Ho, sh, Wo, sw, C]), [0, 1, 3, 5, 2, 4]), [n, Ho, Wo, C, sh * sw]);
  const first = tf.cast(tf.oneHot(tf.argMax(windows, 4), sh * sw), 'float32');
  const g = tf.mul(first, tf.reshape(dy, [n, Ho, Wo, C, 1]));
  const blocks = tf.reshape(tf.transpose(tf.reshape(g, [n, Ho, Wo, C, sh, sw]), [0, 1, 4, 2, 5, 3]), [n, Ho * sh, Wo * sw, C]);
  return tf.pad(blocks, [[0, 0], [0, H - Ho * sh], [0, W - Wo * sw], [0, 0]]) as tf.Tensor4D;
}

/**
 * matMul with explicit transposes instead of the transpose flags: tfjs-backend-wasm's BatchMatMul
 * is ≈ 10× slower on flagged operands than a transpose plus a plain product (measured).
 */
function mm(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): tf.Tensor {
  const swap = (t: tf.Tensor) => tf.transpose(t, [...Array.from({ length: t.rank - 2 }, (_, i) => i), t.rank - 1, t.rank - 2]);
  return tf.matMul(ta ? swap(a) : a, tb ? swap(b) : b);
}

/** Reduction axes as the kernels receive them (a number, an array or null for all). */
function axesOf(axis: number | number[] | null | undefined, rank: number): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const a = Array.isArray(axis) ? axis : [axis];
  return a.map((v) => (v < 0 ? v + rank : v));
}

/** Shape of a reduction's output with the reduced axes kept as size 1 (for broadcasting back). */
function keptShape(shape: number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/**
 * Conv2D's filter gradient as kh·kw matrix products: dW[i, j] = X_ij^T · dY, where X_ij is the
 * (strided) input window shifted by tap (i, j), reshaped to [n·Ho·Wo, cin], and dY is
 * [n·Ho·Wo, cout]. Exact, and fast on any backend with a good matmul (XNNPACK on wasm); used when
 * the backend registers no Conv2DBackpropFilter kernel (tfjs-backend-wasm 4.22, tfjs issue 8474).
 */
export function conv2dFilterGradByMatMul(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: 'valid' | 'same' | number,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, cin, cout] = filterShape;
    const [sh, sw] = pair(strides);
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, [sh, sw], 1, pad, dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    const xp = top || bottom || left || right ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x;
    const [n, Ho, Wo] = dy.shape;
    const rows = n * Ho * Wo;
    // dYᵀ · X_ij with neither operand flagged as transposed: tfjs-wasm's BatchMatMul is ≈ 10×
    // slower with transposeA/transposeB than on plain operands (measured), so dY is transposed once.
    const dyT = tf.transpose(tf.reshape(dy, [rows, cout])) as tf.Tensor2D;
    const taps: tf.Tensor2D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const win =
          sh === 1 && sw === 1
            ? tf.slice(xp, [0, i, j, 0], [n, Ho, Wo, cin])
            : tf.stridedSlice(xp, [0, i, j, 0], [n, i + (Ho - 1) * sh + 1, j + (Wo - 1) * sw + 1, cin], [1, sh, sw, 1]);
        taps.push(tf.matMul(dyT, tf.reshape(win, [rows, cin]) as tf.Tensor2D)); // [cout, cin]
      }
    }
    return tf.transpose(tf.reshape(tf.stack(taps), [kh, kw, cout, cin]), [0, 1, 3, 2]) as tf.Tensor4D;
  });
}

const rules: Record<string, Rule> = {
  // ---- elementwise binary (with broadcasting) ----
  Add: { inputsToSave: ['a', 'b'], gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(dy, b!.shape) }) },
  Sub: { inputsToSave: ['a', 'b'], gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(tf.neg(dy), b!.shape) }) },
  Multiply: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(tf.mul(dy, tf.cast(b!, 'float32')), a!.shape), b: () => unbroadcast(tf.mul(dy, tf.cast(a!, 'float32')), b!.shape) }),
  },
  RealDiv: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.div(dy, b!), a!.shape),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy, a!), tf.square(b!))), b!.shape),
    }),
  },
  Maximum: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, tf.cast(tf.greaterEqual(a!, b!), 'float32')), a!.shape),
      b: () => unbroadcast(tf.mul(dy, tf.cast(tf.less(a!, b!), 'float32')), b!.shape),
    }),
  },
  Minimum: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, tf.cast(tf.lessEqual(a!, b!), 'float32')), a!.shape),
      b: () => unbroadcast(tf.mul(dy, tf.cast(tf.greater(a!, b!), 'float32')), b!.shape),
    }),
  },
  SquaredDifference: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => {
      const two = () => tf.mul(dy, tf.mul(tf.scalar(2), tf.sub(a!, b!)));
      return { a: () => unbroadcast(two(), a!.shape), b: () => unbroadcast(tf.neg(two()), b!.shape) };
    },
  },
  Pow: {
    inputsToSave: ['a', 'b'],
    outputsToSave: [true],
    gradFunc: (dy, [a, b, y]) => ({
      // d(a^b)/da = b·a^(b−1); d/db = a^b·ln a (taken as 0 where a ≤ 0, like TF).
      a: () => unbroadcast(tf.mul(dy, tf.mul(b!, tf.pow(a!, tf.sub(b!, tf.scalar(1))))), a!.shape),
      b: () => {
        const safeLog = tf.where(tf.greater(a!, 0), tf.log(a!), tf.zerosLike(a!));
        return unbroadcast(tf.mul(dy, tf.mul(y!, safeLog)), b!.shape);
      },
    }),
  },

  AddN: {
    saveAllInputs: true,
    gradFunc: (dy, saved) => {
      const out: Record<string, () => tf.Tensor> = {};
      saved.forEach((_t, i) => (out[i] = () => tf.clone(dy)));
      return out;
    },
  },

  // ---- elementwise unary ----
  Neg: { gradFunc: (dy) => ({ x: () => tf.neg(dy) }) },
  Identity: { gradFunc: (dy) => ({ x: () => tf.clone(dy) }) },
  Cast: { inputsToSave: ['x'], gradFunc: (dy) => ({ x: () => tf.clone(dy) }) },
  Abs: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.sign(tf.cast(x!, 'float32'))) }) },
  Exp: { outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy, y!) }) },
  Expm1: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.exp(x!)) }) },
  Log: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.div(dy, tf.cast(x!, 'float32')) }) },
  Log1p: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.div(dy, tf.add(x!, 1)) }) },
  Sqrt: { outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.div(dy, tf.mul(y!, 2)) }) },
  Rsqrt: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(tf.pow(x!, -1.5), -0.5)) }) },
  Square: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(x!, 2)) }) },
  Reciprocal: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.neg(tf.div(dy, tf.square(x!))) }) },
  Sigmoid: { outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy, tf.mul(y!, tf.sub(1, y!))) }) },
  Tanh: { outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy, tf.sub(1, tf.square(y!))) }) },
  Softplus: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.sigmoid(x!)) }) },
  Relu: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.cast(tf.greater(x!, 0), 'float32')) }) },
  Relu6: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(x!, 0), tf.less(x!, 6)), 'float32')) }),
  },
  LeakyRelu: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({ x: () => tf.mul(dy, tf.where(tf.greater(x!, 0), tf.onesLike(x!), tf.fill(x!.shape, attrs.alpha as number))) }),
  },
  Elu: { outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy, tf.where(tf.greater(y!, 0), tf.onesLike(y!), tf.add(y!, 1))) }) },
  ClipByValue: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({
      x: () => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greaterEqual(x!, attrs.clipValueMin), tf.lessEqual(x!, attrs.clipValueMax)), 'float32')),
    }),
  },
  Sin: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.cos(x!)) }) },
  Cos: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.neg(tf.mul(dy, tf.sin(x!))) }) },
  Sign: { inputsToSave: ['x'], gradFunc: (_dy, [x]) => ({ x: zeros(x!) }) },
  Step: { inputsToSave: ['x'], gradFunc: (_dy, [x]) => ({ x: zeros(x!) }) },
  Floor: { inputsToSave: ['x'], gradFunc: (_dy, [x]) => ({ x: zeros(x!) }) },
  Round: { inputsToSave: ['x'], gradFunc: (_dy, [x]) => ({ x: zeros(x!) }) },
  Select: {
    inputsToSave: ['condition'],
    gradFunc: (dy, [c]) => ({
      condition: () => tf.cast(tf.zerosLike(c!), 'float32'),
      t: () => tf.mul(dy, tf.cast(c!, 'float32')),
      e: () => tf.mul(dy, tf.cast(tf.logicalNot(c!), 'float32')),
    }),
  },

  // ---- reductions and softmax ----
  Sum: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const axes = axesOf(attrs.axis, x!.rank);
      return { x: () => tf.mul(tf.reshape(dy, keptShape(x!.shape, axes)), tf.cast(tf.onesLike(x!), 'float32')) };
    },
  },
  Mean: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const axes = axesOf(attrs.axis, x!.rank);
      const count = axes.reduce((p, a) => p * x!.shape[a]!, 1);
      return { x: () => tf.div(tf.mul(tf.reshape(dy, keptShape(x!.shape, axes)), tf.cast(tf.onesLike(x!), 'float32')), count) };
    },
  },
  Max: {
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, [x, y], attrs) => {
      // The gradient goes to every position equal to the maximum (TF's convention for ties).
      const axes = axesOf(attrs.reductionIndices, x!.rank);
      const ks = keptShape(x!.shape, axes);
      return { x: () => tf.mul(tf.reshape(dy, ks), tf.cast(tf.equal(x!, tf.reshape(y!, ks)), 'float32')) };
    },
  },
  Min: {
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, [x, y], attrs) => {
      const axes = axesOf(attrs.axis, x!.rank);
      const ks = keptShape(x!.shape, axes);
      return { x: () => tf.mul(tf.reshape(dy, ks), tf.cast(tf.equal(x!, tf.reshape(y!, ks)), 'float32')) };
    },
  },
  Softmax: {
    outputsToSave: [true],
    gradFunc: (dy, [y], attrs) => {
      const dim = attrs.dim as number;
      return { logits: () => tf.mul(y!, tf.sub(dy, tf.sum(tf.mul(dy, y!), [dim], true))) };
    },
  },
  LogSoftmax: {
    outputsToSave: [true],
    gradFunc: (dy, [y], attrs) => {
      const axis = attrs.axis as number;
      return { logits: () => tf.sub(dy, tf.mul(tf.sum(dy, axis, true), tf.exp(y!))) };
    },
  },

  // ---- shape ----
  Reshape: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.reshape(dy, x!.shape) }) },
  ExpandDims: { inputsToSave: ['input'], gradFunc: (dy, [x]) => ({ input: () => tf.reshape(dy, x!.shape) }) },
  Transpose: {
    gradFunc: (dy, _s, attrs) => {
      const perm = attrs.perm as number[];
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => (inv[p] = i));
      return { x: () => tf.transpose(dy, inv) };
    },
  },
  Slice: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const begin = attrs.begin as number[];
      const pads: Array<[number, number]> = x!.shape.map((d, i) => [begin[i]!, d - begin[i]! - dy.shape[i]!]);
      return { x: () => tf.pad(dy, pads) };
    },
  },
  PadV2: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const begin = (attrs.paddings as Array<[number, number]>).map((p) => p[0]);
      return { x: () => tf.slice(dy, begin, x!.shape) };
    },
  },
  Concat: {
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const axis = axesOf(attrs.axis as number, dy.rank)[0]!;
      const sizes = saved.map((t) => t.shape[axis]!);
      const parts = tf.split(dy, sizes, axis);
      const out: Record<string, () => tf.Tensor> = {};
      parts.forEach((p, i) => (out[i] = () => p));
      return out;
    },
  },
  Pack: {
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const parts = tf.unstack(dy, attrs.axis as number);
      const out: Record<string, () => tf.Tensor> = {};
      saved.forEach((_t, i) => (out[i] = () => parts[i]!));
      return out;
    },
  },
  // Multi-output kernels receive the list of their outputs' gradients.
  Unpack: { gradFunc: (dy, _s, attrs) => ({ value: () => tf.stack(dy as unknown as tf.Tensor[], attrs.axis as number) }) },
  SplitV: { gradFunc: (dy, _s, attrs) => ({ x: () => tf.concat(dy as unknown as tf.Tensor[], attrs.axis as number) }) },
  Tile: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      // Fold each tiled axis: [r·d] → [r, d], then sum the r copies.
      const reps = attrs.reps as number[];
      const split: number[] = [];
      x!.shape.forEach((d, i) => split.push(reps[i]!, d));
      const axes = reps.map((_r, i) => 2 * i);
      return { x: () => tf.reshape(tf.sum(tf.reshape(dy, split), axes), x!.shape) };
    },
  },
  BroadcastTo: {
    gradFunc: (dy, _s, attrs) => {
      const inShape = attrs.inputShape as number[];
      const outShape = attrs.shape as number[];
      const pad = outShape.length - inShape.length;
      const full = [...new Array<number>(pad).fill(1), ...inShape];
      const axes = outShape.map((d, i) => (full[i] === 1 && d !== 1 ? i : -1)).filter((i) => i >= 0);
      return { x: () => tf.reshape(axes.length ? tf.sum(dy, axes, true) : dy, inShape) };
    },
  },

  // ---- linear algebra, convolution, pooling ----
  BatchMatMul: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      const ga = () =>
        !transposeA && !transposeB ? mm(dy, b!, false, true)
        : !transposeA && transposeB ? mm(dy, b!, false, false)
        : transposeA && !transposeB ? mm(b!, dy, false, true)
        : mm(b!, dy, true, true);
      const gb = () =>
        !transposeA && !transposeB ? mm(a!, dy, true, false)
        : !transposeA && transposeB ? mm(dy, a!, true, false)
        : transposeA && !transposeB ? mm(a!, dy, false, false)
        : mm(dy, a!, true, true);
      // Batch dimensions broadcast like elementwise ops.
      return { a: () => unbroadcast(ga(), a!.shape), b: () => unbroadcast(gb(), b!.shape) };
    },
  },
  Conv2D: {
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, [x, filter], attrs) => {
      const { strides, pad, dataFormat, dilations } = attrs;
      const dil = typeof dilations === 'number' ? [dilations, dilations] : (dilations ?? [1, 1]);
      if (dil[0] !== 1 || dil[1] !== 1) throw new Error(`earshot gradients: Conv2D with dilations ${dil} is not differentiable here (use the strided model form)`);
      if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`earshot gradients: Conv2D gradient needs NHWC, got ${dataFormat}`);
      const x4 = x as tf.Tensor4D;
      const f4 = filter as tf.Tensor4D;
      const dy4 = dy as tf.Tensor4D;
      const st = typeof strides === 'number' ? [strides, strides] : strides;
      const fastInput = st[0] === 1 && st[1] === 1 && pad === 'valid';
      return {
        x: () => {
          if (fastInput) {
            const [kh, kw] = f4.shape;
            const padded = tf.pad(dy4, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]);
            const flipped = tf.transpose(tf.reverse(f4, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
            return tf.conv2d(padded, flipped, 1, 'valid');
          }
          return tf.conv2dTranspose(dy4, f4, x4.shape, strides, pad);
        },
        filter: () =>
          tf.getKernel('Conv2DBackpropFilter', tf.getBackend())
            ? (tf.engine().runKernel('Conv2DBackpropFilter', { x: x4, dy: dy4 }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode: attrs.dimRoundingMode, filterShape: f4.shape }) as tf.Tensor)
            : conv2dFilterGradByMatMul(x4, dy4, f4.shape, strides, pad, attrs.dimRoundingMode),
      };
    },
  },
  MaxPool: {
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, [x, y], attrs) => {
      const fs = pair(attrs.filterSize);
      const st = pair(attrs.strides);
      // Non-overlapping windows (the SVD CNN's 3×3 / stride 3): route dy to the window's maximum
      // with elementwise ops. tfjs-backend-wasm 4.22's MaxPoolGrad gives wrong values when the
      // input size is not a multiple of the stride (measured against PyTorch and tfjs-cpu).
      if (attrs.pad === 'valid' && fs[0] === st[0] && fs[1] === st[1]) {
        return { x: () => maxPoolGradBlocks(dy as tf.Tensor4D, x as tf.Tensor4D, y as tf.Tensor4D, fs) };
      }
      return {
        x: () =>
          tf.engine().runKernel('MaxPoolGrad', { dy, input: x!, output: y! }, { filterSize: attrs.filterSize, strides: attrs.strides, pad: attrs.pad, dimRoundingMode: attrs.dimRoundingMode }) as tf.Tensor,
      };
    },
  },
  Reverse: { gradFunc: (dy, _s, attrs) => ({ x: () => tf.reverse(dy, attrs.dims as number[]) }) },
  AvgPool: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({
      x: () => tf.engine().runKernel('AvgPoolGrad', { dy, input: x! }, { filterSize: attrs.filterSize, strides: attrs.strides, pad: attrs.pad }) as tf.Tensor,
    }),
  },
};

let registered: string[] | null = null;

/**
 * Register earshot's gradient rules for every kernel above that has none yet. Idempotent;
 * returns the kernel names this call (or the first call) registered.
 */
export function registerGradients(): string[] {
  if (registered) return registered;
  registered = [];
  for (const [kernelName, rule] of Object.entries(rules)) {
    if (tf.getGradient(kernelName) != null) continue;
    tf.registerGradient({ kernelName, ...rule } as tf.GradConfig);
    registered.push(kernelName);
  }
  return registered;
}

/** The kernels earshot has gradient rules for (whether or not it registered them). */
export const GRADIENT_KERNELS: readonly string[] = Object.keys(rules);
