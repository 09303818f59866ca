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
 *   mel domain at a random relative level, log(exp(a) + 10^(r/20)·exp(b));
 * - vocal remix: the song's own vocal stem is made louder or softer and re-equalised (a random
 *   gain plus a smooth random EQ curve over the mel bands) before it meets its accompaniment
 *   again. Singers differ in level and spectral envelope far more than a corpus of a few dozen
 *   synthetic voices shows (a muffled voice under a loud band is the validation split's
 *   hardest case, docs/training.md §11). Applied as a correction to the real mix,
 *   x + ½·ln((w·e^{2v} + e^{2a}) / (e^{2v} + e^{2a})) with w the squared vocal gain per band,
 *   so unit gain leaves the mix exactly as it is and only the change is approximated (adding
 *   stem *powers* matches the real mix's log-mel to ≈ 0.04 nats on corpus-big songs; adding
 *   magnitudes, to ≈ 0.08).
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
  /** Probability of remixing an example's own vocal stem at another level and EQ (0 = off; needs stems). */
  vocalRemix?: number;
  /** Vocal gain range of a remix in dB, e.g. [-6, 6]. */
  vocalDb?: [number, number];
  /** Largest boost or cut (±dB) of each of the remix EQ's control points (0 = gain only). */
  vocalEqDb?: number;
}

/** Control points of the vocal-remix EQ curve, evenly spaced over the mel bands (linear between them). */
export const VOCAL_EQ_POINTS = 6;

export const DEFAULT_AUGMENT: Readonly<Required<AugmentOptions>> = Object.freeze({
  timeStretch: 0.1,
  pitchShift: 0.05,
  gainDb: 10,
  mixProbability: 0.3,
  mixDb: [-12, 0] as [number, number],
  // Off by default so that the training commands of the committed models reproduce as they were.
  vocalRemix: 0,
  vocalDb: [-6, 6] as [number, number],
  vocalEqDb: 6,
});

export const NO_AUGMENT: Readonly<Required<AugmentOptions>> = Object.freeze({
  timeStretch: 0,
  pitchShift: 0,
  gainDb: 0,
  mixProbability: 0,
  mixDb: [0, 0] as [number, number],
  vocalRemix: 0,
  vocalDb: [0, 0] as [number, number],
  vocalEqDb: 0,
});

/** The accepted range of each augmentation option (checkAugmentOptions and `earshot train`'s flags). */
export const AUGMENT_LIMITS = Object.freeze({
  timeStretch: [0, 0.5],
  pitchShift: [0, 0.5],
  gainDb: [0, 60],
  mixProbability: [0, 1],
  mixDb: [-120, 40],
  vocalRemix: [0, 1],
  vocalDb: [-40, 20],
  vocalEqDb: [0, 24],
} as const);

export function checkAugmentOptions(o: unknown): Required<AugmentOptions> {
  if (o === undefined) return { ...DEFAULT_AUGMENT, mixDb: [...DEFAULT_AUGMENT.mixDb], vocalDb: [...DEFAULT_AUGMENT.vocalDb] };
  if (typeof o !== 'object' || o === null) throw new EarshotError('BAD_ARGUMENT', `augment must be an object, got ${String(o)}`);
  const known = ['timeStretch', 'pitchShift', 'gainDb', 'mixProbability', 'mixDb', 'vocalRemix', 'vocalDb', 'vocalEqDb'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new EarshotError('BAD_ARGUMENT', `unknown augment option '${k}' (expected ${known.join(', ')})`);
  const a = o as AugmentOptions;
  const mixDb = checkDbRange(a.mixDb ?? DEFAULT_AUGMENT.mixDb, 'mixDb');
  const vocalDb = checkDbRange(a.vocalDb ?? DEFAULT_AUGMENT.vocalDb, 'vocalDb');
  return {
    timeStretch: checkNumber(a.timeStretch ?? DEFAULT_AUGMENT.timeStretch, 'augment.timeStretch', ...AUGMENT_LIMITS.timeStretch),
    pitchShift: checkNumber(a.pitchShift ?? DEFAULT_AUGMENT.pitchShift, 'augment.pitchShift', ...AUGMENT_LIMITS.pitchShift),
    gainDb: checkNumber(a.gainDb ?? DEFAULT_AUGMENT.gainDb, 'augment.gainDb', ...AUGMENT_LIMITS.gainDb),
    mixProbability: checkNumber(a.mixProbability ?? DEFAULT_AUGMENT.mixProbability, 'augment.mixProbability', ...AUGMENT_LIMITS.mixProbability),
    mixDb,
    vocalRemix: checkNumber(a.vocalRemix ?? DEFAULT_AUGMENT.vocalRemix, 'augment.vocalRemix', ...AUGMENT_LIMITS.vocalRemix),
    vocalDb,
    vocalEqDb: checkNumber(a.vocalEqDb ?? DEFAULT_AUGMENT.vocalEqDb, 'augment.vocalEqDb', ...AUGMENT_LIMITS.vocalEqDb),
  };
}

/** A [min, max] dB range option (mixDb, vocalDb) within its AUGMENT_LIMITS, min ≤ max; a copy. */
function checkDbRange(r: unknown, key: 'mixDb' | 'vocalDb'): [number, number] {
  if (!Array.isArray(r) || r.length !== 2) throw new EarshotError('BAD_ARGUMENT', `augment.${key} must be [min, max] in dB, got ${JSON.stringify(r)}`);
  checkNumber(r[0], `augment.${key}[0]`, ...AUGMENT_LIMITS[key]);
  checkNumber(r[1], `augment.${key}[1]`, r[0] as number, AUGMENT_LIMITS[key][1]);
  return [r[0] as number, r[1] as number];
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
  /** The vocal remix (gain and EQ control points in dB), or null for none. */
  vocal: { gainDb: number; eqDb: Float64Array } | null;
}

export function drawAugment(rng: Rng, o: Required<AugmentOptions>): AugmentDraw {
  const stretch = o.timeStretch > 0 ? rng.uniform(1 - o.timeStretch, 1 + o.timeStretch) : 1;
  const pitch = o.pitchShift > 0 ? rng.uniform(1 - o.pitchShift, 1 + o.pitchShift) : 1;
  const gainDb = o.gainDb > 0 ? rng.uniform(-o.gainDb, o.gainDb) : 0;
  const mix = o.mixProbability > 0 && rng.next() < o.mixProbability;
  const mixDb = mix ? rng.uniform(o.mixDb[0], o.mixDb[1]) : null;
  // Drawn after everything else and only when on, so that runs without it keep their streams.
  let vocal: AugmentDraw['vocal'] = null;
  if (o.vocalRemix > 0 && rng.next() < o.vocalRemix) {
    const gain = rng.uniform(o.vocalDb[0], o.vocalDb[1]);
    const eqDb = new Float64Array(VOCAL_EQ_POINTS);
    if (o.vocalEqDb > 0) for (let k = 0; k < VOCAL_EQ_POINTS; k++) eqDb[k] = rng.uniform(-o.vocalEqDb, o.vocalEqDb);
    vocal = { gainDb: gain, eqDb };
  }
  return { stretch, pitch, gainDb, mixDb, vocal };
}

/**
 * Per-band vocal gain in dB of a remix: `gainDb` plus the EQ curve through `eqDb`'s control
 * points, spread evenly from band 0 to band nBands − 1 and interpolated linearly between them.
 */
export function vocalGainCurve(gainDb: number, eqDb: ArrayLike<number>, nBands: number, out: Float32Array = new Float32Array(nBands)): Float32Array {
  const k = eqDb.length;
  if (k < 2) throw new EarshotError('BAD_SHAPE', `vocalGainCurve: an EQ curve needs at least 2 control points, got ${k}`);
  if (out.length < nBands) throw new EarshotError('BAD_SHAPE', `vocalGainCurve: an output of ${out.length} for ${nBands} bands`);
  for (let b = 0; b < nBands; b++) {
    const pos = nBands === 1 ? 0 : (b * (k - 1)) / (nBands - 1);
    const i = Math.min(Math.floor(pos), k - 2);
    const w = pos - i;
    out[b] = gainDb + (1 - w) * eqDb[i]! + w * eqDb[i + 1]!;
  }
  return out;
}

/**
 * Remix the vocals of a log-mel excerpt in place: x ← max(x + ½·ln((w_b·e^{2v} + e^{2a}) /
 * (e^{2v} + e^{2a})), logFloor) with w_b = 10^(gainDb[b]/10), where v and a are the same excerpt
 * of the vocal and accompaniment stems (n values each, rows of `nBands`). Unit gain leaves x as it is.
 */
export function remixVocals(x: Float32Array, offset: number, v: Float32Array, a: Float32Array, n: number, nBands: number, gainDb: Float32Array, logFloor: number): void {
  if (v.length < n || a.length < n) throw new EarshotError('BAD_SHAPE', `remixVocals: stems of ${v.length} and ${a.length} values for an excerpt of ${n}`);
  if (gainDb.length < nBands || n % nBands !== 0) throw new EarshotError('BAD_SHAPE', `remixVocals: a gain curve of ${gainDb.length} for ${n} values in rows of ${nBands}`);
  const power = new Float64Array(nBands);
  for (let b = 0; b < nBands; b++) power[b] = Math.pow(10, gainDb[b]! / 10);
  for (let i = 0; i < n; i++) {
    const w = power[i % nBands]!;
    const u = 2 * v[i]!;
    const c = 2 * a[i]!;
    const m = Math.max(u, c);
    const eu = Math.exp(u - m);
    const ec = Math.exp(c - m);
    x[offset + i] = Math.max(x[offset + i]! + 0.5 * Math.log((w * eu + ec) / (eu + ec)), logFloor);
  }
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
