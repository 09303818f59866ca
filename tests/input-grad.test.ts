// Fast CNN input gradients (assembly/input_grad.ts, bindings/input_grad.ts, src/veracity/grad.ts)
// against tfjs-backend-cpu's autodiff (tf.grad with earshot's gradient rules): each kernel on
// small random layers (dense, dilated row-convolution, dense conv, conv + max-pool in the strided
// and fully-convolutional geometry), then the whole engine on a small SvdCnn with random batch
// norm (strided and frame-wise forms, TF.js forward on cpu and wasm) and on the real default
// model (TF.js and onnxruntime forward on wasm). Max-pool gradients follow the first maximum,
// so two implementations whose forward passes round differently may route a window's gradient to
// different cells when its two largest values are within rounding of each other; the real-model
// comparison therefore leaves out the input cells under such near-tied windows (found from the
// reference's own activations) and checks that they are few. Bad inputs of the bindings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, throwsCode, maxAbsErr } from './helpers.ts';
import { initBackend } from '../src/model/backend.ts';
import { initWeights, loadWeights, type WeightSet } from '../src/model/weights.ts';
import { SvdCnn, SVD_ARCHITECTURE } from '../src/model/svdcnn.ts';
import { InputGradient } from '../src/veracity/grad.ts';
import { convInputGrad, denseInputGrad, poolConvInputGrad, transposeConvFilter } from '../bindings/input_grad.ts';

const ALPHA = 0.01;
/** Relative gap under which a pool window counts as near-tied (≈ 10× the engines' forward rounding differences). */
const TIE = 1e-6;
let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
const arr = (n: number) => Float32Array.from({ length: n }, rnd);

/** max |a − b| / max(1e-12, max |b|). */
function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 1e-12;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(b[i]!));
  return maxAbsErr(a, b) / m;
}

async function onBackend<T>(name: 'cpu' | 'wasm', fn: () => T | Promise<T>): Promise<T> {
  await initBackend(name);
  return fn();
}

test('kernels: dense, row-convolution, dense conv and conv + max-pool equal tfjs-cpu autodiff', async () => {
  await initBackend('cpu');
  // dense (kh = 1) and the fully-convolutional fc1 form (kh rows dilated dil)
  for (const [rows, kh, dil, nIn, nOut] of [[3, 1, 1, 12, 8], [4, 3, 2, 6, 5]] as const) {
    const inRows = rows + dil * (kh - 1);
    const x = arr(inRows * nIn);
    const w = arr(kh * nIn * nOut);
    const r = arr(rows * nOut);
    // y[r] = lrelu(Σ_a x[r + dil·a] · w[a]) as a conv2d over [1, inRows, 1, nIn] with a dilated (kh, 1) kernel
    const f = (xx: tf.Tensor) => tf.leakyRelu(tf.conv2d(tf.reshape(xx, [1, inRows, 1, nIn]) as tf.Tensor4D, tf.tensor4d(w, [kh, 1, nIn, nOut]), 1, 'valid', 'NHWC', [dil, 1]), ALPHA);
    const xt = tf.tensor1d(x);
    const y = (f(xt).dataSync() as Float32Array).slice();
    const ref = kh === 1 ? (tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx), tf.tensor4d(r, [1, rows, 1, nOut]))))(xt).dataSync() as Float32Array) : null;
    const mine = denseInputGrad(r, y, w, { rows, nOut, rowLen: nIn, kh, dil }, ALPHA);
    if (ref) assert.ok(scaledErr(mine, ref) < 1e-5, `dense rows ${rows} kh ${kh}: ${scaledErr(mine, ref)}`);
    else {
      // dilated: the gradient by the definition, summed directly
      const g = new Float64Array(inRows * nIn);
      for (let t = 0; t < rows; t++) {
        for (let o = 0; o < nOut; o++) {
          const go = r[t * nOut + o]! * (y[t * nOut + o]! > 0 ? 1 : ALPHA);
          for (let a = 0; a < kh; a++) for (let i = 0; i < nIn; i++) g[(t + dil * a) * nIn + i] += go * w[(a * nIn + i) * nOut + o]!;
        }
      }
      assert.ok(scaledErr(mine, g) < 1e-5, `dilated row conv: ${scaledErr(mine, g)}`);
    }
  }
  // 3×3 convs: Cin = 1 (conv1), Cin not a multiple of 16 (scalar tail), Cin = 32 (SIMD blocks), batch 2
  for (const [n, H, W, Cin, C] of [[1, 12, 7, 1, 8], [2, 9, 8, 4, 8], [2, 7, 10, 32, 5], [1, 10, 9, 20, 6]] as const) {
    const x = arr(n * (H + 2) * (W + 2) * Cin);
    const w = arr(9 * Cin * C);
    const bias = arr(C);
    const conv = (xx: tf.Tensor) => tf.leakyRelu(tf.add(tf.conv2d(xx as tf.Tensor4D, tf.tensor4d(w, [3, 3, Cin, C]), 1, 'valid'), tf.tensor1d(bias)), ALPHA) as tf.Tensor4D;
    const xt = tf.tensor4d(x, [n, H + 2, W + 2, Cin]);
    const y = (conv(xt).dataSync() as Float32Array).slice();
    const r = arr(n * H * W * C);
    const ref = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(conv(xx), tf.tensor4d(r, [n, H, W, C]))))(xt).dataSync() as Float32Array;
    assert.ok(scaledErr(convInputGrad(r, y, w, { n, H, W, C, Cin }, ALPHA), ref) < 1e-5, `conv ${[n, H, W, Cin, C]}`);
    const Ho = Math.floor((H - 3) / 3) + 1;
    const Wo = Math.floor((W - 3) / 3) + 1;
    const rp = arr(n * Ho * Wo * C);
    const refP = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(conv(xx), 3, 3, 'valid'), tf.tensor4d(rp, [n, Ho, Wo, C]))))(xt).dataSync() as Float32Array;
    assert.ok(scaledErr(poolConvInputGrad(rp, y, w, { n, H, W, C, Cin }, ALPHA), refP) < 1e-5, `pool+conv ${[n, H, W, Cin, C]}`);
    // accumulation into `out`
    const acc = new Float32Array(refP.length).fill(0.5);
    poolConvInputGrad(rp, y, w, { n, H, W, C, Cin }, ALPHA, undefined, acc);
    assert.ok(scaledErr(acc.map((v) => v - 0.5), refP) < 1e-5);
  }
});

test('kernels: the fully-convolutional pool (stride 1, dilation 3 in time) and dilated conv by the definition', async () => {
  // Reference: for every window the first maximum in row-major order gets the upstream gradient,
  // then the conv's adjoint written as loops (float64).
  const [H, W, C, Cin, dil, dh] = [20, 9, 4, 8, 3, 3];
  const Ho = H - 2 * dh;
  const Wo = 3;
  const y = arr(H * W * C);
  const w = arr(9 * Cin * C);
  const dyp = arr(Ho * Wo * C);
  const ref = new Float64Array((H + 2 * dil) * (W + 2) * Cin);
  const dy = new Float64Array(H * W * C);
  for (let i = 0; i < Ho; i++) {
    for (let j = 0; j < Wo; j++) {
      for (let c = 0; c < C; c++) {
        let bt = i;
        let bf = 3 * j;
        for (let a = 0; a < 3; a++) for (let e = 0; e < 3; e++) if (y[((i + a * dh) * W + 3 * j + e) * C + c]! > y[(bt * W + bf) * C + c]!) [bt, bf] = [i + a * dh, 3 * j + e];
        dy[(bt * W + bf) * C + c] += dyp[(i * Wo + j) * C + c]!;
      }
    }
  }
  for (let t = 0; t < H; t++) {
    for (let f = 0; f < W; f++) {
      for (let c = 0; c < C; c++) {
        const g = dy[(t * W + f) * C + c]! * (y[(t * W + f) * C + c]! > 0 ? 1 : ALPHA);
        for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) for (let ci = 0; ci < Cin; ci++) ref[((t + dil * kh) * (W + 2) + f + kw) * Cin + ci] += g * w[((kh * 3 + kw) * Cin + ci) * C + c]!;
      }
    }
  }
  const mine = poolConvInputGrad(dyp, y, w, { n: 1, H, W, C, Cin, dil }, ALPHA, { strideT: 1, dilationT: dh });
  assert.ok(scaledErr(mine, ref) < 1e-5, `${scaledErr(mine, ref)}`);
  // the dense dilated conv alone: dy everywhere
  const dyd = arr(H * W * C);
  const refD = new Float64Array(ref.length);
  for (let t = 0; t < H; t++) {
    for (let f = 0; f < W; f++) {
      for (let c = 0; c < C; c++) {
        const g = dyd[(t * W + f) * C + c]! * (y[(t * W + f) * C + c]! > 0 ? 1 : ALPHA);
        for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) for (let ci = 0; ci < Cin; ci++) refD[((t + dil * kh) * (W + 2) + f + kw) * Cin + ci] += g * w[((kh * 3 + kw) * Cin + ci) * C + c]!;
      }
    }
  }
  assert.ok(scaledErr(convInputGrad(dyd, y, w, { n: 1, H, W, C, Cin, dil }, ALPHA), refD) < 1e-5);
});

test('kernels: bad inputs are rejected, naming the argument', () => {
  const w = new Float32Array(9 * 2 * 3);
  throwsCode(() => convInputGrad(new Float32Array(5), new Float32Array(5), w, { n: 1, H: 2, W: 2, C: 3, Cin: 2 }, ALPHA), 'BAD_SHAPE', /dy/);
  throwsCode(() => convInputGrad(new Float32Array(12), new Float32Array(12), w, { n: 1, H: 2, W: 2, C: 3, Cin: 0 }, ALPHA), 'BAD_ARGUMENT', /Cin/);
  throwsCode(() => convInputGrad(new Float32Array(12), new Float32Array(12), w, { n: 1, H: 2.5, W: 2, C: 3, Cin: 2 }, ALPHA), 'BAD_ARGUMENT', /shape\.H/);
  throwsCode(() => convInputGrad(new Float32Array(12), new Float32Array(12), w, { n: 1, H: 2, W: 2, C: 3, Cin: 2 }, 2), 'BAD_ARGUMENT', /alpha/);
  throwsCode(() => convInputGrad(new Float32Array(12), new Float32Array(12), new Float32Array(3), { n: 1, H: 2, W: 2, C: 3, Cin: 2 }, ALPHA), 'BAD_SHAPE', /w/);
  throwsCode(() => poolConvInputGrad(new Float32Array(3), new Float32Array(27), w, { n: 1, H: 3, W: 3, C: 3, Cin: 2 }, ALPHA, { stride: 3 } as never), 'BAD_ARGUMENT', /unknown option 'stride'/);
  throwsCode(() => poolConvInputGrad(new Float32Array(3), new Float32Array(12), w, { n: 1, H: 2, W: 2, C: 3, Cin: 2 }, ALPHA), 'BAD_SHAPE', /smaller than one 3×3 pool window/);
  throwsCode(() => denseInputGrad(new Float32Array(4), new Float32Array(4), new Float32Array(7), { rows: 1, nOut: 4, rowLen: 2 }, ALPHA), 'BAD_SHAPE', /w/);
  throwsCode(() => denseInputGrad(new Float32Array(4), new Float32Array(4), new Float32Array(8), { rows: 1, nOut: 4, rowLen: 2 }, ALPHA, new Float32Array(3)), 'BAD_SHAPE', /out/);
  throwsCode(() => transposeConvFilter(new Float32Array(5), 1, 1), 'BAD_SHAPE', /w/);
});

/** A small SvdCnn (few channels) with random batch-norm statistics, so the fold is exercised. */
function smallWeights(s: number): WeightSet {
  const w = initWeights(s, { architecture: { ...SVD_ARCHITECTURE, convFilters: [8, 4, 8, 4], dense: [8, 4] } });
  for (const [name, t] of Object.entries(w.tensors)) {
    if (name.endsWith('bn.mean') || name.endsWith('bn.beta') || name.endsWith('.bias')) t.data = t.data.map(() => 0.3 * rnd());
    if (name.endsWith('bn.variance') || name.endsWith('bn.gamma')) t.data = t.data.map(() => 0.5 + 0.5 * Math.abs(rnd()));
  }
  return w;
}

/** d/dx Σ_t r_t · logit_t of the strided SvdCnn graph on `x` (n excerpts), by tf.grad on the current backend. */
function refExcerptGrad(model: SvdCnn, x: Float32Array, n: number, r: Float32Array): { grad: Float32Array; z: Float32Array } {
  const xt = tf.tensor3d(x, [n, 115, 80]);
  const rt = tf.tensor2d(r, [n, 1]);
  const grad = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(model.forward(xx), rt)))(xt).dataSync() as Float32Array;
  const z = tf.tidy(() => model.forward(xt).dataSync() as Float32Array);
  tf.dispose([xt, rt]);
  return { grad: grad.slice(), z: z.slice() };
}

test('engine, strided form: a small SvdCnn with random batch norm, TF.js forward on cpu and on wasm = tfjs-cpu autodiff', async () => {
  const weights = smallWeights(3);
  const n = 3;
  const x = arr(n * 115 * 80);
  const r = Float32Array.from([1, -0.5, 2]);
  const ref = await onBackend('cpu', () => {
    const m = new SvdCnn(weights);
    try {
      return refExcerptGrad(m, x, n, r);
    } finally {
      m.dispose();
    }
  });
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const m = new SvdCnn(weights);
    const g = await InputGradient.create(m, { engine: 'tfjs' });
    const res = await g.compute(x, 'excerpts', n, () => r);
    assert.ok(maxAbsErr(res.logits, ref.z) < 1e-4, `${backend} logits`);
    assert.ok(scaledErr(res.grad!, ref.grad) < 1e-4, `${backend} gradient: ${scaledErr(res.grad!, ref.grad)}`);
    const none = await g.compute(x, 'excerpts', n, () => null);
    assert.is(none.grad, null);
    g.dispose();
    m.dispose();
  }
});

test('engine, frame-wise form (fully convolutional, dilated) = the sum of the strided gradients of every excerpt', async () => {
  const weights = smallWeights(4);
  const L = 121; // 7 predictions
  const P = L - 114;
  const x = arr(L * 80);
  const r = Float32Array.from({ length: P }, (_, i) => (i % 2 ? 1 : -0.7) * (1 + i / 10));
  const ref = await onBackend('cpu', () => {
    const m = new SvdCnn(weights);
    try {
      const batch = new Float32Array(P * 115 * 80);
      for (let t = 0; t < P; t++) batch.set(x.subarray(t * 80, (t + 115) * 80), t * 115 * 80);
      const e = refExcerptGrad(m, batch, P, r);
      const grad = new Float64Array(L * 80);
      for (let t = 0; t < P; t++) for (let i = 0; i < 115 * 80; i++) grad[t * 80 + i] += e.grad[t * 115 * 80 + i]!;
      return { grad, z: e.z };
    } finally {
      m.dispose();
    }
  });
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const m = new SvdCnn(weights);
    const g = await InputGradient.create(m, { engine: 'tfjs' });
    const res = await g.compute(x, 'frames', L, () => r);
    assert.is(res.logits.length, P);
    assert.ok(maxAbsErr(res.logits, ref.z) < 1e-4, `${backend} logits`);
    assert.ok(scaledErr(res.grad!, ref.grad) < 1e-4, `${backend} frame-wise gradient: ${scaledErr(res.grad!, ref.grad)}`);
    g.dispose();
    m.dispose();
  }
});

/** Input cells whose gradient may route differently because a max-pool window is near-tied in the reference. */
function nearTieCells(model: SvdCnn, x: Float32Array): Uint8Array {
  const acts = model.activations(tf.tensor3d(x, [1, 115, 80]), ['conv2', 'conv4']);
  const mask = new Uint8Array(115 * 80);
  const scan = (y: Float32Array, H: number, W: number, C: number, foot: (i: number, j: number) => [number, number, number, number]) => {
    let tied = 0;
    for (let i = 0; i + 3 <= H; i += 3) {
      for (let j = 0; j + 3 <= W; j += 3) {
        for (let c = 0; c < C; c++) {
          const v: number[] = [];
          for (let a = 0; a < 3; a++) for (let e = 0; e < 3; e++) v.push(y[((i + a) * W + j + e) * C + c]!);
          v.sort((p, q) => q - p);
          // exact ties (constant channels) route to the same first maximum everywhere
          const gap = v[0]! - v[1]!;
          if (gap > 0 && gap <= TIE * (1 + Math.abs(v[0]!))) {
            tied++;
            const [t0, t1, f0, f1] = foot(i / 3, j / 3);
            for (let t = t0; t <= Math.min(114, t1); t++) for (let f = f0; f <= Math.min(79, f1); f++) mask[t * 80 + f] = 1;
          }
        }
      }
    }
    return tied;
  };
  const c2 = acts.conv2!;
  const c4 = acts.conv4!;
  scan(c2.dataSync() as Float32Array, c2.shape[1]!, c2.shape[2]!, c2.shape[3]!, (i, j) => [3 * i, 3 * i + 6, 3 * j, 3 * j + 6]);
  scan(c4.dataSync() as Float32Array, c4.shape[1]!, c4.shape[2]!, c4.shape[3]!, (i, j) => [9 * i, 9 * i + 24, 9 * j, 9 * j + 24]);
  tf.dispose([c2, c4]);
  return mask;
}

const DEFAULT_MODEL = join(ROOT, 'assets', 'models', 'svd-default');

test('engine on the real default model: TF.js and onnxruntime forward on wasm = tfjs-cpu autodiff of SvdCnn (≤ 1e-4)', async () => {
  if (!existsSync(join(DEFAULT_MODEL, 'model.json'))) {
    console.log('  (skipped: no default model)');
    return;
  }
  const weights = await loadWeights(DEFAULT_MODEL);
  // a real-looking input: the z-scored log-mel statistics give values of the model's range
  const x = arr(115 * 80).map((v) => 1.5 * v);
  const r = Float32Array.from([1]);
  const { ref, mask } = await onBackend('cpu', () => {
    const m = new SvdCnn(weights);
    try {
      return { ref: refExcerptGrad(m, x, 1, r), mask: nearTieCells(m, x) };
    } finally {
      m.dispose();
    }
  });
  const masked = mask.reduce((a, b) => a + b, 0);
  // The comparison must still cover most of the input (v3: under 10 % masked; v4, 1 250 of 9 200 =
  // 13.6 %: more of its pool windows hold near-equal maxima on this random input).
  assert.ok(masked < 0.2 * mask.length, `near-tied windows cover ${masked} of ${mask.length} cells`);
  await initBackend('wasm');
  const m = new SvdCnn(weights);
  for (const engine of ['tfjs', 'ort'] as const) {
    let g: InputGradient;
    try {
      g = await InputGradient.create(m, { engine });
    } catch (e) {
      if (engine === 'ort' && (e as { code?: string }).code === 'ENGINE_UNAVAILABLE') continue;
      throw e;
    }
    assert.is(g.engine, engine);
    const res = await g.compute(x, 'excerpts', 1, () => r);
    assert.ok(Math.abs(res.logits[0]! - ref.z[0]!) < 1e-4, `${engine} logit ${res.logits[0]} vs ${ref.z[0]}`);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < mask.length; i++) {
      if (mask[i]) continue;
      a.push(res.grad![i]!);
      b.push(ref.grad[i]!);
    }
    assert.ok(scaledErr(a, b) < 1e-4, `${engine}: ${scaledErr(a, b)} outside ${masked} near-tie cells`);
    g.dispose();
  }
  m.dispose();
});

test('engine: bad inputs', async () => {
  await initBackend('wasm');
  const m = new SvdCnn(smallWeights(5));
  const g = InputGradient.of(m);
  throwsCode(() => g.logitsAndGrad(new Float32Array(10), 'excerpts', 1, (z) => z), 'BAD_SHAPE', /115 × 80/);
  throwsCode(() => g.logitsAndGrad(new Float32Array(100 * 80), 'frames', 100, (z) => z), 'BAD_ARGUMENT', /frames/);
  throwsCode(() => g.logitsAndGrad(new Float32Array(115 * 80), 'excerpts', 1, () => new Float32Array(3)), 'BAD_SHAPE', /dLogits/);
  let err: unknown = null;
  await InputGradient.create(m, { engine: 'gpu' as never }).catch((e) => (err = e));
  assert.match(String((err as Error)?.message), /engine/);
  g.dispose();
  throwsCode(() => g.logitsAndGrad(new Float32Array(115 * 80), 'excerpts', 1, (z) => z), 'DISPOSED');
  m.dispose();
});

test.run();
