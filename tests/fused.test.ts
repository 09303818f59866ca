/**
 * Fused training-mode batch norm + leaky ReLU (src/model/fused.ts, bindings/bn_act.ts,
 * assembly/bn_act.ts): forward outputs and the gradients w.r.t. x, bias, γ, β equal those of the
 * layer-by-layer tfjs graph (tf.moments, sub/mul/add, leakyRelu, differentiated by tfjs autodiff
 * with earshot's gradient rules) on tfjs-backend-cpu and on wasm; one training step of the
 * singing-voice CNN (small instance) gives the same gradients and moving statistics fused and
 * unfused; no tensor leaks; bad inputs of the bindings are rejected with named errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/model/backend.ts';
import { registerWasmTrainingKernels } from '../src/model/wasm_kernels.ts';
import { batchNormLeakyRelu, maxPoolBlocks, setFusedBatchNorm } from '../src/model/fused.ts';
import { bnLeakyReluBackward, bnLeakyReluForward, maxPoolBlocksGrad } from '../bindings/bn_act.ts';
import { createSvdCnn, SVD_ARCHITECTURE, type SvdArchitecture } from '../src/model/svdcnn.ts';
import { initWeights } from '../src/model/weights.ts';
import { throwsCode } from './helpers.ts';

const EPS = 1e-4;
const ALPHA = 0.01;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
function randn(n: number, r: () => number, scale = 1, offset = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

/** max |a − b| / max |b|: the error relative to the tensor's scale. */
function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let e = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return e / Math.max(m, 1e-30);
}

interface Case {
  shape: number[];
  offset: number;
}
const CASES: Case[] = [
  { shape: [4, 7, 6, 12], offset: 0 },
  { shape: [3, 5, 2, 5], offset: 3 }, // channels not a multiple of 4 (scalar tail), shifted data
  { shape: [32, 24], offset: -40 }, // dense layer form, large mean (cancellation)
];

type Grads = { y: Float32Array; mean: Float32Array; variance: Float32Array; dx: Float32Array; dbias: Float32Array; dgamma: Float32Array; dbeta: Float32Array };

function run(c: Case, seed: number, fused: boolean): Grads {
  const r = rng(seed);
  const n = c.shape.reduce((a, b) => a * b, 1);
  const C = c.shape[c.shape.length - 1]!;
  return tf.tidy(() => {
    const x = tf.tensor(randn(n, r, 2, c.offset), c.shape);
    const b = tf.tensor1d(randn(C, r));
    const g = tf.tensor1d(randn(C, r, 0.5, 1));
    const be = tf.tensor1d(randn(C, r, 0.3));
    const w = tf.tensor(randn(n, r), c.shape);
    const axes = c.shape.slice(0, -1).map((_, i) => i);
    const fwd = (x: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => {
      if (fused) return batchNormLeakyRelu(x, b, g, be, EPS, ALPHA);
      const h = tf.add(x, b);
      const m = tf.moments(h, axes);
      const y = tf.leakyRelu(tf.add(tf.mul(tf.sub(h, m.mean), tf.mul(g, tf.rsqrt(tf.add(m.variance, EPS)))), be), ALPHA);
      return { y, mean: m.mean, variance: m.variance };
    };
    const f = (x: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => tf.sum(tf.mul(fwd(x, b, g, be).y, w));
    const { y, mean, variance } = fwd(x, b, g, be);
    const [dx, db, dg, dbe] = tf.grads(f)([x, b, g, be]);
    const d = (t: tf.Tensor) => t.dataSync() as Float32Array;
    return { y: d(y), mean: d(mean), variance: d(variance), dx: d(dx!), dbias: d(db!), dgamma: d(dg!), dbeta: d(dbe!) };
  });
}

test.before(async () => {
  await initBackend('wasm');
  registerWasmTrainingKernels();
  await initBackend('cpu');
});

test('fused BN + leaky ReLU: outputs and dx, dγ, dβ equal the unfused graph on tfjs-backend-cpu and on wasm (≤ 1e-4)', async () => {
  for (const [i, c] of CASES.entries()) {
    await tf.setBackend('cpu');
    const ref = run(c, 10 + i, false);
    const fusedCpu = run(c, 10 + i, true);
    await tf.setBackend('wasm');
    const unfusedWasm = run(c, 10 + i, false);
    const fusedWasm = run(c, 10 + i, true);
    for (const [name, got] of [['cpu fused', fusedCpu], ['wasm fused', fusedWasm], ['wasm unfused', unfusedWasm]] as const) {
      for (const k of ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'] as const) {
        const e = scaledErr(got[k], ref[k]);
        assert.ok(e <= 1e-4, `case ${i} ${name} ${k}: error ${e}`);
      }
      // The bias gradient is exactly 0 in exact arithmetic (BN removes any shift): both sides are
      // rounding noise, bounded by the scale of dx times the rows summed.
      const rows = ref.dx.length / ref.dbeta.length;
      const dxMax = Math.max(...Array.from(ref.dx, Math.abs));
      for (const v of got.dbias) assert.ok(Math.abs(v) <= 1e-4 * dxMax * Math.sqrt(rows), `case ${i} ${name} dbias ${v}`);
    }
  }
  await tf.setBackend('wasm');
});

test('a training step of the SVD CNN (small instance): fused and unfused give the same gradients, loss and moving statistics', async () => {
  await tf.setBackend('wasm');
  const arch: SvdArchitecture = { ...SVD_ARCHITECTURE, frames: 25, bands: 26, convFilters: [8, 6, 8, 12], dense: [16, 8], dropout: 0.5 };
  const r = rng(5);
  const n = 6;
  const x = tf.tensor3d(randn(n * 25 * 26, r, 1.5, 0.2), [n, 25, 26]);
  const y = tf.tensor2d([0, 1, 1, 0, 1, 0], [n, 1]);
  const results = [true, false].map((fused) => {
    setFusedBatchNorm(fused);
    const m = createSvdCnn(initWeights(3, { architecture: arch }));
    const params = m.trainableVariables();
    const { value, grads } = tf.variableGrads(() => tf.losses.sigmoidCrossEntropy(y, m.forward(x, { training: true, seed: 4 })) as tf.Scalar, params);
    const out = {
      loss: value.dataSync()[0]!,
      grads: params.map((p) => ({ name: Object.entries(m.vars).find(([, v]) => v === p)![0], g: grads[p.name]!.dataSync() as Float32Array })),
      stats: Object.entries(m.vars).filter(([k]) => k.endsWith('.bn.mean') || k.endsWith('.bn.variance')).map(([k, v]) => ({ k, v: v.dataSync() as Float32Array })),
    };
    tf.dispose([value, ...Object.values(grads)]);
    m.dispose();
    return out;
  });
  setFusedBatchNorm(true);
  tf.dispose([x, y]);
  const [f, u] = results as [(typeof results)[0], (typeof results)[0]];
  assert.ok(Math.abs(f.loss - u.loss) <= 1e-5 * Math.abs(u.loss), `loss ${f.loss} vs ${u.loss}`);
  // Some gradients are exactly 0 in exact arithmetic (biases before BN; conv4's β when pool2 is
  // 1×1, since fc1's BN removes any per-channel shift): their scale is rounding noise, so the
  // error is measured against max(|ref|, 1e-3 × the largest gradient of the model).
  const G = Math.max(...u.grads.map((p) => Math.max(...Array.from(p.g, Math.abs))));
  for (let i = 0; i < u.grads.length; i++) {
    const { name, g: ref } = u.grads[i]!;
    // biases before BN: pure rounding noise of sums over all rows (bounded in the op test above)
    if (/^(conv\d|fc[12])\.bias$/.test(name)) continue;
    const got = f.grads[i]!.g;
    let d = 0;
    let m = 1e-3 * G;
    for (let j = 0; j < ref.length; j++) {
      d = Math.max(d, Math.abs(got[j]! - ref[j]!));
      m = Math.max(m, Math.abs(ref[j]!));
    }
    assert.ok(d <= 1e-4 * m, `gradient of ${name}: error ${d / m}`);
  }
  for (let i = 0; i < u.stats.length; i++) assert.ok(scaledErr(f.stats[i]!.v, u.stats[i]!.v) <= 1e-5, `moving statistic ${u.stats[i]!.k}`);
});

test('fused BN + leaky ReLU: tf.memory().numTensors flat over repeated forward + backward', async () => {
  await tf.setBackend('wasm');
  const c = CASES[0]!;
  run(c, 1, true);
  const before = tf.memory().numTensors;
  for (let k = 0; k < 4; k++) run(c, 2 + k, true);
  assert.is(tf.memory().numTensors, before);
});

test('maxPoolBlocks: output and first-maximum gradient equal tf.maxPool with earshot\'s rule on cpu and wasm, with ties and ragged edges', async () => {
  for (const [i, shape] of ([[2, 11, 7, 8], [3, 9, 10, 5], [1, 6, 6, 4]] as [number, number, number, number][]).entries()) {
    const r = rng(40 + i);
    const n = shape.reduce((a, b) => a * b, 1);
    // integers 0…3: many ties inside windows (first maximum must win)
    const xv = new Float32Array(n).map(() => Math.floor(4 * r()));
    const wv = randn(shape[0] * Math.floor(shape[1] / 3) * Math.floor(shape[2] / 3) * shape[3], r);
    const outs: Record<string, { y: Float32Array; dx: Float32Array }> = {};
    for (const be of ['cpu', 'wasm']) {
      await tf.setBackend(be);
      for (const fused of [false, true]) {
        outs[`${be} ${fused}`] = tf.tidy(() => {
          const x = tf.tensor4d(xv, shape);
          const f = (t: tf.Tensor) => (fused ? maxPoolBlocks(t as tf.Tensor4D, [3, 3]) : tf.maxPool(t as tf.Tensor4D, [3, 3], [3, 3], 'valid'));
          const y = f(x);
          const w = tf.tensor(wv, y.shape);
          const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), w)))(x);
          return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
        });
      }
    }
    const ref = outs['cpu false']!;
    for (const k of ['cpu true', 'wasm true', 'wasm false']) {
      assert.equal(Array.from(outs[k]!.y), Array.from(ref.y), `case ${i} ${k} y`);
      assert.equal(Array.from(outs[k]!.dx), Array.from(ref.dx), `case ${i} ${k} dx`);
    }
  }
  await tf.setBackend('wasm');
});

test('bindings: bad inputs are rejected with named errors', () => {
  const x = new Float32Array(12);
  const v = new Float32Array(4);
  const o = { epsilon: 1e-4, alpha: 0.01 };
  throwsCode(() => bnLeakyReluForward([1, 2] as unknown as Float32Array, v, v, v, 4, o), 'BAD_ARGUMENT', /x must be a Float32Array/);
  throwsCode(() => bnLeakyReluForward(new Float32Array(10), v, v, v, 4, o), 'BAD_SHAPE', /multiple of channels = 4/);
  throwsCode(() => bnLeakyReluForward(x, v, new Float32Array(3), v, 4, o), 'BAD_SHAPE', /gamma must have 4 elements/);
  throwsCode(() => bnLeakyReluForward(x, v, v, v, 0, o), 'BAD_ARGUMENT', /channels/);
  throwsCode(() => bnLeakyReluForward(x, v, v, v, -4, o), 'BAD_ARGUMENT', /channels/);
  throwsCode(() => bnLeakyReluForward(x, v, v, v, 4, { epsilon: -1, alpha: 0.01 }), 'BAD_ARGUMENT', /epsilon/);
  throwsCode(() => bnLeakyReluForward(x, v, v, v, 4, { epsilon: 1e-4, alpha: NaN }), 'BAD_ARGUMENT', /alpha/);
  throwsCode(() => bnLeakyReluForward(x, v, v, v, 4, { ...o, momentum: 1 } as never), 'BAD_ARGUMENT', /unknown option 'momentum'/);
  const bad = new Float32Array(12);
  bad[5] = NaN;
  throwsCode(() => bnLeakyReluForward(bad, v, v, v, 4, o), 'NOT_FINITE', /x\[5\]/);
  throwsCode(() => bnLeakyReluForward(x, v, v, v, 4, o, { y: new Float32Array(3) }), 'BAD_SHAPE', /out\.y must have 12/);
  throwsCode(() => bnLeakyReluBackward(new Float32Array(8), x, v, v, v, v, v, 4, o), 'BAD_SHAPE', /dy must have 12/);
  throwsCode(() => bnLeakyReluBackward(x, x, v, v, v, v, new Float32Array([1, -1, 1, 1]), 4, o), 'BAD_ARGUMENT', /variance\[1\] must be ≥ 0/);
  throwsCode(() => maxPoolBlocksGrad(new Float32Array(36), new Float32Array(5), [1, 6, 6, 1], [3, 3]), 'BAD_SHAPE', /dy must have 4 elements/);
  throwsCode(() => maxPoolBlocksGrad(new Float32Array(36), new Float32Array(4), [1, 6, 6, 1], [7, 3]), 'BAD_SHAPE', /window \[7, 3\] is larger/);
  throwsCode(() => maxPoolBlocksGrad(new Float32Array(36), new Float32Array(4), [1, 6, 0, 1] as never, [3, 3]), 'BAD_ARGUMENT', /shape\[2\]/);
  throwsCode(() => maxPoolBlocksGrad(new Float32Array(36), new Float32Array(4), [1, 6, 6, 1], [3, 3], { fast: true } as never), 'BAD_ARGUMENT', /unknown option 'fast'/);
  throwsCode(() => batchNormLeakyRelu(tf.zeros([2, 4]), tf.zeros([3]), tf.ones([4]), tf.zeros([4]), 1e-4, 0.01), 'BAD_SHAPE', /bias must be float32 \[4\]/);
});

test('bindings: a hand-computed case (2 rows, 1 channel)', () => {
  // x = [1, 3], bias 1 → h = [2, 4], μ = 3, σ² = 1; ε = 0: ĥ = [−1, 1]; γ = 2, β = 0.5 → z = [−1.5, 2.5]
  const f = bnLeakyReluForward(new Float32Array([1, 3]), new Float32Array([1]), new Float32Array([2]), new Float32Array([0.5]), 1, { epsilon: 0, alpha: 0.1 });
  assert.equal(Array.from(f.y), [-0.15000000596046448, 2.5]);
  assert.equal(Array.from(f.mean), [3]);
  assert.equal(Array.from(f.variance), [1]);
  // dy = [1, 1]: g = [0.1, 1]; dβ = 1.1, dγ = −0.1 + 1 = 0.9; dx = γ/σ·(g − dβ/2 − ĥ·dγ/2) = 2·[0.1 − 0.55 + 0.45, 1 − 0.55 − 0.45] = [0, 0]
  const b = bnLeakyReluBackward(new Float32Array([1, 1]), new Float32Array([1, 3]), new Float32Array([1]), new Float32Array([2]), new Float32Array([0.5]), f.mean, f.variance, 1, { epsilon: 0, alpha: 0.1 });
  assert.ok(Math.abs(b.dbeta[0]! - 1.1) < 1e-6 && Math.abs(b.dgamma[0]! - 0.9) < 1e-6, `dβ ${b.dbeta[0]}, dγ ${b.dgamma[0]}`);
  assert.ok(Math.abs(b.dx[0]!) < 1e-6 && Math.abs(b.dx[1]!) < 1e-6, `dx ${Array.from(b.dx)}`);
});

test.run();
