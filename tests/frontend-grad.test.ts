/**
 * The differentiable front end (assembly/frontend_grad.ts, bindings/frontend_grad.ts,
 * src/frontend/differentiable.ts): forward against FrontEnd.logMel + normalise; gradient against
 * central finite differences of the forward and against PyTorch autograd of an independently
 * written front end (fixtures of scripts/fixtures/make_frontend_grad_fixtures.py); the rfft adjoint
 * against the identity ⟨rfft(x), g⟩ = ⟨x, rfftᵀ g⟩; the customGrad op on the wasm and cpu
 * backends (values, gradients, no leaked tensors); bad inputs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { FrontEndGradKernel, rfftAdjoint } from '../bindings/frontend_grad.ts';
import { rfft } from '../bindings/stft.ts';
import { FrontEnd } from '../src/frontend/frontend.ts';
import { SVD_FRONTEND, melOptionsOf } from '../src/frontend/config.ts';
import { differentiableFrontEnd } from '../src/frontend/differentiable.ts';
import { initBackend } from '../src/model/backend.ts';
import { readF32, readJSON, throwsCode } from './helpers.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
const randArr = (n: number, r: () => number, scale = 1) => Float32Array.from({ length: n }, () => scale * (r() + r() + r()));
/** Max |a−b| relative to max |b| (the scale of the gradient). */
function relToMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= num)) num = d;
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / (den || 1);
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

const idx = readJSON<{ cases: Record<string, { n: number; frames: number }> }>('frontend_grad/index.json');
const stats = { mean: readF32('frontend_grad/mean.f32'), std: readF32('frontend_grad/std.f32') };
const opts = () => ({ ...melOptionsOf(SVD_FRONTEND), mean: stats.mean, std: stats.std });
/** A vibrato tone plus noise, as the attacks see: every band far above the log floor. */
function testSignal(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(2 * Math.PI * (330 * i / 22050 + 2 * Math.sin(2 * Math.PI * 4 * i / 22050))) + 0.05 * (r() + r()));
}

test('rfft adjoint: ⟨rfft(x)[:nBins], g⟩ = ⟨x, rfftᵀ g⟩ for n = 64 (all bins and a prefix) and n = 1024 (372 bins)', () => {
  const r = rng(7);
  for (const [n, nBins] of [[64, 33], [64, 20], [64, 1], [1024, 372], [1024, 513]] as const) {
    for (let rep = 0; rep < 3; rep++) {
      const x = randArr(n, r);
      const g = randArr(2 * nBins, r);
      const X = rfft(x);
      const lhs = dot(X.subarray(0, 2 * nBins), g) - (nBins > 0 ? X[1]! * g[1]! : 0); // Im X_0 ≡ 0
      const rhs = dot(x, rfftAdjoint(g, n));
      const scale = Math.sqrt(dot(x, x) * dot(g, g) * n);
      assert.ok(Math.abs(lhs - rhs) <= 1e-5 * scale, `n ${n} nBins ${nBins}: ${lhs} vs ${rhs}`);
    }
  }
});

test('forward equals FrontEnd.logMel + normalise', () => {
  const fe = new FrontEnd(SVD_FRONTEND);
  const k = new FrontEndGradKernel(opts());
  try {
    const sig = testSignal(1024 + 315 * 20 + 100, 3);
    const ref = fe.normalise(fe.logMel(sig).data, stats);
    const y = k.forward(sig);
    assert.is(y.length, 21 * 80);
    assert.ok(relToMax(y, ref) === 0, 'same kernel, same numbers');
  } finally {
    k.dispose();
  }
});

test('gradient vs PyTorch autograd (float64) of the same front end: ≤ 1e-4 relative to max |grad|', () => {
  const k = new FrontEndGradKernel(opts());
  try {
    for (const name of Object.keys(idx.cases)) {
      const sig = readF32(`frontend_grad/${name}_signal.f32`);
      const w = readF32(`frontend_grad/${name}_w.f32`);
      const yRef = readF32(`frontend_grad/${name}_y.f32`);
      const gRef = readF32(`frontend_grad/${name}_grad.f32`);
      const y = k.forward(sig);
      assert.ok(relToMax(y, yRef) < 1e-5, `${name}: Y vs torch ${relToMax(y, yRef)}`);
      const g = k.backward(sig, w);
      const e = relToMax(g, gRef);
      assert.ok(e < 1e-4, `${name}: dL/dsignal vs torch ${e}`);
      if (name === 'silence') {
        // frame 0 is silent (mel below the floor) and samples 0 … 314 lie in no other frame
        for (let i = 0; i < 315; i++) assert.is(g[i], 0);
      }
    }
  } finally {
    k.dispose();
  }
});

test('gradient vs central finite differences of the forward pass', () => {
  const k = new FrontEndGradKernel(opts());
  try {
    const sig = testSignal(1024 + 315 * 2, 11);
    const r = rng(5);
    const w = randArr(3 * 80, r);
    const g = k.backward(sig, w);
    const L = (s: Float32Array) => dot(k.forward(s), w);
    let gmax = 0;
    for (const v of g) gmax = Math.max(gmax, Math.abs(v));
    const h = 1e-3;
    let worst = 0;
    for (const i of [1, 200, 400, 700, 1000, 1200, 1500, 1653]) {
      const at = (d: number) => {
        const s = sig.slice();
        s[i]! += d;
        return L(s);
      };
      // five-point stencil (error O(h⁴)): larger steps meet the curvature of |X_k| at bins with small
      // |X_k|, smaller ones the float32 rounding of Y
      const fd = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h);
      worst = Math.max(worst, Math.abs(fd - g[i]!) / gmax);
    }
    assert.ok(worst < 5e-4, `finite differences: ${worst} relative to max |grad|`);
  } finally {
    k.dispose();
  }
});

// cpu first, so the suite leaves the project's default (wasm) selected for the files after it
for (const backend of ['cpu', 'wasm'] as const) {
  test(`customGrad op on ${backend}: values, tf.grad = kernel backward, batch, no leaked tensors`, async () => {
    await initBackend(backend);
    const fe = differentiableFrontEnd(SVD_FRONTEND, stats);
    const k = new FrontEndGradKernel(opts());
    try {
      const sig = readF32('frontend_grad/noise_signal.f32');
      const w = readF32('frontend_grad/noise_w.f32');
      const gRef = readF32('frontend_grad/noise_grad.f32');
      const F = idx.cases.noise!.frames;
      const x = tf.tensor1d(sig);
      const dy = tf.tensor2d(w, [F, 80]);
      const before = tf.memory().numTensors;
      for (let rep = 0; rep < 3; rep++) {
        const y = fe(x);
        assert.equal(y.shape, [F, 80]);
        assert.ok(relToMax(y.dataSync(), k.forward(sig)) === 0);
        y.dispose();
        const g = tf.grad((s: tf.Tensor) => fe(s as tf.Tensor1D))(x, dy);
        assert.ok(relToMax(g.dataSync(), gRef) < 1e-4);
        g.dispose();
      }
      assert.is(tf.memory().numTensors, before, 'tensor count flat over repeated calls');
      // batch: two signals, the second reversed
      const rev = sig.slice().reverse();
      const xb = tf.tensor2d([...sig, ...rev], [2, sig.length]);
      const dyb = tf.tensor3d([...w, ...w], [2, F, 80]);
      const yb = fe.batch(xb);
      assert.equal(yb.shape, [2, F, 80]);
      const ybd = yb.dataSync();
      assert.ok(relToMax(ybd.subarray(F * 80), k.forward(rev)) === 0);
      const gb = tf.grad((s: tf.Tensor) => fe.batch(s as tf.Tensor2D))(xb, dyb).dataSync();
      assert.ok(relToMax(gb.subarray(0, sig.length), gRef) < 1e-4);
      assert.ok(relToMax(gb.subarray(sig.length), k.backward(rev, w)) === 0);
      tf.dispose([x, dy, xb, dyb, yb]);
    } finally {
      fe.dispose();
      k.dispose();
    }
  });
}

test('bad inputs are rejected with named errors', () => {
  const k = new FrontEndGradKernel(opts());
  const fe = differentiableFrontEnd(SVD_FRONTEND, stats);
  try {
    throwsCode(() => k.forward(new Float32Array(1023)), 'TOO_SHORT', /1023 samples.*nFft = 1024/);
    throwsCode(() => k.backward(new Float32Array(500), new Float32Array(80)), 'TOO_SHORT', /500 samples/);
    const nan = testSignal(1300, 1);
    nan[77] = NaN;
    throwsCode(() => k.forward(nan), 'NOT_FINITE', /signal\[77\] is NaN/);
    throwsCode(() => k.backward(nan, new Float32Array(80)), 'NOT_FINITE', /signal\[77\]/);
    const ok = testSignal(1300, 1);
    throwsCode(() => k.backward(ok, new Float32Array(79)), 'BAD_SHAPE', /dY must have 80 elements, got 79/);
    const badDy = new Float32Array(80);
    badDy[3] = Infinity;
    throwsCode(() => k.backward(ok, badDy), 'NOT_FINITE', /dY\[3\]/);
    throwsCode(() => k.forward([1, 2, 3] as unknown as Float32Array), 'BAD_ARGUMENT', /signal must be a Float32Array/);
    throwsCode(() => differentiableFrontEnd(SVD_FRONTEND, { mean: new Float32Array(79), std: stats.std }), 'BAD_SHAPE', /stats\.mean must have 80 elements, got 79/);
    throwsCode(() => differentiableFrontEnd(SVD_FRONTEND, { mean: stats.mean, std: new Float32Array(80) }), 'BAD_ARGUMENT', /std\[0\] is 0/);
    throwsCode(() => differentiableFrontEnd({ ...SVD_FRONTEND, spectrum: 'power' }, stats), 'BAD_CONFIG', /magnitude/);
    throwsCode(() => differentiableFrontEnd({ ...SVD_FRONTEND, hopp: 3 } as never, stats), 'BAD_CONFIG', /unknown field 'hopp'/);
    throwsCode(() => new FrontEndGradKernel({ ...opts(), spectrum: 'power' }), 'BAD_ARGUMENT', /spectrum/);
    throwsCode(() => new FrontEndGradKernel({ ...opts(), colour: 1 } as never), 'BAD_ARGUMENT', /unknown option 'colour'/);
    throwsCode(() => new FrontEndGradKernel({ ...opts(), nFft: 1000 }), 'BAD_ARGUMENT', /power of two/);
    const short = tf.tensor1d(new Float32Array(1000));
    throwsCode(() => fe(short), 'TOO_SHORT', /1000 samples/);
    const t2 = tf.zeros([2, 2000]);
    throwsCode(() => fe(t2 as tf.Tensor1D), 'BAD_SHAPE', /rank 1/);
    throwsCode(() => fe(new Float32Array(2000) as unknown as tf.Tensor1D), 'BAD_ARGUMENT', /tf\.Tensor/);
    throwsCode(() => fe.batch(tf.zeros([0, 2000]) as tf.Tensor2D), 'BAD_SHAPE', /empty/);
    tf.dispose([short, t2]);
    throwsCode(() => rfftAdjoint(new Float32Array(3), 64), 'BAD_SHAPE', /interleaved/);
    throwsCode(() => rfftAdjoint(new Float32Array(4), 100), 'BAD_ARGUMENT', /power of two/);
    k.dispose();
    throwsCode(() => k.forward(ok), 'DISPOSED');
  } finally {
    k.dispose();
    fe.dispose();
  }
});

test.run();
