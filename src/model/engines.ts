/**
 * Forward-pass engines for the singing-voice CNN behind one `Classifier` (issue 7,
 * docs/engines.md): `tfjs` (TF.js wasm, H6's SvdCnn — always available, differentiable),
 * `ort` (onnxruntime-node, native CPU, intra-op threads) and `ort-web` (onnxruntime-web's wasm
 * backend, threads where the runtime allows). ORT engines run the model exported to ONNX in
 * memory from the same weight file (./onnx/export.ts; cached per WeightSet), so every engine
 * computes the same function.
 *
 * `auto` tries ort → ort-web → tfjs and keeps the first that loads, logging why the others did
 * not (onInfo). Parallelism never multiplies: an ORT engine uses its intra-op threads (= cores
 * by default) inside one run at a time; the TF.js engine is single-threaded in Node.
 */
import { EarshotError, checkEnum, checkInt } from '../../bindings/errors.ts';
import { checkPredictInput, type Classifier } from './classifier.ts';
import { initBackend } from './backend.ts';
import { SvdCnn, checkArchitecture, svdGeometry } from './svdcnn.ts';
import { loadWeights, type WeightSet, type WeightSource } from './weights.ts';
import { exportSvdOnnx, type OnnxForm } from './onnx/export.ts';
import { registerTask, WorkerPool, workersSupported } from '../parallel/pool.ts';
import { OnnxClassifier, cpuCount, defaultImporter, type ModuleImporter, type OrtEngine } from './onnx/runtime.ts';

export type EngineName = 'tfjs' | 'ort' | 'ort-web';
export type EngineChoice = EngineName | 'auto';
export const ENGINES: readonly EngineChoice[] = ['auto', 'tfjs', 'ort', 'ort-web'];
/** Preference of `auto`, fastest first (platform.md: ORT native ≈ 7× TF.js wasm). */
export const AUTO_ORDER: readonly EngineName[] = ['ort', 'ort-web', 'tfjs'];

export interface EngineOptions {
  engine?: EngineChoice;
  /** ORT intra-op threads / onnxruntime-web wasm threads (default: number of cores). */
  threads?: number;
  /** onnxruntime-node: idle intra-op threads busy-wait (default false; see SessionOptions.spinning). */
  spinning?: boolean;
  /** Examples per forward pass (default 32 for tfjs, 64 for ORT). */
  batchSize?: number;
  /**
   * tfjs only (Node): a pool of worker_threads, one TF.js wasm backend each, splitting every
   * predict batch between them (default 1 = no pool). ORT engines parallelise inside a run with
   * `threads` instead; combining both would oversubscribe the cores, so `workers` > 1 with a
   * forced ORT engine is an error and `auto` applies it only when it lands on tfjs.
   */
  workers?: number;
  /** Progress / decision messages ("engine: ort (…)", fallbacks with their reason). */
  onInfo?: (message: string) => void;
  /** How optional packages are imported (tests inject a failing one). */
  importer?: ModuleImporter;
}

/** What every engine classifier adds to `Classifier`. */
export interface EngineClassifier extends Classifier {
  readonly engine: EngineName;
  /** Threads the engine computes with (1 for TF.js wasm in Node). */
  readonly threads: number;
  /** Why `auto` skipped faster engines (empty when the first choice loaded or one was forced). */
  readonly fallbacks: string[];
  readonly threshold: number;
  /** Frame-wise P(voice) over a whole normalised spectrogram (fully-convolutional form). */
  predictFrames(spec: Float32Array, frames: number, opts?: { padded?: boolean; chunkFrames?: number }): Promise<Float32Array>;
}

const onnxCache = new WeakMap<WeightSet, Map<string, Uint8Array>>();

/** The weight set exported to ONNX (cached per WeightSet object and form). */
export function onnxBytesFor(w: WeightSet, form: OnnxForm = 'excerpt'): Uint8Array {
  let m = onnxCache.get(w);
  if (!m) onnxCache.set(w, (m = new Map()));
  let b = m.get(form);
  if (!b) m.set(form, (b = exportSvdOnnx(w, { form })));
  return b;
}

function isWeightSet(x: unknown): x is WeightSet {
  return !!x && typeof x === 'object' && 'info' in x && 'tensors' in x;
}

/**
 * The singing-voice CNN on the chosen engine. `weights`: a WeightSet, a weight directory or
 * { json, bin }.
 */
export async function createClassifier(weights: WeightSet | WeightSource, opts: EngineOptions = {}): Promise<EngineClassifier> {
  const choice = checkEnum(opts.engine ?? 'auto', 'engine', ENGINES);
  if (opts.threads !== undefined) checkInt(opts.threads, 'threads', 1, 256);
  if (opts.batchSize !== undefined) checkInt(opts.batchSize, 'batchSize', 1);
  if (opts.workers !== undefined) checkInt(opts.workers, 'workers', 1, 64);
  if ((opts.workers ?? 1) > 1 && (choice === 'ort' || choice === 'ort-web')) {
    throw new EarshotError('BAD_ARGUMENT', `workers = ${opts.workers} applies to the tfjs engine only; engine '${choice}' parallelises with threads (intra-op), and both together would oversubscribe the cores`);
  }
  const w = isWeightSet(weights) ? weights : await loadWeights(weights);
  checkArchitecture(w.info.architecture);
  const info = opts.onInfo ?? (() => undefined);
  const order = choice === 'auto' ? AUTO_ORDER : [choice];
  const fallbacks: string[] = [];
  for (const engine of order) {
    try {
      const c = engine === 'tfjs' ? await tfjsEngine(w, opts, fallbacks) : await ortEngine(engine, w, opts, fallbacks);
      info(`engine: ${describe(c)}${fallbacks.length ? ` (auto fell back: ${fallbacks.join('; ')})` : ''}`);
      return c;
    } catch (e) {
      if (choice !== 'auto') throw e;
      const why = `${engine}: ${(e as Error).message}`;
      fallbacks.push(why);
      info(`engine ${engine} unavailable, trying the next one — ${(e as Error).message}`);
    }
  }
  throw new EarshotError('ENGINE_UNAVAILABLE', `no engine could be loaded: ${fallbacks.join('; ')}`);
}

function describe(c: EngineClassifier): string {
  if (c.engine === 'tfjs') return c.threads > 1 ? `tfjs (TF.js wasm, ${c.threads} worker threads)` : 'tfjs (TF.js wasm, 1 thread)';
  const v = (c as unknown as { version?: string }).version;
  return `${c.engine} (${c.engine === 'ort' ? 'onnxruntime-node' : 'onnxruntime-web wasm'} ${v ?? ''}, ${c.threads} thread${c.threads === 1 ? '' : 's'})`;
}

async function tfjsEngine(w: WeightSet, opts: EngineOptions, fallbacks: string[]): Promise<EngineClassifier> {
  if ((opts.workers ?? 1) > 1) return TfjsPool.create(w, opts.workers!, opts.batchSize ?? 32, fallbacks);
  await initBackend('wasm');
  const m = new SvdCnn(w);
  const bs = opts.batchSize;
  const predict = m.predict.bind(m);
  // The SvdCnn stays a full DifferentiableClassifier (apply, activations, gradients); only the
  // engine fields and the default batch size are added.
  return Object.assign(m, {
    engine: 'tfjs' as const,
    threads: 1,
    fallbacks,
    predict: (batch: Float32Array, n: number) => predict(batch, n, bs ? { batchSize: bs } : {}),
  }) as unknown as EngineClassifier;
}

/** The CNN on ONNX Runtime: strided form for predict, fully-convolutional form for predictFrames. */
class OrtSvdClassifier implements EngineClassifier {
  readonly id: string;
  readonly inputShape: number[];
  readonly labels: string[];
  readonly threshold: number;
  readonly threads: number;
  readonly version: string;
  private fileForm: Promise<OnnxClassifier> | null = null;

  constructor(
    readonly engine: OrtEngine,
    private readonly w: WeightSet,
    private readonly excerpt: OnnxClassifier,
    private readonly opts: EngineOptions,
    readonly fallbacks: string[],
  ) {
    this.id = excerpt.id;
    this.inputShape = excerpt.inputShape;
    this.labels = excerpt.labels;
    this.threshold = w.info.threshold;
    this.threads = excerpt.threads;
    this.version = excerpt.version;
  }

  predict(batch: Float32Array, n: number): Promise<Float32Array> {
    return this.excerpt.predict(batch, n);
  }

  /** Same contract as SvdCnn.predictFrames: normalised frames × bands, padded with the normalised ln(1e-7) unless `padded`. */
  async predictFrames(spec: Float32Array, frames: number, opts: { padded?: boolean; chunkFrames?: number } = {}): Promise<Float32Array> {
    const a = this.w.info.architecture;
    const { frames: T, bands: F } = a;
    checkInt(frames, 'frames', 1);
    const chunk = checkInt(opts.chunkFrames ?? 1024, 'chunkFrames', 1);
    if (!(spec instanceof Float32Array) || spec.length !== frames * F) {
      throw new EarshotError('BAD_SHAPE', `predictFrames: spec must be a Float32Array of frames × ${F} = ${frames * F} values, got ${spec instanceof Float32Array ? spec.length : typeof spec}`);
    }
    for (let i = 0; i < spec.length; i++) if (!Number.isFinite(spec[i]!)) throw new EarshotError('NOT_FINITE', `predictFrames: spec[${i}] is ${spec[i]}; inputs must be finite`);
    const pad = svdGeometry(a).pad;
    let padded: Float32Array;
    let L = frames;
    if (opts.padded) padded = spec.slice();
    else {
      L = frames + 2 * pad;
      padded = new Float32Array(L * F);
      const norm = this.w.info.normalization;
      const pv = new Float32Array(F);
      for (let b = 0; b < F; b++) pv[b] = norm ? (Math.log(1e-7) - norm.mean[b]!) / norm.std[b]! : Math.log(1e-7);
      for (let t = 0; t < pad; t++) {
        padded.set(pv, t * F);
        padded.set(pv, (L - 1 - t) * F);
      }
      padded.set(spec, pad * F);
    }
    const outFrames = L - T + 1;
    if (outFrames < 1) throw new EarshotError('BAD_SHAPE', `a padded spectrogram needs at least ${T} frames, got ${L}`);
    this.fileForm ??= OnnxClassifier.create(onnxBytesFor(this.w, 'file'), {
      engine: this.engine,
      threads: this.opts.threads,
      spinning: this.opts.spinning,
      importer: this.opts.importer,
      inputShape: [1, T, F],
      labels: ['voice'],
      id: `${this.id}#file`,
    });
    const fc = await this.fileForm;
    const out = new Float32Array(outFrames);
    for (let s = 0; s < outFrames; s += chunk) {
      const m = Math.min(chunk, outFrames - s);
      const rows = m + T - 1;
      const r = await fc.runRaw(padded.subarray(s * F, (s + rows) * F), [1, 1, rows, F]);
      out.set(r.data, s);
    }
    return out;
  }

  dispose(): void {
    this.excerpt.dispose();
    if (this.fileForm) void this.fileForm.then((c) => c.dispose()).catch(() => undefined);
  }
}

async function ortEngine(engine: OrtEngine, w: WeightSet, opts: EngineOptions, fallbacks: string[]): Promise<EngineClassifier> {
  const a = w.info.architecture;
  const excerpt = await OnnxClassifier.create(onnxBytesFor(w, 'excerpt'), {
    engine,
    threads: opts.threads ?? (await cpuCount()),
    spinning: opts.spinning,
    importer: opts.importer ?? defaultImporter,
    batchSize: opts.batchSize ?? 64,
    inputShape: [a.frames, a.bands],
    labels: w.info.labels,
    id: w.info.id ?? 'svd-cnn-ismir2015',
  });
  return new OrtSvdClassifier(engine, w, excerpt, opts, fallbacks);
}

// ------------------------------------------------------------------ TF.js worker pool (Node)

type PoolJob = { op: 'predict'; data: Float32Array; n: number } | { op: 'frames'; data: Float32Array; frames: number; padded: boolean; chunkFrames: number };

// The worker side: one SvdCnn on its own TF.js wasm backend per worker thread.
type PoolState = { model: SvdCnn; batchSize: number };
registerTask<PoolJob, Float32Array, PoolState, { weights: WeightSet; batchSize: number }>('tfjs-engine', {
  async init(d: { weights: WeightSet; batchSize: number }) {
    await initBackend('wasm');
    return { model: new SvdCnn(d.weights), batchSize: d.batchSize };
  },
  run(job, s) {
    return job.op === 'predict' ? s.model.predict(job.data, job.n, { batchSize: s.batchSize }) : s.model.predictFrames(job.data, job.frames, { padded: job.padded, chunkFrames: job.chunkFrames });
  },
  dispose(s) {
    s.model.dispose();
  },
});

/**
 * `workers` TF.js wasm backends in worker_threads (tfjs-backend-wasm has no threads in Node),
 * on src/parallel/pool.ts. predict splits the batch into one contiguous part per worker and
 * concatenates the answers.
 */
class TfjsPool implements EngineClassifier {
  readonly engine = 'tfjs' as const;
  readonly id: string;
  readonly inputShape: number[];
  readonly labels: string[];
  readonly threshold: number;
  private disposed = false;

  private constructor(
    private readonly pool: WorkerPool<PoolJob, Float32Array>,
    w: WeightSet,
    readonly fallbacks: string[],
  ) {
    this.id = w.info.id ?? 'svd-cnn-ismir2015';
    this.inputShape = [w.info.architecture.frames, w.info.architecture.bands];
    this.labels = w.info.labels.slice();
    this.threshold = w.info.threshold;
  }

  get threads(): number {
    return this.pool.size;
  }

  static async create(w: WeightSet, count: number, batchSize: number, fallbacks: string[]): Promise<TfjsPool> {
    if (!workersSupported(import.meta.url)) {
      throw new EarshotError('ENGINE_UNAVAILABLE', `the TF.js worker pool needs Node and a module file to start its workers from, got ${import.meta.url.slice(0, 80)}; use workers: 1 or an ORT engine`);
    }
    const pool = await WorkerPool.create<PoolJob, Float32Array, { weights: WeightSet; batchSize: number }>({
      taskModule: import.meta.url,
      task: 'tfjs-engine',
      workers: count,
      initData: { weights: w, batchSize },
      startCode: 'ENGINE_UNAVAILABLE',
    });
    return new TfjsPool(pool, w, fallbacks);
  }

  private call(job: PoolJob): Promise<Float32Array> {
    return this.pool.run(job, [job.data.buffer as ArrayBuffer]).catch((e: Error & { code?: string }) => {
      throw new EarshotError(e.code ?? 'ENGINE_ERROR', `TF.js worker pool: ${e.message}`);
    });
  }

  async predict(batch: Float32Array, n: number): Promise<Float32Array> {
    if (this.disposed) throw new EarshotError('DISPOSED', `classifier '${this.id}' was disposed`);
    checkPredictInput(this, batch, n);
    const size = this.inputShape[0]! * this.inputShape[1]!;
    const parts = Math.min(this.pool.size, n);
    const per = Math.ceil(n / parts);
    const jobs: Promise<Float32Array>[] = [];
    // Copies are made before the first await (the batch may be a view into a wasm arena).
    for (let p = 0; p < parts; p++) {
      const s = p * per;
      const m = Math.min(per, n - s);
      if (m <= 0) break;
      jobs.push(this.call({ op: 'predict', data: batch.slice(s * size, (s + m) * size), n: m }));
    }
    const outs = await Promise.all(jobs);
    const out = new Float32Array(n);
    let at = 0;
    for (const o of outs) {
      out.set(o, at);
      at += o.length;
    }
    return out;
  }

  predictFrames(spec: Float32Array, frames: number, opts: { padded?: boolean; chunkFrames?: number } = {}): Promise<Float32Array> {
    if (this.disposed) return Promise.reject(new EarshotError('DISPOSED', `classifier '${this.id}' was disposed`));
    if (!(spec instanceof Float32Array)) return Promise.reject(new EarshotError('BAD_ARGUMENT', 'predictFrames: spec must be a Float32Array'));
    return this.call({ op: 'frames', data: spec.slice(), frames, padded: opts.padded ?? false, chunkFrames: opts.chunkFrames ?? 1024 });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.pool.dispose();
  }
}
