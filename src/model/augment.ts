/**
 * Data augmentation for training the singing-voice CNN, as cheap spectrogram-domain operations
 * on log-mel excerpts before z-scoring (methods.md §2: the reference trains with random pitch
 * shift and time stretch and ±10 dB loudness changes; we add mixing with accompaniment):
 * - time stretch: the excerpt is resampled along time around its centre frame by a factor s
 *   (linear interpolation), so the centre frame — and its label — stays put;
 * - pitch shift: resampled along the mel axis by a factor p (band b reads band b / p; bands
 *   beyond the top read the top band), a small-shift approximation of moving the harmonics;
 * - gain: + g·ln(10)/20 on every value above the log floor (|X| scales by 10^(g/20)), floored;
 * - mixing: another excerpt's non-vocal spectrum (an accompaniment stem) is added in the linear
 *   mel domain at a random relative level, log(exp(a) + 10^(r/20)·exp(b)).
 * Every draw comes from a seeded generator, so a seed fixes the whole augmentation stream.
 */
import { EarshotError, checkNumber } from '../../bindings/errors.ts';

export interface AugmentOptions {
  /** Largest time-stretch deviation, e.g. 0.1 = factors in [0.9, 1.1] (0 = off). */
  timeStretch?: number;
  /** Largest pitch-shift deviation along the mel axis, e.g. 0.05 (0 = off). */
  pitchShift?: number;
  /** Largest gain change in dB (±), e.g. 10 (0 = off). */
  gainDb?: number;
  /** Probability of mixing an accompaniment excerpt into an example (0 = off). */
  mixProbability?: number;
  /** Relative level range of the mixed-in excerpt in dB, e.g. [-12, 0]. */
  mixDb?: [number, number];
}

export const DEFAULT_AUGMENT: Readonly<Required<AugmentOptions>> = Object.freeze({
  timeStretch: 0.1,
  pitchShift: 0.05,
  gainDb: 10,
  mixProbability: 0.3,
  mixDb: [-12, 0] as [number, number],
});

export const NO_AUGMENT: Readonly<Required<AugmentOptions>> = Object.freeze({
  timeStretch: 0,
  pitchShift: 0,
  gainDb: 0,
  mixProbability: 0,
  mixDb: [0, 0] as [number, number],
});

/** The accepted range of each augmentation option (checkAugmentOptions and `earshot train`'s flags). */
export const AUGMENT_LIMITS = Object.freeze({
  timeStretch: [0, 0.5],
  pitchShift: [0, 0.5],
  gainDb: [0, 60],
  mixProbability: [0, 1],
  mixDb: [-120, 40],
} as const);

export function checkAugmentOptions(o: unknown): Required<AugmentOptions> {
  if (o === undefined) return { ...DEFAULT_AUGMENT, mixDb: [...DEFAULT_AUGMENT.mixDb] };
  if (typeof o !== 'object' || o === null) throw new EarshotError('BAD_ARGUMENT', `augment must be an object, got ${String(o)}`);
  const known = ['timeStretch', 'pitchShift', 'gainDb', 'mixProbability', 'mixDb'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new EarshotError('BAD_ARGUMENT', `unknown augment option '${k}' (expected ${known.join(', ')})`);
  const a = o as AugmentOptions;
  const mixDb = a.mixDb ?? DEFAULT_AUGMENT.mixDb;
  if (!Array.isArray(mixDb) || mixDb.length !== 2) throw new EarshotError('BAD_ARGUMENT', `augment.mixDb must be [min, max] in dB, got ${JSON.stringify(mixDb)}`);
  checkNumber(mixDb[0], 'augment.mixDb[0]', ...AUGMENT_LIMITS.mixDb);
  checkNumber(mixDb[1], 'augment.mixDb[1]', mixDb[0], AUGMENT_LIMITS.mixDb[1]);
  return {
    timeStretch: checkNumber(a.timeStretch ?? DEFAULT_AUGMENT.timeStretch, 'augment.timeStretch', ...AUGMENT_LIMITS.timeStretch),
    pitchShift: checkNumber(a.pitchShift ?? DEFAULT_AUGMENT.pitchShift, 'augment.pitchShift', ...AUGMENT_LIMITS.pitchShift),
    gainDb: checkNumber(a.gainDb ?? DEFAULT_AUGMENT.gainDb, 'augment.gainDb', ...AUGMENT_LIMITS.gainDb),
    mixProbability: checkNumber(a.mixProbability ?? DEFAULT_AUGMENT.mixProbability, 'augment.mixProbability', ...AUGMENT_LIMITS.mixProbability),
    mixDb: [mixDb[0], mixDb[1]],
  };
}

/** A small, fast, seedable generator (mulberry32) with its state exposed for checkpoints. */
export class Rng {
  state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A derived seed for stream `k` of seed `seed` (so epochs and workers get independent streams). */
export function deriveSeed(seed: number, k: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (k + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The random parameters of one augmented example. */
export interface AugmentDraw {
  stretch: number;
  pitch: number;
  gainDb: number;
  /** Relative level of the mixed-in excerpt in dB, or null for no mixing. */
  mixDb: number | null;
}

export function drawAugment(rng: Rng, o: Required<AugmentOptions>): AugmentDraw {
  const stretch = o.timeStretch > 0 ? rng.uniform(1 - o.timeStretch, 1 + o.timeStretch) : 1;
  const pitch = o.pitchShift > 0 ? rng.uniform(1 - o.pitchShift, 1 + o.pitchShift) : 1;
  const gainDb = o.gainDb > 0 ? rng.uniform(-o.gainDb, o.gainDb) : 0;
  const mix = o.mixProbability > 0 && rng.next() < o.mixProbability;
  return { stretch, pitch, gainDb, mixDb: mix ? rng.uniform(o.mixDb[0], o.mixDb[1]) : null };
}

/**
 * Write one (optionally stretched and pitch-shifted) log-mel excerpt of `frames` frames centred
 * on frame `centre` of a padded log-mel spectrogram `spec` (nRows × nMels, row-major) into
 * `out` at `offset`. Frame t of the excerpt reads spec row centre + (t − ⌊frames/2⌋)·stretch,
 * band b reads band b / pitch, both linearly interpolated and clamped to the spectrogram.
 * With stretch = pitch = 1 this is a plain copy of rows [centre − ⌊frames/2⌋, … + frames).
 */
export function extractExcerpt(
  spec: Float32Array, nRows: number, nMels: number, centre: number, frames: number,
  stretch: number, pitch: number, out: Float32Array, offset: number,
): void {
  const half = Math.floor(frames / 2);
  const plain = stretch === 1 && pitch === 1;
  if (plain) {
    const start = centre - half;
    if (start < 0 || start + frames > nRows) throw new EarshotError('BAD_SHAPE', `excerpt [${start}, ${start + frames}) is outside the ${nRows}-row spectrogram`);
    out.set(spec.subarray(start * nMels, (start + frames) * nMels), offset);
    return;
  }
  // Band interpolation table, shared by all frames.
  const b0 = new Int32Array(nMels);
  const bw = new Float32Array(nMels);
  for (let b = 0; b < nMels; b++) {
    const src = Math.min(b / pitch, nMels - 1);
    const i = Math.min(Math.floor(src), nMels - 2);
    b0[b] = Math.max(0, i);
    bw[b] = src - b0[b]!;
  }
  for (let t = 0; t < frames; t++) {
    const src = Math.min(Math.max(centre + (t - half) * stretch, 0), nRows - 1);
    const r0 = Math.min(Math.floor(src), nRows - 2);
    const rw = src - r0;
    const p0 = r0 * nMels;
    const p1 = p0 + nMels;
    const o = offset + t * nMels;
    for (let b = 0; b < nMels; b++) {
      const i = b0[b]!;
      const w = bw[b]!;
      const top = spec[p0 + i]! + w * (spec[p0 + i + 1]! - spec[p0 + i]!);
      const bot = spec[p1 + i]! + w * (spec[p1 + i + 1]! - spec[p1 + i]!);
      out[o + b] = top + rw * (bot - top);
    }
  }
}

/** Add `gainDb` to a log-magnitude excerpt in place; values at the log floor stay there. */
export function applyGain(x: Float32Array, offset: number, n: number, gainDb: number, logFloor: number): void {
  if (gainDb === 0) return;
  const g = (gainDb * Math.LN10) / 20;
  for (let i = offset; i < offset + n; i++) {
    const v = x[i]!;
    if (v > logFloor) x[i] = Math.max(v + g, logFloor);
  }
}

/** x ← log(exp(x) + 10^(levelDb/20)·exp(y)) elementwise (mixing magnitudes in the linear domain). */
export function mixInto(x: Float32Array, offset: number, y: Float32Array, yOffset: number, n: number, levelDb: number, logFloor: number): void {
  const a = Math.pow(10, levelDb / 20);
  const floor = Math.exp(logFloor);
  for (let i = 0; i < n; i++) {
    const v = Math.exp(x[offset + i]!) + a * Math.exp(y[yOffset + i]!);
    x[offset + i] = Math.log(Math.max(v, floor));
  }
}
