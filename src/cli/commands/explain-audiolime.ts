/**
 * `earshot explain mix.wav --method audiolime (--stems … | --stems-folder DIR | --separate
 * hpss|repet|nmf) --out DIR`: audioLIME (methods.md §5; src/explain/audiolime) on the
 * singing-voice model's mean P(voice) over a span of the clip (≤ 10 s). Writes explanation.json,
 * audiolime.png (sources × segments), mixture.wav (the explained span), topk.wav (the sum of the
 * top-k positive components: the listenable explanation), rest.wav, components/<name>.wav and
 * index.html, each atomically; paths on stdout, progress on stderr.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono, writeWavFile } from '../../audio/node.ts';
import { explainAudioLime } from '../../explain/audiolime/explain.ts';
import { audioLimeToJSON, componentWaveform, listenableAudioLime, renderAudioLimeHtml, renderAudioLimePng } from '../../explain/audiolime/render.ts';
import { FrontEnd } from '../../frontend/index.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import { separate, SEPARATION_METHODS, type SeparationMethod } from '../../separate/index.ts';
import { loadStems } from '../../separate/stems.ts';
import type { Command } from '../commands.ts';
import { loadModel } from '../model-loader.ts';
import { Progress } from '../progress.ts';
import { clipStats } from './explain.ts';
import { parseCommandArgs, writeFileAtomic } from './mel.ts';

/** The longest span explained in one run (the default segmentation covers at most 10 s). */
export const MAX_SPAN_SECONDS = 10;

const HELP = `Usage: earshot explain <mix.wav> --method audiolime (--stems name=file.wav … | --stems-folder <dir> | --separate hpss|repet|nmf) --out <dir> [options]

audioLIME (Haunschmid et al. 2020; methods.md §5): LIME whose components are separated sources ×
temporal segments. A sample switches components on and off; the model hears the sum of the on
components (its own front end on that waveform). Explains the mean P(voice) over all frames of the
explained span. Writes into <dir>:
  explanation.json   every component's name, source, segment and weight; score, intercept, parameters
  audiolime.png      sources × segments: each source's waveform, cells tinted by weight, top-k outlined
  mixture.wav        the explained span; topk.wav the sum of the top-k positive components (the
                     listenable explanation); rest.wav everything else; components/<name>.wav each one
  index.html         all of it on one offline page, a player per component

Sources (exactly one):
  --stems name=file.wav   a stem (repeatable); they should sum to the mixture (else a 'residual' is added)
  --stems-folder <dir>    every .wav in the folder is a stem named after its file
  --separate <m>          hpss | repet | nmf: separate the span in earshot's core (docs/separate.md)

Span and components:
  --start <s>             start of the explained span in seconds                        [0]
  --duration <s>          its length, at most ${MAX_SPAN_SECONDS} s               [the rest of the clip, ≤ ${MAX_SPAN_SECONDS}]
  --segments <N>          N equal temporal segments (remainder dropped)   [one per second, ≤ 10]
  --boundaries <list>     explicit segment boundaries in seconds within the span, e.g. 0,2.5,5,10

Explainer:
  --samples <N>           N_s                                                            [2048]
  --sampler <s>           random | dedup | exhaustive (d ≤ 16)                          [dedup]
  --distance <d>          cosine | euclidean                                            [cosine]
  --kernel-width <w>      LIME kernel width                                             [0.25]
  --seed <S>              sampler seed                                                  [0]
  --top <K>               top-k positive components to play and outline                 [3]
  --no-cache              one full-clip pass per sample (no receptive-field caching)

Model and output:
  --model <dir>           weight directory or random:SEED               [assets/models/svd-default]
  --engine <e>            auto | tfjs | ort | ort-web                                    [auto]
  --batch <N>             inputs per forward pass (excerpt models)                      [64]
  -o, --out <dir>         output directory (created if needed)`;

const OPTIONS = {
  method: { type: 'string' },
  'stems-folder': { type: 'string' },
  separate: { type: 'string' },
  start: { type: 'string' },
  duration: { type: 'string' },
  segments: { type: 'string' },
  boundaries: { type: 'string' },
  samples: { type: 'string' },
  sampler: { type: 'string' },
  distance: { type: 'string' },
  'kernel-width': { type: 'string' },
  seed: { type: 'string' },
  top: { type: 'string' },
  'no-cache': { type: 'boolean' },
  model: { type: 'string' },
  engine: { type: 'string' },
  batch: { type: 'string' },
  out: { type: 'string', short: 'o' },
} as const;

function usage(msg: string): never {
  throw new EarshotError('BAD_USAGE', `${msg} (see \`earshot explain --method audiolime --help\`)`);
}

function int(v: unknown, name: string, min: number, max = 2 ** 31 - 1): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) usage(`--${name} must be an integer in [${min}, ${max}], got '${s}'`);
  return Number(s);
}

function num(v: unknown, name: string, min: number, exclusive = false): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const x = Number(s);
  if (s === '' || !Number.isFinite(x) || x < min || (exclusive && x === min)) usage(`--${name} must be a number ${exclusive ? '>' : '≥'} ${min}, got '${String(v)}'`);
  return x;
}

function oneOf<T extends string>(v: unknown, name: string, allowed: readonly T[], def: T): T {
  if (v === undefined) return def;
  if (!(allowed as readonly string[]).includes(String(v))) usage(`--${name} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}

/** Split off the repeatable --stems name=file options. */
function takeStems(args: string[]): { stems: Record<string, string>; rest: string[] } {
  const stems: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--stems' || a.startsWith('--stems=')) {
      const v = a === '--stems' ? args[++i] : a.slice('--stems='.length);
      if (v === undefined) usage('--stems needs name=file.wav');
      const eq = v.indexOf('=');
      if (eq <= 0 || eq === v.length - 1) usage(`--stems must be name=file.wav, got '${v}'`);
      const name = v.slice(0, eq);
      if (name in stems) usage(`--stems: stem '${name}' is given twice`);
      stems[name] = v.slice(eq + 1);
    } else rest.push(a);
  }
  return { stems, rest };
}

const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function explainAudioLimeCommand(args: string[]): Promise<number> {
  const { stems, rest } = takeStems(args);
  const { values, positionals } = parseCommandArgs('explain --method audiolime', rest, OPTIONS as unknown as Record<string, { type: 'string' | 'boolean'; short?: string }>);
  if (values.method !== undefined && values.method !== 'audiolime') usage(`this command is --method audiolime, got --method ${String(values.method)}`);
  if (positionals.length !== 1) usage(`explain needs exactly one mixture WAV file, got ${positionals.length}${positionals.length ? ` (${positionals.join(' ')})` : ''}`);
  const mixPath = positionals[0]!;
  const out = values.out as string | undefined;
  if (!out) usage('explain needs --out <dir>');
  const folder = values['stems-folder'] as string | undefined;
  const sep = values.separate as string | undefined;
  const given = [Object.keys(stems).length > 0, folder !== undefined, sep !== undefined].filter(Boolean).length;
  if (given !== 1) usage('audioLIME needs exactly one source of components: --stems name=file.wav (repeatable), --stems-folder <dir> or --separate hpss|repet|nmf');
  if (sep !== undefined && !(SEPARATION_METHODS as readonly string[]).includes(sep)) usage(`--separate must be one of ${SEPARATION_METHODS.join(', ')}, got '${sep}'`);
  const start = num(values.start, 'start', 0) ?? 0;
  const durationOpt = num(values.duration, 'duration', 0, true);
  if (durationOpt !== undefined && durationOpt > MAX_SPAN_SECONDS) usage(`--duration must be at most ${MAX_SPAN_SECONDS} s, got ${durationOpt}`);
  const segments = int(values.segments, 'segments', 1, 10_000);
  let boundaries: number[] | undefined;
  if (values.boundaries !== undefined) {
    if (segments !== undefined) usage('give either --segments or --boundaries, not both');
    boundaries = String(values.boundaries).split(',').map((s, i) => {
      const x = Number(s.trim());
      if (s.trim() === '' || !Number.isFinite(x) || x < 0) usage(`--boundaries must be comma-separated times ≥ 0 in seconds; item ${i + 1} is '${s}'`);
      return x;
    });
    if (boundaries.length < 2) usage('--boundaries needs at least two times (N + 1 for N segments)');
  }
  const samples = int(values.samples, 'samples', 1, 1 << 24) ?? 2048;
  const sampler = oneOf(values.sampler, 'sampler', ['random', 'dedup', 'exhaustive'] as const, 'dedup');
  const distance = oneOf(values.distance, 'distance', ['cosine', 'euclidean'] as const, 'cosine');
  const kernelWidth = num(values['kernel-width'], 'kernel-width', 0, true) ?? 0.25;
  const seed = int(values.seed, 'seed', 0, 0xffffffff) ?? 0;
  const top = int(values.top, 'top', 1, 1000) ?? 3;
  const batch = int(values.batch, 'batch', 1, 1 << 16) ?? 64;
  const engine = oneOf(values.engine, 'engine', ['auto', 'tfjs', 'ort', 'ort-web'] as const, 'auto');
  const modelSpec = values.model as string | undefined;
  if (modelSpec === '') usage('--model must not be empty');

  const model = await loadModel(modelSpec, { engine, onInfo: (m) => process.stderr.write(`earshot explain: ${m}\n`) });
  try {
    const fe = new FrontEnd(model.frontEnd);
    const sr = fe.config.sampleRate;
    // the sources, at the front end's rate
    let names: string[];
    let sources: Float32Array[];
    const notes: string[] = [];
    if (sep !== undefined) {
      const mix = await loadMono(mixPath, sr);
      const a = Math.min(mix.length, Math.round(start * sr));
      const b = Math.min(mix.length, a + Math.round((durationOpt ?? Math.min(MAX_SPAN_SECONDS, mix.length / sr - start)) * sr));
      if (b <= a) usage(`--start ${start} is at or past the end of ${mixPath} (${(mix.length / sr).toFixed(3)} s)`);
      const r = separate(mix.slice(a, b), sr, { method: sep as SeparationMethod });
      names = r.names;
      sources = r.sources;
      notes.push(`Sources separated from the span by ${sep} (earshot's core; docs/separate.md).`);
    } else {
      const r = await loadStems(mixPath, folder !== undefined ? { folder, sampleRate: sr } : { stems, sampleRate: sr });
      if (r.residualAdded) {
        notes.push(`The stems did not sum to the mixture (max difference ${r.maxDifference.toExponential(2)} of its peak): their difference is the source 'residual'.`);
        process.stderr.write(`earshot explain: ${notes[notes.length - 1]}\n`);
      }
      const n = r.sources[0]!.length;
      const a = Math.round(start * sr);
      if (a >= n) usage(`--start ${start} is at or past the end of ${mixPath} (${(n / sr).toFixed(3)} s)`);
      const b = Math.min(n, a + Math.round((durationOpt ?? MAX_SPAN_SECONDS) * sr));
      names = r.names;
      sources = r.sources.map((x) => x.slice(a, b));
      notes.push(`Sources: user stems (${names.join(', ')}).`);
    }
    const spanSamples = sources[0]!.length;
    if (durationOpt === undefined && spanSamples >= MAX_SPAN_SECONDS * sr && start === 0) {
      process.stderr.write(`earshot explain: explaining the first ${MAX_SPAN_SECONDS} s (give --start/--duration for another span)\n`);
    }
    let stats = model.stats;
    if (!stats) {
      const mixture = new Float32Array(spanSamples);
      for (const x of sources) for (let i = 0; i < spanSamples; i++) mixture[i] += x[i]!;
      const lm = fe.logMel(mixture);
      if (lm.nFrames === 0) usage(`the span has ${spanSamples} samples, fewer than one front-end frame`);
      stats = clipStats(lm.data, lm.nMels);
      notes.push('The model has no normalisation statistics: the span\'s own were used.');
    }
    const bar = new Progress('audiolime', 0, { unit: 'passes' });
    const e = await explainAudioLime(
      model.classifier,
      { names, sources, sampleRate: sr },
      {
        segments, boundaries, numSamples: samples, sampler, distance, kernelWidth, seed, batchSize: batch, normStats: stats, frontEnd: model.frontEnd,
        cache: values['no-cache'] ? false : 'auto',
        onProgress: (done, total) => bar.update(done, total),
      },
    );
    bar.finish();
    const command = [
      'earshot', 'explain', q(mixPath), '--method', 'audiolime',
      ...(sep !== undefined ? ['--separate', sep] : folder !== undefined ? ['--stems-folder', q(folder)] : Object.entries(stems).flatMap(([k, v]) => ['--stems', q(`${k}=${v}`)])),
      '--start', String(start), '--duration', (spanSamples / sr).toFixed(4),
      ...(segments !== undefined ? ['--segments', String(segments)] : []),
      ...(boundaries ? ['--boundaries', boundaries.join(',')] : []),
      '--samples', String(samples), '--sampler', sampler, '--distance', distance, '--kernel-width', String(kernelWidth), '--seed', String(seed), '--top', String(top),
      ...(values['no-cache'] ? ['--no-cache'] : []),
      ...(modelSpec !== undefined ? ['--model', q(modelSpec)] : []),
      '--out', q(out),
    ].join(' ');
    await mkdir(join(out, 'components'), { recursive: true });
    const c = e.components;
    const files = {
      json: join(out, 'explanation.json'),
      png: join(out, 'audiolime.png'),
      mixture: join(out, 'mixture.wav'),
      topk: join(out, 'topk.wav'),
      rest: join(out, 'rest.wav'),
      html: join(out, 'index.html'),
    };
    const listen = listenableAudioLime(e, top);
    const all = c.waveform(new Uint8Array(c.d).fill(1));
    await writeFileAtomic(files.json, audioLimeToJSON(e, top, { engine: model.classifier.engine, model: model.spec, source: mixPath, startSeconds: start, command, normalisation: model.stats ? 'model' : 'clip' }));
    await writeFileAtomic(files.png, renderAudioLimePng(e, { topK: top, deflate: nodeDeflate }));
    await writeWavFile(files.mixture, { sampleRate: sr, channels: [all] }, { format: 'pcm16' });
    await writeWavFile(files.topk, { sampleRate: sr, channels: [listen.topk] }, { format: 'pcm16' });
    await writeWavFile(files.rest, { sampleRate: sr, channels: [listen.rest] }, { format: 'pcm16' });
    const compFiles: string[] = [];
    for (let j = 0; j < c.d; j++) {
      const rel = `components/${c.names[j]}.wav`;
      await writeWavFile(join(out, rel), { sampleRate: sr, channels: [componentWaveform(e, j)] }, { format: 'pcm16' });
      compFiles.push(rel);
    }
    await writeFileAtomic(
      files.html,
      renderAudioLimeHtml(e, { files: { png: 'audiolime.png', json: 'explanation.json', mixture: 'mixture.wav', topk: 'topk.wav', rest: 'rest.wav', components: compFiles }, command, topK: top, notes, title: `audioLIME: ${mixPath}` }),
    );
    const p = e.params;
    process.stderr.write(
      `earshot explain: mean P(${e.label}) = ${e.prediction.toFixed(3)} over ${String(p.frames ?? '?')} frames; top-${top} positive: ${e.topPositive(top).map((j) => c.names[j]).join(', ') || 'none'} ` +
        `(fidelity R² ${e.score.toFixed(3)}; ${String(p.framesEvaluated ?? '?')} frames through the model instead of ${String(p.framesPlain ?? '?')})\n`,
    );
    for (const f of Object.values(files)) console.log(resolve(f));
    return 0;
  } finally {
    model.classifier.dispose();
  }
}

export const explainAudioLimeCmd: Command = {
  summary: 'audioLIME: explain with separated sources × temporal segments (listenable)',
  help: HELP,
  run: explainAudioLimeCommand,
};
