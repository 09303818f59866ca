/**
 * Fast input gradients of the singing-voice CNN (methods.md §2) in inference form, for attacks
 * (methods.md §6) and gradient explanations: the forward pass runs on TF.js (the wasm backend's
 * XNNPACK convolutions, batch norm folded into each layer exactly as SvdCnn's own inference
 * does) and keeps every layer's activated output; the backward pass runs earshot's own SIMD
 * kernels in the compute core (assembly/input_grad.ts): dense layers, a conv followed by a
 * max-pool differentiated only at each window's first maximum (1/9 of a dense conv gradient in
 * the strided form), dense convs, leaky-ReLU derivatives read off the outputs. No TF.js autodiff
 * and no TF.js backward kernels are involved.
 *
 * Two forms (the same function; SvdCnn's docs): 'excerpts' = n excerpts of 115 frames, one
 * logit each (strided pooling); 'frames' = one padded spectrogram of L frames, one logit per
 * excerpt start (L − 114 logits; pooling stride 1 in time, conv3/conv4/second pool dilated 3,
 * fc1 an (11, 7) convolution dilated 9). Works on any TF.js backend (tested on wasm and cpu);
 * on wasm the activations are copied straight from the backend's heap into the core's arena.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, check, checkInt } from '../../bindings/errors.ts';
import { core, type Block, type Scope } from '../../bindings/wasm.ts';
import type { SvdCnn } from '../model/svdcnn.ts';

export type GradForm = 'excerpts' | 'frames';

export interface LogitsAndGrad {
  /** Logits: n for 'excerpts', L − 114 for 'frames'. */
  logits: Float32Array;
  /** d(loss)/d(input), the input's layout (normalised log-mel); null when dLogits returned null. */
  grad: Float32Array | null;
}

type Kernel = (...a: number[]) => void;
function kernel(name: string): Kernel {
  const f = core().exports[name];
  if (typeof f !== 'function') throw new EarshotError('CORE_INCOMPLETE', `the earshot core has no export '${name}': rebuild it with \`npm run build:wasm\``);
  return f as Kernel;
}

interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/** Copy a tensor's values into an arena block (straight from the wasm backend's heap when it is one). */
function tensorInto(t: tf.Tensor, b: Block): void {
  const backend = tf.backend() as unknown as Partial<WasmHeapBackend>;
  const entry = backend.wasm && backend.dataIdMap ? backend.dataIdMap.get(t.dataId as object) : undefined;
  if (entry && backend.wasm) {
    b.f32(t.size).set(new Float32Array(backend.wasm.HEAPU8.buffer, entry.memoryOffset, t.size));
  } else {
    b.f32(t.size).set(t.dataSync() as Float32Array);
  }
}

/** HWIO [3, 3, Cin, C] → [3, 3, C, Cin]. */
function transposeTaps(w: Float32Array, Cin: number, C: number): Float32Array {
  const wt = new Float32Array(w.length);
  for (let k = 0; k < 9; k++) for (let ci = 0; ci < Cin; ci++) for (let c = 0; c < C; c++) wt[(k * C + c) * Cin + ci] = w[(k * Cin + ci) * C + c]!;
  return wt;
}

const cache = new WeakMap<SvdCnn, InputGradient>();

let timings: Record<string, number> | null = null;
const now = () => performance.now();
function lap(name: string, t0: number): number {
  const t = now();
  if (timings) timings[name] = (timings[name] ?? 0) + t - t0;
  return t;
}

/**
 * Accumulate wall-clock milliseconds per stage of `logitsAndGrad` (forward, copy, each backward
 * kernel) into `into` until called with null: the bench's profile.
 */
export function profileInputGradient(into: Record<string, number> | null): void {
  timings = into;
}

/**
 * The input-gradient engine of one model. `InputGradient.of(model)` returns a cached engine and
 * rebuilds it when the model's weights changed. Free with `dispose()` (also frees its arena
 * blocks); the model stays usable.
 */
export class InputGradient {
  readonly model: SvdCnn;
  private key: unknown[];
  private tensors: Record<string, tf.Tensor>;
  private blocks: Record<string, Block> = {};
  private disposed = false;
  private readonly alpha: number;
  private readonly c: [number, number, number, number];
  private readonly d: [number, number];

  static of(model: SvdCnn): InputGradient {
    let g = cache.get(model);
    if (!g || g.disposed || !g.fresh()) {
      g?.dispose();
      g = new InputGradient(model);
      cache.set(model, g);
    }
    return g;
  }

  constructor(model: SvdCnn) {
    this.model = model;
    const a = model.arch;
    this.alpha = a.leakyReluAlpha;
    this.c = a.convFilters;
    this.d = a.dense;
    this.key = this.currentKey();
    const v = model.vars;
    // The fold of SvdCnn's inference path: scale = γ/√(σ² + ε), kernel·scale, (b − μ)·scale + β.
    this.tensors = tf.tidy(() => {
      const out: Record<string, tf.Tensor> = {};
      for (const p of ['conv1', 'conv2', 'conv3', 'conv4', 'fc1', 'fc2']) {
        let k: tf.Tensor = v[`${p}.kernel`]!;
        if (p === 'conv1' && a.zeroMeanConv1) k = tf.sub(k, tf.mean(k, [0, 1], true));
        const scale = tf.mul(v[`${p}.bn.gamma`]!, tf.rsqrt(tf.add(v[`${p}.bn.variance`]!, a.bnEpsilon)));
        out[`${p}.kernel`] = tf.mul(k, scale);
        out[`${p}.bias`] = tf.add(tf.mul(tf.sub(v[`${p}.bias`]!, v[`${p}.bn.mean`]!), scale), v[`${p}.bn.beta`]!);
      }
      out['fc1.matrix'] = tf.reshape(out['fc1.kernel']!, [-1, a.dense[0]]);
      out['fc3.kernel'] = tf.clone(v['fc3.kernel']!);
      out['fc3.bias'] = tf.clone(v['fc3.bias']!);
      return out;
    });
    for (const t of Object.values(this.tensors)) tf.keep(t);
    const arena = core().arena;
    const data = (name: string) => this.tensors[name]!.dataSync() as Float32Array;
    const [c1, c2, c3, c4] = this.c;
    this.blocks = {
      wt1: arena.copyIn(transposeTaps(data('conv1.kernel'), 1, c1)),
      wt2: arena.copyIn(transposeTaps(data('conv2.kernel'), c1, c2)),
      wt3: arena.copyIn(transposeTaps(data('conv3.kernel'), c2, c3)),
      wt4: arena.copyIn(transposeTaps(data('conv4.kernel'), c3, c4)),
      w5: arena.copyIn(data('fc1.matrix')),
      w6: arena.copyIn(data('fc2.kernel')),
      w7: arena.copyIn(data('fc3.kernel')),
      g: arena.allocF32(Math.max(c1, c2, c3, c4, this.d[0], this.d[1], 4)),
    };
  }

  private currentKey(): unknown[] {
    return Object.keys(this.model.vars)
      .sort()
      .map((k) => (this.model.vars[k] as unknown as { dataId: unknown }).dataId);
  }

  private fresh(): boolean {
    const k = this.currentKey();
    return k.length === this.key.length && k.every((d, i) => d === this.key[i]);
  }

  /** Logits only (the same forward pass, no activations kept). */
  logits(x: Float32Array, form: GradForm, count: number): Float32Array {
    const acts = this.forward(x, form, count);
    try {
      return acts.z.dataSync().slice() as Float32Array;
    } finally {
      tf.dispose(Object.values(acts));
    }
  }

  /**
   * Forward pass, then the gradient of Σ dLogits(z)·z with respect to the input.
   * 'excerpts': x holds `count` excerpts (count × 115 × 80); 'frames': x is one padded
   * spectrogram of `count` frames (count × 80, count ≥ 115). `dLogits(z)` returns the loss
   * gradient per logit (same length as z), or null to skip the backward pass.
   */
  logitsAndGrad(x: Float32Array, form: GradForm, count: number, dLogits: (z: Float32Array) => Float32Array | null): LogitsAndGrad {
    this.assertAlive();
    let t = now();
    const acts = this.forward(x, form, count);
    if (timings) {
      acts.z!.dataSync();
      t = lap('forward', t);
    }
    const arena = core().arena;
    try {
      return arena.scope((s) => {
        const names = ['y1', 'y2', 'y3', 'y4', 'f1', 'f2', 'z'] as const;
        const b: Record<string, Block> = {};
        for (const nm of names) {
          b[nm] = s.f32(acts[nm]!.size);
          tensorInto(acts[nm]!, b[nm]!);
        }
        const z = b.z!.f32(acts.z!.size).slice();
        tf.dispose(Object.values(acts));
        t = lap('copy activations', t);
        const dz = dLogits(z);
        if (dz === null) return { logits: z, grad: null };
        check(dz instanceof Float32Array && dz.length === z.length, `dLogits must return a Float32Array of ${z.length} values`, 'BAD_SHAPE');
        const grad = this.backward(s, b, dz, form, count);
        lap('backward', t);
        return { logits: z, grad };
      });
    } finally {
      tf.dispose(Object.values(acts));
    }
  }

  private forward(x: Float32Array, form: GradForm, count: number): Record<string, tf.Tensor> {
    this.assertAlive();
    const { frames: T, bands: F } = this.model.arch;
    checkInt(count, form === 'excerpts' ? 'excerpts' : 'frames', form === 'excerpts' ? 1 : T);
    const rows = form === 'excerpts' ? count * T : count;
    if (!(x instanceof Float32Array) || x.length !== rows * F) {
      throw new EarshotError('BAD_SHAPE', `input must be a Float32Array of ${rows} × ${F} = ${rows * F} values, got ${x instanceof Float32Array ? x.length : typeof x}`);
    }
    const f = this.tensors;
    const alpha = this.alpha;
    return tf.tidy(() => {
      const conv = (h: tf.Tensor4D, p: string, dt: number) =>
        tf.fused.conv2d({ x: h, filter: f[`${p}.kernel`] as tf.Tensor4D, strides: 1, pad: 'valid', dilations: [dt, 1], bias: f[`${p}.bias`], activation: 'leakyrelu', leakyreluAlpha: alpha });
      const dense = (h: tf.Tensor, w: tf.Tensor, b: tf.Tensor, act: boolean): tf.Tensor2D =>
        tf.fused.matMul({ a: h as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, ...(act ? { activation: 'leakyrelu' as const, leakyreluAlpha: alpha } : {}) }) as tf.Tensor2D;
      if (form === 'excerpts') {
        const x4 = tf.tensor4d(x, [count, T, F, 1]);
        const y1 = conv(x4, 'conv1', 1);
        const y2 = conv(y1, 'conv2', 1);
        const y3 = conv(tf.maxPool(y2, [3, 3], [3, 3], 'valid'), 'conv3', 1);
        const y4 = conv(y3, 'conv4', 1);
        const p2 = tf.reshape(tf.maxPool(y4, [3, 3], [3, 3], 'valid'), [count, -1]) as tf.Tensor2D;
        const f1 = dense(p2, f['fc1.matrix']!, f['fc1.bias']!, true);
        const f2 = dense(f1, f['fc2.kernel']!, f['fc2.bias']!, true);
        const z = dense(f2, f['fc3.kernel']!, f['fc3.bias']!, false);
        return { y1, y2, y3, y4, f1, f2, z };
      }
      // Max over 3 frames spaced dt apart after a stride-3 max over frequency.
      const poolTime = (h: tf.Tensor4D, dt: number): tf.Tensor4D => {
        const q = tf.maxPool(h, [1, 3], [1, 3], 'valid');
        const L = q.shape[1] - 2 * dt;
        const sl = (o: number) => tf.slice(q, [0, o, 0, 0], [-1, L, -1, -1]);
        return tf.maximum(tf.maximum(sl(0), sl(dt)), sl(2 * dt));
      };
      const x4 = tf.tensor4d(x, [1, count, F, 1]);
      const y1 = conv(x4, 'conv1', 1);
      const y2 = conv(y1, 'conv2', 1);
      const y3 = conv(poolTime(y2, 1), 'conv3', 3);
      const y4 = conv(y3, 'conv4', 3);
      const h = conv(poolTime(y4, 3), 'fc1', 9);
      const f1 = tf.reshape(h, [h.shape[1], this.d[0]]) as tf.Tensor2D;
      const f2 = dense(f1, f['fc2.kernel']!, f['fc2.bias']!, true);
      const z = dense(f2, f['fc3.kernel']!, f['fc3.bias']!, false);
      return { y1, y2, y3, y4, f1, f2, z };
    }) as Record<string, tf.Tensor>;
  }

  private backward(s: Scope, b: Record<string, Block>, dz: Float32Array, form: GradForm, count: number): Float32Array {
    const { frames: T, bands: F } = this.model.arch;
    const [c1, c2, c3, c4] = this.c;
    const [d1, d2] = this.d;
    const g = this.model.geometry;
    const alpha = this.alpha;
    const W = this.blocks;
    const excerpts = form === 'excerpts';
    // Geometry of each stage: n (batch), rows (time) of y1…y4, pool strides / dilations.
    const n = excerpts ? count : 1;
    const r1 = excerpts ? g.conv1[0] : count - 2;
    const r2 = r1 - 2;
    const rp1 = excerpts ? g.pool1[0] : r2 - 2;
    const dil34 = excerpts ? 1 : 3;
    const r3 = rp1 - 2 * dil34;
    const r4 = r3 - 2 * dil34;
    const rp2 = excerpts ? g.pool2[0] : r4 - 6;
    const P = dz.length;
    const [w1, w2, w3, w4] = [g.conv1[1], g.conv2[1], g.conv3[1], g.conv4[1]];
    const [wp1, wp2] = [g.pool1[1], g.pool2[1]];
    const zero = (blk: Block, len: number) => blk.f32(len).fill(0);
    let t = now();
    // fc3 (no activation) → d f2; fc2 → d f1; fc1 (dense, or an (11, 7) conv dilated 9) → d pool2.
    const dzB = s.f32(P);
    dzB.f32(P).set(dz);
    const df2 = s.f32(P * d2);
    zero(df2, P * d2);
    kernel('igDenseBackward')(dzB.ptr, b.z!.ptr, W.w7!.ptr, df2.ptr, P, 1, d2, 1, 1, 1, W.g!.ptr);
    if (timings) t = lap('  fc3', t);
    const df1 = s.f32(P * d1);
    zero(df1, P * d1);
    kernel('igDenseBackward')(df2.ptr, b.f2!.ptr, W.w6!.ptr, df1.ptr, P, 1, d1, d2, 1, alpha, W.g!.ptr);
    if (timings) t = lap('  fc2', t);
    const p2Len = n * rp2 * wp2 * c4;
    const dp2 = s.f32(p2Len);
    zero(dp2, p2Len);
    if (excerpts) kernel('igDenseBackward')(df1.ptr, b.f1!.ptr, W.w5!.ptr, dp2.ptr, P, 1, rp2 * wp2 * c4, d1, 1, alpha, W.g!.ptr);
    else kernel('igDenseBackward')(df1.ptr, b.f1!.ptr, W.w5!.ptr, dp2.ptr, P, g.pool2[0], wp2 * c4, d1, 9, alpha, W.g!.ptr);
    if (timings) t = lap('  fc1', t);
    // conv4 + pool2 → d y3; conv3 → d pool1; conv2 + pool1 → d y1; conv1 → d x.
    const y3Len = n * r3 * w3 * c3;
    const dy3 = s.f32(y3Len);
    zero(dy3, y3Len);
    kernel('igPoolConvBackward')(b.y4!.ptr, dp2.ptr, W.wt4!.ptr, dy3.ptr, n, r4, w4, c4, rp2, wp2, excerpts ? 3 : 1, excerpts ? 1 : 3, c3, dil34, alpha);
    if (timings) t = lap('  pool2+conv4', t);
    const p1Len = n * rp1 * wp1 * c2;
    const dp1 = s.f32(p1Len);
    zero(dp1, p1Len);
    kernel('igConvBackward')(dy3.ptr, b.y3!.ptr, W.wt3!.ptr, dp1.ptr, n, r3, w3, c3, c2, dil34, alpha, W.g!.ptr);
    if (timings) t = lap('  conv3', t);
    const y1Len = n * r1 * w1 * c1;
    const dy1 = s.f32(y1Len);
    zero(dy1, y1Len);
    kernel('igPoolConvBackward')(b.y2!.ptr, dp1.ptr, W.wt2!.ptr, dy1.ptr, n, r2, w2, c2, rp1, wp1, excerpts ? 3 : 1, 1, c1, 1, alpha);
    if (timings) t = lap('  pool1+conv2', t);
    const xLen = n * (excerpts ? T : count) * F;
    const dx = s.f32(xLen);
    zero(dx, xLen);
    kernel('igConvBackward')(dy1.ptr, b.y1!.ptr, W.wt1!.ptr, dx.ptr, n, r1, w1, c1, 1, 1, alpha, W.g!.ptr);
    if (timings) t = lap('  conv1', t);
    return dx.f32(xLen).slice();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(Object.values(this.tensors));
    for (const blk of Object.values(this.blocks)) blk.free();
    this.blocks = {};
    if (cache.get(this.model) === this) cache.delete(this.model);
  }

  private assertAlive(): void {
    if (this.disposed) throw new EarshotError('DISPOSED', 'InputGradient was disposed');
  }
}
