/**
 * The L-MAC decoder (Paissan et al. 2024, paper 004; methods.md §7) sized to the singing-voice
 * CNN: it reads the frozen classifier's hidden activations at two depths and returns a sigmoid
 * mask M ∈ (0, 1) on the **linear STFT magnitude** grid (115 frames × 513 bins), so that
 * M ⊙ |X| can be fed back through the classifier's own front end (src/explain/maskable.ts) and
 * inverted with the original phase into audio.
 *
 * The paper's decoder is a CNN14-scale stack of transposed convolutions fed U-Net style; this
 * one keeps what defines it (hidden representations of two depths in, a mask on the linear
 * spectrogram out, sigmoid) at the SVD CNN's scale:
 *   conv2 [n, 111, 76, 32] ─1×1→ C, lReLU ───────────────────────────┐
 *   conv4 [n, 33, 21, 64]  ─1×1→ C, lReLU → linear upsampling ×3 ────┴+→ (t, f) → (frame, band)
 *   → 1×1 → 1 (a logit per frame × mel band, [n, 115, 80])
 *   → learned frequency map 80 → 513 (initialised from the transposed mel filterbank, each
 *     bin's weights summing to 1) + per-bin bias → sigmoid → M [n, 115, 513].
 * The fixed resampling matrices place each activation at the centre of its receptive field
 * (conv2 cell t ↔ input frame t + 2, conv4 cell i ↔ conv2 cell 3i + 7 — the centres of their
 * receptive fields; edges replicated), so a
 * decoder cell always speaks about the frames and bands it was computed from. Everything is a
 * matMul, an add, a transpose or a pointwise op, whose gradients earshot registers on every
 * backend (src/model/gradients.ts); only the decoder's own parameters are trained.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkInt } from '../../../bindings/errors.ts';
import type { MagnitudeModel } from '../maskable.ts';
import { mulberry32 } from '../../model/weights.ts';

export const LMAC_ARCHITECTURE_NAME = 'lmac-svd-2depth';

/** Hyper-parameters of the decoder (stored in its manifest). */
export interface LmacArchitecture {
  name: typeof LMAC_ARCHITECTURE_NAME;
  /** The two activations read (names of the classifier's `activations`). */
  layers: [string, string];
  /** Their shapes per example, [height (time), width (frequency), channels]. */
  layerShapes: [[number, number, number], [number, number, number]];
  /** Channels of the shared projection. */
  channels: number;
  /** Input frames × mel bands of the classifier, and linear bins of the mask. */
  frames: number;
  nMels: number;
  bins: number;
  /** Offsets (in classifier-input cells) of the first layer's cell 0 centre: [time, freq]. */
  offset: [number, number];
  /** Second layer cell i ↔ first layer cell stride·i + shift (per axis). */
  stride: [number, number];
  shift: [number, number];
  leakyReluAlpha: number;
}

/** The default for the SVD CNN (methods.md §2): conv2 and conv4, 16 channels. */
export function svdLmacArchitecture(frames = 115, nMels = 80, bins = 513, channels = 16): LmacArchitecture {
  return {
    name: LMAC_ARCHITECTURE_NAME,
    layers: ['conv2', 'conv4'],
    layerShapes: [
      [frames - 4, nMels - 4, 32],
      [Math.floor((frames - 4 - 3) / 3) + 1 - 4, Math.floor((nMels - 4 - 3) / 3) + 1 - 4, 64],
    ],
    channels,
    frames,
    nMels,
    bins,
    offset: [2, 2],
    stride: [3, 3],
    shift: [7, 7],
    leakyReluAlpha: 0.01,
  };
}

export interface DecoderTensorSpec {
  name: string;
  shape: number[];
}

/** Every learned tensor, in file order. */
export function lmacTensorSpecs(a: LmacArchitecture): DecoderTensorSpec[] {
  const C = a.channels;
  return [
    { name: 'projA.kernel', shape: [a.layerShapes[0][2], C] },
    { name: 'projA.bias', shape: [C] },
    { name: 'projB.kernel', shape: [a.layerShapes[1][2], C] },
    { name: 'projB.bias', shape: [C] },
    { name: 'head.kernel', shape: [C, 1] },
    { name: 'head.bias', shape: [1] },
    { name: 'freq.kernel', shape: [a.nMels, a.bins] },
    { name: 'freq.bias', shape: [a.bins] },
  ];
}

/** Validate hyper-parameters read from a file. */
export function checkLmacArchitecture(v: unknown): LmacArchitecture {
  const o = v as Partial<LmacArchitecture> | null;
  const bad = (m: string): never => {
    throw new EarshotError('LMAC_CORRUPT', `decoder architecture: ${m}`);
  };
  if (!o || typeof o !== 'object') bad('must be an object');
  if (o!.name !== LMAC_ARCHITECTURE_NAME) bad(`name must be '${LMAC_ARCHITECTURE_NAME}', got ${JSON.stringify(o!.name)}`);
  const a = o as LmacArchitecture;
  if (!Array.isArray(a.layers) || a.layers.length !== 2 || !a.layers.every((s) => typeof s === 'string')) bad('layers must name two activations');
  if (!Array.isArray(a.layerShapes) || a.layerShapes.length !== 2 || !a.layerShapes.every((s) => Array.isArray(s) && s.length === 3 && s.every((d) => Number.isInteger(d) && d >= 1))) {
    bad('layerShapes must be two [height, width, channels] triples of positive integers');
  }
  for (const k of ['channels', 'frames', 'nMels', 'bins'] as const) if (!Number.isInteger(a[k]) || a[k] < 1) bad(`${k} must be a positive integer, got ${JSON.stringify(a[k])}`);
  for (const k of ['offset', 'stride', 'shift'] as const) {
    if (!Array.isArray(a[k]) || a[k].length !== 2 || !a[k].every((d) => Number.isInteger(d) && d >= 0)) bad(`${k} must be two non-negative integers`);
  }
  if (typeof a.leakyReluAlpha !== 'number' || !(a.leakyReluAlpha >= 0 && a.leakyReluAlpha < 1)) bad('leakyReluAlpha must be in [0, 1)');
  return a;
}

/**
 * Linear interpolation from `nIn` source cells to `nOut` target cells, target j sitting at
 * source position (j − shift) / stride (clamped to the ends): a [nOut, nIn] matrix.
 */
export function interpolationMatrix(nOut: number, nIn: number, stride: number, shift: number): Float32Array {
  const m = new Float32Array(nOut * nIn);
  for (let j = 0; j < nOut; j++) {
    const u = Math.min(nIn - 1, Math.max(0, (j - shift) / stride));
    const i0 = Math.floor(u);
    const i1 = Math.min(nIn - 1, i0 + 1);
    const f = u - i0;
    m[j * nIn + i0] += 1 - f;
    if (i1 !== i0) m[j * nIn + i1] += f;
  }
  return m;
}

/**
 * The frequency map's initial value: the transposed filterbank [nMels, bins] with each bin's
 * column scaled to sum to 1 (a mask that is constant over the bands gives that constant over
 * the bins the filterbank reads); bins no filter reads start at 0.
 */
export function frequencyMapInit(melT: Float32Array, bins: number, nMels: number): Float32Array {
  const w = new Float32Array(nMels * bins);
  for (let k = 0; k < bins; k++) {
    let s = 0;
    for (let b = 0; b < nMels; b++) s += melT[k * nMels + b]!;
    if (s <= 0) continue;
    for (let b = 0; b < nMels; b++) w[b * bins + k] = melT[k * nMels + b]! / s;
  }
  return w;
}

/** Fresh decoder weights: Glorot-uniform projections (seeded), zero biases, the mel-derived frequency map. */
export function initDecoderTensors(a: LmacArchitecture, melT: Float32Array, seed: number): Record<string, Float32Array> {
  checkInt(seed, 'seed', 0, 2 ** 32 - 1);
  const rnd = mulberry32(seed);
  const glorot = (fanIn: number, fanOut: number, n: number) => {
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    return Float32Array.from({ length: n }, () => (2 * rnd() - 1) * lim);
  };
  const out: Record<string, Float32Array> = {};
  for (const s of lmacTensorSpecs(a)) {
    const n = s.shape.reduce((p, d) => p * d, 1);
    if (s.name.endsWith('.bias')) out[s.name] = new Float32Array(n);
    else if (s.name === 'freq.kernel') out[s.name] = frequencyMapInit(melT, a.bins, a.nMels);
    else out[s.name] = glorot(s.shape[0]!, s.shape[1]!, n);
  }
  return out;
}

/**
 * The decoder as TF.js variables plus the fixed resampling matrices. `mask(acts)` is
 * differentiable with respect to the variables (and is what training differentiates);
 * activations come from `magnitudeModel.activations` and are treated as constants.
 */
export class LmacDecoder {
  readonly arch: LmacArchitecture;
  readonly vars: Record<string, tf.Variable>;
  private readonly fixed: tf.Tensor2D[];
  private disposed = false;

  constructor(arch: LmacArchitecture, tensors: Record<string, Float32Array>, trainable = true) {
    this.arch = checkLmacArchitecture(arch);
    this.vars = {};
    for (const s of lmacTensorSpecs(arch)) {
      const d = tensors[s.name];
      const n = s.shape.reduce((p, x) => p * x, 1);
      if (!d) throw new EarshotError('LMAC_MISSING', `decoder: tensor '${s.name}' (shape [${s.shape.join(', ')}]) is missing`);
      if (d.length !== n) throw new EarshotError('LMAC_SHAPE', `decoder: tensor '${s.name}' has ${d.length} values, shape [${s.shape.join(', ')}] needs ${n}`);
      this.vars[s.name] = tf.variable(tf.tensor(d, s.shape, 'float32'), trainable, `lmac/${s.name}/${uid()}`);
    }
    const [[hA, wA], [hB, wB]] = arch.layerShapes;
    // conv4 → conv2 grid (time, frequency), then conv2 → classifier input grid.
    this.fixed = [
      tf.keep(tf.tensor2d(interpolationMatrix(hA, hB, arch.stride[0], arch.shift[0]), [hA, hB])),
      tf.keep(tf.tensor2d(interpolationMatrix(wA, wB, arch.stride[1], arch.shift[1]), [wA, wB])),
      tf.keep(tf.tensor2d(interpolationMatrix(arch.frames, hA, 1, arch.offset[0]), [arch.frames, hA])),
      tf.keep(tf.tensor2d(interpolationMatrix(arch.nMels, wA, 1, arch.offset[1]), [arch.nMels, wA])),
    ];
  }

  /** Variables in file order (what Adam updates). */
  variables(): tf.Variable[] {
    this.alive();
    return lmacTensorSpecs(this.arch).map((s) => this.vars[s.name]!);
  }

  /** Current values by name (for saving). */
  async tensors(): Promise<Record<string, Float32Array>> {
    this.alive();
    const out: Record<string, Float32Array> = {};
    for (const s of lmacTensorSpecs(this.arch)) out[s.name] = (await this.vars[s.name]!.data()) as Float32Array;
    return out;
  }

  /** Overwrite the variables (a checkpoint, the best epoch). */
  setTensors(t: Record<string, Float32Array>): void {
    this.alive();
    for (const s of lmacTensorSpecs(this.arch)) {
      const d = t[s.name];
      if (!d) continue;
      tf.tidy(() => this.vars[s.name]!.assign(tf.tensor(d, s.shape, 'float32')));
    }
  }

  /** The two activations the decoder reads, from the magnitude model (caller disposes). */
  activations(mm: MagnitudeModel, mag: tf.Tensor): [tf.Tensor, tf.Tensor] {
    this.alive();
    const a = mm.activations(mag, this.arch.layers.slice());
    const A = a[this.arch.layers[0]];
    const B = a[this.arch.layers[1]];
    if (!A || !B) {
      tf.dispose(Object.values(a));
      throw new EarshotError('LMAC_MISMATCH', `decoder: the classifier has no activation '${!A ? this.arch.layers[0] : this.arch.layers[1]}'`);
    }
    for (const [t, i] of [[A, 0], [B, 1]] as const) {
      const want = this.arch.layerShapes[i];
      if (t.rank !== 4 || t.shape[1] !== want[0] || t.shape[2] !== want[1] || t.shape[3] !== want[2]) {
        tf.dispose([A, B]);
        throw new EarshotError('LMAC_MISMATCH', `decoder: activation '${this.arch.layers[i]}' is [${t.shape.slice(1).join(', ')}] per example, the decoder was built for [${want.join(', ')}]`);
      }
    }
    return [A, B];
  }

  /** Pre-sigmoid mask logits [n, frames, bins]. Not tidied (inside grads / tidy). */
  logits(A: tf.Tensor, B: tf.Tensor): tf.Tensor3D {
    this.alive();
    const a = this.arch;
    const v = this.vars;
    const n = A.shape[0]!;
    const C = a.channels;
    const [[hA, wA, cA], [hB, wB, cB]] = a.layerShapes;
    const [Ut, Uf, Pt, Pf] = this.fixed as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const lrelu = (x: tf.Tensor) => tf.leakyRelu(x, a.leakyReluAlpha);
    const pA = lrelu(tf.add(tf.matMul(tf.reshape(A, [n * hA * wA, cA]) as tf.Tensor2D, v['projA.kernel'] as tf.Tensor as tf.Tensor2D), v['projA.bias']!));
    const pB = lrelu(tf.add(tf.matMul(tf.reshape(B, [n * hB * wB, cB]) as tf.Tensor2D, v['projB.kernel'] as tf.Tensor as tf.Tensor2D), v['projB.bias']!));
    // Separable linear resampling of a [n, h, w, C] map: time axis, then frequency axis.
    const resample = (x: tf.Tensor, h: number, w: number, M_t: tf.Tensor2D, M_f: tf.Tensor2D): tf.Tensor => {
      const H = M_t.shape[0];
      const W = M_f.shape[0];
      // [h, n·w·C] → time
      let y = tf.transpose(tf.reshape(x, [n, h, w * C]), [1, 0, 2]);
      y = tf.matMul(M_t, tf.reshape(y, [h, n * w * C]) as tf.Tensor2D);
      y = tf.transpose(tf.reshape(y, [H, n, w, C]), [2, 1, 0, 3]); // [w, n, H, C]
      y = tf.matMul(M_f, tf.reshape(y, [w, n * H * C]) as tf.Tensor2D);
      return tf.transpose(tf.reshape(y, [W, n, H, C]), [1, 2, 0, 3]); // [n, H, W, C]
    };
    const up = resample(tf.reshape(pB, [n, hB, wB, C]), hB, wB, Ut, Uf);
    const z = tf.add(tf.reshape(pA, [n, hA, wA, C]), up);
    const zi = resample(z, hA, wA, Pt, Pf); // [n, frames, nMels, C]
    const head = tf.add(tf.matMul(tf.reshape(zi, [n * a.frames * a.nMels, C]) as tf.Tensor2D, v['head.kernel'] as tf.Tensor as tf.Tensor2D), v['head.bias']!);
    const lin = tf.add(tf.matMul(tf.reshape(head, [n * a.frames, a.nMels]) as tf.Tensor2D, v['freq.kernel'] as tf.Tensor as tf.Tensor2D), v['freq.bias']!);
    return tf.reshape(lin, [n, a.frames, a.bins]) as tf.Tensor3D;
  }

  /** M = sigmoid(logits) [n, frames, bins]. */
  mask(A: tf.Tensor, B: tf.Tensor): tf.Tensor3D {
    return tf.sigmoid(this.logits(A, B)) as tf.Tensor3D;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...Object.values(this.vars), ...this.fixed]);
  }

  private alive(): void {
    if (this.disposed) throw new EarshotError('DISPOSED', 'the L-MAC decoder was disposed');
  }
}

let uidCounter = 0;
const uid = () => `${Date.now().toString(36)}${(uidCounter++).toString(36)}`;
