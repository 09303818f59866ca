/**
 * `earshot explain clip.wav --out DIR`: explain the singing-voice model's prediction on one
 * excerpt of a clip (or on a hop of excerpts over the whole file) with SLIME or KernelSHAP
 * (methods.md §3–4; src/explain), and write what a person can look at and listen to:
 * explanation.json, heatmap.png, excerpt.wav, topk.wav, rest.wav and index.html (src/render),
 * each written atomically. Progress goes to stderr, the paths written to stdout.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono, writeWavFile } from '../../audio/node.ts';
import { encodeWav } from '../../audio/wav.ts';
import { explainExcerpt, frameToSeconds as frameSeconds, prepareSignal, secondsToFrame as nearestFrame, type PreparedSignal } from '../../explain/run.ts';
import type { Explanation } from '../../explain/types.ts';
import type { FrontEnd } from '../../frontend/index.ts';
import type { ExcerptContext } from '../../render/explanation.ts';
import { renderHeatmap } from '../../render/heatmap.ts';
import { escapeHtml, renderHtml } from '../../render/html.ts';
import { listenable } from '../../render/listen.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import type { Command } from '../commands.ts';
import { loadModel, type LoadedModel } from '../model-loader.ts';
import { Progress } from '../progress.ts';
import { writeFileAtomic } from './mel.ts';
import { Options, type OptionSpecs } from '../options.ts';

const SEGMENTATIONS = ['temporal', 'spectral', 'tf'] as const;
const CONTENTS = ['zero', 'min_data', 'min_inp', 'mean_inp', 'noise'] as const;
const SAMPLERS = ['random', 'dedup', 'exhaustive'] as const;
const ENGINE_CHOICES = ['auto', 'tfjs', 'ort', 'ort-web'] as const;
const METHODS = ['slime', 'kernelshap'] as const;
const DISTANCES = ['cosine', 'euclidean'] as const;

const HELP = `Usage: earshot explain <clip.wav> --out <dir> [options]

Explains the singing-voice model's P(voice) on one excerpt (115 frames ≈ 1.6 s) of the clip with
SLIME (LIME on spectrogram components, methods.md §3–4) or KernelSHAP, and writes into <dir>:
  explanation.json  weights, components (frames/bands and seconds/Hz), parameters, timings
  heatmap.png       the excerpt's spectrogram and the component weights, top-k outlined
  excerpt.wav       the excerpt; topk.wav its top-k positive components; rest.wav the rest
  index.html        all of it on one offline page
and prints their paths.

Where:
  --at <seconds>          the excerpt centred at this time (default: the excerpt with the
                          highest P(voice))
  --all-frames            explain excerpts centred on frames 57, 57 + E, 57 + 2E, … (E = --every),
                          each into <dir>/frame-NNNNNN/, plus <dir>/index.json and index.html
  --every <frames>        hop between excerpts for --all-frames (default 115: no overlap)

Components:
  --segmentation <s>      temporal | spectral | tf                             [temporal]
  --components <d>        d for temporal / spectral                           [10]
  --grid <T>x<F>          blocks of the tf grid: 5x4 (001) or 6x4 (SoundLIME)  [5x4]

Explainer:
  --method <m>            slime | kernelshap                                  [slime]
  --content <c>           zero | min_data | min_inp | mean_inp | noise        [mean_inp]
  --min-data=<value>      the dataset minimum for --content min_data (normalised domain;
                          write negative values with '=')
  --samples <N>           N_s, samples of the neighbourhood     [50000 (d ≤ 12), else 5000]
  --sampler <s>           random | dedup | exhaustive (d ≤ 16)                [dedup]
  --distance <d>          cosine | euclidean                                  [cosine]
  --kernel-width <w>      LIME kernel width                                   [0.25]
  --seed <S>              sampler seed                                        [0]
  --top <K>               top-k positive components to outline and to play   [3]

Model and output:
  --model <dir>           weight directory (model.json + weights.bin), or random:SEED for an
                          untrained CNN (sanity baseline)          [assets/models/svd-default]
  --engine <e>            auto | tfjs | ort | ort-web: where the forward passes run; auto
                          takes the fastest that loads (onnxruntime-node first)   [auto]
  --batch <N>             perturbed inputs per forward pass                   [64]
  --embed                 embed the PNG and WAVs in index.html as data URIs
  -o, --out <dir>         output directory (created if needed)`;

/** Everything the CLI resolved from its options (what reproduces a run). */
export interface ExplainSettings {
  segmentation: (typeof SEGMENTATIONS)[number];
  components?: number;
  grid?: { time: number; freq: number };
  method: (typeof METHODS)[number];
  content: (typeof CONTENTS)[number];
  minData?: number;
  samples?: number;
  sampler: (typeof SAMPLERS)[number];
  distance: (typeof DISTANCES)[number];
  kernelWidth?: number;
  seed: number;
  top: number;
  batch: number;
  model?: string;
  /** --engine: auto | tfjs | ort | ort-web (forward passes only). */
  engine: string;
  embed: boolean;
}

export const EXPLAIN_OPTIONS = {
  at: { type: 'string' },
  'all-frames': { type: 'boolean' },
  every: { type: 'string' },
  segmentation: { type: 'string' },
  components: { type: 'string' },
  grid: { type: 'string' },
  method: { type: 'string' },
  content: { type: 'string' },
  'min-data': { type: 'string' },
  samples: { type: 'string' },
  sampler: { type: 'string' },
  distance: { type: 'string' },
  'kernel-width': { type: 'string' },
  seed: { type: 'string' },
  top: { type: 'string' },
  model: { type: 'string' },
  engine: { type: 'string' },
  batch: { type: 'string' },
  embed: { type: 'boolean' },
  out: { type: 'string', short: 'o' },
} as const satisfies OptionSpecs;

/** Validate the explainer options (shared by `explain` and `demo`, named by `command` in errors). */
export function parseSettings(values: Record<string, unknown>, command = 'explain'): ExplainSettings {
  const o: Options = new Options(command, values);
  const segmentation = o.oneOf('segmentation', SEGMENTATIONS, 'temporal');
  const components = o.int('components', { min: 1, max: 115 * 80 });
  let grid: { time: number; freq: number } | undefined;
  if (o.has('grid')) {
    const m = /^(\d+)x(\d+)$/.exec(String(values.grid));
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) o.fail(`--grid must be <time blocks>x<frequency blocks>, e.g. 5x4 or 6x4, got '${String(values.grid)}'`);
    grid = { time: Number(m[1]), freq: Number(m[2]) };
    if (segmentation !== 'tf') o.fail(`--grid applies to --segmentation tf, not '${segmentation}'`);
  }
  if (components !== undefined && segmentation === 'tf') o.fail('--components applies to --segmentation temporal or spectral; use --grid for tf');
  const content = o.oneOf('content', CONTENTS, 'mean_inp');
  const minData = o.num('min-data');
  if (content === 'min_data' && minData === undefined) o.fail('--content min_data needs --min-data <value> (the dataset minimum in the normalised domain)');
  if (content !== 'min_data' && minData !== undefined) o.fail(`--min-data applies to --content min_data, not '${content}'`);
  return {
    segmentation,
    components,
    grid,
    method: o.oneOf('method', METHODS, 'slime'),
    content,
    minData,
    samples: o.int('samples', { min: 1, max: 1 << 26 }),
    sampler: o.oneOf('sampler', SAMPLERS, 'dedup'),
    distance: o.oneOf('distance', DISTANCES, 'cosine'),
    kernelWidth: o.num('kernel-width', { min: 0, exclusiveMin: true }),
    seed: o.int('seed', { def: 0, min: 0, max: 0xffffffff }),
    top: o.int('top', { def: 3, min: 1, max: 1000 }),
    batch: o.int('batch', { def: 64, min: 1, max: 1 << 16 }),
    model: o.string('model', undefined, { nonEmpty: true }),
    engine: o.oneOf('engine', ENGINE_CHOICES, 'auto'),
    embed: o.flag('embed'),
  };
}

// The platform-neutral core (options, reproducing command, clip statistics) is shared with the
// web app's worker: src/explain/run.ts.
export { explainOptionsOf, clipStats } from '../../explain/run.ts';

/** A clip prepared for explanation (src/explain/run.ts `prepareSignal`), named by its path. */
export interface PreparedClip extends PreparedSignal {
  path: string;
}

export async function prepareClip(path: string, model: LoadedModel): Promise<PreparedClip> {
  const signal = await loadMono(path, model.frontEnd.sampleRate);
  return { ...prepareSignal(path, signal, model.frontEnd, model.stats), path };
}

/** Time (s) of the centre of original frame c, and back (the nearest frame). */
export const frameToSeconds = (fe: FrontEnd, c: number) => frameSeconds(fe.config, c);
export const secondsToFrame = (fe: FrontEnd, s: number, nFrames: number) => nearestFrame(fe.config, s, nFrames);

/** P(voice) per frame over the clip (fully-convolutional form, one pass). */
export async function framePredictions(model: LoadedModel, clip: PreparedClip): Promise<Float32Array> {
  const rows = clip.padded.length / clip.fe.nMels;
  return model.classifier.predictFrames(clip.padded, rows, { padded: true });
}

export interface ExplainedFiles {
  json: string;
  heatmap: string;
  excerpt: string;
  topk: string;
  rest: string;
  html: string;
}

export interface ExplainResult {
  explanation: Explanation;
  ctx: ExcerptContext;
  files: ExplainedFiles;
}

/**
 * Explain the excerpt centred on frame `c` of a prepared clip and write the six files into
 * `outDir`. `onProgress(done, total)` follows the forward passes.
 */
export async function explainExcerptToDir(
  model: LoadedModel,
  clip: PreparedClip,
  c: number,
  s: ExplainSettings,
  outDir: string,
  opts: { onProgress?: (done: number, total: number) => void; extraHtml?: { logmel?: string }; command?: string } = {},
): Promise<ExplainResult> {
  const fe = clip.fe;
  const { explanation: e, excerpt: x, ctx, json, command } = await explainExcerpt({
    classifier: model.classifier,
    engine: model.classifier.engine,
    clip: { ...clip, name: clip.path },
    centreFrame: c,
    settings: s,
    modelSpec: model.spec,
    modelOption: s.model,
    out: outDir,
    command: opts.command,
    onProgress: opts.onProgress,
  });
  await mkdir(outDir, { recursive: true });
  const files: ExplainedFiles = {
    json: join(outDir, 'explanation.json'),
    heatmap: join(outDir, 'heatmap.png'),
    excerpt: join(outDir, 'excerpt.wav'),
    topk: join(outDir, 'topk.wav'),
    rest: join(outDir, 'rest.wav'),
    html: join(outDir, 'index.html'),
  };
  const png = renderHeatmap(e, x, { topK: s.top, deflate: nodeDeflate });
  const audio = listenable(e, clip.signal, ctx, { topK: s.top });
  const sr = fe.config.sampleRate;
  await writeFileAtomic(files.json, json);
  await writeFileAtomic(files.heatmap, png);
  await writeWavFile(files.excerpt, { sampleRate: sr, channels: [audio.excerpt] });
  await writeWavFile(files.topk, { sampleRate: sr, channels: [audio.kept] });
  await writeWavFile(files.rest, { sampleRate: sr, channels: [audio.rest] });
  const html = renderHtml(e, {
    ctx,
    files: { heatmap: 'heatmap.png', excerpt: 'excerpt.wav', topk: 'topk.wav', rest: 'rest.wav', json: 'explanation.json', logmel: opts.extraHtml?.logmel },
    embed: s.embed
      ? {
          heatmap: png,
          excerpt: encodeWav({ sampleRate: sr, channels: [audio.excerpt] }),
          topk: encodeWav({ sampleRate: sr, channels: [audio.kept] }),
          rest: encodeWav({ sampleRate: sr, channels: [audio.rest] }),
        }
      : undefined,
    command,
    topK: s.top,
    listenMode: audio.mode,
  });
  await writeFileAtomic(files.html, html);
  return { explanation: e, ctx, files };
}

/** A progress bar over forward passes (the explainer reports its total with each batch). */
function progressFor(label: string): { bar: Progress; onProgress: (done: number, total: number) => void } {
  const bar = new Progress(label, 0, { unit: 'passes' });
  return { bar, onProgress: (done, total) => bar.update(done, total) };
}

export async function explainCommand(args: string[]): Promise<number> {
  const o: Options = Options.parse('explain', args, EXPLAIN_OPTIONS);
  const clipPath = o.onePositional('input WAV file');
  const out = o.required('out', 'explain needs --out <dir>');
  const settings = parseSettings(o.values);
  const allFrames = o.flag('all-frames');
  const atSec = o.num('at', { min: 0 });
  if (allFrames && atSec !== undefined) o.fail('--at and --all-frames exclude each other');
  const every = o.int('every', { min: 1, max: 2 ** 31 - 1 });
  if (every !== undefined && !allFrames) o.fail('--every applies to --all-frames');

  const model = await loadModel(settings.model, { engine: settings.engine, onInfo: (m) => process.stderr.write(`earshot explain: ${m}\n`) });
  try {
    const clip = await prepareClip(clipPath, model);
    const fe = clip.fe;
    const dur = clip.signal.length / fe.config.sampleRate;
    if (!allFrames) {
      let c: number;
      if (atSec !== undefined) {
        if (atSec > dur) o.fail(`--at ${atSec} is past the end of ${clipPath} (${dur.toFixed(3)} s)`);
        c = secondsToFrame(fe, atSec, clip.nFrames);
      } else {
        const p = await framePredictions(model, clip);
        c = 0;
        for (let i = 1; i < p.length; i++) if (p[i]! > p[c]!) c = i;
        process.stderr.write(`earshot explain: no --at given; explaining the excerpt with the highest P(${model.classifier.labels[0]}) = ${p[c]!.toFixed(3)} at ${frameToSeconds(fe, c).toFixed(3)} s\n`);
      }
      const { bar, onProgress } = progressFor('explain');
      const r = await explainExcerptToDir(model, clip, c, settings, out, { onProgress });
      bar.finish();
      const e = r.explanation;
      process.stderr.write(
        `earshot explain: P(${e.label}) = ${e.prediction.toFixed(3)} at ${frameToSeconds(fe, c).toFixed(3)} s; top-${settings.top} positive: ${e.topPositive(settings.top).map((j) => e.components.names[j]).join(', ') || 'none'} (fidelity R² ${e.score.toFixed(3)}, ${e.forwardPasses} forward passes)\n`,
      );
      for (const f of Object.values(r.files)) console.log(resolve(f));
      return 0;
    }

    // --all-frames: excerpts centred on 57, 57 + E, … (tiling the file when E = 115)
    const E = every ?? fe.config.excerptFrames;
    const first = Math.min(fe.config.padFrames, clip.nFrames - 1);
    const centres: number[] = [];
    for (let c = first; c < clip.nFrames; c += E) centres.push(c);
    const bar = new Progress('explain --all-frames', centres.length, { unit: 'excerpts' });
    const rows: Array<{ frame: number; seconds: number; prediction: number; topPositive: string[]; score: number; dir: string }> = [];
    for (let i = 0; i < centres.length; i++) {
      const c = centres[i]!;
      const sub = `frame-${String(c).padStart(6, '0')}`;
      const r = await explainExcerptToDir(model, clip, c, settings, join(out, sub));
      const e = r.explanation;
      rows.push({ frame: c, seconds: frameToSeconds(fe, c), prediction: e.prediction, topPositive: e.topPositive(settings.top).map((j) => e.components.names[j]!), score: e.score, dir: sub });
      bar.update(i + 1);
    }
    bar.finish();
    const index = { format: 'earshot-explanation-index', formatVersion: 1, source: clipPath, every: E, model: model.spec, excerpts: rows };
    await writeFileAtomic(join(out, 'index.json'), JSON.stringify(index, null, 2));
    const table = rows
      .map(
        (r) =>
          `<tr><td>${r.seconds.toFixed(2)}</td><td>${r.frame}</td><td>${r.prediction.toFixed(3)}</td><td>${escapeHtml(r.topPositive.join(', '))}</td><td>${r.score.toFixed(3)}</td>` +
          `<td><a href="${r.dir}/index.html"><img src="${r.dir}/heatmap.png" alt="" style="height:60px"></a></td></tr>`,
      )
      .join('\n');
    const html =
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>earshot: ${escapeHtml(basename(clipPath))}, every ${E} frames</title>` +
      `<style>body{font:15px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}img{image-rendering:pixelated}</style></head><body>` +
      `<h1>${escapeHtml(basename(clipPath))}: explanations every ${E} frames</h1><p>Model <code>${escapeHtml(model.spec)}</code>. Click a row's picture for its page.</p>` +
      `<table><thead><tr><th>seconds</th><th>frame</th><th>P(${escapeHtml(model.classifier.labels[0]!)})</th><th>top-${settings.top} positive</th><th>R²</th><th></th></tr></thead><tbody>${table}</tbody></table></body></html>\n`;
    await writeFileAtomic(join(out, 'index.html'), html);
    console.log(resolve(out, 'index.json'));
    console.log(resolve(out, 'index.html'));
    for (const r of rows) console.log(resolve(out, r.dir, 'index.html'));
    return 0;
  } finally {
    model.classifier.dispose();
  }
}

/**
 * Explainers with options of their own live in their own command modules; `--method` picks
 * one (loaded on demand). slime and kernelshap share the spectrogram-component options above.
 */
const OTHER_METHODS: Record<string, () => Promise<Command>> = {
  audiolime: async () => (await import('./explain-audiolime.ts')).explainAudioLimeCmd,
  lmac: async () => (await import('./explain-lmac.ts')).explainLmacCmd,
};

function methodOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--method') return args[i + 1];
    if (a.startsWith('--method=')) return a.slice('--method='.length);
  }
  return undefined;
}

export const explainCmd: Command = {
  summary: 'explain the model on a WAV (SLIME / KernelSHAP / other --method): JSON, PNG, WAVs, HTML',
  handlesHelp: true,
  help: HELP,
  async run(args: string[]): Promise<number> {
    const m = methodOf(args);
    const other = m ? OTHER_METHODS[m] : undefined;
    if (other) {
      const cmd = await other();
      if (args.includes('--help') || args.includes('-h')) {
        console.log(cmd.help);
        return 0;
      }
      return cmd.run(args);
    }
    if (args.includes('--help') || args.includes('-h')) {
      console.log(HELP + (Object.keys(OTHER_METHODS).length ? `\n\nOther methods (see \`earshot explain --method <m> --help\`): ${Object.keys(OTHER_METHODS).join(', ')}` : ''));
      return 0;
    }
    return explainCommand(args);
  },
};
