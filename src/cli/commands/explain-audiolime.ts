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
import { writeFileAtomic } from './mel.ts';
import { Options, shellQuote, takeKeyValues, type OptionSpecs } from '../options.ts';

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
} as const satisfies OptionSpecs;

const COMMAND = 'explain --method audiolime';

export async function explainAudioLimeCommand(args: string[]): Promise<number> {
  const { pairs: stems, rest } = takeKeyValues(COMMAND, args, 'stems');
  const o: Options = Options.parse(COMMAND, rest, OPTIONS);
  if (o.has('method') && o.values.method !== 'audiolime') o.fail(`this command is --method audiolime, got --method ${String(o.values.method)}`);
  const mixPath = o.onePositional('mixture WAV file');
  const out = o.required('out', 'explain needs --out <dir>');
  const folder = o.string('stems-folder');
  const given = [Object.keys(stems).length > 0, folder !== undefined, o.has('separate')].filter(Boolean).length;
  if (given !== 1) o.fail('audioLIME needs exactly one source of components: --stems name=file.wav (repeatable), --stems-folder <dir> or --separate hpss|repet|nmf');
  const sep = o.has('separate') ? o.oneOf('separate', SEPARATION_METHODS) : undefined;
  const start = o.num('start', { def: 0, min: 0 });
  const durationOpt = o.num('duration', { min: 0, exclusiveMin: true });
  if (durationOpt !== undefined && durationOpt > MAX_SPAN_SECONDS) o.fail(`--duration must be at most ${MAX_SPAN_SECONDS} s, got ${durationOpt}`);
  const segments = o.int('segments', { min: 1, max: 10_000 });
  let boundaries: number[] | undefined;
  if (o.has('boundaries')) {
    if (segments !== undefined) o.fail('give either --segments or --boundaries, not both');
    boundaries = o.numList('boundaries', { min: 0 })!;
    if (boundaries.length < 2) o.fail('--boundaries needs at least two times (N + 1 for N segments)');
  }
  const samples = o.int('samples', { def: 2048, min: 1, max: 1 << 24 });
  const sampler = o.oneOf('sampler', ['random', 'dedup', 'exhaustive'] as const, 'dedup');
  const distance = o.oneOf('distance', ['cosine', 'euclidean'] as const, 'cosine');
  const kernelWidth = o.num('kernel-width', { def: 0.25, min: 0, exclusiveMin: true });
  const seed = o.int('seed', { def: 0, min: 0, max: 0xffffffff });
  const top = o.int('top', { def: 3, min: 1, max: 1000 });
  const batch = o.int('batch', { def: 64, min: 1, max: 1 << 16 });
  const engine = o.oneOf('engine', ['auto', 'tfjs', 'ort', 'ort-web'] as const, 'auto');
  const modelSpec = o.string('model', undefined, { nonEmpty: true });

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
      if (b <= a) o.fail(`--start ${start} is at or past the end of ${mixPath} (${(mix.length / sr).toFixed(3)} s)`);
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
      if (a >= n) o.fail(`--start ${start} is at or past the end of ${mixPath} (${(n / sr).toFixed(3)} s)`);
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
      if (lm.nFrames === 0) o.fail(`the span has ${spanSamples} samples, fewer than one front-end frame`);
      stats = clipStats(lm.data, lm.nMels);
      notes.push('The model has no normalisation statistics: the span\'s own were used.');
    }
    const bar = new Progress('audiolime', 0, { unit: 'passes' });
    const e = await explainAudioLime(
      model.classifier,
      { names, sources, sampleRate: sr },
      {
        segments, boundaries, numSamples: samples, sampler, distance, kernelWidth, seed, batchSize: batch, normStats: stats, frontEnd: model.frontEnd,
        cache: o.flag('no-cache') ? false : 'auto',
        onProgress: (done, total) => bar.update(done, total),
      },
    );
    bar.finish();
    const command = [
      'earshot', 'explain', shellQuote(mixPath), '--method', 'audiolime',
      ...(sep !== undefined ? ['--separate', sep] : folder !== undefined ? ['--stems-folder', shellQuote(folder)] : Object.entries(stems).flatMap(([k, v]) => ['--stems', shellQuote(`${k}=${v}`)])),
      '--start', String(start), '--duration', (spanSamples / sr).toFixed(4),
      ...(segments !== undefined ? ['--segments', String(segments)] : []),
      ...(boundaries ? ['--boundaries', boundaries.join(',')] : []),
      '--samples', String(samples), '--sampler', sampler, '--distance', distance, '--kernel-width', String(kernelWidth), '--seed', String(seed), '--top', String(top),
      ...(o.flag('no-cache') ? ['--no-cache'] : []),
      ...(modelSpec !== undefined ? ['--model', shellQuote(modelSpec)] : []),
      '--out', shellQuote(out),
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
