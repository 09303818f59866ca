// The fused front end (bindings melSpectrogram) and src/frontend (FrontEnd, SVD_FRONTEND, NormStats)
// against the NumPy front end of scripts/fixtures/make_mel_fixtures.py (np.hanning(1024), hop 315,
// no centring, |rfft|, [:, :372] @ FB, log(max(x, 1e-7))) and analytic properties.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { melSpectrogram, MelFrontEndKernel, releaseMelCache } from '../bindings/mel.ts';
import { core } from '../bindings/wasm.ts';
import { FrontEnd, SVD_FRONTEND, NormStats, validateFrontEndConfig, statsFromJSON, statsToJSON, statsFromBatchNorm, melOptionsOf } from '../src/frontend/index.ts';
import { readF32, readJSON, maxAbsErr, throwsCode } from './helpers.ts';

const index = readJSON<Record<string, any>>('mel/index.json');
const fx = (name: string) => readF32(`mel/${index[name].file}`);
const signal = fx('fe_signal');
const refLogMel = fx('fe_logmel');
const nRef = index.fe_logmel.shape[0] as number;

/**
 * |a − b| ≤ tol·max(1, |b|): log-mel values near 0 have no meaningful relative error, and f32
 * FFT rounding gives ≈ 1e-5 relative error in bands 60 dB below a frame's peak.
 */
function closeLog(a: Float32Array, b: Float32Array, tol: number): { ok: boolean; worst: number } {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return { ok: a.length === b.length && worst <= tol, worst };
}

test('the fused front end reproduces the NumPy SVD front end (137 frames × 80)', () => {
  const r = melSpectrogram(signal, melOptionsOf(SVD_FRONTEND));
  assert.is(r.nFrames, nRef);
  assert.is(r.nFrames, Math.floor((signal.length - 1024) / 315) + 1);
  assert.is(r.nMels, 80);
  const c = closeLog(r.data, refLogMel, 3e-5);
  assert.ok(c.ok, `worst ${c.worst}`);
});

test('other options (periodic Hamming, nFft 512, hop 200, power, librosa Slaney area bank, floor 1e-10) match NumPy/SciPy', () => {
  const m = index.fe2_logmel;
  const r = melSpectrogram(signal, {
    sampleRate: m.sampleRate, nFft: m.nFft, hop: m.hop, window: 'hamming', periodic: true, spectrum: 'power',
    nMels: m.nMels, fMin: m.fMin, fMax: m.fMax, scale: 'slaney', construction: 'librosa', norm: 'area', logFloor: m.logFloor,
  });
  assert.is(r.nFrames, m.shape[0]);
  const c = closeLog(r.data, fx('fe2_logmel'), 1e-5);
  assert.ok(c.ok, `worst ${c.worst}`);
});

test('FrontEnd.logMel = the fused path; normalise = the NumPy z-score fixture', () => {
  const fe = new FrontEnd();
  const lm = fe.logMel(signal);
  assert.is(lm.nFrames, nRef);
  const stats = { mean: fx('fe_mean'), std: fx('fe_std') };
  const z = fe.normalise(lm.data, stats);
  // the reference z is computed from NumPy's log-mel: the difference is the log-mel's, / std
  let worst = 0;
  const ref = fx('fe_z');
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(z[i]! - ref[i]!) * stats.std[i % 80]! / Math.max(1, Math.abs(refLogMel[i]!)));
  assert.ok(worst < 3e-5, `worst ${worst}`);
});

test('fused z-scoring (mean/std in the options) equals log-mel then zscore', () => {
  const mean = fx('fe_mean');
  const std = fx('fe_std');
  const a = melSpectrogram(signal, { ...melOptionsOf(SVD_FRONTEND), mean, std });
  const fe = new FrontEnd();
  const b = fe.normalise(fe.logMel(signal).data, { mean, std });
  assert.ok(maxAbsErr(a.data, b) < 1e-6);
});

test('a pure tone: its log-mel peaks in the band whose filter covers its bin', () => {
  const sr = 22050;
  const f = 1000;
  const x = new Float32Array(sr);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * f * i) / sr);
  const r = new FrontEnd().logMel(x);
  // mel-spaced peaks (HTK), 82 of them from 27.5 Hz to 8 kHz: the band with the tone between
  // its left and right peak and the largest triangle value there
  const mel = (h: number) => 1127 * Math.log1p(h / 700);
  const lo = mel(27.5);
  const hi = mel(8000);
  const peak = (j: number) => 700 * (Math.exp((lo + (j * (hi - lo)) / 81) / 1127) - 1);
  let expectBand = -1;
  for (let b = 0; b < 80; b++) if (peak(b) <= f && f < peak(b + 2)) expectBand = expectBand < 0 || Math.abs(peak(b + 1) - f) < Math.abs(peak(expectBand + 1) - f) ? b : expectBand;
  for (let t = 0; t < r.nFrames; t++) {
    const row = r.data.subarray(t * 80, t * 80 + 80);
    const arg = row.indexOf(Math.max(...row));
    assert.ok(Math.abs(arg - expectBand) <= 1, `frame ${t}: peak band ${arg}, expected ≈ ${expectBand}`);
  }
});

test('silence hits the log floor: every value is ln(1e-7)', () => {
  const r = new FrontEnd().logMel(new Float32Array(4096));
  const l = Math.log(Math.fround(1e-7));
  for (const v of r.data) assert.ok(Math.abs(v - l) < 1e-6);
});

test('padding: 57 frames of the normalised ln(1e-7) at both ends; excerpts are 115 × 80, hop 1', () => {
  const fe = new FrontEnd();
  const stats = { mean: fx('fe_mean'), std: fx('fe_std') };
  const p = fe.prepare(signal, stats);
  assert.is(p.nFrames, nRef);
  assert.is(p.data.length, (nRef + 114) * 80);
  const l = Math.log(1e-7);
  for (const t of [0, 56, nRef + 57, nRef + 113]) {
    for (let b = 0; b < 80; b++) assert.ok(Math.abs(p.data[t * 80 + b]! - (l - stats.mean[b]!) / stats.std[b]!) < 1e-5, `pad frame ${t} band ${b}`);
  }
  const z = fe.normalise(fe.logMel(signal).data, stats);
  assert.equal(p.data.subarray(57 * 80, (57 + nRef) * 80), z);
  assert.is(fe.excerptCount(p), nRef);
  // excerpt c is centred on original frame c
  const e = fe.excerpt(p, 60);
  assert.is(e.length, 115 * 80);
  for (let b = 0; b < 80; b++) assert.is(e[57 * 80 + b], z[60 * 80 + b]);
  // batches through one caller-owned buffer
  const batch = new Float32Array(4 * 115 * 80);
  let seen = 0;
  for (const { first, count } of fe.excerpts(p, batch)) {
    assert.is(first, seen);
    for (let j = 0; j < count; j++) {
      const c = first + j;
      assert.is(batch[j * 9200 + 57 * 80 + 3], p.data[(c + 57) * 80 + 3]);
      assert.is(batch[j * 9200], p.data[c * 80]);
    }
    seen += count;
  }
  assert.is(seen, nRef);
  throwsCode(() => fe.excerpt(p, nRef), 'BAD_ARGUMENT', /start/);
  throwsCode(() => fe.excerpts(p, new Float32Array(100)).next(), 'BAD_SHAPE', /multiple of excerptFrames × nMels = 9200/);
});

test('NormStats: streaming f64 per-band mean/std equals the two-pass statistics of the concatenation', () => {
  const a = fx('fe_logmel');
  const s = new NormStats(80).add(a.subarray(0, 50 * 80), 50).add(a.subarray(50 * 80), nRef - 50);
  const { mean, std } = s.finish();
  assert.is(s.frames, nRef);
  for (let b = 0; b < 80; b++) {
    let m = 0;
    for (let t = 0; t < nRef; t++) m += a[t * 80 + b]!;
    m /= nRef;
    let v = 0;
    for (let t = 0; t < nRef; t++) v += (a[t * 80 + b]! - m) ** 2;
    assert.ok(Math.abs(mean[b]! - m) < 1e-5 && Math.abs(std[b]! - Math.sqrt(v / nRef)) < 1e-5, `band ${b}`);
  }
  // and z-scoring a spectrogram with its own statistics gives mean 0 / std 1 per band
  const z = new FrontEnd().normalise(a, { mean, std });
  const s2 = new NormStats(80).add(z, nRef).finish();
  for (let b = 0; b < 80; b++) assert.ok(Math.abs(s2.mean[b]!) < 1e-5 && Math.abs(s2.std[b]! - 1) < 1e-5);
  // a large offset does not lose precision (f64, no sum of squares)
  const big = new Float32Array(1000 * 2);
  for (let t = 0; t < 1000; t++) {
    big[2 * t] = 1e4 + (t % 2 ? 1 : -1);
    big[2 * t + 1] = 5;
  }
  const sb = new NormStats(2).add(big, 1000).finish(1e-3);
  assert.ok(Math.abs(sb.std[0]! - 1) < 1e-9);
  assert.is(sb.std[1], Math.fround(1e-3)); // constant band clamped to minStd
  throwsCode(() => new NormStats(2).add(big, 1000).finish(0), 'ZERO_STD', /band 1/);
  throwsCode(() => new NormStats(2).finish(), 'NO_DATA');
  throwsCode(() => new NormStats(80).add(new Float32Array(81), 1), 'BAD_SHAPE', /1 × 80/);
  throwsCode(() => new NormStats(1).add(new Float32Array([1, NaN]), 2), 'NOT_FINITE', /band 0/);
  const js = statsToJSON({ mean, std });
  const back = statsFromJSON(JSON.parse(JSON.stringify(js)), 80);
  assert.equal(back.mean, mean);
  throwsCode(() => statsFromJSON({ mean: [0], std: [0] }), 'BAD_CONFIG', /std\[0\]/);
  throwsCode(() => statsFromJSON({ mean: [0, 1], std: [1] }), 'BAD_CONFIG', /bands/);
});

test('statsFromBatchNorm: std = sqrt(running_var + 1e-4), as BatchNorm1d(affine=False) in eval mode', () => {
  const s = statsFromBatchNorm(new Float32Array([1, -2]), new Float32Array([4, 0]));
  assert.equal([...s.mean], [1, -2]);
  assert.ok(Math.abs(s.std[0]! - Math.sqrt(4.0001)) < 1e-6 && Math.abs(s.std[1]! - 0.01) < 1e-8);
  throwsCode(() => statsFromBatchNorm(new Float32Array([0]), new Float32Array([-1])), 'BAD_ARGUMENT', /band 0/);
  throwsCode(() => statsFromBatchNorm(new Float32Array([0]), new Float32Array([0]), 0), 'BAD_ARGUMENT', /zero variance/);
  throwsCode(() => statsFromBatchNorm(new Float32Array([0, 1]), new Float32Array([1])), 'BAD_SHAPE', /runningVar must have 2/);
});

test('SVD_FRONTEND: methods.md §1 numbers, JSON round trip, validation names the field', () => {
  assert.equal(
    { sr: SVD_FRONTEND.sampleRate, n: SVD_FRONTEND.nFft, hop: SVD_FRONTEND.hop, mels: SVD_FRONTEND.nMels, used: SVD_FRONTEND.nBinsUsed, ex: SVD_FRONTEND.excerptFrames, pad: SVD_FRONTEND.padFrames },
    { sr: 22050, n: 1024, hop: 315, mels: 80, used: 372, ex: 115, pad: 57 },
  );
  assert.is(SVD_FRONTEND.hop, Math.floor(22050 / 70));
  assert.is(SVD_FRONTEND.nBinsUsed, Math.floor((513 * 2 * 8000) / 22050));
  assert.is(SVD_FRONTEND.padFrames, Math.floor(115 / 2));
  assert.equal(validateFrontEndConfig(JSON.parse(JSON.stringify(SVD_FRONTEND))), { ...SVD_FRONTEND });
  assert.equal(new FrontEnd().toJSON(), { ...SVD_FRONTEND });
  const bad = (patch: Record<string, unknown>, re: RegExp) => throwsCode(() => validateFrontEndConfig({ ...SVD_FRONTEND, ...patch }), 'BAD_CONFIG', re);
  throwsCode(() => validateFrontEndConfig(null), 'BAD_CONFIG', /must be an object/);
  throwsCode(() => validateFrontEndConfig([]), 'BAD_CONFIG', /array/);
  bad({ nFft: 1000 }, /nFft must be a power of two/);
  bad({ nFft: 32 }, /nFft/);
  bad({ hop: 0 }, /hop/);
  bad({ hop: 31.5 }, /hop/);
  bad({ sampleRate: NaN }, /sampleRate/);
  bad({ fMax: 20000 }, /fMax/);
  bad({ fMin: 8000 }, /fMin \(8000\) must be < fMax/);
  bad({ nMels: 0 }, /nMels/);
  bad({ window: 'blackman' }, /window/);
  bad({ symmetric: 'yes' }, /symmetric must be a boolean/);
  bad({ center: true }, /center must be false/);
  bad({ spectrum: 'db' }, /spectrum/);
  bad({ scale: 'bark' }, /scale/);
  bad({ construction: 'kaldi' }, /construction/);
  bad({ norm: 'l2' }, /norm/);
  bad({ nBinsUsed: 600 }, /nBinsUsed/);
  bad({ logFloor: 0 }, /logFloor/);
  bad({ excerptFrames: 0 }, /excerptFrames/);
  bad({ padFrames: -1 }, /padFrames/);
  bad({ nfft: 1024 }, /unknown field 'nfft'/);
  const { hop: _h, ...noHop } = SVD_FRONTEND;
  throwsCode(() => validateFrontEndConfig(noHop), 'BAD_CONFIG', /missing field 'hop'/);
});

test('bad inputs: melSpectrogram, FrontEnd', () => {
  const o = melOptionsOf(SVD_FRONTEND);
  throwsCode(() => melSpectrogram([0, 1] as any, o), 'BAD_ARGUMENT', /signal must be a Float32Array/);
  throwsCode(() => melSpectrogram(new Float32Array(1023), o), 'TOO_SHORT', /1023 samples/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, hop: 0 }), 'BAD_ARGUMENT', /hop/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, nFft: 1000 }), 'BAD_ARGUMENT', /power of two/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, window: 'kaiser' as any }), 'BAD_ARGUMENT', /window/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, periodic: 1 as any }), 'BAD_ARGUMENT', /periodic must be a boolean/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, logFloor: 0 }), 'BAD_ARGUMENT', /logFloor/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, mean: new Float32Array(80) }), 'BAD_ARGUMENT', /both mean and std/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, mean: new Float32Array(80), std: new Float32Array(80) }), 'BAD_ARGUMENT', /std\[0\] is 0/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, mean: new Float32Array(79), std: new Float32Array(79).fill(1) }), 'BAD_SHAPE', /mean must have 80/);
  throwsCode(() => melSpectrogram(new Float32Array(2048), { ...o, hopp: 3 } as any), 'BAD_ARGUMENT', /unknown option 'hopp'/);
  const x = new Float32Array(4096);
  x[3000] = NaN;
  throwsCode(() => melSpectrogram(x, o), 'NOT_FINITE', /signal\[3000\] is NaN/);
  const fe = new FrontEnd();
  throwsCode(() => fe.normalise(new Float32Array(81), { mean: new Float32Array(80), std: new Float32Array(80).fill(1) }), 'BAD_SHAPE', /multiple of nMels = 80/);
  throwsCode(() => fe.normalise(new Float32Array(80), { mean: new Float32Array(80), std: new Float32Array(3) }), 'BAD_SHAPE', /stats.std must have 80/);
  throwsCode(() => fe.prepare(new Float32Array(100), { mean: new Float32Array(80), std: new Float32Array(80).fill(1) }), 'TOO_SHORT');
  throwsCode(() => new FrontEnd({ ...SVD_FRONTEND, hop: -3 }), 'BAD_CONFIG', /hop/);
});

test('the prepared kernel writes into a caller buffer and frees its arena blocks', () => {
  const before = core().arena.liveBytes;
  const k = new MelFrontEndKernel(melOptionsOf(SVD_FRONTEND));
  const out = new Float32Array(k.frames(signal.length) * 80 + 5);
  const r = k.run(signal, out);
  assert.is(r.data.buffer, out.buffer);
  assert.ok(closeLog(r.data, refLogMel, 3e-5).ok);
  throwsCode(() => k.run(signal, new Float32Array(10)), 'BAD_SHAPE', /10960/);
  k.dispose();
  assert.is(core().arena.liveBytes, before);
  throwsCode(() => k.run(signal), 'DISPOSED');
  // melSpectrogram's cache of prepared configurations is bounded and can be released
  const base = core().arena.liveBytes;
  for (const hop of [100, 200, 300, 315, 400, 500]) melSpectrogram(signal, { ...melOptionsOf(SVD_FRONTEND), hop });
  releaseMelCache();
  assert.ok(core().arena.liveBytes <= base);
});

test.run();
