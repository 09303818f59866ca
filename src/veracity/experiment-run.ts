/**
 * Running a veracity experiment end to end (Node): resolve the files (default: the corpus's
 * test split plus the bundled real clips), pick excerpts from the model's own frame-wise
 * predictions, run the per-excerpt jobs in a worker pool through a resumable journal
 * (src/experiments/journal.ts), and write CSV, PNG and text summaries (experiment-summary.ts).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EarshotError } from '../../bindings/errors.ts';
import { Journal, runJobs } from '../experiments/journal.ts';
import { initBackend } from '../model/backend.ts';
import { createClassifier } from '../model/engines.ts';
import { nodeDeflate } from '../render/png-node.ts';
import { Rng } from '../explain/rng.ts';
import { SVD_FRONTEND } from '../frontend/config.ts';
import {
  ADVERSARIAL_TASK,
  DRAWING_TASK,
  fileProbabilities,
  loadWeightSet,
  selectExcerpts,
  statsOfWeights,
  type AdversarialJob,
  type AdversarialRecord,
  type DrawingJob,
  type DrawingRecord,
  type FileFrames,
  type VeracityConfig,
  VERACITY_TASK_MODULE,
} from './experiment.ts';
import { summariseAdversarial, summariseDrawing } from './experiment-summary.ts';

export type VeracityPart = 'adversarial' | 'drawing';

export interface VeracityRunOptions {
  config: VeracityConfig;
  /** Audio files (paths); names default to the file's folder + name. */
  files: Array<{ file: string; name: string }>;
  parts: VeracityPart[];
  /** Excerpts per predicted label (adversarial part) and "no voice" excerpts (drawing part). */
  excerpts: number;
  drawExcerpts: number;
  out: string;
  workers: number;
  fresh: boolean;
  /** Progress / info lines (default: stderr). */
  log?: (s: string) => void;
  /** Progress bar (null: none; tests). */
  quiet?: boolean;
}

/** The corpus's test songs (mix.wav) from manifest.json, in manifest order. */
export function corpusTestFiles(corpus: string): Array<{ file: string; name: string }> {
  const manifest = join(corpus, 'manifest.json');
  if (!existsSync(manifest)) {
    throw new EarshotError('CORPUS_MISSING', `${manifest} does not exist: build the corpus with \`npm run corpus\` (docs/corpus.md), pass --corpus DIR, or give audio files with --files`);
  }
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as { songs?: Array<{ id: string; split: string; files: { mix: string } }> };
  if (!Array.isArray(m.songs)) throw new EarshotError('CORPUS_MISSING', `${manifest} has no "songs" list`);
  return m.songs.filter((s) => s.split === 'test').map((s) => ({ file: join(corpus, s.files.mix), name: s.id }));
}

/** The bundled real clips (assets/*.wav). */
export function assetFiles(dir = 'assets'): Array<{ file: string; name: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .map((f) => ({ file: join(dir, f), name: basename(f, '.wav') }));
}

async function writeOut(dir: string, files: { text: Record<string, string>; png: Record<string, Uint8Array> }): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [n, t] of Object.entries(files.text)) {
    await writeFile(join(dir, n), t);
    written.push(join(dir, n));
  }
  for (const [n, b] of Object.entries(files.png)) {
    await writeFile(join(dir, n), b);
    written.push(join(dir, n));
  }
  return written;
}

export interface VeracityRunResult {
  adversarial?: AdversarialRecord[];
  drawing?: DrawingRecord[];
  written: string[];
  wallSeconds: number;
}

/** Run the parts asked for; returns the records and the files written. */
export async function runVeracity(o: VeracityRunOptions): Promise<VeracityRunResult> {
  const t0 = performance.now();
  const log = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const c = o.config;
  if (o.files.length === 0) throw new EarshotError('BAD_USAGE', 'no audio files to run on (give --files or build the corpus)');
  for (const f of o.files) if (!existsSync(f.file)) throw new EarshotError('FILE_NOT_FOUND', `${f.file} does not exist`);
  // frame-wise predictions for the excerpt selection, on the main thread
  await initBackend('wasm');
  const w = await loadWeightSet(c.model);
  const stats = statsOfWeights(w);
  const engine = await createClassifier(w, { engine: c.engine });
  const frames: FileFrames[] = [];
  try {
    for (const f of o.files) frames.push(await fileProbabilities(engine, stats, resolve(f.file), f.name));
  } finally {
    engine.dispose();
  }
  const result: VeracityRunResult = { written: [], wallSeconds: 0 };
  const threads = o.workers > 1 ? 1 : undefined;
  const progress = o.quiet ? null : undefined;
  if (o.parts.includes('adversarial')) {
    const picks = selectExcerpts(frames, o.excerpts, c.threshold, c.seed, [1, 0], SVD_FRONTEND.padFrames + c.context);
    log(`veracity (${c.domain}): ${picks.filter((p) => p.label === 1).length} "voice" + ${picks.filter((p) => p.label === 0).length} "no voice" excerpts from ${o.files.length} files`);
    const jobs = picks.map((p, i) => ({ key: `${p.name}@${p.frame}`, input: { file: resolve(p.file), name: p.name, frame: p.frame, seed: (c.seed + 7919 * (i + 1)) >>> 0 } satisfies AdversarialJob }));
    const journal = await Journal.open<AdversarialRecord>(join(o.out, 'journal-adversarial.jsonl'), { part: 'adversarial', ...c, excerpts: o.excerpts, files: o.files.map((f) => f.name) }, { resume: !o.fresh });
    const records = await runJobs<AdversarialJob, AdversarialRecord>({ jobs, journal: journal as Journal<unknown>, task: ADVERSARIAL_TASK, taskModule: VERACITY_TASK_MODULE, initData: { config: c, threads }, workers: o.workers, label: `veracity ${c.domain}`, progress });
    result.adversarial = records;
    result.written.push(...(await writeOut(o.out, summariseAdversarial(records, c, nodeDeflate))));
  }
  if (o.parts.includes('drawing')) {
    // clearly "no voice" excerpts (P ≤ threshold / 2): drawing into one that is nearly "voice" already proves nothing
    const clear = frames.map((f) => ({ ...f, p: Float32Array.from(f.p, (v) => (v <= c.threshold / 2 ? v : 1)) }));
    const picks = selectExcerpts(clear, o.drawExcerpts, c.threshold, (c.seed + 1) >>> 0, [0]);
    const rng = new Rng((c.seed + 2) >>> 0);
    log(`veracity drawing: ${picks.length} "no voice" excerpts`);
    const jobs = picks.map((p, i) => ({
      key: `${p.name}@${p.frame}`,
      input: { file: resolve(p.file), name: p.name, frame: p.frame, seed: (c.seed + 104729 * (i + 1)) >>> 0, timeBlock: rng.below(5), f0: 200 + 250 * rng.uniform(), phase: 2 * Math.PI * rng.uniform() } satisfies DrawingJob,
    }));
    const journal = await Journal.open<DrawingRecord>(join(o.out, 'journal-drawing.jsonl'), { part: 'drawing', ...c, drawExcerpts: o.drawExcerpts, files: o.files.map((f) => f.name) }, { resume: !o.fresh });
    const records = await runJobs<DrawingJob, DrawingRecord>({ jobs, journal: journal as Journal<unknown>, task: DRAWING_TASK, taskModule: VERACITY_TASK_MODULE, initData: { config: c, threads }, workers: o.workers, label: 'veracity drawing', progress });
    result.drawing = records;
    result.written.push(...(await writeOut(o.out, summariseDrawing(records, c, nodeDeflate))));
  }
  result.wallSeconds = (performance.now() - t0) / 1000;
  return result;
}
