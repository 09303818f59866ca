// Mel filterbanks and the log-mel front end (methods.md §1): filterbank construction (the
// singing-voice detector's "svd" construction of Schlüter & Lehner, and librosa's), sparse
// application to magnitude rows, log(max(x, floor)), per-band z-scoring, and the fused front end
// (frame → window → real FFT → |X| → sparse mel → log → z-score) that writes frames × nMels.
// Numbers and pointers only; nothing here allocates (the host's arena owns every buffer).
//
// Layout conventions (docs/frontend.md): a dense filterbank is nMels × nBins row-major f32 (one
// filter per row, like librosa's `weights`); a sparse filterbank is `spans` (3 i32 per filter:
// first bin, length, offset into `weights`) plus the packed f32 `weights`.

import { stftMagnitudeRow } from './stft';

// ---- mel scales -----------------------------------------------------------------------------
// scale 0 = HTK (1127·ln(1 + f/700)); scale 1 = Slaney (librosa htk=False: linear below 1 kHz,
// logarithmic above, 27 steps of ln(6.4)).
const SLANEY_FSP: f64 = 200.0 / 3.0;
const SLANEY_MIN_LOG_HZ: f64 = 1000.0;
const SLANEY_MIN_LOG_MEL: f64 = 15.0; // 1000 / (200/3)
// ln(6.4) / 27 (computed once at compile time would need a const-folded log; keep it literal)
const SLANEY_LOGSTEP: f64 = 0.06875177742094912;

@inline function hzToMel(f: f64, scale: i32): f64 {
  if (scale == 0) return 1127.0 * Math.log1p(f / 700.0);
  if (f >= SLANEY_MIN_LOG_HZ) return SLANEY_MIN_LOG_MEL + Math.log(f / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
  return f / SLANEY_FSP;
}

@inline function melToHz(m: f64, scale: i32): f64 {
  if (scale == 0) return 700.0 * (Math.exp(m / 1127.0) - 1.0);
  if (m >= SLANEY_MIN_LOG_MEL) return SLANEY_MIN_LOG_HZ * Math.exp(SLANEY_LOGSTEP * (m - SLANEY_MIN_LOG_MEL));
  return SLANEY_FSP * m;
}

/** Hz of the j-th of nMels + 2 equally mel-spaced points from fMin to fMax. */
@inline function peakHz(j: i32, nMels: i32, fMin: f64, fMax: f64, scale: i32): f64 {
  const lo = hzToMel(fMin, scale);
  const hi = hzToMel(fMax, scale);
  // NumPy's linspace ends exactly on the stop value; the svd code's arange·spacing does not,
  // but the last peak only bounds the last filter's support, where the difference is < 1 ulp.
  const m = j == nMels + 1 ? hi : lo + <f64>j * ((hi - lo) / <f64>(nMels + 1));
  return melToHz(m, scale);
}

/** Bin frequencies: svd uses linspace(0, sr/2, nBins); librosa uses rfftfreq (k·sr/nfft). */
@inline function binHz(k: i32, nBins: i32, sr: f64, construction: i32): f64 {
  if (construction == 0) return k == nBins - 1 ? sr * 0.5 : <f64>k * ((sr * 0.5) / <f64>(nBins - 1));
  return <f64>k * (1.0 / (<f64>((nBins - 1) * 2) / sr));
}

/** First k in [0, nBins] with binHz(k) ≥ f (NumPy's searchsorted, side='left'). */
function searchLeft(f: f64, nBins: i32, sr: f64): i32 {
  let lo = 0;
  let hi = nBins;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (binHz(mid, nBins, sr, 0) < f) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Value of filter b at bin k before normalisation. */
@inline function svdValue(k: i32, nBins: i32, sr: f64, pl: f64, pt: f64, pr: f64, bl: i32, bt: i32, br: i32): f64 {
  const f = binHz(k, nBins, sr, 0);
  if (k >= bl && k < bt) return (f - pl) / <f64>(bt - bl);
  if (k >= bt && k < br) return (pr - f) / <f64>(br - bt);
  return 0.0;
}

@inline function librosaValue(k: i32, nBins: i32, sr: f64, pl: f64, pt: f64, pr: f64): f64 {
  const f = binHz(k, nBins, sr, 1);
  const lower = (f - pl) / (pt - pl);
  const upper = (pr - f) / (pr - pt);
  const v = lower < upper ? lower : upper;
  return v > 0.0 ? v : 0.0;
}

/**
 * Write the dense filterbank (nMels × (nfft/2 + 1), f32, one filter per row) to `out`.
 * scale: 0 HTK, 1 Slaney. construction: 0 svd (methods.md §1: searchsorted-left peak bins, slopes
 * = Hz distance / bin distance), 1 librosa (triangles evaluated at bin frequencies in Hz).
 * norm: 0 none, 1 each filter divided by its sum, 2 unit area (× 2 / (f_{b+2} − f_b)).
 * A filter whose support holds no positive weight stays all zero (its sum is not divided by).
 */
export function melFilterbankBuild(sr: f64, nfft: i32, nMels: i32, fMin: f64, fMax: f64, scale: i32, construction: i32, norm: i32, out: usize): void {
  const nBins = (nfft >> 1) + 1;
  for (let b = 0; b < nMels; b++) {
    const pl = peakHz(b, nMels, fMin, fMax, scale);
    const pt = peakHz(b + 1, nMels, fMin, fMax, scale);
    const pr = peakHz(b + 2, nMels, fMin, fMax, scale);
    const row = out + (<usize>b * <usize>nBins << 2);
    let bl = 0, bt = 0, br = 0;
    if (construction == 0) {
      bl = searchLeft(pl, nBins, sr);
      bt = searchLeft(pt, nBins, sr);
      br = searchLeft(pr, nBins, sr);
    }
    let sum: f64 = 0.0;
    if (norm == 1) {
      for (let k = 0; k < nBins; k++) {
        sum += construction == 0 ? svdValue(k, nBins, sr, pl, pt, pr, bl, bt, br) : librosaValue(k, nBins, sr, pl, pt, pr);
      }
    }
    const area: f64 = 2.0 / (pr - pl);
    for (let k = 0; k < nBins; k++) {
      const v = construction == 0 ? svdValue(k, nBins, sr, pl, pt, pr, bl, bt, br) : librosaValue(k, nBins, sr, pl, pt, pr);
      // divide by the sum (as the svd code does) rather than multiply by its inverse
      const w = norm == 1 ? (sum > 0.0 ? v / sum : 0.0) : norm == 2 ? v * area : v;
      store<f32>(row + (<usize>k << 2), <f32>w);
    }
  }
}

// ---- sparse form ----------------------------------------------------------------------------

// Each filter's run is padded with zeros to a multiple of 4 bins (moved left when it would pass
// nBinsUsed), so the SIMD dot products need no scalar tail and never read past bin nBinsUsed − 1.

/** Support [first, last] of row b within [0, nBinsUsed), padded to a multiple of 4: (start, length). */
@inline function paddedSpan(row: usize, nBinsUsed: i32): i64 {
  let first = -1, last = -1;
  for (let k = 0; k < nBinsUsed; k++) {
    if (load<f32>(row + (<usize>k << 2)) != 0) {
      if (first < 0) first = k;
      last = k;
    }
  }
  if (first < 0) return 0;
  let len = (last - first + 4) & ~3;
  let start = first;
  if (start + len > nBinsUsed) {
    start = nBinsUsed - len;
    if (start < 0) {
      start = 0;
      len = nBinsUsed;
    }
  }
  return (<i64>start << 32) | <i64>len;
}

/** Number of stored weights (padded runs) of the sparse form of fb's first nBinsUsed columns. */
export function melSparseCount(fb: usize, nMels: i32, nBins: i32, nBinsUsed: i32): i32 {
  let nnz = 0;
  for (let b = 0; b < nMels; b++) {
    nnz += <i32>(paddedSpan(fb + (<usize>b * <usize>nBins << 2), nBinsUsed) & 0xffffffff);
  }
  return nnz;
}

/**
 * Sparse form of the dense nMels × nBins filterbank `fb`, restricted to bins [0, nBinsUsed):
 * spans[3b] = first bin of filter b's run, spans[3b+1] = run length (its non-zero support padded
 * with zeros to a multiple of 4 where nBinsUsed allows), spans[3b+2] = offset of the run in
 * `weights`. Returns the number of weights written (= melSparseCount).
 */
export function melSparsify(fb: usize, nMels: i32, nBins: i32, nBinsUsed: i32, spans: usize, weights: usize): i32 {
  let off = 0;
  for (let b = 0; b < nMels; b++) {
    const row = fb + (<usize>b * <usize>nBins << 2);
    const sl = paddedSpan(row, nBinsUsed);
    const start = <i32>(sl >> 32);
    const len = <i32>(sl & 0xffffffff);
    const sp = spans + (<usize>b * 12);
    store<i32>(sp, start);
    store<i32>(sp, len, 4);
    store<i32>(sp, off, 8);
    // zeros outside the support are copied from the dense row itself
    memory.copy(weights + (<usize>off << 2), row + (<usize>start << 2), <usize>len << 2);
    off += len;
  }
  return off;
}

/** Four lanes of partial sums of w[i]·x[i] over n values (n a multiple of 4 except when tiny). */
@inline function dot4(w: usize, x: usize, n: i32): v128 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(w + o), v128.load(x + o)));
  }
  for (; i < n; i++) {
    acc = f32x4.replace_lane(acc, 0, f32x4.extract_lane(acc, 0) + load<f32>(w + (<usize>i << 2)) * load<f32>(x + (<usize>i << 2)));
  }
  return acc;
}

@inline function spanDot4(b: i32, row: usize, spans: usize, weights: usize): v128 {
  const sp = spans + (<usize>b * 12);
  return dot4(weights + (<usize>load<i32>(sp, 8) << 2), row + (<usize>load<i32>(sp) << 2), load<i32>(sp, 4));
}

@inline function hsum(a: v128): f32 {
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
}

@inline function applyRow(row: usize, nMels: i32, spans: usize, weights: usize, out: usize): void {
  let b = 0;
  // four filters at a time: a 4 × 4 transpose-and-add turns their partial sums into one vector
  for (; b + 4 <= nMels; b += 4) {
    const a0 = spanDot4(b, row, spans, weights);
    const a1 = spanDot4(b + 1, row, spans, weights);
    const a2 = spanDot4(b + 2, row, spans, weights);
    const a3 = spanDot4(b + 3, row, spans, weights);
    const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
    const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
    const r = f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
    v128.store(out + (<usize>b << 2), r);
  }
  for (; b < nMels; b++) store<f32>(out + (<usize>b << 2), hsum(spanDot4(b, row, spans, weights)));
}

/**
 * mel[t, b] = Σ_k mag[t, k]·fb[b, k] with the sparse filterbank; mag rows are magStride floats
 * apart (the spans never reach past the nBinsUsed the filterbank was sparsified with).
 */
export function melApplySparse(mag: usize, nFrames: i32, magStride: i32, nMels: i32, spans: usize, weights: usize, out: usize): void {
  for (let t = 0; t < nFrames; t++) {
    applyRow(mag + (<usize>t * <usize>magStride << 2), nMels, spans, weights, out + (<usize>t * <usize>nMels << 2));
  }
}

// ---- log and z-score ------------------------------------------------------------------------

// Natural log of four positive normal floats: Cephes' logf (S. Moshier) range reduction and
// polynomial, max relative error ≈ 1e-7 on positive normals. The caller guarantees x ≥ floor > 0.
@inline function log4(x: v128): v128 {
  const bits = x;
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const small = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  // m < √½: e −= 1, m = 2m − 1; else m = m − 1
  e = i32x4.add(e, small); // small lanes are −1
  const mAdj = v128.and(m, small);
  m = f32x4.sub(f32x4.add(m, mAdj), f32x4.splat(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let y = f32x4.splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.1514610310e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(1.1676998740e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, m), f32x4.splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  let r = f32x4.add(m, y);
  r = f32x4.add(r, f32x4.mul(ef, f32x4.splat(0.693359375)));
  return r;
}

@inline function log1(x: f32): f32 {
  return f32x4.extract_lane(log4(f32x4.splat(x)), 0);
}

/** out[i] = ln(max(x[i], floor)) for n values (out may equal x). floor must be a positive normal. */
export function melLogFloor(x: usize, out: usize, n: i32, floor: f32): void {
  const fl = f32x4.splat(floor);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, log4(f32x4.max(v128.load(x + o), fl)));
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), log1(v > floor ? v : floor));
  }
}

@inline function zscoreRow(x: usize, out: usize, nMels: i32, mean: usize, std: usize): void {
  let b = 0;
  for (; b + 4 <= nMels; b += 4) {
    const o = <usize>b << 2;
    v128.store(out + o, f32x4.div(f32x4.sub(v128.load(x + o), v128.load(mean + o)), v128.load(std + o)));
  }
  for (; b < nMels; b++) {
    const o = <usize>b << 2;
    store<f32>(out + o, (load<f32>(x + o) - load<f32>(mean + o)) / load<f32>(std + o));
  }
}

/** out[t, b] = (x[t, b] − mean[b]) / std[b] over nFrames × nMels (out may equal x). */
export function melZScore(x: usize, out: usize, nFrames: i32, nMels: i32, mean: usize, std: usize): void {
  for (let t = 0; t < nFrames; t++) {
    const o = <usize>t * <usize>nMels << 2;
    zscoreRow(x + o, out + o, nMels, mean, std);
  }
}

// ---- the fused front end --------------------------------------------------------------------

/** Frames of a signal of n samples: frame t covers [hop·t, hop·t + frameLength); none if n < frameLength. */
export function melFrameCount(n: i32, frameLength: i32, hop: i32): i32 {
  return n < frameLength ? 0 : (n - frameLength) / hop + 1;
}

/** Bytes of the per-frame magnitude row scratch the fused front end needs (nBinsUsed floats, padded). */
export function melRowScratchBytes(nBinsUsed: i32): i32 {
  return (((nBinsUsed + 4) << 2) + 15) & ~15;
}

/**
 * The fused log-mel front end: for every frame t of `signal` (frames of nfft samples, hop apart,
 * no centring; a window shorter than nfft is centred in the frame, as in ./stft),
 * |rfft(window · frame)| (mode 0; power if mode 1) over the first nBinsUsed bins into `row`,
 * the sparse mel filterbank, ln(max(·, floor)) and, when `mean` is
 * non-zero, (· − mean[b]) / std[b]; written to out[t·nMels …]. Returns the number of frames.
 * plan / scratch are the FFT plan and scratch of ./fft for nfft; row holds melRowScratchBytes.
 */
export function melFrontEnd(
  signal: usize, n: i32, hop: i32, win: usize, winLength: i32, nfft: i32, nBinsUsed: i32, mode: i32,
  nMels: i32, spans: usize, weights: usize, floor: f32, mean: usize, std: usize,
  out: usize, row: usize, plan: usize, scratch: usize,
): i32 {
  const nFrames = melFrameCount(n, nfft, hop);
  for (let t = 0; t < nFrames; t++) {
    stftMagnitudeRow(signal + (<usize>t * <usize>hop << 2), win, winLength, nfft, nBinsUsed, mode, row, plan, scratch);
    const o = out + (<usize>t * <usize>nMels << 2);
    applyRow(row, nMels, spans, weights, o);
    melLogFloor(o, o, nMels, floor);
    if (mean != 0) zscoreRow(o, o, nMels, mean, std);
  }
  return nFrames;
}

/** Index of the first NaN / ±Infinity among n floats, or −1 (checks a signal cheaply before use). */
export function melFirstNonFinite(x: usize, n: i32): i32 {
  let i = 0;
  // x − x is 0 for finite x and NaN otherwise; scan four at a time, then find the lane
  for (; i + 16 <= n; i += 16) {
    const o = x + (<usize>i << 2);
    const a = v128.load(o), b = v128.load(o, 16), c = v128.load(o, 32), d = v128.load(o, 48);
    const s = f32x4.add(f32x4.add(f32x4.sub(a, a), f32x4.sub(b, b)), f32x4.add(f32x4.sub(c, c), f32x4.sub(d, d)));
    if (!v128.all_true<i32>(f32x4.eq(s, s))) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}
