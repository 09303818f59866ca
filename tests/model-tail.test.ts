/**
 * SvdCnn.tailLogits: the logits from a named hidden activation onward (what Grad-CAM
 * differentiates). Reference: the model's own plain layer-by-layer graph, `logits(x)`, on the
 * PyTorch-checked fixture weights (tests/model.test.ts pins that graph to PyTorch); the
 * derivative is checked against a central finite difference of the same function.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { fixturePath, readF32, maxAbsErr, throwsCode } from './helpers.ts';
import { initBackend } from '../src/model/backend.ts';
import { loadWeights } from '../src/model/weights.ts';
import { SvdCnn, SVD_TAIL_LAYERS } from '../src/model/svdcnn.ts';

const T = 115;
const F = 80;
let model: SvdCnn;

test.before(async () => {
  await initBackend('wasm');
  model = new SvdCnn(await loadWeights(fixturePath('cnn', 'model')));
});
test.after(() => model.dispose());

test('tailLogits(activations(x)[layer], layer) = logits(x) to 1e-5 (relative) for every layer it accepts; no tensor leaks', () => {
  const padded = readF32('cnn/padded_norm.f32');
  const two = new Float32Array(2 * T * F);
  two.set(padded.subarray(0, T * F));
  two.set(padded.subarray(40 * F, (40 + T) * F), T * F); // a second excerpt, 40 frames later
  const x = tf.tensor3d(two, [2, T, F]);
  const ref = model.logits(x);
  const want = ref.dataSync() as Float32Array;
  const acts = model.activations(x, [...SVD_TAIL_LAYERS]);
  tf.dispose(model.tailLogits(acts['pool2']!, 'pool2')); // builds the cached batch-norm fold once
  const before = tf.memory().numTensors;
  for (const layer of SVD_TAIL_LAYERS) {
    const z = model.tailLogits(acts[layer]!, layer);
    assert.equal(z.shape, [2, 1], layer);
    const err = maxAbsErr(z.dataSync() as Float32Array, want);
    // Relative to the logits' size: the tail re-associates sums, so float32 rounding scales with |logit|.
    const scale = 1 + Math.max(...Array.from(want, Math.abs));
    assert.ok(err <= 1e-5 * scale, `${layer}: |tail − logits| = ${err} (allowed ${1e-5 * scale})`);
    z.dispose();
  }
  assert.is(tf.memory().numTensors, before, 'tailLogits leaves no tensors behind');
  tf.dispose([x, ref, ...Object.values(acts)]);
});

test('tailLogits is differentiable in the activation (directional derivative vs central difference)', () => {
  const padded = readF32('cnn/padded_norm.f32');
  const x = tf.tensor3d(padded.slice(0, T * F), [1, T, F]);
  const a = model.activations(x, ['pool2'])['pool2']!;
  const dir = tf.tidy(() => tf.reshape(tf.sin(tf.mul(tf.range(0, a.size, 1, 'float32'), 0.7)), a.shape));
  const f = (t: tf.Tensor) => tf.sum(model.tailLogits(t, 'pool2'));
  const g = tf.grad(f)(a);
  const analytic = tf.sum(tf.mul(g, dir)).dataSync()[0]!;
  const eps = 1e-2;
  const fp = tf.tidy(() => f(tf.add(a, tf.mul(dir, eps))).dataSync()[0]!);
  const fm = tf.tidy(() => f(tf.sub(a, tf.mul(dir, eps))).dataSync()[0]!);
  const numeric = (fp - fm) / (2 * eps);
  assert.ok(Math.abs(analytic) > 0, 'gradient is not zero');
  assert.ok(Math.abs(analytic - numeric) <= 1e-2 * Math.max(1, Math.abs(numeric)), `d/dε: ${analytic} vs ${numeric}`);
  tf.dispose([x, a, dir, g]);
});

test('tailLogits rejects an unknown layer and a wrongly-shaped activation, naming them', () => {
  const x = tf.zeros([1, T, F]);
  const acts = model.activations(x, ['conv2', 'pool2']);
  try {
    for (const bad of ['conv9', 'input', 'fc1', 'logit', '']) {
      throwsCode(() => model.tailLogits(acts['pool2']!, bad), 'BAD_ARGUMENT', new RegExp(`unknown layer "${bad}".*conv1, conv2, pool1, conv3, conv4, pool2`));
    }
    const [h, w, c] = model.stageShape('conv3');
    throwsCode(() => model.tailLogits(acts['conv2']!, 'conv3'), 'BAD_SHAPE', new RegExp(`'conv3' activation must be \\[n, ${h}, ${w}, ${c}\\], got \\[1, ${acts['conv2']!.shape.slice(1).join(', ')}\\]`));
    const flat = tf.reshape(acts['pool2']!, [1, -1]);
    throwsCode(() => model.tailLogits(flat, 'pool2'), 'BAD_SHAPE', /'pool2' activation must be \[n, 11, 7, 64\], got \[1, 4928\]/);
    flat.dispose();
  } finally {
    tf.dispose([x, ...Object.values(acts)]);
  }
});

test.run();
