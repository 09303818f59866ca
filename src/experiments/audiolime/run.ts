/**
 * `earshot experiment audiolime`: the three validations of audioLIME (Haunschmid et al. 2020;
 * methods.md §5) on held-out songs of the in-project corpus, each a set of resumable jobs
 * (./tasks.ts through src/experiments/journal.ts), each written as CSV + PNG + a text summary
 * into the output folder (results/audiolime/ for the committed run):
 *
 * - confound: share of held-out clips where audioLIME names the spurious tone as the top source
 *   for the confounded model (assets/models/svd-confounded) and the vocals for the clean one;
 * - sanity: Spearman rank correlation with the trained model's explanation as layers are
 *   re-initialised from the top, audioLIME beside SLIME;
 * - oracle: top-3 agreement of audioLIME on HPSS / REPET-SIM / NMF sources with audioLIME on the
 *   true stems.
 *
 * Clips: for every test song, the window of `seconds` (at whole-second offsets) whose voiced
 * fraction is closest to ½, so each clip has both voice and no voice.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import { listCorpus } from '../../model/dataset.ts';
import { SVD_FRONTEND } from '../../frontend/config.ts';
import { Journal, runJobs } from '../journal.ts';
import { barChart, lineChart } from './charts.ts';
import { readLabels } from './confound.ts';
import { AUDIOLIME_TASK_MODULE, CASCADE, type AudioLimeJob, type ClipSpec, type CommonSettings, type ConfoundResult, type OracleResult, type SanityResult } from './tasks.ts';

export const STAGES = ['confound', 'sanity', 'oracle'] as const;
export type Stage = (typeof STAGES)[number];

export interface ExperimentSettings extends CommonSettings {
  corpus: string;
  out: string;
  model: string;
  confounded: string;
  stages: Stage[];
  /** Held-out clips for confound and oracle (0 = every test song). */
  clips: number;
  sanityClips: number;
  /** d of the SLIME explanation in the sanity check (temporal; default 10). */
  slimeComponents: number;
  seconds: number;
  workers: number;
  engine: string;
  fresh: boolean;
  log: (line: string) => void;
}

/** The test songs' windows with a voiced fraction closest to ½. */
export async function heldOutClips(corpus: string, seconds: number, limit: number): Promise<ClipSpec[]> {
  const entries = (await listCorpus(corpus)).filter((e) => e.split === 'test');
  const fps = SVD_FRONTEND.sampleRate / SVD_FRONTEND.hop;
  const out: ClipSpec[] = [];
  for (const e of entries) {
    const labels = await readLabels(e.labels);
    const dur = (labels.length - 1) / fps + SVD_FRONTEND.nFft / SVD_FRONTEND.sampleRate;
    let best = -1;
    let bestGap = Infinity;
    for (let s = 0; s + seconds <= dur - 0.05; s++) {
      const f0 = Math.round(s * fps);
      const f1 = Math.min(labels.length, Math.round((s + seconds) * fps));
      let v = 0;
      for (let f = f0; f < f1; f++) v += labels[f]!;
      const gap = Math.abs(v / Math.max(1, f1 - f0) - 0.5);
      if (gap < bestGap) {
        bestGap = gap;
        best = s;
      }
    }
    if (best < 0) continue;
    out.push({ id: e.id, mix: e.mix, vocals: join(e.dir, 'vocals.wav'), accompaniment: e.accompaniment, labels: e.labels, start: best, seconds });
    if (limit > 0 && out.length >= limit) break;
  }
  if (out.length === 0) throw new EarshotError('CORPUS_EMPTY', `corpus ${corpus}: no test song is at least ${seconds} s long`);
  return out;
}

const csvCell = (v: unknown) => {
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (rows: unknown[][]) => rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

async function stageJobs<R>(s: ExperimentSettings, stage: Stage, jobs: Array<{ key: string; input: AudioLimeJob }>, config: Record<string, unknown>): Promise<R[]> {
  const journal = await Journal.open<R>(join(s.out, `journal-${stage}.jsonl`), config, { resume: !s.fresh });
  return runJobs<AudioLimeJob, R, { threads: number; engine: string }>({
    jobs, journal: journal as never, task: 'audiolime', taskModule: AUDIOLIME_TASK_MODULE,
    initData: { threads: s.workers > 1 ? 1 : 2, engine: s.engine }, workers: s.workers, label: `audiolime ${stage}`,
  });
}

export async function runAudioLimeExperiment(s: ExperimentSettings): Promise<string[]> {
  await mkdir(s.out, { recursive: true });
  const common: CommonSettings = { segments: s.segments, samples: s.samples, seed: s.seed };
  const clips = await heldOutClips(s.corpus, s.seconds, s.clips);
  const summary: string[] = [
    `audioLIME validations (earshot experiment audiolime), ${new Date().toISOString()}`,
    `corpus ${s.corpus}: ${clips.length} held-out (test) clips of ${s.seconds} s (the window whose voiced fraction is closest to 1/2); ${s.segments} temporal segments; N_s = ${s.samples} (dedup), seed ${s.seed}; model ${s.model}`,
    '',
  ];
  const written: string[] = [];
  const write = async (name: string, data: string | Uint8Array) => {
    const p = join(s.out, name);
    await writeFile(p, data);
    written.push(resolve(p));
  };
  const base = { corpus: resolve(s.corpus), seconds: s.seconds, ...common, engine: s.engine };

  if (s.stages.includes('confound')) {
    const models = [['default', s.model], ['confounded', s.confounded]] as const;
    const jobs = models.flatMap(([name, dir]) => clips.map((clip) => ({ key: `${name}/${clip.id}`, input: { kind: 'confound', clip, model: resolve(dir), settings: common } as AudioLimeJob })));
    const res = await stageJobs<ConfoundResult>(s, 'confound', jobs, { stage: 'confound', ...base, models: models.map(([n, d]) => [n, resolve(d)]), clips: clips.map((c) => `${c.id}@${c.start}`) });
    const rows: unknown[][] = [['clip', 'start_s', 'model', 'top_source', 'top_component', 'top_source_by_positive_sum', 'positive_vocals', 'positive_accompaniment', 'positive_tone', 'mean_p_voice', 'r2']];
    const share: Record<string, Record<string, number>> = {};
    jobs.forEach((j, i) => {
      const r = res[i]!;
      const [model] = j.key.split('/') as [string];
      const clip = (j.input as { clip: ClipSpec }).clip;
      rows.push([clip.id, clip.start, model, r.topSource, r.topComponent, r.topSourceBySum, r.positiveBySource.vocals, r.positiveBySource.accompaniment, r.positiveBySource.tone, r.prediction, r.score]);
      share[model] ??= { vocals: 0, accompaniment: 0, tone: 0 };
      share[model]![r.topSource]! += 1 / clips.length;
    });
    await write('confound.csv', csv(rows));
    await write('confound.png', barChart(models.map(([n]) => ['tone', 'vocals', 'accompaniment'].map((src) => share[n]![src]!))));
    summary.push(
      'confound: the spurious tone (3 kHz beeps where voiced) given as a source of its own; top source = the source of the highest-weighted component',
      ...models.map(([n]) => `  ${n.padEnd(10)} top source tone ${pct(share[n]!.tone!)}, vocals ${pct(share[n]!.vocals!)}, accompaniment ${pct(share[n]!.accompaniment!)} of ${clips.length} clips`),
      `  PASS criteria: confounded model → tone (${pct(share.confounded!.tone!)}), default model → vocals (${pct(share.default!.vocals!)})`,
      '  confound.png: bars per model (default, confounded): share with top source tone (red), vocals (blue), accompaniment (green)',
      '',
    );
  }

  if (s.stages.includes('sanity')) {
    const sclips = clips.slice(0, Math.max(1, s.sanityClips));
    const jobs = sclips.map((clip) => ({ key: clip.id, input: { kind: 'sanity', clip, model: resolve(s.model), settings: common, randomSeed: 12345, slimeComponents: s.slimeComponents } as AudioLimeJob }));
    const res = await stageJobs<SanityResult>(s, 'sanity', jobs, { stage: 'sanity', ...base, slimeComponents: s.slimeComponents, model: resolve(s.model), clips: sclips.map((c) => `${c.id}@${c.start}`) });
    const depths = ['none', ...CASCADE];
    const rows: unknown[][] = [['clip', 'depth', 'randomised_up_to', 'spearman_audiolime', 'spearman_slime', 'mean_p_voice']];
    res.forEach((r, i) => r.depths.forEach((d, k) => rows.push([sclips[i]!.id, k, d, r.audiolime[k]!, r.slime[k]!, r.predictions[k]!])));
    const mA = depths.map((_, k) => mean(res.map((r) => r.audiolime[k]!)));
    const mS = depths.map((_, k) => mean(res.map((r) => r.slime[k]!)));
    await write('sanity.csv', csv(rows));
    await write('sanity.png', lineChart([mA, mS]));
    summary.push(
      `sanity (cascading randomisation from the top, ${sclips.length} clips): mean Spearman rank correlation with the trained model's explanation`,
      `  ${'randomised'.padEnd(22)} audioLIME  SLIME(temporal d = ${s.slimeComponents}, middle excerpt)`,
      ...depths.map((d, k) => `  ${(k === 0 ? 'none' : `${CASCADE.slice(0, k).join('+')}`).padEnd(22)} ${mA[k]!.toFixed(3).padStart(9)}  ${mS[k]!.toFixed(3).padStart(6)}`),
      '  sanity.png: x = depth (0 = trained … 7 = all layers random), y = Spearman in [−1, 1]; red audioLIME, blue SLIME',
      '',
    );
  }

  if (s.stages.includes('oracle')) {
    const jobs = clips.map((clip) => ({ key: clip.id, input: { kind: 'oracle', clip, model: resolve(s.model), settings: common } as AudioLimeJob }));
    const res = await stageJobs<OracleResult>(s, 'oracle', jobs, { stage: 'oracle', ...base, model: resolve(s.model), clips: clips.map((c) => `${c.id}@${c.start}`) });
    const rows: unknown[][] = [['clip', 'method', 'top3_overlap', 'top3_segment_overlap', 'oracle_top3', 'separated_top3', 'mapped_top3', 'mapping']];
    const methods = ['hpss', 'repet', 'nmf'];
    res.forEach((r, i) =>
      methods.forEach((m) => {
        const x = r.methods[m]!;
        rows.push([clips[i]!.id, m, x.overlap, x.segmentOverlap, r.oracleTop3.join(' '), x.top3.join(' '), x.mapped.join(' '), Object.entries(x.mapping).map(([a, b]) => `${a}->${b}`).join(' ')]);
      }),
    );
    const ov = methods.map((m) => mean(res.map((r) => r.methods[m]!.overlap / 3)));
    const so = methods.map((m) => mean(res.map((r) => r.methods[m]!.segmentOverlap / 3)));
    const full = methods.map((m) => mean(res.map((r) => (r.methods[m]!.overlap === 3 ? 1 : 0))));
    await write('oracle.csv', csv(rows));
    await write('oracle.png', barChart(methods.map((_, k) => [ov[k]!, so[k]!])));
    summary.push(
      `oracle vs separated stems (${clips.length} clips): audioLIME's top-3 on separated sources (each mapped to the true stem it correlates with most) vs on the true stems`,
      ...methods.map((m, k) => `  ${m.padEnd(6)} mean top-3 overlap ${(3 * ov[k]!).toFixed(2)}/3 (${pct(ov[k]!)}), all 3 agree on ${pct(full[k]!)} of clips; top-3 segments overlap ${(3 * so[k]!).toFixed(2)}/3`),
      `  chance level (two random 3-sets of the d = ${2 * s.segments} components): ${(9 / (2 * s.segments)).toFixed(2)}/3`,
      '  oracle.png: bars per method (hpss, repet, nmf): mean top-3 overlap / 3 (red), mean top-3 segment overlap / 3 (blue)',
      '',
    );
  }
  // each stage keeps its own summary (stages may run with different settings); summary.txt joins them
  const head = summary.slice(0, 3);
  const parts: Record<string, string[]> = {};
  let cur: string | null = null;
  for (const l of summary.slice(3)) {
    const st = STAGES.find((x) => l.startsWith(`${x}`));
    if (st) cur = st;
    if (cur) (parts[cur] ??= []).push(l);
  }
  for (const [st, lines] of Object.entries(parts)) await write(`summary-${st}.txt`, [...head, ...lines].join('\n') + '\n');
  const all: string[] = [];
  for (const st of STAGES) {
    try {
      all.push(await readFile(join(s.out, `summary-${st}.txt`), 'utf8'));
    } catch {
      // that stage has not been run into this folder
    }
  }
  await write('summary.txt', all.join('\n'));
  for (const l of summary) s.log(l);
  return written;
}
