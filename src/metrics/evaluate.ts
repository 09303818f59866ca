/**
 * Scoring one mask on one excerpt (methods.md §8): the classifier, through the magnitude model
 * (src/explain/maskable.ts), on X, M ⊙ X and (1 − M) ⊙ X in one batch of three, then the
 * per-sample metrics of ./faithfulness.ts; and, on corpus mixtures whose stems are known, the
 * ROC AUC of the mask against the vocal's ideal binary mask 1[|V| > |A|] over the bins the
 * classifier sees (a ground truth for singing voice that the paper's ESC-50 setup lacks).
 * Aggregation of per-excerpt results into one row per method lives here too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError } from '../../bindings/errors.ts';
import type { MagnitudeModel } from '../explain/maskable.ts';
import { averageMetrics, idealBinaryMask, rocAuc, sampleMetrics, type MetricAverages, type SampleMetrics } from './faithfulness.ts';

/** Class probabilities of |X|, M ⊙ X, (1 − M) ⊙ X (a binary detector's as P(label)). */
export function maskedProbabilities(mm: MagnitudeModel, mag: Float32Array, mask: Float32Array): { pX: number | Float32Array; pIn: number | Float32Array; pOut: number | Float32Array } {
  const size = mm.frames * mm.bins;
  if (!(mag instanceof Float32Array) || mag.length !== size) throw new EarshotError('BAD_SHAPE', `|X| must be a Float32Array of ${mm.frames}×${mm.bins}, got ${mag instanceof Float32Array ? mag.length : typeof mag}`);
  if (!(mask instanceof Float32Array) || mask.length !== size) throw new EarshotError('BAD_SHAPE', `mask must be a Float32Array of ${mm.frames}×${mm.bins}, got ${mask instanceof Float32Array ? mask.length : typeof mask}`);
  for (let i = 0; i < size; i++) {
    const v = mask[i]!;
    if (!(v >= 0 && v <= 1)) throw new EarshotError('BAD_ARGUMENT', `mask[${i}] = ${v} is outside [0, 1]`);
  }
  const L = mm.classifier.labels.length;
  const p = tf.tidy(() => {
    const x = tf.tensor3d(mag, [1, mm.frames, mm.bins]);
    const m = tf.tensor3d(mask, [1, mm.frames, mm.bins]);
    const batch = tf.concat([x, tf.mul(m, x), tf.mul(tf.sub(1, m), x)], 0);
    return mm.apply(batch).dataSync() as Float32Array;
  });
  const at = (i: number) => (L === 1 ? p[i]! : p.slice(i * L, (i + 1) * L));
  return { pX: at(0), pIn: at(1), pOut: at(2) };
}

/** Per-sample metrics of a mask. */
export function scoreMask(mm: MagnitudeModel, mag: Float32Array, mask: Float32Array): SampleMetrics {
  const { pX, pIn, pOut } = maskedProbabilities(mm, mag, mask);
  return sampleMetrics(pX, pIn, pOut, mask);
}

/** 1 for every linear bin some mel filter reads (the bins the classifier sees). */
export function visibleBins(mm: MagnitudeModel): Uint8Array {
  const bank = mm.melT.dataSync() as Float32Array;
  const v = new Uint8Array(mm.bins);
  for (let k = 0; k < mm.bins; k++) for (let b = 0; b < mm.nMels; b++) if (bank[k * mm.nMels + b] !== 0) v[k] = 1;
  return v;
}

/**
 * ROC AUC of the mask against the vocal's ideal binary mask over the visible bins; null when
 * the ground truth has only one class in this excerpt (no voice, or voice everywhere).
 */
export function vocalAuc(mask: Float32Array, vocals: Float32Array, accompaniment: Float32Array, visible: Uint8Array): number | null {
  const bins = visible.length;
  const ibm = idealBinaryMask(vocals, accompaniment);
  if (ibm.length !== mask.length || mask.length % bins !== 0) throw new EarshotError('BAD_SHAPE', `vocalAuc: mask (${mask.length}) and stems (${ibm.length}) must share the frames × ${bins} grid`);
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < mask.length; i++) {
    if (!visible[i % bins]) continue;
    scores.push(mask[i]!);
    labels.push(ibm[i]!);
  }
  const auc = rocAuc(scores, labels);
  return Number.isNaN(auc) ? null : auc;
}

/** One method's result on one excerpt. */
export interface MethodSample extends SampleMetrics {
  /** Wall time of the explanation (ms), the metrics' forward passes excluded. */
  ms: number;
  /** ROC AUC against the vocal's ideal binary mask (null: not applicable). */
  auc: number | null;
}

/** One row of the evaluation table. */
export interface MethodRow extends MetricAverages {
  method: string;
  /** Mean and median time per explanation (ms). */
  msMean: number;
  msMedian: number;
  /** Mean AUC over the excerpts where it applies, and how many those were. */
  auc: number | null;
  nAuc: number;
}

export function aggregate(method: string, samples: MethodSample[]): MethodRow {
  const avg = averageMetrics(samples);
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const aucs = samples.map((s) => s.auc).filter((a): a is number => a !== null);
  return {
    method,
    ...avg,
    msMean: ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length),
    msMedian: ms.length ? (ms.length % 2 ? ms[ms.length >> 1]! : (ms[ms.length / 2 - 1]! + ms[ms.length / 2]!) / 2) : NaN,
    auc: aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : null,
    nAuc: aucs.length,
  };
}
