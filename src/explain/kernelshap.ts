/**
 * KernelSHAP (Lundberg & Lee 2017, Theorem 2; methods.md §3) on the same components as SLIME:
 * Shapley values φ as the weighted least-squares fit of f(h(z)) − f(∅) = Σ_j φ_j z_j over
 * coalitions z with the Shapley kernel π(z) = (d − 1) / (C(d,|z|)·|z|·(d − |z|)), under the
 * efficiency constraint Σ φ_j = f(x) − f(∅), enforced exactly by eliminating the last variable
 * (as the SHAP package and Captum do): with Δ = f(x) − f(∅),
 *   y − f(∅) − z_{d−1}·Δ = Σ_{j<d−1} φ_j (z_j − z_{d−1}),  φ_{d−1} = Δ − Σ_{j<d−1} φ_j.
 * The empty and full coalitions (π = ∞) only enter through f(∅) and f(x).
 *
 * Designs: `exhaustive` — all 2^d − 2 proper coalitions weighted by π (exact Shapley values for
 * any f, d ≤ 16); `sampled` — N coalitions drawn by size s ∈ [1, d−1] with probability ∝
 * (d − 1)/(s(d − s)) (the kernel's mass per size), then a uniform subset of that size (seeded
 * Rng), each with weight 1 (duplicates merged, with their counts as weights).
 */
import { EarshotError, checkArray, checkInt, checkNumber } from '../../bindings/errors.ts';
import { weightedRidge, weightedR2 } from '../../bindings/lime.ts';
import { Rng } from './rng.ts';

/** log C(d, k). */
function logBinom(d: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(d - k + i) - Math.log(i);
  return s;
}

/** π for a coalition of size s out of d (Infinity for s = 0 or d). */
export function shapleyKernel(d: number, s: number): number {
  if (s === 0 || s === d) return Infinity;
  return (d - 1) / (Math.exp(logBinom(d, s)) * s * (d - s));
}

export interface KernelShapDesign {
  /** n × d coalitions (neither empty nor full). */
  rows: Uint8Array;
  n: number;
  d: number;
  /** Regression weight of each row. */
  weights: Float64Array;
  mode: 'exhaustive' | 'sampled';
}

/**
 * Coalitions for KernelSHAP: exhaustive when `numSamples` ≥ 2^d − 2 (or mode 'exhaustive'),
 * else `numSamples` sampled coalitions (seeded).
 */
export function kernelShapDesign(d: number, numSamples: number, seed: number, mode: 'auto' | 'exhaustive' | 'sampled' = 'auto'): KernelShapDesign {
  checkInt(d, 'd (number of components)', 2, 4096);
  checkInt(numSamples, 'numSamples', 1, 1 << 28);
  const full = d <= 30 ? 2 ** d - 2 : Infinity;
  const exhaustive = mode === 'exhaustive' || (mode === 'auto' && numSamples >= full);
  if (exhaustive) {
    if (d > 16) throw new EarshotError('BAD_ARGUMENT', `KernelSHAP exhaustive design needs d ≤ 16, got d = ${d}`);
    const rows = new Uint8Array(full * d);
    const weights = new Float64Array(full);
    for (let p = 1; p <= full; p++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const b = (p >>> j) & 1;
        rows[(p - 1) * d + j] = b;
        s += b;
      }
      weights[p - 1] = shapleyKernel(d, s);
    }
    return { rows, n: full, d, weights, mode: 'exhaustive' };
  }
  const rng = new Rng(seed);
  const mass = Array.from({ length: d - 1 }, (_, i) => (d - 1) / ((i + 1) * (d - i - 1)));
  const total = mass.reduce((a, b) => a + b, 0);
  const perm = Array.from({ length: d }, (_, j) => j);
  const index = new Map<string, number>();
  const rowList: Uint8Array[] = [];
  const counts: number[] = [];
  for (let i = 0; i < numSamples; i++) {
    let u = rng.uniform() * total;
    let s = 1;
    while (s < d - 1 && u >= mass[s - 1]!) u -= mass[s++ - 1]!;
    for (let k = 0; k < s; k++) {
      const r = k + rng.below(d - k);
      [perm[k], perm[r]] = [perm[r]!, perm[k]!];
    }
    const row = new Uint8Array(d);
    for (let k = 0; k < s; k++) row[perm[k]!] = 1;
    const key = row.join('');
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, rowList.length);
      rowList.push(row);
      counts.push(1);
    } else counts[at]!++;
  }
  const rows = new Uint8Array(rowList.length * d);
  rowList.forEach((r, i) => rows.set(r, i * d));
  return { rows, n: rowList.length, d, weights: Float64Array.from(counts), mode: 'sampled' };
}

export interface KernelShapFit {
  /** φ per component; Σφ = f(x) − f(∅) exactly (up to rounding). */
  phi: Float64Array;
  /** f(∅): the base value (the surrogate's intercept). */
  base: number;
  /** f(x). */
  full: number;
  /** Weighted R² of f(∅) + Σ φ_j z_j on the coalitions. */
  score: number;
}

/**
 * Constrained weighted least squares of KernelSHAP. rows: n × d coalitions, y: f at each,
 * weights: π(z) (× multiplicity), fx = f(x), f0 = f(∅).
 */
export function kernelShapFit(rows: Uint8Array, y: Float64Array | Float32Array, weights: Float64Array, n: number, d: number, fx: number, f0: number): KernelShapFit {
  checkInt(n, 'n (number of coalitions)');
  checkInt(d, 'd (number of components)', 2);
  checkArray(rows, Uint8Array, 'rows', n * d);
  checkArray(weights, Float64Array, 'weights', n);
  if (y.length !== n) throw new EarshotError('BAD_SHAPE', `y must have n = ${n} values, got ${y.length}`);
  checkNumber(fx, 'f(x)');
  checkNumber(f0, 'f(∅)');
  const delta = fx - f0;
  const k = d - 1;
  const X = new Float64Array(n * k);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const zl = rows[i * d + k]!;
    for (let j = 0; j < k; j++) X[i * k + j] = rows[i * d + j]! - zl;
    t[i] = y[i]! - f0 - zl * delta;
  }
  const fit = weightedRidge(X, t, weights, { n, d: k, alpha: 0, fitIntercept: false });
  const phi = new Float64Array(d);
  let s = 0;
  for (let j = 0; j < k; j++) {
    phi[j] = fit.coef[j]!;
    s += phi[j]!;
  }
  phi[k] = delta - s;
  const score = weightedR2(rows, y instanceof Float64Array ? y : Float64Array.from(y), weights, phi, f0, { n, d });
  return { phi, base: f0, full: fx, score };
}
