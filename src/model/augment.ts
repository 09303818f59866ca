/**
 * Data augmentation for training the singing-voice CNN, as cheap spectrogram-domain operations
 * on log-mel excerpts before z-scoring (methods.md §2: the reference trains with random pitch
 * shift and time stretch and ±10 dB loudness changes; we add mixing with accompaniment):
 * - time stretch: the excerpt is resampled along time around its centre frame by a factor s
 *   (linear interpolation), so the centre frame — and its label — stays put;
 * - pitch shift: every frequency scaled by a factor p, as the reference does by resampling the
 *   linear spectrum before the mel filterbank: band b (centre f_b) reads the fractional band
 *   holding f_b / p, linearly interpolated (pitchShiftBands). A shift down reads above the top
 *   band; the training cache keeps bands above 8 kHz for it (src/frontend widenFrontEnd, up to
 *   10.76 kHz), so only shifts below ≈ 0.74 clamp their top band or two;
 * - gain: + g·ln(10)/20 on every value above the log floor (|X| scales by 10^(g/20)), floored;
 * - mixing: another excerpt's non-vocal spectrum (an accompaniment stem) is added in the linear
 *   mel domain at a random relative level, log(exp(a) + 10^(r/20)·exp(b)).
 * Every draw comes from a seeded generator, so a seed fixes the whole augmentation stream.
 */
import { EarshotError, checkNumber } from '../../bindings/errors.ts';
import { melAxis, type FrontEndConfig } from '../frontend/config.ts';

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
 * Source band positions of a pitch shift by `pitch` on a front end's mel axis: output band b
 * (centre f_b) takes the content at f_b / pitch, i.e. the fractional band bandOf(f_b / pitch),
 * clamped to [0, nSrc − 1] where nSrc ≥ nMels bands are available (a widened cache has bands above
 * fMax on the same grid). pitch > 1 moves content up. Only the htk mel scale is supported.
 */
export function pitchShiftBands(axis: Pick<FrontEndConfig, 'scale' | 'fMin' | 'fMax' | 'nMels'>, pitch: number, nSrc: number = axis.nMels, out: Float32Array = new Float32Array(axis.nMels)): Float32Array {
  checkNumber(pitch, 'pitch shift factor', 1e-3, 1e3);
  if (!(nSrc >= axis.nMels)) throw new EarshotError('BAD_SHAPE', `pitchShiftBands: ${nSrc} source bands for ${axis.nMels} output bands`);
  const a = melAxis(axis);
  for (let b = 0; b < axis.nMels; b++) out[b] = Math.min(Math.max(a.bandOf(a.centre(b) / pitch), 0), nSrc - 1);
  return out;
}

/**
 * Write one (optionally stretched and pitch-shifted) log-mel excerpt of `frames` frames × `nOut`
 * bands centred on frame `centre` of a padded log-mel spectrogram `spec` (nRows rows of `stride`
 * ≥ nOut bands, row-major) into `out` at `offset`. Frame t reads spec row centre + (t −
 * ⌊frames/2⌋)·stretch; band b reads the fractional source band bands[b] (pitchShiftBands; null =
 * band b); both linearly interpolated and clamped to the spectrogram. With stretch = 1 and no band
 * map this copies bands [0, nOut) of rows [centre − ⌊frames/2⌋, … + frames).
 */
export function extractExcerpt(
  spec: Float32Array, nRows: number, stride: number, centre: number, frames: number,
  stretch: number, bands: Float32Array | null, out: Float32Array, offset: number, nOut: number = stride,
): void {
  if (!(nOut >= 1 && nOut <= stride)) throw new EarshotError('BAD_SHAPE', `extractExcerpt: ${nOut} output bands from rows of ${stride}`);
  if (bands && bands.length < nOut) throw new EarshotError('BAD_SHAPE', `extractExcerpt: a band map of ${bands.length} for ${nOut} bands`);
  const half = Math.floor(frames / 2);
  if (stretch === 1 && !bands) {
    const start = centre - half;
    if (start < 0 || start + frames > nRows) throw new EarshotError('BAD_SHAPE', `excerpt [${start}, ${start + frames}) is outside the ${nRows}-row spectrogram`);
    if (nOut === stride) out.set(spec.subarray(start * stride, (start + frames) * stride), offset);
    else for (let t = 0; t < frames; t++) out.set(spec.subarray((start + t) * stride, (start + t) * stride + nOut), offset + t * nOut);
    return;
  }
  // Band interpolation table, shared by all frames.
  const b0 = new Int32Array(nOut);
  const bw = new Float32Array(nOut);
  for (let b = 0; b < nOut; b++) {
    const src = Math.min(Math.max(bands ? bands[b]! : b, 0), stride - 1);
    const i = Math.min(Math.floor(src), stride - 2);
    b0[b] = Math.max(0, i);
    bw[b] = src - b0[b]!;
  }
  for (let t = 0; t < frames; t++) {
    const src = Math.min(Math.max(centre + (t - half) * stretch, 0), nRows - 1);
    const r0 = Math.min(Math.floor(src), nRows - 2);
    const rw = src - r0;
    const p0 = r0 * stride;
    const p1 = p0 + stride;
    const o = offset + t * nOut;
    for (let b = 0; b < nOut; b++) {
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
