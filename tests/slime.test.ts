// SLIME end to end (src/explain/explain.ts + components.ts + content.ts): the segmentation and
// content-type conventions of methods.md §4, dedup = random for the same seed with ≤ 2^d forward
// passes, exhaustive = seed-independent, a synthetic classifier that responds only to components
// {2, 5, 7} is explained as {2, 5, 7} for every content type, the inputs (excerpt, spectrogram,
// waveform), KernelSHAP on the same components, no tensor leak with the real CNN on wasm, and
// bad options rejected by name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { core } from '../bindings/wasm.ts';
import { explain, type ExplainOptions } from '../src/explain/explain.ts';
import { segmentationLayout, spectrogramComponents } from '../src/explain/components.ts';
import { contentValue, minData, noiseContent, DEFAULT_NOISE_SEED } from '../src/explain/content.ts';
import { Rng } from '../src/explain/rng.ts';
import type { Classifier } from '../src/model/classifier.ts';
import { FrontEnd } from '../src/frontend/frontend.ts';
import { initBackend } from '../src/model/backend.ts';
import { SvdCnn } from '../src/model/svdcnn.ts';
import { initWeights } from '../src/model/weights.ts';
import { throwsCode } from './helpers.ts';

const T = 115;
const F = 80;
const rng = new Rng(11);
const X = new Float32Array(T * F).map(() => rng.normal());
const STATS = { mean: Float32Array.from({ length: F }, (_, b) => -3 + 0.01 * b), std: Float32Array.from({ length: F }, (_, b) => 1.5 + 0.02 * b) };

/** Component sizes (frames × bands) of a label map. */
function sizes(labels: Int32Array, d: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let c = 0; c < d; c++) {
    const ts = new Set<number>();
    const fs = new Set<number>();
    labels.forEach((l, i) => {
      if (l === c) {
        ts.add(Math.floor(i / F));
        fs.add(i % F);
      }
    });
    out.push([ts.size, fs.size]);
  }
  return out;
}

test('segmentations of 115 × 80 (methods.md §4): temporal 9 × 11 + 16 frames, spectral 8 bands, 5 × 4 of 23 × 20, 6 × 4 of 19,19,19,19,19,20 × 20, index = 4t + f', () => {
  const t = segmentationLayout(T, F, { kind: 'temporal' });
  assert.is(t.d, 10);
  assert.equal(sizes(t.labels, 10), [...new Array(9).fill([11, 80]), [16, 80]]);
  assert.equal(t.names.slice(0, 3), ['t0', 't1', 't2']);
  const s = segmentationLayout(T, F, { kind: 'spectral' });
  assert.equal(sizes(s.labels, 10), new Array(10).fill([115, 8]));
  assert.is(s.names[7], 'f7');
  const g5 = segmentationLayout(T, F, { kind: 'tf' });
  assert.is(g5.d, 20);
  assert.equal(sizes(g5.labels, 20), new Array(20).fill([23, 20]));
  const g6 = segmentationLayout(T, F, { kind: 'tf', time: 6, freq: 4 });
  assert.equal(sizes(g6.labels, 24).map((x) => x[0]), [19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 20, 20, 20, 20]);
  // frame 100, band 45: time block 5 (the last, frames 95–114), frequency block 2 → 4·5 + 2
  assert.is(g6.labels[100 * F + 45], 22);
  assert.is(g6.names[22], 't5f2');
  assert.is(g6.layout.segmentation, 'time-frequency');
  const r = segmentationLayout(T, F, { kind: 'rects', rects: [[0, 10, 0, 40], [50, 60, 40, 80]] });
  assert.equal(sizes(r.labels, 2), [[10, 40], [10, 40]]);
  assert.is(r.labels[0 * F + 50], -1, 'bins outside every rectangle are never occluded');
});

test('content types: zero, min_data (given or over a dataset), min_inp, mean_inp, noise = fixed seeded N(0,1) z-scored per band', () => {
  assert.is(contentValue('zero', X, [T, F]), 0);
  let mn = Infinity;
  let sum = 0;
  for (const v of X) {
    mn = Math.min(mn, v);
    sum += v;
  }
  assert.is(contentValue('min_inp', X, [T, F]), mn);
  assert.ok(Math.abs((contentValue('mean_inp', X, [T, F]) as number) - sum / X.length) < 1e-12);
  assert.is(contentValue('min_data', X, [T, F], { minData: -4.5 }), -4.5);
  assert.is(minData([new Float32Array([1, -2, 3]), new Float32Array([0.5, -7])]), -7);
  const n = contentValue('noise', X, [T, F], { stats: STATS }) as Float32Array;
  const again = noiseContent(T, F, STATS);
  assert.equal(n, again, 'the same draw for every instance');
  const raw = new Rng(DEFAULT_NOISE_SEED);
  for (let i = 0; i < 200; i++) {
    const b = i % F;
    const want = Math.fround((raw.normal() - STATS.mean[b]!) / STATS.std[b]!);
    assert.ok(Math.abs(n[i]! - want) <= 1e-6 * Math.abs(want), `noise[${i}]`);
  }
  assert.not.equal(noiseContent(T, F, STATS, 1), n, 'another seed, another draw');
});

test('compose: the all-ones row is the excerpt, a zero bit writes the content on that component only', () => {
  const R = contentValue('mean_inp', X, [T, F]) as number;
  const c = spectrogramComponents(X, [T, F], { kind: 'temporal' }, R);
  const bits = new Uint8Array(20).fill(1);
  bits[10 + 3] = 0;
  const out = new Float32Array(2 * T * F);
  c.compose(bits, 2, out);
  assert.equal(out.subarray(0, T * F), X);
  for (let t = 0; t < T; t++) {
    const occluded = t >= 33 && t < 44;
    assert.is(out[T * F + t * F + 7], occluded ? Math.fround(R) : X[t * F + 7]!, `frame ${t}`);
  }
  c.dispose();
  c.compose(bits, 2, out); // re-prepared after dispose
  assert.equal(out.subarray(0, T * F), X);
  c.dispose();
});

/** A plain-function classifier: P = 0.1 + 0.25·(number of components 2, 5, 7 left intact), counting its forward passes. */
function synthetic(x: Float32Array, labels: Int32Array, keys = [2, 5, 7]) {
  const bins = keys.map((k) => labels.reduce<number[]>((acc, l, j) => (l === k ? (acc.push(j), acc) : acc), []));
  const c = {
    id: 'synthetic-257',
    inputShape: [T, F],
    labels: ['voice'],
    passes: 0,
    dispose() {},
    async predict(batch: Float32Array, n: number) {
      c.passes += n;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const o = i * T * F;
        const intact = bins.filter((js) => js.every((j) => batch[o + j] === x[j])).length;
        out[i] = 0.1 + 0.25 * intact;
      }
      return out;
    },
  };
  return c;
}

test('a classifier that responds only to components {2, 5, 7}: top-3 = {2, 5, 7} for every content type, segmentation and method', async () => {
  const temporal = segmentationLayout(T, F, { kind: 'temporal' }).labels;
  for (const content of ['zero', 'min_data', 'min_inp', 'mean_inp', 'noise'] as const) {
    const clf = synthetic(X, temporal);
    const e = await explain(clf, X, { content, minData: -5, normStats: STATS, numSamples: 1500, seed: 3 });
    assert.equal([...e.topPositive(3)].sort(), [2, 5, 7], content);
    assert.is(e.forwardPasses, clf.passes);
    assert.ok(Math.abs(e.prediction - 0.85) < 1e-6);
    assert.is(e.params.content, content);
  }
  for (const segmentation of ['spectral', 'tf'] as const) {
    const labels = segmentationLayout(T, F, segmentation === 'tf' ? { kind: 'tf' } : { kind: 'spectral' }).labels;
    const e = await explain(synthetic(X, labels), X, { segmentation, numSamples: 800, sampler: 'random', distance: 'euclidean', kernelWidth: 2 });
    assert.equal([...e.topPositive(3)].sort(), [2, 5, 7], segmentation);
  }
  const k = await explain(synthetic(X, temporal), X, { method: 'kernelshap', numSamples: 2000 });
  assert.equal([...k.topPositive(3)].sort(), [2, 5, 7], 'kernelshap');
  for (const j of [2, 5, 7]) assert.ok(Math.abs(k.weights[j]! - 0.25) < 1e-6, `φ_${j} = ${k.weights[j]}`);
  assert.ok(Math.abs(k.localPrediction - k.prediction) < 1e-9, 'efficiency: f(∅) + Σφ = f(x)');
});

test('dedup gives the weights of random for the same seed (≤ 1e-12) with ≤ 2^d forward passes; exhaustive is the same for every seed', async () => {
  const labels = segmentationLayout(T, F, { kind: 'temporal', d: 6 }).labels;
  // a smooth, non-additive response, so the fit is not trivially exact
  const base = synthetic(X, labels, [0, 1, 2, 3, 4, 5]);
  const clf: Classifier & { passes: number } = {
    ...base,
    passes: 0,
    async predict(b: Float32Array, n: number) {
      const p = await base.predict(b, n);
      clf.passes += n;
      return p.map((v) => 1 / (1 + Math.exp(-8 * (v - 0.8))));
    },
  };
  for (const distance of ['cosine', 'euclidean'] as const) {
    for (const featureSelection of ['none', 'lasso_path', 'forward_selection'] as const) {
      const opts: ExplainOptions = { numComponents: 6, numSamples: 1000, seed: 21, distance, featureSelection, numFeatures: 3 };
      clf.passes = 0;
      const r = await explain(clf, X, { ...opts, sampler: 'random' });
      assert.is(clf.passes, 1000);
      clf.passes = 0;
      const u = await explain(clf, X, { ...opts, sampler: 'dedup' });
      assert.ok(clf.passes <= 64 && u.forwardPasses === clf.passes, `${clf.passes} passes`);
      for (let j = 0; j < 6; j++) assert.ok(Math.abs(r.weights[j]! - u.weights[j]!) <= 1e-12, `${distance} ${featureSelection} weight ${j}: ${r.weights[j]} vs ${u.weights[j]}`);
      assert.ok(Math.abs(r.intercept - u.intercept) <= 1e-12 && Math.abs(r.score - u.score) <= 1e-12);
      assert.equal(r.features.map((f) => f.index), u.features.map((f) => f.index));
    }
  }
  const e1 = await explain(clf, X, { numComponents: 6, sampler: 'exhaustive', seed: 1 });
  const e2 = await explain(clf, X, { numComponents: 6, sampler: 'exhaustive', seed: 99 });
  assert.equal(e1.weights, e2.weights);
  assert.is(e1.forwardPasses, 64);
  assert.is(e1.params.numSamples, 50000, 'default N_s with dedup / exhaustive and d ≤ 12');
});

test('inputs: { spectrogram, frame } and { waveform, atSeconds } explain the excerpt the front end makes; progress reaches the total', async () => {
  const fe = new FrontEnd();
  const r2 = new Rng(5);
  const wav = new Float32Array(22050 * 3).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 22050) + 0.05 * r2.normal());
  const spec = fe.normalise(fe.logMel(wav).data, STATS);
  const nFrames = spec.length / F;
  const frame = 100;
  const want = fe.excerpt(fe.pad(spec, STATS), frame);
  const seen: Float32Array[] = [];
  const clf: Classifier = {
    id: 'first-row',
    inputShape: [T, F],
    labels: ['voice'],
    dispose() {},
    async predict(b, n) {
      if (seen.length === 0) seen.push(b.slice(0, T * F));
      return new Float32Array(n).fill(0.5);
    },
  };
  const progress: Array<[number, number]> = [];
  const e = await explain(clf, { spectrogram: spec, frame }, { normStats: STATS, numComponents: 3, sampler: 'exhaustive', batchSize: 3, onProgress: (a, b) => progress.push([a, b]) });
  assert.equal(seen[0], want);
  assert.equal(progress, [[3, 8], [6, 8], [8, 8]]);
  assert.equal(e.params.input, { kind: 'spectrogram', frame, frames: nFrames });
  seen.length = 0;
  // frame i is centred at 315·i + 512 samples
  const at = (315 * frame + 512) / 22050;
  const w = await explain(clf, { waveform: wav, atSeconds: at }, { normStats: STATS, numComponents: 3, sampler: 'exhaustive' });
  assert.equal(seen[0], want);
  assert.is((w.params.input as { frame: number }).frame, frame);
});

test('binary detector: P(voice) by default, its complement on request (weights change sign)', async () => {
  const labels = segmentationLayout(T, F, { kind: 'temporal' }).labels;
  const a = await explain(synthetic(X, labels), X, { sampler: 'exhaustive' });
  const b = await explain(synthetic(X, labels), X, { sampler: 'exhaustive', complement: true });
  assert.is(a.label, 'voice');
  assert.is(b.label, 'not voice');
  assert.ok(Math.abs(a.prediction + b.prediction - 1) < 1e-7);
  for (let j = 0; j < 10; j++) assert.ok(Math.abs(a.weights[j]! + b.weights[j]!) < 1e-9);
});

test('a K-class classifier: the predicted label by default, labelIndex on request, complement refused', async () => {
  const labels = segmentationLayout(T, F, { kind: 'temporal' }).labels;
  const one = synthetic(X, labels, [1, 4]);
  const three: Classifier = {
    id: 'three-class',
    inputShape: [T, F],
    labels: ['speech', 'music', 'voice'],
    dispose() {},
    async predict(b, n) {
      const p = await one.predict(b, n); // 0.1 … 0.6
      const out = new Float32Array(3 * n);
      for (let i = 0; i < n; i++) out.set([0.1, 0.9 - p[i]! - 0.1, p[i]!], 3 * i);
      return out;
    },
  };
  const e = await explain(three, X, { sampler: 'exhaustive' });
  assert.is(e.labelIndex, 2, 'voice (0.6) is the predicted class');
  assert.is(e.label, 'voice');
  assert.equal([...e.topPositive(2)].sort(), [1, 4]);
  const m = await explain(three, X, { sampler: 'exhaustive', labelIndex: 1 });
  assert.is(m.label, 'music');
  assert.ok(Math.abs(m.prediction - 0.2) < 1e-6);
  for (let j = 0; j < 10; j++) assert.ok(Math.abs(m.weights[j]! + e.weights[j]!) < 1e-6, 'music = 0.8 − voice');
  await explain(three, X, { complement: true }).then(
    () => assert.unreachable('complement accepted for 3 classes'),
    (err) => assert.match(err.message, /complement/),
  );
});

test('the real CNN on wasm: tf.memory().numTensors and the earshot arena are flat over 20 explanations', async () => {
  await initBackend('wasm');
  const model = new SvdCnn(initWeights(4));
  const x = new Float32Array(T * F).map(() => rng.normal());
  const once = () => explain(model, x, { numComponents: 3, sampler: 'exhaustive', batchSize: 8 });
  const first = await once();
  assert.is(first.forwardPasses, 8);
  const p = await model.predict(x, 1);
  assert.ok(Math.abs(first.prediction - p[0]!) < 1e-6, 'row 0 is the original excerpt');
  const tensors = tf.memory().numTensors;
  const live = core().arena.liveBytes;
  for (let i = 0; i < 20; i++) await once();
  assert.is(tf.memory().numTensors, tensors);
  assert.is(core().arena.liveBytes, live);
  model.dispose();
});

test('bad options are rejected by name', async () => {
  const labels = segmentationLayout(T, F, { kind: 'temporal' }).labels;
  const clf = synthetic(X, labels);
  const bad = async (opts: Record<string, unknown>, re: RegExp, code = 'BAD_ARGUMENT', input: unknown = X) => {
    try {
      await explain(clf, input as Float32Array, opts as ExplainOptions);
    } catch (e: any) {
      assert.is(e.name, 'EarshotError', `${JSON.stringify(opts)}: ${e.message}`);
      assert.is(e.code, code, e.message);
      assert.match(e.message, re);
      return;
    }
    assert.unreachable(`${JSON.stringify(opts)} was accepted`);
  };
  await bad({ method: 'shap' }, /method/);
  await bad({ segmentation: 'radial' }, /segmentation/);
  await bad({ segmentation: 'temporal', numComponents: 0 }, /numComponents/);
  await bad({ segmentation: 'temporal', grid: { time: 2, freq: 2 } }, /grid/);
  await bad({ segmentation: 'tf', grid: { time: 0, freq: 4 } }, /grid\.time/);
  await bad({ segmentation: { rects: [[0, 200, 0, 10]] } }, /rects\[0\]/);
  await bad({ content: 'silence' }, /content/);
  await bad({ content: 'min_data' }, /minData/);
  await bad({ content: 'noise' }, /normStats/);
  await bad({ numSamples: 0 }, /numSamples/);
  await bad({ numSamples: 1.5 }, /numSamples/);
  await bad({ sampler: 'sobol' }, /sampler/);
  await bad({ sampler: 'exhaustive', segmentation: 'tf', grid: { time: 6, freq: 4 } }, /exhaustive/);
  await bad({ distance: 'l1' }, /distance/);
  await bad({ kernelWidth: -1 }, /kernelWidth/);
  await bad({ kernelWidth: Number.NaN }, /kernelWidth/);
  await bad({ featureSelection: 'best' }, /featureSelection/);
  await bad({ numFeatures: 11 }, /numFeatures/);
  await bad({ alpha: -0.5 }, /alpha/);
  await bad({ labelIndex: 1 }, /labelIndex/);
  await bad({ complement: 'yes' }, /complement/);
  await bad({ seed: -1 }, /seed/);
  await bad({ batchSize: 0 }, /batchSize/);
  await bad({ onProgress: 5 }, /onProgress/);
  await bad({ numSample: 100 }, /unknown option 'numSample'/);
  await bad({}, /input excerpt/, 'BAD_SHAPE', new Float32Array(10));
  await bad({}, /input/, 'BAD_ARGUMENT', 'clip.wav');
  await bad({}, /normStats/, 'BAD_ARGUMENT', { spectrogram: X });
  await bad({ normStats: STATS }, /input\.frame/, 'BAD_ARGUMENT', { spectrogram: X, frame: 115 });
  await bad({ normStats: STATS }, /input\.atSeconds/, 'BAD_ARGUMENT', { waveform: new Float32Array(22050), atSeconds: 2 });
});

test.run();
