/**
 * Training kernels for the TF.js wasm backend, computed by earshot's AssemblyScript core.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel (tfjs issue 8474), so a conv
 * filter cannot be trained there, and its `Conv2DBackpropInput` is a naive loop (≈ 12× a forward
 * pass; platform.md). `registerWasmTrainingKernels()` registers:
 * - `Conv2DBackpropFilter` for 'wasm': the core's SIMD kernel (assembly/conv_grad.ts);
 * - `Conv2DBackpropInput` for 'wasm' (replacing the stock kernel): for stride 1 a forward conv2d
 *   (XNNPACK) of the upstream gradient with the spatially flipped, in/out-transposed filter
 *   ('flipped'), otherwise the core's SIMD scatter kernel ('core'); both exact;
 * - `Sum` and `Mean` for 'wasm' (wrapping the stock kernels): a reduction over the LEADING axes
 *   of a float32 tensor (bias, batch-norm and moment reductions over batch × time × frequency
 *   of NHWC activations) becomes one R × 1 average pooling of the data viewed as [1, R, 1, C]
 *   (XNNPACK) instead of the stock transpose-then-reduce (≈ 10× faster on conv2-sized
 *   tensors); other reductions go to the stock kernels;
 * - `Identity` and same-dtype `Cast` for 'wasm' without a copy (the data is shared by reference
 *   count, as tfjs-backend-cpu's Identity does): tf.moments casts every batch-norm input to
 *   float32, and the stock kernels copied each whole activation for it;
 * - a `Conv2D` gradient that also handles dilated convolutions (tfjs-core's asserts
 *   dilations = 1) by passing `dilations` on to the two kernels above. Dilated gradients need
 *   the wasm backend with these kernels: other backends' kernels ignore the attribute, so the
 *   gradient refuses them there rather than return wrong numbers.
 *
 * The wasm backend keeps tensor data in its own wasm heap, a different memory from earshot's
 * core: inputs are copied once into the core's arena and the result once into the tensor the
 * backend allocates (`makeOutput`). NaN propagates as in every TF.js kernel (no finiteness
 * check on this hot path); the training loop checks its loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropFilter, conv2dBackpropInput, type ConvGeometry } from '../../bindings/conv_grad.ts';
import { EarshotError, checkEnum } from '../../bindings/errors.ts';

/** How the input gradient is computed on wasm. 'auto' = 'flipped' for stride 1, else 'core'. */
export type InputGradientMode = 'auto' | 'flipped' | 'core' | 'stock';

export interface WasmTrainingKernelOptions {
  /** Input-gradient implementation (default 'auto'; 'stock' keeps the backend's own kernel). */
  inputGradient?: InputGradientMode;
  /** Register the dilation-aware Conv2D gradient (default true). */
  conv2dGradient?: boolean;
  /** Leading-axis Sum/Mean through average pooling (default true). */
  fastReductions?: boolean;
  /** Identity and same-dtype Cast share data instead of copying it (default true). */
  zeroCopyIdentity?: boolean;
}

// The parts of BackendWasm the kernels use (it is not exported as a type we can import cheaply).
interface WasmBackendLike {
  incRef(dataId: object): void;
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number; shape: number[]; dtype: string } };
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  /** earshot's extension of the stock attrs (default 1). */
  dilations?: number | [number, number];
}

let stockInputKernel: tf.KernelConfig | undefined;
const stockReductions = new Map<string, tf.KernelConfig>();
let registered: { inputGradient: InputGradientMode; conv2dGradient: boolean } | null = null;
let previousConv2DGradient: tf.GradConfig | undefined;

function heapF32(backend: WasmBackendLike, t: tf.TensorInfo): Float32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  return new Float32Array(backend.wasm.HEAPU8.buffer, memoryOffset, t.shape.reduce((a, b) => a * b, 1));
}

function checkFloat(t: tf.TensorInfo, name: string, kernel: string): void {
  if (t.dtype !== 'float32') throw new EarshotError('BAD_ARGUMENT', `${kernel}: ${name} must be float32, got ${t.dtype}`);
  if (t.shape.length !== 4) throw new EarshotError('BAD_SHAPE', `${kernel}: ${name} must be 4-D (NHWC), got shape [${t.shape}]`);
}

function convInfo(kernel: string, xShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new EarshotError('BAD_ARGUMENT', `${kernel}: earshot's wasm kernel supports dataFormat 'NHWC' only, got '${attrs.dataFormat}'`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilH: info.dilationHeight,
    dilW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Conv2DBackpropFilter on wasm: inputs {x, dy}, attrs {strides, pad, dataFormat, dimRoundingMode, filterShape, dilations?}. */
function backpropFilterKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  const name = 'Conv2DBackpropFilter';
  checkFloat(x, 'x', name);
  checkFloat(dy, 'dy', name);
  const info = convInfo(name, x.shape, attrs.filterShape, attrs);
  if (!sameShape(dy.shape, info.outShape)) {
    throw new EarshotError('BAD_SHAPE', `${name}: dy has shape [${dy.shape}] but the convolution's output is [${info.outShape}]`);
  }
  const out = backend.makeOutput([...attrs.filterShape], 'float32');
  // Views only after makeOutput: its malloc may grow (and detach) the backend's heap.
  conv2dBackpropFilter(heapF32(backend, x), heapF32(backend, dy), geometry(info), heapF32(backend, out), { checkFinite: false });
  return out;
}

/** The filter for the flipped form: wf[kh,kw,co,ci] = w[kH−1−kh, kW−1−kw, ci, co]. */
function flippedFilter(w: Float32Array, kH: number, kW: number, inC: number, outC: number): Float32Array {
  const wf = new Float32Array(w.length);
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const src = ((kH - 1 - kh) * kW + (kW - 1 - kw)) * inC * outC;
      const dst = (kh * kW + kw) * inC * outC;
      for (let ci = 0; ci < inC; ci++) {
        for (let co = 0; co < outC; co++) wf[dst + co * inC + ci] = w[src + ci * outC + co]!;
      }
    }
  }
  return wf;
}

/** Conv2DBackpropInput on wasm: inputs {dy, filter}, attrs {strides, pad, dataFormat, dimRoundingMode, inputShape, dilations?}. */
function backpropInputKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  const name = 'Conv2DBackpropInput';
  checkFloat(dy, 'dy', name);
  checkFloat(filter, 'filter', name);
  const info = convInfo(name, attrs.inputShape, filter.shape, attrs);
  if (!sameShape(dy.shape, info.outShape)) {
    throw new EarshotError('BAD_SHAPE', `${name}: dy has shape [${dy.shape}] but the convolution's output is [${info.outShape}]`);
  }
  const g = geometry(info);
  const mode = registered?.inputGradient ?? 'auto';
  if ((mode === 'auto' || mode === 'flipped') && g.strideH === 1 && g.strideW === 1) {
    // dx = conv2d(dy zero-padded by (dil·(k−1) − pad) before and (in − out + pad) after,
    // flipped transposed filter, stride 1, same dilation): the adjoint of a stride-1 conv.
    const pt = g.dilH * (g.kH - 1) - g.padTop;
    const pl = g.dilW * (g.kW - 1) - g.padLeft;
    const pb = g.inH - g.outH + g.padTop;
    const pr = g.inW - g.outW + g.padLeft;
    if (pt >= 0 && pl >= 0 && pb >= 0 && pr >= 0) {
      const conv = tf.getKernel('Conv2D', 'wasm');
      if (!conv) throw new EarshotError('BACKEND_INIT', `${name}: the wasm backend has no Conv2D kernel registered`);
      const wf = backend.makeOutput([g.kH, g.kW, g.outC, g.inC], 'float32', undefined, flippedFilter(heapF32(backend, filter), g.kH, g.kW, g.inC, g.outC));
      try {
        const dx = conv.kernelFunc({
          inputs: { x: dy, filter: wf },
          backend: backend as unknown as tf.KernelBackend,
          attrs: {
            strides: [1, 1],
            pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]],
            dataFormat: 'NHWC',
            dilations: [g.dilH, g.dilW],
            dimRoundingMode: undefined,
          } as unknown as tf.NamedAttrMap,
        }) as tf.TensorInfo;
        if (!sameShape(dx.shape, attrs.inputShape)) {
          backend.disposeData(dx.dataId);
          throw new EarshotError('INTERNAL', `${name}: flipped conv gave shape [${dx.shape}], expected [${attrs.inputShape}]`);
        }
        return dx;
      } finally {
        backend.disposeData(wf.dataId);
      }
    }
  }
  if (mode === 'stock' && stockInputKernel && g.dilH === 1 && g.dilW === 1) {
    return stockInputKernel.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const out = backend.makeOutput([...attrs.inputShape], 'float32');
  conv2dBackpropInput(heapF32(backend, dy), heapF32(backend, filter), g, heapF32(backend, out), { checkFinite: false });
  return out;
}

/**
 * Sum / Mean over leading axes as one average pooling: x viewed as an NHWC image [1, R, 1, C]
 * (R = product of the reduced leading dims, C = the kept trailing dims) pooled with an R × 1
 * window — XNNPACK's multipass average pooling, SIMD over C — then × R for Sum.
 */
function leadingReduction(kind: 'Sum' | 'Mean') {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const stock = stockReductions.get(kind)!;
    const viaStock = () => stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return viaStock();
    const R = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
    const kept = x.shape.slice(axes.length);
    const C = kept.reduce((a, b) => a * b, 1);
    const pool = tf.getKernel('AvgPool', 'wasm');
    if (R < 2 || C === 0 || !pool) return viaStock();
    // Pooling keeps no per-tensor state, so a view of x's data with another shape is safe here.
    const view: tf.TensorInfo = { dataId: x.dataId, shape: [1, R, 1, C], dtype: 'float32' };
    const out = pool.kernelFunc({
      inputs: { x: view },
      backend: backend as unknown as tf.KernelBackend,
      attrs: { filterSize: [R, 1], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap,
    }) as tf.TensorInfo;
    if (kind === 'Sum') {
      const v = heapF32(backend, out);
      for (let i = 0; i < v.length; i++) v[i]! *= R;
    }
    out.shape = keepDims ? [...axes.map(() => 1), ...kept] : kept;
    return out;
  };
}

const stockCopies = new Map<string, tf.KernelConfig>();

/** Identity / Cast to the same dtype: the output shares x's data (reference counted). */
function sharedCopy(kind: 'Identity' | 'Cast') {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const backend = args.backend as WasmBackendLike;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const dtype = kind === 'Cast' ? (args.attrs as unknown as { dtype: string }).dtype : x.dtype;
    if (dtype !== x.dtype || x.dtype === 'string') return stockCopies.get(kind)!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

function tupleIsOne(v: number | [number, number] | undefined): boolean {
  if (v === undefined) return true;
  return typeof v === 'number' ? v === 1 : v.every((d) => d === 1);
}

/**
 * The Conv2D gradient, dilation-aware: both closures run the two backprop kernels with the
 * forward op's attributes (including dilations) so the kernels above see them.
 */
const conv2dGradConfig: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as ConvAttrs;
    const dilated = !tupleIsOne(a.dilations);
    if (dilated && tf.getBackend() !== 'wasm') {
      throw new EarshotError(
        'UNSUPPORTED',
        `the gradient of a dilated conv2d (dilations ${String(a.dilations)}) needs the wasm backend with earshot's kernels; backend '${tf.getBackend()}' cannot compute it`,
      );
    }
    const common = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat ?? 'NHWC', dimRoundingMode: a.dimRoundingMode, ...(dilated ? { dilations: a.dilations } : {}) };
    const run = (kernel: string, inputs: tf.NamedTensorMap, extra: object) =>
      tf.engine().runKernel(kernel, inputs, { ...common, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    return {
      x: () => run('Conv2DBackpropInput', { dy: dy as tf.Tensor4D, filter }, { inputShape: x.shape }),
      filter: () => run('Conv2DBackpropFilter', { x, dy: dy as tf.Tensor4D }, { filterShape: filter.shape }),
    };
  },
};

/**
 * Register earshot's training kernels for the 'wasm' backend (idempotent; call after the backend
 * and the gradients are set up, e.g. after `initBackend('wasm')`). Returns the kernels registered.
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): string[] {
  for (const k of Object.keys(options)) {
    if (k !== 'inputGradient' && k !== 'conv2dGradient' && k !== 'fastReductions' && k !== 'zeroCopyIdentity') {
      throw new EarshotError('BAD_ARGUMENT', `unknown option '${k}' (expected inputGradient, conv2dGradient, fastReductions, zeroCopyIdentity)`);
    }
  }
  const zeroCopy = options.zeroCopyIdentity ?? true;
  if (typeof zeroCopy !== 'boolean') throw new EarshotError('BAD_ARGUMENT', `zeroCopyIdentity must be a boolean, got ${String(zeroCopy)}`);
  const fastReductions = options.fastReductions ?? true;
  if (typeof fastReductions !== 'boolean') throw new EarshotError('BAD_ARGUMENT', `fastReductions must be a boolean, got ${String(fastReductions)}`);
  const inputGradient = checkEnum(options.inputGradient ?? 'auto', 'inputGradient', ['auto', 'flipped', 'core', 'stock'] as const);
  const conv2dGradient = options.conv2dGradient ?? true;
  if (typeof conv2dGradient !== 'boolean') throw new EarshotError('BAD_ARGUMENT', `conv2dGradient must be a boolean, got ${String(conv2dGradient)}`);
  if (registered === null) {
    if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: backpropFilterKernel as unknown as tf.KernelFunc });
    const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
    if (stock) {
      stockInputKernel = stock;
      tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    }
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: backpropInputKernel as unknown as tf.KernelFunc });
  }
  if (fastReductions && stockReductions.size === 0) {
    for (const kind of ['Sum', 'Mean'] as const) {
      const stock = tf.getKernel(kind, 'wasm');
      if (!stock) continue;
      stockReductions.set(kind, stock);
      tf.unregisterKernel(kind, 'wasm');
      tf.registerKernel({ kernelName: kind, backendName: 'wasm', kernelFunc: leadingReduction(kind) as unknown as tf.KernelFunc });
    }
  } else if (!fastReductions) restoreReductions();
  if (zeroCopy && stockCopies.size === 0) {
    for (const kind of ['Identity', 'Cast'] as const) {
      const stock = tf.getKernel(kind, 'wasm');
      if (!stock) continue;
      stockCopies.set(kind, stock);
      tf.unregisterKernel(kind, 'wasm');
      tf.registerKernel({ kernelName: kind, backendName: 'wasm', kernelFunc: sharedCopy(kind) as unknown as tf.KernelFunc });
    }
  } else if (!zeroCopy) restoreCopies();
  if (conv2dGradient && tf.getGradient('Conv2D') !== conv2dGradConfig) {
    previousConv2DGradient = tf.getGradient('Conv2D');
    tf.registerGradient(conv2dGradConfig);
  } else if (!conv2dGradient && tf.getGradient('Conv2D') === conv2dGradConfig) {
    restoreConv2DGradient();
  }
  registered = { inputGradient, conv2dGradient };
  return ['Conv2DBackpropFilter', 'Conv2DBackpropInput', ...(fastReductions ? ['Sum', 'Mean'] : []), ...(zeroCopy ? ['Identity', 'Cast'] : []), ...(conv2dGradient ? ['Conv2D (gradient)'] : [])];
}

function restoreCopies(): void {
  for (const [kind, stock] of stockCopies) {
    tf.unregisterKernel(kind, 'wasm');
    tf.registerKernel(stock);
  }
  stockCopies.clear();
}

function restoreReductions(): void {
  for (const [kind, stock] of stockReductions) {
    tf.unregisterKernel(kind, 'wasm');
    tf.registerKernel(stock);
  }
  stockReductions.clear();
}

function restoreConv2DGradient(): void {
  tf.unregisterGradient('Conv2D');
  if (previousConv2DGradient) tf.registerGradient(previousConv2DGradient);
  previousConv2DGradient = undefined;
}

/** Undo `registerWasmTrainingKernels` (restores the stock input kernel and previous gradient). */
export function unregisterWasmTrainingKernels(): void {
  if (registered === null) return;
  tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  if (stockInputKernel) tf.registerKernel(stockInputKernel);
  stockInputKernel = undefined;
  if (tf.getGradient('Conv2D') === conv2dGradConfig) restoreConv2DGradient();
  restoreReductions();
  restoreCopies();
  registered = null;
}

/** Which input-gradient mode is active (null when the kernels are not registered). */
export function wasmTrainingKernelMode(): InputGradientMode | null {
  return registered?.inputGradient ?? null;
}
