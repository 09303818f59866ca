/**
 * The model's output for every on/off pattern of d components of one excerpt and one content
 * type, filled in lazily, and LIME / KernelSHAP fits read from it (issue 6: "predict all 2^d
 * perturbed inputs once, then every sampler draw of any N_s is a table lookup").
 *
 * Why it is exact: the classifier is a deterministic function, so the output for a design row is
 * the output for its pattern, whoever drew it. A random design of N_s = 70 000 rows over d = 10
 * components has at most 2^10 = 1 024 distinct patterns; 5 repetitions × 9 values of N_s × 3
 * samplers then cost at most 1 024 forward passes per excerpt and content type.
 *
 * Why it is usually cheaper still (a certificate, not an approximation): LIME's ridge
 * coefficients are linear in the outputs, β = H⁻¹ Σ_i w_i (z_i − z̄_w) y_i with
 * H = Σ_i w_i (z_i − z̄_w)(z_i − z̄_w)ᵀ + αI (scikit-learn's weighted, centred ridge; the
 * weights w_i = kernel × multiplicity do not depend on y). With the Euclidean distance the
 * kernel of a row with k zeros is exp(−8k) (kw = 0.25), so rows with many zeros barely move β.
 * Patterns are predicted level by level (all patterns with 0, 1, 2, … zeros); the outputs still
 * unknown are set to ½ and, since they lie in [0, 1], each β_j is within
 * r_j = ½ Σ_{i unknown} |w_i (H⁻¹(z_i − z̄_w))_j| of the exact coefficient. When the top-k set
 * (by |β| or among β > 0) is the same for every β in those intervals the set is certified exact
 * and no further pattern is predicted; otherwise the next level is predicted. With the cosine
 * distance (or KernelSHAP) the levels simply run to completion when needed.
 */
import { EarshotError, checkInt } from '../../../bindings/errors.ts';
import type { SpectrogramComponents } from '../../explain/components.ts';
import { kernelShapDesign, kernelShapFit } from '../../explain/kernelshap.ts';
import { limeDistances, limeFit, type DistanceMetric } from '../../explain/lime.ts';
import type { SampleDesign } from '../../explain/types.ts';
import type { Classifier } from '../../model/classifier.ts';
import { topComponents, type TopMode } from './metrics.ts';

/** Pattern index of a bit row: bit j set ⇔ component j kept. The original is 2^d − 1. */
export function patternOf(rows: Uint8Array, i: number, d: number): number {
  let p = 0;
  for (let j = 0; j < d; j++) if (rows[i * d + j]) p |= 1 << j;
  return p;
}

function zerosOf(p: number, d: number): number {
  let z = 0;
  for (let j = 0; j < d; j++) if (!((p >>> j) & 1)) z++;
  return z;
}

export class PredictionTable {
  /** Output for each pattern (valid where `known`). */
  readonly y: Float64Array;
  readonly known: Uint8Array;
  /** Forward passes made so far. */
  forwardPasses = 0;
  /** All patterns with at most this many zeros are known (−1: none). */
  level = -1;
  private readonly batchSize: number;
  private readonly labelIndex: number;

  constructor(
    readonly components: SpectrogramComponents,
    private readonly classifier: Classifier,
    opts: { labelIndex?: number; batchSize?: number } = {},
  ) {
    const d = components.d;
    if (d > 16) throw new EarshotError('BAD_ARGUMENT', `a prediction table needs d ≤ 16 components (2^d patterns), got ${d}`);
    this.y = new Float64Array(2 ** d);
    this.known = new Uint8Array(2 ** d);
    this.batchSize = checkInt(opts.batchSize ?? 64, 'batchSize', 1);
    this.labelIndex = checkInt(opts.labelIndex ?? 0, 'labelIndex', 0, classifier.labels.length - 1);
  }

  get d(): number {
    return this.components.d;
  }

  get size(): number {
    return this.y.length;
  }

  get complete(): boolean {
    return this.level >= this.d;
  }

  /** Predict the patterns not known yet. */
  async ensure(patterns: Iterable<number>): Promise<void> {
    const d = this.d;
    const todo: number[] = [];
    const seen = new Set<number>();
    for (const p of patterns) {
      if (!Number.isInteger(p) || p < 0 || p >= this.size) throw new EarshotError('BAD_ARGUMENT', `pattern ${p} is outside 0…${this.size - 1}`);
      if (!this.known[p] && !seen.has(p)) {
        seen.add(p);
        todo.push(p);
      }
    }
    const L = this.classifier.labels.length;
    for (let s = 0; s < todo.length; s += this.batchSize) {
      const m = Math.min(this.batchSize, todo.length - s);
      const bits = new Uint8Array(m * d);
      for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) bits[i * d + j] = (todo[s + i]! >>> j) & 1;
      const batch = this.components.composeView(bits, m);
      const out = await this.classifier.predict(batch, m);
      if (!(out instanceof Float32Array) || out.length !== m * L) throw new EarshotError('BAD_OUTPUT', `classifier '${this.classifier.id}' returned ${out?.length} values for ${m} inputs × ${L} labels`);
      for (let i = 0; i < m; i++) {
        const v = out[i * L + this.labelIndex]!;
        if (!(v >= 0 && v <= 1)) throw new EarshotError('NOT_FINITE', `classifier '${this.classifier.id}' returned ${v} for pattern ${todo[s + i]}; the table needs probabilities in [0, 1]`);
        this.y[todo[s + i]!] = v;
        this.known[todo[s + i]!] = 1;
      }
      this.forwardPasses += m;
    }
  }

  /** Predict every pattern with at most `maxZeros` zeros. */
  async ensureLevel(maxZeros: number): Promise<void> {
    const d = this.d;
    const lv = Math.min(d, maxZeros);
    if (lv <= this.level) return;
    const want: number[] = [];
    for (let p = this.size - 1; p >= 0; p--) if (!this.known[p] && zerosOf(p, d) <= lv) want.push(p);
    // fewest zeros first, so an interrupted level still helps the certificate most
    want.sort((a, b) => zerosOf(a, d) - zerosOf(b, d) || b - a);
    await this.ensure(want);
    this.level = lv;
  }

  async ensureAll(): Promise<void> {
    await this.ensureLevel(this.d);
  }

  /** The original's output (pattern 2^d − 1). */
  async original(): Promise<number> {
    await this.ensure([this.size - 1]);
    return this.y[this.size - 1]!;
  }
}

/** A sample design with what every fit on it needs: each row's pattern and distance to row 0. */
export interface PreparedDesign extends SampleDesign {
  patterns: Int32Array;
  distances: Partial<Record<DistanceMetric, Float64Array>>;
}

export function prepareDesign(design: SampleDesign): PreparedDesign {
  const patterns = new Int32Array(design.n);
  for (let i = 0; i < design.n; i++) patterns[i] = patternOf(design.rows, i, design.d);
  return { ...design, patterns, distances: {} };
}

export interface LimeTableOptions {
  distance: DistanceMetric;
  kernelWidth?: number;
  alpha?: number;
}

export interface TableFit {
  /** Ridge coefficients with unknown outputs set to ½ (exact when radius is all 0). */
  weights: Float64Array;
  /** |β_j − exact β_j| ≤ radius_j. */
  radius: Float64Array;
}

/** LIME's surrogate (src/explain/lime.ts limeFit, no feature selection) on a design, outputs from the table. */
export function limeFitFromTable(table: PredictionTable, design: PreparedDesign, o: LimeTableOptions): TableFit {
  const { n, d, rows } = design;
  if (d !== table.d) throw new EarshotError('BAD_SHAPE', `design has d = ${d}, the table ${table.d}`);
  const dist = (design.distances[o.distance] ??= limeDistances(rows, n, d, o.distance));
  const y = new Float64Array(n);
  let unknown = 0;
  for (let i = 0; i < n; i++) {
    const p = design.patterns[i]!;
    if (table.known[p]) y[i] = table.y[p]!;
    else {
      y[i] = 0.5;
      unknown++;
    }
  }
  const alpha = o.alpha ?? 1;
  const fit = limeFit(rows, y, dist, { n, d, kernelWidth: o.kernelWidth ?? 0.25, featureSelection: 'none', alpha, multiplicity: design.multiplicity, numSamples: design.numSamples });
  const radius = new Float64Array(d);
  if (unknown > 0) {
    const w = fit.sampleWeights;
    const Hinv = centredGramInverse(rows, w, n, d, alpha);
    const mean = Hinv.mean;
    const v = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      if (table.known[design.patterns[i]!]) continue;
      for (let j = 0; j < d; j++) v[j] = rows[i * d + j]! - mean[j]!;
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += Hinv.inv[a * d + b]! * v[b]!;
        radius[a] += 0.5 * Math.abs(w[i]! * s);
      }
    }
  }
  // Rounding of the two solvers (wasm Cholesky vs. this f64 inverse) is far below this margin.
  for (let j = 0; j < d; j++) radius[j] += 1e-12 * (1 + Math.abs(fit.weights[j]!));
  return { weights: fit.weights, radius };
}

/** (Σ w (z − z̄)(z − z̄)ᵀ + αI)⁻¹ by Gauss–Jordan with partial pivoting (d ≤ 16, f64), and z̄_w. */
function centredGramInverse(rows: Uint8Array, w: Float64Array, n: number, d: number, alpha: number): { inv: Float64Array; mean: Float64Array } {
  const mean = new Float64Array(d);
  let sw = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i]!;
    for (let j = 0; j < d; j++) mean[j] += w[i]! * rows[i * d + j]!;
  }
  for (let j = 0; j < d; j++) mean[j] /= sw;
  const A = new Float64Array(d * 2 * d);
  const W2 = 2 * d;
  const v = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    for (let j = 0; j < d; j++) v[j] = rows[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) A[a * W2 + b] += wi * v[a]! * v[b]!;
  }
  for (let a = 0; a < d; a++) {
    A[a * W2 + a] += alpha;
    A[a * W2 + d + a] = 1;
  }
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r * W2 + c]!) > Math.abs(A[piv * W2 + c]!)) piv = r;
    if (A[piv * W2 + c] === 0) throw new EarshotError('SINGULAR', 'the centred Gram matrix of the design is singular (α = 0 and a constant column?)');
    if (piv !== c) for (let k = 0; k < W2; k++) [A[c * W2 + k], A[piv * W2 + k]] = [A[piv * W2 + k]!, A[c * W2 + k]!];
    const inv = 1 / A[c * W2 + c]!;
    for (let k = 0; k < W2; k++) A[c * W2 + k] *= inv;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = A[r * W2 + c]!;
      if (f !== 0) for (let k = 0; k < W2; k++) A[r * W2 + k] -= f * A[c * W2 + k]!;
    }
  }
  const out = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) out[a * d + b] = A[a * W2 + d + b]!;
  return { inv: out, mean };
}

/**
 * The top-k set of `fit` if every coefficient vector within the radii gives the same set
 * (topComponents semantics), else null.
 */
export function certifiedTop(fit: TableFit, k: number, mode: TopMode): number[] | null {
  const { weights: b, radius: r } = fit;
  const top = topComponents(b, k, mode);
  const inTop = new Set(top);
  if (mode === 'abs') {
    // Every chosen |β| stays above every other |β|: min over chosen of the lower bound of |β|,
    // max over the rest of the upper bound.
    if (top.length === b.length) return top;
    let lo = Infinity;
    for (const j of top) lo = Math.min(lo, Math.max(0, Math.abs(b[j]!) - r[j]!));
    for (let j = 0; j < b.length; j++) if (!inTop.has(j) && Math.abs(b[j]!) + r[j]! >= lo) return null;
    return top;
  }
  // positive: every chosen β stays > 0 and above every other β's upper bound; if fewer than k
  // are chosen, every other β must stay ≤ 0.
  let lo = Infinity;
  for (const j of top) {
    if (b[j]! - r[j]! <= 0) return null;
    lo = Math.min(lo, b[j]! - r[j]!);
  }
  for (let j = 0; j < b.length; j++) {
    if (inTop.has(j)) continue;
    const hi = b[j]! + r[j]!;
    if (top.length < k ? hi > 0 : hi >= lo) return null;
  }
  return top;
}

/**
 * Certified top-k sets of a LIME fit on `design` for each mode, predicting further levels of
 * the table until every set is certified (at the latest when the table is complete, where the
 * fit is exact).
 */
export async function certifiedLimeTops(table: PredictionTable, design: PreparedDesign, o: LimeTableOptions, k: number, modes: readonly TopMode[]): Promise<{ tops: Record<TopMode, number[]>; weights: Float64Array }> {
  if (table.level < 1) await table.ensureLevel(1);
  for (;;) {
    const fit = limeFitFromTable(table, design, o);
    const tops = {} as Record<TopMode, number[]>;
    let ok = true;
    for (const m of modes) {
      const t = table.complete ? topComponents(fit.weights, k, m) : certifiedTop(fit, k, m);
      if (!t) {
        ok = false;
        break;
      }
      tops[m] = t;
    }
    if (ok) return { tops, weights: fit.weights };
    await table.ensureLevel(table.level + 1);
  }
}

let shapDesignCache: { d: number; rows: Uint8Array; n: number; weights: Float64Array; patterns: Int32Array } | null = null;

/** Exact KernelSHAP values (all 2^d − 2 coalitions, src/explain/kernelshap.ts) from a complete table. */
export async function kernelShapFromTable(table: PredictionTable): Promise<Float64Array> {
  await table.ensureAll();
  const d = table.d;
  if (!shapDesignCache || shapDesignCache.d !== d) {
    const des = kernelShapDesign(d, 2 ** d - 2, 0, 'exhaustive');
    const patterns = new Int32Array(des.n);
    for (let i = 0; i < des.n; i++) patterns[i] = patternOf(des.rows, i, d);
    shapDesignCache = { d, rows: des.rows, n: des.n, weights: des.weights, patterns };
  }
  const s = shapDesignCache;
  const y = new Float64Array(s.n);
  for (let i = 0; i < s.n; i++) y[i] = table.y[s.patterns[i]!]!;
  return kernelShapFit(s.rows, y, s.weights, s.n, d, table.y[table.size - 1]!, table.y[0]!).phi;
}
