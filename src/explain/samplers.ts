/**
 * Sample designs for LIME-style explanations (methods.md §3; architecture.md "Where the speed
 * comes from"): which bit rows z ∈ {0,1}^d go to the model and how many of the N_s samples each
 * stands for.
 *
 * - `random`: LIME's draw. N_s rows: row 0 all ones (the original), rows 1 … N_s − 1 independent
 *   Bernoulli(½) bits from the seeded Rng (rng.ts), row-major, d bits per row.
 * - `dedup`: exactly the rows of `random` for the same seed, but each distinct row appears once
 *   with its count as multiplicity (first-appearance order; draws equal to the all-ones row are
 *   merged into row 0). The weighted fit is the same fit, with ≤ min(N_s, 2^d) forward passes.
 * - `exhaustive` (d ≤ 16): the expected design of `random`. Row 0 is the original, drawn once for
 *   sure, and each of the N_s − 1 random rows is any given pattern with probability 2^−d; so the
 *   all-ones row (kept as row 0) has multiplicity 1 + (N_s − 1)/2^d and each of the other 2^d − 1
 *   patterns (in increasing binary order, bit 0 = component 0) (N_s − 1)/2^d. Σ = N_s. No seed is
 *   used: the explanation is deterministic.
 */
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { Rng } from './rng.ts';
import type { SampleDesign, Sampler } from './types.ts';

export const MAX_EXHAUSTIVE_D = 16;

function checkDesignArgs(d: number, numSamples: number): void {
  checkInt(d, 'd (number of components)', 1, 4096);
  checkInt(numSamples, 'numSamples (N_s)', 1, 1 << 28);
}

function randomRows(d: number, numSamples: number, seed: number): Uint8Array {
  const rows = new Uint8Array(numSamples * d);
  rows.fill(1, 0, d);
  if (numSamples > 1) new Rng(seed).bits(rows.subarray(d));
  return rows;
}

export const randomSampler: Sampler = {
  name: 'random',
  design(d, numSamples, seed) {
    checkDesignArgs(d, numSamples);
    const rows = randomRows(d, numSamples, seed);
    return { rows, n: numSamples, d, multiplicity: new Float64Array(numSamples).fill(1), numSamples };
  },
};

export const dedupSampler: Sampler = {
  name: 'dedup',
  design(d, numSamples, seed) {
    checkDesignArgs(d, numSamples);
    const all = randomRows(d, numSamples, seed);
    const index = new Map<number | string, number>();
    const first: number[] = [];
    const counts: number[] = [];
    const keyOf = (i: number): number | string => {
      const r = all.subarray(i * d, i * d + d);
      if (d <= 48) {
        let k = 0;
        for (let j = 0; j < d; j++) k = k * 2 + r[j]!;
        return k;
      }
      return String.fromCharCode(...r);
    };
    for (let i = 0; i < numSamples; i++) {
      const k = keyOf(i);
      const at = index.get(k);
      if (at === undefined) {
        index.set(k, first.length);
        first.push(i);
        counts.push(1);
      } else counts[at]!++;
    }
    const n = first.length;
    const rows = new Uint8Array(n * d);
    first.forEach((i, r) => rows.set(all.subarray(i * d, i * d + d), r * d));
    return { rows, n, d, multiplicity: Float64Array.from(counts), numSamples };
  },
};

export const exhaustiveSampler: Sampler = {
  name: 'exhaustive',
  design(d, numSamples) {
    checkDesignArgs(d, numSamples);
    if (d > MAX_EXHAUSTIVE_D) {
      throw new EarshotError('BAD_ARGUMENT', `sampler 'exhaustive' needs d ≤ ${MAX_EXHAUSTIVE_D} components (2^d rows), got d = ${d}; use 'dedup'`);
    }
    const n = 2 ** d;
    const rows = new Uint8Array(n * d);
    rows.fill(1, 0, d);
    const each = (numSamples - 1) / n;
    const multiplicity = new Float64Array(n).fill(each);
    multiplicity[0] = 1 + each;
    for (let p = 0; p < n - 1; p++) for (let j = 0; j < d; j++) rows[(p + 1) * d + j] = (p >>> j) & 1;
    return { rows, n, d, multiplicity, numSamples };
  },
};

export const SAMPLERS = { random: randomSampler, dedup: dedupSampler, exhaustive: exhaustiveSampler } as const;

export function samplerByName(name: unknown): Sampler {
  if (typeof name !== 'string' || !(name in SAMPLERS)) {
    throw new EarshotError('BAD_ARGUMENT', `sampler must be one of 'random', 'dedup', 'exhaustive', got ${JSON.stringify(name)}`);
  }
  return SAMPLERS[name as keyof typeof SAMPLERS];
}

export type { SampleDesign };
