/**
 * Band-limited resampling (bindings/resample.ts + assembly/resample.ts) against
 * scipy.signal.resample_poly outputs (scripts/fixtures/make_audio_fixtures.py) and analytic
 * properties of a tone: amplitude and frequency kept in the passband, aliases suppressed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resample, resamplePoly, resampleFilter } from '../src/audio/index.ts';
import { readF32, readF64, readJSON, throwsCode } from './helpers.ts';

const desc = readJSON('audio/fixtures.json').resample;

for (const c of desc.cases) {
  test(`${c.name}: matches scipy resample_poly(x, ${c.up}, ${c.down}) to 1e-5 of the peak, edges included`, () => {
    const x = readF32(`audio/${c.input}`);
    const want = c.output.endsWith('.f64') ? readF64(`audio/${c.output}`) : readF32(`audio/${c.output}`);
    const y = resample(x, c.fromRate, c.toRate);
    assert.is(y.length, c.nOut);
    let err = 0;
    for (let i = 0; i < y.length; i++) err = Math.max(err, Math.abs(y[i]! - want[i]!));
    assert.ok(err <= 1e-5 * c.peak, `max |y − scipy| = ${err} (peak ${c.peak})`);
    assert.equal(resamplePoly(x, c.up, c.down), y);
  });
}

test('the anti-alias filter equals scipy firwin(6401, 1/320, kaiser 5) × 147 to 1e-12', () => {
  const want = readF64(`audio/${desc.filter.file}`);
  const h = resampleFilter(desc.filter.up, desc.filter.down);
  assert.is(h.length, desc.filter.taps);
  let err = 0;
  for (let i = 0; i < h.length; i++) err = Math.max(err, Math.abs(h[i]! - want[i]!));
  assert.ok(err < 1e-12, `max error ${err}`);
  assert.equal(resampleFilter(147 * 3, 320 * 3), h); // the ratio is reduced first
});

function tone(freq: number, rate: number, n: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));
}

/** Amplitude and phase of the component at `freq` (least squares on sin/cos) over y[a, b). */
function fitTone(y: Float32Array, freq: number, rate: number, a: number, b: number): { amp: number; residual: number } {
  let ss = 0, sc = 0, cc = 0, ys = 0, yc = 0;
  for (let i = a; i < b; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += s * s; sc += s * c; cc += c * c; ys += y[i]! * s; yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const A = (ys * cc - yc * sc) / det;
  const B = (yc * ss - ys * sc) / det;
  let res = 0;
  for (let i = a; i < b; i++) {
    const e = y[i]! - A * Math.sin((2 * Math.PI * freq * i) / rate) - B * Math.cos((2 * Math.PI * freq * i) / rate);
    res = Math.max(res, Math.abs(e));
  }
  return { amp: Math.hypot(A, B), residual: res };
}

for (const from of [44100, 48000, 16000, 8000, 96000]) {
  test(`a 1 kHz tone resampled ${from} → 22 050 Hz keeps its amplitude (±0.02 dB) and frequency`, () => {
    const y = resample(tone(1000, from, from), from, 22050); // 1 s
    assert.is(y.length, 22050);
    const { amp, residual } = fitTone(y, 1000, 22050, 2000, 20050); // away from the zero-padded edges
    assert.ok(Math.abs(20 * Math.log10(amp / 0.5)) < 0.02, `gain ${20 * Math.log10(amp / 0.5)} dB`);
    assert.ok(residual < 1e-3 * 0.5, `residual ${residual}: energy off 1 kHz`);
  });
}

for (const [from, f] of [[44100, 16538], [48000, 17000], [96000, 30000]] as const) {
  test(`a ${f} Hz tone (≥ 1.5 × the new Nyquist) is attenuated by ≥ 60 dB going ${from} → 22 050 Hz`, () => {
    const y = resample(tone(f, from, from, 1), from, 22050);
    let rms = 0;
    for (let i = 2000; i < 20050; i++) rms += y[i]! * y[i]!;
    rms = Math.sqrt(rms / 18050);
    const db = 20 * Math.log10(rms / Math.SQRT1_2);
    assert.ok(db <= -60, `only ${db.toFixed(1)} dB`);
  });
}

test('output length is ceil(n·up/down); equal rates and empty input are handled', () => {
  for (const n of [0, 1, 2, 3, 7, 100, 101]) {
    assert.is(resample(new Float32Array(n), 48000, 22050).length, Math.ceil((n * 147) / 320));
    assert.is(resample(new Float32Array(n), 8000, 22050).length, Math.ceil((n * 441) / 160));
  }
  const x = tone(440, 22050, 100);
  const same = resample(x, 22050, 22050);
  assert.equal(same, x);
  assert.is.not(same, x);
  assert.equal(resamplePoly(x, 3, 3), x);
});

test('upsampling by 3 puts the filter itself on an impulse (polyphase layout = direct convolution)', () => {
  const h = resampleFilter(3, 1);
  const H = (h.length - 1) / 2;
  const x = new Float32Array(40);
  x[20] = 1;
  const y = resamplePoly(x, 3, 1);
  // y[k] = h[k + H − 3·20]
  for (let k = 0; k < y.length; k++) {
    const idx = k + H - 60;
    const want = idx >= 0 && idx < h.length ? h[idx]! : 0;
    assert.ok(Math.abs(y[k]! - want) < 1e-6, `k=${k}: ${y[k]} vs ${want}`);
  }
});

test('resample validates rates, input and options', () => {
  const x = new Float32Array(10);
  throwsCode(() => resample(x, 0, 22050), 'BAD_ARGUMENT', /fromRate must be an integer in \[1,/);
  throwsCode(() => resample(x, -44100, 22050), 'BAD_ARGUMENT', /fromRate.*got -44100/);
  throwsCode(() => resample(x, 44100, 22050.5), 'BAD_ARGUMENT', /toRate.*got 22050\.5/);
  throwsCode(() => resample(x, 44100, NaN), 'BAD_ARGUMENT', /toRate.*got NaN/);
  throwsCode(() => resample([1, 2] as unknown as Float32Array, 44100, 22050), 'BAD_ARGUMENT', /x must be a Float32Array, got Array/);
  throwsCode(() => resample(Float32Array.from([0, Infinity]), 44100, 22050), 'NOT_FINITE', /x\[1\] is Infinity/);
  throwsCode(() => resample(Float32Array.from([NaN]), 44100, 22050), 'NOT_FINITE', /x\[0\] is NaN/);
  throwsCode(() => resample(x, 44100, 22050, { beta: 5 } as never), 'BAD_ARGUMENT', /unknown resample option "beta"/);
  throwsCode(() => resample(x, 44100, 22050, { kaiserBeta: NaN }), 'BAD_ARGUMENT', /kaiserBeta must be a finite number/);
  throwsCode(() => resample(x, 44100, 22050, { zeroCrossings: 0 }), 'BAD_ARGUMENT', /zeroCrossings must be an integer/);
  throwsCode(() => resample(x, 199999, 199991), 'BAD_ARGUMENT', /ratio 199991\/199999.*two steps/);
  throwsCode(() => resamplePoly(x, 0, 2), 'BAD_ARGUMENT', /up must be an integer/);
  throwsCode(() => resamplePoly(x, 1, 2.5), 'BAD_ARGUMENT', /down must be an integer/);
});

test('options change the filter as scipy would (kaiserBeta, zeroCrossings)', () => {
  const h = resampleFilter(1, 2, { kaiserBeta: 8, zeroCrossings: 4 });
  assert.is(h.length, 2 * 4 * 2 + 1);
  let s = 0;
  for (const v of h) s += v;
  assert.ok(Math.abs(s - 1) < 1e-12); // unit DC gain × up (= 1)
  for (let i = 0; i < h.length; i++) assert.ok(Math.abs(h[i]! - h[h.length - 1 - i]!) < 1e-15 && h[i]! <= h[8]!); // symmetric, peak at the centre
  const x = tone(1000, 44100, 4410);
  const y = resample(x, 44100, 22050, { kaiserBeta: 8, zeroCrossings: 4 });
  assert.is(y.length, 2205);
});

test.run();
