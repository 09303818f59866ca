/**
 * Front-end descriptions: every convention of a log-mel front end as one plain, JSON-serialisable
 * object, so a model's weight file can embed the exact front end it was trained on.
 * `SVD_FRONTEND` is the singing-voice detector's (Schlüter & Lehner; methods.md §1): mono
 * 22 050 Hz, symmetric Hann 1024 (np.hanning), hop 315, no centring, |rfft|, 80 HTK mel bands
 * 27.5 Hz – 8 kHz built the "svd" way over the first 372 bins, log(max(x, 1e-7)), excerpts of 115
 * frames padded by 57 frames at both ends.
 */
import { EarshotError, checkEnum, checkInt, checkNumber } from '../../bindings/errors.ts';
import type { MelConstruction, MelNorm, MelScale, WindowKind, MelSpectrogramOptions } from '../../bindings/mel.ts';

export interface FrontEndConfig {
  /** Mono sample rate the front end expects (Hz). */
  sampleRate: number;
  /** FFT size = frame length (samples). */
  nFft: number;
  window: WindowKind;
  /** true: symmetric window (np.hanning); false: periodic (scipy get_window, librosa). */
  symmetric: boolean;
  /** Frame hop (samples). */
  hop: number;
  /** Centred frames (librosa center=True) are not supported: frame i covers [hop·i, hop·i + nFft). */
  center: false;
  /** |X| or |X|² before the mel filterbank. */
  spectrum: 'magnitude' | 'power';
  nMels: number;
  fMin: number;
  fMax: number;
  scale: MelScale;
  construction: MelConstruction;
  norm: MelNorm;
  /** Bins of the spectrum that enter the filterbank (the first nBinsUsed). */
  nBinsUsed: number;
  /** ln(max(mel, logFloor)). */
  logFloor: number;
  /** Frames per model input (excerpt). */
  excerptFrames: number;
  /** Frames of padding at both ends of a file, filled with the normalised ln(logFloor). */
  padFrames: number;
}

export const SVD_FRONTEND: Readonly<FrontEndConfig> = Object.freeze({
  sampleRate: 22050,
  nFft: 1024,
  window: 'hann',
  symmetric: true,
  hop: 315,
  center: false,
  spectrum: 'magnitude',
  nMels: 80,
  fMin: 27.5,
  fMax: 8000,
  scale: 'htk',
  construction: 'svd',
  norm: 'sum',
  nBinsUsed: 372,
  logFloor: 1e-7,
  excerptFrames: 115,
  padFrames: 57,
});

const KEYS = Object.keys(SVD_FRONTEND) as Array<keyof FrontEndConfig>;

/**
 * Check a front-end description (e.g. parsed from a weight file) and return a clean copy.
 * Every field is required; unknown fields are rejected so a typo never falls back to a default.
 */
export function validateFrontEndConfig(value: unknown): FrontEndConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EarshotError('BAD_CONFIG', `a front-end config must be an object, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(KEYS as string[]).includes(k)) throw new EarshotError('BAD_CONFIG', `front-end config: unknown field '${k}' (known: ${KEYS.join(', ')})`);
  }
  for (const k of KEYS) {
    if (o[k] === undefined) throw new EarshotError('BAD_CONFIG', `front-end config: missing field '${k}'`);
  }
  const wrap = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof EarshotError) throw new EarshotError('BAD_CONFIG', `front-end config: ${e.message}`);
      throw e;
    }
  };
  return wrap(() => {
    const sampleRate = checkNumber(o.sampleRate, 'sampleRate', 1000, 384000);
    const nFft = checkInt(o.nFft, 'nFft', 64, 16384);
    if ((nFft & (nFft - 1)) !== 0) throw new EarshotError('BAD_CONFIG', `nFft must be a power of two, got ${nFft}`);
    const window = checkEnum(o.window, 'window', ['hann', 'hamming', 'rect'] as const);
    if (typeof o.symmetric !== 'boolean') throw new EarshotError('BAD_CONFIG', `symmetric must be a boolean, got ${JSON.stringify(o.symmetric)}`);
    const hop = checkInt(o.hop, 'hop', 1, nFft * 16);
    if (o.center !== false) throw new EarshotError('BAD_CONFIG', `center must be false (centred frames are not supported), got ${JSON.stringify(o.center)}`);
    const spectrum = checkEnum(o.spectrum, 'spectrum', ['magnitude', 'power'] as const);
    const nMels = checkInt(o.nMels, 'nMels', 1, 1024);
    const fMin = checkNumber(o.fMin, 'fMin', 0);
    const fMax = checkNumber(o.fMax, 'fMax', 0, sampleRate / 2);
    if (!(fMin < fMax)) throw new EarshotError('BAD_CONFIG', `fMin (${fMin}) must be < fMax (${fMax})`);
    const scale = checkEnum(o.scale, 'scale', ['htk', 'slaney'] as const);
    const construction = checkEnum(o.construction, 'construction', ['svd', 'librosa'] as const);
    const norm = checkEnum(o.norm, 'norm', ['sum', 'area', 'none'] as const);
    const nBinsUsed = checkInt(o.nBinsUsed, 'nBinsUsed', 1, nFft / 2 + 1);
    const logFloor = checkNumber(o.logFloor, 'logFloor', 1.1754943508222875e-38, 1);
    const excerptFrames = checkInt(o.excerptFrames, 'excerptFrames', 1, 1 << 16);
    const padFrames = checkInt(o.padFrames, 'padFrames', 0, excerptFrames);
    return {
      sampleRate, nFft, window, symmetric: o.symmetric as boolean, hop, center: false as const, spectrum, nMels, fMin, fMax,
      scale, construction, norm, nBinsUsed, logFloor, excerptFrames, padFrames,
    };
  });
}

/** The options of bindings' melSpectrogram for a config (without z-scoring). */
export function melOptionsOf(c: FrontEndConfig): MelSpectrogramOptions {
  return {
    sampleRate: c.sampleRate, nFft: c.nFft, hop: c.hop, window: c.window, periodic: !c.symmetric, spectrum: c.spectrum,
    nMels: c.nMels, fMin: c.fMin, fMax: c.fMax, scale: c.scale, construction: c.construction, norm: c.norm,
    nBinsUsed: c.nBinsUsed, logFloor: c.logFloor,
  };
}

/** Hz → mel on the scale of a filterbank: HTK 1127·ln(1 + f/700), or Slaney (librosa htk=False). */
export function hzToMel(f: number, scale: MelScale): number {
  if (scale === 'htk') return 1127 * Math.log(1 + f / 700);
  const fsp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fsp;
  const logstep = Math.log(6.4) / 27;
  return f >= minLogHz ? minLogMel + Math.log(f / minLogHz) / logstep : f / fsp;
}

/** mel → Hz, the inverse of hzToMel. */
export function melToHz(m: number, scale: MelScale): number {
  if (scale === 'htk') return 700 * (Math.exp(m / 1127) - 1);
  const fsp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fsp;
  const logstep = Math.log(6.4) / 27;
  return m >= minLogMel ? minLogHz * Math.exp(logstep * (m - minLogMel)) : fsp * m;
}

// The band geometry below (widenFrontEnd, melAxis) is used and tested for the htk scale only:
// the filter peaks sit at mel m0 + j·step, j = 0 … nMels + 1.
function melGrid(c: Pick<FrontEndConfig, 'scale' | 'fMin' | 'fMax' | 'nMels'>): { m0: number; step: number } {
  if (c.scale !== 'htk') throw new EarshotError('BAD_CONFIG', `mel band positions are implemented for the htk scale only, got '${c.scale}'`);
  const m0 = hzToMel(c.fMin, c.scale);
  return { m0, step: (hzToMel(c.fMax, c.scale) - m0) / (c.nMels + 1) };
}

/**
 * The same front end with `extra` more bands above fMax on the same mel grid: the nMels + 2 filter
 * peaks are equally spaced in mel from fMin to fMax, so continuing the spacing by `extra` peaks
 * leaves the first nMels filters (and so the first nMels bands of every log-mel) exactly as they
 * were, with bands up to the new fMax above them. The training cache keeps these bands so a
 * pitch shift down reads real content above fMax instead of repeating the top band
 * (src/model/augment.ts). nBinsUsed follows the SVD rule ⌊(nFft/2 + 1)·2·fMax/sr⌋ (372 at 8 kHz).
 */
export function widenFrontEnd(c: FrontEndConfig, extra: number): FrontEndConfig {
  checkInt(extra, 'widenFrontEnd: extra bands', 0, 1024);
  if (extra === 0) return { ...c };
  const { m0, step } = melGrid(c);
  const fMax = melToHz(m0 + (c.nMels + 1 + extra) * step, c.scale);
  const most = maxBandsAbove(c);
  if (extra > most) throw new EarshotError('BAD_CONFIG', `widenFrontEnd: ${extra} bands above ${c.fMax} Hz would end at ${fMax.toFixed(0)} Hz, above Nyquist (${c.sampleRate / 2} Hz); at most ${most}`);
  const nBins = c.nFft / 2 + 1;
  return { ...c, nMels: c.nMels + extra, fMax, nBinsUsed: Math.min(nBins, Math.floor((nBins * 2 * fMax) / c.sampleRate)) };
}

/** How many bands widenFrontEnd can add before the top peak passes Nyquist (9 for the SVD front end). */
export function maxBandsAbove(c: FrontEndConfig): number {
  const { m0, step } = melGrid(c);
  return Math.max(0, Math.floor((hzToMel(c.sampleRate / 2, c.scale) - m0) / step + 1e-9) - (c.nMels + 1));
}

/**
 * Centre frequency (Hz) of each band of a front end's mel axis (peak b + 1 of its filterbank) and
 * the inverse map, a fractional band position for a frequency: what a pitch shift needs to move
 * content along the axis (src/model/augment.ts, pitchShiftBands).
 */
export function melAxis(c: Pick<FrontEndConfig, 'scale' | 'fMin' | 'fMax' | 'nMels'>): { centre(b: number): number; bandOf(f: number): number } {
  const { m0, step } = melGrid(c);
  return { centre: (b) => melToHz(m0 + (b + 1) * step, c.scale), bandOf: (f) => (hzToMel(Math.max(f, 0), c.scale) - m0) / step - 1 };
}
