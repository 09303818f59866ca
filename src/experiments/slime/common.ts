/**
 * What the three SLIME experiment commands share (Node side): the model in the main thread
 * (statistics, front end, the ground-truth filter), the file set and its excerpts, the worker
 * initialisation data, the journal, CSV writing and the standard options.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { FrontEnd, NormStats, type BandStats } from '../../frontend/index.ts';
import { loadModel, type LoadedModel } from '../../cli/model-loader.ts';
import { writeFileAtomic } from '../../cli/commands/mel.ts';
import { Journal, runJobs } from '../journal.ts';
import { defaultFiles, displayName, excerptAt, excerptStarts, loadNormalised, minOver, modelFingerprint, type LoadedSpectrogram } from './data.ts';
import { TASK_MODULE, type WorkerInit } from './tasks.ts';

export interface CommonOptions {
  model?: string;
  engine: string;
  workers: number;
  batch: number;
  out: string;
  /** Where the resumable journals go (default: out/<--out> for results/…, else --out itself). */
  journalDir?: string;
  fresh: boolean;
  /** Progress on stderr (false in tests). */
  progress: boolean;
}

export interface Prepared {
  model: LoadedModel;
  stats: BandStats;
  statsSource: 'model' | 'files';
  fingerprint: string;
  init: WorkerInit;
}

export const SHAPE: [number, number] = [115, 80];

export function threadsPerWorker(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
}

/** Load the model in this thread; statistics = the model's, else the given files' (random:SEED). */
export async function prepareModel(o: CommonOptions, statsFiles: string[], log: (s: string) => void): Promise<Prepared> {
  const model = await loadModel(o.model, { engine: o.engine, onInfo: (m) => log(m) });
  let stats = model.stats;
  let statsSource: 'model' | 'files' = 'model';
  if (!stats) {
    const fe = new FrontEnd(model.frontEnd);
    const ns = new NormStats(fe.nMels);
    for (const f of statsFiles) {
      const lm = fe.logMel(await loadMono(f, fe.config.sampleRate, { onWarning: () => {} }));
      ns.add(lm.data, lm.nFrames);
    }
    stats = ns.finish();
    statsSource = 'files';
  }
  const fingerprint = await modelFingerprint(model.dir, model.spec);
  const init: WorkerInit = {
    model: o.model,
    engine: o.engine,
    threads: threadsPerWorker(o.workers),
    batchSize: o.batch,
    stats: { mean: Array.from(stats.mean), std: Array.from(stats.std) },
    minData: 0,
    shape: SHAPE,
  };
  return { model, stats, statsSource, fingerprint, init };
}

export interface ExcerptRef {
  key: string;
  file: string;
  start: number;
  x: Float32Array;
}

/** The files (given or the default set), their spectrograms and excerpts. */
export async function loadExcerpts(p: Prepared, given: string[], corpus: string, perFile: number | undefined): Promise<{ excerpts: ExcerptRef[]; specs: LoadedSpectrogram[]; fileNote: string; files: string[] }> {
  const { files, note } = given.length ? { files: given, note: `${given.length} file(s) given` } : await defaultFiles(corpus);
  const specs: LoadedSpectrogram[] = [];
  for (const f of files) specs.push(await loadNormalised(f, p.model.frontEnd, p.stats));
  const [T, F] = SHAPE;
  const excerpts: ExcerptRef[] = [];
  // round robin over the files (every file's first pick, then every second one, …): a run
  // stopped early has a balanced set, and a rerun with --per-file = its rounds reuses all of it
  const picks = specs.map((s) => excerptStarts(s.nFrames, T, perFile));
  for (let r = 0; r < Math.max(0, ...picks.map((p) => p.length)); r++) {
    specs.forEach((s, i) => {
      const st = picks[i]![r];
      if (st !== undefined) excerpts.push({ key: `${displayName(s.path)}@${st}`, file: displayName(s.path), start: st, x: excerptAt(s.data, F, st, T) });
    });
  }
  if (!excerpts.length) throw new EarshotError('NO_DATA', `no file is long enough for one ${T}-frame excerpt (${files.join(', ')})`);
  p.init.minData = minOver(specs.map((s) => s.data));
  return { excerpts, specs, fileNote: note, files };
}

/** A stable per-excerpt seed base (FNV-1a of the key), so reruns draw the same designs. */
export function seedOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) & 0x7fffffff;
}

export async function runJournalled<I, R>(o: CommonOptions, name: string, config: Record<string, unknown>, task: string, jobs: Array<{ key: string; input: I }>, init: WorkerInit, label: string): Promise<{ results: R[]; resumed: number; wallMs: number }> {
  const journal = await Journal.open<R>(journalPath(o, name), config, { resume: !o.fresh });
  const resumed = jobs.filter((j) => journal.has(j.key)).length;
  const t0 = performance.now();
  const results = await runJobs<I, R, WorkerInit>({ jobs, journal: journal as Journal<unknown>, task, taskModule: TASK_MODULE, initData: init, workers: o.workers, label, progress: o.progress ? undefined : null });
  return { results, resumed, wallMs: performance.now() - t0 };
}

/** The journal file of experiment `name`: committed results stay free of them. */
export function journalPath(o: Pick<CommonOptions, 'out' | 'journalDir'>, name: string): string {
  const dir = o.journalDir ?? (/^(\.\/)?results(\/|$)/.test(o.out) ? join('out', o.out) : o.out);
  return join(dir, `journal-${name}.jsonl`);
}

/** CSV with a header; numbers as given, strings quoted when needed. */
export function toCsv(header: string[], rows: Array<Array<string | number>>): string {
  const q = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)))) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header.join(','), ...rows.map((r) => r.map(q).join(','))].join('\n') + '\n';
}

export async function writeOut(dir: string, name: string, data: string | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFileAtomic(p, data);
  return p;
}

export const pct = (a: number, b: number) => (b ? (100 * a) / b : NaN);
export const fmtPct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} %` : '–');
export const fmtS = (ms: number) => (ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);
