/**
 * Fast input gradients of the singing-voice CNN (methods.md §2) in inference form, for attacks
 * (methods.md §6) and gradient explanations: the forward pass runs on onnxruntime-node (engine
 * 'ort': native CPU, the graph built here with every layer's activated output as an extra
 * output, channels last) or on TF.js (engine 'tfjs': the wasm backend's XNNPACK convolutions;
 * any environment), batch norm folded into each layer exactly as SvdCnn's own inference does,
 * and keeps every layer's activated output; the backward pass runs earshot's own SIMD
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
import { encodeModel, type NodeSpec, type TensorSpecOnnx } from '../model/onnx/proto.ts';
import { createSession, type OrtModule } from '../model/onnx/runtime.ts';

export type GradForm = 'excerpts' | 'frames';
export type ForwardEngine = 'tfjs' | 'ort';

export interface InputGradientOptions {
  /** Forward engine: 'auto' (default) = 'ort' where onnxruntime-node loads, else 'tfjs'. */
  engine?: 'auto' | ForwardEngine;
  /** onnxruntime intra-op threads (default 1: attacks parallelise over excerpts instead). */
  threads?: number;
}

interface OrtTensorLike {
  data: unknown;
  dims: readonly number[];
}
interface OrtSessionLike {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

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
const shared = new WeakMap<SvdCnn, Map<string, Promise<InputGradient>>>();

let timings: Record<string, number> | null = null;
const now = () => performance.now();
function lap(name: string, t0: number): number {
  const t = now();
  if (timings) timings[name] = (timings[name] ?? 0) + t - t0;
  return t;
}

/**
 * Dispose every cached engine of `model` (`of` and `shared`): their arena blocks, tensors and
 * onnxruntime sessions. Call before or after disposing the model; later calls rebuild them.
 */
export async function releaseInputGradients(model: SvdCnn): Promise<void> {
  cache.get(model)?.dispose();
  cache.delete(model);
  const m = shared.get(model);
  shared.delete(model);
  if (m) for (const p of m.values()) (await p.catch(() => null))?.dispose();
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
  private ort: { Tensor: OrtModule['Tensor']; excerpts: OrtSessionLike; frames: OrtSessionLike } | null = null;

  /**
   * A new engine on `options.engine` ('auto': onnxruntime-node where it loads, else TF.js).
   * Forced 'ort' without onnxruntime-node is an ENGINE_UNAVAILABLE error.
   */
  static async create(model: SvdCnn, options: InputGradientOptions = {}): Promise<InputGradient> {
    const engine = options.engine ?? 'auto';
    if (engine !== 'auto' && engine !== 'tfjs' && engine !== 'ort') throw new EarshotError('BAD_ARGUMENT', `engine must be auto, tfjs or ort, got ${JSON.stringify(engine)}`);
    const threads = checkInt(options.threads ?? 1, 'threads', 1, 256);
    const g = new InputGradient(model);
    if (engine !== 'tfjs') {
      try {
        await g.attachOrt(threads);
      } catch (e) {
        if (engine === 'ort') {
          g.dispose();
          throw e;
        }
      }
    }
    return g;
  }

  /** `create`, cached per model and options (rebuilt when the model's weights changed). */
  static async shared(model: SvdCnn, options: InputGradientOptions = {}): Promise<InputGradient> {
    const key = `${options.engine ?? 'auto'}/${options.threads ?? 1}`;
    let m = shared.get(model);
    if (!m) shared.set(model, (m = new Map()));
    const hit = m.get(key);
    if (hit) {
      const g = await hit;
      if (!g.disposed && g.fresh()) return g;
      g.dispose();
    }
    const p = InputGradient.create(model, options);
    m.set(key, p);
    try {
      return await p;
    } catch (e) {
      m.delete(key);
      throw e;
    }
  }

  /** A cached TF.js-forward engine (synchronous; `shared` for the onnxruntime forward). */
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
      pool: arena.allocF32(18 * Math.max(c2, c4) + 9),
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
   * Forward pass, then the gradient of Σ dLogits(z)·z with respect to the input (on the
   * engine's forward: onnxruntime when attached, else TF.js).
   * 'excerpts': x holds `count` excerpts (count × 115 × 80); 'frames': x is one padded
   * spectrogram of `count` frames (count × 80, count ≥ 115). `dLogits(z)` returns the loss
   * gradient per logit (same length as z), or null to skip the backward pass.
   */
  async compute(x: Float32Array, form: GradForm, count: number, dLogits: (z: Float32Array) => Float32Array | null): Promise<LogitsAndGrad> {
    if (!this.ort) return this.logitsAndGrad(x, form, count, dLogits);
    this.assertAlive();
    this.checkInput(x, form, count);
    const { frames: T, bands: F } = this.model.arch;
    let t = now();
    const session = form === 'excerpts' ? this.ort.excerpts : this.ort.frames;
    const feed = new this.ort.Tensor('float32', x, form === 'excerpts' ? [count, 1, T, F] : [1, 1, count, F]);
    const outs = await session.run({ x: feed });
    this.assertAlive();
    t = lap('forward', t);
    return this.finish(
      (nm, s) => {
        const data = outs[nm]!.data as Float32Array;
        const b = s.f32(data.length);
        b.f32(data.length).set(data);
        return { block: b, size: data.length };
      },
      form,
      count,
      dLogits,
      t,
    );
  }

  /** `compute` on TF.js, synchronously (any backend). */
  logitsAndGrad(x: Float32Array, form: GradForm, count: number, dLogits: (z: Float32Array) => Float32Array | null): LogitsAndGrad {
    this.assertAlive();
    let t = now();
    const acts = this.forward(x, form, count);
    if (timings) {
      acts.z!.dataSync();
      t = lap('forward', t);
    }
    try {
      return this.finish(
        (nm, s) => {
          const b = s.f32(acts[nm]!.size);
          tensorInto(acts[nm]!, b);
          return { block: b, size: acts[nm]!.size };
        },
        form,
        count,
        dLogits,
        t,
        () => tf.dispose(Object.values(acts)),
      );
    } finally {
      tf.dispose(Object.values(acts));
    }
  }

  private finish(
    take: (name: string, s: Scope) => { block: Block; size: number },
    form: GradForm,
    count: number,
    dLogits: (z: Float32Array) => Float32Array | null,
    t0: number,
    release?: () => void,
  ): LogitsAndGrad {
    let t = t0;
    return core().arena.scope((s) => {
      const b: Record<string, Block> = {};
      let zSize = 0;
      for (const nm of ['y1', 'y2', 'y3', 'y4', 'f1', 'f2', 'z']) {
        const r = take(nm, s);
        b[nm] = r.block;
        if (nm === 'z') zSize = r.size;
      }
      release?.();
      const z = b.z!.f32(zSize).slice();
      t = lap('copy activations', t);
      const dz = dLogits(z);
      if (dz === null) return { logits: z, grad: null };
      check(dz instanceof Float32Array && dz.length === z.length, `dLogits must return a Float32Array of ${z.length} values`, 'BAD_SHAPE');
      const grad = this.backward(s, b, dz, form, count);
      lap('backward', t);
      return { logits: z, grad };
    });
  }

  private checkInput(x: Float32Array, form: GradForm, count: number): void {
    const { frames: T, bands: F } = this.model.arch;
    checkInt(count, form === 'excerpts' ? 'excerpts' : 'frames', form === 'excerpts' ? 1 : T);
    const rows = form === 'excerpts' ? count * T : count;
    if (!(x instanceof Float32Array) || x.length !== rows * F) {
      throw new EarshotError('BAD_SHAPE', `input must be a Float32Array of ${rows} × ${F} = ${rows * F} values, got ${x instanceof Float32Array ? x.length : typeof x}`);
    }
  }

  /** The forward engine in use. */
  get engine(): ForwardEngine {
    return this.ort ? 'ort' : 'tfjs';
  }

  /** Build the two ONNX graphs (excerpts, frames) with every activation as an output and open them on onnxruntime-node. */
  private async attachOrt(threads: number): Promise<void> {
    const models = { excerpts: this.onnxGraph('excerpts'), frames: this.onnxGraph('frames') };
    const a = await createSession('ort', models.excerpts, { threads });
    const b = await createSession('ort', models.frames, { threads });
    this.ort = { Tensor: a.ort.Tensor, excerpts: a.session as unknown as OrtSessionLike, frames: b.session as unknown as OrtSessionLike };
  }

  /**
   * The folded CNN as ONNX (NCHW inside, as ONNX's Conv wants), outputs y1…y4 transposed to
   * channels last, f1, f2 as rows × units, z. The weights are this engine's own fold, the same
   * numbers the backward pass uses.
   */
  private onnxGraph(form: GradForm): Uint8Array {
    const a = this.model.arch;
    const [c1, c2, c3, c4] = this.c;
    const [d1, d2] = this.d;
    const [ph, pw] = this.model.geometry.pool2;
    const data = (name: string) => this.tensors[name]!.dataSync() as Float32Array;
    const frames = form === 'frames';
    const nodes: NodeSpec[] = [];
    const inits: TensorSpecOnnx[] = [];
    const alpha = { float: this.alpha };
    const oihw = (k: Float32Array, kh: number, kw: number, cin: number, cout: number) => {
      const w = new Float32Array(k.length);
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) w[((co * cin + ci) * kh + i) * kw + j] = k[((i * kw + j) * cin + ci) * cout + co]!;
      return w;
    };
    let h = 'x';
    const conv = (name: string, k: Float32Array, bias: Float32Array, kh: number, kw: number, cin: number, cout: number, dilT: number, act: boolean) => {
      inits.push({ name: `${name}.W`, dims: [cout, cin, kh, kw], data: oihw(k, kh, kw, cin, cout) }, { name: `${name}.B`, dims: [cout], data: bias });
      nodes.push({ op: 'Conv', inputs: [h, `${name}.W`, `${name}.B`], outputs: [`${name}.z`], attrs: { kernel_shape: [kh, kw], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [dilT, 1] } });
      h = `${name}.z`;
      if (act) {
        nodes.push({ op: 'LeakyRelu', inputs: [h], outputs: [`${name}.a`], attrs: { alpha } });
        h = `${name}.a`;
      }
    };
    const nhwc = (out: string) => nodes.push({ op: 'Transpose', inputs: [h], outputs: [out], attrs: { perm: [0, 2, 3, 1] } });
    const pool = (dilT: number) => {
      nodes.push({ op: 'MaxPool', inputs: [h], outputs: [`${h}.p`], attrs: { kernel_shape: [3, 3], strides: [frames ? 1 : 3, 3], pads: [0, 0, 0, 0], dilations: [dilT, 1] } });
      h = `${h}.p`;
    };
    const dl = (d: number) => (frames ? d : 1);
    conv('conv1', data('conv1.kernel'), data('conv1.bias'), 3, 3, 1, c1, 1, true);
    nhwc('y1');
    conv('conv2', data('conv2.kernel'), data('conv2.bias'), 3, 3, c1, c2, 1, true);
    nhwc('y2');
    pool(1);
    conv('conv3', data('conv3.kernel'), data('conv3.bias'), 3, 3, c2, c3, dl(3), true);
    nhwc('y3');
    conv('conv4', data('conv4.kernel'), data('conv4.bias'), 3, 3, c3, c4, dl(3), true);
    nhwc('y4');
    pool(dl(3));
    conv('fc1', data('fc1.kernel'), data('fc1.bias'), ph, pw, c4, d1, dl(9), true);
    if (frames) {
      nhwc('f1'); // [1, P, 1, d1] = P × d1
      const t2 = data('fc2.kernel');
      conv('fc2', t2, data('fc2.bias'), 1, 1, d1, d2, 1, true);
      nhwc('f2');
      conv('fc3', data('fc3.kernel'), data('fc3.bias'), 1, 1, d2, 1, 1, false);
      nodes.push({ op: 'Flatten', inputs: [h], outputs: ['z'], attrs: { axis: 1 } });
    } else {
      nodes.push({ op: 'Flatten', inputs: [h], outputs: ['f1'], attrs: { axis: 1 } });
      inits.push({ name: 'fc2.W', dims: [d1, d2], data: data('fc2.kernel') }, { name: 'fc2.B', dims: [d2], data: data('fc2.bias') });
      inits.push({ name: 'fc3.W', dims: [d2, 1], data: data('fc3.kernel') }, { name: 'fc3.B', dims: [1], data: data('fc3.bias') });
      nodes.push({ op: 'Gemm', inputs: ['f1', 'fc2.W', 'fc2.B'], outputs: ['fc2.z'] });
      nodes.push({ op: 'LeakyRelu', inputs: ['fc2.z'], outputs: ['f2'], attrs: { alpha } });
      nodes.push({ op: 'Gemm', inputs: ['f2', 'fc3.W', 'fc3.B'], outputs: ['z'] });
    }
    const T = a.frames;
    return encodeModel({
      producerName: 'earshot',
      docString: `singing-voice CNN, ${form} form, with every activation as an output (src/veracity/grad.ts)`,
      graph: {
        name: `svd_cnn_${form}_activations`,
        nodes,
        initializers: inits,
        inputs: [{ name: 'x', dims: frames ? [1, 1, 'L', a.bands] : ['N', 1, T, a.bands] }],
        // Symbolic sizes (one name per dimension): ORT infers them; only the ranks are declared.
        outputs: (['y1', 'y2', 'y3', 'y4', 'f1', 'f2', 'z'] as const).map((name) => ({
          name,
          dims: Array.from({ length: name.startsWith('y') || (frames && name.startsWith('f')) ? 4 : 2 }, (_, i) => `${name}_${i}`),
        })),
      },
    });
  }

  private forward(x: Float32Array, form: GradForm, count: number): Record<string, tf.Tensor> {
    this.assertAlive();
    this.checkInput(x, form, count);
    const { frames: T, bands: F } = this.model.arch;
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
    kernel('igPoolConvBackward')(b.y4!.ptr, dp2.ptr, W.wt4!.ptr, dy3.ptr, n, r4, w4, c4, rp2, wp2, excerpts ? 3 : 1, excerpts ? 1 : 3, c3, dil34, alpha, W.pool!.ptr);
    if (timings) t = lap('  pool2+conv4', t);
    const p1Len = n * rp1 * wp1 * c2;
    const dp1 = s.f32(p1Len);
    zero(dp1, p1Len);
    kernel('igConvBackward')(dy3.ptr, b.y3!.ptr, W.wt3!.ptr, dp1.ptr, n, r3, w3, c3, c2, dil34, alpha, W.g!.ptr);
    if (timings) t = lap('  conv3', t);
    const y1Len = n * r1 * w1 * c1;
    const dy1 = s.f32(y1Len);
    zero(dy1, y1Len);
    kernel('igPoolConvBackward')(b.y2!.ptr, dp1.ptr, W.wt2!.ptr, dy1.ptr, n, r2, w2, c2, rp1, wp1, excerpts ? 3 : 1, 1, c1, 1, alpha, W.pool!.ptr);
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
    if (this.ort) {
      void this.ort.excerpts.release().catch(() => {});
      void this.ort.frames.release().catch(() => {});
      this.ort = null;
    }
    tf.dispose(Object.values(this.tensors));
    for (const blk of Object.values(this.blocks)) blk.free();
    this.blocks = {};
    if (cache.get(this.model) === this) cache.delete(this.model);
  }

  private assertAlive(): void {
    if (this.disposed) throw new EarshotError('DISPOSED', 'InputGradient was disposed');
  }
}
