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
