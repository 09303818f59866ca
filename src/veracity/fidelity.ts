/**
 * Fidelity of correct vs. wrong explanations (Praher, Prinz et al. 2021, Sec. 5.4, Fig. 4;
 * methods.md §6): the surrogate's weighted R² for the k = 1 localised excerpts, split by whether
 * the explanation named the perturbed segment. The paper draws box plots (medians ≈ 0.71
 * correct vs 0.67 wrong for waveform attacks); `boxStats` gives the five numbers of one box
 * (quartiles by linear interpolation between order statistics, NumPy's default 'linear'
 * percentile method, which seaborn's boxplot uses).
 */
import { EarshotError } from '../../bindings/errors.ts';

export interface BoxStats {
  n: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  mean: number;
}

/** The q-quantile (0…1) of sorted values, linear interpolation (NumPy 'linear'). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new EarshotError('BAD_ARGUMENT', `quantile q must be in [0, 1], got ${q}`);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Five-number summary plus mean; all NaN (n = 0) for no values. */
export function boxStats(values: readonly number[]): BoxStats {
  for (const [i, v] of values.entries()) if (!Number.isFinite(v)) throw new EarshotError('NOT_FINITE', `value ${i} is ${v}`);
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n: 0, min: NaN, q1: NaN, median: NaN, q3: NaN, max: NaN, mean: NaN };
  return {
    n,
    min: s[0]!,
    q1: quantileSorted(s, 0.25),
    median: quantileSorted(s, 0.5),
    q3: quantileSorted(s, 0.75),
    max: s[n - 1]!,
    mean: s.reduce((a, b) => a + b, 0) / n,
  };
}

/** Box stats of the fidelity of correct and of wrong explanations. */
export function fidelitySplit(rows: ReadonlyArray<{ correct: boolean; fidelity: number }>): { correct: BoxStats; wrong: BoxStats } {
  return {
    correct: boxStats(rows.filter((r) => r.correct).map((r) => r.fidelity)),
    wrong: boxStats(rows.filter((r) => !r.correct).map((r) => r.fidelity)),
  };
}
