/**
 * Source separation (src/separate, bindings/separate.ts, assembly/separate.ts): median filters
 * against scipy.ndimage.median_filter(mode='reflect') — librosa.decompose.hpss's call — and HPSS
 * masks against librosa's softmask written out in NumPy, β-NMF against scikit-learn's multiplicative
 * updates from the same initialisation (scripts/fixtures/make_separate_fixtures.py);
 * analytic properties: the sources sum to the mixture for every method, HPSS splits a tone from a
 * click train by ≥ 20 dB, REPET-SIM puts a non-repeating tone in the foreground, the β-NMF
 * objective never increases; bad options are named.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { separate, separationMasks, applyMasks } from '../src/separate/index.ts';
import { medianFilter, hpssMasks, nmf, frameSimilarity, applyMask, repetSimMask } from '../bindings/separate.ts';
import { readF32, readF64, readJSON, throwsCode } from './helpers.ts';

const desc = readJSON('separate/cases.json');
const SR = 22050;

for (const c of desc.median) {
  test(`median filter ${c.name} (${c.nFrames}×${c.nBins}, kernel ${c.kernel} along ${c.axis}) equals scipy.ndimage.median_filter(mode='reflect') exactly`, () => {
    const x = readF32(`separate/${c.name}_in.f32`);
    const want = readF32(`separate/${c.name}_out.f32`);
    const y = medianFilter(x, c.nFrames, c.nBins, c.kernel, c.axis);
    for (let i = 0; i < want.length; i++) if (y[i] !== want[i]) assert.unreachable(`cell ${i}: ${y[i]} vs ${want[i]}`);
  });
}

for (const c of desc.hpss) {
  test(`HPSS masks ${c.name} (kernels ${c.kernelHarmonic}/${c.kernelPercussive}, power ${c.power}, margin ${c.margin}) match librosa's softmask to 1e-6`, () => {
    const x = readF32(`separate/${c.name}_in.f32`);
    const m = hpssMasks(x, c.nFrames, c.nBins, { kernelHarmonic: c.kernelHarmonic, kernelPercussive: c.kernelPercussive, power: c.power, margin: c.margin });
    const wh = readF32(`separate/${c.name}_h.f32`);
    const wp = readF32(`separate/${c.name}_p.f32`);
    let err = 0;
    for (let i = 0; i < wh.length; i++) err = Math.max(err, Math.abs(m.harmonic[i]! - wh[i]!), Math.abs(m.percussive[i]! - wp[i]!));
    assert.ok(err < 1e-6, `max err ${err}`);
    assert.is(m.residual !== undefined, c.margin !== 1);
    for (let i = 0; i < wh.length; i++) {
      const s = m.harmonic[i]! + m.percussive[i]! + (m.residual ? m.residual[i]! : 0);
      if (Math.abs(s - 1) > 1e-6) assert.unreachable(`masks sum to ${s} at ${i}`);
    }
  });
}

for (const c of desc.nmf) {
  test(`NMF β = ${c.beta}, k = ${c.components}, ${c.iterations} iterations from a given init equals scikit-learn's solver='mu' (1e-6 relative)`, () => {
    const V = readF32(`separate/${c.name}_v.f32`);
    const r = nmf(V, c.nFrames, c.nBins, { components: c.components, beta: c.beta, iterations: c.iterations }, {
      activations: readF64(`separate/${c.name}_w0.f64`),
      templates: readF64(`separate/${c.name}_h0.f64`),
    });
    for (const [got, want, what] of [[r.activations, readF64(`separate/${c.name}_w.f64`), 'W'], [r.templates, readF64(`separate/${c.name}_h.f64`), 'H']] as const) {
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!) / Math.abs(want[i]!));
      assert.ok(err < 1e-6, `${what}: max relative error ${err}`);
    }
  });
}

function toneAndClicks(seconds: number): { tone: Float32Array; clicks: Float32Array; mix: Float32Array } {
  const n = Math.round(SR * seconds);
  const tone = new Float32Array(n);
  const clicks = new Float32Array(n);
  for (let i = 0; i < n; i++) tone[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / SR);
  // one click every 0.25 s: a click touches nFft/hop = 4 frames, so it is short against the
  // 31-frame harmonic median (a denser train would look stationary in 2048-sample frames)
  for (let i = 1000; i < n; i += 5512) clicks[i] = 1;
  const mix = new Float32Array(n);
  for (let i = 0; i < n; i++) mix[i] = tone[i]! + clicks[i]!;
  return { tone, clicks, mix };
}

const energy = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0);
const db = (a: number, b: number) => 10 * Math.log10(a / b);

function maxSumErr(mix: Float32Array, sources: Float32Array[]): number {
  let e = 0;
  for (let i = 0; i < mix.length; i++) {
    let s = 0;
    for (const x of sources) s += x[i]!;
    e = Math.max(e, Math.abs(s - mix[i]!));
  }
  return e;
}

const METHOD_CASES: Array<Parameters<typeof separate>[2]> = [
  { method: 'hpss' },
  { method: 'hpss', margin: 2, power: 1 },
  { method: 'repet' },
  { method: 'repet', cutoff: 0, k: 5, minDistance: 0.2 },
  { method: 'nmf', components: 3, iterations: 20, beta: 0 },
  { method: 'nmf', components: 2, iterations: 20, beta: 2, nFft: 1024, hop: 256 },
];
for (const opts of METHOD_CASES) {
  test(`sources sum to the mixture to 1e-4 (${JSON.stringify(opts)})`, () => {
    const { mix } = toneAndClicks(1.5);
    const r = separate(mix, SR, opts);
    assert.is(r.sources.length, r.names.length);
    for (const s of r.sources) assert.is(s.length, mix.length);
    const e = maxSumErr(mix, r.sources);
    assert.ok(e < 1e-4, `max |Σ sources − mix| = ${e}`);
  });
}

test('source names per method', () => {
  const { mix } = toneAndClicks(0.5);
  assert.equal(separate(mix, SR, { method: 'hpss' }).names, ['harmonic', 'percussive']);
  assert.equal(separate(mix, SR, { method: 'hpss', margin: [1, 3] }).names, ['harmonic', 'percussive', 'residual']);
  assert.equal(separate(mix, SR, { method: 'repet' }).names, ['accompaniment', 'vocals']);
  assert.equal(separate(mix, SR, { method: 'nmf', components: 3, iterations: 2 }).names, ['component0', 'component1', 'component2']);
});

test('HPSS: ≥ 20 dB of the tone in the harmonic source and of the clicks in the percussive one', () => {
  const { tone, clicks, mix } = toneAndClicks(2);
  const m = separationMasks(mix, SR, { method: 'hpss' });
  // The STFT is linear: each part of the mix, sent through the mixture's masks, is that part's
  // share of each source.
  const [th, tp] = applyMasks(tone, m) as [Float32Array, Float32Array];
  const [ch, cp] = applyMasks(clicks, m) as [Float32Array, Float32Array];
  const toneDb = db(energy(th), energy(tp));
  const clickDb = db(energy(cp), energy(ch));
  assert.ok(toneDb >= 20, `tone harmonic/percussive ${toneDb.toFixed(1)} dB`);
  assert.ok(clickDb >= 20, `clicks percussive/harmonic ${clickDb.toFixed(1)} dB`);
});

test('REPET-SIM: a non-repeating tone goes mostly to the foreground (vocals)', () => {
  const n = SR * 6;
  const loop = new Float32Array(n);
  const period = SR / 2;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const pattern = new Float32Array(period);
  for (let i = 0; i < period; i++) {
    const env = Math.exp(-((i % (period / 4)) / 600));
    pattern[i] = 0.5 * env * rnd() + 0.2 * Math.sin((2 * Math.PI * 110 * i) / SR);
  }
  for (let i = 0; i < n; i++) loop[i] = pattern[i % period]!;
  const tone = new Float32Array(n);
  for (let i = 2 * SR; i < 3 * SR; i++) tone[i] = 0.3 * Math.sin((2 * Math.PI * 1234 * i) / SR);
  const mix = loop.map((v, i) => v + tone[i]!);
  const m = separationMasks(mix, SR, { method: 'repet' });
  const [tb, tf] = applyMasks(tone, m) as [Float32Array, Float32Array];
  const [lb, lf] = applyMasks(loop, m) as [Float32Array, Float32Array];
  const toneFg = energy(tf) / (energy(tf) + energy(tb));
  const loopBg = energy(lb) / (energy(lb) + energy(lf));
  assert.ok(toneFg > 0.8, `tone foreground share ${toneFg.toFixed(3)}`);
  assert.ok(loopBg > 0.8, `loop background share ${loopBg.toFixed(3)}`);
  // Rafii's high-pass of the foreground: bins 1…⌈100·2047/22050⌉ = 1…10 are all background
  for (let t = 0; t < m.nFrames; t++) for (let b = 1; b <= 10; b++) assert.is(m.masks[0]![t * m.nBins + b], 1);
  assert.ok(m.masks[0]!.slice(m.nBins * 40 + 11, m.nBins * 40 + 400).some((v) => v < 1), 'above the cutoff the mask varies');
});

test('frame similarity: cosine, symmetric, 1 on the diagonal, 0 against a silent frame', () => {
  const mag = new Float32Array([1, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 2]); // 3 frames × 4 bins
  const s = frameSimilarity(mag, 3, 4);
  const want = [1, 0, 1, 0, 1, 0, 1, 0, 1];
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(s[i]! - want[i]!) < 1e-6, `cell ${i}: ${s[i]}`);
});

for (const beta of [0, 1, 2] as const) {
  test(`NMF β = ${beta}: the objective never increases, masks sum to one, W and H non-negative`, () => {
    const { mix } = toneAndClicks(0.6);
    const T = 30;
    const F = 64;
    // a small magnitude-like matrix with structure: tone row + clicks column pattern + noise
    const V = new Float32Array(T * F);
    for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) V[t * F + f] = Math.abs(mix[(t * 97 + f * 13) % mix.length]!) + (f === 10 ? 2 : 0) + (t % 7 === 0 ? 1 : 0);
    V[5] = 0; // an exact zero: floored for IS/KL
    const r = nmf(V, T, F, { components: 3, beta, iterations: 60, seed: 42 });
    assert.is(r.objective.length, 61);
    for (let i = 1; i < r.objective.length; i++) {
      if (!(r.objective[i]! <= r.objective[i - 1]! * (1 + 1e-12))) assert.unreachable(`objective rose at ${i}: ${r.objective[i - 1]} → ${r.objective[i]}`);
    }
    assert.ok(r.objective[60]! < 0.5 * r.objective[0]!, `objective ${r.objective[0]} → ${r.objective[60]}`);
    for (const v of r.activations) assert.ok(v >= 0);
    for (const v of r.templates) assert.ok(v >= 0);
    for (let i = 0; i < T * F; i++) {
      const s = r.masks[0]![i]! + r.masks[1]![i]! + r.masks[2]![i]!;
      if (Math.abs(s - 1) > 1e-6) assert.unreachable(`masks sum to ${s} at ${i}`);
    }
    const again = nmf(V, T, F, { components: 3, beta, iterations: 60, seed: 42 });
    assert.equal(Array.from(again.objective), Array.from(r.objective), 'seeded: same result twice');
  });
}

test('applyMask multiplies re and im by the mask (SIMD body and scalar tail)', () => {
  const spec = new Float32Array(14).map((_, i) => i + 1);
  const mask = new Float32Array([0, 0.5, 1, 2, 3, -1, 0.25]);
  const out = applyMask(spec, mask);
  for (let i = 0; i < 7; i++) {
    assert.is(out[2 * i], spec[2 * i]! * mask[i]!);
    assert.is(out[2 * i + 1], spec[2 * i + 1]! * mask[i]!);
  }
});

test('bad options and inputs are named', () => {
  const x = new Float32Array(4096).map((_, i) => Math.sin(i));
  throwsCode(() => separate(x, SR, { method: 'ica' as 'hpss' }), 'BAD_ARGUMENT', /method/);
  throwsCode(() => separate(x, SR, null as never), 'BAD_ARGUMENT', /options/);
  throwsCode(() => separate(x, SR, { method: 'hpss', components: 2 } as never), 'BAD_ARGUMENT', /components/);
  throwsCode(() => separate(x, SR, { method: 'hpss', kernelHarmonic: 0 }), 'BAD_ARGUMENT', /kernelHarmonic/);
  throwsCode(() => separate(x, SR, { method: 'hpss', kernelPercussive: 2.5 }), 'BAD_ARGUMENT', /kernelPercussive/);
  throwsCode(() => separate(x, SR, { method: 'hpss', power: 0 }), 'BAD_ARGUMENT', /power/);
  throwsCode(() => separate(x, SR, { method: 'hpss', margin: 0.5 }), 'BAD_ARGUMENT', /margin/);
  throwsCode(() => separate(x, SR, { method: 'hpss', margin: NaN }), 'BAD_ARGUMENT', /margin/);
  throwsCode(() => separate(x, SR, { method: 'hpss', nFft: 1000 }), 'BAD_ARGUMENT', /nFft/);
  throwsCode(() => separate(x, SR, { method: 'hpss', hop: 0 }), 'BAD_ARGUMENT', /hop/);
  throwsCode(() => separate(x, SR, { method: 'hpss', hop: 2000 }), 'BAD_ARGUMENT', /hop/);
  throwsCode(() => separate(x, SR, { method: 'repet', k: 0 }), 'BAD_ARGUMENT', /\bk\b/);
  throwsCode(() => separate(x, SR, { method: 'repet', minDistance: -1 }), 'BAD_ARGUMENT', /minDistance/);
  throwsCode(() => separate(x, SR, { method: 'repet', threshold: 2 }), 'BAD_ARGUMENT', /threshold/);
  throwsCode(() => separate(x, SR, { method: 'repet', cutoff: -5 }), 'BAD_ARGUMENT', /cutoff/);
  throwsCode(() => separate(x, SR, { method: 'nmf', beta: 3 as 2 }), 'BAD_ARGUMENT', /beta/);
  throwsCode(() => separate(x, SR, { method: 'nmf', components: 0 }), 'BAD_ARGUMENT', /components/);
  throwsCode(() => separate(x, SR, { method: 'nmf', iterations: -1 }), 'BAD_ARGUMENT', /iterations/);
  throwsCode(() => separate(x, SR, { method: 'nmf', seed: 1.5 }), 'BAD_ARGUMENT', /seed/);
  throwsCode(() => separate(new Float64Array(10) as never, SR, { method: 'hpss' }), 'BAD_ARGUMENT', /signal/);
  throwsCode(() => separate(new Float32Array(0), SR, { method: 'hpss' }), 'BAD_SHAPE', /signal/);
  throwsCode(() => separate(x, 0, { method: 'hpss' }), 'BAD_ARGUMENT', /sampleRate/);
  const bad = x.slice();
  bad[7] = NaN;
  throwsCode(() => separate(bad, SR, { method: 'hpss' }), 'NOT_FINITE', /signal/);
  throwsCode(() => medianFilter(new Float32Array(6), 2, 3, 3, 'diagonal' as 'time'), 'BAD_ARGUMENT', /axis/);
  throwsCode(() => medianFilter(new Float32Array(5), 2, 3, 3, 'time'), 'BAD_SHAPE', /mag/);
  throwsCode(() => medianFilter(new Float32Array([1, -1]), 1, 2, 1, 'time'), 'BAD_ARGUMENT', /mag.*≥ 0/);
  throwsCode(() => hpssMasks(new Float32Array(6), 2, 3, { kernel: 3 } as never), 'BAD_ARGUMENT', /kernel/);
  throwsCode(() => nmf(new Float32Array(6), 0, 3), 'BAD_ARGUMENT', /nFrames/);
  throwsCode(() => nmf(new Float32Array(6), 2, 3, { components: 2 }, { activations: new Float64Array(3), templates: new Float64Array(6) }), 'BAD_SHAPE', /init\.activations/);
  throwsCode(() => nmf(new Float32Array(6), 2, 3, { components: 2 }, { activations: new Float64Array(4), templates: new Float64Array(6).fill(1) }), 'BAD_ARGUMENT', /init\.activations.*positive/);
  throwsCode(() => applyMask(new Float32Array(6), new Float32Array(2)), 'BAD_SHAPE', /mask/);
  throwsCode(() => repetSimMask(new Float32Array(16385), 16385, 1), 'TOO_LARGE', /nFrames/);
});

test.run();
