/**
 * Gradient and masking baselines (src/explain/attribution) against Captum's conventions on tiny
 * models whose answers are known in closed form: saliency of a linear model = its weights,
 * IG of a linear model = w ⊙ (x − x′) and IG's completeness on a nonlinear one (256 steps,
 * 1e-3), guided backprop = the gradient with negative gradients zeroed at every ReLU, Grad-CAM =
 * relu(Σ_k α_k A_k) with α_k = u_k / (h·w) for a global-average-pooled linear head,
 * GradientSHAP of a linear model = w ⊙ (x − E b); Gauss–Legendre nodes of numpy's leggauss; then
 * the SVD CNN through the magnitude model: its layer tail reproduces the logit, every method's
 * mask lies in [0, 1] on 115 × 513, and tf.memory().numTensors stays flat.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/model/backend.ts';
import { initWeights } from '../src/model/weights.ts';
import { createSvdCnn } from '../src/model/svdcnn.ts';
import { magnitudeModel } from '../src/explain/maskable.ts';
import {
  attributionToMask, createMaskExplainer, gradCam, gradCamLayer, gradientShap, guidedBackprop, integratedGradients, lmacExplainer,
  magnitudeTarget, MASK_METHODS, melToLinear, melToLinearWeights, predictedClassOf, quadrature, resizeBilinear, saliency, smoothGrad,
  type GradientTarget,
} from '../src/explain/attribution/index.ts';
import { rejectsCode, throwsCode } from './helpers.ts';

const T = 4;
const F = 6;
const N = T * F;
const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

/** A tiny target whose class-1 score is f(x) and class-0 score −f(x). */
function tinyTarget(f: (x: tf.Tensor2D) => tf.Tensor): GradientTarget {
  return {
    shape: [T, F],
    numClasses: 2,
    score: (x, c) => tf.tidy(() => {
      const s = f(tf.reshape(x, [-1, N]) as tf.Tensor2D);
      return c === 1 ? s : tf.neg(s);
    }),
    probabilities: (x) => tf.tidy(() => {
      const p = tf.reshape(tf.sigmoid(f(tf.reshape(x, [-1, N]) as tf.Tensor2D)), [-1, 1]);
      return tf.concat([tf.sub(1, p), p], 1);
    }),
  };
}

const w = seq(N, (i) => Math.sin(i + 1));
const x0 = seq(N, (i) => 0.5 + 0.3 * Math.cos(2 * i));

test('setup: cpu backend (exact float32 reference ops)', async () => {
  await initBackend('cpu');
});

test('saliency of a linear model is its weights (|w| by default, w with abs: false); SmoothGrad too', () => {
  const lin = tinyTarget((x) => tf.sum(tf.mul(x, tf.tensor1d(w)), 1));
  close(saliency(lin, x0, 1).values, w.map(Math.abs), 1e-6, 'saliency');
  close(saliency(lin, x0, 1, { abs: false }).values, w, 1e-6, 'signed saliency');
  close(saliency(lin, x0, 0, { abs: false }).values, w.map((v) => -v), 1e-6, 'class 0 = −score');
  close(smoothGrad(lin, x0, 1, { samples: 5, batchSize: 2 }).values, w.map(Math.abs), 1e-6, 'smoothgrad');
});

test('IG of a linear model is w ⊙ (x − x′); GradientSHAP of a linear model is w ⊙ (x − mean b)', () => {
  const lin = tinyTarget((x) => tf.sum(tf.mul(x, tf.tensor1d(w)), 1));
  const b = seq(N, (i) => 0.1 * (i % 3));
  close(integratedGradients(lin, x0, 1, { baseline: b, steps: 7 }).values, w.map((v, i) => v * (x0[i]! - b[i]!)), 1e-5, 'IG');
  // one baseline: every sample gives w ⊙ (x − b)
  close(gradientShap(lin, x0, 1, { baselines: [b], samples: 4 }).values, w.map((v, i) => v * (x0[i]! - b[i]!)), 1e-5, 'GradientSHAP');
});

test("IG's completeness on a nonlinear model: Σ a = f(x) − f(x′) within 1e-3 at 256 steps (all quadratures)", () => {
  const W = tf.tensor2d(seq(N * 5, (i) => 0.7 * Math.sin(3.1 * i)), [N, 5]);
  const v = tf.tensor1d([1.5, -0.7, 2.0, 0.3, -1.1]);
  const net = tinyTarget((x) => tf.add(tf.sum(tf.mul(tf.softplus(tf.matMul(x, W)), v), 1), tf.mul(0.5, tf.sum(tf.square(x), 1))));
  const b = new Float32Array(N);
  const fx = net.score(tf.tensor3d(x0, [1, T, F]), 1).dataSync()[0]!;
  const fb = net.score(tf.tensor3d(b, [1, T, F]), 1).dataSync()[0]!;
  for (const method of ['gausslegendre', 'riemann_trapezoid', 'riemann_middle'] as const) {
    const a = integratedGradients(net, x0, 1, { steps: 256, method, batchSize: 64 }).values;
    const s = a.reduce((p, q) => p + q, 0);
    assert.ok(Math.abs(s - (fx - fb)) <= 1e-3, `${method}: Σ a = ${s}, f(x) − f(x′) = ${fx - fb}`);
  }
  tf.dispose([W, v]);
});

test('Gauss–Legendre nodes and weights equal numpy leggauss(3) mapped to [0, 1]', () => {
  const q = quadrature('gausslegendre', 3);
  const r = Math.sqrt(3 / 5);
  close(q.alphas, [(1 - r) / 2, 0.5, (1 + r) / 2], 1e-14, 'nodes');
  close(q.weights, [5 / 18, 8 / 18, 5 / 18], 1e-14, 'weights');
  const t = quadrature('riemann_trapezoid', 3);
  close(t.alphas, [0, 0.5, 1], 0, 'trapezoid nodes');
  close(t.weights, [0.25, 0.5, 0.25], 0, 'trapezoid weights');
});

test('guided backprop zeroes negative gradients at every ReLU; the plain gradient rule comes back afterwards', () => {
  const H = 5;
  const Wd = seq(N * H, (i) => Math.sin(1.7 * i + 0.3));
  const vd = Float32Array.from([1.2, -0.8, 0.5, -1.5, 0.9]);
  const Wt = tf.tensor2d(Wd, [N, H]);
  const vt = tf.tensor1d(vd);
  const net = tinyTarget((x) => tf.sum(tf.mul(tf.relu(tf.matMul(x, Wt)), vt), 1));
  // hidden pre-activations by hand
  const pre = new Float64Array(H);
  for (let j = 0; j < H; j++) for (let k = 0; k < N; k++) pre[j] += x0[k]! * Wd[k * H + j]!;
  const grad = (guided: boolean) => seq(N, (k) => {
    let s = 0;
    for (let j = 0; j < H; j++) if (pre[j]! > 0) s += Wd[k * H + j]! * (guided ? Math.max(0, vd[j]!) : vd[j]!);
    return s;
  });
  assert.ok(pre.some((p, j) => p > 0 && vd[j]! < 0), 'the case exercises a negative gradient through an active unit');
  close(guidedBackprop(net, x0, 1).values, grad(true), 1e-5, 'guided backprop');
  close(saliency(net, x0, 1, { abs: false }).values, grad(false), 1e-5, 'plain gradient after guided backprop');
  // leaky ReLU: relu(dy)·(x > 0 ? 1 : α)
  const leaky = tinyTarget((x) => tf.sum(tf.mul(tf.leakyRelu(tf.matMul(x, Wt), 0.1), vt), 1));
  const expLeaky = seq(N, (k) => {
    let s = 0;
    for (let j = 0; j < H; j++) s += Wd[k * H + j]! * Math.max(0, vd[j]!) * (pre[j]! > 0 ? 1 : 0.1);
    return s;
  });
  close(guidedBackprop(leaky, x0, 1).values, expLeaky, 1e-5, 'guided backprop through leaky ReLU');
  tf.dispose([Wt, vt]);
});

test('Grad-CAM: relu(Σ_k α_k A_k) with α_k = u_k/(h·w) for a global-average-pooled linear head; upsampling keeps constants', () => {
  const C = 3;
  const K = tf.tensor4d(seq(9 * C, (i) => Math.cos(0.9 * i)), [3, 3, 1, C]);
  const u = Float32Array.from([0.8, -1.2, 0.4]);
  const ut = tf.tensor1d(u);
  const act = (x: tf.Tensor) => tf.relu(tf.conv2d(tf.reshape(x, [-1, T, F, 1]) as tf.Tensor4D, K, 1, 'valid'));
  const net: GradientTarget = {
    ...tinyTarget((x) => tf.sum(tf.mul(tf.mean(act(x), [1, 2]), ut), 1)),
    layers: ['conv'],
    layerActivation: (x) => act(x),
    layerScore: (a, _l, c) => tf.tidy(() => {
      const s = tf.sum(tf.mul(tf.mean(a, [1, 2]), ut), 1);
      return c === 1 ? s : tf.neg(s);
    }),
    layerToInput: (m, h, w2) => resizeBilinear(m, h, w2, T, F),
  };
  const A = act(tf.tensor3d(x0, [1, T, F])).dataSync();
  const h = T - 2;
  const w2 = F - 2;
  const expected = seq(h * w2, (p) => {
    let s = 0;
    for (let k = 0; k < C; k++) s += (u[k]! / (h * w2)) * A[p * C + k]!;
    return Math.max(0, s);
  });
  const got = gradCamLayer(net, x0, 1);
  assert.is(got.h, h);
  assert.is(got.w, w2);
  close(got.map, expected, 1e-6, 'Grad-CAM map');
  assert.is(gradCam(net, x0, 1).values.length, N);
  close(resizeBilinear(new Float32Array(6).fill(0.3), 2, 3, 7, 9), new Float32Array(63).fill(0.3), 1e-7, 'bilinear resize of a constant');
  close(resizeBilinear(Float32Array.of(0, 1), 1, 2, 1, 4), [0, 0.25, 0.75, 1], 1e-7, 'half-pixel centres');
  tf.dispose([K, ut]);
});

test('masks: |a| / max|a|; the mel → linear map keeps a constant on the bins the filterbank covers', () => {
  close(attributionToMask(Float32Array.of(-2, 1, 0, 4)), [0.5, 0.25, 0, 1], 0, 'mask');
  close(attributionToMask(new Float32Array(3)), [0, 0, 0], 0, 'all-zero map');
  const bank = Float32Array.of(0, 0, 1, 0, 0.5, 0.5, 0, 1); // [4 bins, 2 mels]
  const wts = melToLinearWeights(bank, 4, 2);
  close(melToLinear(Float32Array.of(0.6, 0.6), 1, wts, 4, 2), [0, 0.6, 0.6, 0.6], 1e-7, 'constant map');
  close(melToLinear(Float32Array.of(1, 0), 1, wts, 4, 2), [0, 1, 0.5, 0], 1e-7, 'one band');
});

test('SVD CNN from |X|: the layer tail reproduces the logit; every method gives a [0, 1] mask on 115 × 513; no tensor leaks', async () => {
  await initBackend('wasm');
  const model = createSvdCnn(initWeights(3));
  const stats = { mean: new Float32Array(80).fill(-4), std: new Float32Array(80).fill(2) };
  const mm = magnitudeModel(model, stats);
  const mag = seq(115 * 513, (i) => 0.05 + 0.05 * Math.abs(Math.sin(i * 0.37)) * (1 + ((i % 513) < 60 ? 3 : 0)));
  const target = magnitudeTarget(mm);
  const x = tf.tensor3d(mag, [1, 115, 513]);
  for (const layer of ['conv2', 'conv4', 'pool2']) {
    const a = target.layerActivation!(x, layer);
    const s1 = target.layerScore!(a, layer, 1).dataSync()[0]!;
    const s0 = target.score(x, 1).dataSync()[0]!;
    assert.ok(Math.abs(s1 - s0) <= 1e-4 * Math.max(1, Math.abs(s0)), `tail from ${layer}: ${s1} vs logit ${s0}`);
    a.dispose();
  }
  x.dispose();
  const c = predictedClassOf(target, mag);
  const opts = { smoothgrad: { samples: 2 }, ig: { steps: 3 }, gradientshap: { samples: 2 }, perturbation: { numSamples: 40, grid: { time: 2, freq: 2 } } };
  const before = tf.memory().numTensors;
  for (const name of MASK_METHODS.filter((m) => m !== 'lmac')) {
    const ex = createMaskExplainer(name, mm, opts);
    let m1: Float32Array | null = null;
    for (let rep = 0; rep < 2; rep++) {
      const m = await ex.explain(mag, { target: c });
      assert.is(m.length, 115 * 513, name);
      let mx = 0;
      for (const v of m) {
        assert.ok(v >= 0 && v <= 1, `${name}: mask value ${v}`);
        mx = Math.max(mx, v);
      }
      assert.ok(mx > 0, `${name}: mask is not all zero`);
      if (name !== 'random') {
        for (let t = 0; t < 115; t += 19) assert.is(m[t * 513 + 450], 0, `${name}: bins above nBinsUsed get no relevance`);
      }
      if (rep === 0) m1 = m;
      else if (name !== 'random') close(m, m1!, 0, `${name}: deterministic`);
    }
    ex.dispose?.();
    assert.is(tf.memory().numTensors, before, `${name}: tf.memory().numTensors flat over repeated explanations`);
  }
  // the L-MAC adapter checks what the decoder returns
  const bad = lmacExplainer({ explainMagnitude: () => new Float32Array(3) }, 115 * 513);
  await rejectsCode(() => bad.explain(mag), 'BAD_OUTPUT', /returned 3 values/);
  mm.dispose();
  model.dispose();
});

test('bad options and inputs are refused by name', async () => {
  const lin = tinyTarget((x) => tf.sum(x, 1));
  throwsCode(() => saliency(lin, new Float32Array(3), 1), 'BAD_SHAPE', /4×6 = 24 values, got 3/);
  throwsCode(() => saliency(lin, new Float32Array(N).fill(NaN), 1), 'NOT_FINITE', /input\[0\]/);
  throwsCode(() => saliency(lin, x0, 2), 'BAD_ARGUMENT', /class/);
  throwsCode(() => integratedGradients(lin, x0, 1, { steps: 0 }), 'BAD_ARGUMENT', /steps/);
  throwsCode(() => integratedGradients(lin, x0, 1, { method: 'simpson' as never }), 'BAD_ARGUMENT', /method/);
  throwsCode(() => integratedGradients(lin, x0, 1, { baseline: new Float32Array(2) }), 'BAD_SHAPE', /baseline/);
  throwsCode(() => smoothGrad(lin, x0, 1, { noiseLevel: -1 }), 'BAD_ARGUMENT', /noiseLevel/);
  throwsCode(() => gradientShap(lin, x0, 1, { baselines: [] }), 'BAD_ARGUMENT', /baselines/);
  throwsCode(() => gradCam(lin, x0, 1), 'UNSUPPORTED', /layer/);
  await initBackend('wasm');
  const model = createSvdCnn(initWeights(3));
  const mm = magnitudeModel(model, { mean: new Float32Array(80), std: new Float32Array(80).fill(1) });
  throwsCode(() => createMaskExplainer('gradcamm', mm), 'BAD_ARGUMENT', /method.*gradcam/);
  throwsCode(() => createMaskExplainer('lmac', mm), 'UNSUPPORTED', /lmacExplainer/);
  throwsCode(() => createMaskExplainer('saliency', mm, { output: 'prob' as never }), 'BAD_ARGUMENT', /output/);
  const gc = createMaskExplainer('gradcam', mm, { gradcam: { layer: 'fc9' } });
  await rejectsCode(() => gc.explain(new Float32Array(115 * 513).fill(0.1), { target: 1 }), 'BAD_ARGUMENT', /layer.*conv4/);
  const sl = createMaskExplainer('slime', mm);
  await rejectsCode(() => sl.explain(new Float32Array(5)), 'BAD_SHAPE', /115×513/);
  mm.dispose();
  model.dispose();
});

test.run();
