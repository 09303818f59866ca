// The singing-voice CNN on TF.js against the PyTorch reference (scripts/fixtures/make_cnn_fixtures.py:
// the same architecture and float16-exact weights in PyTorch 1.13, eval-mode outputs, activations,
// gradients, one training-mode batch-norm step), plus the fully-convolutional form, tensor
// hygiene, input validation and the adapters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { fixturePath, readF32, readJSON, maxAbsErr, throwsCode } from './helpers.ts';
import { initBackend } from '../src/model/backend.ts';
import { loadWeights, initWeights, type WeightSet } from '../src/model/weights.ts';
import { SvdCnn, svdGeometry, SVD_ARCHITECTURE } from '../src/model/svdcnn.ts';
import { fromFunction, fromTensorFunction } from '../src/model/adapters.ts';
import { conv2dFilterGradByMatMul } from '../src/model/gradients.ts';
import { checkPredictInput } from '../src/model/classifier.ts';

const desc = readJSON('cnn/fixture.json');
const T = 115;
const F = 80;
const FRAMES: number = desc.frames;
let weights: WeightSet;
let model: SvdCnn;

/** Largest |a − b| relative to the largest |b| (≥ 1): the scale-aware 1e-4 criterion. */
function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 1;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(b[i]!));
  return maxAbsErr(a, b) / m;
}

/** Excerpt t of a padded spectrogram, back to back for the frames asked. */
function excerpts(padded: Float32Array, starts: number[]): Float32Array {
  const out = new Float32Array(starts.length * T * F);
  starts.forEach((t, i) => out.set(padded.subarray(t * F, (t + T) * F), i * T * F));
  return out;
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test.before(async () => {
  await initBackend('wasm');
  weights = await loadWeights(fixturePath('cnn', 'model'));
  model = new SvdCnn(weights);
});
test.after(() => model.dispose());

test('the wasm backend is up with SIMD; Node gets no wasm threads', async () => {
  const info = await initBackend('wasm');
  assert.is(info.backend, 'wasm');
  assert.is(tf.getBackend(), 'wasm');
  assert.is(info.simd, true);
  assert.is(info.threads, false);
  assert.ok(tf.getGradient('Conv2D') && tf.getGradient('MaxPool') && tf.getGradient('LeakyRelu'), 'gradients registered');
});

test('geometry: 115×80 → pool2 11×7, padding 57 frames', () => {
  const g = svdGeometry(SVD_ARCHITECTURE);
  assert.equal(g.conv1, [113, 78]);
  assert.equal(g.pool1, [37, 25]);
  assert.equal(g.pool2, [11, 7]);
  assert.is(g.pad, 57);
});

test('strided form (fused inference) equals PyTorch logits and probabilities to 1e-4 on every excerpt', async () => {
  const padded = readF32('cnn/padded_norm.f32');
  const x = excerpts(padded, range(FRAMES));
  const logits = await model.predictLogits(x, FRAMES, { batchSize: 16 });
  const ref = readF32('cnn/frame_logits.f32');
  assert.ok(scaledErr(logits, ref) < 1e-4, `logit error ${scaledErr(logits, ref)}`);
  const some = [0, 5, 30, FRAMES - 1];
  const probs = await model.predict(excerpts(padded, some), some.length, { batchSize: 3 });
  const refp = readF32('cnn/frame_probs.f32');
  assert.ok(maxAbsErr(probs, some.map((t) => refp[t]!)) < 1e-4);
  // The fixture is not degenerate: both decisions occur.
  assert.ok(ref.some((v) => v > 0) && ref.some((v) => v < 0));
});

test('the differentiable graph (apply/logits) equals PyTorch to 1e-4', () => {
  const padded = readF32('cnn/padded_norm.f32');
  const starts = [0, 20, FRAMES - 1];
  const ref = readF32('cnn/frame_logits.f32');
  const z = tf.tidy(() => model.logits(tf.tensor3d(excerpts(padded, starts), [3, T, F])).dataSync());
  assert.ok(scaledErr(z, starts.map((s) => ref[s]!)) < 1e-4);
  const p = tf.tidy(() => model.apply(tf.tensor4d(excerpts(padded, starts), [3, T, F, 1])).dataSync());
  assert.ok(maxAbsErr(p, starts.map((s) => 1 / (1 + Math.exp(-ref[s]!)))) < 1e-4);
});

test('fully-convolutional frame-wise prediction of the whole file equals PyTorch per excerpt to 1e-4', async () => {
  const spec = readF32('cnn/spec_norm.f32');
  const ref = readF32('cnn/frame_logits.f32');
  for (const chunkFrames of [1024, 13]) {
    const z = await model.predictFrameLogits(spec, FRAMES, { chunkFrames });
    assert.is(z.length, FRAMES);
    assert.ok(scaledErr(z, ref) < 1e-4, `chunk ${chunkFrames}: ${scaledErr(z, ref)}`);
  }
  const padded = readF32('cnn/padded_norm.f32');
  const zp = await model.predictFrameLogits(padded, FRAMES + 114, { padded: true });
  assert.ok(scaledErr(zp, ref) < 1e-4);
  const p = await model.predictFrames(spec, FRAMES);
  assert.ok(maxAbsErr(p, readF32('cnn/frame_probs.f32')) < 1e-4);
});

test('fully-convolutional form = strided form excerpt by excerpt (≤ 1e-5), random input, odd lengths', async () => {
  const frames = 23;
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2;
  const spec = new Float32Array(frames * F).map(rnd);
  const fc = await model.predictFrameLogits(spec, frames, { chunkFrames: 10 });
  const pv = model.padValues();
  const L = frames + 114;
  const padded = new Float32Array(L * F);
  for (let t = 0; t < L; t++) padded.set(t < 57 || t >= 57 + frames ? pv : spec.subarray((t - 57) * F, (t - 56) * F), t * F);
  const st = await model.predictLogits(excerpts(padded, range(frames)), frames, { batchSize: 23 });
  assert.ok(scaledErr(fc, st) <= 1e-5, `${scaledErr(fc, st)}`);
});

test('normalisation from the weight file reproduces PyTorch bn0 (1e-5) and its padding value', () => {
  const n = model.normalize(readF32('cnn/spec_raw.f32'));
  assert.ok(scaledErr(n, readF32('cnn/spec_norm.f32')) < 1e-5);
  const padded = readF32('cnn/padded_norm.f32');
  assert.ok(scaledErr(model.padValues(), padded.subarray(0, F)) < 1e-5);
});

test('named activations equal PyTorch (channel means, corners, pool2, fc1, fc2, logit)', () => {
  const padded = readF32('cnn/padded_norm.f32');
  const starts: number[] = desc.activation_frames;
  const acts = model.activations(tf.tensor3d(excerpts(padded, starts), [starts.length, T, F]));
  try {
    assert.equal(Object.keys(acts), ['conv1', 'conv2', 'pool1', 'conv3', 'conv4', 'pool2', 'fc1', 'fc2', 'logit']);
    for (const name of ['conv1', 'conv2', 'pool1', 'conv3', 'conv4']) {
      const a = acts[name]!;
      const chmean = tf.tidy(() => tf.mean(a, [1, 2]).dataSync());
      assert.ok(scaledErr(chmean, readF32(`cnn/act_${name}_chmean.f32`)) < 1e-4, `${name} channel means`);
      const corner = tf.tidy(() => tf.slice(a, [0, 0, 0, 0], [-1, 4, 4, -1]).dataSync());
      assert.ok(scaledErr(corner, readF32(`cnn/act_${name}_first.f32`)) < 1e-4, `${name} corner`);
    }
    for (const name of ['pool2', 'fc1', 'fc2', 'logit']) {
      assert.ok(scaledErr(acts[name]!.dataSync(), readF32(`cnn/act_${name}.f32`)) < 1e-4, name);
    }
  } finally {
    tf.dispose(Object.values(acts));
  }
  const only = model.activations(tf.zeros([1, T, F]), ['fc2']);
  assert.equal(Object.keys(only), ['fc2']);
  tf.dispose(Object.values(only));
  throwsCode(() => model.activations(tf.zeros([1, T, F]), ['conv9']), 'BAD_ARGUMENT', /conv9/);
});

test('predictFrom(stage) runs only the tail and equals the full prediction', async () => {
  const padded = readF32('cnn/padded_norm.f32');
  const starts = [0, 20];
  const x = excerpts(padded, starts);
  const full = await model.predict(x, 2);
  const acts = model.activations(tf.tensor3d(x, [2, T, F]), ['conv1', 'conv2', 'pool1', 'conv3', 'conv4', 'pool2']);
  try {
    for (const [stage, t] of Object.entries(acts)) {
      assert.equal(t.shape.slice(1), model.stageShape(stage as any), stage);
      const p = await model.predictFrom(stage as any, t.dataSync() as Float32Array, 2, { batchSize: 1 });
      assert.ok(maxAbsErr(p, full) < 1e-5, `${stage}: ${maxAbsErr(p, full)}`);
    }
  } finally {
    tf.dispose(Object.values(acts));
  }
  const same = await model.predictFrom('input', x, 2);
  assert.ok(maxAbsErr(same, full) < 1e-6);
  await model.predictFrom('conv2', new Float32Array(10), 1).then(
    () => assert.unreachable(),
    (e) => assert.is(e.code, 'BAD_SHAPE'),
  );
  throwsCode(() => model.stageShape('fc1' as any), 'BAD_ARGUMENT', /stage must be one of/);
});

test('input gradient of the summed logits equals PyTorch (wasm, earshot gradient rules)', () => {
  const padded = readF32('cnn/padded_norm.f32');
  const x = tf.tensor3d(excerpts(padded, [0, 20]), [2, T, F]);
  const g = tf.grad((z: tf.Tensor) => tf.sum(model.forward(z)))(x);
  const ref = readF32('cnn/grad_input.f32');
  // relative to the largest gradient entry
  let gmax = 0;
  for (const v of ref) gmax = Math.max(gmax, Math.abs(v));
  assert.ok(maxAbsErr(g.dataSync(), ref) / gmax < 1e-4, `${maxAbsErr(g.dataSync(), ref) / gmax}`);
  tf.dispose([x, g]);
});

/** Gradients of the summed logit of excerpt 20 w.r.t. the named variables vs the PyTorch fixture. */
function checkParamGrads(m: SvdCnn, names: string[]): void {
  const files: Record<string, string> = {
    'conv1.kernel': 'grad_conv1_kernel',
    'conv2.kernel': 'grad_conv2_kernel',
    'fc2.kernel': 'grad_fc2_kernel',
    'fc1.bias': 'grad_fc1_bias',
    'conv1.bn.gamma': 'grad_conv1_bn_gamma',
  };
  const x = tf.tensor3d(excerpts(readF32('cnn/padded_norm.f32'), [20]), [1, T, F]);
  const { value, grads } = tf.variableGrads(() => tf.sum(m.forward(x)) as tf.Scalar, names.map((n) => m.vars[n]!));
  for (const n of names) {
    const ref = readF32(`cnn/${files[n]}.f32`);
    const g = grads[m.vars[n]!.name]!.dataSync();
    let gmax = 0;
    for (const v of ref) gmax = Math.max(gmax, Math.abs(v));
    assert.ok(maxAbsErr(g, ref) / gmax < 1e-4, `${n}: ${maxAbsErr(g, ref) / gmax}`);
  }
  tf.dispose([x, value, ...Object.values(grads)]);
}

test('parameter gradients of dense and batch-norm layers equal PyTorch (wasm)', () => {
  checkParamGrads(model, ['fc2.kernel', 'fc1.bias', 'conv1.bn.gamma']);
});

test('conv filter gradients (through the zero-mean conv1) equal PyTorch on wasm', () => {
  // Whichever path is active: a registered wasm Conv2DBackpropFilter kernel, or the matmul fallback.
  checkParamGrads(model, ['conv1.kernel', 'conv2.kernel']);
});

test('the matmul filter gradient equals tfjs-cpu Conv2DBackpropFilter (stride 1 valid, stride 2 same)', async () => {
  const cases = [
    { x: [2, 9, 8, 3], f: [3, 3, 3, 4], strides: 1, pad: 'valid' as const },
    { x: [1, 10, 7, 2], f: [3, 2, 2, 5], strides: 2, pad: 'same' as const },
  ];
  const results: Record<string, Float32Array[]> = { cpu: [], wasm: [], ref: [] };
  for (const be of ['cpu', 'wasm'] as const) {
    await initBackend(be);
    for (const c of cases) {
      const x = tf.tensor4d(Float32Array.from({ length: c.x.reduce((a, b) => a * b) }, (_, i) => Math.sin(0.37 * i)), c.x as any);
      const f = tf.tensor4d(Float32Array.from({ length: c.f.reduce((a, b) => a * b) }, (_, i) => Math.cos(0.11 * i)), c.f as any);
      const y = tf.conv2d(x, f, c.strides, c.pad);
      const dy = tf.tensor4d(Float32Array.from({ length: y.size }, (_, i) => Math.sin(0.05 * i + 1)), y.shape);
      results[be]!.push(conv2dFilterGradByMatMul(x, dy, c.f as any, c.strides, c.pad).dataSync() as Float32Array);
      if (be === 'cpu') {
        const ref = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f }) as tf.Tensor;
        results.ref!.push(ref.dataSync() as Float32Array);
        ref.dispose();
      }
      tf.dispose([x, f, y, dy]);
    }
  }
  cases.forEach((_c, i) => {
    assert.ok(scaledErr(results.cpu![i]!, results.ref![i]!) < 1e-5, `case ${i} cpu`);
    assert.ok(scaledErr(results.wasm![i]!, results.ref![i]!) < 1e-5, `case ${i} wasm`);
  });
});

test('every earshot gradient rule matches central finite differences (cpu, float32)', async () => {
  await initBackend('cpu');
  try {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const T4 = (shape: number[], lo = -1, hi = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + ((rnd() + 1) / 2) * (hi - lo)), shape);
    const b = T4([3, 4]);
    const filt = T4([2, 3, 2, 3]);
    const cases: Array<[string, number[], (x: tf.Tensor) => tf.Tensor, number?, number?]> = [
      ['Add/Sub/Mul/Div broadcast', [3, 4], (x) => tf.div(tf.mul(tf.sub(tf.add(x, tf.tensor1d([1, 2, 3, 4])), 0.5), x), tf.add(tf.square(x), 2))],
      ['Maximum/Minimum', [3, 4], (x) => tf.add(tf.maximum(x, b), tf.minimum(x, tf.mul(b, 0.5)))],
      ['SquaredDifference/Pow', [3, 4], (x) => tf.add(tf.squaredDifference(x, b), tf.pow(tf.add(tf.abs(x), 0.5), tf.add(b, 2)))],
      ['Exp/Log/Log1p/Sqrt/Rsqrt/Reciprocal', [3, 4], (x) => { const p = tf.add(tf.abs(x), 0.5); return tf.addN([tf.exp(x), tf.log(p), tf.log1p(p), tf.sqrt(p), tf.rsqrt(p), tf.reciprocal(p)]); }],
      ['Sigmoid/Tanh/Softplus/Elu/Relu/LeakyRelu/Abs/Neg', [3, 4], (x) => tf.addN([tf.sigmoid(x), tf.tanh(x), tf.softplus(x), tf.elu(x), tf.relu(x), tf.leakyRelu(x, 0.1), tf.abs(x), tf.neg(x)])],
      ['ClipByValue/Select', [3, 4], (x) => tf.add(tf.clipByValue(x, -0.5, 0.5), tf.where(tf.greater(b, 0), tf.mul(x, 3), tf.mul(x, x)))],
      ['Sum/Mean/Max (axes, keepDims)', [3, 4], (x) => tf.add(tf.add(tf.sum(x, 1, true), tf.mean(x, 0)), tf.max(x, 1, true))],
      ['Softmax/LogSoftmax', [3, 4], (x) => tf.add(tf.mul(tf.softmax(x), 3), tf.logSoftmax(x))],
      ['Reshape/Transpose/ExpandDims/Slice/Pad/Reverse', [3, 4], (x) => tf.reshape(tf.pad(tf.reverse(tf.slice(tf.transpose(tf.expandDims(x, 0), [0, 2, 1]), [0, 1, 0], [1, 2, 3]), [1]), [[0, 0], [1, 2], [0, 1]]), [-1])],
      ['Concat/Stack/Tile/BroadcastTo', [3, 4], (x) => tf.addN([tf.reshape(tf.concat([x, tf.mul(x, 2)], 1), [3, 2, 4]), tf.reshape(tf.stack([x, x], 1), [3, 2, 4]), tf.reshape(tf.tile(x, [1, 2]), [3, 2, 4]), tf.broadcastTo(tf.reshape(x, [3, 1, 4]), [3, 2, 4])])],
      ['Split/Unstack/Min/Sin/Cos', [3, 4], (x) => { const [p, q] = tf.split(x, [1, 3], 1); const [r] = tf.unstack(x, 0); return tf.addN([tf.mul(tf.sum(p!), 2), tf.sum(tf.sin(q!)), tf.sum(tf.mul(r!, 3)), tf.sum(tf.min(x, 1)), tf.sum(tf.cos(x))]); }],
      ['BatchMatMul with transposes', [3, 4], (x) => tf.addN([tf.matMul(x, b, false, true), tf.matMul(b, x, false, true), tf.slice(tf.matMul(x, b, true, false), [0, 0], [3, 3]), tf.slice(tf.matMul(tf.transpose(x), b, true, true), [0, 0], [3, 3])])],
      ['Conv2D stride 2 same (input)', [1, 6, 5, 2], (x) => tf.conv2d(x as tf.Tensor4D, filt as tf.Tensor4D, 2, 'same')],
      ['MaxPool 2×2/1 and AvgPool', [1, 5, 5, 2], (x) => tf.add(tf.sum(tf.maxPool(x as tf.Tensor4D, 2, 1, 'valid')), tf.sum(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid')))],
    ];
    for (const [name, shape, f] of cases) {
      const x = T4(shape);
      const w = tf.tidy(() => T4(f(x).shape));
      const L = (z: tf.Tensor) => tf.sum(tf.mul(f(z), w));
      const g = tf.grad(L)(x).dataSync();
      const xd = x.dataSync().slice();
      const h = 1e-3;
      let gmax = 1e-3;
      for (const v of g) gmax = Math.max(gmax, Math.abs(v));
      for (let k = 0; k < Math.min(xd.length, 12); k++) {
        const i = (k * 7) % xd.length;
        const at = (d: number) => {
          const xx = xd.slice();
          xx[i]! += d;
          return tf.tidy(() => L(tf.tensor(xx, shape)).dataSync()[0]!);
        };
        const num = (at(h) - at(-h)) / (2 * h);
        assert.ok(Math.abs(num - g[i]!) / gmax < 2e-2, `${name}: d/dx[${i}] analytic ${g[i]} numeric ${num}`);
      }
      tf.dispose([x, w]);
    }
    tf.dispose([b, filt]);
  } finally {
    await initBackend('wasm');
  }
});

test('training-mode batch norm (batch statistics, moving averages with momentum 0.1) equals PyTorch', () => {
  const m = new SvdCnn(weights);
  try {
    const padded = readF32('cnn/padded_norm.f32');
    const x = tf.tensor3d(excerpts(padded, range(8)), [8, T, F]);
    const z = tf.tidy(() => m.forward(x, { training: true, dropout: false, momentum: 0.1 }).dataSync());
    assert.ok(scaledErr(z, readF32('cnn/train_logits.f32')) < 1e-4, `${scaledErr(z, readF32('cnn/train_logits.f32'))}`);
    for (const [v, file] of [
      ['conv1.bn.mean', 'train_conv1_bn_mean'],
      ['conv1.bn.variance', 'train_conv1_bn_variance'],
      ['fc2.bn.mean', 'train_fc2_bn_mean'],
      ['fc2.bn.variance', 'train_fc2_bn_variance'],
    ]) {
      assert.ok(scaledErr(m.vars[v!]!.dataSync(), readF32(`cnn/${file}.f32`)) < 1e-4, v);
    }
    // The moving statistics changed, so the cached inference fold must follow them.
    x.dispose();
    assert.is(m.trainableVariables().length, 4 * 4 + 2 * 4 + 2);
  } finally {
    m.dispose();
  }
});

test('inference fold follows weight changes (setWeights) and training steps', async () => {
  const w0 = initWeights(3);
  const m = new SvdCnn(w0);
  const x = new Float32Array(2 * T * F).map((_, i) => Math.sin(i * 0.01));
  const before = await m.predictLogits(x, 2);
  const w1 = initWeights(4);
  m.setWeights(w1.tensors);
  const after = await m.predictLogits(x, 2);
  const fresh = new SvdCnn(w1);
  const ref = await fresh.predictLogits(x, 2);
  assert.ok(maxAbsErr(after, ref) < 1e-6);
  assert.ok(maxAbsErr(before, after) > 1e-3);
  // dropout with a seed is reproducible and differs from eval mode
  const xt = tf.tensor3d(x, [2, T, F]);
  const d1 = tf.tidy(() => m.forward(xt, { training: true, updateStats: false, seed: 9 }).dataSync());
  const d2 = tf.tidy(() => m.forward(xt, { training: true, updateStats: false, seed: 9 }).dataSync());
  assert.equal(Array.from(d1), Array.from(d2));
  xt.dispose();
  m.dispose();
  fresh.dispose();
});

test('tf.memory().numTensors is flat over repeated predictions, frame predictions, apply and activations', async () => {
  const x = excerpts(readF32('cnn/padded_norm.f32'), [0, 1]);
  const spec = readF32('cnn/spec_norm.f32');
  await model.predict(x, 2); // builds the fold once
  const n0 = tf.memory().numTensors;
  for (let r = 0; r < 2; r++) {
    await model.predict(x, 2, { batchSize: 1 });
    await model.predictFrames(spec, FRAMES, { chunkFrames: 20 });
    const xt = tf.tensor3d(x, [2, T, F]);
    const p = model.apply(xt);
    const a = model.activations(xt);
    const g = tf.grad((z: tf.Tensor) => tf.sum(model.forward(z)))(xt);
    tf.dispose([xt, p, g, ...Object.values(a)]);
  }
  assert.is(tf.memory().numTensors, n0);
});

test('predict validates its input with named EarshotErrors', async () => {
  const good = new Float32Array(T * F);
  const call = (b: unknown, n: unknown) => () => checkPredictInput(model, b, n);
  throwsCode(call(new Float64Array(T * F), 1), 'BAD_ARGUMENT', /Float32Array, got Float64Array/);
  throwsCode(call([1, 2, 3], 1), 'BAD_ARGUMENT', /Float32Array/);
  throwsCode(call(good, 0), 'BAD_ARGUMENT', /n \(number of examples\)/);
  throwsCode(call(good, 1.5), 'BAD_ARGUMENT', /n \(number of examples\)/);
  throwsCode(call(good, 2), 'BAD_SHAPE', /2 × 9200 = 18400 values, got 9200/);
  throwsCode(call(new Float32Array(T * F + 1), 1), 'BAD_SHAPE', /got 9201/);
  const nan = new Float32Array(T * F);
  nan[9199] = NaN;
  throwsCode(call(nan, 1), 'NOT_FINITE', /batch\[9199\] \(example 0\) is NaN/);
  nan[9199] = -Infinity;
  throwsCode(call(nan, 1), 'NOT_FINITE', /-Infinity/);
  // the real predict rejects the same way (as a rejected promise)
  const rej = async (p: Promise<unknown>, code: string) => {
    try {
      await p;
    } catch (e: any) {
      assert.is(e.code, code);
      return;
    }
    assert.unreachable('no error');
  };
  await rej(model.predict(good, 2), 'BAD_SHAPE');
  await rej(model.predict(good, 1, { batchSize: 0 }), 'BAD_ARGUMENT');
  await rej(model.predictFrames(new Float32Array(10 * F + 3), 10), 'BAD_SHAPE');
  await rej(model.predictFrames(new Float32Array(10 * F), 10, { padded: true }), 'BAD_SHAPE');
  throwsCode(() => model.forward(tf.zeros([1, 100, F])), 'BAD_SHAPE', /\[n, 115, 80\]/);
  const m = new SvdCnn(weights);
  m.dispose();
  await rej(m.predict(good, 1), 'DISPOSED');
});

test('fromFunction: any async function becomes a Classifier, outputs checked', async () => {
  const calls: number[] = [];
  const c = fromFunction(async (b, n) => {
    calls.push(n);
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      out[2 * i] = b[i * 4]! > 0 ? 0.9 : 0.1;
      out[2 * i + 1] = 1 - out[2 * i]!;
    }
    return out;
  }, { id: 'toy', inputShape: [2, 2], labels: ['a', 'b'], batchSize: 2 });
  const p = await c.predict(new Float32Array([1, 0, 0, 0, -1, 0, 0, 0, 1, 1, 1, 1]), 3);
  assert.equal(Array.from(p).map((v) => Math.round(v * 10) / 10), [0.9, 0.1, 0.1, 0.9, 0.9, 0.1]);
  assert.equal(calls, [2, 1]);
  const bad = fromFunction(async () => new Float32Array([2]), { id: 'bad', inputShape: [1], labels: ['x'] });
  try {
    await bad.predict(new Float32Array([0]), 1);
    assert.unreachable();
  } catch (e: any) {
    assert.is(e.code, 'MODEL_OUTPUT');
    assert.match(e.message, /\[0, 1\]/);
  }
  throwsCode(() => fromFunction(async () => new Float32Array(), { id: '', inputShape: [1], labels: ['x'] }), 'BAD_ARGUMENT', /id/);
  throwsCode(() => fromFunction(async () => new Float32Array(), { id: 'x', inputShape: [0], labels: ['x'] }), 'BAD_ARGUMENT', /inputShape\[0\]/);
});

test('fromTensorFunction: a differentiable tfjs function becomes a DifferentiableClassifier', async () => {
  const w = tf.tensor1d([1, -2, 0.5]);
  const c = fromTensorFunction((x) => tf.sigmoid(tf.sum(tf.mul(tf.reshape(x, [-1, 3]), w), 1, true)), { id: 'lin', inputShape: [3], labels: ['yes'], batchSize: 2 }, {
    activations: (x) => ({ dot: tf.sum(tf.mul(tf.reshape(x, [-1, 3]), w), 1) }),
  });
  const x = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const n0 = tf.memory().numTensors;
  const p = await c.predict(x, 3);
  assert.is(tf.memory().numTensors, n0);
  const expect = [1, -2, 0.5].map((v) => 1 / (1 + Math.exp(-v)));
  assert.ok(maxAbsErr(p, expect) < 1e-6);
  const g = tf.grad((z: tf.Tensor) => tf.sum(c.apply(z)))(tf.tensor2d(x, [3, 3]));
  // d sigmoid(w·x)/dx = s(1−s)·w
  const gd = g.dataSync();
  assert.ok(Math.abs(gd[0]! - expect[0]! * (1 - expect[0]!) * 1) < 1e-6);
  const a = c.activations(tf.tensor2d(x, [3, 3]), ['dot']);
  assert.equal(Array.from(a.dot!.dataSync()), [1, -2, 0.5]);
  tf.dispose([g, a.dot!, w]);
  c.dispose();
  try {
    await c.predict(x, 3);
    assert.unreachable('predict after dispose');
  } catch (e: any) {
    assert.is(e.code, 'DISPOSED');
  }
});

test.run();
