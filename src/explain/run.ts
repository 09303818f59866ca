/**
 * One explanation run, the same on every platform: the steps `earshot explain` and the web
 * app's worker share (settings → front end → model → explainer → explanation + JSON), so the
 * page's explanation JSON is the CLI's bit for bit on the same engine (docs/browser.md,
 * tests/browser.test.ts). Platform-neutral by construction — no fs, path or worker imports: the
 * callers keep their I/O (src/cli/commands/explain.ts reads WAVs and writes files with progress
 * bars; src/browser/session.ts fetches bytes and answers worker messages).
 *
 * The method is SLIME / KernelSHAP (methods.md §3–4, ./explain.ts) on one excerpt of the
 * normalised, padded log-mel of a clip (the front end of methods.md §1).
 */
import { EarshotError } from '../../bindings/errors.ts';
import { shellQuote } from '../cli/shell.ts';
import { FrontEnd } from '../frontend/frontend.ts';
import type { FrontEndConfig } from '../frontend/config.ts';
import { NormStats, type BandStats } from '../frontend/stats.ts';
import type { Classifier } from '../model/classifier.ts';
import { explanationToJSON, type ExcerptContext } from '../render/explanation.ts';
import { explain, type ExplainOptions, type ProgressFn } from './explain.ts';
import type { Explanation } from './types.ts';

/** The explainer settings both front doors resolve (the CLI's options, the page's form). */
export interface ExplainRunSettings {
  /** slime | kernelshap (the web app may route another name to a registered method first). */
  method: string;
  segmentation: 'temporal' | 'spectral' | 'tf';
  components?: number;
  grid?: { time: number; freq: number };
  content: 'zero' | 'min_data' | 'min_inp' | 'mean_inp' | 'noise';
  minData?: number;
  samples?: number;
  sampler: 'random' | 'dedup' | 'exhaustive';
  distance: 'cosine' | 'euclidean';
  kernelWidth?: number;
  seed: number;
  top: number;
  batch: number;
}

/** The library options of explain() for these settings. */
export function explainOptionsOf(s: ExplainRunSettings, stats: BandStats): ExplainOptions {
  const o: ExplainOptions = {
    method: s.method as 'slime' | 'kernelshap',
    segmentation: s.segmentation,
    content: s.content,
    sampler: s.sampler,
    distance: s.distance,
    seed: s.seed,
    batchSize: s.batch,
    normStats: stats,
  };
  if (s.components !== undefined) o.numComponents = s.components;
  if (s.grid) o.grid = s.grid;
  if (s.minData !== undefined) o.minData = s.minData;
  if (s.samples !== undefined) o.numSamples = s.samples;
  if (s.kernelWidth !== undefined) o.kernelWidth = s.kernelWidth;
  return o;
}

/** The `earshot explain` command line that reproduces one explanation (`model`: its --model, if any). */
export function reproduceCommand(clip: string, atSeconds: number, s: ExplainRunSettings, model: string | undefined, out: string): string {
  const a = ['earshot', 'explain', shellQuote(clip), '--at', atSeconds.toFixed(4), '--segmentation', s.segmentation];
  if (s.components !== undefined) a.push('--components', String(s.components));
  if (s.grid) a.push('--grid', `${s.grid.time}x${s.grid.freq}`);
  a.push('--method', s.method, '--content', s.content);
  if (s.minData !== undefined) a.push('--min-data', String(s.minData));
  if (s.samples !== undefined) a.push('--samples', String(s.samples));
  a.push('--sampler', s.sampler, '--distance', s.distance);
  if (s.kernelWidth !== undefined) a.push('--kernel-width', String(s.kernelWidth));
  a.push('--seed', String(s.seed), '--top', String(s.top));
  if (model !== undefined) a.push('--model', shellQuote(model));
  a.push('--out', shellQuote(out));
  return a.join(' ');
}

/** Per-band mean and std of a log-mel (frames × bands): the statistics of a model that has none. */
export function clipStats(logMel: Float32Array, nMels: number): BandStats {
  // the 1e-3 floor keeps a silent band's z-scores finite (and the page equal to the CLI)
  return new NormStats(nMels).add(logMel, logMel.length / nMels).finish(1e-3);
}

/** Time (s) of the centre of original frame c, and back (the nearest frame). */
export const frameToSeconds = (fe: FrontEndConfig, c: number) => (c * fe.hop + fe.nFft / 2) / fe.sampleRate;
export const secondsToFrame = (fe: FrontEndConfig, s: number, nFrames: number) => Math.min(nFrames - 1, Math.max(0, Math.round((s * fe.sampleRate - fe.nFft / 2) / fe.hop)));

/** A clip's signal through the front end: normalised + padded log-mel and its statistics. */
export interface PreparedSignal {
  /** The clip's name in explanations and commands (the CLI's path, the page's file name). */
  name: string;
  /** Mono samples at the front end's rate. */
  signal: Float32Array;
  fe: FrontEnd;
  stats: BandStats;
  /** 'model' (the weight file's statistics) or 'clip' (the model has none: the clip's own). */
  statsSource: 'model' | 'clip';
  padded: Float32Array;
  nFrames: number;
}

/** Front end of a mono signal (already at `frontEnd.sampleRate`), z-scored with the model's statistics or, without them, the clip's. */
export function prepareSignal(name: string, signal: Float32Array, frontEnd: FrontEndConfig, modelStats: BandStats | null): PreparedSignal {
  const fe = new FrontEnd(frontEnd);
  if (fe.frames(signal.length) === 0) throw new EarshotError('TOO_SHORT', `${name}: ${signal.length} samples is shorter than one frame (${fe.config.nFft} samples at ${fe.config.sampleRate} Hz)`);
  const lm = fe.logMel(signal);
  const stats = modelStats ?? clipStats(lm.data, lm.nMels);
  const p = fe.pad(fe.normalise(lm.data, stats), stats);
  return { name, signal, fe, stats, statsSource: modelStats ? 'model' : 'clip', padded: p.data, nFrames: p.nFrames };
}

export interface ExcerptRunInput {
  classifier: Classifier;
  /** Recorded as params.engine (the engine the forward passes ran on). */
  engine: string;
  clip: PreparedSignal;
  /** Original frame at the excerpt's centre. */
  centreFrame: number;
  settings: ExplainRunSettings;
  /** Recorded as params.model: 'default' or what --model named. */
  modelSpec: string;
  /** The --model of the reproducing command (undefined for the default model). */
  modelOption?: string;
  /** The --out of the reproducing command. */
  out: string;
  /** A ready-made reproducing command instead of the one built from the fields above. */
  command?: string;
  onProgress?: ProgressFn;
  /** Another explainer of the excerpt (the web app's registered methods); default explain(). */
  explainer?: (excerpt: Float32Array) => Promise<Explanation>;
}

export interface ExcerptRunResult {
  explanation: Explanation;
  /** The explained excerpt (T × nMels, normalised). */
  excerpt: Float32Array;
  ctx: ExcerptContext;
  /** explanationToJSON(explanation, ctx): the explanation.json both front doors produce. */
  json: string;
  atSeconds: number;
  command: string;
}

/** Explain the excerpt centred on `centreFrame` and record how to reproduce it. */
export async function explainExcerpt(r: ExcerptRunInput): Promise<ExcerptRunResult> {
  const { clip, settings: s, centreFrame: c } = r;
  const fe = clip.fe.config;
  const nMels = clip.fe.nMels;
  const T = fe.excerptFrames;
  const x = new Float32Array(clip.padded.subarray(c * nMels, (c + T) * nMels));
  const e = r.explainer ? await r.explainer(x) : await explain(r.classifier, x, { ...explainOptionsOf(s, clip.stats), onProgress: r.onProgress });
  e.params.engine = r.engine;
  const at = frameToSeconds(fe, c);
  const command = r.command ?? reproduceCommand(clip.name, at, s, r.modelOption, r.out);
  e.params.topK = s.top;
  e.params.input = { kind: 'waveform', source: clip.name, atSeconds: at, frame: c, frames: clip.nFrames, sampleRate: fe.sampleRate };
  e.params.normalisation = clip.statsSource;
  e.params.model = r.modelSpec;
  e.params.command = command;
  const ctx: ExcerptContext = { frontEnd: fe, centreFrame: c, source: clip.name, sourceSamples: clip.signal.length };
  return { explanation: e, excerpt: x, ctx, json: explanationToJSON(e, ctx), atSeconds: at, command };
}
