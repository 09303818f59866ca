/**
 * The two numbers of the SLIME robustness study (Mishra et al. 2020, "Reliable local explanations
 * for machine listening", Sec. IV–V; methods.md §4), over explanations given as lists of
 * component indices:
 * - U_n = |E_1 ∪ … ∪ E_k|: unique components over k repeated top-3 explanations of one input
 *   (3 = perfectly stable, 10 = the worst for d = 10);
 * - N_ce = |E_a ∩ E_b|: components two explanations have in common (with a content type's
 *   explanation against `zero`'s, or against the ground truth G of a synthetic instance).
 * And the two ways the paper picks an explanation's top-k from the surrogate's weights: by |w|
 * ("positively or negatively influencing", Sec. IV; the reference code's
 * get_image_and_mask(positive_only=False)) and the k largest positive weights (Sec. V).
 */
import { EarshotError, checkInt } from '../../../bindings/errors.ts';

export type TopMode = 'abs' | 'positive';
export const TOP_MODES: readonly TopMode[] = ['abs', 'positive'];

function checkList(list: unknown, what: string): readonly number[] {
  if (!Array.isArray(list) && !ArrayBuffer.isView(list)) throw new EarshotError('BAD_ARGUMENT', `${what} must be a list of component indices, got ${typeof list}`);
  const a = list as ArrayLike<number>;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!Number.isInteger(v) || v < 0) throw new EarshotError('BAD_ARGUMENT', `${what} holds ${v}; component indices are integers ≥ 0`);
  }
  return list as readonly number[];
}

/** U_n: the number of distinct components over repeated explanations. */
export function uniqueComponents(explanations: ReadonlyArray<readonly number[]>): number {
  if (!Array.isArray(explanations) || explanations.length === 0) throw new EarshotError('BAD_ARGUMENT', 'uniqueComponents needs at least one explanation (a list of component lists)');
  const s = new Set<number>();
  explanations.forEach((e, i) => {
    for (const j of checkList(e, `explanation ${i}`)) s.add(j);
  });
  return s.size;
}

/** N_ce: the number of components two explanations share (order does not matter). */
export function commonComponents(a: readonly number[], b: readonly number[]): number {
  const sb = new Set(checkList(b, 'second explanation'));
  let n = 0;
  for (const j of new Set(checkList(a, 'first explanation'))) if (sb.has(j)) n++;
  return n;
}

/**
 * The top-k components of a weight vector: `abs` = the k largest |w| (ties keep index order,
 * like a stable sort of LIME's list); `positive` = the k largest w > 0 (may be fewer than k).
 */
export function topComponents(weights: ArrayLike<number>, k: number, mode: TopMode): number[] {
  checkInt(k, 'k (top-k)', 0);
  if (mode !== 'abs' && mode !== 'positive') throw new EarshotError('BAD_ARGUMENT', `top mode must be 'abs' or 'positive', got ${JSON.stringify(mode)}`);
  const idx: number[] = [];
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j]!;
    if (!Number.isFinite(w)) throw new EarshotError('NOT_FINITE', `weight ${j} is ${w}`);
    if (mode === 'abs' || w > 0) idx.push(j);
  }
  idx.sort((p, q) => Math.abs(weights[q]!) - Math.abs(weights[p]!) || p - q);
  return idx.slice(0, k);
}

/** Counts of each value 0 … max in `values` (values outside are an error). */
export function histogram(values: readonly number[], max: number): number[] {
  const h = new Array<number>(max + 1).fill(0);
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new EarshotError('BAD_ARGUMENT', `histogram: value ${v} is outside 0…${max}`);
    h[v]!++;
  }
  return h;
}

/** Median, quartiles, mean of a sample (linear interpolation between order statistics, like NumPy's default). */
export function summarise(values: readonly number[]): { n: number; mean: number; median: number; q1: number; q3: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n: 0, mean: NaN, median: NaN, q1: NaN, q3: NaN, min: NaN, max: NaN };
  const q = (p: number) => {
    const h = (n - 1) * p;
    const lo = Math.floor(h);
    return s[lo]! + (h - lo) * ((s[Math.min(n - 1, lo + 1)] ?? s[lo]!) - s[lo]!);
  };
  return { n, mean: s.reduce((a, b) => a + b, 0) / n, median: q(0.5), q1: q(0.25), q3: q(0.75), min: s[0]!, max: s[n - 1]! };
}
