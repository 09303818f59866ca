/**
 * Precise batch-norm statistics (src/model/precise-bn.ts), the training loop's use of them and
 * `earshot recalibrate-bn`. The first layer's statistics are checked against its pre-activations
 * computed here with plain tfjs-core ops (conv2d of the zero-mean kernel + bias, then moments);
 * the deeper layers by the defining property: after recalibrating on one batch, the inference
 * form reproduces the training form (batch statistics, dropout off) on that batch.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/model/backend.ts';
import { registerWasmTrainingKernels } from '../src/model/wasm_kernels.ts';
import { createSvdCnn, SVD_ARCHITECTURE, type SvdArchitecture } from '../src/model/svdcnn.ts';
import { initWeights, loadWeights, type WeightSet } from '../src/model/weights.ts';
import { FrontEnd, SVD_FRONTEND, statsToJSON } from '../src/frontend/index.ts';
import { ExcerptSampler, bandStats, type Song } from '../src/model/dataset.ts';
import { Rng, DEFAULT_AUGMENT, checkAugmentOptions, deriveSeed } from '../src/model/augment.ts';
import { recalibrateBatchNorm } from '../src/model/precise-bn.ts';
import { trainModel } from '../src/model/train.ts';
import { recalibrateBnCommand } from '../src/cli/commands/recalibrate-bn.ts';
import { ROOT, makeTinyCorpus, rejectsCode, throwsCode } from './helpers.ts';

// A small instance of the architecture, with dropout (recalibration must switch it off).
const ARCH: SvdArchitecture = { ...SVD_ARCHITECTURE, frames: 25, bands: 26, convFilters: [8, 8, 8, 8], dense: [16, 8], dropout: 0.5 };
const FE = new FrontEnd({ ...SVD_FRONTEND, nMels: 26, excerptFrames: 25, padFrames: 12 });

/** Noise log-mel frames with harmonic bands where voiced (about 30 % of frames). */
function song(id: string, seed: number, nFrames: number): Song {
  const r = new Rng(seed);
  const B = 26;
  const labels = new Uint8Array(nFrames);
  for (let f = 0; f < nFrames; f++) labels[f] = f % 100 < 30 ? 1 : 0;
  const logMel = new Float32Array(nFrames * B);
  for (let f = 0; f < nFrames; f++) for (let b = 0; b < B; b++) logMel[f * B + b] = -6 + 1.5 * (r.next() + r.next() - 1) + (labels[f] && b % 4 === 0 ? 4 : 0);
  return { id, split: 'train', nFrames, nMels: B, logMel, accompaniment: Float32Array.from(logMel, (v) => v - 1), labels };
}

const SONGS = [song('a', 1, 300), song('b', 2, 300)];
const STATS = bandStats(SONGS);
const weights = (seed: number): WeightSet => initWeights(seed, { architecture: ARCH, frontend: { ...FE.config }, normalization: statsToJSON(STATS) });

test.before(async () => {
  await initBackend('wasm');
  registerWasmTrainingKernels();
});

/** The batches recalibration draws (same sampler call and seed as inside). */
function drawBatches(sampler: ExcerptSampler, seed: number, batches: number, n: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: batches }, () => {
    const x = new Float32Array(n * sampler.excerptSize);
    sampler.next(rng, n, x, new Float32Array(n), { balanced: false, augment: false });
    return x;
  });
}

test('conv1 statistics = mean and unbiased variance of its pre-activations, averaged over the batches', () => {
  const sampler = new ExcerptSampler(SONGS, STATS, { frontEnd: FE, augment: checkAugmentOptions(DEFAULT_AUGMENT) });
  const w = weights(3);
  const model = createSvdCnn(w);
  const n = 24;
  try {
    recalibrateBatchNorm(model, sampler, { batches: 2, batchSize: n, seed: 9 });
    const got = model.vars;
    const xs = drawBatches(sampler, 9, 2, n);
    const k = w.tensors['conv1.kernel']!;
    const perBatch = xs.map((x) =>
      tf.tidy(() => {
        const kern = tf.tensor4d(k.data, k.shape as [number, number, number, number]);
        const zm = tf.sub(kern, tf.mean(kern, [0, 1], true)); // zero-mean conv1 (methods.md §2)
        const pre = tf.add(tf.conv2d(tf.tensor4d(x, [n, ARCH.frames, ARCH.bands, 1]), zm as tf.Tensor4D, 1, 'valid'), tf.tensor1d(w.tensors['conv1.bias']!.data));
        const m = tf.moments(pre, [0, 1, 2]);
        const count = pre.size / pre.shape[3]!;
        return { mean: m.mean.dataSync().slice(), variance: tf.mul(m.variance, count / (count - 1)).dataSync().slice() };
      }),
    );
    const mean = got['conv1.bn.mean']!.dataSync();
    const variance = got['conv1.bn.variance']!.dataSync();
    for (let c = 0; c < 8; c++) {
      const wantM = (perBatch[0]!.mean[c]! + perBatch[1]!.mean[c]!) / 2;
      const wantV = (perBatch[0]!.variance[c]! + perBatch[1]!.variance[c]!) / 2;
      assert.ok(Math.abs(mean[c]! - wantM) <= 1e-4 * (1 + Math.abs(wantM)), `conv1 channel ${c}: mean ${mean[c]} vs ${wantM}`);
      assert.ok(Math.abs(variance[c]! - wantV) <= 1e-4 * wantV, `conv1 channel ${c}: variance ${variance[c]} vs ${wantV}`);
    }
    // Only statistics change: every learned tensor is as it was.
    for (const [name, t] of Object.entries(w.tensors)) {
      if (/\.bn\.(mean|variance)$/.test(name)) continue;
      assert.equal(Array.from(got[name]!.dataSync()), Array.from(t.data), `${name} changed`);
    }
  } finally {
    model.dispose();
  }
});

test('after recalibrating on one batch, inference reproduces the training form (dropout off) on it; no tensor leaks', () => {
  const sampler = new ExcerptSampler(SONGS, STATS, { frontEnd: FE });
  const model = createSvdCnn(weights(4));
  const n = 256;
  try {
    const [x] = drawBatches(sampler, 5, 1, n);
    const before = tf.memory().numTensors;
    for (let rep = 0; rep < 3; rep++) recalibrateBatchNorm(model, sampler, { batches: 1, batchSize: n, seed: 5 });
    assert.is(tf.memory().numTensors, before, 'recalibration leaks tensors');
    const [inf, train, dropped] = tf.tidy(() => {
      const t = tf.tensor3d(x!, [n, ARCH.frames, ARCH.bands]);
      return [model.forward(t), model.forward(t, { training: true, dropout: false, updateStats: false }), model.forward(t, { training: true, updateStats: false, seed: 1 })].map((z) => z.dataSync().slice());
    });
    let err = 0;
    let scale = 0;
    let dropGap = 0;
    for (let i = 0; i < n; i++) {
      err = Math.max(err, Math.abs(inf![i]! - train![i]!));
      dropGap = Math.max(dropGap, Math.abs(dropped![i]! - train![i]!));
      scale = Math.max(scale, Math.abs(train![i]!));
    }
    // Not exact: the stored variances are unbiased (×n/(n−1) in the dense layers).
    assert.ok(err <= 1e-2 * scale, `inference vs training form: ${err} (scale ${scale})`);
    assert.ok(dropGap > 10 * err, 'the check must be able to tell dropout on from off');
  } finally {
    model.dispose();
  }
});

test('the sampler: natural proportion with balanced: false, augmentation skipped with augment: false; bad options are named', () => {
  const aug = new ExcerptSampler(SONGS, STATS, { frontEnd: FE, augment: checkAugmentOptions({ ...DEFAULT_AUGMENT, mixProbability: 1 }) });
  const clean = new ExcerptSampler(SONGS, STATS, { frontEnd: FE });
  const n = 400;
  const xa = new Float32Array(n * aug.excerptSize);
  const xc = new Float32Array(n * aug.excerptSize);
  const ya = new Float32Array(n);
  const yc = new Float32Array(n);
  aug.next(new Rng(2), n, xa, ya, { balanced: false, augment: false });
  clean.next(new Rng(2), n, xc, yc, { balanced: false });
  assert.equal(Array.from(xa), Array.from(xc));
  assert.equal(Array.from(ya), Array.from(yc));
  const voiced = ya.reduce((s, v) => s + v, 0) / n;
  assert.ok(Math.abs(voiced - 0.3) < 0.07, `voiced fraction ${voiced}, the songs have 0.30`);
  clean.next(new Rng(2), n, xc, yc);
  assert.is(yc.reduce((s, v) => s + v, 0), n / 2, 'balanced by default');

  const model = createSvdCnn(weights(1));
  try {
    throwsCode(() => recalibrateBatchNorm(model, clean, { batches: 0 }), 'BAD_ARGUMENT', /batches must be a positive integer/);
    throwsCode(() => recalibrateBatchNorm(model, clean, { batchSize: 1 }), 'BAD_ARGUMENT', /batch size must be an integer ≥ 2/);
  } finally {
    model.dispose();
  }
});

test('trainModel with recalibrateBn saves the recalibrated weights and keeps the iterate\'s own statistics in the checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-pbn-'));
  try {
    const valid = [{ ...song('v', 7, 200), split: 'valid' as const, accompaniment: null }];
    const model = createSvdCnn(weights(6));
    const recal = { batches: 2, batchSize: 16, seed: 11 };
    await trainModel(model, SONGS, valid, STATS, { epochs: 1, stepsPerEpoch: 2, batchSize: 8, seed: 5, medianFrames: 5, frontEnd: FE, log: () => {}, outDir: dir, recalibrateBn: recal });
    model.dispose();
    const saved = await loadWeights(dir);
    const ckpt = await loadWeights(join(dir, 'checkpoint'));
    // Recalibrating the checkpoint's iterate the way the loop does gives the saved model.
    const again = createSvdCnn(ckpt);
    try {
      recalibrateBatchNorm(again, new ExcerptSampler(SONGS, STATS, { frontEnd: FE }), { ...recal, seed: deriveSeed(recal.seed, 0) });
      const want = await again.toWeights();
      let differs = 0;
      for (const [name, t] of Object.entries(saved.tensors)) {
        const u = want.tensors[name]!.data;
        for (let i = 0; i < t.data.length; i++) assert.ok(Math.abs(t.data[i]! - u[i]!) <= 1e-5 * (1 + Math.abs(u[i]!)), `${name}[${i}]: saved ${t.data[i]}, recalibrated checkpoint ${u[i]}`);
        if (/bn\.mean$/.test(name) && t.data.some((v, i) => v !== ckpt.tensors[name]!.data[i])) differs++;
      }
      assert.ok(differs >= 4, 'the checkpoint must keep the training statistics, not the recalibrated ones');
    } finally {
      again.dispose();
    }
    assert.equal((saved.info.training as { options: { recalibrateBn: unknown } }).options.recalibrateBn, recal);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('earshot recalibrate-bn: usage errors by name; on a corpus it rewrites only the statistics and records before/after', async () => {
  await rejectsCode(() => recalibrateBnCommand(['--out', 'x']), 'BAD_USAGE', /--model <dir> is required/);
  await rejectsCode(() => recalibrateBnCommand(['--model', 'x']), 'BAD_USAGE', /--out <dir> is required/);
  await rejectsCode(() => recalibrateBnCommand(['--model', 'x', '--out', 'y', '--batch', '1']), 'BAD_USAGE', /--batch must be an integer ≥ 2/);
  await rejectsCode(() => recalibrateBnCommand(['--model', 'x', '--out', 'y', '--batches', '0']), 'BAD_USAGE', /--batches must be an integer ≥ 1/);
  const dir = mkdtempSync(join(tmpdir(), 'earshot-pbn-cli-'));
  try {
    await rejectsCode(() => recalibrateBnCommand(['--model', join(dir, 'none'), '--out', join(dir, 'y')]), 'MODEL_MISSING', /none does not exist/);
    await rejectsCode(() => recalibrateBnCommand(['--model', 'random:3', '--out', join(dir, 'y')]), 'BAD_USAGE', /random:3: the weight file has no normalisation statistics/);
    await makeTinyCorpus(join(dir, 'corpus'), { train: 2, valid: 1, test: 0 }, 2);
    const v1 = join(ROOT, 'assets', 'models', 'svd-v1');
    const quiet = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.is(await recalibrateBnCommand(['--model', v1, '--corpus', join(dir, 'corpus'), '--out', join(dir, 'out'), '--batches', '2', '--batch', '8', '--validate-engine', 'tfjs']), 0);
    } finally {
      process.stderr.write = quiet;
    }
    const before = await loadWeights(v1);
    const after = await loadWeights(join(dir, 'out'));
    assert.is(after.info.id, `${before.info.id}+pbn`);
    for (const [name, t] of Object.entries(before.tensors)) {
      const same = t.data.every((v, i) => v === after.tensors[name]!.data[i]);
      assert.is(same, !/\.bn\.(mean|variance)$/.test(name), `${name}: ${same ? 'unchanged' : 'changed'}`);
    }
    assert.equal(after.info.normalization, before.info.normalization);
    const rec = (after.info.training as { bnRecalibration: { batches: number; batchSize: number; valid: { threshold: number }; validBefore: { error: number }; command: string } }).bnRecalibration;
    assert.is(rec.batches, 2);
    assert.is(rec.batchSize, 8);
    assert.is(after.info.threshold, rec.valid.threshold);
    assert.ok(rec.validBefore.error >= 0 && rec.validBefore.error <= 1);
    assert.match(rec.command, /^earshot recalibrate-bn --model /);
    // The original training record is kept alongside.
    assert.equal((after.info.training as { seed?: number }).seed, (before.info.training as { seed?: number }).seed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
