/**
 * Ground-truth instances for choosing SLIME's content type (Mishra et al. 2020, Sec. V;
 * methods.md §4): from the aligned vocal and accompaniment stems of held-out songs, take an
 * accompaniment excerpt (no voice), replace `replace` = 3 random temporal components (of the same
 * d = 10 as the explanation) by the time-aligned vocal excerpt's bins — in the normalised log-mel
 * domain the model sees, as the reference code does — and keep the instances the model calls
 * voice (p ≥ 0.5). The ground truth G of an instance is the set of replaced components.
 *
 * The plan is seeded and independent of the model: song i draws from its own Rng(seed, i), in
 * rounds; each round takes one excerpt start (uniform over the song's whole excerpts) and
 * `mixes` = 4 random 3-subsets for it (the paper: 10 excerpts × 4 mixes per song). Rounds
 * continue past `excerptsPerSong` until at least `minInstances` instances are kept, so the set
 * is the same for the same seed and model.
 */
import { EarshotError, checkInt, checkNumber } from '../../../bindings/errors.ts';
import { segmentationLayout } from '../../explain/components.ts';
import { Rng } from '../../explain/rng.ts';
import type { Classifier } from '../../model/classifier.ts';

/** The accompaniment excerpt with the bins of components `replaced` taken from the vocal excerpt. */
export function composeInstance(accompaniment: Float32Array, vocals: Float32Array, shape: readonly [number, number], d: number, replaced: readonly number[]): Float32Array {
  const [T, F] = shape;
  if (accompaniment.length !== T * F || vocals.length !== T * F) {
    throw new EarshotError('BAD_SHAPE', `composeInstance: excerpts must have ${T}×${F} = ${T * F} values, got ${accompaniment.length} (accompaniment) and ${vocals.length} (vocals)`);
  }
  for (const j of replaced) checkInt(j, 'replaced component', 0, d - 1);
  const { labels } = segmentationLayout(T, F, { kind: 'temporal', d });
  const take = new Uint8Array(d);
  for (const j of replaced) take[j] = 1;
  const out = accompaniment.slice();
  for (let i = 0; i < out.length; i++) if (take[labels[i]!]) out[i] = vocals[i]!;
  return out;
}

/** A k-subset of 0 … d−1 (partial Fisher–Yates), sorted. */
export function randomSubset(rng: Rng, d: number, k: number): number[] {
  const perm = Array.from({ length: d }, (_, j) => j);
  for (let i = 0; i < k; i++) {
    const r = i + rng.below(d - i);
    [perm[i], perm[r]] = [perm[r]!, perm[i]!];
  }
  return perm.slice(0, k).sort((a, b) => a - b);
}

export interface PlannedCandidate {
  song: number;
  round: number;
  mix: number;
  /** First frame of the excerpt in the (unpadded) stems. */
  start: number;
  /** G: the temporal components taken from the vocals. */
  replaced: number[];
}

/** Per-song seeded draws, round by round (see the module comment). */
export class InstancePlanner {
  private readonly rngs: Rng[];

  constructor(
    readonly songFrames: readonly number[],
    readonly o: { seed: number; mixes: number; replace: number; d: number; T: number },
  ) {
    checkInt(o.seed, 'seed', 0, 0xffffffff);
    checkInt(o.mixes, 'mixes', 1);
    checkInt(o.d, 'd', 2, 64);
    checkInt(o.replace, 'replace', 1, o.d - 1);
    this.rngs = songFrames.map((_, i) => new Rng((Math.imul(o.seed ^ 0x5eed, 0x9e3779b1) + i * 0x632be5ab) >>> 0));
  }

  /** The candidates of the next round (songs too short for one excerpt are skipped). */
  round(r: number): PlannedCandidate[] {
    const out: PlannedCandidate[] = [];
    this.songFrames.forEach((n, song) => {
      const span = n - this.o.T + 1;
      if (span < 1) return;
      const rng = this.rngs[song]!;
      const start = rng.below(span);
      for (let mix = 0; mix < this.o.mixes; mix++) out.push({ song, round: r, mix, start, replaced: randomSubset(rng, this.o.d, this.o.replace) });
    });
    return out;
  }
}

export interface StemPair {
  id: string;
  /** Normalised, unpadded log-mel of the accompaniment and vocal stems (frames × F, same length). */
  accompaniment: Float32Array;
  vocals: Float32Array;
  nFrames: number;
}

export interface GroundTruthInstance extends PlannedCandidate {
  songId: string;
  /** The model's P(voice) for the instance. */
  p: number;
  /** The instance (T × F, normalised). */
  x: Float32Array;
}

export interface BuildOptions {
  seed: number;
  excerptsPerSong: number;
  mixes?: number;
  replace?: number;
  d?: number;
  threshold?: number;
  minInstances: number;
  /** Give up after this many rounds (default 20 × excerptsPerSong). */
  maxRounds?: number;
  shape: readonly [number, number];
  batchSize?: number;
}

/** Build the kept instances (p ≥ threshold) round by round until at least minInstances. */
export async function buildGroundTruth(stems: readonly StemPair[], classifier: Classifier, o: BuildOptions): Promise<{ kept: GroundTruthInstance[]; candidates: number; rounds: number }> {
  const [T, F] = o.shape;
  const d = o.d ?? 10;
  const mixes = o.mixes ?? 4;
  const replace = o.replace ?? 3;
  const threshold = checkNumber(o.threshold ?? 0.5, 'threshold', 0, 1);
  checkInt(o.excerptsPerSong, 'excerptsPerSong', 1);
  checkInt(o.minInstances, 'minInstances', 0);
  const maxRounds = checkInt(o.maxRounds ?? 20 * o.excerptsPerSong, 'maxRounds', o.excerptsPerSong);
  if (!stems.length) throw new EarshotError('NO_DATA', 'ground truth: no songs with stems');
  for (const s of stems) {
    if (s.accompaniment.length !== s.nFrames * F || s.vocals.length !== s.nFrames * F) throw new EarshotError('BAD_SHAPE', `ground truth: song ${s.id}: stems must both have nFrames × ${F} values`);
  }
  const planner = new InstancePlanner(stems.map((s) => s.nFrames), { seed: o.seed, mixes, replace, d, T });
  const kept: GroundTruthInstance[] = [];
  let candidates = 0;
  let r = 0;
  const bs = o.batchSize ?? 64;
  for (; r < maxRounds && (r < o.excerptsPerSong || kept.length < o.minInstances); r++) {
    const plan = planner.round(r);
    if (!plan.length) throw new EarshotError('TOO_SHORT', `ground truth: every song is shorter than one excerpt (${T} frames)`);
    const xs = plan.map((c) => {
      const s = stems[c.song]!;
      return composeInstance(s.accompaniment.subarray(c.start * F, (c.start + T) * F), s.vocals.subarray(c.start * F, (c.start + T) * F), [T, F], d, c.replaced);
    });
    for (let b = 0; b < xs.length; b += bs) {
      const m = Math.min(bs, xs.length - b);
      const batch = new Float32Array(m * T * F);
      for (let i = 0; i < m; i++) batch.set(xs[b + i]!, i * T * F);
      const p = await classifier.predict(batch, m);
      const L = classifier.labels.length;
      for (let i = 0; i < m; i++) {
        const c = plan[b + i]!;
        const pv = p[i * L]!;
        if (pv >= threshold) kept.push({ ...c, songId: stems[c.song]!.id, p: pv, x: xs[b + i]! });
      }
    }
    candidates += plan.length;
  }
  if (kept.length < o.minInstances) {
    throw new EarshotError('TOO_FEW', `ground truth: only ${kept.length} of ${candidates} candidates in ${r} rounds have P(voice) ≥ ${threshold}; need ${o.minInstances} (lower --min-instances or raise --max-rounds)`);
  }
  return { kept, candidates, rounds: r };
}
