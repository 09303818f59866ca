/**
 * Windows, real FFT, STFT and ISTFT (bindings/stft.ts over assembly/fft.ts, assembly/stft.ts).
 * References: analytic cases (tones, Parseval, round trips) and NumPy / SciPy / torch fixtures
 * written by scripts/fixtures/make_stft_fixtures.py (tests/fixtures/stft/).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rfft, irfft, stft, istft, windowFunction, stftFrameCount, SINGING_VOICE_STFT, type WindowName } from '../bindings/stft.ts';
import { core } from '../bindings/wasm.ts';
import { readF32, readF64, readJSON, throwsCode } from './helpers.ts';

const D = readJSON('stft/stft.json');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const randomSignal = (n: number, seed: number) => Float32Array.from({ length: n }, lcg(seed));

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length): number {
  assert.is(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = from; i < to; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d;
  }
  return m;
}
const mags = (spec: Float32Array) => Float64Array.from({ length: spec.length / 2 }, (_, k) => Math.hypot(spec[2 * k]!, spec[2 * k + 1]!));

// ---- windows ---------------------------------------------------------------------------------
test('windows equal np.hanning / np.hamming (symmetric) and scipy get_window (periodic)', () => {
  const data = readF64(`stft/${D.windows.data}`);
  let off = 0;
  for (const e of D.windows.entries as { kind: WindowName; periodic: boolean; n: number }[]) {
    const ref = data.subarray(off, off + e.n);
    off += e.n;
    const w = windowFunction(e.kind, e.n, { periodic: e.periodic });
    assert.ok(maxDiff(w, ref) < 1e-7, `${e.kind} periodic=${e.periodic} n=${e.n}: ${maxDiff(w, ref)}`);
  }
  assert.is(off, data.length);
});

test('the periodic Hann window of n is the symmetric one of n + 1 without its last sample', () => {
  const p = windowFunction('hann', 16);
  const s = windowFunction('hann', 17, { periodic: false });
  assert.ok(maxDiff(p, s.subarray(0, 16)) < 1e-7);
});

// ---- rfft / irfft ------------------------------------------------------------------------------
test('rfft equals numpy.fft.rfft for every size 64…16384 (1e-5 of the largest bin)', () => {
  const xs = readF32(`stft/${D.rfft.input}`);
  const ys = readF64(`stft/${D.rfft.output}`);
  let xo = 0;
  let yo = 0;
  for (const n of D.rfft.sizes as number[]) {
    const x = xs.slice(xo, xo + n);
    const ref = ys.subarray(yo, yo + n + 2);
    xo += n;
    yo += n + 2;
    const X = rfft(x);
    assert.is(X.length, n + 2);
    const scale = maxAbs(ref);
    const err = maxDiff(X, ref) / scale;
    assert.ok(err < 1e-5, `n=${n}: max error ${err} of the largest bin`);
    // per-bin relative error where the bin is not tiny
    const mr = mags(Float32Array.from(ref));
    const mx = mags(X);
    for (let k = 0; k < mr.length; k++) {
      if (mr[k]! > 0.05 * scale) assert.ok(Math.abs(mx[k]! - mr[k]!) / mr[k]! < 1e-4, `n=${n} bin ${k}`);
    }
  }
});

test('irfft of numpy’s spectrum gives the input back, and irfft(rfft(x)) = x, for every size', () => {
  const xs = readF32(`stft/${D.rfft.input}`);
  const ys = readF64(`stft/${D.rfft.output}`);
  let xo = 0;
  let yo = 0;
  for (const n of D.rfft.sizes as number[]) {
    const x = xs.slice(xo, xo + n);
    const spec = Float32Array.from(ys.subarray(yo, yo + n + 2));
    xo += n;
    yo += n + 2;
    const scale = maxAbs(x);
    assert.ok(maxDiff(irfft(spec, n), x) < 1e-5 * scale, `numpy spectrum, n=${n}`);
    assert.ok(maxDiff(irfft(rfft(x), n), x) < 1e-5 * scale, `round trip, n=${n}`);
  }
});

test('irfft ignores the imaginary parts of the DC and Nyquist bins (like numpy)', () => {
  const x = randomSignal(256, 3);
  const X = rfft(x);
  X[1] = 123;
  X[257] = -45;
  assert.ok(maxDiff(irfft(X, 256), x) < 1e-5);
});

test('a tone at k·fs/N peaks in bin k; a 1 kHz tone at 22 050 Hz peaks in bin round(1000·N/fs)', () => {
  for (const [N, k] of [
    [64, 5],
    [1024, 100],
    [4096, 1000],
  ] as const) {
    const x = Float32Array.from({ length: N }, (_, t) => Math.cos((2 * Math.PI * k * t) / N + 0.3));
    const m = mags(rfft(x));
    assert.ok(Math.abs(m[k]! - N / 2) < 1e-3 * N, `N=${N}: |X[k]| = ${m[k]}`);
    for (let j = 0; j < m.length; j++) if (j !== k) assert.ok(m[j]! < 1e-3 * N, `N=${N}: leakage into bin ${j}: ${m[j]}`);
  }
  const fs = 22050;
  const N = 1024;
  const x = Float32Array.from({ length: N }, (_, t) => Math.sin((2 * Math.PI * 1000 * t) / fs));
  const m = mags(rfft(x));
  let arg = 0;
  for (let j = 1; j < m.length; j++) if (m[j]! > m[arg]!) arg = j;
  assert.is(arg, Math.round((1000 * N) / fs));
});

test('Parseval: Σx² = (|X₀|² + |X_N/2|² + 2·Σ|X_k|²) / N', () => {
  for (const n of [64, 512, 2048, 16384]) {
    const x = randomSignal(n, n);
    const X = rfft(x);
    let e = 0;
    for (let i = 0; i < n; i++) e += x[i]! * x[i]!;
    let s = 0;
    for (let k = 0; k <= n / 2; k++) {
      const p = X[2 * k]! ** 2 + X[2 * k + 1]! ** 2;
      s += k === 0 || k === n / 2 ? p : 2 * p;
    }
    assert.ok(Math.abs(s / n - e) / e < 1e-5, `n=${n}: ${s / n} vs ${e}`);
  }
});

test('the FFT of an impulse is flat and of a constant is a DC spike', () => {
  const n = 128;
  const imp = new Float32Array(n);
  imp[0] = 1;
  const X = rfft(imp);
  for (let k = 0; k <= n / 2; k++) {
    assert.ok(Math.abs(X[2 * k]! - 1) < 1e-6 && Math.abs(X[2 * k + 1]!) < 1e-6);
  }
  const C = rfft(new Float32Array(n).fill(2));
  assert.ok(Math.abs(C[0]! - 2 * n) < 1e-4);
  assert.ok(maxAbs(C.subarray(2)) < 1e-4);
});

// ---- STFT ---------------------------------------------------------------------------------------
test('the singing-voice STFT (np.hanning(1024), hop 315, no centring, |rfft|) matches NumPy', () => {
  const x = readF32(`stft/${D.svd.signal}`);
  const ref = readF32(`stft/${D.svd.magnitude}`);
  const S = stft(x, SINGING_VOICE_STFT);
  assert.is(S.nFrames, D.svd.nFrames);
  assert.is(S.nFrames, Math.floor((x.length - 1024) / 315) + 1);
  assert.is(S.nBins, 513);
  const scale = maxAbs(ref);
  assert.ok(maxDiff(S.data, ref) < 1e-5 * scale, `max error ${maxDiff(S.data, ref) / scale} of the largest bin`);
});

test('asking for fewer bins gives the first nBins of every frame (magnitude, power, complex)', () => {
  const x = readF32(`stft/${D.svd.signal}`);
  const ref = readF32(`stft/${D.svd.magnitude}`);
  const scale = maxAbs(ref);
  const nF = D.svd.nFrames as number;
  for (const nBins of [1, 2, 3, 5, 100, 253, 256, 257, 258, 260, 372, 509, 510, 512, 513]) {
    const S = stft(x, { ...SINGING_VOICE_STFT, nBins });
    const P = stft(x, { ...SINGING_VOICE_STFT, nBins, output: 'power' });
    const C = stft(x, { ...SINGING_VOICE_STFT, nBins, output: 'complex' });
    assert.is(S.data.length, nF * nBins);
    assert.is(C.data.length, nF * nBins * 2);
    for (let t = 0; t < nF; t++) {
      for (let k = 0; k < nBins; k++) {
        const r = ref[t * 513 + k]!;
        const i = t * nBins + k;
        assert.ok(Math.abs(S.data[i]! - r) < 1e-5 * scale, `nBins=${nBins} frame ${t} bin ${k}: ${S.data[i]} vs ${r}`);
        assert.ok(Math.abs(P.data[i]! - r * r) < 1e-5 * scale * scale, `power, nBins=${nBins}`);
        assert.ok(Math.abs(Math.hypot(C.data[2 * i]!, C.data[2 * i + 1]!) - r) < 1e-5 * scale, `complex, nBins=${nBins}`);
      }
    }
  }
});

test('centred STFTs (reflect and constant padding, window shorter than nFft) match torch.stft', () => {
  const x = readF32(`stft/${D.centred.signal}`);
  for (const c of D.centred.cases) {
    const ref = readF32(`stft/${c.spec}`);
    const S = stft(x, { nFft: c.nFft, hopLength: c.hop, winLength: c.winLength, window: 'hann', periodic: true, center: true, padMode: c.padMode });
    assert.is(S.nFrames, c.nFrames);
    assert.is(S.nFrames, 1 + Math.floor(x.length / c.hop));
    assert.is(S.nBins, c.nBins);
    const scale = maxAbs(ref);
    assert.ok(maxDiff(S.data, ref) < 1e-5 * scale, `${c.padMode}: ${maxDiff(S.data, ref) / scale}`);
  }
});

test('frame counts: centred 1 + ⌊n/hop⌋; not centred ⌊(n − nFft)/hop⌋ + 1, none when n < nFft', () => {
  assert.is(stftFrameCount(22050, SINGING_VOICE_STFT), 67);
  assert.is(stftFrameCount(1023, SINGING_VOICE_STFT), 0);
  assert.is(stftFrameCount(1024, SINGING_VOICE_STFT), 1);
  assert.is(stftFrameCount(30 * 22050, SINGING_VOICE_STFT), 2097);
  assert.is(stftFrameCount(1000, { nFft: 512, hopLength: 100 }), 11);
  const S = stft(new Float32Array(1000), SINGING_VOICE_STFT);
  assert.is(S.nFrames, 0);
  assert.is(S.data.length, 0);
});

test('a user window array gives the same STFT as the named window', () => {
  const x = randomSignal(3000, 9);
  const a = stft(x, { nFft: 256, hopLength: 64, winLength: 200, window: 'hamming', periodic: false });
  const b = stft(x, { nFft: 256, hopLength: 64, window: windowFunction('hamming', 200, { periodic: false }) });
  assert.ok(maxDiff(a.data, b.data) < 1e-6);
});

// ---- ISTFT --------------------------------------------------------------------------------------
test('istft inverts torch’s centred STFT (reflect, winLength 400 of nFft 512) to the signal', () => {
  const x = readF32(`stft/${D.centred.signal}`);
  for (const c of D.centred.cases) {
    const spec = readF32(`stft/${c.spec}`);
    const y = istft(spec, { nFft: c.nFft, hopLength: c.hop, winLength: c.winLength, window: 'hann', length: x.length });
    assert.ok(maxDiff(y, x) < 1e-5 * maxAbs(x), `${c.padMode}: ${maxDiff(y, x)}`);
  }
});

test('istft(stft(x)) = x over the whole signal with centring (Hann periodic, hop N/4)', () => {
  for (const [nFft, len] of [
    [64, 1000],
    [1024, 9000],
    [4096, 20000],
  ] as const) {
    const x = randomSignal(len, nFft);
    const opts = { nFft, hopLength: nFft / 4, window: 'hann' as const, center: true };
    const S = stft(x, opts);
    const y = istft(S, { ...opts, length: len });
    assert.is(y.length, len);
    assert.ok(maxDiff(y, x) < 1e-5, `nFft=${nFft}: ${maxDiff(y, x)}`);
    // without `length` librosa trims nFft/2 at both ends of nFft + hop·(nFrames − 1)
    const z = istft(S, opts);
    assert.is(z.length, nFft + (nFft / 4) * (S.nFrames - 1) - nFft);
    assert.ok(maxDiff(z.subarray(0, len), x.subarray(0, Math.min(len, z.length))) < 1e-5);
  }
});

test('istft(stft(x)) = x away from the edges for the front end’s 1024 / 315, no centring', () => {
  const x = randomSignal(22050, 5);
  for (const periodic of [true, false]) {
    const opts = { nFft: 1024, hopLength: 315, window: 'hann' as const, periodic, center: false };
    const S = stft(x, opts);
    const y = istft(S, opts);
    assert.is(y.length, 1024 + 315 * (S.nFrames - 1));
    assert.ok(maxDiff(y, x.subarray(0, y.length), 1024, y.length - 1024) < 1e-5, `periodic=${periodic}`);
  }
});

test('istft with a window shorter than nFft, a Hamming window and an odd hop', () => {
  const x = randomSignal(5000, 11);
  const opts = { nFft: 512, hopLength: 97, winLength: 301, window: 'hamming' as const, center: true, padMode: 'reflect' as const };
  const y = istft(stft(x, opts), { nFft: 512, hopLength: 97, winLength: 301, window: 'hamming', center: true, length: x.length });
  assert.ok(maxDiff(y, x) < 1e-5);
});

test('plans are cached per size and sizes can be mixed', () => {
  const before = core().arena.liveBytes;
  const x = randomSignal(4096, 1);
  const a = rfft(x.subarray(0, 256).slice());
  rfft(x);
  rfft(x.subarray(0, 64).slice());
  const after = core().arena.liveBytes;
  assert.ok(maxDiff(rfft(x.subarray(0, 256).slice()), a) === 0);
  rfft(x);
  assert.is(core().arena.liveBytes, after, 'no growth once the plans exist');
  assert.ok(after >= before);
});

// ---- bad input --------------------------------------------------------------------------------
test('windowFunction rejects unknown kinds, bad lengths and options', () => {
  throwsCode(() => windowFunction('hanning' as never, 8), 'BAD_ARGUMENT', /window kind.*'hann'/);
  throwsCode(() => windowFunction('hann', 0), 'BAD_ARGUMENT', /window length n/);
  throwsCode(() => windowFunction('hann', 2.5), 'BAD_ARGUMENT', /window length n/);
  throwsCode(() => windowFunction('hann', 8, { periodic: 1 as never }), 'BAD_ARGUMENT', /periodic/);
  throwsCode(() => windowFunction('hann', 8, { symmetric: true } as never), 'BAD_ARGUMENT', /unknown option.*symmetric/);
});

test('rfft and irfft reject wrong types, sizes, lengths and NaN', () => {
  throwsCode(() => rfft([1, 2, 3] as never), 'BAD_ARGUMENT', /x must be a Float32Array, got Array/);
  throwsCode(() => rfft(new Float64Array(64) as never), 'BAD_ARGUMENT', /Float32Array, got Float64Array/);
  throwsCode(() => rfft(new Float32Array(100)), 'BAD_ARGUMENT', /x.length must be a power of two.*got 100/);
  throwsCode(() => rfft(new Float32Array(32)), 'BAD_ARGUMENT', /x.length must be an integer in \[64, 16384\], got 32/);
  throwsCode(() => rfft(new Float32Array(32768)), 'BAD_ARGUMENT', /x.length/);
  const nan = new Float32Array(64);
  nan[7] = NaN;
  throwsCode(() => rfft(nan), 'NOT_FINITE', /x\[7\] is NaN/);
  throwsCode(() => irfft(new Float32Array(66), 96), 'BAD_ARGUMENT', /n must be a power of two/);
  throwsCode(() => irfft(new Float32Array(64), 64), 'BAD_SHAPE', /spec must have 66 elements, got 64/);
  throwsCode(() => irfft(null as never, 64), 'BAD_ARGUMENT', /spec must be a Float32Array, got null/);
  const inf = new Float32Array(66);
  inf[3] = Infinity;
  throwsCode(() => irfft(inf, 64), 'NOT_FINITE', /spec\[3\] is Infinity/);
});

test('stft rejects every bad option up front, naming it', () => {
  const x = randomSignal(2048, 2);
  throwsCode(() => stft('abc' as never), 'BAD_ARGUMENT', /x must be a Float32Array/);
  throwsCode(() => stft(x, { nFft: 1000 }), 'BAD_ARGUMENT', /nFft must be a power of two/);
  throwsCode(() => stft(x, { nFft: 32 }), 'BAD_ARGUMENT', /nFft must be an integer in \[64, 16384\]/);
  throwsCode(() => stft(x, { nFft: 256, hopLength: 0 }), 'BAD_ARGUMENT', /hopLength/);
  throwsCode(() => stft(x, { nFft: 256, hopLength: 1.5 }), 'BAD_ARGUMENT', /hopLength/);
  throwsCode(() => stft(x, { nFft: 256, winLength: 300 }), 'BAD_ARGUMENT', /winLength must be an integer in \[1, 256\], got 300/);
  throwsCode(() => stft(x, { nFft: 256, window: 'blackman' as never }), 'BAD_ARGUMENT', /window must be one of/);
  throwsCode(() => stft(x, { nFft: 256, window: [1, 2] as never }), 'BAD_ARGUMENT', /window must be .*Float32Array, got Array/);
  throwsCode(() => stft(x, { nFft: 256, window: new Float32Array(300) }), 'BAD_SHAPE', /more than nFft = 256/);
  throwsCode(() => stft(x, { nFft: 256, winLength: 200, window: new Float32Array(100) }), 'BAD_SHAPE', /window must have winLength = 200 samples, got 100/);
  const badWin = new Float32Array(256);
  badWin[5] = NaN;
  throwsCode(() => stft(x, { nFft: 256, window: badWin }), 'NOT_FINITE', /window\[5\]/);
  throwsCode(() => stft(x, { nFft: 256, padMode: 'edge' as never }), 'BAD_ARGUMENT', /padMode must be one of 'constant', 'reflect'/);
  throwsCode(() => stft(x, { nFft: 256, output: 'phase' as never }), 'BAD_ARGUMENT', /output must be one of/);
  throwsCode(() => stft(x, { nFft: 256, nBins: 130 }), 'BAD_ARGUMENT', /nBins must be an integer in \[1, 129\], got 130/);
  throwsCode(() => stft(x, { nFft: 256, nBins: 0 }), 'BAD_ARGUMENT', /nBins/);
  throwsCode(() => stft(x, { nFft: 256, center: 'yes' as never }), 'BAD_ARGUMENT', /center must be true or false/);
  throwsCode(() => stft(x, { nFft: 256, hop: 64 } as never), 'BAD_ARGUMENT', /unknown option stft options.hop/);
  throwsCode(() => stft(x, 5 as never), 'BAD_ARGUMENT', /options object/);
  throwsCode(() => stft(new Float32Array(100), { nFft: 256, padMode: 'reflect' }), 'BAD_SHAPE', /reflect.*more than nFft\/2 = 128/);
  const y = x.slice();
  y[100] = -Infinity;
  throwsCode(() => stft(y, { nFft: 256 }), 'NOT_FINITE', /x\[100\] is -Infinity/);
});

test('stftFrameCount rejects bad lengths and options', () => {
  throwsCode(() => stftFrameCount(-1, SINGING_VOICE_STFT), 'BAD_ARGUMENT', /n must be an integer/);
  throwsCode(() => stftFrameCount(100.5), 'BAD_ARGUMENT', /n must be an integer/);
  throwsCode(() => stftFrameCount(1000, { nFft: 100 }), 'BAD_ARGUMENT', /nFft must be a power of two/);
  throwsCode(() => stftFrameCount(1000, { hopLength: 0 }), 'BAD_ARGUMENT', /hopLength/);
  throwsCode(() => stftFrameCount(1000, { centre: true } as never), 'BAD_ARGUMENT', /unknown option stft options.centre/);
});

test('istft rejects specs of the wrong shape, NaN and bad options', () => {
  const x = randomSignal(2048, 4);
  const S = stft(x, { nFft: 256, hopLength: 64 });
  throwsCode(() => istft(S.data.subarray(0, 100), { nFft: 256, hopLength: 64 }), 'BAD_SHAPE', /whole frames of nFft\/2 \+ 1 = 129 complex bins/);
  throwsCode(() => istft(S, { nFft: 512, hopLength: 64 }), 'BAD_SHAPE', /spec.nBins must be nFft\/2 \+ 1 = 257/);
  throwsCode(() => istft({ ...S, nFrames: S.nFrames + 1 }, { nFft: 256, hopLength: 64 }), 'BAD_SHAPE', /spec.data must have/);
  throwsCode(() => istft({ ...S, data: [1] as never }, { nFft: 256, hopLength: 64 }), 'BAD_ARGUMENT', /spec.data must be a Float32Array/);
  throwsCode(() => istft(stft(x, { nFft: 256, output: 'magnitude' }), { nFft: 256 }), 'BAD_SHAPE', /spec.data must have/);
  throwsCode(() => istft(S, { nFft: 256, length: -1 }), 'BAD_ARGUMENT', /length/);
  throwsCode(() => istft(S, { nFft: 256, padMode: 'reflect' } as never), 'BAD_ARGUMENT', /unknown option istft options.padMode/);
  throwsCode(() => istft(null as never, { nFft: 256 }), 'BAD_ARGUMENT', /spec must be a Float32Array or an stft result/);
  const bad = S.data.slice();
  bad[10] = NaN;
  throwsCode(() => istft(bad, { nFft: 256, hopLength: 64 }), 'NOT_FINITE', /spec\[10\] is NaN/);
});

test.run();
