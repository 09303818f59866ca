/**
 * The classifier seen from the linear STFT magnitude (src/explain/maskable.ts): with a mask of
 * ones it must give what the classifier gives on the wasm front end's log-mel of the same
 * audio (an independent path: the fused wasm front end), and gradients must flow to |X|.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { stft } from '../bindings/stft.ts';
import { FrontEnd } from '../src/frontend/frontend.ts';
import { SVD_FRONTEND } from '../src/frontend/config.ts';
import { magnitudeModel } from '../src/explain/maskable.ts';
import { initBackend } from '../src/model/backend.ts';
import { loadWeights } from '../src/model/weights.ts';
import { createSvdCnn } from '../src/model/svdcnn.ts';
import { ROOT, throwsCode } from './helpers.ts';
import { join } from 'node:path';

test('magnitude path equals the wasm front end + classifier (1e-4), gradients reach |X|, no tensors leak', async () => {
  await initBackend('wasm');
  const w = await loadWeights(join(ROOT, 'assets/models/svd-default'));
  const model = createSvdCnn(w);
  const n0 = w.info.normalization!;
  const stats = { mean: Float32Array.from(n0.mean), std: Float32Array.from(n0.std) };
  const mm = magnitudeModel(model, stats);
  const T = 115;
  const n = 1024 + 315 * (T - 1);
  const sig = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    sig[i] = 0.2 * Math.sin((2 * Math.PI * 440 * i) / 22050) * (1 + 0.3 * Math.sin(i / 3000)) + 0.02 * ((s / 2 ** 32) * 2 - 1);
  }
  const fe = new FrontEnd(SVD_FRONTEND);
  const x = fe.normalise(fe.logMel(sig).data, stats);
  const ref = model.apply(tf.tensor3d(x, [1, T, 80]));
  const mag = stft(sig, { nFft: 1024, hopLength: 315, window: 'hann', periodic: false, center: false, output: 'magnitude' });
  assert.is(mag.nFrames, T);
  const before = tf.memory().numTensors;
  const magT = tf.tensor3d(mag.data, [1, T, 513]);
  const got = mm.apply(magT);
  const a = (await ref.data())[0]!;
  const b = (await got.data())[0]!;
  assert.ok(Math.abs(a - b) <= 1e-4, `P(voice) ${b} vs front end ${a}`);
  const inp = mm.toInput(magT);
  const d = await inp.data();
  let err = 0;
  for (let i = 0; i < d.length; i++) err = Math.max(err, Math.abs(d[i]! - x[i]!) / Math.max(1, Math.abs(x[i]!)));
  assert.ok(err < 1e-4, `normalised input max error ${err}`);
  const g = tf.grad((m: tf.Tensor) => tf.sum(mm.apply(m)))(magT);
  const gd = await g.data();
  let nz = 0;
  for (const v of gd) if (v !== 0 && Number.isFinite(v)) nz++;
  assert.ok(nz > 1000, `gradient reaches |X| (${nz} non-zero)`);
  // Bins above nBinsUsed carry no weight, so no gradient.
  assert.is(gd[513 * 50 + 500], 0);
  tf.dispose([got, inp, g, magT]);
  assert.is(tf.memory().numTensors, before, 'no tensors leak');
  throwsCode(() => mm.apply(tf.zeros([1, 114, 513])), 'BAD_SHAPE', /\[n, 115, 513\]/);
  mm.dispose();
  ref.dispose();
  model.dispose?.();
});

test.run();
