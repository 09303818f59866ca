/**
 * Data-parallel training (src/model/parallel.ts): one step with a worker thread equals the
 * single-process step whose loss is the size-weighted sum of the parts' losses, each part
 * forwarded on its own (batch norm on per-part statistics, the documented difference), computed
 * by tfjs autodiff in one process; moving statistics are the weighted mean of the parts'
 * updates; steps are deterministic; no tensor leaks; trainModel with workers resumes exactly;
 * a workers-1 checkpoint resumed with 2 workers continues at the workers-1 loss (parts are
 * interleaved, so a class-sorted batch gives every part both classes).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/model/backend.ts';
import { registerWasmTrainingKernels } from '../src/model/wasm_kernels.ts';
import { createSvdCnn, SVD_ARCHITECTURE, type SvdArchitecture, type SvdCnn } from '../src/model/svdcnn.ts';
import { initWeights, type WeightSet } from '../src/model/weights.ts';
import { Adam, trainModel } from '../src/model/train.ts';
import { TrainWorkers, interleavedPart, partSeed, partSizes } from '../src/model/parallel.ts';
import { Rng } from '../src/model/augment.ts';
import { FrontEnd, SVD_FRONTEND, statsToJSON } from '../src/frontend/index.ts';
import { bandStats, type Song } from '../src/model/dataset.ts';

const ARCH: SvdArchitecture = { ...SVD_ARCHITECTURE, frames: 25, bands: 26, convFilters: [8, 8, 8, 8], dense: [16, 8], dropout: 0.5 };
const N = 10;

function batch(seed: number) {
  const r = new Rng(seed);
  const x = new Float32Array(N * 25 * 26).map(() => 2 * (r.next() + r.next() - 1));
  // Sorted by class like the sampler's batches (voiced first): contiguous parts would be one class each.
  const y = new Float32Array(N).map((_, i) => (i < N / 2 ? 1 : 0));
  return { x, y };
}

function maxDiff(a: WeightSet, b: WeightSet, filter: (name: string) => boolean): { e: number; name: string } {
  let worst = { e: 0, name: '' };
  for (const [name, t] of Object.entries(a.tensors)) {
    if (!filter(name)) continue;
    const u = b.tensors[name]!.data;
    let m = 1e-3;
    let d = 0;
    for (let i = 0; i < u.length; i++) {
      d = Math.max(d, Math.abs(t.data[i]! - u[i]!));
      m = Math.max(m, Math.abs(u[i]!));
    }
    if (d / m > worst.e) worst = { e: d / m, name };
  }
  return worst;
}

test.before(async () => {
  await initBackend('wasm');
  registerWasmTrainingKernels();
});

test('partSizes splits a batch into contiguous near-equal parts', () => {
  assert.equal(partSizes(32, 2), [16, 16]);
  assert.equal(partSizes(10, 3), [4, 3, 3]);
  assert.equal(partSizes(2, 4), [1, 1]);
});

test('interleavedPart gives part k examples k, k + p, … (both classes of a class-sorted batch in every part)', () => {
  const x = Float32Array.from({ length: 7 * 2 }, (_, i) => i);
  const y = Float32Array.from([1, 1, 1, 1, 0, 0, 0]);
  const parts = [0, 1, 2].map((k) => interleavedPart(x, y, 7, 3, k));
  assert.equal(parts.map((p) => p.n), partSizes(7, 3));
  assert.equal(Array.from(parts[0]!.x), [0, 1, 6, 7, 12, 13]);
  assert.equal(Array.from(parts[2]!.x), [4, 5, 10, 11]);
  assert.equal(Array.from(parts[1]!.y), [1, 0]);
});

test('one step with a worker = the single-process step on per-part batch statistics; deterministic; no leaks', async () => {
  const init = initWeights(11, { architecture: ARCH });
  const { x, y } = batch(3);
  const seed = 1234;
  const sizes = partSizes(N, 2);
  const lr = 1e-2;

  // Reference in one process: loss = Σ_k (n_k/n)·BCE(part k forwarded alone), one Adam step;
  // moving statistics: the weighted mean of each part's update from the same start.
  const ref = createSvdCnn(init);
  const refAdam = new Adam(ref.trainableVariables(), lr);
  const partStats: WeightSet[] = [];
  // Part k holds examples k, k + 2, … (written out here rather than through interleavedPart).
  const pick = (k: number) => {
    const idx = Array.from({ length: N }, (_, i) => i).filter((i) => i % 2 === k);
    return { x: Float32Array.from(idx.flatMap((i) => Array.from(x.subarray(i * 650, (i + 1) * 650)))), y: Float32Array.from(idx.map((i) => y[i]!)) };
  };
  for (let k = 0; k < 2; k++) {
    const m = createSvdCnn(init);
    tf.tidy(() => m.forward(tf.tensor3d(pick(k).x, [sizes[k]!, 25, 26]), { training: true, seed: partSeed(seed, k) }));
    partStats.push(await m.toWeights());
    m.dispose();
  }
  const { value, grads } = tf.variableGrads(() => {
    let loss: tf.Tensor = tf.scalar(0);
    for (let k = 0; k < 2; k++) {
      const xt = tf.tensor3d(pick(k).x, [sizes[k]!, 25, 26]);
      const yt = tf.tensor2d(pick(k).y, [sizes[k]!, 1]);
      loss = tf.add(loss, tf.mul(tf.losses.sigmoidCrossEntropy(yt, ref.forward(xt, { training: true, seed: partSeed(seed, k), updateStats: false })), sizes[k]! / N));
    }
    return loss as tf.Scalar;
  }, refAdam.params);
  refAdam.step(refAdam.params.map((p) => grads[p.name]!));
  const refLoss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  const refW = await ref.toWeights();
  for (const name of Object.keys(refW.tensors)) {
    if (!name.endsWith('.bn.mean') && !name.endsWith('.bn.variance')) continue;
    const a = partStats[0]!.tensors[name]!.data;
    const b = partStats[1]!.tensors[name]!.data;
    refW.tensors[name]!.data = a.map((v, i) => (sizes[0]! / N) * v + (sizes[1]! / N) * b[i]!);
  }
  ref.dispose();
  refAdam.dispose();

  const pool = await TrainWorkers.create(init, 1);
  try {
    assert.is(pool.parts, 2);
    const runs: WeightSet[] = [];
    for (let rep = 0; rep < 2; rep++) {
      const m = createSvdCnn(init) as SvdCnn;
      const adam = new Adam(m.trainableVariables(), lr);
      const before = tf.memory().numTensors;
      const r = await pool.step(m, adam, x, y, N, seed);
      assert.is(tf.memory().numTensors, before, 'no tensor leaked by a parallel step');
      assert.ok(Math.abs(r.loss - refLoss) <= 1e-5 * refLoss, `loss ${r.loss} vs ${refLoss}`);
      runs.push(await m.toWeights());
      adam.dispose();
      m.dispose();
    }
    const w = maxDiff(runs[0]!, refW, () => true);
    assert.ok(w.e <= 1e-4, `parallel step vs single-process reference: ${w.name} differs by ${w.e}`);
    const d = maxDiff(runs[0]!, runs[1]!, () => true);
    assert.is(d.e, 0, `two identical parallel steps differ (${d.name})`);
  } finally {
    pool.dispose();
  }
});

function syntheticSong(id: string, seed: number, nFrames: number, segment = 30, boost = 4): Song {
  const r = new Rng(seed);
  const B = 26;
  const labels = new Uint8Array(nFrames);
  for (let t = 0; t < nFrames; t++) labels[t] = Math.floor(t / segment) % 2;
  const logMel = new Float32Array(nFrames * B);
  for (let f = 0; f < nFrames; f++) for (let b = 0; b < B; b++) logMel[f * B + b] = -6 + 1.5 * (r.next() + r.next() - 1) + (labels[f] && b % 4 === 0 && b > 0 ? boost : 0);
  return { id, split: 'train', nFrames, nMels: B, logMel, accompaniment: null, labels };
}

test('trainModel with workers: 2 resumes to the same weights as the uninterrupted run', async () => {
  const FE = new FrontEnd({ ...SVD_FRONTEND, nMels: 26, excerptFrames: 25, padFrames: 12 });
  const songs = [syntheticSong('a', 21, 200), syntheticSong('b', 22, 200)];
  const valid = [{ ...syntheticSong('v', 23, 120), split: 'valid' as const }];
  const stats = bandStats(songs);
  const make = (seed: number) => createSvdCnn(initWeights(seed, { architecture: { ...ARCH, dropout: 0 }, frontend: { ...FE.config }, normalization: statsToJSON(stats) }));
  const dir = mkdtempSync(join(tmpdir(), 'earshot-parallel-'));
  const opts = { epochs: 2, stepsPerEpoch: 2, batchSize: 8, seed: 5, medianFrames: 5, frontEnd: FE, log: () => {}, workers: 2, augment: false as const };
  try {
    const full = make(7);
    await trainModel(full, songs, valid, stats, { ...opts, outDir: join(dir, 'full') });
    const wf = await full.toWeights();
    full.dispose();
    const half = make(7);
    await trainModel(half, songs, valid, stats, { ...opts, epochs: 1, outDir: join(dir, 'resumed') });
    half.dispose();
    const again = make(99);
    await trainModel(again, songs, valid, stats, { ...opts, outDir: join(dir, 'resumed'), resume: true });
    const wr = await again.toWeights();
    again.dispose();
    const d = maxDiff(wr, wf, () => true);
    assert.ok(d.e < 1e-6, `${d.name} differs after resume by ${d.e}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Regression (a --workers 2 --resume run of the real model restarted at loss ≈ 1.3 instead of
// ≈ 0.42): the sampler's batches are sorted by class, and contiguous parts made every part one
// class, so per-part batch norm removed the class difference. A workers-1 checkpoint resumed with
// 2 workers must continue at the workers-1 continuation's loss; per-part batch statistics (8 of 16
// examples) and the worker's dropout seed make the two differ a little, not by ×3.
test('a workers-1 checkpoint resumed with workers: 2 continues at the workers-1 loss; fresh runs agree', async () => {
  const FE = new FrontEnd({ ...SVD_FRONTEND, nMels: 26, excerptFrames: 25, padFrames: 12 });
  const songs = [syntheticSong('a', 31, 480, 80), syntheticSong('b', 32, 480, 80)];
  const valid = [{ ...syntheticSong('v', 33, 160, 80), split: 'valid' as const }];
  const stats = bandStats(songs);
  const make = () => createSvdCnn(initWeights(3, { architecture: { ...ARCH, dropout: 0 }, frontend: { ...FE.config }, normalization: statsToJSON(stats) }));
  const S = 50;
  const opts = { stepsPerEpoch: S, reportsPerEpoch: S, batchSize: 16, learningRate: 1e-2, seed: 9, medianFrames: 5, frontEnd: FE, augment: false as const };
  // Per-step losses from the progress lines (running means over the epoch → each step's loss).
  const run = async (o: { epochs: number; workers: number; outDir: string; resume?: boolean }) => {
    const means: number[] = [];
    const m = make();
    try {
      await trainModel(m, songs, valid, stats, { ...opts, ...o, log: (l) => { const r = /step (\d+)\/\d+ loss ([\d.]+)/.exec(l); if (r) means.push(Number(r[2])); } });
    } finally {
      m.dispose();
    }
    return means.map((v, i) => (i % S === 0 ? v : (i % S + 1) * v - (i % S) * means[i - 1]!));
  };
  const dir = mkdtempSync(join(tmpdir(), 'earshot-parallel-'));
  try {
    const first = await run({ epochs: 1, workers: 1, outDir: join(dir, 'w1') });
    const trained = first.slice(-4).reduce((a, b) => a + b, 0) / 4;
    assert.ok(trained < 0.4, `the workers-1 epoch should learn the synthetic task (last losses ${first.slice(-4).map((v) => v.toFixed(3))})`);
    for (const d of ['a', 'b']) cpSync(join(dir, 'w1', 'checkpoint'), join(dir, d, 'checkpoint'), { recursive: true });
    const one = await run({ epochs: 2, workers: 1, outDir: join(dir, 'a'), resume: true });
    const two = await run({ epochs: 2, workers: 2, outDir: join(dir, 'b'), resume: true });
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(two[0]! - one[0]!) < 0.15 + 0.5 * one[0]!, `first resumed step: loss ${two[0]!.toFixed(3)} with 2 workers vs ${one[0]!.toFixed(3)} with 1`);
    assert.ok(mean(two) < 1.5 * mean(one) + 0.1, `resumed epoch: mean loss ${mean(two).toFixed(3)} with 2 workers vs ${mean(one).toFixed(3)} with 1`);
    // From scratch: two workers learn as one does.
    const f2 = await run({ epochs: 1, workers: 2, outDir: join(dir, 'f2') });
    assert.ok(mean(f2.slice(-4)) < 1.5 * trained + 0.1, `fresh run, last 4 steps: mean loss ${mean(f2.slice(-4)).toFixed(3)} with 2 workers vs ${trained.toFixed(3)} with 1`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
