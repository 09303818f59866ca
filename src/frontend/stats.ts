/**
 * Per-band normalisation statistics (methods.md §1: z-score per mel band with the training set's
 * mean μ_b and std σ_b), accumulated over any number of spectrograms in one pass. Each
 * spectrogram's band means and sums of squared deviations are computed in f64 and merged with
 * Chan et al.'s pairwise update, so long corpora do not lose precision to sum-of-squares
 * cancellation. The std is the population one (divide by N), as NumPy's default `std`.
 */
import { EarshotError, checkArray, checkInt } from '../../bindings/errors.ts';

export interface BandStats {
  mean: Float32Array;
  std: Float32Array;
}

export class NormStats {
  readonly nBands: number;
  private count = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly chunkMean: Float64Array;
  private readonly chunkM2: Float64Array;

  constructor(nBands: number) {
    this.nBands = checkInt(nBands, 'NormStats: nBands', 1, 1 << 16);
    this.mean = new Float64Array(nBands);
    this.m2 = new Float64Array(nBands);
    this.chunkMean = new Float64Array(nBands);
    this.chunkM2 = new Float64Array(nBands);
  }

  /** Frames seen so far. */
  get frames(): number {
    return this.count;
  }

  /** Add a spectrogram of nFrames × nBands (row-major), e.g. the log-mel of one training file. */
  add(spec: Float32Array, nFrames: number): this {
    checkArray(spec, Float32Array, 'NormStats.add: spec');
    checkInt(nFrames, 'NormStats.add: nFrames', 0);
    const B = this.nBands;
    if (spec.length !== nFrames * B) {
      throw new EarshotError('BAD_SHAPE', `NormStats.add: spec must have nFrames × nBands = ${nFrames} × ${B} values, got ${spec.length}`);
    }
    if (nFrames === 0) return this;
    const cm = this.chunkMean.fill(0);
    const c2 = this.chunkM2.fill(0);
    for (let t = 0; t < nFrames; t++) {
      const o = t * B;
      for (let b = 0; b < B; b++) cm[b] += spec[o + b]!;
    }
    for (let b = 0; b < B; b++) cm[b] /= nFrames;
    for (let t = 0; t < nFrames; t++) {
      const o = t * B;
      for (let b = 0; b < B; b++) {
        const d = spec[o + b]! - cm[b]!;
        c2[b] += d * d;
      }
    }
    for (let b = 0; b < B; b++) {
      if (!Number.isFinite(cm[b]!) || !Number.isFinite(c2[b]!)) {
        throw new EarshotError('NOT_FINITE', `NormStats.add: band ${b} of the spectrogram has a non-finite value`);
      }
    }
    const n = this.count;
    const total = n + nFrames;
    if (n === 0) {
      // the first chunk's moments as they are ((x·n)/n need not round back to x)
      this.mean.set(cm);
      this.m2.set(c2);
      this.count = total;
      return this;
    }
    for (let b = 0; b < B; b++) {
      const delta = cm[b]! - this.mean[b]!;
      this.mean[b] += (delta * nFrames) / total;
      this.m2[b] += c2[b]! + (delta * delta * n * nFrames) / total;
    }
    this.count = total;
    return this;
  }

  /**
   * The statistics so far. A band whose std is below `minStd` (a constant band) gets `minStd`, so
   * the z-score stays finite; pass 0 to get an error instead.
   */
  finish(minStd = 1e-6): BandStats {
    if (this.count === 0) throw new EarshotError('NO_DATA', 'NormStats.finish: no frames were added');
    const mean = new Float32Array(this.nBands);
    const std = new Float32Array(this.nBands);
    for (let b = 0; b < this.nBands; b++) {
      mean[b] = this.mean[b]!;
      const s = Math.sqrt(this.m2[b]! / this.count);
      if (s < minStd || !(s > 0)) {
        if (!(minStd > 0)) throw new EarshotError('ZERO_STD', `NormStats.finish: band ${b} is constant (std ${s}); pass minStd > 0 to clamp it`);
        std[b] = minStd;
      } else std[b] = s;
    }
    return { mean, std };
  }
}

/** Statistics as plain JSON (for weight files) and back, with validation. */
export function statsToJSON(s: BandStats): { mean: number[]; std: number[] } {
  return { mean: Array.from(s.mean), std: Array.from(s.std) };
}

export function statsFromJSON(v: unknown, nBands?: number): BandStats {
  const o = v as { mean?: unknown; std?: unknown } | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.mean) || !Array.isArray(o.std)) {
    throw new EarshotError('BAD_CONFIG', 'normalisation stats must be an object { mean: number[], std: number[] }');
  }
  if (o.mean.length !== o.std.length || (nBands !== undefined && o.mean.length !== nBands)) {
    throw new EarshotError('BAD_CONFIG', `normalisation stats: mean has ${o.mean.length} bands and std ${o.std.length}; expected ${nBands ?? 'the same number'}`);
  }
  const mean = Float32Array.from(o.mean as number[]);
  const std = Float32Array.from(o.std as number[]);
  for (let b = 0; b < mean.length; b++) {
    if (!Number.isFinite(mean[b]!)) throw new EarshotError('BAD_CONFIG', `normalisation stats: mean[${b}] is ${o.mean[b]}`);
    if (!(Number.isFinite(std[b]!) && std[b]! > 0)) throw new EarshotError('BAD_CONFIG', `normalisation stats: std[${b}] is ${o.std[b]}; must be finite and > 0`);
  }
  return { mean, std };
}

/**
 * The z-score statistics equivalent to an affine-free BatchNorm1d over the bands in eval mode
 * (methods.md §2: the 001 model normalises its input this way, eps 1e-4):
 * (x − running_mean) / sqrt(running_var + eps) = (x − mean) / std with std = sqrt(var + eps).
 */
export function statsFromBatchNorm(runningMean: Float32Array, runningVar: Float32Array, eps = 1e-4): BandStats {
  checkArray(runningMean, Float32Array, 'statsFromBatchNorm: runningMean');
  checkArray(runningVar, Float32Array, 'statsFromBatchNorm: runningVar', runningMean.length);
  if (!(Number.isFinite(eps) && eps >= 0)) throw new EarshotError('BAD_ARGUMENT', `statsFromBatchNorm: eps must be finite and ≥ 0, got ${eps}`);
  const std = new Float32Array(runningVar.length);
  for (let b = 0; b < std.length; b++) {
    const v = runningVar[b]!;
    if (!(Number.isFinite(v) && v >= 0) || !Number.isFinite(runningMean[b]!)) {
      throw new EarshotError('BAD_ARGUMENT', `statsFromBatchNorm: band ${b} has mean ${runningMean[b]} and variance ${v}; need finite values and variance ≥ 0`);
    }
    std[b] = Math.sqrt(v + eps);
    if (!(std[b]! > 0)) throw new EarshotError('BAD_ARGUMENT', `statsFromBatchNorm: band ${b} has zero variance and eps 0`);
  }
  return { mean: runningMean.slice(), std };
}
