/**
 * ONNX export of the singing-voice CNN (methods.md §2) from earshot's own weight files
 * (docs/model.md), for native-speed inference in ONNX Runtime (docs/engines.md).
 *
 * Inference form: every batch norm is folded into the preceding convolution / dense layer
 * (scale = γ / √(var + ε), W' = W·scale, b' = (b − μ)·scale + β; computed in float64, stored
 * float32) and conv1's kernels have their 3×3 mean subtracted (the zero-mean constraint) at
 * export. Layout NCHW (ONNX's Conv), kernels OIHW, 'valid' convolutions.
 *
 * Two forms of the same function:
 * - `excerpt` (strided): input `x` [N, 1, 115, 80] (normalised excerpts; the memory layout of
 *   the Classifier's N × 115 × 80 batch) → output `p` [N, 1] = P(voice). Dense1 is a (11, 7)
 *   convolution to [N, 256, 1, 1] so its weight keeps the file's (time, band, channel) order.
 * - `file` (fully convolutional): input `x` [N, 1, L, 80] (a normalised spectrogram padded by
 *   57 frames at both ends) → output `p` [N, L − 114], one P(voice) per frame: pooling stride 1
 *   in time, conv3/conv4/pool2 dilated 3 in time, dense1 as the (11, 7) convolution dilated 9 in
 *   time, dense2/dense3 as 1×1 convolutions.
 */
import { EarshotError, checkEnum } from '../../../bindings/errors.ts';
import { checkArchitecture, svdGeometry, SVD_ARCHITECTURE_NAME } from '../svdcnn.ts';
import type { WeightSet } from '../weights.ts';
import { encodeModel, type NodeSpec, type TensorSpecOnnx } from './proto.ts';

export type OnnxForm = 'excerpt' | 'file';

export interface ExportOptions {
  /** 'excerpt' (default): [N, 1, T, F] → [N, 1]; 'file': [N, 1, L, F] → [N, L − T + 1]. */
  form?: OnnxForm;
  /** Output the pre-sigmoid logit instead of P(voice) (default false). */
  logits?: boolean;
}

/** Folded float32 parameters in ONNX layouts. */
export interface FoldedSvd {
  /** conv{1..4}: OIHW kernel [out, in, 3, 3] and bias [out]. */
  conv: Array<{ kernel: Float32Array; bias: Float32Array; cin: number; cout: number }>;
  /** fc1 as an OIHW (ph, pw) convolution kernel [d1, c4, ph, pw]. */
  fc1: { kernel: Float32Array; bias: Float32Array };
  /** fc2 [d1, d2] (in, out), fc3 [d2, 1]. */
  fc2: { kernel: Float32Array; bias: Float32Array };
  fc3: { kernel: Float32Array; bias: Float32Array };
}

/** Fold batch norm (and conv1's zero mean) into kernels and biases, transposed to ONNX layouts. */
export function foldSvdWeights(w: WeightSet): FoldedSvd {
  const a = checkArchitecture(w.info.architecture);
  const g = svdGeometry(a);
  const t = (name: string) => {
    const x = w.tensors[name];
    if (!x) throw new EarshotError('WEIGHTS_MISSING', `weights: tensor '${name}' is missing`);
    return x.data;
  };
  const bnScaleShift = (p: string, n: number) => {
    const gamma = t(`${p}.bn.gamma`);
    const beta = t(`${p}.bn.beta`);
    const mean = t(`${p}.bn.mean`);
    const variance = t(`${p}.bn.variance`);
    const bias = t(`${p}.bias`);
    const scale = new Float64Array(n);
    const shift = new Float32Array(n);
    for (let o = 0; o < n; o++) {
      scale[o] = gamma[o]! / Math.sqrt(variance[o]! + a.bnEpsilon);
      shift[o] = (bias[o]! - mean[o]!) * scale[o]! + beta[o]!;
    }
    return { scale, shift };
  };
  // HWIO [kh, kw, cin, cout] → OIHW [cout, cin, kh, kw], scaled per output channel.
  const hwioToOihw = (src: Float32Array, kh: number, kw: number, cin: number, cout: number, scale: Float64Array, zeroMean: boolean) => {
    const k = new Float64Array(src);
    if (zeroMean) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          let s = 0;
          for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) s += k[((y * kw + x) * cin + i) * cout + o]!;
          const m = s / (kh * kw);
          for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) k[((y * kw + x) * cin + i) * cout + o]! -= m;
        }
      }
    }
    const out = new Float32Array(k.length);
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < cin; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) out[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o]! * scale[o]!;
    return out;
  };
  const conv: FoldedSvd['conv'] = [];
  let cin = 1;
  a.convFilters.forEach((cout, i) => {
    const p = `conv${i + 1}`;
    const { scale, shift } = bnScaleShift(p, cout);
    conv.push({ kernel: hwioToOihw(t(`${p}.kernel`), 3, 3, cin, cout, scale, i === 0 && a.zeroMeanConv1), bias: shift, cin, cout });
    cin = cout;
  });
  const [ph, pw] = g.pool2;
  const [d1, d2] = a.dense;
  const s1 = bnScaleShift('fc1', d1);
  const fc1 = { kernel: hwioToOihw(t('fc1.kernel'), ph, pw, cin, d1, s1.scale, false), bias: s1.shift };
  const s2 = bnScaleShift('fc2', d2);
  const k2 = t('fc2.kernel');
  const fc2k = new Float32Array(d1 * d2);
  for (let i = 0; i < d1; i++) for (let o = 0; o < d2; o++) fc2k[i * d2 + o] = k2[i * d2 + o]! * s2.scale[o]!;
  const fc2 = { kernel: fc2k, bias: s2.shift };
  const fc3 = { kernel: Float32Array.from(t('fc3.kernel')), bias: Float32Array.from(t('fc3.bias')) };
  return { conv, fc1, fc2, fc3 };
}

/** Serialise the CNN as an ONNX model (bytes of a .onnx file). */
export function exportSvdOnnx(w: WeightSet, opts: ExportOptions = {}): Uint8Array {
  const form = checkEnum(opts.form ?? 'excerpt', 'form', ['excerpt', 'file'] as const);
  const a = checkArchitecture(w.info.architecture);
  const g = svdGeometry(a);
  const f = foldSvdWeights(w);
  const alpha = a.leakyReluAlpha;
  const [ph, pw] = g.pool2;
  const [d1, d2] = a.dense;
  const fileForm = form === 'file';
  const nodes: NodeSpec[] = [];
  const inits: TensorSpecOnnx[] = [];
  let h = 'x';
  const convLrelu = (name: string, kernel: Float32Array, bias: Float32Array, dims: number[], dilT: number, act: boolean) => {
    inits.push({ name: `${name}.W`, dims, data: kernel }, { name: `${name}.B`, dims: [dims[0]!], data: bias });
    const attrs: Record<string, number[]> = { kernel_shape: dims.slice(2), strides: [1, 1], pads: [0, 0, 0, 0], dilations: [dilT, 1] };
    nodes.push({ op: 'Conv', name, inputs: [h, `${name}.W`, `${name}.B`], outputs: [`${name}.z`], attrs });
    h = `${name}.z`;
    if (act) {
      nodes.push({ op: 'LeakyRelu', name: `${name}.act`, inputs: [h], outputs: [name], attrs: { alpha: { float: alpha } } });
      h = name;
    }
  };
  const pool = (name: string, dilT: number) => {
    const attrs: Record<string, number[]> = { kernel_shape: [3, 3], strides: [fileForm ? 1 : 3, 3], pads: [0, 0, 0, 0], dilations: [dilT, 1] };
    nodes.push({ op: 'MaxPool', name, inputs: [h], outputs: [name], attrs });
    h = name;
  };
  const dil = (d: number) => (fileForm ? d : 1);
  f.conv.slice(0, 2).forEach((c, i) => convLrelu(`conv${i + 1}`, c.kernel, c.bias, [c.cout, c.cin, 3, 3], 1, true));
  pool('pool1', 1);
  f.conv.slice(2).forEach((c, i) => convLrelu(`conv${i + 3}`, c.kernel, c.bias, [c.cout, c.cin, 3, 3], dil(3), true));
  pool('pool2', dil(3));
  convLrelu('fc1', f.fc1.kernel, f.fc1.bias, [d1, a.convFilters[3], ph, pw], dil(9), true);
  if (fileForm) {
    // [N, d1, L', 1]: dense2/dense3 as 1×1 convolutions over frames.
    const t2 = new Float32Array(d1 * d2);
    for (let i = 0; i < d1; i++) for (let o = 0; o < d2; o++) t2[o * d1 + i] = f.fc2.kernel[i * d2 + o]!;
    convLrelu('fc2', t2, f.fc2.bias, [d2, d1, 1, 1], 1, true);
    convLrelu('fc3', Float32Array.from(f.fc3.kernel), f.fc3.bias, [1, d2, 1, 1], 1, false);
    nodes.push({ op: 'Flatten', name: 'frames', inputs: [h], outputs: ['logit'], attrs: { axis: 1 } });
  } else {
    nodes.push({ op: 'Flatten', name: 'flatten', inputs: [h], outputs: ['fc1.flat'], attrs: { axis: 1 } });
    inits.push({ name: 'fc2.W', dims: [d1, d2], data: f.fc2.kernel }, { name: 'fc2.B', dims: [d2], data: f.fc2.bias });
    inits.push({ name: 'fc3.W', dims: [d2, 1], data: f.fc3.kernel }, { name: 'fc3.B', dims: [1], data: f.fc3.bias });
    nodes.push({ op: 'Gemm', name: 'fc2', inputs: ['fc1.flat', 'fc2.W', 'fc2.B'], outputs: ['fc2.z'] });
    nodes.push({ op: 'LeakyRelu', name: 'fc2.act', inputs: ['fc2.z'], outputs: ['fc2'], attrs: { alpha: { float: alpha } } });
    nodes.push({ op: 'Gemm', name: 'fc3', inputs: ['fc2', 'fc3.W', 'fc3.B'], outputs: ['logit'] });
  }
  const out = opts.logits ? 'logit' : 'p';
  if (!opts.logits) nodes.push({ op: 'Sigmoid', name: 'sigmoid', inputs: ['logit'], outputs: ['p'] });
  const T = a.frames;
  const info = w.info;
  const metadata: Record<string, string> = {
    'earshot.architecture': SVD_ARCHITECTURE_NAME,
    'earshot.form': form,
    'earshot.output': opts.logits ? 'logits' : 'probs',
    'earshot.labels': JSON.stringify(info.labels),
    'earshot.threshold': String(info.threshold),
    'earshot.normalization': JSON.stringify(info.normalization),
    'earshot.frames': String(T),
    'earshot.bands': String(a.bands),
  };
  if (info.id) metadata['earshot.id'] = info.id;
  return encodeModel({
    producerName: 'earshot',
    producerVersion: '0.1.0',
    docString:
      form === 'file'
        ? `singing-voice CNN (methods.md §2), fully-convolutional form: normalised spectrogram padded by ${g.pad} frames at both ends → one ${opts.logits ? 'logit' : 'P(voice)'} per frame`
        : `singing-voice CNN (methods.md §2), strided form: normalised ${T}×${a.bands} excerpts → ${opts.logits ? 'logit' : 'P(voice)'}`,
    metadata,
    graph: {
      name: `svd_cnn_${form}`,
      nodes,
      initializers: inits,
      inputs: [{ name: 'x', dims: form === 'file' ? ['N', 1, 'L', a.bands] : ['N', 1, T, a.bands] }],
      outputs: [{ name: out, dims: form === 'file' ? ['N', 'frames'] : ['N', 1] }],
    },
  });
}
