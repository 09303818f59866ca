/**
 * The LIME surrogate (methods.md §3; Ribeiro et al. 2016, the `explain_instance_with_data` step
 * of LIME's lime_base): given the interpretable samples Z (row 0 = the original), the model's
 * outputs y and each sample's distance to row 0, weight the samples with the kernel
 * sqrt(exp(−d²/w²)), pick features (none | auto | highest_weights | forward_selection |
 * lasso_path), fit a weighted ridge (α = 1, intercept) on them and report its coefficients, the
 * weighted R² ("score") and its prediction at row 0. How the samples were made is not this
 * module's business (samplers.ts, explain.ts).
 *
 * Multiplicities: a row standing for m identical samples gets weight m·π(z). Weighted least
 * squares, weighted R², weighted means and the Gram matrix of the LARS path only ever see Σ over
 * rows of w·(…), so this is exactly the fit on the expanded samples (the dedup and exhaustive
 * samplers rely on it). The one place LIME uses the raw number of rows, LARS's α = C / n_samples
 * stopping test, takes `numSamples` (Σ multiplicity) instead of the deduplicated row count.
 */
import { EarshotError, check, checkArray, checkEnum, checkInt, checkNumber } from '../../bindings/errors.ts';
import { weightedRidge, type DesignMatrix } from '../../bindings/lime.ts';

export type DistanceMetric = 'cosine' | 'euclidean';
export type FeatureSelection = 'none' | 'auto' | 'highest_weights' | 'forward_selection' | 'lasso_path';
export const FEATURE_SELECTIONS: readonly FeatureSelection[] = ['none', 'auto', 'highest_weights', 'forward_selection', 'lasso_path'];

export interface LimeOptions {
  /** Rows (samples) and columns (components) of Z. */
  n: number;
  d: number;
  /** Kernel width kw of sqrt(exp(−d²/kw²)); LIME's image default 0.25. */
  kernelWidth?: number;
  /** Default 'auto' (LIME's default): forward_selection if numFeatures ≤ 6, else highest_weights. */
  featureSelection?: FeatureSelection;
  /** K features kept by the selection (default d: all). */
  numFeatures?: number;
  /** Ridge penalty of the surrogate (LIME: 1). */
  alpha?: number;
  /** Ridge penalty of highest_weights' ranking fit: 0.01 in current LIME, 0 in the copy SLIME used. */
  selectionAlpha?: number;
  /** Samples each row stands for (dedup / exhaustive designs); default 1 each. */
  multiplicity?: Float64Array;
  /** N_s for LARS's stopping test (default Σ multiplicity). */
  numSamples?: number;
}

export interface LimeFit {
  intercept: number;
  /** Coefficient per component (0 for the ones not selected). */
  weights: Float64Array;
  /** Selected components sorted by |coef| descending (stable: ties keep selection order). */
  features: Array<{ index: number; weight: number }>;
  /** Weighted R² of the surrogate on its samples. */
  score: number;
  /** The surrogate at row 0. */
  localPrediction: number;
  /** The components the selection kept, in the order it kept them. */
  used: number[];
  /** The sample weights of the fit: kernel × multiplicity. */
  sampleWeights: Float64Array;
}

/** Distance of every row of Z (n × d) to row 0: sklearn's pairwise cosine (1 − cos, zero row → 1) or Euclidean. */
export function limeDistances(Z: DesignMatrix, n: number, d: number, metric: DistanceMetric = 'cosine'): Float64Array {
  checkEnum(metric, 'distance', ['cosine', 'euclidean']);
  const out = new Float64Array(n);
  let n0 = 0;
  for (let j = 0; j < d; j++) n0 += Z[j]! * Z[j]!;
  const inv0 = n0 > 0 ? 1 / Math.sqrt(n0) : 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let dot = 0;
    let nn = 0;
    for (let j = 0; j < d; j++) {
      const v = Z[o + j]!;
      dot += v * Z[j]!;
      nn += v * v;
    }
    if (metric === 'cosine') {
      // sklearn normalises both rows first (a zero row stays zero: similarity 0, distance 1), clips to [0, 2]
      const inv = nn > 0 ? 1 / Math.sqrt(nn) : 0;
      out[i] = Math.min(2, Math.max(0, 1 - dot * inv * inv0));
    } else {
      out[i] = Math.sqrt(Math.max(0, nn - 2 * dot + n0));
    }
  }
  return out;
}

/** LIME's kernel: sqrt(exp(−d²/kw²)). */
export function limeKernel(distances: Float64Array, kernelWidth = 0.25): Float64Array {
  checkNumber(kernelWidth, 'kernelWidth', Number.MIN_VALUE);
  const w = new Float64Array(distances.length);
  for (let i = 0; i < w.length; i++) w[i] = Math.sqrt(Math.exp(-(distances[i]! ** 2) / kernelWidth ** 2));
  return w;
}

function columns(Z: DesignMatrix, n: number, d: number, cols: readonly number[]): Float64Array {
  const k = cols.length;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = Z[i * d + cols[c]!]!;
  return out;
}

/** Weighted, centred Gram matrix G = X̃ᵀX̃ and X̃ᵀỹ with X̃ = √w (X − x̄_w), ỹ = √w (y − ȳ_w). */
export function weightedGram(Z: DesignMatrix, y: Float64Array, w: Float64Array, n: number, d: number): { G: Float64Array; c: Float64Array } {
  let sw = 0;
  let sy = 0;
  const xm = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    sw += wi;
    sy += wi * y[i]!;
    for (let j = 0; j < d; j++) xm[j] += wi * Z[i * d + j]!;
  }
  for (let j = 0; j < d; j++) xm[j] /= sw;
  const ym = sy / sw;
  const G = new Float64Array(d * d);
  const c = new Float64Array(d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    for (let j = 0; j < d; j++) row[j] = Z[i * d + j]! - xm[j]!;
    for (let j = 0; j < d; j++) {
      const a = wi * row[j]!;
      c[j] += a * (y[i]! - ym);
      for (let k = j; k < d; k++) G[j * d + k] += a * row[k]!;
    }
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) G[j * d + k] = G[k * d + j]!;
  return { G, c };
}

const EPS = 2 ** -52;
const TINY32 = 1.1754943508222875e-38;
const EPS32 = 2 ** -23;
/** np.around(x, 15): numpy rounds half to even after scaling. */
function around15(x: number): number {
  const s = x * 1e15;
  let r = Math.round(s);
  if (Math.abs(s - Math.trunc(s)) === 0.5 && r % 2 !== 0) r -= 1;
  return r / 1e15;
}
function minPos(a: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > 0 && a[i]! < m) m = a[i]!;
  return m;
}

/** Cholesky factor (lower, row-major k×k) of G restricted to `idx`, diagonal floored like sklearn's LARS. */
function choleskyOf(G: Float64Array, d: number, idx: readonly number[]): Float64Array {
  const k = idx.length;
  const L = new Float64Array(k * k);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < r; c++) {
      let s = G[idx[r]! * d + idx[c]!]!;
      for (let q = 0; q < c; q++) s -= L[r * k + q]! * L[c * k + q]!;
      L[r * k + c] = s / L[c * k + c]!;
    }
    let v = 0;
    for (let q = 0; q < r; q++) v += L[r * k + q]! ** 2;
    L[r * k + r] = Math.max(Math.sqrt(Math.abs(G[idx[r]! * d + idx[r]!]! - v)), EPS);
  }
  return L;
}

function cholSolve(L: Float64Array, k: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(b);
  for (let r = 0; r < k; r++) {
    let s = x[r]!;
    for (let q = 0; q < r; q++) s -= L[r * k + q]! * x[q]!;
    x[r] = s / L[r * k + r]!;
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let q = r + 1; q < k; q++) s -= L[q * k + r]! * x[q]!;
    x[r] = s / L[r * k + r]!;
  }
  return x;
}

/**
 * The lasso path by LARS (Efron et al. 2004, with the lasso modification), as scikit-learn's
 * `lars_path(X, y, method='lasso')` computes it, from the Gram form: G = XᵀX and c = Xᵀy.
 * Returns the coefficients after each step (first = all zero). `nSamples` scales α = C / n for
 * the stopping test (α ≤ float32 ε).
 */
export function larsLassoPath(G: Float64Array, c: Float64Array, d: number, nSamples: number, maxIter = 500): Float64Array[] {
  const path: Float64Array[] = [new Float64Array(d)];
  const cov = Float64Array.from(c); // correlations of the inactive variables (active ones ignored)
  const inactive = new Array<boolean>(d).fill(true);
  let active: number[] = [];
  let signs: number[] = [];
  let L: Float64Array = new Float64Array(0);
  let drop = false;
  let prevAlpha = Infinity;
  let nIter = 0;
  for (;;) {
    let cIdx = -1;
    let C = 0;
    for (let j = 0; j < d; j++) {
      if (inactive[j] && (cIdx < 0 || Math.abs(cov[j]!) > C)) {
        cIdx = j;
        C = Math.abs(cov[j]!);
      }
    }
    const alpha = C / nSamples;
    if (alpha <= EPS32) break;
    if (nIter >= maxIter || active.length >= d) break;
    if (!drop) {
      const k = active.length;
      // the new pivot of the active set's Cholesky factor; a degenerate one is set aside for good
      const w = new Float64Array(k);
      for (let r = 0; r < k; r++) {
        let s = G[active[r]! * d + cIdx]!;
        for (let q = 0; q < r; q++) s -= L[r * k + q]! * w[q]!;
        w[r] = s / L[r * k + r]!;
      }
      let v = 0;
      for (let r = 0; r < k; r++) v += w[r]! ** 2;
      const diag = Math.max(Math.sqrt(Math.abs(G[cIdx * d + cIdx]! - v)), EPS);
      if (diag < 1e-7) {
        cov[cIdx] = 0;
        continue;
      }
      signs.push(Math.sign(cov[cIdx]!));
      active.push(cIdx);
      inactive[cIdx] = false;
      const L2 = new Float64Array((k + 1) * (k + 1));
      for (let r = 0; r < k; r++) for (let q = 0; q <= r; q++) L2[r * (k + 1) + q] = L[r * k + q]!;
      for (let q = 0; q < k; q++) L2[k * (k + 1) + q] = w[q]!;
      L2[k * (k + 1) + k] = diag;
      L = L2;
    }
    if (nIter > 0 && prevAlpha < alpha) break; // alpha went up: residues too small to control
    const k = active.length;
    let ls = cholSolve(L, k, signs);
    let AA: number;
    if (k === 1 && ls[0] === 0) {
      ls[0] = 1;
      AA = 1;
    } else {
      let s = 0;
      for (let r = 0; r < k; r++) s += ls[r]! * signs[r]!;
      AA = 1 / Math.sqrt(s);
      for (let i = 0; !Number.isFinite(AA); i++) {
        const Lr = L.slice();
        for (let r = 0; r < k; r++) Lr[r * k + r] += 2 ** i * EPS;
        ls = cholSolve(Lr, k, signs);
        let t = 0;
        for (let r = 0; r < k; r++) t += ls[r]! * signs[r]!;
        AA = 1 / Math.sqrt(Math.max(t, EPS));
      }
      for (let r = 0; r < k; r++) ls[r] *= AA;
    }
    let gamma = C / AA;
    const corr = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      if (!inactive[j]) continue;
      let s = 0;
      for (let r = 0; r < k; r++) s += G[active[r]! * d + j]! * ls[r]!;
      corr[j] = around15(s);
      const g1 = (C - cov[j]!) / (AA - corr[j]! + TINY32);
      const g2 = (C + cov[j]!) / (AA + corr[j]! + TINY32);
      if (g1 > 0 && g1 < gamma) gamma = g1;
      if (g2 > 0 && g2 < gamma) gamma = g2;
    }
    const prev = path[path.length - 1]!;
    const z = active.map((j, r) => -prev[j]! / (ls[r]! + TINY32));
    const zPos = minPos(z);
    drop = zPos < gamma;
    if (drop) gamma = zPos;
    nIter++;
    const coef = new Float64Array(d);
    for (let r = 0; r < k; r++) coef[active[r]!] = prev[active[r]!]! + gamma * ls[r]!;
    path.push(coef);
    for (let j = 0; j < d; j++) if (inactive[j]) cov[j] -= gamma * corr[j]!;
    prevAlpha = alpha;
    if (drop) {
      const gone = active.filter((_, r) => z[r] === zPos);
      const keep = active.map((_, r) => z[r] !== zPos);
      signs = signs.filter((_, r) => keep[r]);
      active = active.filter((_, r) => keep[r]);
      for (const j of gone) {
        inactive[j] = true;
        let s = c[j]!;
        for (let q = 0; q < d; q++) s -= G[j * d + q]! * coef[q]!;
        cov[j] = s;
      }
      L = choleskyOf(G, d, active);
    }
  }
  return path;
}

function ridge(Z: DesignMatrix, y: Float64Array, w: Float64Array, n: number, d: number, cols: readonly number[] | null, alpha: number) {
  const X = cols === null ? Z : columns(Z, n, d, cols);
  return weightedRidge(X, y, w, { n, d: cols === null ? d : cols.length, alpha, fitIntercept: true });
}

/** LIME's feature selection; returns component indices in the order the method keeps them. */
export function selectFeatures(
  Z: DesignMatrix,
  y: Float64Array,
  w: Float64Array,
  n: number,
  d: number,
  method: FeatureSelection,
  numFeatures: number,
  opts: { selectionAlpha?: number; numSamples?: number } = {},
): number[] {
  const all = Array.from({ length: d }, (_, j) => j);
  if (method === 'none') return all;
  if (method === 'auto') method = numFeatures <= 6 ? 'forward_selection' : 'highest_weights';
  if (method === 'forward_selection') {
    const used: number[] = [];
    for (let step = 0; step < Math.min(numFeatures, d); step++) {
      let best = 0;
      let max = -100000000;
      for (let f = 0; f < d; f++) {
        if (used.includes(f)) continue;
        const score = ridge(Z, y, w, n, d, [...used, f], 0).score;
        if (score > max) {
          best = f;
          max = score;
        }
      }
      used.push(best);
    }
    return used;
  }
  if (method === 'highest_weights') {
    const fit = ridge(Z, y, w, n, d, null, opts.selectionAlpha ?? 0.01);
    return all
      .map((j) => ({ j, v: fit.coef[j]! * Z[j]! }))
      .sort((a, b) => Math.abs(b.v) - Math.abs(a.v))
      .slice(0, numFeatures)
      .map((e) => e.j);
  }
  // lasso_path: the largest set on the LARS-lasso path with ≤ numFeatures nonzero coefficients
  const { G, c } = weightedGram(Z, y, w, n, d);
  const path = larsLassoPath(G, c, d, opts.numSamples ?? n);
  let nonzero = all;
  for (let i = path.length - 1; i > 0; i--) {
    nonzero = all.filter((j) => path[i]![j] !== 0);
    if (nonzero.length <= numFeatures) break;
  }
  return nonzero;
}

/**
 * Fit the LIME surrogate on (Z, y) with the samples' distances to row 0 (LIME's
 * `explain_instance_with_data` for one label).
 */
export function limeFit(Z: DesignMatrix, y: Float64Array | Float32Array, distances: Float64Array, options: LimeOptions): LimeFit {
  if (options === null || typeof options !== 'object') throw new EarshotError('BAD_ARGUMENT', 'limeFit: options must be an object with n and d');
  const n = checkInt(options.n, 'n (number of samples)');
  const d = checkInt(options.d, 'd (number of components)');
  checkArray(distances, Float64Array, 'distances', n);
  check(y instanceof Float64Array || y instanceof Float32Array, 'y must be a Float64Array or Float32Array');
  check(y.length === n, `y must have n = ${n} values, got ${y.length}`, 'BAD_SHAPE');
  const yy = y instanceof Float64Array ? y : Float64Array.from(y);
  const method = checkEnum(options.featureSelection ?? 'auto', 'featureSelection', FEATURE_SELECTIONS);
  const K = checkInt(options.numFeatures ?? d, 'numFeatures', 1, d);
  const alpha = checkNumber(options.alpha ?? 1, 'alpha', 0);
  const selectionAlpha = checkNumber(options.selectionAlpha ?? 0.01, 'selectionAlpha', 0);
  const w = limeKernel(distances, options.kernelWidth ?? 0.25);
  if (options.multiplicity !== undefined) {
    const m = checkArray(options.multiplicity, Float64Array, 'multiplicity', n);
    for (let i = 0; i < n; i++) {
      check(Number.isFinite(m[i]!) && m[i]! >= 0, `multiplicity[${i}] must be finite and ≥ 0, got ${m[i]}`);
      w[i] *= m[i]!;
    }
  }
  let numSamples = options.numSamples;
  if (numSamples === undefined) numSamples = options.multiplicity ? options.multiplicity.reduce((a, b) => a + b, 0) : n;
  checkNumber(numSamples, 'numSamples', Number.MIN_VALUE);
  const used = selectFeatures(Z, yy, w, n, d, method, K, { selectionAlpha, numSamples });
  if (used.length === 0) throw new EarshotError('NO_FEATURES', `featureSelection '${method}' selected no component (the responses do not vary with the samples)`);
  const fit = ridge(Z, yy, w, n, d, used.length === d && used.every((j, i) => j === i) ? null : used, alpha);
  const weights = new Float64Array(d);
  let dot = 0;
  used.forEach((j, i) => {
    weights[j] = fit.coef[i]!;
    dot += fit.coef[i]! * Z[j]!;
  });
  const local = dot + fit.intercept;
  const features = used.map((j, i) => ({ index: j, weight: fit.coef[i]! })).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  return { intercept: fit.intercept, weights, features, score: fit.score, localPrediction: local, used, sampleWeights: w };
}
