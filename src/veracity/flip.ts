/**
 * Bookkeeping of the flip test of Praher, Prinz et al. (2021, "On the veracity of local,
 * model-agnostic explanations", Sec. 5.2; methods.md §6): split an adversarial perturbation Δ of
 * a spectrogram excerpt into the explanation's components (the 5 × 4 time-frequency grid), add
 * back only k of its segments — the k an explanation ranks highest for the adversarial label, or
 * the k with the largest L2 norm — and ask whether the label still flips.
 *
 * Conventions (matching the reference code, CPJKU/veracity: explanation_utils.py):
 * - the explained column is P(voice); for the adversarial target "voice" (1) the ranking is by
 *   weight descending, for "no voice" (0) ascending (the complement's weights are the negated
 *   ones), ties by component index;
 * - "top-k" for a fixed k takes the first k of that ranking whatever their sign (as the
 *   reference does); "all positive" takes the components whose weight favours the target;
 * - segment norms are the L2 norm of Δ over each component's cells, optionally after a per-band
 *   scale (the reference measures Δ on the log-mel *before* the model's per-band normalisation;
 *   earshot's excerpts are normalised, so Δ is multiplied back by σ_b first);
 * - a label flips to "voice" when P > threshold, to "no voice" when P < threshold.
 * Pure functions: no model, no I/O; the experiment (experiment.ts) calls the model.
 */
import { EarshotError, checkArray, checkInt, checkNumber } from '../../bindings/errors.ts';

/** 1 = "voice", 0 = "no voice". */
export type BinaryLabel = 0 | 1;

function checkLabel(v: unknown, name: string): BinaryLabel {
  if (v !== 0 && v !== 1) throw new EarshotError('BAD_ARGUMENT', `${name} must be 0 ("no voice") or 1 ("voice"), got ${JSON.stringify(v)}`);
  return v;
}

function checkLabels(labels: Int32Array, d: number, size: number): void {
  checkArray(labels, Int32Array, 'labels (component map)', size);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < -1 || l >= d) throw new EarshotError('BAD_ARGUMENT', `labels[${i}] = ${l} is not a component index in [-1, ${d - 1}]`);
  }
}

/**
 * L2 norm of `delta` (T·F, rows = time) over each of the d components of `labels`. With
 * `bandScale` (length F) each cell is multiplied by its band's scale first.
 */
export function segmentNorms(delta: Float32Array, labels: Int32Array, d: number, bandScale?: Float32Array): Float64Array {
  checkInt(d, 'd (number of components)');
  checkArray(delta, Float32Array, 'delta');
  checkLabels(labels, d, delta.length);
  let F = 1;
  if (bandScale !== undefined) {
    checkArray(bandScale, Float32Array, 'bandScale');
    F = bandScale.length;
    if (F === 0 || delta.length % F !== 0) throw new EarshotError('BAD_SHAPE', `bandScale has ${F} bands, delta's ${delta.length} values are not a multiple of it`);
  }
  const ss = new Float64Array(d);
  for (let i = 0; i < delta.length; i++) {
    const l = labels[i]!;
    if (l < 0) continue;
    const v = delta[i]!;
    if (!Number.isFinite(v)) throw new EarshotError('NOT_FINITE', `delta[${i}] is ${v}`);
    const s = bandScale ? v * bandScale[i % F]! : v;
    ss[l] += s * s;
  }
  for (let j = 0; j < d; j++) ss[j] = Math.sqrt(ss[j]!);
  return ss;
}

/** Component indices by value descending (ties: lower index first). */
export function rankDescending(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i]!)) throw new EarshotError('NOT_FINITE', `value ${i} is NaN`);
  return idx.sort((a, b) => values[b]! - values[a]! || a - b);
}

/** The k segments with the largest norm. */
export function topByNorm(norms: ArrayLike<number>, k: number): number[] {
  checkInt(k, 'k', 0, norms.length);
  return rankDescending(norms).slice(0, k);
}

/**
 * Components ranked by how much they favour `target` under an explanation of P(voice):
 * weight descending for target 1, ascending for target 0.
 */
export function rankForTarget(weights: ArrayLike<number>, target: BinaryLabel): number[] {
  checkLabel(target, 'target');
  const signed = Array.from(weights, (w) => (target === 1 ? w : -w));
  return rankDescending(signed);
}

/** The first k of rankForTarget (whatever their sign, as the reference's fixed-k selection). */
export function topForTarget(weights: ArrayLike<number>, target: BinaryLabel, k: number): number[] {
  checkInt(k, 'k', 0, weights.length);
  return rankForTarget(weights, target).slice(0, k);
}

/** The components whose weight favours `target` (> 0 for voice, < 0 for no voice), in rank order. */
export function positiveForTarget(weights: ArrayLike<number>, target: BinaryLabel): number[] {
  return rankForTarget(weights, target).filter((j) => (target === 1 ? weights[j]! > 0 : weights[j]! < 0));
}

/** x + Δ on the cells of the selected components only (x, Δ: T·F; labels: the component map). */
export function addSegments(x: Float32Array, delta: Float32Array, labels: Int32Array, selected: readonly number[], out?: Float32Array): Float32Array {
  checkArray(x, Float32Array, 'x');
  checkArray(delta, Float32Array, 'delta', x.length);
  checkArray(labels, Int32Array, 'labels (component map)', x.length);
  const on = new Set<number>();
  for (const j of selected) {
    checkInt(j, 'selected component', 0);
    on.add(j);
  }
  const y = out ? checkArray(out, Float32Array, 'out', x.length) : new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = on.has(labels[i]!) ? x[i]! + delta[i]! : x[i]!;
  return y;
}

/** 1 on the cells of the selected components, 0 elsewhere. */
export function segmentMask(labels: Int32Array, selected: readonly number[]): Float32Array {
  const on = new Set(selected);
  const m = new Float32Array(labels.length);
  for (let i = 0; i < labels.length; i++) if (on.has(labels[i]!)) m[i] = 1;
  return m;
}

/** Whether P(voice) = p is the `target` label: p > threshold for voice, p < threshold for no voice. */
export function isLabel(p: number, target: BinaryLabel, threshold: number): boolean {
  checkLabel(target, 'target');
  checkNumber(threshold, 'threshold', 0, 1);
  if (Number.isNaN(p)) throw new EarshotError('NOT_FINITE', 'prediction is NaN');
  return target === 1 ? p > threshold : p < threshold;
}

/** The label of P(voice) = p at `threshold` (ties count as "no voice"). */
export function labelOf(p: number, threshold: number): BinaryLabel {
  return isLabel(p, 1, threshold) ? 1 : 0;
}

/** One flip-test outcome per excerpt: did adding the chosen segments flip the label (k = 1…K)? */
export interface FlipCurves {
  /** flipped[k − 1] for the explanation's top-k. */
  explanation: boolean[];
  /** flipped[k − 1] for the k largest-norm segments. */
  norm: boolean[];
}

/** Percentage of excerpts flipped for every k, over excerpts with curves of equal length. */
export function flipRates(curves: readonly FlipCurves[]): { explanation: number[]; norm: number[]; n: number } {
  const n = curves.length;
  if (n === 0) return { explanation: [], norm: [], n: 0 };
  const K = curves[0]!.explanation.length;
  const e = new Array<number>(K).fill(0);
  const m = new Array<number>(K).fill(0);
  for (const [i, c] of curves.entries()) {
    if (c.explanation.length !== K || c.norm.length !== K) throw new EarshotError('BAD_SHAPE', `flip curve ${i} has ${c.explanation.length}/${c.norm.length} values, the first has ${K}`);
    for (let k = 0; k < K; k++) {
      if (c.explanation[k]) e[k]++;
      if (c.norm[k]) m[k]++;
    }
  }
  return { explanation: e.map((v) => (100 * v) / n), norm: m.map((v) => (100 * v) / n), n };
}

/** Percentage of true values (NaN for none). */
export function percent(flags: readonly boolean[]): number {
  if (flags.length === 0) return NaN;
  return (100 * flags.filter(Boolean).length) / flags.length;
}
