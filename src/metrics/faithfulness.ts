/**
 * Faithfulness metrics of a mask explanation (methods.md §8; L-MAC, Paissan et al. 2024, §3.1,
 * paper 004), per sample, then averaged. With p the classifier's class probabilities on the
 * original input X, on the masked-in input X_in = M ⊙ X and on the masked-out input
 * X_out = (1 − M) ⊙ X, and c the class predicted on X:
 *
 * - AI  = 100 · 1[p_c(X_in) > p_c(X)]                      (Chattopadhay et al. 2018; ↑)
 * - AD  = 100 · max(0, p_c(X) − p_c(X_in)) / p_c(X)         (Chattopadhay et al. 2018; ↓)
 * - AG  = 100 · max(0, p_c(X_in) − p_c(X)) / (1 − p_c(X))   (Zhang et al. 2023; ↑)
 * - FF  = p_c(X) − p_c(X_out)                               (Parekh et al. 2022; ↑)
 * - Fid-In = 1[argmax p(X_in) = c]                          (Paissan et al. 2023; ↑)
 * - SPS = the Gini index of |M| (Chalasani et al. 2020, Quantus `Sparseness`; ↑)
 * - COMP = the entropy of |M| / Σ|M| (Bhatt et al. 2020, Quantus `Complexity`; ↓)
 * - MM  = the mean mask value (L-MAC Table 4)
 *
 * A binary sigmoid detector (one output column, P(label)) is read as the two-class vector
 * [1 − P, P] with c = 1[P ≥ 0.5], as methods.md §8 states. The L-MAC reference code applies the
 * softmax a second time to probabilities inside AD (which caps AD at 1 − 1/e ≈ 63.2 % for many
 * classes); `adParity` reproduces that variant, `ad` is the textbook one.
 *
 * Degenerate denominators: AD with p_c(X) = 0 cannot happen for the predicted class of a
 * two-class vector (p_c ≥ 0.5); AG with p_c(X) = 1 (a saturated float32 sigmoid) has nothing to
 * gain and counts 0.
 */
import { EarshotError, checkArray } from '../../bindings/errors.ts';

/** Class probabilities of one input: a binary detector's P(label) or a K-class vector. */
export type ClassProbs = number | ArrayLike<number>;

/** Per-sample metrics of one (input, mask) pair. */
export interface SampleMetrics {
  /** Class explained (argmax on X; for a binary detector 1 = the label, 0 = its absence). */
  c: number;
  /** p_c(X), p_c(X_in), p_c(X_out). */
  p: number;
  pIn: number;
  pOut: number;
  ai: number;
  ad: number;
  /** AD of the reference code (softmax applied to the probabilities again). */
  adParity: number;
  ag: number;
  ff: number;
  fidIn: number;
  sps: number;
  comp: number;
  mm: number;
}

/** Averages over samples (same names), plus how many samples they rest on. */
export type MetricAverages = Omit<SampleMetrics, 'c' | 'p' | 'pIn' | 'pOut'> & { n: number };

export const METRIC_NAMES = ['ai', 'ad', 'adParity', 'ag', 'ff', 'fidIn', 'sps', 'comp', 'mm'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** The two- or K-class probability vector of `p` (a number = a binary detector's P(label)). */
export function classVector(p: ClassProbs, name = 'probabilities'): Float64Array {
  if (typeof p === 'number') {
    if (!(p >= 0 && p <= 1)) throw new EarshotError('BAD_ARGUMENT', `${name}: a binary detector's probability must be in [0, 1], got ${p}`);
    return Float64Array.of(1 - p, p);
  }
  if (!p || typeof (p as ArrayLike<number>).length !== 'number' || p.length < 1) throw new EarshotError('BAD_ARGUMENT', `${name} must be a probability or an array of class probabilities`);
  const v = Float64Array.from(p as ArrayLike<number>);
  if (v.length === 1) return classVector(v[0]!, name);
  for (let i = 0; i < v.length; i++) if (!(v[i]! >= 0 && v[i]! <= 1)) throw new EarshotError('NOT_FINITE', `${name}[${i}] = ${v[i]} is not a probability`);
  return v;
}

/** argmax, first index on ties; for a binary detector this is c = 1[P ≥ 0.5]. */
export function predictedClass(p: ClassProbs): number {
  if (typeof p === 'number' || p.length === 1) return (typeof p === 'number' ? p : p[0]!) >= 0.5 ? 1 : 0;
  const v = classVector(p);
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

function softmax(v: Float64Array): Float64Array {
  let m = -Infinity;
  for (const x of v) m = Math.max(m, x);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/**
 * Sparseness (SPS): the Gini index of |a| as Quantus computes it — |a| + 1e-7, sorted ascending,
 * Σ (2i − n − 1) a_i / (n Σ a_i), i = 1…n. 0 for a flat map, → 1 for a single spike.
 */
export function gini(a: ArrayLike<number>): number {
  const n = a.length;
  if (n === 0) throw new EarshotError('BAD_ARGUMENT', 'gini: empty attribution map');
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    if (!Number.isFinite(x)) throw new EarshotError('NOT_FINITE', `gini: attribution[${i}] is ${x}`);
    v[i] = Math.abs(x) + 1e-7;
  }
  v.sort();
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (2 * (i + 1) - n - 1) * v[i]!;
    den += v[i]!;
  }
  return num / (n * den);
}

/**
 * Complexity (COMP): the Shannon entropy (natural log) of |a| / Σ|a| (Quantus `Complexity`,
 * scipy.stats.entropy). 0 for a single spike, ln n for a flat map; an all-zero map has no
 * distribution and gives 0.
 */
export function entropyComplexity(a: ArrayLike<number>): number {
  const n = a.length;
  if (n === 0) throw new EarshotError('BAD_ARGUMENT', 'entropyComplexity: empty attribution map');
  let s = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    if (!Number.isFinite(x)) throw new EarshotError('NOT_FINITE', `entropyComplexity: attribution[${i}] is ${x}`);
    s += Math.abs(x);
  }
  if (s === 0) return 0;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const q = Math.abs(a[i]!) / s;
    if (q > 0) h -= q * Math.log(q);
  }
  return h;
}

/** Mean of the mask (MM). */
export function maskMean(m: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < m.length; i++) s += m[i]!;
  return s / m.length;
}

/**
 * The scalar metrics of one sample from the class probabilities on X, X_in and X_out (the mask
 * statistics SPS, COMP, MM come from `maskStatistics`).
 */
export function probabilityMetrics(pX: ClassProbs, pIn: ClassProbs, pOut: ClassProbs): Omit<SampleMetrics, 'sps' | 'comp' | 'mm'> {
  const vx = classVector(pX, 'p(X)');
  const vin = classVector(pIn, 'p(X_in)');
  const vout = classVector(pOut, 'p(X_out)');
  if (vin.length !== vx.length || vout.length !== vx.length) {
    throw new EarshotError('BAD_SHAPE', `p(X), p(X_in), p(X_out) must have the same number of classes, got ${vx.length}, ${vin.length}, ${vout.length}`);
  }
  // a binary detector decides at P ≥ 0.5 (ties go to the label), a K-class model by argmax
  const binary = typeof pX === 'number' || pX.length === 1;
  const decide = (v: Float64Array) => (binary ? (v[1]! >= 0.5 ? 1 : 0) : predictedClass(v));
  const c = decide(vx);
  const p = vx[c]!;
  const q = vin[c]!;
  const r = vout[c]!;
  const ai = q > p ? 100 : 0;
  const ad = p > 0 ? (100 * Math.max(0, p - q)) / p : 0;
  const ag = 1 - p > 0 ? (100 * Math.max(0, q - p)) / (1 - p) : 0;
  const sx = softmax(vx);
  const sin = softmax(vin);
  const adParity = (100 * Math.max(0, sx[c]! - sin[c]!)) / sx[c]!;
  const ff = p - r;
  const fidIn = decide(vin) === c ? 1 : 0;
  return { c, p, pIn: q, pOut: r, ai, ad, adParity, ag, ff, fidIn };
}

/** SPS, COMP and MM of a mask. */
export function maskStatistics(mask: ArrayLike<number>): { sps: number; comp: number; mm: number } {
  return { sps: gini(mask), comp: entropyComplexity(mask), mm: maskMean(mask) };
}

/** All metrics of one sample. */
export function sampleMetrics(pX: ClassProbs, pIn: ClassProbs, pOut: ClassProbs, mask: ArrayLike<number>): SampleMetrics {
  return { ...probabilityMetrics(pX, pIn, pOut), ...maskStatistics(mask) };
}

/** The average of each metric over samples (methods.md §8: per sample, then averaged). */
export function averageMetrics(samples: readonly SampleMetrics[]): MetricAverages {
  const out = { n: samples.length } as MetricAverages;
  for (const k of METRIC_NAMES) {
    let s = 0;
    for (const m of samples) s += m[k];
    out[k] = samples.length ? s / samples.length : NaN;
  }
  return out;
}

/**
 * Area under the ROC curve of `scores` for the binary `labels` (Mann–Whitney U with average
 * ranks for ties; scikit-learn's roc_auc_score). NaN when only one class is present.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new EarshotError('BAD_SHAPE', `rocAuc: ${n} scores but ${labels.length} labels`);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i]!)) throw new EarshotError('NOT_FINITE', `rocAuc: scores[${i}] is ${scores[i]}`);
    idx[i] = i;
  }
  idx.sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]!]) {
        pos++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * The vocal's binarised spectrogram on a mixture whose stems are known: the ideal binary mask
 * 1[|V| > |A|] (vocal magnitude above the accompaniment's, bin by bin).
 */
export function idealBinaryMask(vocals: Float32Array, accompaniment: Float32Array): Uint8Array {
  checkArray(vocals, Float32Array, 'idealBinaryMask: vocals');
  checkArray(accompaniment, Float32Array, 'idealBinaryMask: accompaniment', vocals.length);
  const m = new Uint8Array(vocals.length);
  for (let i = 0; i < m.length; i++) m[i] = vocals[i]! > accompaniment[i]! ? 1 : 0;
  return m;
}
