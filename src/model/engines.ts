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
import type { Classifier } from './classifier.ts';
import { initBackend } from './backend.ts';
import { SvdCnn, checkArchitecture, svdGeometry } from './svdcnn.ts';
import { loadWeights, type WeightSet, type WeightSource } from './weights.ts';
import { exportSvdOnnx, type OnnxForm } from './onnx/export.ts';
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
  /** Examples per forward pass (default 32 for tfjs, 64 for ORT). */
  batchSize?: number;
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
  if (c.engine === 'tfjs') return 'tfjs (TF.js wasm, 1 thread)';
  const v = (c as unknown as { version?: string }).version;
  return `${c.engine} (${c.engine === 'ort' ? 'onnxruntime-node' : 'onnxruntime-web wasm'} ${v ?? ''}, ${c.threads} thread${c.threads === 1 ? '' : 's'})`;
}

async function tfjsEngine(w: WeightSet, opts: EngineOptions, fallbacks: string[]): Promise<EngineClassifier> {
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
    importer: opts.importer ?? defaultImporter,
    batchSize: opts.batchSize ?? 64,
    inputShape: [a.frames, a.bands],
    labels: w.info.labels,
    id: w.info.id ?? 'svd-cnn-ismir2015',
  });
  return new OrtSvdClassifier(engine, w, excerpt, opts, fallbacks);
}
