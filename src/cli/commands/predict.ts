/**
 * `earshot predict clip.wav`: the singing-voice detector's P(voice) for every frame of a file
 * (methods.md §1–2): mono at 22 050 Hz → log-mel (src/frontend) → z-score with the model's
 * statistics → 57 frames of padding → the CNN's fully-convolutional form (`SvdCnn.predictFrames`)
 * in chunks, with a progress bar on long files → optional median filter → threshold (the weight
 * file's, 0.51 by default). Writes JSON or CSV (time of each frame's centre, P, decision) to a
 * file or stdout, and optionally a PNG of the probability curve under the spectrogram
 * (src/render/probability.ts). `--model` takes an earshot weight directory, `random:SEED`, or a
 * TF.js layers/graph model directory (src/model/tfjs-adapters-node.ts; such models are run
 * excerpt by excerpt). Every output is written atomically.
 */
import { readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { SVD_FRONTEND, validateFrontEndConfig, type FrontEndConfig } from '../../frontend/config.ts';
import { FrontEnd } from '../../frontend/index.ts';
import type { BandStats } from '../../frontend/stats.ts';
import { initBackend } from '../../model/backend.ts';
import { exampleSize, type Classifier } from '../../model/classifier.ts';
import type { SvdCnn } from '../../model/svdcnn.ts';
import { isTfjsModelJson, loadTfjsModel } from '../../model/tfjs-adapters-node.ts';
import { medianFilter } from '../../model/train.ts';
import { renderProbability } from '../../render/probability.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import type { Command } from '../commands.ts';
import { loadModel } from '../model-loader.ts';
import { Progress } from '../progress.ts';
import { clipStats } from './explain.ts';
import { writeFileAtomic } from './mel.ts';
import { Options, usageError, type OptionSpecs } from '../options.ts';

const HELP = `Usage: earshot predict <clip.wav> [options]

P(voice) for every frame of the clip (70 frames/s): the log-mel front end, the model's
normalisation, 57 frames of padding at both ends, the CNN's fully-convolutional form; then an
optional median filter and the decision threshold. Writes time (s, centre of each frame), P and
the decision as JSON or CSV, and optionally a PNG of the probability curve under the spectrogram.

Options:
  --model <dir>        earshot weight directory (model.json + weights.bin), a TF.js layers or
                       graph model directory (model.json + shards), or random:SEED for an
                       untrained CNN                               [assets/models/svd-default]
  --engine <e>         auto | tfjs | ort | ort-web: where the CNN runs (earshot weight
                       directories; auto = the fastest that loads, onnxruntime-node first) [auto]
  --threshold <t>      decision threshold in [0, 1]        [the weight file's; 0.51 by default]
  --median <frames>    median-filter P over this many frames before thresholding (methods.md
                       §1; 1 = off)                                                        [1]
  --format <f>         json | csv                      [from --out's extension, else json]
  -o, --out <file>     write the predictions here (default: stdout)
  --png <file>         the probability curve under the log-mel spectrogram, threshold line and
                       positive frames shaded
  --label <name>       the output column to report for a multi-class TF.js model
  --chunk <frames>     output frames per forward pass                                   [1024]
  --batch <n>          excerpts per forward pass for TF.js models                          [64]`;

export interface PredictSettings {
  model?: string;
  /** --engine: auto | tfjs | ort | ort-web. */
  engine: string;
  threshold?: number;
  median: number;
  format: 'json' | 'csv';
  out?: string;
  png?: string;
  label?: string;
  chunk: number;
  batch: number;
}

const OPTIONS = {
  model: { type: 'string' },
  engine: { type: 'string' },
  threshold: { type: 'string' },
  median: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string', short: 'o' },
  png: { type: 'string' },
  label: { type: 'string' },
  chunk: { type: 'string' },
  batch: { type: 'string' },
} as const satisfies OptionSpecs;

/** Validate the options of `earshot predict` (`values` as parseArgs returns them). */
export function parsePredictSettings(values: Record<string, unknown>): PredictSettings {
  const o: Options = new Options('predict', values);
  const threshold = o.num('threshold', { min: 0, max: 1 });
  const out = o.string('out', undefined, { nonEmpty: true });
  const png = o.string('png', undefined, { nonEmpty: true });
  if (png !== undefined && extname(png).toLowerCase() !== '.png') o.fail(`--png must name a .png file, got '${png}'`);
  const format = o.oneOf('format', ['json', 'csv'] as const, out !== undefined && extname(out).toLowerCase() === '.csv' ? 'csv' : 'json');
  return {
    model: o.string('model', undefined, { nonEmpty: true }),
    engine: o.oneOf('engine', ['auto', 'tfjs', 'ort', 'ort-web'] as const, 'auto'),
    threshold,
    median: o.int('median', { def: 1, min: 1, max: 100_000 }),
    format,
    out,
    png,
    label: o.string('label'),
    chunk: o.int('chunk', { def: 1024, min: 1, max: 1 << 20 }),
    batch: o.int('batch', { def: 64, min: 1, max: 1 << 16 }),
  };
}

/** A model ready for frame-wise prediction, whichever kind `--model` named. */
export interface PredictModel {
  kind: 'svd-cnn' | 'tfjs';
  spec: string;
  classifier: Classifier;
  /** Column of the reported label in the classifier's output. */
  column: number;
  label: string;
  stats: BandStats | null;
  frontEnd: FrontEndConfig;
  /** The model's own decision threshold. */
  threshold: number;
  dispose(): void;
}

/** Is `spec` a directory (or model.json) of a TF.js model rather than an earshot weight file? */
async function tfjsModelDir(spec: string): Promise<string | null> {
  if (/^random(:|$)/.test(spec)) return null;
  const p = resolve(spec);
  if (!existsSync(p)) return null;
  const json = statSync(p).isDirectory() ? join(p, 'model.json') : p;
  if (!existsSync(json)) return null;
  try {
    return isTfjsModelJson(JSON.parse(await readFile(json, 'utf8'))) ? json : null;
  } catch {
    return null; // the weight-file loader reports unreadable JSON with its own named error
  }
}

function num80(v: unknown, n: number): Float32Array | null {
  return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? Float32Array.from(v as number[]) : null;
}

/** Load `--model`: an earshot weight directory or random:SEED (src/cli/model-loader.ts), or a TF.js model. */
export async function loadPredictModel(spec: string | undefined, label?: string, engine = 'auto'): Promise<PredictModel> {
  const tfjsJson = spec === undefined ? null : await tfjsModelDir(spec);
  if (!tfjsJson) {
    if (label !== undefined) usageError('predict', '--label applies to multi-class TF.js models; the singing-voice CNN has one output');
    const m = await loadModel(spec, { engine, onInfo: (msg) => process.stderr.write(`earshot predict: ${msg}\n`) });
    const cnn = m.classifier;
    return { kind: 'svd-cnn', spec: m.spec, classifier: cnn, column: 0, label: cnn.labels[0]!, stats: m.stats, frontEnd: m.frontEnd, threshold: cnn.threshold, dispose: () => cnn.dispose() };
  }
  await initBackend('wasm');
  // optional earshot metadata in the TF.js model.json: userDefinedMetadata.earshot = { normalization, frontend, threshold, labels }
  const meta = ((JSON.parse(await readFile(tfjsJson, 'utf8')).userDefinedMetadata ?? {}).earshot ?? {}) as Record<string, any>;
  let frontEnd: FrontEndConfig = SVD_FRONTEND;
  if (meta.frontend !== undefined) frontEnd = validateFrontEndConfig(meta.frontend);
  const c = await loadTfjsModel(tfjsJson, { inputShape: [frontEnd.excerptFrames, frontEnd.nMels], labels: Array.isArray(meta.labels) ? meta.labels : undefined, id: `tfjs:${spec}` });
  try {
    const want = frontEnd.excerptFrames * frontEnd.nMels;
    if (exampleSize(c.inputShape) !== want) throw new EarshotError('BAD_SHAPE', `--model ${spec}: the model takes ${exampleSize(c.inputShape)} values per example, the front end makes ${frontEnd.excerptFrames}×${frontEnd.nMels} = ${want}`);
    let column = 0;
    if (label !== undefined) {
      column = c.labels.indexOf(label);
      if (column < 0) usageError('predict', `--label '${label}' is not one of the model's labels (${c.labels.join(', ')})`);
    } else if (c.labels.length > 1) {
      column = c.labels.findIndex((l) => /^(voice|sing|singing|vocals?)$/i.test(l));
      if (column < 0) usageError('predict', `the model has ${c.labels.length} outputs (${c.labels.join(', ')}); choose one with --label`);
    }
    const mean = num80(meta.normalization?.mean, frontEnd.nMels);
    const std = num80(meta.normalization?.std, frontEnd.nMels);
    const thr = typeof meta.threshold === 'number' && meta.threshold >= 0 && meta.threshold <= 1 ? meta.threshold : 0.5;
    return { kind: 'tfjs', spec: spec!, classifier: c, column, label: c.labels[column]!, stats: mean && std ? { mean, std } : null, frontEnd, threshold: thr, dispose: () => c.dispose() };
  } catch (e) {
    c.dispose();
    throw e;
  }
}

export interface FramePredictions {
  /** Seconds of each frame's centre: (i·hop + nFft/2) / sampleRate. */
  times: Float64Array;
  probs: Float32Array;
  /** Median-filtered probabilities (the same array as `probs` when the filter is off). */
  smoothed: Float32Array;
  decisions: Uint8Array;
  threshold: number;
  median: number;
  /** The un-normalised log-mel (frames × nMels) for pictures. */
  logMel: Float32Array;
  nFrames: number;
  nMels: number;
  statsSource: 'model' | 'clip';
  frontEnd: FrontEndConfig;
  samples: number;
}

/**
 * P(label) per frame of a mono signal at the model's sample rate. `onProgress(done, total)`
 * follows output frames.
 */
export async function predictSignal(
  model: PredictModel,
  signal: Float32Array,
  opts: { threshold?: number; median?: number; chunk?: number; batch?: number; onProgress?: (done: number, total: number) => void; source?: string } = {},
): Promise<FramePredictions> {
  const fe = new FrontEnd(model.frontEnd);
  const cfg = fe.config;
  const nFrames = fe.frames(signal.length);
  if (nFrames === 0) throw new EarshotError('TOO_SHORT', `${opts.source ?? 'signal'}: ${signal.length} samples is shorter than one frame (${cfg.nFft} samples at ${cfg.sampleRate} Hz)`);
  const lm = fe.logMel(signal);
  const stats = model.stats ?? clipStats(lm.data, lm.nMels);
  const padded = fe.pad(fe.normalise(lm.data, stats), stats).data;
  const B = lm.nMels;
  const T = cfg.excerptFrames;
  const probs = new Float32Array(nFrames);
  const chunk = opts.chunk ?? 1024;
  if (model.kind === 'svd-cnn') {
    const cnn = model.classifier as SvdCnn;
    for (let s = 0; s < nFrames; s += chunk) {
      const m = Math.min(chunk, nFrames - s);
      const rows = m + T - 1;
      probs.set(await cnn.predictFrames(padded.subarray(s * B, (s + rows) * B), rows, { padded: true, chunkFrames: m }), s);
      opts.onProgress?.(s + m, nFrames);
    }
  } else {
    const bs = opts.batch ?? 64;
    const k = model.classifier.labels.length;
    const size = T * B;
    const batch = new Float32Array(bs * size);
    for (let s = 0; s < nFrames; s += bs) {
      const m = Math.min(bs, nFrames - s);
      for (let i = 0; i < m; i++) batch.set(padded.subarray((s + i) * B, (s + i + T) * B), i * size);
      const y = await model.classifier.predict(m === bs ? batch : batch.subarray(0, m * size), m);
      for (let i = 0; i < m; i++) probs[s + i] = y[i * k + model.column]!;
      opts.onProgress?.(s + m, nFrames);
    }
  }
  const median = opts.median ?? 1;
  const smoothed = median > 1 ? medianFilter(probs, median) : probs;
  const threshold = opts.threshold ?? model.threshold;
  const decisions = new Uint8Array(nFrames);
  // "> threshold = voice", as the reference evaluation decides (src/model/train.ts `evaluate`)
  for (let i = 0; i < nFrames; i++) decisions[i] = smoothed[i]! > threshold ? 1 : 0;
  const times = new Float64Array(nFrames);
  for (let i = 0; i < nFrames; i++) times[i] = (i * cfg.hop + cfg.nFft / 2) / cfg.sampleRate;
  return { times, probs, smoothed, decisions, threshold, median, logMel: lm.data, nFrames, nMels: B, statsSource: model.stats ? 'model' : 'clip', frontEnd: cfg, samples: signal.length };
}

/** Runs of positive decisions as [start, end) seconds (frame centres ± half a hop). */
export function positiveSegments(r: FramePredictions): Array<[number, number]> {
  const half = r.frontEnd.hop / 2 / r.frontEnd.sampleRate;
  const out: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i <= r.nFrames; i++) {
    const on = i < r.nFrames && r.decisions[i] === 1;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push([+(r.times[start]! - half).toFixed(4), +(r.times[i - 1]! + half).toFixed(4)]);
      start = -1;
    }
  }
  return out;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

export function predictionsToJSON(r: FramePredictions, info: { source: string; model: string; label: string }): string {
  const cfg = r.frontEnd;
  const o: Record<string, unknown> = {
    format: 'earshot-predictions',
    formatVersion: 1,
    source: info.source,
    model: info.model,
    label: info.label,
    threshold: r.threshold,
    median: r.median,
    normalisation: r.statsSource,
    sampleRate: cfg.sampleRate,
    hop: cfg.hop,
    frameRate: cfg.sampleRate / cfg.hop,
    frames: r.nFrames,
    positiveFraction: r.decisions.reduce((s, d) => s + d, 0) / r.nFrames,
    segments: positiveSegments(r),
    time: Array.from(r.times, (t) => round6(t)),
    probability: Array.from(r.probs, round6),
  };
  if (r.median > 1) o.smoothed = Array.from(r.smoothed, round6);
  o.decision = Array.from(r.decisions);
  return JSON.stringify(o) + '\n';
}

export function predictionsToCSV(r: FramePredictions, label: string): string {
  const col = `p_${label.replace(/[^\w-]/g, '_')}`;
  const lines = [r.median > 1 ? `time,${col},${col}_median${r.median},decision` : `time,${col},decision`];
  for (let i = 0; i < r.nFrames; i++) {
    const t = round6(r.times[i]!);
    const p = round6(r.probs[i]!);
    lines.push(r.median > 1 ? `${t},${p},${round6(r.smoothed[i]!)},${r.decisions[i]}` : `${t},${p},${r.decisions[i]}`);
  }
  return lines.join('\n') + '\n';
}

export async function predictCommand(args: string[]): Promise<number> {
  const o: Options = Options.parse('predict', args, OPTIONS);
  const clip = o.onePositional('input WAV file');
  const s = parsePredictSettings(o.values);
  const model = await loadPredictModel(s.model, s.label, s.engine);
  try {
    const signal = await loadMono(clip, model.frontEnd.sampleRate);
    const fe = new FrontEnd(model.frontEnd);
    const total = fe.frames(signal.length);
    // a bar only when there is more than one forward pass to wait for
    const passes = model.kind === 'svd-cnn' ? Math.ceil(total / s.chunk) : Math.ceil(total / s.batch);
    const bar = passes > 1 ? new Progress('predict', total, { unit: 'frames' }) : null;
    const r = await predictSignal(model, signal, { threshold: s.threshold, median: s.median, chunk: s.chunk, batch: s.batch, source: clip, onProgress: (d, t) => bar?.update(d, t) });
    bar?.finish();
    if (r.statsSource === 'clip') process.stderr.write(`earshot predict: the model carries no normalisation statistics; the clip's own per-band mean/std are used\n`);
    const text = s.format === 'csv' ? predictionsToCSV(r, model.label) : predictionsToJSON(r, { source: clip, model: model.spec, label: model.label });
    if (s.out !== undefined) await writeFileAtomic(s.out, text);
    else process.stdout.write(text);
    if (s.png !== undefined) {
      await writeFileAtomic(s.png, renderProbability(r.logMel, r.nFrames, r.nMels, r.smoothed, { threshold: r.threshold, decisions: r.decisions, deflate: nodeDeflate }));
    }
    const pos = r.decisions.reduce((a, d) => a + d, 0);
    process.stderr.write(
      `earshot predict: ${r.nFrames} frames (${(signal.length / model.frontEnd.sampleRate).toFixed(2)} s), ${((100 * pos) / r.nFrames).toFixed(1)} % ${model.label} ` +
        `(threshold ${r.threshold}${r.median > 1 ? `, median ${r.median}` : ''})${s.out ? ` → ${s.out}` : ''}${s.png ? `, ${s.png}` : ''}\n`,
    );
    return 0;
  } finally {
    model.dispose();
  }
}

export const predict: Command = {
  summary: 'P(voice) per frame of a WAV (JSON/CSV) and a PNG of the curve under the spectrogram',
  help: HELP,
  run: predictCommand,
};
