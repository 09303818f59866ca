// The adjoint (backward pass) of the fused log-mel front end of ./mel (melFrontEnd, methods.md §1:
// frames without centring → window → |rfft| of the first nBinsUsed bins → sparse mel →
// ln(max(·, floor)) → per-band z-score), so a waveform-domain attack (methods.md §6) can get
// dL/dsignal from dL/dY without TF.js's missing FFT kernels. The chain, per frame t
// (docs/frontend-grad.md derives each step):
//   g_y = dY[t] / std;  g_mel = g_y / mel where mel ≥ floor (torch.clamp's convention), else 0;
//   g_mag = FBᵀ · g_mel (sparse);  G_k = g_mag_k · X_k / |X_k| (0 where |X_k| = 0, k < nBinsUsed);
//   g_frame = rfftᵀ(G) = irfft of the Hermitian spectrum (N·G_0, N/2·G_k, N·G_M);
//   dSignal[hop·t + i] += win[i] · g_frame[i].
// The forward spectrum X is recomputed (one FFT per frame), so nothing is kept between calls.
// Numbers and pointers only; the host's arena owns every buffer.
import { rfftHalf, postComplex, postMagnitude, irfftInto } from './fft_core';
import { melApplySparse, melFrameCount } from './mel';

/**
 * In place on `spec` (n + 2 floats, interleaved bins): scale the first nBins bins so that the
 * inverse real FFT yields the adjoint of the forward rfft restricted to those bins, zero the rest,
 * then write rfftᵀ(G) (n real floats) to out. With X_k = Σ_n x_n e^{−2πikn/N},
 * ∂L/∂x_n = Σ_k Re(G_k) cos θ − Im(G_k) sin θ = Re Σ_k G_k e^{iθ}, while irfft(Y)_n =
 * (Y_0 + Y_M(−1)^n + 2 Re Σ_{0<k<M} Y_k e^{iθ}) / N: so Y_0 = N·G_0, Y_M = N·G_M, Y_k = N/2·G_k.
 * The imaginary parts of G_0 and G_M are ignored, as Im X_0 = Im X_M = 0 for every real x.
 * out may alias spec (irfftInto reads all of its input before it writes).
 */
@inline function adjointInPlace(plan: usize, n: i32, spec: usize, nBins: i32, out: usize, scratch: usize): void {
  const M = n >> 1;
  const half = f32x4.splat(<f32>(<f64>n * 0.5));
  const used = <usize>nBins << 3;
  let j: usize = 0;
  for (; j + 16 <= used; j += 16) v128.store(spec + j, f32x4.mul(v128.load(spec + j), half));
  for (; j < used; j += 4) store<f32>(spec + j, load<f32>(spec + j) * <f32>(<f64>n * 0.5));
  memory.fill(spec + used, 0, (<usize>(M + 1) << 3) - used);
  store<f32>(spec, load<f32>(spec) * 2);
  if (nBins > M) store<f32>(spec + (<usize>M << 3), load<f32>(spec + (<usize>M << 3)) * 2);
  irfftInto(plan, n, spec, out, scratch);
}

/**
 * The adjoint of the real FFT restricted to bins 0 … nBins−1: `grad` holds nBins interleaved
 * (re, im) cotangents G_k of X = rfft(x); writes ∂⟨X, G⟩/∂x (n floats) to out. `spec` is n + 2
 * floats of scratch; plan and scratch are ./fft's for n. (Exported for the adjoint-identity test.)
 */
export function rfftAdjoint(plan: usize, n: i32, grad: usize, nBins: i32, out: usize, spec: usize, scratch: usize): void {
  memory.copy(spec, grad, <usize>nBins << 3);
  adjointInPlace(plan, n, spec, nBins, out, scratch);
}

@inline function r4(v: i32): i32 {
  return (v + 3) & ~3;
}

/** Floats of the scratch `work` buffer frontEndBackward needs (keeps every part 16-byte aligned). */
export function frontEndGradWorkFloats(nfft: i32, nBinsUsed: i32, nMels: i32): i32 {
  return r4(nfft + 2) + 2 * r4(nBinsUsed + 4) + r4(nMels + 4);
}

/**
 * dSignal (n floats, overwritten) = the gradient of Σ dY ⊙ melFrontEnd(signal) with respect to
 * signal, for melFrontEnd's magnitude mode with a window of nfft samples. dY is nFrames × nMels;
 * std = 0 means no z-score (the log-mel itself). `work` holds frontEndGradWorkFloats floats;
 * plan / scratch are ./fft's for nfft. Returns the number of frames.
 */
export function frontEndBackward(
  signal: usize, n: i32, hop: i32, win: usize, nfft: i32, nBinsUsed: i32,
  nMels: i32, spans: usize, weights: usize, floor: f32, std: usize,
  dY: usize, dSignal: usize, work: usize, plan: usize, scratch: usize,
): i32 {
  const nFrames = melFrameCount(n, nfft, hop);
  memory.fill(dSignal, 0, <usize>n << 2);
  const spec = work;
  const mag = spec + (<usize>r4(nfft + 2) << 2);
  const gmag = mag + (<usize>r4(nBinsUsed + 4) << 2);
  const gmel = gmag + (<usize>r4(nBinsUsed + 4) << 2);
  const M = nfft >> 1;
  for (let t = 0; t < nFrames; t++) {
    const frame = signal + (<usize>t * <usize>hop << 2);
    const which = rfftHalf(plan, nfft, frame, win, scratch);
    // the same magnitudes (and so the same mel and floor decisions) as the forward pass
    postMagnitude(plan, nfft, scratch, which, nBinsUsed, 0, mag);
    postComplex(plan, nfft, scratch, which, spec);
    melApplySparse(mag, 1, nBinsUsed, nMels, spans, weights, gmel);
    // g_mel = dY / std / mel (mel ≥ floor), 0 below the floor, where ln(max(·)) is flat
    const dy = dY + (<usize>t * <usize>nMels << 2);
    const fl = f32x4.splat(floor);
    let b = 0;
    for (; b + 4 <= nMels; b += 4) {
      const o = <usize>b << 2;
      const m = v128.load(gmel + o);
      let g = v128.load(dy + o);
      if (std != 0) g = f32x4.div(g, v128.load(std + o));
      v128.store(gmel + o, v128.and(f32x4.div(g, m), f32x4.ge(m, fl)));
    }
    for (; b < nMels; b++) {
      const o = <usize>b << 2;
      const m = load<f32>(gmel + o);
      let g = load<f32>(dy + o);
      if (std != 0) g /= load<f32>(std + o);
      store<f32>(gmel + o, m >= floor ? g / m : 0);
    }
    // g_mag = FBᵀ g_mel: each filter's run is a multiple of 4 wide (./mel's padding) except tiny ones
    memory.fill(gmag, 0, <usize>nBinsUsed << 2);
    for (b = 0; b < nMels; b++) {
      const sp = spans + (<usize>b * 12);
      const start = load<i32>(sp);
      const len = load<i32>(sp, 4);
      const w = weights + (<usize>load<i32>(sp, 8) << 2);
      const gb = load<f32>(gmel + (<usize>b << 2));
      if (gb == 0) continue;
      const gv = f32x4.splat(gb);
      const dst = gmag + (<usize>start << 2);
      let i = 0;
      for (; i + 4 <= len; i += 4) {
        const o = <usize>i << 2;
        v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(v128.load(w + o), gv)));
      }
      for (; i < len; i++) {
        const o = <usize>i << 2;
        store<f32>(dst + o, load<f32>(dst + o) + load<f32>(w + o) * gb);
      }
    }
    // G_k = g_mag_k / |X_k| · X_k on interleaved (re, im) pairs; 0 where |X_k| = 0
    let k = 0;
    const zero = f32x4.splat(0);
    for (; k + 4 <= nBinsUsed; k += 4) {
      const o = <usize>k << 2;
      const m = v128.load(mag + o);
      const q = v128.and(f32x4.div(v128.load(gmag + o), m), f32x4.gt(m, zero));
      const s = spec + (o << 1);
      v128.store(s, f32x4.mul(v128.load(s), v128.shuffle<f32>(q, q, 0, 0, 1, 1)));
      v128.store(s, f32x4.mul(v128.load(s, 16), v128.shuffle<f32>(q, q, 2, 2, 3, 3)), 16);
    }
    for (; k < nBinsUsed; k++) {
      const m = load<f32>(mag + (<usize>k << 2));
      const q: f32 = m > 0 ? load<f32>(gmag + (<usize>k << 2)) / m : 0;
      const s = spec + (<usize>k << 3);
      store<f32>(s, load<f32>(s) * q);
      store<f32>(s, load<f32>(s, 4) * q, 4);
    }
    const nb = nBinsUsed < M + 1 ? nBinsUsed : M + 1;
    adjointInPlace(plan, nfft, spec, nb, spec, scratch);
    // × window, overlap-add
    const dst = dSignal + (<usize>t * <usize>hop << 2);
    const end = <usize>nfft << 2;
    let j: usize = 0;
    for (; j + 16 <= end; j += 16) {
      v128.store(dst + j, f32x4.add(v128.load(dst + j), f32x4.mul(v128.load(spec + j), v128.load(win + j))));
    }
    for (; j < end; j += 4) store<f32>(dst + j, load<f32>(dst + j) + load<f32>(spec + j) * load<f32>(win + j));
  }
  return nFrames;
}
