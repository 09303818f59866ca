/**
 * ONNX Runtime behind earshot's `Classifier` interface (docs/engines.md): onnxruntime-node
 * (native CPU, intra-op threads) and onnxruntime-web (its wasm backend, threads where the runtime
 * allows; they work in Node). Both packages are imported lazily through an injectable importer,
 * so a missing optional package becomes a clear ENGINE_UNAVAILABLE error (and lets `auto`
 * fall back to TF.js), and tests can simulate its absence.
 *
 * `OnnxClassifier` wraps one InferenceSession: the per-example input shape comes from the
 * model's graph input (first dimension = batch, dynamic or fixed), labels are given, read from
 * earshot's metadata, or defaulted; the output is taken as probabilities, or as logits turned
 * into probabilities (sigmoid for one column, softmax for several).
 */
import { EarshotError, check, checkEnum, checkInt } from '../../../bindings/errors.ts';
import { checkPredictInput, exampleSize, type Classifier } from '../classifier.ts';
import { readMetadata } from './proto.ts';

export type OrtEngine = 'ort' | 'ort-web';

/** The npm package behind each ORT engine. */
export const ORT_PACKAGES: Record<OrtEngine, string> = { ort: 'onnxruntime-node', 'ort-web': 'onnxruntime-web' };

/** How a package is imported (injectable: tests make it fail to simulate a missing package). */
export type ModuleImporter = (specifier: string) => Promise<unknown>;
export const defaultImporter: ModuleImporter = (s) => import(s);

/** The part of the onnxruntime-common API earshot uses (both packages expose it). */
interface OrtTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: ReadonlyArray<{ name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> }>;
  readonly outputMetadata?: ReadonlyArray<{ name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> }>;
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface OrtModule {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  env: { versions?: Record<string, string>; wasm?: { numThreads?: number; simd?: boolean } ; logLevel?: string };
}

const INSTALL_HINT: Record<OrtEngine, string> = {
  ort:
    "install it with `npm install onnxruntime-node` (offline: keep `onnxruntime-node-install=skip` in .npmrc so its postinstall does not try to download GPU providers; the CPU binaries ship in the package), or use --engine tfjs",
  'ort-web': 'install it with `npm install onnxruntime-web`, or use --engine tfjs',
};

const modules = new Map<string, Promise<OrtModule>>();

/** Import an engine's package once (per importer); ENGINE_UNAVAILABLE names the package. */
export async function loadOrt(engine: OrtEngine, importer: ModuleImporter = defaultImporter): Promise<OrtModule> {
  const pkg = ORT_PACKAGES[engine];
  const cacheable = importer === defaultImporter;
  const hit = cacheable ? modules.get(pkg) : undefined;
  if (hit) return hit;
  const p = (async () => {
    let mod: unknown;
    try {
      mod = await importer(pkg);
    } catch (e) {
      throw new EarshotError('ENGINE_UNAVAILABLE', `engine '${engine}' needs the npm package ${pkg}, which could not be loaded (${(e as Error).message?.split('\n')[0]}); ${INSTALL_HINT[engine]}`);
    }
    const m = ((mod as { default?: unknown }).default && !(mod as { InferenceSession?: unknown }).InferenceSession ? (mod as { default: unknown }).default : mod) as OrtModule;
    if (!m || typeof m.InferenceSession?.create !== 'function' || typeof m.Tensor !== 'function') {
      throw new EarshotError('ENGINE_UNAVAILABLE', `engine '${engine}': ${pkg} loaded but does not look like ONNX Runtime (no InferenceSession/Tensor); ${INSTALL_HINT[engine]}`);
    }
    return m;
  })();
  if (cacheable) {
    modules.set(pkg, p);
    p.catch(() => modules.delete(pkg));
  }
  return p;
}

/** Logical cores (Node: os.cpus(); browsers: navigator.hardwareConcurrency). */
export async function cpuCount(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  try {
    const os = await import('node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  } catch {
    return 1;
  }
}

export interface SessionOptions {
  /** Intra-op threads (ort) / wasm threads (ort-web). Default: the number of cores. */
  threads?: number;
  /**
   * onnxruntime-node: let idle intra-op threads busy-wait for work (default false). Spinning
   * shaves microseconds on idle cores but, on a machine shared with other jobs, burns the time
   * slices the other thread needs: measured here (load ≈ 5 on 2 cores), batch 1 on 2 threads took
   * 20–23 ms per excerpt spinning and 7–11 ms not spinning.
   */
  spinning?: boolean;
  importer?: ModuleImporter;
}

/** Threads onnxruntime-web was initialised with (its env is global and fixed at the first session). */
let webThreads: number | null = null;

/** An InferenceSession on the chosen engine. ONNX_CORRUPT when ORT rejects the bytes. */
export async function createSession(engine: OrtEngine, model: Uint8Array, opts: SessionOptions = {}): Promise<{ session: OrtSession; ort: OrtModule; threads: number; version: string }> {
  checkEnum(engine, 'engine', ['ort', 'ort-web'] as const);
  const threads = opts.threads === undefined ? await cpuCount() : checkInt(opts.threads, 'threads', 1, 256);
  const ort = await loadOrt(engine, opts.importer);
  let options: Record<string, unknown>;
  let used = threads;
  if (engine === 'ort') {
    // One run at a time with all cores inside it: inter-op parallelism would oversubscribe.
    options = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: opts.spinning ? '1' : '0' } } },
    };
  } else {
    if (ort.env.wasm) {
      if (webThreads === null) {
        ort.env.wasm.numThreads = threads;
        webThreads = threads;
      }
      used = webThreads;
    }
    options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  }
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw new EarshotError('ONNX_CORRUPT', `${ORT_PACKAGES[engine]} could not load the ONNX model: ${(e as Error).message?.split('\n')[0]}`);
  }
  const version = ort.env.versions?.[engine === 'ort' ? 'node' : 'web'] ?? ort.env.versions?.common ?? '?';
  return { session, ort, threads: used, version };
}

export type OutputKind = 'probs' | 'logits';

export interface OnnxClassifierOptions extends SessionOptions {
  engine?: OrtEngine;
  /** Shape of ONE example; default: the model input's dimensions after the batch dimension. */
  inputShape?: number[];
  /** One per output column; default: the model's earshot metadata, else 'class0', 'class1', … ('output' for one column). */
  labels?: string[];
  /** What the model outputs (default 'probs'; 'logits' → sigmoid / softmax). */
  output?: OutputKind;
  /** Examples per run (default 64; a fixed batch dimension in the model overrides it). */
  batchSize?: number;
  /** Identifier recorded in explanations (default 'onnx:<file name>'). */
  id?: string;
}

/**
 * A `Classifier` over one ONNX Runtime session. Construct with `OnnxClassifier.create`.
 * predict copies the caller's batch once before the first run (the runs are asynchronous, and
 * the batch may be a view into a wasm arena that later allocations move).
 */
export class OnnxClassifier implements Classifier {
  readonly engine: OrtEngine;
  readonly threads: number;
  readonly version: string;
  readonly metadata: Record<string, string>;
  private disposed = false;

  private constructor(
    readonly id: string,
    readonly inputShape: number[],
    readonly labels: string[],
    private readonly session: OrtSession,
    private readonly ort: OrtModule,
    private readonly inputName: string,
    private readonly outputName: string,
    /** Model dimensions of one example (e.g. [1, 115, 80]) and a fixed batch size, if any. */
    private readonly modelDims: number[],
    private readonly fixedBatch: number | null,
    readonly output: OutputKind,
    readonly batchSize: number,
    info: { engine: OrtEngine; threads: number; version: string; metadata: Record<string, string> },
  ) {
    this.engine = info.engine;
    this.threads = info.threads;
    this.version = info.version;
    this.metadata = info.metadata;
  }

  static async create(model: Uint8Array, opts: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
    const engine = checkEnum(opts.engine ?? 'ort', 'engine', ['ort', 'ort-web'] as const);
    const output = checkEnum(opts.output ?? 'probs', 'output', ['probs', 'logits'] as const);
    const batchSize = checkInt(opts.batchSize ?? 64, 'batchSize', 1);
    const metadata = readMetadata(model);
    const { session, ort, threads, version } = await createSession(engine, model, opts);
    const id = opts.id ?? metadata['earshot.id'] ?? 'onnx-model';
    try {
      check(session.inputNames.length === 1, `ONNX model '${id}' has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); a Classifier needs exactly one`, 'ONNX_SHAPE');
      const inputName = session.inputNames[0]!;
      const outputName = session.outputNames[0]!;
      const meta = session.inputMetadata?.find((m) => m.name === inputName);
      const shape = meta && meta.isTensor ? meta.shape : undefined;
      if (meta && meta.isTensor && meta.type && meta.type !== 'float32') throw new EarshotError('ONNX_SHAPE', `ONNX model '${id}': input '${inputName}' is ${meta.type}; earshot feeds float32`);
      check(shape !== undefined && shape.length >= 2, `ONNX model '${id}': input '${inputName}' has no usable shape (${JSON.stringify(shape)}); it needs a batch dimension and at least one example dimension`, 'ONNX_SHAPE');
      const fixedBatch = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : null;
      const rest = shape.slice(1);
      let modelDims: number[];
      let inputShape: number[];
      if (opts.inputShape !== undefined) {
        check(Array.isArray(opts.inputShape) && opts.inputShape.length > 0, 'inputShape must be a non-empty array of positive integers');
        opts.inputShape.forEach((d, i) => checkInt(d, `inputShape[${i}]`, 1));
        inputShape = opts.inputShape.slice();
        // Accept any layout with the same non-singleton sizes ([115, 80] for [1, 115, 80]); a
        // symbolic model dimension takes the given size when the ranks line up.
        const squeeze = (a: readonly (number | string)[]) => a.filter((d) => d !== 1);
        const sym = rest.some((d) => typeof d !== 'number' || d < 1);
        if (sym) {
          check(rest.length === inputShape.length, `ONNX model '${id}': input '${inputName}' has example dimensions [${rest.join(', ')}], inputShape [${inputShape.join(', ')}] has a different rank`, 'ONNX_SHAPE');
          rest.forEach((d, i) => {
            if (typeof d === 'number' && d > 0 && d !== inputShape[i]) throw new EarshotError('ONNX_SHAPE', `ONNX model '${id}': input dimension ${i + 1} is ${d}, inputShape says ${inputShape[i]} ([${rest.join(', ')}] vs [${inputShape.join(', ')}])`);
          });
          modelDims = inputShape.slice();
        } else {
          const a = squeeze(rest);
          const b = squeeze(inputShape);
          const same = a.length === b.length && a.every((d, i) => d === b[i]);
          check(same, `ONNX model '${id}': input '${inputName}' takes examples of [${rest.join(', ')}], which does not match inputShape [${inputShape.join(', ')}]`, 'ONNX_SHAPE');
          modelDims = rest as number[];
        }
      } else {
        const sym = rest.findIndex((d) => typeof d !== 'number' || d < 1);
        check(sym < 0, `ONNX model '${id}': input '${inputName}' has a symbolic example dimension (${JSON.stringify(rest[sym])} in [${rest.join(', ')}]); pass inputShape`, 'ONNX_SHAPE');
        modelDims = rest as number[];
        inputShape = modelDims.slice();
      }
      // One probe run (zeros) checks that the model accepts the shape and gives the output width.
      const probeN = fixedBatch ?? 1;
      let probe: Record<string, OrtTensor>;
      try {
        probe = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(probeN * exampleSize(modelDims)), [probeN, ...modelDims]) });
      } catch (e) {
        throw new EarshotError('ONNX_SHAPE', `ONNX model '${id}' does not run on input [${[probeN, ...modelDims].join(', ')}]: ${(e as Error).message?.split('\n')[0]}`);
      }
      const out = probe[outputName]!;
      check(out.data instanceof Float32Array, `ONNX model '${id}': output '${outputName}' must be float32`, 'ONNX_SHAPE');
      const k = (out.data as Float32Array).length / probeN;
      check(Number.isInteger(k) && k >= 1, `ONNX model '${id}': output '${outputName}' of shape [${out.dims.join(', ')}] is not one row per example`, 'ONNX_SHAPE');
      let labels: string[];
      if (opts.labels !== undefined) {
        check(Array.isArray(opts.labels) && opts.labels.every((l) => typeof l === 'string'), 'labels must be an array of strings');
        labels = opts.labels.slice();
      } else {
        let fromMeta: unknown;
        try {
          fromMeta = metadata['earshot.labels'] ? JSON.parse(metadata['earshot.labels']) : undefined;
        } catch {
          fromMeta = undefined;
        }
        labels = Array.isArray(fromMeta) && fromMeta.length === k ? (fromMeta as string[]) : k === 1 ? ['output'] : Array.from({ length: k }, (_, i) => `class${i}`);
      }
      check(labels.length === k, `ONNX model '${id}' outputs ${k} values per example, labels has ${labels.length} (${JSON.stringify(labels)})`, 'ONNX_SHAPE');
      const metaOutput = metadata['earshot.output'];
      const kind = opts.output ?? (metaOutput === 'logits' ? 'logits' : output);
      return new OnnxClassifier(id, inputShape, labels, session, ort, inputName, outputName, modelDims, fixedBatch, kind, fixedBatch ?? batchSize, { engine, threads, version, metadata });
    } catch (e) {
      await session.release().catch(() => undefined);
      throw e;
    }
  }

  async predict(batch: Float32Array, n: number): Promise<Float32Array> {
    if (this.disposed) throw new EarshotError('DISPOSED', `classifier '${this.id}' was disposed`);
    checkPredictInput(this, batch, n);
    const size = exampleSize(this.inputShape);
    const k = this.labels.length;
    const bs = this.batchSize;
    const own = batch.slice();
    const out = new Float32Array(n * k);
    for (let s = 0; s < n; s += bs) {
      const m = Math.min(bs, n - s);
      const rows = this.fixedBatch ?? m;
      let x = own.subarray(s * size, (s + m) * size);
      if (rows !== m) {
        const padded = new Float32Array(rows * size);
        padded.set(x);
        x = padded;
      }
      const res = await this.session.run({ [this.inputName]: new this.ort.Tensor('float32', x, [rows, ...this.modelDims]) });
      const y = res[this.outputName]!;
      const data = y.data as Float32Array;
      if (data.length !== rows * k) throw new EarshotError('MODEL_OUTPUT', `ONNX model '${this.id}' returned ${data.length} values for ${rows} examples, expected ${rows * k}`);
      out.set(data.subarray(0, m * k), s * k);
      for (const t of Object.values(res)) t.dispose?.();
    }
    toProbabilities(out, n, k, this.output, this.id);
    return out;
  }

  /** Run the session on a raw input (any shape the model takes) → the first output's data and dims. */
  async runRaw(x: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: number[] }> {
    if (this.disposed) throw new EarshotError('DISPOSED', `classifier '${this.id}' was disposed`);
    const res = await this.session.run({ [this.inputName]: new this.ort.Tensor('float32', x, dims) });
    const y = res[this.outputName]!;
    const out = { data: Float32Array.from(y.data as Float32Array), dims: y.dims.slice() };
    for (const t of Object.values(res)) t.dispose?.();
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.session.release().catch(() => undefined);
  }
}

/** In place: logits → probabilities (sigmoid for one column, softmax per row); checks range and NaN. */
export function toProbabilities(v: Float32Array, n: number, k: number, kind: OutputKind, id: string): void {
  if (kind === 'logits') {
    if (k === 1) {
      for (let i = 0; i < v.length; i++) v[i] = 1 / (1 + Math.exp(-v[i]!));
    } else {
      for (let r = 0; r < n; r++) {
        let mx = -Infinity;
        for (let j = 0; j < k; j++) mx = Math.max(mx, v[r * k + j]!);
        let sum = 0;
        for (let j = 0; j < k; j++) sum += (v[r * k + j] = Math.exp(v[r * k + j]! - mx));
        for (let j = 0; j < k; j++) v[r * k + j]! /= sum;
      }
    }
  }
  for (let i = 0; i < v.length; i++) {
    const p = v[i]!;
    if (!(p >= 0 && p <= 1)) {
      throw new EarshotError(
        'MODEL_OUTPUT',
        `ONNX model '${id}' gave ${p} at [${Math.floor(i / k)}, ${i % k}]; probabilities must lie in [0, 1]${kind === 'probs' ? " (if the model outputs logits, pass output: 'logits' / --output logits)" : ''}`,
      );
    }
  }
}

/**
 * Any ONNX model file (or its bytes) as a Classifier. Errors: MODEL_MISSING (no such file),
 * ONNX_CORRUPT (not protobuf / ORT rejects it, e.g. truncated), ONNX_SHAPE (input shape or labels
 * do not fit), ENGINE_UNAVAILABLE (the engine's package is not installed).
 */
export async function loadOnnxClassifier(source: string | Uint8Array, opts: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
  let bytes: Uint8Array;
  let id = opts.id;
  if (typeof source === 'string') {
    const fs = await import('node:fs/promises');
    try {
      const b = await fs.readFile(source);
      bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new EarshotError('MODEL_MISSING', `ONNX model ${source}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a .onnx file' : (e as Error).message}`);
    }
    id ??= `onnx:${source.split(/[\\/]/).pop()}`;
  } else {
    check(source instanceof Uint8Array, 'loadOnnxClassifier: source must be a file path or a Uint8Array of ONNX bytes');
    bytes = source;
  }
  check(bytes.length > 0, `ONNX model ${typeof source === 'string' ? source : '(bytes)'} is empty`, 'ONNX_CORRUPT');
  return OnnxClassifier.create(bytes, { ...opts, ...(id ? { id } : {}) });
}
