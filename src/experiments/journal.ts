/**
 * Resumable experiment runs: a journal (JSON Lines, one finished job per line) next to an
 * experiment's outputs, and `runJobs`, which runs the jobs the journal does not have yet —
 * in a worker pool (src/parallel/pool.ts) or inline — with a progress bar and ETA.
 *
 * An interrupted run restarted with the same options recomputes nothing it finished: the
 * journal's first line records the options, and a restart with different ones is refused with
 * an error naming the option that changed (mixing results of two settings would be silent
 * nonsense). A line cut short by a crash is ignored.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EarshotError } from '../../bindings/errors.ts';
import { Progress } from '../cli/progress.ts';
import { getTask, WorkerPool } from '../parallel/pool.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class Journal<R> {
  private readonly done = new Map<string, R>();

  private constructor(
    readonly path: string,
    readonly config: Record<string, unknown>,
  ) {}

  /**
   * Open `path`. With `resume` (the default) an existing journal of the same `config` is
   * continued; without it the file is started afresh.
   */
  static async open<R>(path: string, config: Record<string, unknown>, opts: { resume?: boolean } = {}): Promise<Journal<R>> {
    const j = new Journal<R>(path, JSON.parse(JSON.stringify(config)) as Record<string, unknown>);
    await mkdir(dirname(path), { recursive: true });
    let text: string | null = null;
    if (opts.resume !== false) {
      try {
        text = await readFile(path, 'utf8');
      } catch {
        text = null;
      }
    }
    if (text) {
      const lines = text.split('\n');
      let head: { config?: Record<string, unknown> } | null = null;
      try {
        head = JSON.parse(lines[0]!) as { config?: Record<string, unknown> };
      } catch {
        head = null;
      }
      if (!head?.config) throw new EarshotError('BAD_JOURNAL', `${path} is not an earshot experiment journal (first line has no "config"); delete it or pass --fresh`);
      const diff = configDiff(head.config, j.config);
      if (diff) throw new EarshotError('JOURNAL_MISMATCH', `${path} was written with ${diff}; rerun with the same options to resume, or pass --fresh to start over`);
      for (const line of lines.slice(1)) {
        if (!line.trim()) continue;
        try {
          const e = JSON.parse(line) as { key: string; result: R };
          j.done.set(e.key, e.result);
        } catch {
          // A line cut short by an interruption: that job is simply run again.
        }
      }
      // Rewrite without the damaged tail so later appends start on a fresh line.
      const tmp = `${path}.tmp`;
      await writeFile(tmp, [JSON.stringify({ config: j.config }), ...[...j.done].map(([key, result]) => JSON.stringify({ key, result }))].join('\n') + '\n');
      await rename(tmp, path);
    } else {
      await writeFile(path, JSON.stringify({ config: j.config }) + '\n');
    }
    return j;
  }

  get size(): number {
    return this.done.size;
  }

  has(key: string): boolean {
    return this.done.has(key);
  }

  get(key: string): R | undefined {
    return this.done.get(key);
  }

  /** Results in the order they were recorded. */
  entries(): Array<[string, R]> {
    return [...this.done];
  }

  async record(key: string, result: R): Promise<void> {
    this.done.set(key, result);
    await appendFile(this.path, JSON.stringify({ key, result: toJson(result) }) + '\n');
  }
}

function toJson(v: unknown): Json {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v as Json;
}

function configDiff(a: Record<string, unknown>, b: Record<string, unknown>): string | null {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return `${k} = ${JSON.stringify(a[k])} (now ${JSON.stringify(b[k])})`;
  }
  return null;
}

export interface RunJobsOptions<I, D> {
  /** Jobs by key; keys already in the journal are skipped. */
  jobs: ReadonlyArray<{ key: string; input: I }>;
  journal: Journal<unknown>;
  /** The registered task that computes one job (src/parallel/pool.ts). */
  task: string;
  taskModule: string;
  initData?: D;
  /** Worker threads; 1 runs inline in this thread (no worker start-up cost). */
  workers: number;
  label?: string;
  /** Progress output (default: stderr); `null` for none. */
  progress?: Progress | null;
}

/**
 * Run every job the journal lacks and record each result as it arrives (so an interruption
 * loses at most the jobs in flight). Returns the journal's results for all `jobs`, in order.
 */
export async function runJobs<I, R, D = unknown>(o: RunJobsOptions<I, D>): Promise<R[]> {
  const todo = o.jobs.filter((j) => !o.journal.has(j.key));
  const progress = o.progress === null ? null : (o.progress ?? new Progress(o.label ?? o.task, todo.length, { unit: 'job' }));
  if (progress) progress.total = todo.length;
  if (todo.length) {
    if (o.workers <= 1) {
      const def = getTask<I, R, unknown, D>(o.task);
      const state = def.init ? await def.init(o.initData as D) : undefined;
      try {
        for (const j of todo) {
          await o.journal.record(j.key, await def.run(j.input, state));
          progress?.update(progress.done + 1);
        }
      } finally {
        await def.dispose?.(state);
      }
    } else {
      const pool = await WorkerPool.create<I, R, D>({ taskModule: o.taskModule, task: o.task, workers: Math.min(o.workers, todo.length), initData: o.initData });
      try {
        await Promise.all(
          todo.map(async (j) => {
            const r = await pool.run(j.input);
            await o.journal.record(j.key, r);
            progress?.update(progress.done + 1);
          }),
        );
      } finally {
        await pool.dispose();
      }
    }
  }
  progress?.finish();
  return o.jobs.map((j) => o.journal.get(j.key) as R);
}
