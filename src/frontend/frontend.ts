/**
 * The front end of a spectrogram classifier (methods.md §1): signal → log-mel (wasm, fused) →
 * per-band z-score → padding of `padFrames` frames at both ends with the normalised ln(logFloor)
 * → excerpts of `excerptFrames` frames, hop 1, one per original frame. Excerpt c (centred on
 * original frame c) is padded frames [c, c + excerptFrames): with the SVD front end it covers
 * original frames c − 57 … c + 57. Spectrograms are frames × nMels row-major, so an excerpt is
 * one contiguous slice and a batch of excerpts is a copy per excerpt, with no per-excerpt objects.
 */
import { EarshotError, checkArray, checkInt } from '../../bindings/errors.ts';
import { melSpectrogram, zscore } from '../../bindings/mel.ts';
import { SVD_FRONTEND, melOptionsOf, validateFrontEndConfig, type FrontEndConfig } from './config.ts';
import type { BandStats } from './stats.ts';

export interface LogMel {
  /** nFrames × nMels, row-major. */
  data: Float32Array;
  nFrames: number;
  nMels: number;
}

/** A normalised, padded spectrogram ready for excerpting. */
export interface Prepared {
  /** (nFrames + 2·padFrames) × nMels, row-major. */
  data: Float32Array;
  /** Frames of the original (unpadded) spectrogram = number of excerpts. */
  nFrames: number;
  nMels: number;
}

export class FrontEnd {
  readonly config: Readonly<FrontEndConfig>;

  constructor(config: FrontEndConfig = SVD_FRONTEND) {
    this.config = Object.freeze(validateFrontEndConfig(config));
  }

  get nMels(): number {
    return this.config.nMels;
  }

  /** Values per excerpt (excerptFrames × nMels). */
  get excerptSize(): number {
    return this.config.excerptFrames * this.config.nMels;
  }

  /** Number of frames for a signal of n samples. */
  frames(n: number): number {
    const c = this.config;
    return n < c.nFft ? 0 : Math.floor((n - c.nFft) / c.hop) + 1;
  }

  /** log(max(mel, logFloor)) of a mono signal at config.sampleRate: nFrames × nMels, before z-scoring. */
  logMel(signal: Float32Array): LogMel {
    checkArray(signal, Float32Array, 'FrontEnd.logMel: signal');
    const r = melSpectrogram(signal, melOptionsOf(this.config));
    return { data: r.data, nFrames: r.nFrames, nMels: r.nMels };
  }

  private checkStats(stats: BandStats, where: string): void {
    if (!stats || typeof stats !== 'object') throw new EarshotError('BAD_ARGUMENT', `${where}: stats must be { mean, std }`);
    checkArray(stats.mean, Float32Array, `${where}: stats.mean`, this.nMels);
    checkArray(stats.std, Float32Array, `${where}: stats.std`, this.nMels);
  }

  /** (logMel − μ_b) / σ_b per band. */
  normalise(logMel: Float32Array, stats: BandStats): Float32Array {
    checkArray(logMel, Float32Array, 'FrontEnd.normalise: logMel');
    this.checkStats(stats, 'FrontEnd.normalise');
    if (logMel.length % this.nMels !== 0 || logMel.length === 0) {
      throw new EarshotError('BAD_SHAPE', `FrontEnd.normalise: logMel has ${logMel.length} values, not a positive multiple of nMels = ${this.nMels}`);
    }
    return zscore(logMel, logMel.length / this.nMels, stats.mean, stats.std);
  }

  /** The per-band value padding frames get: the normalised ln(logFloor). */
  padValues(stats: BandStats): Float32Array {
    this.checkStats(stats, 'FrontEnd.padValues');
    const l = Math.fround(Math.log(Math.fround(this.config.logFloor)));
    return zscore(new Float32Array(this.nMels).fill(l), 1, stats.mean, stats.std);
  }

  /** Pad a normalised spectrogram with padFrames frames of padValues(stats) at both ends. */
  pad(normalised: Float32Array, stats: BandStats): Prepared {
    checkArray(normalised, Float32Array, 'FrontEnd.pad: normalised');
    const B = this.nMels;
    if (normalised.length % B !== 0 || normalised.length === 0) {
      throw new EarshotError('BAD_SHAPE', `FrontEnd.pad: normalised has ${normalised.length} values, not a positive multiple of nMels = ${B}`);
    }
    const P = this.config.padFrames;
    const nFrames = normalised.length / B;
    const pv = this.padValues(stats);
    const data = new Float32Array((nFrames + 2 * P) * B);
    for (let t = 0; t < P; t++) {
      data.set(pv, t * B);
      data.set(pv, (P + nFrames + t) * B);
    }
    data.set(normalised, P * B);
    return { data, nFrames, nMels: B };
  }

  /** signal → log-mel → z-score → padding, in one call. */
  prepare(signal: Float32Array, stats: BandStats): Prepared {
    const lm = this.logMel(signal);
    if (lm.nFrames === 0) throw new EarshotError('TOO_SHORT', `FrontEnd.prepare: the signal is shorter than one frame (${this.config.nFft} samples)`);
    return this.pad(this.normalise(lm.data, stats), stats);
  }

  private checkPrepared(p: Prepared, where: string): void {
    if (!p || typeof p !== 'object') throw new EarshotError('BAD_ARGUMENT', `${where}: expected a Prepared spectrogram`);
    checkArray(p.data, Float32Array, `${where}: prepared.data`);
    const want = (p.nFrames + 2 * this.config.padFrames) * this.nMels;
    if (p.nMels !== this.nMels || p.data.length !== want) {
      throw new EarshotError('BAD_SHAPE', `${where}: prepared.data must hold (nFrames + 2·${this.config.padFrames}) × ${this.nMels} = ${want} values, got ${p.data.length} (nMels ${p.nMels})`);
    }
  }

  /** Number of excerpts the padded spectrogram yields (= nFrames + 2·padFrames − excerptFrames + 1). */
  excerptCount(p: Prepared): number {
    return Math.max(0, p.nFrames + 2 * this.config.padFrames - this.config.excerptFrames + 1);
  }

  /**
   * The excerpt starting at padded frame `start` (= centred on original frame `start` when
   * padFrames = ⌊excerptFrames/2⌋), written into `out` at element offset `offset` (a new
   * array when `out` is omitted). Returns the array written to.
   */
  excerpt(p: Prepared, start: number, out?: Float32Array, offset = 0): Float32Array {
    this.checkPrepared(p, 'FrontEnd.excerpt');
    checkInt(start, 'FrontEnd.excerpt: start', 0, this.excerptCount(p) - 1);
    const size = this.excerptSize;
    const dst = out ?? new Float32Array(size);
    if (out) {
      checkArray(out, Float32Array, 'FrontEnd.excerpt: out');
      checkInt(offset, 'FrontEnd.excerpt: offset', 0, Math.max(0, out.length - size));
      if (out.length < offset + size) throw new EarshotError('BAD_SHAPE', `FrontEnd.excerpt: out needs ${offset + size} values, has ${out.length}`);
    }
    const o = start * this.nMels;
    dst.set(p.data.subarray(o, o + size), offset);
    return dst;
  }

  /**
   * Batches of consecutive excerpts (hop 1) written into the caller's `batch` (its length must
   * be a multiple of excerptSize; each batch holds up to batch.length / excerptSize excerpts).
   * Yields { first, count }: excerpts first … first + count − 1 are in batch[0 … count·size).
   * The same `batch` array is reused, so consume it before the next step.
   */
  *excerpts(p: Prepared, batch: Float32Array, from = 0, to = this.excerptCount(p)): Generator<{ first: number; count: number; batch: Float32Array }> {
    this.checkPrepared(p, 'FrontEnd.excerpts');
    checkArray(batch, Float32Array, 'FrontEnd.excerpts: batch');
    const size = this.excerptSize;
    if (batch.length === 0 || batch.length % size !== 0) {
      throw new EarshotError('BAD_SHAPE', `FrontEnd.excerpts: batch length must be a positive multiple of excerptFrames × nMels = ${size}, got ${batch.length}`);
    }
    const total = this.excerptCount(p);
    checkInt(from, 'FrontEnd.excerpts: from', 0, total);
    checkInt(to, 'FrontEnd.excerpts: to', from, total);
    const per = batch.length / size;
    const B = this.nMels;
    for (let first = from; first < to; first += per) {
      const count = Math.min(per, to - first);
      for (let j = 0; j < count; j++) {
        const o = (first + j) * B;
        batch.set(p.data.subarray(o, o + size), j * size);
      }
      yield { first, count, batch };
    }
  }

  /** The config as plain JSON (what a weight file embeds). */
  toJSON(): FrontEndConfig {
    return { ...this.config };
  }
}
