/**
 * The convolution-gradient kernels (assembly/conv_grad.ts, bindings/conv_grad.ts) and their
 * registration on the TF.js wasm backend (src/model/wasm_kernels.ts), checked against
 * @tensorflow/tfjs-backend-cpu's Conv2DBackpropFilter / Conv2DBackpropInput kernels. Dilated
 * convolutions are checked through the identity conv2d(x, w, dilation d) = conv2d(x, w↑d), where
 * w↑d is w with d − 1 zeros between taps, whose undilated gradient the cpu backend computes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { conv2dBackpropFilter, conv2dBackpropInput, type ConvGeometry } from '../bindings/conv_grad.ts';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../src/model/wasm_kernels.ts';
import { throwsCode } from './helpers.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
function randn(n: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() + r() + r();
  return a;
}
/** Max |a−b| relative to max |b| (the scale of the gradient). */
function relErr(a: Float32Array, b: Float32Array): number {
  assert.is(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / (den || 1);
}

interface Case {
  batch: number;
  h: number;
  w: number;
  inC: number;
  outC: number;
  k: [number, number];
  stride: [number, number];
  dil: [number, number];
  pad: 'valid' | 'same';
}

const cases: Case[] = [
  { batch: 2, h: 9, w: 8, inC: 1, outC: 64, k: [3, 3], stride: [1, 1], dil: [1, 1], pad: 'valid' },
  { batch: 2, h: 10, w: 9, inC: 64, outC: 32, k: [3, 3], stride: [1, 1], dil: [1, 1], pad: 'valid' },
  { batch: 1, h: 11, w: 10, inC: 32, outC: 128, k: [3, 3], stride: [1, 1], dil: [1, 1], pad: 'same' },
  { batch: 3, h: 12, w: 11, inC: 6, outC: 13, k: [3, 2], stride: [2, 1], dil: [1, 1], pad: 'same' },
  { batch: 2, h: 13, w: 14, inC: 5, outC: 7, k: [3, 3], stride: [3, 2], dil: [1, 1], pad: 'valid' },
  { batch: 1, h: 15, w: 12, inC: 3, outC: 9, k: [2, 3], stride: [3, 3], dil: [1, 1], pad: 'same' },
  { batch: 2, h: 20, w: 11, inC: 8, outC: 16, k: [3, 3], stride: [1, 1], dil: [3, 1], pad: 'valid' },
  { batch: 1, h: 16, w: 16, inC: 4, outC: 12, k: [3, 3], stride: [1, 1], dil: [3, 3], pad: 'same' },
  { batch: 2, h: 9, w: 17, inC: 9, outC: 20, k: [2, 3], stride: [1, 1], dil: [1, 3], pad: 'valid' },
  { batch: 1, h: 9, w: 9, inC: 1, outC: 3, k: [1, 1], stride: [2, 2], dil: [1, 1], pad: 'valid' },
];

/** w↑d: taps moved d apart, zeros between. */
function dilateFilter(w: Float32Array, kH: number, kW: number, ci: number, co: number, dH: number, dW: number): { data: Float32Array; kH: number; kW: number } {
  const KH = (kH - 1) * dH + 1;
  const KW = (kW - 1) * dW + 1;
  const out = new Float32Array(KH * KW * ci * co);
  for (let a = 0; a < kH; a++) for (let b = 0; b < kW; b++) out.set(w.subarray((a * kW + b) * ci * co, (a * kW + b + 1) * ci * co), (a * dH * KW + b * dW) * ci * co);
  return { data: out, kH: KH, kW: KW };
}
function undilateGrad(g: Float32Array, kH: number, kW: number, ci: number, co: number, dH: number, dW: number): Float32Array {
  const KW = (kW - 1) * dW + 1;
  const out = new Float32Array(kH * kW * ci * co);
  for (let a = 0; a < kH; a++) for (let b = 0; b < kW; b++) out.set(g.subarray((a * dH * KW + b * dW) * ci * co, (a * dH * KW + b * dW + 1) * ci * co), (a * kW + b) * ci * co);
  return out;
}

/** Gradients of Σ r·conv2d(x, w) w.r.t. x and w on the current backend, via tf.grads. */
function grads(c: Case, x: Float32Array, w: Float32Array, kH: number, kW: number, dil: [number, number], r: Float32Array | null): { dx: Float32Array; dw: Float32Array; y: number[] } {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.batch, c.h, c.w, c.inC]);
    const wt = tf.tensor4d(w, [kH, kW, c.inC, c.outC]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', dil);
    const y = f(xt, wt);
    const dy = tf.tensor(r ?? new Float32Array(y.size), y.shape);
    const [dx, dw] = tf.grads(f)([xt, wt], dy);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array, y: y.shape };
  });
}

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await tf.setBackend(name);
  return fn();
}

test.before(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  await tf.setBackend('cpu');
  await tf.ready();
  registerWasmTrainingKernels();
});

test('tf.grads through conv2d on wasm (filter and input) equal tfjs-backend-cpu to 1e-4 for strides 1/2/3, dilations 1/3, valid/same', async () => {
  for (const [i, c] of cases.entries()) {
    const r = rng(100 + i);
    const x = randn(c.batch * c.h * c.w * c.inC, r);
    const w = randn(c.k[0] * c.k[1] * c.inC * c.outC, r);
    const dilated = c.dil[0] > 1 || c.dil[1] > 1;
    const wd = dilateFilter(w, c.k[0], c.k[1], c.inC, c.outC, c.dil[0], c.dil[1]);
    const shape = await onBackend('cpu', () => grads(c, x, wd.data, wd.kH, wd.kW, [1, 1], null).y);
    const dyData = randn(shape.reduce((a, b) => a * b, 1), r);
    const ref = await onBackend('cpu', () =>
      dilated ? grads(c, x, wd.data, wd.kH, wd.kW, [1, 1], dyData) : grads(c, x, w, c.k[0], c.k[1], [1, 1], dyData),
    );
    const refDw = dilated ? undilateGrad(ref.dw, c.k[0], c.k[1], c.inC, c.outC, c.dil[0], c.dil[1]) : ref.dw;
    for (const mode of ['auto', 'core'] as const) {
      registerWasmTrainingKernels({ inputGradient: mode });
      const got = await onBackend('wasm', () => grads(c, x, w, c.k[0], c.k[1], c.dil, dyData));
      const eW = relErr(got.dw, refDw);
      const eX = relErr(got.dx, ref.dx);
      assert.ok(eW <= 1e-4, `case ${i} (${JSON.stringify(c)}) filter gradient rel err ${eW}`);
      assert.ok(eX <= 1e-4, `case ${i} (${JSON.stringify(c)}) input gradient (${mode}) rel err ${eX}`);
    }
  }
  registerWasmTrainingKernels();
});

test('the bindings equal the cpu kernels on a stride-2 dilated case, and write into `out`', async () => {
  const g: ConvGeometry = { batch: 2, inH: 11, inW: 10, inC: 5, outH: 4, outW: 5, outC: 6, kH: 3, kW: 2, strideH: 2, strideW: 2, dilH: 2, dilW: 1, padTop: 0, padLeft: 0 };
  const r = rng(7);
  const x = randn(2 * 11 * 10 * 5, r);
  const dy = randn(2 * 4 * 5 * 6, r);
  const w = randn(3 * 2 * 5 * 6, r);
  const wd = dilateFilter(w, 3, 2, 5, 6, 2, 1);
  const ref = await onBackend('cpu', () =>
    tf.tidy(() => {
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, [2, 11, 10, 5]), dy: tf.tensor4d(dy, [2, 4, 5, 6]) }, {
        strides: [2, 2], pad: 'valid', dataFormat: 'NHWC', filterShape: [wd.kH, wd.kW, 5, 6],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dy, [2, 4, 5, 6]), filter: tf.tensor4d(wd.data, [wd.kH, wd.kW, 5, 6]) }, {
        strides: [2, 2], pad: 'valid', dataFormat: 'NHWC', inputShape: [2, 11, 10, 5],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return { dw: dw.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
    }),
  );
  const out = new Float32Array(w.length).fill(99);
  const dw = conv2dBackpropFilter(x, dy, g, out);
  assert.is(dw, out);
  assert.ok(relErr(dw, undilateGrad(ref.dw, 3, 2, 5, 6, 2, 1)) <= 1e-5);
  assert.ok(relErr(conv2dBackpropInput(dy, w, g), ref.dx) <= 1e-5);
});

test('the bindings reject bad geometry, lengths, types, NaN and unknown options with named errors', () => {
  const g: ConvGeometry = { batch: 1, inH: 5, inW: 5, inC: 2, outH: 3, outW: 3, outC: 4, kH: 3, kW: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 };
  const x = new Float32Array(50);
  const dy = new Float32Array(36);
  const w = new Float32Array(72);
  throwsCode(() => conv2dBackpropFilter(x, dy, { ...g, outH: 6 }), 'BAD_SHAPE', /outH = 6 .*expected 3 … 5/);
  throwsCode(() => conv2dBackpropFilter(x, dy, { ...g, outW: 9 }), 'BAD_SHAPE', /outW/);
  throwsCode(() => conv2dBackpropFilter(x, dy, { ...g, padTop: 3 }), 'BAD_SHAPE', /padTop/);
  throwsCode(() => conv2dBackpropFilter(x, dy, { ...g, strideH: 0 }), 'BAD_ARGUMENT', /strideH/);
  throwsCode(() => conv2dBackpropFilter(x, dy, { ...g, dilW: -1 }), 'BAD_ARGUMENT', /dilW/);
  throwsCode(() => conv2dBackpropFilter(x, dy, { ...g, kH: 2.5 }), 'BAD_ARGUMENT', /kH/);
  throwsCode(() => conv2dBackpropFilter(x, dy, { ...g, batch: Number.NaN }), 'BAD_ARGUMENT', /batch/);
  throwsCode(() => conv2dBackpropFilter(x, dy, { ...g, stride: 1 } as unknown as ConvGeometry), 'BAD_ARGUMENT', /geometry\.stride is not/);
  throwsCode(() => conv2dBackpropFilter(x, dy, null as unknown as ConvGeometry), 'BAD_ARGUMENT', /geometry/);
  throwsCode(() => conv2dBackpropFilter(new Float32Array(49), dy, g), 'BAD_SHAPE', /x must have 50/);
  throwsCode(() => conv2dBackpropFilter(x, new Float32Array(35), g), 'BAD_SHAPE', /dy must have 36/);
  throwsCode(() => conv2dBackpropFilter(x, dy, g, new Float32Array(3)), 'BAD_SHAPE', /out must have 72/);
  throwsCode(() => conv2dBackpropFilter(new Float64Array(50) as unknown as Float32Array, dy, g), 'BAD_ARGUMENT', /x must be a Float32Array, got Float64Array/);
  throwsCode(() => conv2dBackpropInput(dy, new Float32Array(71), g), 'BAD_SHAPE', /filter must have 72/);
  const bad = new Float32Array(36);
  bad[5] = Number.NaN;
  throwsCode(() => conv2dBackpropInput(bad, w, g), 'NOT_FINITE', /dy\[5\]/);
  throwsCode(() => conv2dBackpropFilter(x, dy, g, undefined, { fast: true } as never), 'BAD_ARGUMENT', /unknown option 'fast'/);
  throwsCode(() => registerWasmTrainingKernels({ inputGradient: 'fast' as never }), 'BAD_ARGUMENT', /inputGradient/);
});

test('the wasm kernels refuse NCHW and a dilated gradient is refused on backends that would ignore the dilation', async () => {
  await tf.setBackend('wasm');
  assert.throws(
    () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.zeros([1, 2, 5, 5]), dy: tf.zeros([1, 4, 3, 3]) }, {
        strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 4],
      } as unknown as tf.NamedAttrMap),
    /NHWC/,
  );
  await tf.setBackend('cpu');
  const x = tf.ones([1, 9, 9, 1]) as tf.Tensor4D;
  const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
  assert.throws(() => tf.grad((v: tf.Tensor) => tf.conv2d(x, v as tf.Tensor4D, 1, 'valid', 'NHWC', 3))(w), /dilated conv2d .*wasm/);
  tf.dispose([x, w]);
});

test('leading-axis Sum / Mean on wasm (matmul form) equal tfjs-backend-cpu, with keepDims, negative axes and the stock fallbacks', async () => {
  const r = rng(3);
  const data = randn(3 * 7 * 5 * 4, r);
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(data, [3, 7, 5, 4]);
      const outs = [
        tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1, 2]), tf.sum(x, [1, 0], true), tf.mean(x, 0), tf.sum(x, [-4, -3]),
        tf.sum(x, [1, 2]), tf.mean(x, 3), tf.sum(x), tf.mean(x, [0, 2], true),
      ];
      return outs.map((t) => ({ shape: t.shape, v: t.dataSync() as Float32Array }));
    });
  const ref = await onBackend('cpu', run);
  const got = await onBackend('wasm', run);
  ref.forEach((o, i) => {
    assert.equal(got[i]!.shape, o.shape, `shape of reduction ${i}`);
    assert.ok(relErr(got[i]!.v, o.v) <= 1e-5, `reduction ${i}`);
  });
});

test('zero-copy Identity / same-dtype Cast on wasm: values survive disposing the source; other casts still convert', async () => {
  await tf.setBackend('wasm');
  const a = tf.tensor1d([1.5, -2.25, 3]);
  const b = tf.clone(a);
  const c = tf.cast(a, 'float32');
  const d = tf.cast(a, 'int32');
  a.dispose();
  assert.equal(Array.from(b.dataSync()), [1.5, -2.25, 3]);
  assert.equal(Array.from(c.dataSync()), [1.5, -2.25, 3]);
  assert.equal(Array.from(d.dataSync()), [1, -2, 3]);
  assert.is(d.dtype, 'int32');
  const n = tf.memory().numTensors;
  tf.dispose([b, c, d]);
  assert.is(tf.memory().numTensors, n - 3);
  const v = tf.variable(tf.tensor1d([1, 2]));
  const snap = tf.clone(v);
  v.assign(tf.tensor1d([5, 6]));
  assert.equal(Array.from(snap.dataSync()), [1, 2], 'a clone keeps the value a variable had before assign');
  tf.dispose([v, snap]);
});

test('unregister restores the stock kernel set; numTensors is flat over repeated gradients', async () => {
  await tf.setBackend('wasm');
  const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 3, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
  const step = () => tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))([x, w]).map((t) => t.dataSync()));
  step();
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.is(tf.memory().numTensors, n0);
  unregisterWasmTrainingKernels();
  assert.is(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
  assert.is(tf.getKernel('Sum', 'wasm')!.kernelFunc.name, 'sum');
  assert.ok(tf.getKernel('Conv2DBackpropInput', 'wasm'));
  registerWasmTrainingKernels();
  tf.dispose([x, w]);
});

test.run();
