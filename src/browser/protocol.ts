/**
 * The messages between the web app's page (src/browser/app.ts) and its Web Worker
 * (src/browser/worker.ts), their validation, and the sentences a person sees when something
 * goes wrong. The page never computes: it posts a request and draws the replies, so the heavy
 * work (front end, forward passes, LIME) never freezes it. Every request carries an `id`; the
 * worker answers with progress messages and exactly one `result` or `error` for that id.
 *
 * Browser-safe and DOM-free, so the protocol is tested in Node (tests/browser-protocol.test.ts).
 */
import { EarshotError } from '../../bindings/errors.ts';
import { registeredWebMethods } from './methods.ts';

export const ENGINE_CHOICES = ['tfjs', 'ort-web'] as const;
export type WebEngine = (typeof ENGINE_CHOICES)[number];
export const SEGMENTATIONS = ['temporal', 'spectral', 'tf'] as const;
export const CONTENTS = ['zero', 'min_inp', 'mean_inp', 'noise'] as const;
export const SAMPLERS = ['random', 'dedup', 'exhaustive'] as const;
export const DISTANCES = ['cosine', 'euclidean'] as const;
/** Built-in methods of the page; audioLIME and L-MAC join through ./methods.ts registerWebMethod. */
export const WEB_METHODS = ['slime', 'kernelshap'] as const;

/** The explainer settings of the page: the same names and defaults as `earshot explain`. */
export interface WebSettings {
  /** slime | kernelshap | a name registered with ./methods.ts. */
  method: string;
  segmentation: (typeof SEGMENTATIONS)[number];
  /** d for temporal / spectral (CLI --components). */
  components?: number;
  /** tf grid (CLI --grid TxF). */
  grid?: { time: number; freq: number };
  content: (typeof CONTENTS)[number];
  sampler: (typeof SAMPLERS)[number];
  /** N_s (CLI --samples); undefined = explain()'s default. */
  samples?: number;
  distance: (typeof DISTANCES)[number];
  kernelWidth?: number;
  seed: number;
  top: number;
  batch: number;
}

export const DEFAULT_SETTINGS: WebSettings = {
  method: 'slime',
  segmentation: 'temporal',
  content: 'mean_inp',
  sampler: 'dedup',
  distance: 'cosine',
  seed: 0,
  top: 3,
  batch: 64,
};

export type Request =
  | { id: number; type: 'init'; engine: WebEngine; threads: number; modelUrl: string; tfjsWasmPaths?: string; ortUrl?: string }
  | { id: number; type: 'load-wav'; name: string; bytes: ArrayBuffer }
  | { id: number; type: 'load-pcm'; name: string; sampleRate: number; channels: Float32Array[] }
  | { id: number; type: 'explain'; at: number; settings: WebSettings }
  | { id: number; type: 'bench'; engine: WebEngine; threads: number; excerpts: number; repeats: number };

/** What the worker answers to `init`. */
export interface InitResult {
  engine: WebEngine;
  threads: number;
  /** The engine's own description (TF.js backend, ORT version). */
  detail: string;
  modelId: string;
  labels: string[];
  /** Explanation methods the worker accepts (built-in + registered). */
  methods: string[];
  /** ms per excerpt of one forward pass, measured on a batch of 16 after a warm-up. */
  msPerExcerpt: number;
}

/** What the worker answers to `load-wav` / `load-pcm`: the whole clip, ready to draw. */
export interface ClipResult {
  name: string;
  sampleRate: number;
  samples: number;
  seconds: number;
  /** The raw log-mel spectrogram, frames × bands (row-major by frame), for the canvas. */
  logMel: Float32Array;
  frames: number;
  bands: number;
  /** P(voice) per original frame (the model's fully-convolutional form). */
  pVoice: Float32Array;
  threshold: number;
  /** Seconds between frames (hop / sampleRate) and the time of frame 0's centre. */
  frameSeconds: number;
  firstFrameSeconds: number;
  warnings: string[];
}

/** What the worker answers to `explain`. */
export interface ExplainResultMsg {
  /** The document `earshot explain` writes as explanation.json (explanationToJSON). */
  json: string;
  /** Heatmap RGBA pixels (render/heatmap.ts, the CLI's heatmap.png) and their size. */
  heatmap: { pixels: Uint8ClampedArray; width: number; height: number; spectrogram: { x: number; y: number; width: number; height: number } };
  /** Mono audio at `sampleRate`: the excerpt, its top-k positive components, the rest. */
  audio: { excerpt: Float32Array; kept: Float32Array; rest: Float32Array; sampleRate: number; mode: string };
  /** Forward passes per second of the explanation's model stage, as ms per excerpt. */
  msPerExcerpt: number;
  totalMs: number;
}

export interface BenchResult {
  engine: WebEngine;
  threads: number;
  detail: string;
  /** Median over `repeats` of the ms per excerpt of a batch of `excerpts`. */
  msPerExcerpt: number;
  samples: number[];
  crossOriginIsolated: boolean;
}

export type Reply =
  | { id: number; type: 'progress'; stage: string; done: number; total: number }
  | { id: number; type: 'result'; result: unknown }
  | { id: number; type: 'error'; code: string; message: string };

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function bad(msg: string): never {
  throw new EarshotError('BAD_MESSAGE', `worker request: ${msg}`);
}

function intField(o: Record<string, unknown>, k: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${k} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function enumField<T extends string>(o: Record<string, unknown>, k: string, allowed: readonly T[]): T {
  const v = o[k];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) bad(`${k} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** Validate explainer settings (a structured clone from the page or parsed URL parameters). */
export function checkSettings(v: unknown): WebSettings {
  if (!isObj(v)) bad('settings must be an object');
  const allowed = ['method', 'segmentation', 'components', 'grid', 'content', 'sampler', 'samples', 'distance', 'kernelWidth', 'seed', 'top', 'batch'];
  for (const k of Object.keys(v)) if (!allowed.includes(k)) bad(`unknown setting '${k}' (allowed: ${allowed.join(', ')})`);
  const s: WebSettings = {
    method: enumField(v, 'method', [...WEB_METHODS, ...registeredWebMethods()]),
    segmentation: enumField(v, 'segmentation', SEGMENTATIONS),
    content: enumField(v, 'content', CONTENTS),
    sampler: enumField(v, 'sampler', SAMPLERS),
    distance: enumField(v, 'distance', DISTANCES),
    seed: intField(v, 'seed', 0, 0xffffffff),
    top: intField(v, 'top', 1, 1000),
    batch: intField(v, 'batch', 1, 1 << 16),
  };
  if (v.components !== undefined) {
    if (s.segmentation === 'tf') bad("components applies to segmentation 'temporal' or 'spectral'; use grid for 'tf'");
    s.components = intField(v, 'components', 1, 115 * 80);
  }
  if (v.grid !== undefined) {
    if (s.segmentation !== 'tf') bad(`grid applies to segmentation 'tf', not '${s.segmentation}'`);
    if (!isObj(v.grid)) bad('grid must be { time, freq }');
    s.grid = { time: intField(v.grid, 'time', 1, 115), freq: intField(v.grid, 'freq', 1, 80) };
  }
  if (v.samples !== undefined) s.samples = intField(v, 'samples', 1, 1 << 26);
  if (v.kernelWidth !== undefined) {
    const w = v.kernelWidth;
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) bad(`kernelWidth must be a number > 0, got ${JSON.stringify(w)}`);
    s.kernelWidth = w;
  }
  if (s.sampler === 'exhaustive') {
    const d = s.segmentation === 'tf' ? (s.grid ? s.grid.time * s.grid.freq : 20) : (s.components ?? 10);
    if (d > 16) bad(`sampler 'exhaustive' needs at most 16 components (2^d forward passes), this segmentation has ${d}`);
  }
  return s;
}

/** Validate one request as the worker receives it; BAD_MESSAGE names the field. */
export function checkRequest(m: unknown): Request {
  if (!isObj(m)) bad('a request must be an object');
  const id = intField(m, 'id', 1, Number.MAX_SAFE_INTEGER);
  switch (m.type) {
    case 'init': {
      const engine = enumField(m, 'engine', ENGINE_CHOICES);
      const threads = intField(m, 'threads', 1, 64);
      if (typeof m.modelUrl !== 'string' || !m.modelUrl) bad('modelUrl must be a non-empty string');
      for (const k of ['tfjsWasmPaths', 'ortUrl'] as const) if (m[k] !== undefined && typeof m[k] !== 'string') bad(`${k} must be a string`);
      return { id, type: 'init', engine, threads, modelUrl: m.modelUrl, tfjsWasmPaths: m.tfjsWasmPaths as string | undefined, ortUrl: m.ortUrl as string | undefined };
    }
    case 'load-wav':
      if (typeof m.name !== 'string') bad('name must be a string');
      if (!(m.bytes instanceof ArrayBuffer)) bad('bytes must be an ArrayBuffer');
      return { id, type: 'load-wav', name: m.name, bytes: m.bytes };
    case 'load-pcm': {
      if (typeof m.name !== 'string') bad('name must be a string');
      const sr = intField(m, 'sampleRate', 1, 1_000_000);
      const ch = m.channels;
      if (!Array.isArray(ch) || ch.length === 0 || !ch.every((c) => c instanceof Float32Array)) bad('channels must be a non-empty array of Float32Array');
      return { id, type: 'load-pcm', name: m.name, sampleRate: sr, channels: ch as Float32Array[] };
    }
    case 'explain': {
      const at = m.at;
      if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) bad(`at must be a time in seconds ≥ 0, got ${JSON.stringify(at)}`);
      return { id, type: 'explain', at, settings: checkSettings(m.settings) };
    }
    case 'bench':
      return { id, type: 'bench', engine: enumField(m, 'engine', ENGINE_CHOICES), threads: intField(m, 'threads', 1, 64), excerpts: intField(m, 'excerpts', 1, 4096), repeats: intField(m, 'repeats', 1, 1000) };
    default:
      bad(`unknown type ${JSON.stringify(m.type)} (init, load-wav, load-pcm, explain, bench)`);
  }
}

/** The error as the page shows it: one plain sentence a person can act on, by code. */
export function userMessage(code: string, message: string): string {
  switch (code) {
    case 'WAV_NOT_RIFF':
    case 'WAV_UNSUPPORTED_FORMAT':
    case 'UNSUPPORTED_FILE':
      return `This file cannot be read: ${message}. Try a WAV, MP3, Ogg or FLAC file your browser can play.`;
    case 'WAV_CORRUPT':
    case 'WAV_TRUNCATED':
    case 'WAV_EMPTY':
      return `This file looks damaged: ${message}.`;
    case 'TOO_SHORT':
      return `This clip is too short to analyse: ${message}.`;
    case 'NO_SIMD':
      return 'This browser cannot run earshot: it lacks WebAssembly SIMD (Chrome/Edge 91+, Firefox 89+, Safari 16.4+ have it).';
    case 'NO_WASM':
      return 'This browser cannot run earshot: WebAssembly is disabled or missing.';
    case 'ENGINE_UNAVAILABLE':
    case 'BACKEND_INIT':
      return `The chosen engine could not start (${message}). Choose another engine.`;
    case 'MODEL_MISSING':
    case 'WEIGHTS_MISSING':
      return `The model could not be loaded: ${message}.`;
    case 'NO_CLIP':
      return 'Load an audio file (or the example) first, then click a time to explain it.';
    case 'BAD_MESSAGE':
    case 'BAD_ARGUMENT':
    case 'BAD_USAGE':
      return `Invalid setting: ${message}.`;
    default:
      return `Something went wrong (${code}): ${message}.`;
  }
}
