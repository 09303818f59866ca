// The real FFT family of the ABI (numbers and pointers only): plan and scratch sizes, plan
// initialisation, forward and inverse real FFTs. The engine (a split-format Stockham radix-4
// complex FFT of size n/2 with f32x4 SIMD, plus the real-input post-processing) is in
// fft_core.ts, which index.ts does not re-export. Conventions follow NumPy: rfft unnormalised,
// irfft scaled by 1/n (docs/stft.md).
import { planBytes, planInit, scratchBytes, rfftInto, irfftInto } from './fft_core';

/** Bytes of a plan for a real FFT of size n; 0 unless n is a power of two in 64…16384. */
export function fftPlanBytes(n: i32): i32 {
  return planBytes(n);
}

/** Write the plan (twiddles) for size n into fftPlanBytes(n) bytes at `plan`. */
export function fftPlanInit(n: i32, plan: usize): void {
  planInit(n, plan);
}

/** Bytes of scratch that rfft, irfft and every kernel of stft.ts need for size n. */
export function fftScratchBytes(n: i32): i32 {
  return scratchBytes(n);
}

/**
 * Real FFT like numpy.fft.rfft: n f32 at `input`, n/2+1 bins at `out` interleaved re,im
 * (n+2 f32), unnormalised. May run in place (input == out with n+2 floats); neither may
 * overlap the scratch.
 */
export function rfft(plan: usize, n: i32, input: usize, out: usize, scratch: usize): void {
  rfftInto(plan, n, input, out, scratch);
}

/**
 * Inverse real FFT like numpy.fft.irfft: n/2+1 interleaved bins at `input` (n+2 f32), n f32 at
 * `out`, scaled by 1/n; the imaginary parts of the DC and Nyquist bins are ignored.
 */
export function irfft(plan: usize, n: i32, input: usize, out: usize, scratch: usize): void {
  irfftInto(plan, n, input, out, scratch);
}
