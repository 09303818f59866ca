/**
 * earshot's weight-file format (docs/model.md): a `model.json` manifest — format name and
 * version, architecture and hyper-parameters, the front end that makes the model's input, the
 * per-band normalisation statistics, labels, decision threshold, training metadata and an index
 * of tensors {name, shape, dtype, byteOffset} — plus ONE little-endian `weights.bin`
 * (TF.js-manifest style, but a single file and a CRC-32 over it).
 *
 * Loading checks everything before a model sees it and names the culprit: a missing tensor
 * (WEIGHTS_MISSING), a wrong shape (WEIGHTS_SHAPE), a truncated or damaged binary, bad JSON,
 * non-finite values, unknown tensors (WEIGHTS_CORRUPT), another format version (WEIGHTS_VERSION).
 * Parsing and serialising work on bytes (browser-safe); `loadWeights(dir)`/`saveWeights(dir)`
 * touch the file system through a lazily imported node:fs, with atomic writes (temp + rename).
 */
import { EarshotError, check } from '../../bindings/errors.ts';
import { SVD_FRONTEND, validateFrontEndConfig, type BandStats, type FrontEndConfig } from '../frontend/index.ts';
import { crc32 } from '../util/crc32.ts';
import { SVD_ARCHITECTURE, SVD_ARCHITECTURE_NAME, checkArchitecture, svdTensorSpecs, type SvdArchitecture, type TensorSpec } from './svdcnn.ts';

export const WEIGHTS_FORMAT = 'earshot-model';
export const WEIGHTS_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** The front end recorded in fresh weight files (methods.md §1; src/frontend SVD_FRONTEND). */
export const SVD_FRONTEND_DESCRIPTION: FrontEndConfig = { ...SVD_FRONTEND };

export type WeightDtype = 'float32' | 'float16';

export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** Per-band statistics of the model input: x_norm = (x − mean) / std. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** Everything in model.json except the tensor index. */
export interface ModelInfo {
  /** Identifier recorded in explanations (e.g. 'svd-cnn-ismir2015/earshot-2026-11'). */
  id?: string;
  architecture: SvdArchitecture;
  /** How the model's input is made from audio (src/frontend FrontEndConfig). */
  frontend: FrontEndConfig;
  normalization: Normalization | null;
  labels: string[];
  threshold: number;
  training: Record<string, unknown>;
}

export interface WeightSet {
  info: ModelInfo;
  tensors: Record<string, TensorData>;
}

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  byteOffset: number;
}

export interface Manifest extends ModelInfo {
  format: typeof WEIGHTS_FORMAT;
  formatVersion: number;
  weights: { file: string; byteLength: number; crc32: string; tensors: TensorEntry[] };
}

// ------------------------------------------------------------------ helpers

/** CRC-32 (IEEE, as zlib) of the bytes, as 8 hex digits (src/util/crc32.ts). */
export { crc32 };

/** IEEE half → float (exact). */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float → IEEE half, round to nearest even (values beyond the half range become ±Infinity). */
function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let hm = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && hm & 1)) hm++;
    return sign | hm;
  }
  let hm = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && hm & 1)) {
    hm++;
    if (hm === 0x400) {
      hm = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | hm;
}

const BYTES: Record<WeightDtype, number> = { float32: 4, float16: 2 };
const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** The tensor list an architecture needs. */
export function tensorSpecsFor(arch: SvdArchitecture): TensorSpec[] {
  return svdTensorSpecs(arch);
}

// ------------------------------------------------------------------ validation of the manifest

function corrupt(msg: string): never {
  throw new EarshotError('WEIGHTS_CORRUPT', msg);
}

/**
 * Files written before the front end had its own config type (earshot's first days) describe the
 * SVD front end as { name: 'svd-ismir2015', frameLength, hopLength, mel: {…}, … }: the same recipe
 * as SVD_FRONTEND, so they are read as that. Anything else passes through to validation.
 */
function legacyFrontEnd(v: unknown): unknown {
  const o = v as { name?: unknown; frameLength?: unknown; hopLength?: unknown; mel?: { bands?: unknown; fmin?: unknown; fmax?: unknown } } | null;
  if (o && o.name === 'svd-ismir2015' && o.frameLength === 1024 && o.hopLength === 315 && o.mel?.bands === 80 && o.mel.fmin === 27.5 && o.mel.fmax === 8000) {
    return { ...SVD_FRONTEND };
  }
  return v;
}

function checkInfo(m: Record<string, unknown>): ModelInfo {
  if (m.format !== WEIGHTS_FORMAT) corrupt(`model.json: format must be '${WEIGHTS_FORMAT}', got ${JSON.stringify(m.format)}`);
  if (m.formatVersion !== WEIGHTS_FORMAT_VERSION) {
    throw new EarshotError('WEIGHTS_VERSION', `model.json: formatVersion ${JSON.stringify(m.formatVersion)} is not supported (this earshot reads version ${WEIGHTS_FORMAT_VERSION})`);
  }
  const arch = m.architecture as { name?: unknown } | undefined;
  if (!arch || arch.name !== SVD_ARCHITECTURE_NAME) corrupt(`model.json: unknown architecture ${JSON.stringify(arch?.name)} (known: '${SVD_ARCHITECTURE_NAME}')`);
  const architecture = checkArchitecture(arch);
  const labels = m.labels;
  check(Array.isArray(labels) && labels.length > 0 && labels.every((l) => typeof l === 'string'), 'model.json: labels must be a non-empty array of strings', 'WEIGHTS_CORRUPT');
  const threshold = m.threshold ?? 0.51;
  check(typeof threshold === 'number' && threshold >= 0 && threshold <= 1, `model.json: threshold must be a number in [0, 1], got ${JSON.stringify(threshold)}`, 'WEIGHTS_CORRUPT');
  let normalization: Normalization | null = null;
  if (m.normalization != null) {
    const n = m.normalization as Partial<Normalization>;
    for (const key of ['mean', 'std'] as const) {
      const arr = n[key];
      if (!Array.isArray(arr) || arr.length !== architecture.bands) {
        throw new EarshotError('WEIGHTS_SHAPE', `model.json: normalization.${key} must have ${architecture.bands} values (one per band), got ${Array.isArray(arr) ? arr.length : typeof arr}`);
      }
      arr.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || (key === 'std' && !(v > 0))) corrupt(`model.json: normalization.${key}[${i}] = ${JSON.stringify(v)} is not a ${key === 'std' ? 'positive ' : ''}finite number`);
      });
    }
    normalization = { mean: n.mean!.slice(), std: n.std!.slice() };
  }
  let frontend: FrontEndConfig;
  try {
    frontend = validateFrontEndConfig(legacyFrontEnd(m.frontend));
  } catch (e) {
    corrupt(`model.json: frontend: ${(e as Error).message}`);
  }
  if (frontend.nMels !== architecture.bands || frontend.excerptFrames !== architecture.frames) {
    corrupt(
      `model.json: the front end makes ${frontend.excerptFrames}×${frontend.nMels} excerpts, the architecture takes ${architecture.frames}×${architecture.bands}`,
    );
  }
  const training = (m.training ?? {}) as Record<string, unknown>;
  check(typeof training === 'object' && !Array.isArray(training), 'model.json: training must be an object', 'WEIGHTS_CORRUPT');
  const id = m.id;
  check(id === undefined || typeof id === 'string', 'model.json: id must be a string', 'WEIGHTS_CORRUPT');
  return { id: id as string | undefined, architecture, frontend, normalization, labels: labels as string[], threshold, training };
}

/**
 * Parse a manifest (text or object) and its binary into a validated WeightSet: every tensor the
 * architecture needs present with the right shape, none unknown, sizes inside the binary, CRC,
 * values finite.
 */
export function parseWeights(json: string | object, bin: ArrayBuffer | Uint8Array): WeightSet {
  let m: Record<string, unknown>;
  if (typeof json === 'string') {
    try {
      m = JSON.parse(json);
    } catch (e) {
      corrupt(`model.json is not valid JSON: ${(e as Error).message}`);
    }
  } else m = json as Record<string, unknown>;
  if (!m || typeof m !== 'object' || Array.isArray(m)) corrupt('model.json must hold a JSON object');
  const info = checkInfo(m);
  const bytes = bin instanceof Uint8Array ? bin : new Uint8Array(bin);
  const w = m.weights as Manifest['weights'] | undefined;
  if (!w || typeof w !== 'object' || !Array.isArray(w.tensors)) corrupt('model.json: weights.tensors (the tensor index) is missing');
  if (typeof w.byteLength === 'number' && w.byteLength !== bytes.length) {
    corrupt(`weights.bin has ${bytes.length} bytes, model.json says ${w.byteLength} (truncated or the wrong file)`);
  }
  if (typeof w.crc32 === 'string') {
    const c = crc32(bytes);
    if (c !== w.crc32.toLowerCase()) corrupt(`weights.bin fails its checksum (CRC-32 ${c}, model.json says ${w.crc32}): the file is damaged or belongs to another model.json`);
  }
  const specs = tensorSpecsFor(info.architecture);
  const byName = new Map<string, TensorEntry>();
  for (const e of w.tensors) {
    if (!e || typeof e.name !== 'string') corrupt('model.json: a tensor entry has no name');
    if (byName.has(e.name)) corrupt(`model.json: tensor '${e.name}' is listed twice`);
    byName.set(e.name, e);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of byName.keys()) if (!known.has(name)) corrupt(`model.json: tensor '${name}' is not part of architecture '${info.architecture.name}'`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, TensorData> = {};
  for (const s of specs) {
    const e = byName.get(s.name);
    if (!e) throw new EarshotError('WEIGHTS_MISSING', `weights: tensor '${s.name}' (shape [${s.shape.join(', ')}]) is missing from model.json`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) corrupt(`model.json: tensor '${s.name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    if (e.shape.length !== s.shape.length || e.shape.some((d, i) => d !== s.shape[i])) {
      throw new EarshotError('WEIGHTS_SHAPE', `weights: tensor '${s.name}' has shape [${e.shape.join(', ')}], architecture '${info.architecture.name}' needs [${s.shape.join(', ')}]`);
    }
    if (e.dtype !== 'float32' && e.dtype !== 'float16') corrupt(`model.json: tensor '${s.name}' has dtype ${JSON.stringify(e.dtype)} (float32 or float16 expected)`);
    const n = sizeOf(s.shape);
    const nb = n * BYTES[e.dtype];
    if (!Number.isInteger(e.byteOffset) || e.byteOffset < 0) corrupt(`model.json: tensor '${s.name}' has an invalid byteOffset ${JSON.stringify(e.byteOffset)}`);
    if (e.byteOffset + nb > bytes.length) corrupt(`weights.bin ends at byte ${bytes.length}, tensor '${s.name}' needs bytes [${e.byteOffset}, ${e.byteOffset + nb}) (truncated file)`);
    const data = new Float32Array(n);
    if (e.dtype === 'float32') for (let i = 0; i < n; i++) data[i] = dv.getFloat32(e.byteOffset + 4 * i, true);
    else for (let i = 0; i < n; i++) data[i] = halfToFloat(dv.getUint16(e.byteOffset + 2 * i, true));
    for (let i = 0; i < n; i++) if (!Number.isFinite(data[i]!)) corrupt(`weights: tensor '${s.name}' holds a non-finite value (${data[i]}) at index ${i}`);
    if (s.name.endsWith('.bn.variance')) for (let i = 0; i < n; i++) if (data[i]! < 0) corrupt(`weights: tensor '${s.name}' holds a negative variance at index ${i}`);
    tensors[s.name] = { shape: s.shape.slice(), data };
  }
  return { info, tensors };
}

export interface SerializeOptions {
  /** Storage type of every tensor (default float32; float16 halves the file, values rounded). */
  dtype?: WeightDtype;
}

/** A WeightSet → { json (model.json text), bin (weights.bin bytes) }. Validates first. */
export function serializeWeights(w: WeightSet, opts: SerializeOptions = {}): { json: string; bin: Uint8Array } {
  const dtype = opts.dtype ?? 'float32';
  check(dtype === 'float32' || dtype === 'float16', `dtype must be 'float32' or 'float16', got ${JSON.stringify(dtype)}`);
  const arch = checkArchitecture(w.info.architecture);
  const specs = tensorSpecsFor(arch);
  let offset = 0;
  const entries: TensorEntry[] = [];
  for (const s of specs) {
    const t = w.tensors[s.name];
    if (!t) throw new EarshotError('WEIGHTS_MISSING', `weights: tensor '${s.name}' is missing`);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i]) || t.data.length !== sizeOf(s.shape)) {
      throw new EarshotError('WEIGHTS_SHAPE', `weights: tensor '${s.name}' has shape [${t.shape.join(', ')}] (${t.data.length} values), needs [${s.shape.join(', ')}]`);
    }
    entries.push({ name: s.name, shape: s.shape.slice(), dtype, byteOffset: offset });
    offset += Math.ceil((sizeOf(s.shape) * BYTES[dtype]) / 4) * 4; // keep every tensor 4-byte aligned
  }
  const bin = new Uint8Array(offset);
  const dv = new DataView(bin.buffer);
  entries.forEach((e) => {
    const d = w.tensors[e.name]!.data;
    if (dtype === 'float32') for (let i = 0; i < d.length; i++) dv.setFloat32(e.byteOffset + 4 * i, d[i]!, true);
    else for (let i = 0; i < d.length; i++) dv.setUint16(e.byteOffset + 2 * i, floatToHalf(d[i]!), true);
  });
  const manifest: Manifest = {
    format: WEIGHTS_FORMAT,
    formatVersion: WEIGHTS_FORMAT_VERSION,
    ...(w.info.id !== undefined ? { id: w.info.id } : {}),
    architecture: arch,
    frontend: w.info.frontend,
    normalization: w.info.normalization,
    labels: w.info.labels,
    threshold: w.info.threshold,
    training: w.info.training,
    weights: { file: WEIGHTS_FILE, byteLength: bin.length, crc32: crc32(bin), tensors: entries },
  };
  return { json: JSON.stringify(manifest, null, 1) + '\n', bin };
}

/** Where weights come from: a directory with model.json + weights.bin (Node), or the two in memory. */
export type WeightSource = string | { json: string | object; bin: ArrayBuffer | Uint8Array };

/**
 * A model's identity: CRC-32 over its float32 tensors in file order (what `weights.bin` holds
 * when saved as float32). L-MAC decoders name the classifier they explain by it, and a fine-tuned
 * model records the one it started from.
 */
export function weightsFingerprint(w: WeightSet): string {
  return crc32(serializeWeights(w, { dtype: 'float32' }).bin);
}

/**
 * The input pipeline a weight file describes: its per-band statistics (null when it carries
 * none, as random:SEED) and its front end (SVD_FRONTEND for older files that describe it
 * loosely, which is what they used).
 */
export function inputPipelineOf(w: WeightSet): { stats: BandStats | null; frontEnd: FrontEndConfig } {
  const norm = w.info.normalization;
  let frontEnd: FrontEndConfig = SVD_FRONTEND;
  try {
    frontEnd = validateFrontEndConfig(w.info.frontend);
  } catch {
    // the loose description of an older file: keep SVD_FRONTEND
  }
  return { stats: norm ? { mean: Float32Array.from(norm.mean), std: Float32Array.from(norm.std) } : null, frontEnd };
}

/** Load and validate a weight file (see parseWeights). */
export async function loadWeights(source: WeightSource): Promise<WeightSet> {
  if (typeof source !== 'string') {
    check(source && typeof source === 'object' && 'json' in source && 'bin' in source, 'loadWeights needs a directory path or { json, bin }');
    return parseWeights(source.json, source.bin);
  }
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let json: string;
  try {
    json = await fs.readFile(path.join(source, MANIFEST_FILE), 'utf8');
  } catch (e) {
    throw new EarshotError('WEIGHTS_MISSING', `cannot read ${path.join(source, MANIFEST_FILE)}: ${(e as Error).message}`);
  }
  let file = WEIGHTS_FILE;
  try {
    const f = (JSON.parse(json) as { weights?: { file?: unknown } }).weights?.file;
    if (typeof f === 'string' && f.length > 0 && !f.includes('/') && !f.includes('\\') && f !== '..') file = f;
  } catch {
    // parseWeights reports the bad JSON with the right code.
  }
  let bin: Uint8Array;
  try {
    bin = new Uint8Array(await fs.readFile(path.join(source, file)));
  } catch (e) {
    throw new EarshotError('WEIGHTS_MISSING', `cannot read ${path.join(source, file)}: ${(e as Error).message}`);
  }
  return parseWeights(json, bin);
}

/**
 * Write model.json + weights.bin into `dir` (created if needed). Atomic per file: each is written
 * to a temporary name and renamed; the binary goes first, so a reader never sees a manifest
 * without its data (the CRC catches a manifest paired with an older binary).
 */
export async function saveWeights(dir: string, w: WeightSet, opts: SerializeOptions = {}): Promise<void> {
  const { json, bin } = serializeWeights(w, opts);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  await fs.mkdir(dir, { recursive: true });
  const tmp = `.tmp-${process.pid}-${Date.now().toString(36)}`;
  const binPath = path.join(dir, WEIGHTS_FILE);
  const jsonPath = path.join(dir, MANIFEST_FILE);
  await fs.writeFile(binPath + tmp, bin);
  await fs.writeFile(jsonPath + tmp, json);
  await fs.rename(binPath + tmp, binPath);
  await fs.rename(jsonPath + tmp, jsonPath);
}

// ------------------------------------------------------------------ fresh weights

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface InitOptions {
  architecture?: SvdArchitecture;
  labels?: string[];
  threshold?: number;
  normalization?: Normalization | null;
  frontend?: FrontEndConfig;
  id?: string;
}

/**
 * A fresh, untrained model: He-normal conv/hidden kernels (std √(2 / fan_in), for leaky-ReLU
 * layers), Glorot-uniform output layer, zero biases, BN γ = 1, β = 0, moving mean 0, variance 1.
 * Deterministic in `seed`.
 */
export function initWeights(seed: number, opts: InitOptions = {}): WeightSet {
  check(Number.isInteger(seed), `seed must be an integer, got ${String(seed)}`);
  const arch = checkArchitecture(opts.architecture ?? SVD_ARCHITECTURE);
  const rand = mulberry32(seed);
  const normal = () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const tensors: Record<string, TensorData> = {};
  for (const s of tensorSpecsFor(arch)) {
    const data = new Float32Array(sizeOf(s.shape));
    if (s.init === 'ones') data.fill(1);
    else if (s.init === 'he') {
      const std = Math.sqrt(2 / s.fan![0]);
      for (let i = 0; i < data.length; i++) data[i] = normal() * std;
    } else if (s.init === 'glorot') {
      const lim = Math.sqrt(6 / (s.fan![0] + s.fan![1]));
      for (let i = 0; i < data.length; i++) data[i] = (2 * rand() - 1) * lim;
    }
    tensors[s.name] = { shape: s.shape.slice(), data };
  }
  return {
    info: {
      id: opts.id ?? `${SVD_ARCHITECTURE_NAME}/init-${seed}`,
      architecture: arch,
      frontend: opts.frontend ?? { ...SVD_FRONTEND_DESCRIPTION },
      normalization: opts.normalization ?? null,
      labels: opts.labels ?? ['voice'],
      threshold: opts.threshold ?? 0.51,
      training: { initialisedWith: 'he-normal / glorot-uniform', seed },
    },
    tensors,
  };
}
