/** The worker pool (src/parallel/pool.ts) and the resumable journal (src/experiments/journal.ts). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '../src/parallel/pool.ts';
import { Journal, runJobs } from '../src/experiments/journal.ts';
import { TASK_URL } from './support/pool-task.ts';
import { rejectsCode } from './helpers.ts';

test('pool: two workers answer every job, in order of the promises', async () => {
  const pool = await WorkerPool.create<number, { value: number; worker: number; data: Float32Array }>({ taskModule: TASK_URL, task: 'test-square', workers: 2, initData: { offset: 1 } });
  try {
    const out = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.run(i)));
    assert.equal(out.map((o) => o.value), Array.from({ length: 12 }, (_, i) => i * i + 1));
    assert.ok(out[3]!.data instanceof Float32Array && out[3]!.data[0] === 3);
    assert.is(new Set(out.map((o) => o.worker)).size, 2, 'both workers did work');
    // A failing job rejects with the worker's error code and the others still work.
    const err = await pool.run(-2).then(() => null, (e) => e);
    assert.is(err?.code, 'NEGATIVE');
    assert.match(err.message, /negative input -2/);
    assert.is((await pool.run(5)).value, 26);
  } finally {
    await pool.dispose();
  }
});

test('pool: bad options and unknown tasks are named', async () => {
  await rejectsCode(() => WorkerPool.create({ taskModule: TASK_URL, task: 'test-square', workers: 0 }), 'BAD_OPTION', /workers/);
  await rejectsCode(() => WorkerPool.create({ taskModule: TASK_URL, task: 'no-such-task', workers: 1 }), 'UNKNOWN_TASK', /no-such-task/);
});

test('journal: resumes without recomputing, refuses other options, skips a cut line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-journal-'));
  const path = join(dir, 'runs.jsonl');
  const jobs = Array.from({ length: 6 }, (_, i) => ({ key: `x${i}`, input: i }));
  const j1 = await Journal.open(path, { n: 6, seed: 1 });
  const r1 = await runJobs<number, { value: number }>({ jobs: jobs.slice(0, 4), journal: j1, task: 'test-square', taskModule: TASK_URL, initData: { offset: 0 }, workers: 1, progress: null });
  assert.equal(r1.map((r) => r.value), [0, 1, 4, 9]);
  // An interruption mid-write leaves half a line.
  writeFileSync(path, readFileSync(path, 'utf8') + '{"key":"x4","resu');
  const j2 = await Journal.open(path, { n: 6, seed: 1 });
  assert.is(j2.size, 4);
  // Offset 100 would show in any recomputed result: only x4, x5 are new.
  const r2 = await runJobs<number, { value: number }>({ jobs, journal: j2, task: 'test-square', taskModule: TASK_URL, initData: { offset: 100 }, workers: 2, progress: null });
  assert.equal(r2.map((r) => r.value), [0, 1, 4, 9, 116, 125]);
  await rejectsCode(() => Journal.open(path, { n: 6, seed: 2 }), 'JOURNAL_MISMATCH', /seed = 1 \(now 2\)/);
  const fresh = await Journal.open(path, { n: 6, seed: 2 }, { resume: false });
  assert.is(fresh.size, 0);
});



test('the CLI bundle: a worker thread started from dist/earshot.mjs finds every task the sources register', async () => {
  const { readdirSync, readFileSync: read, statSync, existsSync } = await import('node:fs');
  const { pathToFileURL } = await import('node:url');
  const { ROOT } = await import('./helpers.ts');
  // Every source file that registers a task is imported by src/cli/worker-tasks.ts.
  const listed = read(join(ROOT, 'src/cli/worker-tasks.ts'), 'utf8');
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  for (const f of walk(join(ROOT, 'src')).filter((f) => f.endsWith('.ts'))) {
    const rel = f.slice(ROOT.length + 1);
    if (rel === 'src/parallel/pool.ts' || rel === 'src/node.ts') continue;
    if (/^registerTask[<(]/m.test(read(f, 'utf8'))) assert.ok(listed.includes(`'../${rel.slice(4)}'`), `${rel} registers a task but src/cli/worker-tasks.ts does not import it`);
  }
  const { LIST_TASKS } = await import('../src/parallel/pool.ts');
  await import('../src/cli/worker-tasks.ts');
  const { getTask } = await import('../src/parallel/pool.ts');
  const expected = (await getTask<null, string[], unknown, unknown>(LIST_TASKS).run(null, undefined)) as string[];
  const bundle = join(ROOT, 'dist', 'earshot.mjs');
  assert.ok(existsSync(bundle), 'dist/earshot.mjs is built by npm ci (npm run build)');
  const pool = await WorkerPool.create<null, string[]>({ taskModule: pathToFileURL(bundle).href, task: LIST_TASKS, workers: 1 });
  try {
    const got = await pool.run(null);
    for (const name of expected.filter((n) => !n.startsWith('test-'))) assert.ok(got.includes(name), `task '${name}' is not registered in a worker of the bundle (rebuild with npm run build?)`);
    assert.ok(expected.length >= 10, `${expected.length} tasks`);
  } finally {
    await pool.dispose();
  }
});

test.run();
