/**
 * The SLIME experiments (src/experiments/slime; paper 000, methods.md §4): U_n and N_ce on
 * hand-made explanation lists; prediction tables = explain() on the same designs; certified lazy
 * tables = complete tables; the ground-truth builder; tiny end-to-end runs of the three commands
 * (real CNN with random weights, bundled audio, a temporary stems set), including a resume.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explain } from '../src/explain/explain.ts';
import { spectrogramComponents } from '../src/explain/components.ts';
import { dedupSampler, exhaustiveSampler } from '../src/explain/samplers.ts';
import { Rng } from '../src/explain/rng.ts';
import { fromFunction } from '../src/model/adapters.ts';
import type { ContentType } from '../src/explain/content.ts';
import { commonComponents, histogram, topComponents, uniqueComponents, summarise } from '../src/experiments/slime/metrics.ts';
import { certifiedLimeTops, certifiedTop, kernelShapFromTable, limeFitFromTable, patternOf, prepareDesign, PredictionTable } from '../src/experiments/slime/table.ts';
import { buildGroundTruth, composeInstance, InstancePlanner, randomSubset } from '../src/experiments/slime/groundtruth.ts';
import { excerptStarts } from '../src/experiments/slime/data.ts';
import { runGroundTruth, type WorkerState } from '../src/experiments/slime/tasks.ts';
import { experiment } from '../src/cli/commands/experiment.ts';
import { ROOT, throwsCode } from './helpers.ts';

const T = 115;
const F = 80;

// A smooth, non-linear detector of per-component loudness: the table has real interactions.
function synthetic(id = 'synthetic-slime') {
  const logit = (x: Float32Array, o: number) => {
    const m = new Float64Array(10);
    for (let t = 0; t < T; t++) {
      const j = Math.min(9, Math.floor(t / 11));
      let s = 0;
      for (let b = 0; b < F; b++) s += x[o + t * F + b]!;
      m[j] += s / F / (j === 9 ? 16 : 11);
    }
    return 2 * m[2]! + 1.5 * m[5]! + m[7]! - 0.6 * m[0]! + 0.8 * m[5]! * m[7]! + 0.3 * m[1]! * m[2]! - 0.3;
  };
  return fromFunction((batch, n) => Float32Array.from({ length: n }, (_, i) => 1 / (1 + Math.exp(-logit(batch, i * T * F)))), { id, inputShape: [T, F], labels: ['voice'] });
}

function excerpt(seed: number): Float32Array {
  const r = new Rng(seed);
  const x = new Float32Array(T * F);
  for (let t = 0; t < T; t++) {
    const level = Math.sin(t / 9) * 0.8 + 0.2;
    for (let b = 0; b < F; b++) x[t * F + b] = level + 0.3 * r.normal();
  }
  return x;
}

test('U_n: distinct components over repeated explanations (3 = stable, up to 10)', () => {
  assert.is(uniqueComponents([[1, 2, 3], [3, 2, 1], [2, 1, 3]]), 3);
  assert.is(uniqueComponents([[1, 2, 3], [1, 2, 4], [5, 6, 7], [8, 9, 0], [0, 1, 2]]), 10);
  assert.is(uniqueComponents([[4, 5], [5, 6, 7]]), 4);
  throwsCode(() => uniqueComponents([]), 'BAD_ARGUMENT', /at least one/);
  throwsCode(() => uniqueComponents([[1, -2, 3]]), 'BAD_ARGUMENT', /explanation 0/);
});

test('N_ce: common components of two explanations, order ignored', () => {
  assert.is(commonComponents([1, 2, 3], [3, 1, 2]), 3);
  assert.is(commonComponents([1, 2, 3], [4, 5, 6]), 0);
  assert.is(commonComponents([9, 0, 4], [4, 8, 9]), 2);
  assert.is(commonComponents([7], [7, 7, 7]), 1);
  assert.equal(histogram([0, 3, 3, 2, 1, 3], 3), [1, 1, 1, 3]);
  throwsCode(() => histogram([4], 3), 'BAD_ARGUMENT', /outside 0…3/);
  assert.equal(summarise([1, 2, 3, 4]), { n: 4, mean: 2.5, median: 2.5, q1: 1.75, q3: 3.25, min: 1, max: 4 });
});

test('top-k: by |w| (the paper, Sec. IV) and positive only (Sec. V)', () => {
  const w = [0.1, -0.5, 0.3, 0, 0.45, -0.05];
  assert.equal(topComponents(w, 3, 'abs'), [1, 4, 2]);
  assert.equal(topComponents(w, 3, 'positive'), [4, 2, 0]);
  assert.equal(topComponents([-1, -2, 0.5], 3, 'positive'), [2]);
  throwsCode(() => topComponents(w, 3, 'both' as never), 'BAD_ARGUMENT', /abs/);
  throwsCode(() => topComponents([NaN], 1, 'abs'), 'NOT_FINITE', /weight 0/);
});

test('a prediction table gives explain()\'s fit: dedup and exhaustive designs, both distances', async () => {
  const clf = synthetic();
  const x = excerpt(3);
  for (const content of ['zero', 'mean_inp'] as const) {
    const R = content === 'zero' ? 0 : x.reduce((a, b) => a + b, 0) / x.length;
    const comps = spectrogramComponents(x, [T, F], { kind: 'temporal', d: 10 }, R);
    const table = new PredictionTable(comps, clf);
    await table.ensureAll();
    assert.is(table.forwardPasses, 1024);
    for (const distance of ['euclidean', 'cosine'] as const) {
      for (const [sampler, design] of [['dedup', dedupSampler.design(10, 7000, 5)], ['exhaustive', exhaustiveSampler.design(10, 7000, 0)]] as const) {
        const e = await explain(clf, x, { content, sampler, numSamples: 7000, seed: 5, distance, labelIndex: 0 });
        const fit = limeFitFromTable(table, prepareDesign(design), { distance });
        for (let j = 0; j < 10; j++) assert.ok(Math.abs(fit.weights[j]! - e.weights[j]!) < 1e-9 * (1 + Math.abs(e.weights[j]!)), `${content} ${distance} ${sampler} w${j}`);
        assert.ok(fit.radius.every((r) => r < 1e-10), 'complete table: no uncertainty');
      }
    }
    const shap = await explain(clf, x, { method: 'kernelshap', sampler: 'exhaustive', content, labelIndex: 0 });
    const phi = await kernelShapFromTable(table);
    for (let j = 0; j < 10; j++) assert.ok(Math.abs(phi[j]! - shap.weights[j]!) < 1e-9, `kernelshap φ${j}`);
    comps.dispose();
  }
});

test('certified lazy tables give the complete table\'s top-3 sets with fewer forward passes', async () => {
  const clf = synthetic();
  let lazyPasses = 0;
  let checked = 0;
  for (const seed of [1, 2, 3]) {
    const x = excerpt(seed * 17);
    const full = new PredictionTable(spectrogramComponents(x, [T, F], { kind: 'temporal', d: 10 }, 0), clf);
    await full.ensureAll();
    const lazy = new PredictionTable(spectrogramComponents(x, [T, F], { kind: 'temporal', d: 10 }, 0), clf);
    for (const ns of [1000, 20000, 70000]) {
      for (const distance of ['euclidean', 'cosine'] as const) {
        const d = prepareDesign(dedupSampler.design(10, ns, seed));
        const got = await certifiedLimeTops(lazy, d, { distance }, 3, ['abs', 'positive']);
        const want = limeFitFromTable(full, d, { distance }).weights;
        assert.equal(got.tops.abs, topComponents(want, 3, 'abs'));
        assert.equal(got.tops.positive, topComponents(want, 3, 'positive'));
        checked++;
      }
    }
    lazyPasses += lazy.forwardPasses;
  }
  assert.is(checked, 18);
  assert.ok(lazyPasses < 3 * 1024, `lazy tables used ${lazyPasses} passes`);
  // a partial table certifies nothing it cannot: wide radii refuse
  assert.is(certifiedTop({ weights: Float64Array.from([0.3, 0.29, 0.1, 0]), radius: Float64Array.from([0.02, 0.02, 0, 0]) }, 1, 'abs'), null);
  assert.equal(certifiedTop({ weights: Float64Array.from([0.3, 0.2, 0.1, 0]), radius: Float64Array.from([0.02, 0.02, 0, 0]) }, 1, 'abs'), [0]);
  assert.is(certifiedTop({ weights: Float64Array.from([0.01, -0.2]), radius: Float64Array.from([0.02, 0]) }, 2, 'positive'), null);
  assert.is(patternOf(Uint8Array.from([1, 0, 1]), 0, 3), 5);
});

test('ground truth: only the chosen components change, and they hold the vocal excerpt\'s bins', () => {
  const acc = excerpt(1);
  const voc = excerpt(2).map((v) => v + 10);
  const G = [1, 4, 9];
  const inst = composeInstance(acc, voc, [T, F], 10, G);
  const changed = new Set<number>();
  for (let t = 0; t < T; t++) {
    const j = Math.min(9, Math.floor(t / 11));
    for (let b = 0; b < F; b++) {
      const i = t * F + b;
      if (G.includes(j)) assert.is(inst[i], voc[i], `t${t} b${b} from the vocals`);
      else assert.is(inst[i], acc[i], `t${t} b${b} from the accompaniment`);
      if (inst[i] !== acc[i]) changed.add(j);
    }
  }
  assert.equal([...changed].sort((a, b) => a - b), G);
  assert.is(inst.subarray(99 * F).every((v, i) => v === voc[99 * F + i]), true, 'the last component has 16 frames');
  throwsCode(() => composeInstance(acc, voc.subarray(1), [T, F], 10, G), 'BAD_SHAPE', /vocals/);
  throwsCode(() => composeInstance(acc, voc, [T, F], 10, [10]), 'BAD_ARGUMENT', /replaced component/);
  const s = randomSubset(new Rng(1), 10, 3);
  assert.is(new Set(s).size, 3);
});

test('ground truth: the plan is seeded, rounds extend it, the model filter keeps p ≥ threshold', async () => {
  const a = new InstancePlanner([500, 300, 100], { seed: 7, mixes: 4, replace: 3, d: 10, T });
  const b = new InstancePlanner([500, 300, 100], { seed: 7, mixes: 4, replace: 3, d: 10, T });
  const r0 = a.round(0);
  assert.equal(r0, b.round(0));
  assert.is(r0.length, 8, 'the 100-frame song is too short for a 115-frame excerpt');
  assert.ok(r0.every((c) => c.replaced.length === 3 && c.start + T <= [500, 300][c.song]!));
  assert.not.equal(a.round(1), r0);
  assert.not.equal(new InstancePlanner([500, 300], { seed: 8, mixes: 4, replace: 3, d: 10, T }).round(0), r0.slice(0, 8));
  const mk = (n: number, shift: number) => ({ id: `s${shift}`, nFrames: n, accompaniment: new Float32Array(n * F).fill(-1), vocals: new Float32Array(n * F).fill(1 + shift) });
  const stems = [mk(400, 0), mk(300, 1)];
  // P(voice) = fraction of frames above 0: an instance with 3 of 10 components replaced has ≈ 0.3
  const clf = fromFunction((batch, n) => Float32Array.from({ length: n }, (_, i) => batch.subarray(i * T * F, (i + 1) * T * F).filter((v) => v > 0).length / (T * F)), { id: 'frac', inputShape: [T, F], labels: ['voice'] });
  const built = await buildGroundTruth(stems, clf, { seed: 3, excerptsPerSong: 2, mixes: 4, minInstances: 5, threshold: 0.25, shape: [T, F] });
  assert.is(built.candidates, 16);
  assert.is(built.kept.length, 16 - built.kept.filter((k) => k.p < 0.25).length);
  for (const k of built.kept) {
    assert.ok(k.p >= 0.25);
    assert.equal(k.x, composeInstance(stems[k.song]!.accompaniment.subarray(k.start * F, (k.start + T) * F), stems[k.song]!.vocals.subarray(k.start * F, (k.start + T) * F), [T, F], 10, k.replaced));
  }
  const again = await buildGroundTruth(stems, clf, { seed: 3, excerptsPerSong: 2, mixes: 4, minInstances: 5, threshold: 0.25, shape: [T, F] });
  assert.equal(again.kept.map((k) => [k.song, k.start, k.replaced]), built.kept.map((k) => [k.song, k.start, k.replaced]));
  const err = await buildGroundTruth(stems, clf, { seed: 3, excerptsPerSong: 1, maxRounds: 2, mixes: 1, minInstances: 99, threshold: 0.25, shape: [T, F] }).then(() => null, (e) => e);
  assert.is(err?.code, 'TOO_FEW');
  assert.match(err.message, /need 99/);
});

test('ground-truth job: a detector of the replaced components is found by every variant', async () => {
  // P(voice) depends only on the mean of components 2, 5, 7: G = {2, 5, 7} for every content type
  const clf = fromFunction((batch, n) => Float32Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (const j of [2, 5, 7]) for (let t = j * 11; t < j * 11 + 11; t++) for (let b = 0; b < F; b++) s += batch[i * T * F + t * F + b]!;
    return 1 / (1 + Math.exp(-(s / (33 * F) - 1)));
  }), { id: 'g257', inputShape: [T, F], labels: ['voice'] });
  const acc = new Float32Array(T * F).fill(-1);
  const voc = new Float32Array(T * F).fill(3);
  const x = composeInstance(acc, voc, [T, F], 10, [2, 5, 7]);
  const state: WorkerState = { classifier: clf, exhaustive: new Map(), init: { engine: 'tfjs', threads: 1, batchSize: 64, stats: { mean: new Array(F).fill(0), std: new Array(F).fill(1) }, minData: -4, shape: [T, F] } };
  const settings = { numSamples: 5000, k: 3, d: 10, contents: ['zero', 'min_inp', 'mean_inp', 'noise', 'min_data'] as ContentType[], distance: 'euclidean' as const, kernelWidth: 0.25 };
  const main = await runGroundTruth({ x, seed: 1, part: 'main', settings }, state);
  const ext = await runGroundTruth({ x, seed: 1, part: 'extensions', contents: ['zero', 'mean_inp'], settings }, state);
  assert.equal(Object.keys(ext.tops), ['zero', 'mean_inp']);
  for (const c of settings.contents) {
    const t = main.tops[c]!;
    for (const v of [t.slime!, t.exhaustive!]) assert.equal([...v].sort(), [2, 5, 7], `${c}`);
    assert.ok(main.tops[c]!.forwardPasses < 1024, 'the main part is certified on a partial table');
  }
  for (const c of ['zero', 'mean_inp']) for (const v of [ext.tops[c]!.otherDistance!, ext.tops[c]!.kernelshap!]) assert.equal([...v].sort(), [2, 5, 7], `${c}`);
});

test('excerpts: non-overlapping 115-frame starts, spread evenly when fewer are asked', () => {
  assert.equal([...excerptStarts(345, 115)].sort((a, b) => a - b), [0, 115, 230]);
  assert.equal([...excerptStarts(344, 115)].sort((a, b) => a - b), [0, 115]);
  assert.equal(excerptStarts(100, 115), []);
  // N = 10: the middle, the start, three quarters, a quarter, …; smaller sets are prefixes
  assert.equal(excerptStarts(1150, 115, 4), [5, 0, 7, 2].map((i) => i * 115));
  assert.equal(excerptStarts(1150, 115, 2), excerptStarts(1150, 115, 4).slice(0, 2));
  for (const N of [1, 2, 3, 7, 20, 33]) {
    const all = excerptStarts(N * 115 + 50, 115);
    assert.is(new Set(all).size, N);
    assert.ok(all.every((s) => s % 115 === 0 && s + 115 <= N * 115 + 50));
  }
});

// ---- end to end, tiny: real CNN (random weights), bundled audio ------------------------------

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  (process.stdout as { write: unknown }).write = (s: string) => (chunks.push(String(s)), true);
  (process.stderr as { write: unknown }).write = () => true;
  try {
    const code = await experiment.run(args);
    return { code, out: chunks.join('') };
  } finally {
    (process.stdout as { write: unknown }).write = write;
    (process.stderr as { write: unknown }).write = err;
  }
}

const LENA = join(ROOT, 'assets', 'lena-sung.wav');

test('experiment stability: tiny run writes CSV, PNG, summary; a rerun resumes every excerpt', async () => {
  const out = mkdtempSync(join(tmpdir(), 'earshot-slime-st-'));
  const args = ['stability', LENA, '--model', 'random:3', '--per-file', '2', '--samples', '1000,3000', '--repetitions', '3', '--timing-excerpts', '0', '--workers', '2', '--out', out, '--quiet'];
  const a = await cli(args);
  assert.is(a.code, 0);
  for (const f of ['stability.csv', 'stability-by-ns.csv', 'stability.png', 'stability-summary.txt']) assert.ok(existsSync(join(out, f)), f);
  assert.is(readFileSync(join(out, 'stability-summary.txt'), 'utf8'), a.out, 'the committed summary is what the command prints');
  const csv = readFileSync(join(out, 'stability.csv'), 'utf8').trim().split('\n');
  assert.is(csv.length, 1 + 2 * 2);
  for (const line of csv.slice(1)) {
    const u = Number(line.split(',')[4]);
    assert.ok(u >= 3 && u <= 9, `U_n ${u} within 3…3·3`);
  }
  assert.match(a.out, /0 of 2 excerpts resumed/);
  const b = await cli(args);
  assert.match(b.out, /2 of 2 excerpts resumed/);
  assert.is(readFileSync(join(out, 'stability.csv'), 'utf8'), csv.join('\n') + '\n', 'same results after the resume');
  const png = readFileSync(join(out, 'stability.png'));
  assert.equal([...png.subarray(1, 4)], [80, 78, 71]);
});

test('experiment content: tiny run, N_ce of zero against itself is 3', async () => {
  const out = mkdtempSync(join(tmpdir(), 'earshot-slime-ct-'));
  const r = await cli(['content', LENA, '--model', 'random:3', '--per-file', '1', '--samples', '2000', '--repetitions', '2', '--contents', 'zero,mean_inp', '--workers', '1', '--out', out, '--quiet']);
  assert.is(r.code, 0);
  const rows = readFileSync(join(out, 'content.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  assert.is(rows.length, 4, '2 segmentations × 2 content types');
  for (const row of rows.filter((x) => x[4] === 'zero')) assert.is(row[6], '3');
  assert.ok(existsSync(join(out, 'content.png')) && existsSync(join(out, 'content-by-type.csv')));
});

test('experiment groundtruth: a temporary stems set (lena as vocals, loops as accompaniment)', async () => {
  const corpus = mkdtempSync(join(tmpdir(), 'earshot-slime-corpus-'));
  mkdirSync(join(corpus, 'test', 'song-a'), { recursive: true });
  copyFileSync(LENA, join(corpus, 'test', 'song-a', 'vocals.wav'));
  copyFileSync(join(ROOT, 'assets', 'instrumental-loops.wav'), join(corpus, 'test', 'song-a', 'accompaniment.wav'));
  writeFileSync(join(corpus, 'manifest.json'), JSON.stringify({ songs: [{ id: 'song-a', split: 'test', files: { accompaniment: 'accompaniment.wav' } }] }));
  const out = mkdtempSync(join(tmpdir(), 'earshot-slime-gt-'));
  const r = await cli(['groundtruth', '--corpus', corpus, '--model', 'random:3', '--min-instances', '2', '--excerpts-per-song', '1', '--mixes', '2', '--threshold', '0', '--samples', '2000', '--contents', 'zero', '--full-instances', '0', '--workers', '1', '--out', out, '--quiet']);
  assert.is(r.code, 0);
  const inst = readFileSync(join(out, 'groundtruth-instances.csv'), 'utf8').trim().split('\n').slice(1);
  assert.is(inst.length, 2);
  const rows = readFileSync(join(out, 'groundtruth.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  assert.is(rows.length, 2);
  for (const row of rows) assert.ok(['0', '1', '2', '3'].includes(row[6]!));
  assert.match(r.out, /2 kept/);
  const missing = await experiment.run(['groundtruth', '--corpus', join(corpus, 'nope'), '--model', 'random:3', '--out', out, '--quiet']).then(() => null, (e) => e);
  assert.is(missing?.code, 'CORPUS_MISSING');
  assert.match(missing.message, /scripts\/corpus\/build\.ts/);
});

test.run();
