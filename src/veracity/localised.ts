/**
 * "Localised" perturbations (Praher, Prinz et al. 2021, Sec. 5.3, Fig. 3; methods.md §6): keep
 * only the k ∈ {1, 3, 5} largest-norm segments of an adversarial perturbation; for the excerpts
 * whose label still flips, ask the explainer for k components and count how many of the k
 * perturbed segments it names. Also the k = 1 split of Fig. 4: was the explanation "correct"
 * (its first component is the perturbed one)?
 *
 * As in the reference (create_subset_perturbation_figure.py), the explainer's k components are
 * the first k of its ranking for the adversarial label (flip.ts: rankForTarget), whatever their
 * sign. Pure functions.
 */
import { EarshotError, checkInt } from '../../bindings/errors.ts';

/** How many of the `truth` components are among the first k of `ranking` (k = truth.length by default). */
export function recovered(truth: readonly number[], ranking: readonly number[], k = truth.length): number {
  checkInt(k, 'k', 0, ranking.length);
  const t = new Set(truth);
  if (t.size !== truth.length) throw new EarshotError('BAD_ARGUMENT', `truth has repeated components: [${truth.join(', ')}]`);
  let n = 0;
  for (const j of ranking.slice(0, k)) if (t.has(j)) n++;
  return n;
}

/** Counts of 0…k recovered segments (index = number recovered). */
export function recoveryHistogram(counts: readonly number[], k: number): number[] {
  checkInt(k, 'k', 1);
  const h = new Array<number>(k + 1).fill(0);
  for (const c of counts) {
    checkInt(c, 'recovered count', 0, k);
    h[c]++;
  }
  return h;
}

/** Mean fraction of the k segments recovered (NaN without excerpts). */
export function meanRecoveredFraction(counts: readonly number[], k: number): number {
  if (counts.length === 0) return NaN;
  return counts.reduce((s, c) => s + c, 0) / (counts.length * k);
}
