/**
 * The per-excerpt jobs of the SLIME experiments (Mishra et al. 2020, Sec. IV–V; methods.md §4),
 * registered as worker-pool tasks (src/parallel/pool.ts): each worker loads the model once on
 * its own engine (onnxruntime-node by default, one intra-op thread per worker so two workers
 * fill two cores), then answers one excerpt (or ground-truth instance) at a time. Every job
 * reads the model's outputs from a prediction table per content type (table.ts: exact, each
 * distinct perturbed input predicted at most once, levels certified lazily).
 */
import { EarshotError } from '../../../bindings/errors.ts';
import { spectrogramComponents, type SpectrogramComponents } from '../../explain/components.ts';
import { contentValue, type ContentType } from '../../explain/content.ts';
import { explain } from '../../explain/explain.ts';
import type { DistanceMetric } from '../../explain/lime.ts';
import { dedupSampler, exhaustiveSampler, randomSampler } from '../../explain/samplers.ts';
import type { Classifier } from '../../model/classifier.ts';
import { createClassifier, type EngineChoice } from '../../model/engines.ts';
import { initWeights, loadWeights } from '../../model/weights.ts';
import { findDefaultModel } from '../../model/resolve-node.ts';
import { registerTask } from '../../parallel/pool.ts';
import { commonComponents, uniqueComponents, type TopMode } from './metrics.ts';
import { certifiedLimeTops, kernelShapFromTable, prepareDesign, PredictionTable, type PreparedDesign } from './table.ts';

export const TASK_MODULE = import.meta.url;

export interface WorkerInit {
  /** --model: undefined (the bundled default), a weight directory or random:SEED. */
  model?: string;
  engine: string;
  /** ORT intra-op threads per worker. */
  threads: number;
  batchSize: number;
  /** Per-band statistics (for the noise content). */
  stats: { mean: number[]; std: number[] };
  /** min_data scalar. */
  minData: number;
  shape: [number, number];
}

export interface WorkerState {
  classifier: Classifier & { dispose?: () => void };
  init: WorkerInit;
  exhaustive: Map<number, PreparedDesign>;
}

export async function initWorker(init: WorkerInit): Promise<WorkerState> {
  let weights;
  if (init.model !== undefined && /^random:\d+$/.test(init.model)) {
    weights = initWeights(Number(init.model.slice(7)), { id: `svd-cnn-ismir2015/${init.model.replace(':', '-')}` });
  } else {
    const dir = init.model ?? findDefaultModel();
    if (!dir) throw new EarshotError('MODEL_MISSING', 'the bundled default model is missing; pass --model');
    weights = await loadWeights(dir);
  }
  const classifier = await createClassifier(weights, { engine: init.engine as EngineChoice, threads: init.threads });
  return { classifier, init, exhaustive: new Map() };
}

function disposeWorker(s: WorkerState): void {
  s.classifier.dispose?.();
}

function componentsFor(s: WorkerState, x: Float32Array, seg: 'temporal' | 'spectral', d: number, content: ContentType): SpectrogramComponents {
  const shape = s.init.shape;
  const stats = { mean: Float32Array.from(s.init.stats.mean), std: Float32Array.from(s.init.stats.std) };
  const R = contentValue(content, x, shape, { minData: s.init.minData, stats });
  return spectrogramComponents(x, shape, { kind: seg, d }, R);
}

function exhaustiveDesign(s: WorkerState, d: number, numSamples: number): PreparedDesign {
  let e = s.exhaustive.get(numSamples);
  if (!e || e.d !== d) s.exhaustive.set(numSamples, (e = prepareDesign(exhaustiveSampler.design(d, numSamples, 0))));
  return e;
}

const MODES: readonly TopMode[] = ['abs', 'positive'];

// ---------------------------------------------------------------------------------------------
// Stability (Sec. IV-A): U_n against N_s

export interface StabilitySettings {
  numSamples: number[];
  repetitions: number;
  k: number;
  d: number;
  content: ContentType;
  distance: DistanceMetric;
  kernelWidth: number;
}

export interface StabilityInput {
  x: Float32Array;
  /** Seeds of repetition r: seedBase + r. */
  seedBase: number;
  settings: StabilitySettings;
}

export interface StabilityResult {
  p: number;
  forwardPasses: number;
  level: number;
  ms: number;
  /** U_n per top mode, sampler and N_s (index as settings.numSamples). */
  un: Record<TopMode, { random: number[]; dedup: number[]; exhaustive: number[] }>;
  /** Mean over repetitions of |E_random ∩ E_exhaustive| at the same N_s. */
  limitOverlap: Record<TopMode, number[]>;
  /** max |w_random − w_dedup| over the refitted random designs (the two designs give one fit). */
  maxRandomDedupDiff: number;
}

export async function runStability(input: StabilityInput, s: WorkerState): Promise<StabilityResult> {
  const t0 = performance.now();
  const o = input.settings;
  const comps = componentsFor(s, input.x, 'temporal', o.d, o.content);
  try {
    const table = new PredictionTable(comps, s.classifier, { batchSize: s.init.batchSize });
    const p = await table.original();
    const fitOpts = { distance: o.distance, kernelWidth: o.kernelWidth };
    const un = {} as StabilityResult['un'];
    const limitOverlap = {} as StabilityResult['limitOverlap'];
    for (const m of MODES) {
      un[m] = { random: [], dedup: [], exhaustive: [] };
      limitOverlap[m] = [];
    }
    let maxDiff = 0;
    for (const ns of o.numSamples) {
      const exh = await certifiedLimeTops(table, exhaustiveDesign(s, o.d, ns), fitOpts, o.k, MODES);
      const reps: Record<'random' | 'dedup', Record<TopMode, number[][]>> = { random: { abs: [], positive: [] }, dedup: { abs: [], positive: [] } };
      for (let r = 0; r < o.repetitions; r++) {
        const seed = (input.seedBase + r) >>> 0;
        const dd = await certifiedLimeTops(table, prepareDesign(dedupSampler.design(o.d, ns, seed)), fitOpts, o.k, MODES);
        // LIME's plain random design (N_s rows) is the same weighted fit as its deduplicated
        // form; fitting all N_s rows costs ~40 ms at 70 000, so it is refitted on the first
        // repetition of every N_s as a check and its top sets are the dedup ones otherwise.
        let rr = dd;
        if (r === 0) {
          rr = await certifiedLimeTops(table, prepareDesign(randomSampler.design(o.d, ns, seed)), fitOpts, o.k, MODES);
          for (let j = 0; j < o.d; j++) maxDiff = Math.max(maxDiff, Math.abs(dd.weights[j]! - rr.weights[j]!));
          for (const m of MODES) {
            if (rr.tops[m].join() !== dd.tops[m].join()) throw new EarshotError('INTERNAL', `random and dedup designs of seed ${seed}, N_s ${ns} gave different top sets (${rr.tops[m]} vs ${dd.tops[m]})`);
          }
        }
        for (const m of MODES) {
          reps.dedup[m].push(dd.tops[m]);
          reps.random[m].push(rr.tops[m]);
        }
      }
      for (const m of MODES) {
        un[m].random.push(uniqueComponents(reps.random[m]));
        un[m].dedup.push(uniqueComponents(reps.dedup[m]));
        // the exhaustive design has no randomness: k repetitions are k copies of one explanation
        un[m].exhaustive.push(uniqueComponents([exh.tops[m]]));
        limitOverlap[m].push(reps.random[m].reduce((a, e) => a + commonComponents(e, exh.tops[m]), 0) / o.repetitions);
      }
    }
    return { p, forwardPasses: table.forwardPasses, level: table.level, ms: performance.now() - t0, un, limitOverlap, maxRandomDedupDiff: maxDiff };
  } finally {
    comps.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Content types (Sec. IV-B): N_ce against zero, U_n per content type

export interface ContentSettings {
  numSamples: number;
  repetitions: number;
  k: number;
  d: number;
  contents: ContentType[];
  segmentations: Array<'temporal' | 'spectral'>;
  distance: DistanceMetric;
  kernelWidth: number;
}

export interface ContentInput {
  x: Float32Array;
  seedBase: number;
  settings: ContentSettings;
}

/** Per segmentation and content: top-k sets of each repetition and of the exhaustive design. */
export type ContentTops = Record<string, Record<string, { reps: Record<TopMode, number[][]>; exhaustive: Record<TopMode, number[]>; forwardPasses: number }>>;

export interface ContentResult {
  p: number;
  ms: number;
  forwardPasses: number;
  tops: ContentTops;
}

export async function runContent(input: ContentInput, s: WorkerState): Promise<ContentResult> {
  const t0 = performance.now();
  const o = input.settings;
  const designs: PreparedDesign[] = [];
  for (let r = 0; r < o.repetitions; r++) designs.push(prepareDesign(dedupSampler.design(o.d, o.numSamples, (input.seedBase + r) >>> 0)));
  const exh = exhaustiveDesign(s, o.d, o.numSamples);
  const fitOpts = { distance: o.distance, kernelWidth: o.kernelWidth };
  const tops: ContentTops = {};
  let p = NaN;
  let passes = 0;
  for (const seg of o.segmentations) {
    tops[seg] = {};
    for (const c of o.contents) {
      const comps = componentsFor(s, input.x, seg, o.d, c);
      try {
        const table = new PredictionTable(comps, s.classifier, { batchSize: s.init.batchSize });
        p = await table.original();
        const reps: Record<TopMode, number[][]> = { abs: [], positive: [] };
        for (const des of designs) {
          const t = await certifiedLimeTops(table, des, fitOpts, o.k, MODES);
          for (const m of MODES) reps[m].push(t.tops[m]);
        }
        const e = await certifiedLimeTops(table, exh, fitOpts, o.k, MODES);
        tops[seg]![c] = { reps, exhaustive: e.tops, forwardPasses: table.forwardPasses };
        passes += table.forwardPasses;
      } finally {
        comps.dispose();
      }
    }
  }
  return { p, ms: performance.now() - t0, forwardPasses: passes, tops };
}

// ---------------------------------------------------------------------------------------------
// Ground truth (Sec. V): N_ce against G per content type, plus extensions

export interface GroundTruthSettings {
  numSamples: number;
  k: number;
  d: number;
  contents: ContentType[];
  distance: DistanceMetric;
  kernelWidth: number;
}

export interface GroundTruthInput {
  x: Float32Array;
  seed: number;
  /**
   * 'main': SLIME as the paper + the exhaustive design, for settings.contents; 'extensions': the
   * other distance and exact KernelSHAP (they need (nearly) the whole table), for `contents`.
   */
  part: 'main' | 'extensions';
  contents?: ContentType[];
  settings: GroundTruthSettings;
}

export interface GroundTruthTops {
  /** SLIME as in the paper: random design (= dedup) at N_s, the chosen distance ('main' jobs). */
  slime?: number[];
  /** The exhaustive (expected) design at N_s ('main' jobs). */
  exhaustive?: number[];
  /** The other distance (cosine when the main one is Euclidean; 'extensions' jobs). */
  otherDistance?: number[];
  /** Exact KernelSHAP ('extensions' jobs). */
  kernelshap?: number[];
  forwardPasses: number;
}

export interface GroundTruthResult {
  p: number;
  ms: number;
  forwardPasses: number;
  tops: Record<string, GroundTruthTops>;
}

export async function runGroundTruth(input: GroundTruthInput, s: WorkerState): Promise<GroundTruthResult> {
  const t0 = performance.now();
  const o = input.settings;
  const design = prepareDesign(dedupSampler.design(o.d, o.numSamples, input.seed >>> 0));
  const exh = exhaustiveDesign(s, o.d, o.numSamples);
  const other: DistanceMetric = o.distance === 'euclidean' ? 'cosine' : 'euclidean';
  const tops: Record<string, GroundTruthTops> = {};
  let p = NaN;
  let passes = 0;
  for (const c of input.part === 'main' ? o.contents : (input.contents ?? o.contents)) {
    const comps = componentsFor(s, input.x, 'temporal', o.d, c);
    try {
      const table = new PredictionTable(comps, s.classifier, { batchSize: s.init.batchSize });
      p = await table.original();
      const t: GroundTruthTops = { forwardPasses: 0 };
      if (input.part === 'main') {
        t.slime = (await certifiedLimeTops(table, design, { distance: o.distance, kernelWidth: o.kernelWidth }, o.k, ['positive'])).tops.positive;
        t.exhaustive = (await certifiedLimeTops(table, exh, { distance: o.distance, kernelWidth: o.kernelWidth }, o.k, ['positive'])).tops.positive;
      } else {
        // the cosine kernel weighs rows with many zeros too: it needs (nearly) the whole table
        t.otherDistance = (await certifiedLimeTops(table, design, { distance: other, kernelWidth: o.kernelWidth }, o.k, ['positive'])).tops.positive;
        const phi = await kernelShapFromTable(table);
        const idx = Array.from(phi, (_, j) => j).filter((j) => phi[j]! > 0);
        idx.sort((a, b) => phi[b]! - phi[a]! || a - b);
        t.kernelshap = idx.slice(0, o.k);
      }
      t.forwardPasses = table.forwardPasses;
      passes += table.forwardPasses;
      tops[c] = t;
    } finally {
      comps.dispose();
    }
  }
  return { p, ms: performance.now() - t0, forwardPasses: passes, tops };
}

// ---------------------------------------------------------------------------------------------
// Time per explanation: explain() end to end, real forward passes (no table)

export interface TimingInput {
  x: Float32Array;
  runs: Array<{ sampler: 'random' | 'dedup' | 'exhaustive'; numSamples: number }>;
  content: ContentType;
  distance: DistanceMetric;
  d: number;
}

export interface TimingResult {
  runs: Array<{ sampler: string; numSamples: number; ms: number; forwardPasses: number; top: number[] }>;
}

export async function runTiming(input: TimingInput, s: WorkerState): Promise<TimingResult> {
  const stats = { mean: Float32Array.from(s.init.stats.mean), std: Float32Array.from(s.init.stats.std) };
  const runs: TimingResult['runs'] = [];
  for (const r of input.runs) {
    const t0 = performance.now();
    const e = await explain(s.classifier, input.x, {
      segmentation: 'temporal',
      numComponents: input.d,
      content: input.content,
      minData: s.init.minData,
      normStats: stats,
      sampler: r.sampler,
      numSamples: r.numSamples,
      distance: input.distance,
      seed: 1,
      labelIndex: 0,
      batchSize: s.init.batchSize,
    });
    runs.push({ sampler: r.sampler, numSamples: r.numSamples, ms: performance.now() - t0, forwardPasses: e.forwardPasses, top: e.features.slice(0, 3).map((f) => f.index) });
  }
  return { runs };
}

registerTask('slime-stability', { init: initWorker, run: runStability, dispose: disposeWorker });
registerTask('slime-content', { init: initWorker, run: runContent, dispose: disposeWorker });
registerTask('slime-groundtruth', { init: initWorker, run: runGroundTruth, dispose: disposeWorker });
registerTask('slime-timing', { init: initWorker, run: runTiming, dispose: disposeWorker });
