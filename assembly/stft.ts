// Windows, short-time Fourier transform and its inverse for the front end (methods.md §1: the
// singing-voice detector frames the signal with NumPy's symmetric hanning(1024), hop 315, no
// centring, |rfft|) and for resynthesis (listenable explanations). Conventions follow librosa's
// stft/istft (librosa/core/spectrum.py): frame i covers samples [i·hop, i·hop + nfft) of the
// (already padded) signal; a window shorter than nfft is zero-padded on both sides, centred
// (offset (nfft − winLength) >> 1, as librosa.util.pad_center), so only those samples are read;
// the inverse is librosa's weighted overlap-add divided by Σ window² where that sum is above the
// smallest normal f32. All buffers belong to the host; nothing here allocates.
import {
  rfftHalf,
  postMagnitude,
  postComplex,
  irfftInto,
  scratchTemp,
} from './fft_core';

const TINY: f32 = 1.1754943508222875e-38; // smallest normal f32, librosa's util.tiny

/**
 * Fill `out` with n window samples. kind 0 = Hann, 1 = Hamming (0.54/0.46), 2 = rectangular.
 * periodic = 0: symmetric (np.hanning(n), np.hamming(n)); periodic = 1: periodic, i.e. the first
 * n of a symmetric window of n + 1 (scipy.signal.get_window('hann', n), librosa's default).
 * n = 1 gives [1] in both conventions, like NumPy and SciPy.
 */
export function windowFill(kind: i32, periodic: i32, n: i32, out: usize): void {
  if (n <= 0) return;
  if (n == 1 || kind == 2) {
    for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), 1.0);
    return;
  }
  const denom = <f64>(periodic ? n : n - 1);
  const a0: f64 = kind == 1 ? 0.54 : 0.5;
  const a1: f64 = 1.0 - a0;
  const step = (2.0 * Math.PI) / denom;
  for (let i = 0; i < n; i++) {
    store<f32>(out + (<usize>i << 2), <f32>(a0 - a1 * Math.cos(step * <f64>i)));
  }
}

/**
 * The windowed frame of nfft samples from `frame` (window `win` of winLength, centred) as the
 * real FFT's half spectrum in the scratch; returns the scratch buffer index that holds it.
 */
function windowedHalf(frame: usize, win: usize, winLength: i32, nfft: i32, plan: usize, scratch: usize): i32 {
  if (winLength == nfft) return rfftHalf(plan, nfft, frame, win, scratch);
  const M = nfft >> 1;
  const tmp = scratchTemp(scratch, M);
  memory.fill(tmp, 0, <usize>nfft << 2);
  const off = <usize>((nfft - winLength) >> 1) << 2;
  const src = frame + off;
  const dst = tmp + off;
  const end = <usize>winLength << 2;
  let t: usize = 0;
  for (; t + 16 <= end; t += 16) {
    v128.store(dst + t, f32x4.mul(v128.load(src + t), v128.load(win + t)));
  }
  for (; t < end; t += 4) store<f32>(dst + t, load<f32>(src + t) * load<f32>(win + t));
  return rfftHalf(plan, nfft, tmp, 0, scratch);
}

/**
 * One STFT frame: the nfft samples at `frame` (only the centred winLength of them are read),
 * times `win`, real FFT, then bins 0 … nBinsOut−1 (nBinsOut ≤ nfft/2 + 1) as magnitude
 * (mode 0) or power (mode 1) into outRow. Only the bins asked for are computed. Needs a plan
 * and fftScratchBytes(nfft) of scratch for nfft.
 */
export function stftMagnitudeRow(
  frame: usize,
  win: usize,
  winLength: i32,
  nfft: i32,
  nBinsOut: i32,
  mode: i32,
  outRow: usize,
  plan: usize,
  scratch: usize,
): void {
  const which = windowedHalf(frame, win, winLength, nfft, plan, scratch);
  postMagnitude(plan, nfft, scratch, which, nBinsOut, mode, outRow);
}

/**
 * nFrames STFT frames of `signal`: frame i starts at sample i·hop (the caller pads). mode 0 =
 * magnitude, 1 = power (nBinsOut floats per frame), 2 = complex (nBinsOut interleaved re,im
 * pairs, 2·nBinsOut floats per frame). Output row-major, frames × bins.
 */
export function stftFrames(
  signal: usize,
  nFrames: i32,
  hop: i32,
  win: usize,
  winLength: i32,
  nfft: i32,
  mode: i32,
  nBinsOut: i32,
  out: usize,
  plan: usize,
  scratch: usize,
): void {
  const M = nfft >> 1;
  const hopBytes = <usize>hop << 2;
  if (mode != 2) {
    const rowBytes = <usize>nBinsOut << 2;
    for (let i = 0; i < nFrames; i++) {
      const which = windowedHalf(signal + <usize>i * hopBytes, win, winLength, nfft, plan, scratch);
      postMagnitude(plan, nfft, scratch, which, nBinsOut, mode, out + <usize>i * rowBytes);
    }
    return;
  }
  const rowBytes = <usize>nBinsOut << 3;
  const full = nBinsOut == M + 1;
  const tmp = scratchTemp(scratch, M);
  for (let i = 0; i < nFrames; i++) {
    const which = windowedHalf(signal + <usize>i * hopBytes, win, winLength, nfft, plan, scratch);
    const row = out + <usize>i * rowBytes;
    if (full) postComplex(plan, nfft, scratch, which, row);
    else {
      postComplex(plan, nfft, scratch, which, tmp);
      memory.copy(row, tmp, rowBytes);
    }
  }
}

/**
 * Inverse of stftFrames mode 2 (all nfft/2 + 1 bins per frame, n + 2 floats): weighted
 * overlap-add of irfft(frame)·window at i·hop into out (outLength floats; samples past it are
 * dropped), divided by the overlap-added window² (accumulated in wsum, outLength floats) where
 * that is above the smallest normal f32; elsewhere the sample is left as the (zero-weighted) sum.
 */
export function istftFrames(
  spec: usize,
  nFrames: i32,
  hop: i32,
  win: usize,
  winLength: i32,
  nfft: i32,
  out: usize,
  outLength: i32,
  wsum: usize,
  plan: usize,
  scratch: usize,
): void {
  const M = nfft >> 1;
  const tmp = scratchTemp(scratch, M);
  memory.fill(out, 0, <usize>outLength << 2);
  memory.fill(wsum, 0, <usize>outLength << 2);
  const off = (nfft - winLength) >> 1;
  const specRow = <usize>(nfft + 2) << 2;
  for (let i = 0; i < nFrames; i++) {
    const start = i * hop + off;
    if (start >= outLength) break;
    irfftInto(plan, nfft, spec + <usize>i * specRow, tmp, scratch);
    const len = min(winLength, outLength - start);
    const o = out + (<usize>start << 2);
    const ws = wsum + (<usize>start << 2);
    const y = tmp + (<usize>off << 2);
    const end = <usize>len << 2;
    let t: usize = 0;
    for (; t + 16 <= end; t += 16) {
      const w = v128.load(win + t);
      v128.store(o + t, f32x4.add(v128.load(o + t), f32x4.mul(v128.load(y + t), w)));
      v128.store(ws + t, f32x4.add(v128.load(ws + t), f32x4.mul(w, w)));
    }
    for (; t < end; t += 4) {
      const w = load<f32>(win + t);
      store<f32>(o + t, load<f32>(o + t) + load<f32>(y + t) * w);
      store<f32>(ws + t, load<f32>(ws + t) + w * w);
    }
  }
  for (let j = 0; j < outLength; j++) {
    const p = <usize>j << 2;
    const s = load<f32>(wsum + p);
    if (s > TINY) store<f32>(out + p, load<f32>(out + p) / s);
  }
}
