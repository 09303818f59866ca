// The veracity attack (src/veracity/attack.ts; methods.md §6) on small seeded CNNs:
// - a known answer: Adam's first step on the sign of a gradient moves every coordinate by exactly
//   η against the sign of ∂(α·BCE)/∂δ at δ = 0 (the Σδ² term has zero gradient there); that sign is
//   taken from an independent gradient — tf.grad on tfjs-backend-cpu through SvdCnn.forward, and for
//   the waveform through the differentiable front end (tf.customGrad with the wasm adjoint);
// - convergence: every prediction reaches its target, |δ| ≤ ε, `after` equals the model's own fused
//   inference on the adversarial input, masks keep δ at exactly 0, batched = one by one, the
//   frame-wise (padded) form gives one prediction per frame and matches predictFrames;
// - the 32-bit float WAV stores the adversarial samples bit-exactly (16-bit PCM would not);
// - every bad option is rejected with a message naming it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { maxAbsErr, rejectsCode } from './helpers.ts';
import { initBackend } from '../src/model/backend.ts';
import { initWeights, type WeightSet } from '../src/model/weights.ts';
import { SvdCnn, SVD_ARCHITECTURE } from '../src/model/svdcnn.ts';
import { differentiableFrontEnd } from '../src/frontend/differentiable.ts';
import { SVD_FRONTEND } from '../src/frontend/config.ts';
import { FrontEndGradKernel } from '../bindings/frontend_grad.ts';
import { melOptionsOf } from '../src/frontend/config.ts';
import { encodeWav, decodeWav } from '../src/audio/wav.ts';
import { attack, attackBatch, ATTACK_DEFAULTS, resolveAttackOptions } from '../src/veracity/attack.ts';

let seed = 99;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
const T = 115;
const F = 80;
const EXCERPT_SAMPLES = (T - 1) * 315 + 1024;

/** A small seeded CNN with per-band statistics (so the spectrogram attack's σ scaling is exercised). */
function tiny(s: number): WeightSet {
  const mean = Array.from({ length: F }, (_, b) => -6 + b / 40);
  const std = Array.from({ length: F }, (_, b) => 1.5 + 0.5 * Math.sin(b));
  return initWeights(s, { architecture: { ...SVD_ARCHITECTURE, convFilters: [8, 4, 8, 4], dense: [8, 4] }, normalization: { mean, std } });
}

/** A 115-frame excerpt of a tone with noise, and its normalised log-mel. */
function excerpt(freq: number): { wave: Float32Array; spec: Float32Array; fe: FrontEndGradKernel } {
  const wave = Float32Array.from({ length: EXCERPT_SAMPLES }, (_, i) => 0.2 * Math.sin((2 * Math.PI * freq * i) / 22050) + 0.05 * rnd());
  const w = tiny(1);
  const mo = melOptionsOf(SVD_FRONTEND);
  mo.mean = Float32Array.from(w.info.normalization!.mean);
  mo.std = Float32Array.from(w.info.normalization!.std);
  const fe = new FrontEndGradKernel(mo);
  return { wave, spec: fe.forward(wave), fe };
}

/** ∂(α·mean BCE(logits, t))/∂input on tfjs-cpu: spectrogram input in log-mel units, or waveform samples. */
async function referenceGrad(weights: WeightSet, domain: 'waveform' | 'spectrogram', input: Float32Array, alpha: number): Promise<{ grad: Float32Array; p: number }> {
  await initBackend('cpu');
  const m = new SvdCnn(weights);
  const std = Float32Array.from(weights.info.normalization!.std);
  const fe = differentiableFrontEnd(SVD_FRONTEND, { mean: Float32Array.from(weights.info.normalization!.mean), std });
  try {
    const x = tf.tensor1d(input);
    const toModel = (d: tf.Tensor) => (domain === 'waveform' ? fe(tf.add(x, d) as tf.Tensor1D) : tf.add(tf.reshape(x, [T, F]), tf.div(tf.reshape(d, [T, F]), tf.tensor1d(std))));
    const z0 = tf.tidy(() => m.forward(tf.reshape(toModel(tf.zerosLike(x)), [1, T, F])).dataSync()[0]!);
    const p = 1 / (1 + Math.exp(-z0));
    const t = p >= 0.51 ? 0 : 1;
    const loss = (d: tf.Tensor) => {
      const z = m.forward(tf.reshape(toModel(d), [1, T, F]));
      return tf.mul(alpha, tf.mean(tf.sub(tf.softplus(z), tf.mul(t, z))));
    };
    const grad = (tf.grad(loss)(tf.zerosLike(x)).dataSync() as Float32Array).slice();
    return { grad, p };
  } finally {
    fe.dispose();
    m.dispose();
  }
}

for (const domain of ['spectrogram', 'waveform'] as const) {
  test(`${domain}: the first Adam step is exactly −η·sign(∂(α·BCE)/∂δ) of an independent tfjs-cpu gradient`, async () => {
    const weights = tiny(2);
    const ex = excerpt(440);
    const input = domain === 'waveform' ? ex.wave : ex.spec;
    const d = ATTACK_DEFAULTS[domain];
    // the reference differentiates w.r.t. δ in the attack's units (samples / log-mel)
    const ref = await referenceGrad(weights, domain, domain === 'waveform' ? ex.wave : Float32Array.from(ex.spec), d.alpha);
    await initBackend('wasm');
    const m = new SvdCnn(weights);
    const r = await attack(m, input, { domain, maxIterations: 1, engine: 'tfjs' });
    m.dispose();
    assert.ok(Math.abs(r.before[0]! - ref.p) < 1e-4, `P(voice) ${r.before[0]} vs ${ref.p}`);
    const delta = domain === 'waveform' ? r.delta : r.deltaLogMel!;
    let gmax = 0;
    for (const g of ref.grad) gmax = Math.max(gmax, Math.abs(g));
    let checked = 0;
    for (let j = 0; j < delta.length; j++) {
      if (Math.abs(ref.grad[j]!) < 1e-4 * gmax) continue; // sign not robust to rounding
      checked++;
      const want = -d.eta * Math.sign(ref.grad[j]!);
      if (Math.abs(delta[j]! - want) > 1e-9) assert.unreachable(`δ[${j}] = ${delta[j]}, expected ${want} (gradient ${ref.grad[j]})`);
    }
    assert.ok(checked > 0.5 * delta.length, `only ${checked} of ${delta.length} coordinates had a clear sign`);
    assert.ok(r.linf <= d.eta * (1 + 1e-6));
    ex.fe.dispose();
  });
}

test('spectrogram: converges on a small model, |δ| ≤ ε, after = the fused inference on the adversarial input', async () => {
  await initBackend('wasm');
  const m = new SvdCnn(tiny(3));
  const ex = excerpt(300);
  const eps = 2;
  const seen: number[] = [];
  const r = await attack(m, ex.spec, { domain: 'spectrogram', epsilon: eps, eta: 0.05, alpha: 15, onIteration: (it) => seen.push(it) });
  assert.ok(r.success, `not flipped after ${r.iterations} iterations: ${r.before[0]} → ${r.after[0]}`);
  assert.ok(r.iterations > 0 && r.iterations < 1000);
  assert.is(seen.length, r.iterations + 1);
  const t = r.targets[0]!;
  assert.is(t, r.before[0]! >= 0.51 ? 0 : 1);
  assert.is(r.after[0]! >= 0.51 ? 1 : 0, t);
  assert.ok(r.linf <= eps * (1 + 1e-6));
  for (let j = 0; j < r.delta.length; j++) {
    assert.ok(Math.abs(r.deltaLogMel![j]!) <= eps * (1 + 1e-6));
    assert.ok(Math.abs(r.adversarial[j]! - (ex.spec[j]! + r.delta[j]!)) < 1e-6);
  }
  const std = m.info.normalization!.std;
  assert.ok(maxAbsErr(r.delta.map((v, j) => v * std[j % F]!), r.deltaLogMel!) < 1e-5);
  const fused = await m.predict(r.adversarial, 1);
  assert.ok(Math.abs(fused[0]! - r.after[0]!) < 1e-4, `${fused[0]} vs ${r.after[0]}`);
  const orig = await m.predict(ex.spec, 1);
  assert.ok(Math.abs(orig[0]! - r.before[0]!) < 1e-4);
  assert.ok(Number.isFinite(r.snrDb) && r.snrDb > 0);
  // localised: δ stays exactly 0 outside the mask (one LIME segment: 23 frames × 20 bands)
  const mask = new Float32Array(T * F);
  for (let f = 46; f < 69; f++) for (let b = 20; b < 40; b++) mask[f * F + b] = 1;
  const loc = await attack(m, ex.spec, { domain: 'spectrogram', epsilon: eps, eta: 0.05, mask, maxIterations: 50 });
  let inside = 0;
  for (let j = 0; j < mask.length; j++) {
    if (mask[j] === 0) assert.is(loc.delta[j], 0);
    else if (loc.delta[j] !== 0) inside++;
  }
  assert.ok(inside > 0);
  ex.fe.dispose();
  m.dispose();
});

test('batched attacks equal one-by-one attacks; an input already at its targets takes 0 iterations', async () => {
  await initBackend('wasm');
  const m = new SvdCnn(tiny(4));
  const a = excerpt(220);
  const b = excerpt(880);
  const opts = { domain: 'spectrogram' as const, epsilon: 1, eta: 0.02, maxIterations: 30 };
  const both = await attackBatch(m, [a.spec, b.spec], opts);
  const one = [await attack(m, a.spec, opts), await attack(m, b.spec, opts)];
  for (let k = 0; k < 2; k++) {
    assert.is(both[k]!.iterations, one[k]!.iterations);
    assert.ok(maxAbsErr(both[k]!.delta, one[k]!.delta) < 1e-6);
    assert.ok(maxAbsErr(both[k]!.after, one[k]!.after) < 1e-5);
  }
  const p = one[0]!.before[0]!;
  const met = await attack(m, a.spec, { ...opts, targets: Float32Array.of(p >= 0.51 ? 1 : 0) });
  assert.ok(met.success);
  assert.is(met.iterations, 0);
  assert.is(met.linf, 0);
  assert.is(met.snrDb, Infinity);
  a.fe.dispose();
  b.fe.dispose();
  m.dispose();
});

test('waveform, frame-wise with padding: one prediction per frame, before = predictFrames', async () => {
  await initBackend('wasm');
  const w = tiny(5);
  const m = new SvdCnn(w);
  const n = 39 * 315 + 1024; // 40 frames
  const wave = Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i / 7) + 0.02 * rnd());
  const r = await attack(m, wave, { domain: 'waveform', pad: true, maxIterations: 3, engine: 'tfjs' });
  assert.is(r.before.length, 40);
  assert.is(r.after.length, 40);
  assert.is(r.delta.length, n);
  const mo = melOptionsOf(SVD_FRONTEND);
  mo.mean = Float32Array.from(w.info.normalization!.mean);
  mo.std = Float32Array.from(w.info.normalization!.std);
  const fe = new FrontEndGradKernel(mo);
  const ref = await m.predictFrames(fe.forward(wave), 40);
  assert.ok(maxAbsErr(r.before, ref) < 1e-4, `${maxAbsErr(r.before, ref)}`);
  const refAfter = await m.predictFrames(fe.forward(r.adversarial), 40);
  assert.ok(maxAbsErr(r.after, refAfter) < 1e-4);
  assert.ok(r.linf <= 0.01 + 1e-9);
  fe.dispose();
  m.dispose();
});

test('the 32-bit float WAV keeps the adversarial samples (and so δ) exactly; 16-bit PCM does not', async () => {
  await initBackend('wasm');
  const m = new SvdCnn(tiny(6));
  const ex = excerpt(500);
  const r = await attack(m, ex.wave, { domain: 'waveform', maxIterations: 20 });
  const back = decodeWav(encodeWav({ sampleRate: 22050, channels: [r.adversarial] }, { format: 'float32' }));
  assert.is(back.format, 'float32');
  const y = back.channels[0]!;
  assert.is(y.length, r.adversarial.length);
  for (let i = 0; i < y.length; i++) if (y[i] !== r.adversarial[i]) assert.unreachable(`sample ${i}: ${y[i]} ≠ ${r.adversarial[i]}`);
  // δ recovered from the file = the attack's δ up to the float32 rounding of x + δ
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i]! - ex.wave[i]! - r.delta[i]!) <= 6e-8 * Math.max(1, Math.abs(y[i]!)));
  const pcm = decodeWav(encodeWav({ sampleRate: 22050, channels: [r.adversarial] }, { format: 'pcm16' })).channels[0]!;
  assert.ok(maxAbsErr(pcm, r.adversarial) > 1e-6);
  ex.fe.dispose();
  m.dispose();
});

test('bad options and inputs are rejected, naming them', async () => {
  await initBackend('wasm');
  const m = new SvdCnn(tiny(7));
  const spec = new Float32Array(T * F);
  const cases: Array<[unknown, string, RegExp]> = [
    [{}, 'BAD_ARGUMENT', /domain/],
    [{ domain: 'image' }, 'BAD_ARGUMENT', /domain/],
    [{ domain: 'spectrogram', epsilon: 0 }, 'BAD_ARGUMENT', /epsilon/],
    [{ domain: 'spectrogram', epsilon: Number.NaN }, 'BAD_ARGUMENT', /epsilon/],
    [{ domain: 'spectrogram', eta: -1 }, 'BAD_ARGUMENT', /eta/],
    [{ domain: 'spectrogram', alpha: -1 }, 'BAD_ARGUMENT', /alpha/],
    [{ domain: 'spectrogram', maxIterations: 1.5 }, 'BAD_ARGUMENT', /maxIterations/],
    [{ domain: 'spectrogram', threshold: 1 }, 'BAD_ARGUMENT', /threshold/],
    [{ domain: 'spectrogram', pad: 'yes' }, 'BAD_ARGUMENT', /pad/],
    [{ domain: 'spectrogram', engine: 'gpu' }, 'BAD_ARGUMENT', /engine/],
    [{ domain: 'spectrogram', threads: 0 }, 'BAD_ARGUMENT', /threads/],
    [{ domain: 'spectrogram', onIteration: 3 }, 'BAD_ARGUMENT', /onIteration/],
    [{ domain: 'spectrogram', epsilonn: 1 }, 'BAD_ARGUMENT', /unknown attack option 'epsilonn'/],
    [{ domain: 'spectrogram', mask: new Float32Array(3) }, 'BAD_SHAPE', /mask/],
    [{ domain: 'spectrogram', mask: new Float32Array(T * F).fill(0.5) }, 'BAD_ARGUMENT', /mask\[0\]/],
    [{ domain: 'spectrogram', targets: new Float32Array(2) }, 'BAD_SHAPE', /targets/],
    [{ domain: 'spectrogram', targets: Float32Array.of(2) }, 'BAD_ARGUMENT', /targets\[0\]/],
  ];
  for (const [opts, code, re] of cases) await rejectsCode(() => attack(m, spec, opts as never), code, re);
  assert.throws(() => resolveAttackOptions(null as never), /options/);
  await rejectsCode(() => attack(m, new Float32Array(T * F + 3), { domain: 'spectrogram' }), 'BAD_SHAPE', /multiple of 80/);
  await rejectsCode(() => attack(m, new Float32Array(100 * F), { domain: 'spectrogram' }), 'TOO_SHORT', /115 frames/);
  await rejectsCode(() => attack(m, new Float32Array(5000), { domain: 'waveform' }), 'TOO_SHORT', /samples/);
  const nan = new Float32Array(T * F);
  nan[7] = Number.NaN;
  await rejectsCode(() => attack(m, nan, { domain: 'spectrogram' }), 'NOT_FINITE', /input\[7\]/);
  await rejectsCode(() => attackBatch(m, [], { domain: 'spectrogram' }), 'BAD_ARGUMENT', /non-empty/);
  await rejectsCode(() => attackBatch(m, [spec, new Float32Array(10)], { domain: 'spectrogram' }), 'BAD_SHAPE', /input\[1\]/);
  m.dispose();
});

test.run();
