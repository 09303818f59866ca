/**
 * Typed bindings of the source-separation kernels (assembly/separate.ts, docs/separate.md):
 * median filters and HPSS masks (Fitzgerald 2010, librosa.decompose.hpss), the REPET-SIM mask
 * (Rafii & Pardo 2012), β-NMF (Févotte & Idier 2011) and mask application on complex spectra.
 * Spectrograms are frames × bins, row-major, f32 (the layout of `stft`). Every size and option is
 * checked here before anything reaches wasm.
 */
import { EarshotError, check, checkArray, checkFinite, checkInt, checkNumber } from './errors.ts';
import { core } from './wasm.ts';

type Fn = (...a: number[]) => void;
const k = (name: string): Fn => core().exports[name] as Fn;

function checkMag(mag: unknown, nFrames: unknown, nBins: unknown, name = 'mag'): { mag: Float32Array; T: number; F: number } {
  const T = checkInt(nFrames, 'nFrames', 1);
  const F = checkInt(nBins, 'nBins', 1);
  const m = checkArray(mag, Float32Array, name, T * F);
  checkFinite(m, name);
  for (let i = 0; i < m.length; i++) {
    if (m[i]! < 0) throw new EarshotError('BAD_ARGUMENT', `${name} must be a magnitude spectrogram (≥ 0), got ${m[i]} at index ${i}`);
  }
  return { mag: m, T, F };
}

function checkKeys(opts: unknown, name: string, allowed: readonly string[]): Record<string, unknown> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new EarshotError('BAD_ARGUMENT', `${name} must be an object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) throw new EarshotError('BAD_ARGUMENT', `unknown ${name} option '${key}' (allowed: ${allowed.join(', ')})`);
  }
  return opts as Record<string, unknown>;
}

/** Largest median kernel accepted (the sorted window is kept by insertion). */
export const MAX_MEDIAN_KERNEL = 1023;

/**
 * Median filter of a frames × bins spectrogram along `axis` ('time': each bin over frames;
 * 'frequency': each frame over bins), scipy.ndimage.median_filter with mode 'reflect' and a
 * kernel of `kernel` cells on that axis (for even kernels the upper median, as SciPy).
 */
export function medianFilter(mag: Float32Array, nFrames: number, nBins: number, kernel: number, axis: 'time' | 'frequency'): Float32Array {
  const m = checkMag(mag, nFrames, nBins);
  checkInt(kernel, 'kernel', 1, MAX_MEDIAN_KERNEL);
  check(axis === 'time' || axis === 'frequency', `axis must be 'time' or 'frequency', got ${JSON.stringify(axis)}`);
  const c = core();
  return c.arena.scope((s) => {
    const src = s.copyIn(m.mag);
    const dst = s.f32(m.mag.length);
    const scr = s.f32(kernel);
    k('medianFilterAxis')(src.ptr, m.T, m.F, kernel, axis === 'time' ? 0 : 1, dst.ptr, scr.ptr);
    return dst.f32(m.mag.length).slice();
  });
}

export interface HpssOptions {
  /** Median kernel along time for the harmonic part (frames). Default 31 (librosa). */
  kernelHarmonic?: number;
  /** Median kernel along frequency for the percussive part (bins). Default 31 (librosa). */
  kernelPercussive?: number;
  /** Soft-mask exponent p > 0: H^p / (H^p + P^p). Default 2 (librosa). */
  power?: number;
  /** librosa's margin ≥ 1 (one number for both, or [harmonic, percussive]). Default 1: no residual. */
  margin?: number | [number, number];
}
export const HPSS_KEYS = ['kernelHarmonic', 'kernelPercussive', 'power', 'margin'] as const;

export interface HpssMasks {
  harmonic: Float32Array;
  percussive: Float32Array;
  /** 1 − harmonic − percussive; present only when a margin is above 1. */
  residual?: Float32Array;
}

/** Validate HPSS options and fill in the defaults. */
export function hpssOptions(options?: HpssOptions): Required<Omit<HpssOptions, 'margin'>> & { margin: [number, number] } {
  const o = checkKeys(options, 'hpss', HPSS_KEYS);
  const kh = o.kernelHarmonic === undefined ? 31 : checkInt(o.kernelHarmonic, 'kernelHarmonic', 1, MAX_MEDIAN_KERNEL);
  const kp = o.kernelPercussive === undefined ? 31 : checkInt(o.kernelPercussive, 'kernelPercussive', 1, MAX_MEDIAN_KERNEL);
  const power = o.power === undefined ? 2 : checkNumber(o.power, 'power', Number.MIN_VALUE, 1e6);
  let margin: [number, number];
  if (o.margin === undefined) margin = [1, 1];
  else if (Array.isArray(o.margin)) {
    check(o.margin.length === 2, `margin must be a number or [harmonic, percussive], got an array of ${o.margin.length}`);
    margin = [checkNumber(o.margin[0], 'margin[0]', 1, 1e6), checkNumber(o.margin[1], 'margin[1]', 1, 1e6)];
  } else {
    const m = checkNumber(o.margin, 'margin', 1, 1e6);
    margin = [m, m];
  }
  return { kernelHarmonic: kh, kernelPercussive: kp, power, margin };
}

/** HPSS soft masks of a magnitude spectrogram (frames × bins); they sum to one in every cell. */
export function hpssMasks(mag: Float32Array, nFrames: number, nBins: number, options?: HpssOptions): HpssMasks {
  const m = checkMag(mag, nFrames, nBins);
  const o = hpssOptions(options);
  const n = m.mag.length;
  const withResidual = o.margin[0] !== 1 || o.margin[1] !== 1;
  return core().arena.scope((s) => {
    const src = s.copyIn(m.mag);
    const h = s.f32(n);
    const p = s.f32(n);
    const scr = s.f32(Math.max(o.kernelHarmonic, o.kernelPercussive));
    k('medianFilterAxis')(src.ptr, m.T, m.F, o.kernelHarmonic, 0, h.ptr, scr.ptr);
    k('medianFilterAxis')(src.ptr, m.T, m.F, o.kernelPercussive, 1, p.ptr, scr.ptr);
    const mh = s.f32(n);
    const mp = s.f32(n);
    const mr = s.f32(n);
    k('hpssMasks')(h.ptr, p.ptr, n, o.power, o.margin[0], o.margin[1], mh.ptr, mp.ptr, mr.ptr);
    const out: HpssMasks = { harmonic: mh.f32(n).slice(), percussive: mp.f32(n).slice() };
    if (withResidual) out.residual = mr.f32(n).slice();
    return out;
  });
}

export interface RepetOptions {
  /** Most similar frames whose median makes the repeating magnitude. Default 20. */
  k?: number;
  /** Minimum distance between picked frames, in frames. Default 1 (no constraint). */
  minDistance?: number;
  /** Minimum cosine similarity of a picked frame. Default 0 (Rafii & Pardo's code). */
  threshold?: number;
}
export const REPET_KEYS = ['k', 'minDistance', 'threshold'] as const;
/** Frames of the largest REPET-SIM input (its similarity matrix is then 1 GiB). */
export const MAX_REPET_FRAMES = 16384;

/** Frame-by-frame cosine similarity (nFrames × nFrames). */
export function frameSimilarity(mag: Float32Array, nFrames: number, nBins: number): Float32Array {
  const m = checkMag(mag, nFrames, nBins);
  check(m.T <= MAX_REPET_FRAMES, `nFrames must be ≤ ${MAX_REPET_FRAMES} for a frame-similarity matrix, got ${m.T}`, 'TOO_LARGE');
  return core().arena.scope((s) => {
    const src = s.copyIn(m.mag);
    const sim = s.f32(m.T * m.T);
    const norms = s.f32(m.T);
    k('frameCosineSimilarity')(src.ptr, m.T, m.F, sim.ptr, norms.ptr);
    return sim.f32(m.T * m.T).slice();
  });
}

/** REPET-SIM repeating-background soft mask (frames × bins, in [0, 1]); foreground = 1 − mask. */
export function repetSimMask(mag: Float32Array, nFrames: number, nBins: number, options?: RepetOptions): Float32Array {
  const m = checkMag(mag, nFrames, nBins);
  const o = checkKeys(options, 'repet', REPET_KEYS);
  const kk = o.k === undefined ? 20 : checkInt(o.k, 'k', 1, 10000);
  const minDistance = o.minDistance === undefined ? 1 : checkInt(o.minDistance, 'minDistance', 1);
  const threshold = o.threshold === undefined ? 0 : checkNumber(o.threshold, 'threshold', -1, 1);
  const T = m.T;
  check(T <= MAX_REPET_FRAMES, `REPET-SIM's similarity matrix needs nFrames² floats: nFrames must be ≤ ${MAX_REPET_FRAMES} (≈ 6 min at 22 050 Hz, hop 512), got ${T}; separate shorter excerpts`, 'TOO_LARGE');
  const n = m.mag.length;
  return core().arena.scope((s) => {
    const src = s.copyIn(m.mag);
    const sim = s.f32(T * T);
    const norms = s.f32(T);
    k('frameCosineSimilarity')(src.ptr, T, m.F, sim.ptr, norms.ptr);
    const mask = s.f32(n);
    const scr = s.alloc(4 * (T + 2 * kk));
    k('repetSimMask')(src.ptr, sim.ptr, T, m.F, kk, minDistance, threshold, mask.ptr, scr.ptr);
    return mask.f32(n).slice();
  });
}

export interface NmfOptions {
  /** Number of components k ≥ 1. Default 2. */
  components?: number;
  /** β of the β-divergence: 0 Itakura-Saito, 1 Kullback-Leibler, 2 Euclidean. Default 1. */
  beta?: 0 | 1 | 2;
  /** Multiplicative-update iterations. Default 100. */
  iterations?: number;
  /** Seed of the initialisation (mulberry32). Default 0. */
  seed?: number;
}
export const NMF_KEYS = ['components', 'beta', 'iterations', 'seed'] as const;

/** A given initialisation (scikit-learn's init='custom'): positive activations T×k, templates k×F. */
export interface NmfInit {
  activations: Float64Array;
  templates: Float64Array;
}

export interface NmfResult {
  /** Activations, frames × components (H^T in the usual V = W·H with V bins × frames). */
  activations: Float64Array;
  /** Templates, components × bins (W^T). */
  templates: Float64Array;
  /** β-divergence after each iteration; [0] is the initialisation's. Never increases. */
  objective: Float64Array;
  /** Per component, its soft mask (frames × bins); the masks sum to one. */
  masks: Float32Array[];
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function nmfOptions(options?: NmfOptions): Required<NmfOptions> {
  const o = checkKeys(options, 'nmf', NMF_KEYS);
  const components = o.components === undefined ? 2 : checkInt(o.components, 'components', 1, 256);
  const beta = o.beta === undefined ? 1 : o.beta;
  check(beta === 0 || beta === 1 || beta === 2, `beta must be 0 (Itakura-Saito), 1 (Kullback-Leibler) or 2 (Euclidean), got ${String(beta)}`);
  const iterations = o.iterations === undefined ? 100 : checkInt(o.iterations, 'iterations', 0, 100000);
  const seed = o.seed === undefined ? 0 : checkInt(o.seed, 'seed', 0, 2 ** 32 - 1);
  return { components, beta: beta as 0 | 1 | 2, iterations, seed };
}

/**
 * β-NMF of a magnitude spectrogram V (frames × bins) ≈ activations · templates by multiplicative
 * updates. V is floored at 1e-9·max(V) (the IS and KL divergences need V > 0); the initialisation
 * is sklearn's 'random' one: uniform(0, 1]·sqrt(mean(V)/k), drawn from mulberry32(seed).
 */
export function nmf(mag: Float32Array, nFrames: number, nBins: number, options?: NmfOptions, init?: NmfInit): NmfResult {
  const m = checkMag(mag, nFrames, nBins);
  const o = nmfOptions(options);
  const { T, F } = m;
  const K = o.components;
  const n = T * F;
  let peak = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = m.mag[i]!;
    if (v > peak) peak = v;
    sum += v;
  }
  const floor = peak > 0 ? 1e-9 * peak : 1e-12;
  const scale = Math.sqrt((sum / n + floor) / K);
  const rand = mulberry32(o.seed);
  let A = new Float64Array(T * K);
  let B = new Float64Array(K * F);
  if (init === undefined) {
    for (let i = 0; i < A.length; i++) A[i] = (1 - rand()) * scale;
    for (let i = 0; i < B.length; i++) B[i] = (1 - rand()) * scale;
  } else {
    check(init !== null && typeof init === 'object', 'init must be { activations, templates }');
    A = checkArray(init.activations, Float64Array, 'init.activations', T * K).slice();
    B = checkArray(init.templates, Float64Array, 'init.templates', K * F).slice();
    for (const [arr, name] of [[A, 'init.activations'], [B, 'init.templates']] as const) {
      for (let i = 0; i < arr.length; i++) {
        if (!(arr[i]! > 0) || !Number.isFinite(arr[i]!)) throw new EarshotError('BAD_ARGUMENT', `${name} must be positive and finite, got ${arr[i]} at index ${i}`);
      }
    }
  }
  const V = new Float64Array(n);
  for (let i = 0; i < n; i++) V[i] = m.mag[i]! + floor;
  return core().arena.scope((s) => {
    const vb = s.copyIn(V);
    const ab = s.copyIn(A);
    const bb = s.copyIn(B);
    const obj = s.f64(o.iterations + 1);
    const scr = s.f64(3 * n + 2 * K * F);
    k('nmfBeta')(vb.ptr, T, F, K, o.beta, o.iterations, ab.ptr, bb.ptr, obj.ptr, scr.ptr);
    const acc = s.f32(n);
    acc.f32(n).fill(0);
    const mb = s.f32(n);
    const masks: Float32Array[] = [];
    for (let c = 0; c < K; c++) {
      k('nmfMask')(ab.ptr, bb.ptr, T, F, K, c, mb.ptr, acc.ptr);
      masks.push(mb.f32(n).slice());
    }
    const objective = obj.f64(o.iterations + 1).slice();
    for (let i = 0; i < objective.length; i++) {
      if (!Number.isFinite(objective[i]!)) throw new EarshotError('NOT_FINITE', `nmf: the objective became ${objective[i]} at iteration ${i}`);
    }
    return { activations: ab.f64(T * K).slice(), templates: bb.f64(K * F).slice(), objective, masks };
  });
}

/** |X| of an interleaved complex spectrum (re, im pairs). */
export function complexMagnitude(spec: Float32Array): Float32Array {
  checkArray(spec, Float32Array, 'spec');
  check(spec.length % 2 === 0, `spec must hold (re, im) pairs, got an odd length ${spec.length}`, 'BAD_SHAPE');
  checkFinite(spec, 'spec');
  const n = spec.length / 2;
  return core().arena.scope((s) => {
    const sb = s.copyIn(spec);
    const ob = s.f32(n);
    k('complexMagnitude')(sb.ptr, n, ob.ptr);
    return ob.f32(n).slice();
  });
}

/** mask ⊙ spec for an interleaved complex spectrum (2n floats) and a real mask (n floats). */
export function applyMask(spec: Float32Array, mask: Float32Array): Float32Array {
  checkArray(spec, Float32Array, 'spec');
  checkArray(mask, Float32Array, 'mask', spec.length / 2);
  check(spec.length % 2 === 0, `spec must hold (re, im) pairs, got an odd length ${spec.length}`, 'BAD_SHAPE');
  checkFinite(mask, 'mask');
  const n = mask.length;
  return core().arena.scope((s) => {
    const sb = s.copyIn(spec);
    const mb = s.copyIn(mask);
    const ob = s.f32(2 * n);
    k('applyMaskComplex')(sb.ptr, mb.ptr, n, ob.ptr);
    return ob.f32(2 * n).slice();
  });
}
