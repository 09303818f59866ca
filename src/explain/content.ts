/**
 * Replacement content R for occluded components (SLIME, Mishra et al. 2020, Sec. III; methods.md
 * §4), all in the normalised log-mel domain the model sees:
 * - `zero`: 0 (= each band's training mean, not silence);
 * - `min_data`: the minimum over a dataset's excerpts, one scalar (`minData(spectrograms)`);
 * - `min_inp` / `mean_inp`: min / mean of the excerpt being explained (one scalar each);
 * - `noise` (N_g^norm): a fixed T×F N(0,1) draw from a fixed seed (DEFAULT_NOISE_SEED = 2020,
 *   Rng of rng.ts, Box–Muller, row-major, rows = time), the same for every instance, then
 *   z-scored per band as (n − μ_b)/σ_b with the model's normalisation statistics, as real data.
 * The paper recommends `mean_inp`, the default.
 */
import { EarshotError, checkArray, checkEnum, checkInt, checkNumber } from '../../bindings/errors.ts';
import { Rng } from './rng.ts';
import type { BandStats } from '../frontend/stats.ts';

export type ContentType = 'zero' | 'min_data' | 'min_inp' | 'mean_inp' | 'noise';
export const CONTENT_TYPES: readonly ContentType[] = ['zero', 'min_data', 'min_inp', 'mean_inp', 'noise'];
export const DEFAULT_NOISE_SEED = 2020;

export interface ContentSpec {
  /** The dataset minimum for `min_data` (see minData). */
  minData?: number;
  /** Per-band μ_b, σ_b for `noise` (the model's normalisation statistics). */
  stats?: BandStats;
  /** Seed of the noise draw (default DEFAULT_NOISE_SEED). */
  noiseSeed?: number;
}

/** The minimum over a dataset of (normalised) spectrograms: the `min_data` scalar. */
export function minData(spectrograms: Iterable<Float32Array>): number {
  let m = Infinity;
  let count = 0;
  for (const s of spectrograms) {
    checkArray(s, Float32Array, `minData: spectrogram ${count}`);
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (!Number.isFinite(v)) throw new EarshotError('NOT_FINITE', `minData: spectrogram ${count}[${i}] is ${v}`);
      if (v < m) m = v;
    }
    count++;
  }
  if (!Number.isFinite(m)) throw new EarshotError('NO_DATA', 'minData: no values (give at least one non-empty spectrogram)');
  return m;
}

/** The `noise` content: T×F N(0,1) from `seed`, then (n − μ_b)/σ_b per band (F = stats length). */
export function noiseContent(T: number, F: number, stats: BandStats, seed = DEFAULT_NOISE_SEED): Float32Array {
  checkInt(T, 'T (frames)');
  checkInt(F, 'F (bands)');
  if (!stats || typeof stats !== 'object') throw new EarshotError('BAD_ARGUMENT', "content 'noise' needs normStats { mean, std } (the model's per-band statistics)");
  const mean = checkArray(stats.mean, Float32Array, 'normStats.mean', F);
  const std = checkArray(stats.std, Float32Array, 'normStats.std', F);
  for (let b = 0; b < F; b++) {
    if (!(std[b]! > 0) || !Number.isFinite(mean[b]!) || !Number.isFinite(std[b]!)) {
      throw new EarshotError('BAD_ARGUMENT', `normStats: band ${b} has mean ${mean[b]}, std ${std[b]}; need finite values and std > 0`);
    }
  }
  const rng = new Rng(seed);
  const out = new Float32Array(T * F);
  for (let t = 0; t < T; t++) for (let b = 0; b < F; b++) out[t * F + b] = (rng.normal() - mean[b]!) / std[b]!;
  return out;
}

/** R for one excerpt x (T·F) and a content type. */
export function contentValue(type: ContentType, x: Float32Array, shape: readonly [number, number], spec: ContentSpec = {}): number | Float32Array {
  checkEnum(type, 'content', CONTENT_TYPES);
  switch (type) {
    case 'zero':
      return 0;
    case 'min_data':
      if (spec.minData === undefined) throw new EarshotError('BAD_ARGUMENT', "content 'min_data' needs minData (a number, e.g. minData(spectrograms) over the dataset)");
      return checkNumber(spec.minData, 'minData');
    case 'min_inp': {
      let m = Infinity;
      for (let i = 0; i < x.length; i++) if (x[i]! < m) m = x[i]!;
      return m;
    }
    case 'mean_inp': {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i]!;
      return s / x.length;
    }
    case 'noise':
      return noiseContent(shape[0], shape[1], spec.stats as BandStats, spec.noiseSeed ?? DEFAULT_NOISE_SEED);
  }
}
