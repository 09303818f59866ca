/**
 * Peer implementations measured beside earshot in bench/run.ts. Each computes the singing-voice
 * front end (methods.md §1: symmetric Hann 1024, hop 315, no centring, |rfft|, first 372 bins,
 * 80 mel bands, log(max(x, 1e-7))) as its library is meant to be used. fft.js and pffft-wasm
 * get the same sparse mel matrix as earshot (so only the transform and plumbing differ); meyda
 * and essentia.js use their own mel stages (as a user of those libraries would).
 */
import { createRequire } from 'node:module';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

const require = createRequire(import.meta.url);

export const SR = 22050;
export const N_FFT = 1024;
export const HOP = 315;
export const N_BINS = 372;
export const N_MELS = 80;

export function hanningSymmetric(n: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
  return w;
}

export const numFrames = (n: number) => (n < N_FFT ? 0 : Math.floor((n - N_FFT) / HOP) + 1);

/** A sparse mel matrix: per band the first bin and its weights (taken from earshot's filterbank). */
export interface SparseMel {
  start: Int32Array;
  weights: Float32Array[];
}

export function sparsify(fb: Float32Array, nBins: number, nMels: number, layout: 'binsxmels' | 'melsxbins'): SparseMel {
  const start = new Int32Array(nMels);
  const weights: Float32Array[] = [];
  for (let m = 0; m < nMels; m++) {
    const at = (k: number) => (layout === 'binsxmels' ? fb[k * nMels + m]! : fb[m * nBins + k]!);
    let a = 0;
    while (a < nBins && at(a) === 0) a++;
    let b = nBins;
    while (b > a && at(b - 1) === 0) b--;
    start[m] = a;
    const w = new Float32Array(b - a);
    for (let k = a; k < b; k++) w[k - a] = at(k);
    weights.push(w);
  }
  return { start, weights };
}

function melLogRow(mag: Float32Array, mel: SparseMel, out: Float32Array, off: number): void {
  for (let m = 0; m < N_MELS; m++) {
    const w = mel.weights[m]!;
    const s = mel.start[m]!;
    let acc = 0;
    for (let k = 0; k < w.length; k++) acc += w[k]! * mag[s + k]!;
    out[off + m] = Math.log(Math.max(acc, 1e-7));
  }
}

/** fft.js 4.0.4 (radix-4, pure JS): realTransform per frame. */
export function fftjsFrontEnd(): (x: Float32Array, mel: SparseMel | null) => Float32Array {
  const FFT = require('fft.js');
  const f = new FFT(N_FFT);
  const win = hanningSymmetric(N_FFT);
  const frame = new Array(N_FFT).fill(0);
  const spec = f.createComplexArray();
  const mag = new Float32Array(N_BINS);
  return (x, mel) => {
    const nF = numFrames(x.length);
    const out = new Float32Array(nF * (mel ? N_MELS : N_BINS));
    for (let i = 0; i < nF; i++) {
      const o = i * HOP;
      for (let k = 0; k < N_FFT; k++) frame[k] = x[o + k]! * win[k]!;
      f.realTransform(spec, frame);
      for (let k = 0; k < N_BINS; k++) { const re = spec[2 * k], im = spec[2 * k + 1]; mag[k] = Math.sqrt(re * re + im * im); }
      if (mel) melLogRow(mag, mel, out, i * N_MELS);
      else out.set(mag, i * N_BINS);
    }
    return out;
  };
}

/** @echogarden/pffft-wasm 0.4.2, SIMD build: pffft_transform_ordered (real) per frame. */
export async function pffftFrontEnd(): Promise<(x: Float32Array, mel: SparseMel | null) => Float32Array> {
  const mod = await import('@echogarden/pffft-wasm/simd');
  const m: any = await (mod as any).default();
  const PFFFT_REAL = 0;
  const FORWARD = 0;
  const setup = m._pffft_new_setup(N_FFT, PFFFT_REAL);
  const inPtr = m._pffft_aligned_malloc(N_FFT * 4);
  const outPtr = m._pffft_aligned_malloc(N_FFT * 4);
  const workPtr = m._pffft_aligned_malloc(N_FFT * 4);
  const win = hanningSymmetric(N_FFT);
  const mag = new Float32Array(N_BINS);
  return (x, mel) => {
    const nF = numFrames(x.length);
    const out = new Float32Array(nF * (mel ? N_MELS : N_BINS));
    for (let i = 0; i < nF; i++) {
      const heap: Float32Array = m.HEAPF32;
      const inp = inPtr >> 2;
      const o = i * HOP;
      for (let k = 0; k < N_FFT; k++) heap[inp + k] = x[o + k]! * win[k]!;
      m._pffft_transform_ordered(setup, inPtr, outPtr, workPtr, FORWARD);
      const op = outPtr >> 2;
      // ordered real output: [r0, r(N/2), r1, i1, r2, i2, …]
      mag[0] = Math.abs(heap[op]!);
      for (let k = 1; k < N_BINS; k++) { const re = heap[op + 2 * k]!, im = heap[op + 2 * k + 1]!; mag[k] = Math.sqrt(re * re + im * im); }
      if (mel) melLogRow(mag, mel, out, i * N_MELS);
      else out.set(mag, i * N_BINS);
    }
    return out;
  };
}

/** meyda 5.6.3: amplitudeSpectrum / melBands features per frame (its own mel filterbank). */
export function meydaFrontEnd(): (x: Float32Array, withMel: boolean) => Float32Array {
  const Meyda = require('meyda');
  Meyda.bufferSize = N_FFT;
  Meyda.sampleRate = SR;
  Meyda.windowingFunction = 'hanning';
  Meyda.melBands = N_MELS;
  return (x, withMel) => {
    const nF = numFrames(x.length);
    const out = new Float32Array(nF * (withMel ? N_MELS : N_BINS));
    for (let i = 0; i < nF; i++) {
      const frame = x.subarray(i * HOP, i * HOP + N_FFT);
      if (withMel) {
        const mb: number[] = Meyda.extract('melBands', frame);
        for (let m = 0; m < N_MELS; m++) out[i * N_MELS + m] = Math.log(Math.max(mb[m]!, 1e-7));
      } else {
        const s: Float32Array = Meyda.extract('amplitudeSpectrum', frame);
        out.set(s.subarray(0, N_BINS), i * N_BINS);
      }
    }
    return out;
  };
}

/** essentia.js 0.1.3: Windowing → Spectrum → MelBands per frame (its own mel stage). */
export function essentiaFrontEnd(): (x: Float32Array, withMel: boolean) => Float32Array {
  const { Essentia, EssentiaWASM } = require('essentia.js');
  const e = new Essentia(EssentiaWASM);
  return (x, withMel) => {
    const nF = numFrames(x.length);
    const out = new Float32Array(nF * (withMel ? N_MELS : N_BINS));
    for (let i = 0; i < nF; i++) {
      const v = e.arrayToVector(x.subarray(i * HOP, i * HOP + N_FFT));
      const w = e.Windowing(v, false, N_FFT, 'hann');
      const s = e.Spectrum(w.frame, N_FFT);
      if (withMel) {
        const mb = e.MelBands(s.spectrum, 8000, N_FFT / 2 + 1, true, 27.5, 'unit_sum', N_MELS, SR, 'magnitude', 'htkMel', 'warping');
        out.set(e.vectorToArray(mb.bands), i * N_MELS);
        mb.bands.delete();
      } else {
        out.set(e.vectorToArray(s.spectrum).subarray(0, N_BINS), i * N_BINS);
      }
      s.spectrum.delete();
      w.frame.delete();
      v.delete();
    }
    return out;
  };
}

/**
 * The weighted ridge of methods.md §3 on ml-matrix (the JS matrix-library peer of earshot's wasm
 * `weightedRidge`): weighted means, centred rows scaled by √w, (X̃ᵀX̃ + αI) β = X̃ᵀỹ by Cholesky.
 * Z: n × d row-major (0/1 LIME rows or any values).
 */
export function mlMatrixRidge(Z: ArrayLike<number>, y: Float64Array, w: Float64Array, n: number, d: number, alpha = 1): Float64Array {
  let sw = 0;
  let ybar = 0;
  const xbar = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    sw += w[i]!;
    ybar += w[i]! * y[i]!;
    for (let j = 0; j < d; j++) xbar[j]! += w[i]! * Z[i * d + j]!;
  }
  ybar /= sw;
  for (let j = 0; j < d; j++) xbar[j]! /= sw;
  const Xs = new Matrix(n, d);
  const ys = new Matrix(n, 1);
  for (let i = 0; i < n; i++) {
    const s = Math.sqrt(w[i]!);
    for (let j = 0; j < d; j++) Xs.set(i, j, s * (Z[i * d + j]! - xbar[j]!));
    ys.set(i, 0, s * (y[i]! - ybar));
  }
  const Xt = Xs.transpose();
  const A = Xt.mmul(Xs);
  for (let j = 0; j < d; j++) A.set(j, j, A.get(j, j) + alpha);
  return Float64Array.from(new CholeskyDecomposition(A).solve(Xt.mmul(ys)).getColumn(0));
}
