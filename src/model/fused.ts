/**
 * Fused training-mode batch norm + leaky ReLU (with the preceding layer's bias folded in) as one
 * TF.js kernel with one closed-form gradient kernel, for the wasm and cpu backends.
 *
 * Why: in a training step of the singing-voice CNN (methods.md §2) about half the time went to
 * element-wise tfjs ops — bias add, tf.moments (cast, mean, squared difference, mean), subtract,
 * multiply, add, leaky ReLU — and the gradients of each, every one a full pass over activations
 * of up to 32×113×78×64 floats (docs/training.md §4). Here the forward pass is two passes over
 * the data and the backward pass two more.
 *
 * Method (Ioffe & Szegedy 2015, "Batch normalization", §3, and its textbook backward form): with
 * h = x + b over the N = ∏(leading dims) rows of each channel,
 *   μ = mean(h), σ² = mean((h − μ)²) (biased, as in the normalisation), ĥ = (h − μ)/√(σ² + ε),
 *   z = γ ĥ + β, y = z > 0 ? z : α z;
 * backward with g = dy · (z > 0 ? 1 : α) (tfjs's LeakyRelu gradient):
 *   dβ = Σ g, dγ = Σ g ĥ, dh = γ/(N √(σ² + ε)) · (N g − dβ − ĥ dγ), dx = dh, db = Σ dh.
 * The passes run in earshot's AssemblyScript core (assembly/bn_act.ts, f32x4 SIMD, float64
 * accumulators; bindings/bn_act.ts): the kernels hand it views of the backends' tensor memory
 * (wasm: the backend's heap, as ./wasm_kernels.ts does; cpu: the stored typed arrays), which are
 * copied into the core's arena and the results copied back once. A first version in plain JS
 * loops over the tfjs heap was slower than the unfused tfjs graph (≈ 12 ns per element).
 *
 * The kernel's outputs are [y, μ, σ²]; μ and σ² (batch statistics of h) feed the moving
 * averages only and are not differentiated (their upstream gradients are ignored).
 *
 * Also here: `maxPoolBlocks`, the SVD CNN's 3×3/3 max pool for training, whose gradient (dy to
 * each window's first maximum) is one pass of the core instead of slice/transpose/argMax/oneHot.
 * `setFusedBatchNorm(false)` switches both back to the layer-by-layer graph.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError } from '../../bindings/errors.ts';
import { bnLeakyReluBackward, bnLeakyReluForward, maxPoolBlocksGrad } from '../../bindings/bn_act.ts';

export const BN_LRELU_KERNEL = 'EarshotBatchNormLeakyRelu';
export const BN_LRELU_GRAD_KERNEL = 'EarshotBatchNormLeakyReluGrad';
export const MAXPOOL_BLOCKS_KERNEL = 'EarshotMaxPoolBlocks';
export const MAXPOOL_BLOCKS_GRAD_KERNEL = 'EarshotMaxPoolBlocksGrad';
const BACKENDS = ['wasm', 'cpu'] as const;

interface Attrs {
  epsilon: number;
  alpha: number;
}

// The parts of the two backends the kernels use.
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}
interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/** Backend-neutral access to float32 tensor memory: outputs are allocated before any view is taken. */
function io(backendName: string, backend: unknown) {
  if (backendName === 'wasm') {
    const b = backend as WasmBackendLike;
    return {
      view: (t: tf.TensorInfo) => new Float32Array(b.wasm.HEAPU8.buffer, b.dataIdMap.get(t.dataId).memoryOffset, size(t.shape)),
      // Views only after every makeOutput: its malloc may grow (and detach) the heap.
      alloc: (shapes: number[][]) => shapes.map((s) => b.makeOutput(s, 'float32')),
    };
  }
  const b = backend as CpuBackendLike;
  return {
    view: (t: tf.TensorInfo) => b.data.get(t.dataId).values as Float32Array,
    alloc: (shapes: number[][]) => shapes.map((s) => b.makeTensorInfo(s, 'float32', new Float32Array(size(s)))),
  };
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkInputs(kernel: string, x: tf.TensorInfo, vecs: Record<string, tf.TensorInfo>): { R: number; C: number } {
  if (x.dtype !== 'float32') throw new EarshotError('BAD_ARGUMENT', `${kernel}: x must be float32, got ${x.dtype}`);
  if (x.shape.length < 2) throw new EarshotError('BAD_SHAPE', `${kernel}: x must have rank ≥ 2 (rows × channels), got shape [${x.shape}]`);
  const C = x.shape[x.shape.length - 1]!;
  const R = size(x.shape) / C;
  for (const [name, v] of Object.entries(vecs)) {
    if (v.dtype !== 'float32' || v.shape.length !== 1 || v.shape[0] !== C) {
      throw new EarshotError('BAD_SHAPE', `${kernel}: ${name} must be float32 [${C}] (x's channels), got ${v.dtype} [${v.shape}]`);
    }
  }
  if (R < 1) throw new EarshotError('BAD_SHAPE', `${kernel}: x has no rows (shape [${x.shape}])`);
  return { R, C };
}

function forwardKernel(backendName: string) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] => {
    const { x, bias, gamma, beta } = args.inputs as Record<'x' | 'bias' | 'gamma' | 'beta', tf.TensorInfo>;
    const { epsilon, alpha } = args.attrs as unknown as Attrs;
    const { C } = checkInputs(BN_LRELU_KERNEL, x, { bias, gamma, beta });
    const m = io(backendName, args.backend);
    const outs = m.alloc([x.shape, [C], [C]]);
    const [y, mean, variance] = outs.map((t) => m.view(t));
    bnLeakyReluForward(m.view(x), m.view(bias), m.view(gamma), m.view(beta), C, { epsilon, alpha, checkFinite: false }, { y, mean, variance });
    return outs;
  };
}

function gradKernel(backendName: string) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] => {
    const { dy, x, bias, gamma, beta, mean, variance } = args.inputs as Record<'dy' | 'x' | 'bias' | 'gamma' | 'beta' | 'mean' | 'variance', tf.TensorInfo>;
    const { epsilon, alpha } = args.attrs as unknown as Attrs;
    const { C } = checkInputs(BN_LRELU_GRAD_KERNEL, x, { bias, gamma, beta, mean, variance });
    if (size(dy.shape) !== size(x.shape)) throw new EarshotError('BAD_SHAPE', `${BN_LRELU_GRAD_KERNEL}: dy has shape [${dy.shape}], x [${x.shape}]`);
    const m = io(backendName, args.backend);
    const outs = m.alloc([x.shape, [C], [C], [C]]);
    const [dx, dbias, dgamma, dbeta] = outs.map((t) => m.view(t));
    const v = (t: tf.TensorInfo) => m.view(t);
    bnLeakyReluBackward(v(dy), v(x), v(bias), v(gamma), v(beta), v(mean), v(variance), C, { epsilon, alpha, checkFinite: false }, { dx, dbias, dgamma, dbeta });
    return outs;
  };
}

const gradConfig: tf.GradConfig = {
  kernelName: BN_LRELU_KERNEL,
  inputsToSave: ['x', 'bias', 'gamma', 'beta'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, bias, gamma, beta, mean, variance] = saved as tf.Tensor[];
    const dy = Array.isArray(dys) ? dys[0]! : dys;
    // One backward kernel gives all four gradients. It runs here, not lazily in the closures:
    // tfjs calls each closure inside its own tidy, which would dispose the other three outputs;
    // unrequested ones are disposed by the enclosing backward-pass tidy.
    const r = tf.engine().runKernel(BN_LRELU_GRAD_KERNEL, { dy, x: x!, bias: bias!, gamma: gamma!, beta: beta!, mean: mean!, variance: variance! }, attrs) as tf.Tensor[];
    return { x: () => r[0]!, bias: () => r[1]!, gamma: () => r[2]!, beta: () => r[3]! };
  },
};

/**
 * Max pool with non-overlapping windows (window = stride, 'valid'): the forward pass is the
 * backend's own MaxPool kernel; the gradient routes dy to each window's first maximum in one
 * pass of the core (the rule of ./gradients.ts for this geometry — argMax + oneHot over
 * transposed windows, ≈ 7 % of a training step — computed without the transposes).
 */
function maxPoolForwardKernel(backendName: string) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const { window } = args.attrs as unknown as { window: [number, number] };
    const stock = tf.getKernel('MaxPool', backendName);
    if (!stock) throw new EarshotError('BACKEND_INIT', `${MAXPOOL_BLOCKS_KERNEL}: backend '${backendName}' has no MaxPool kernel`);
    return stock.kernelFunc({
      inputs: args.inputs,
      backend: args.backend as tf.KernelBackend,
      attrs: { filterSize: window, strides: window, pad: 'valid', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap,
    }) as tf.TensorInfo;
  };
}

function maxPoolGradKernel(backendName: string) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const { dy, x } = args.inputs as Record<'dy' | 'x', tf.TensorInfo>;
    const { window } = args.attrs as unknown as { window: [number, number] };
    if (x.dtype !== 'float32' || x.shape.length !== 4) throw new EarshotError('BAD_SHAPE', `${MAXPOOL_BLOCKS_GRAD_KERNEL}: x must be float32 NHWC, got ${x.dtype} [${x.shape}]`);
    const m = io(backendName, args.backend);
    const [dx] = m.alloc([x.shape]);
    maxPoolBlocksGrad(m.view(x), m.view(dy), x.shape as [number, number, number, number], window, { checkFinite: false }, m.view(dx!));
    return dx!;
  };
}

const maxPoolGradConfig: tf.GradConfig = {
  kernelName: MAXPOOL_BLOCKS_KERNEL,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as tf.Tensor[];
    return { x: () => tf.engine().runKernel(MAXPOOL_BLOCKS_GRAD_KERNEL, { dy: dy as tf.Tensor, x: x! }, attrs) as tf.Tensor };
  },
};

/**
 * Max pool of NHWC x with window = stride = `window`, 'valid', differentiable with the first-
 * maximum gradient kernel (wasm and cpu).
 */
export function maxPoolBlocks(x: tf.Tensor4D, window: [number, number]): tf.Tensor4D {
  if (!(BACKENDS as readonly string[]).includes(tf.getBackend())) {
    throw new EarshotError('UNSUPPORTED', `maxPoolBlocks runs on ${BACKENDS.join(' / ')}, the active backend is '${tf.getBackend()}'`);
  }
  registerFusedBatchNorm();
  return tf.engine().runKernel(MAXPOOL_BLOCKS_KERNEL, { x }, { window } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

let registeredOn: Set<string> | null = null;
let enabled = true;

/** Register the two kernels (wasm and cpu) and the gradient; idempotent. */
export function registerFusedBatchNorm(): void {
  if (registeredOn) return;
  registeredOn = new Set();
  for (const b of BACKENDS) {
    if (!tf.getKernel(BN_LRELU_KERNEL, b)) tf.registerKernel({ kernelName: BN_LRELU_KERNEL, backendName: b, kernelFunc: forwardKernel(b) as unknown as tf.KernelFunc });
    if (!tf.getKernel(BN_LRELU_GRAD_KERNEL, b)) tf.registerKernel({ kernelName: BN_LRELU_GRAD_KERNEL, backendName: b, kernelFunc: gradKernel(b) as unknown as tf.KernelFunc });
    if (!tf.getKernel(MAXPOOL_BLOCKS_KERNEL, b)) tf.registerKernel({ kernelName: MAXPOOL_BLOCKS_KERNEL, backendName: b, kernelFunc: maxPoolForwardKernel(b) as unknown as tf.KernelFunc });
    if (!tf.getKernel(MAXPOOL_BLOCKS_GRAD_KERNEL, b)) tf.registerKernel({ kernelName: MAXPOOL_BLOCKS_GRAD_KERNEL, backendName: b, kernelFunc: maxPoolGradKernel(b) as unknown as tf.KernelFunc });
    registeredOn.add(b);
  }
  if (!tf.getGradient(BN_LRELU_KERNEL)) tf.registerGradient(gradConfig);
  if (!tf.getGradient(MAXPOOL_BLOCKS_KERNEL)) tf.registerGradient(maxPoolGradConfig);
}

/**
 * Switch the fused training path on or off (default on) — for benchmarks and tests comparing it
 * with the layer-by-layer graph. Returns the previous setting.
 */
export function setFusedBatchNorm(on: boolean): boolean {
  if (typeof on !== 'boolean') throw new EarshotError('BAD_ARGUMENT', `setFusedBatchNorm: expected a boolean, got ${String(on)}`);
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether `batchNormLeakyRelu` can run on the active backend (and the fused path is on). */
export function fusedBatchNormAvailable(): boolean {
  return enabled && (BACKENDS as readonly string[]).includes(tf.getBackend());
}

/**
 * Training-mode batch norm of h = x + bias over all leading axes (channels last), scale γ, shift
 * β, then leaky ReLU with slope `alpha`. Returns y (differentiable in x, bias, γ, β) and the batch
 * mean / biased variance of h (for the moving averages; not differentiable).
 */
export function batchNormLeakyRelu(
  x: tf.Tensor,
  bias: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  alpha: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (!Number.isFinite(epsilon) || epsilon < 0) throw new EarshotError('BAD_ARGUMENT', `batchNormLeakyRelu: epsilon must be ≥ 0, got ${epsilon}`);
  if (!Number.isFinite(alpha)) throw new EarshotError('BAD_ARGUMENT', `batchNormLeakyRelu: alpha must be finite, got ${alpha}`);
  if (!(BACKENDS as readonly string[]).includes(tf.getBackend())) {
    throw new EarshotError('UNSUPPORTED', `batchNormLeakyRelu runs on ${BACKENDS.join(' / ')}, the active backend is '${tf.getBackend()}'`);
  }
  registerFusedBatchNorm();
  const [y, mean, variance] = tf.engine().runKernel(BN_LRELU_KERNEL, { x, bias, gamma, beta }, { epsilon, alpha } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
