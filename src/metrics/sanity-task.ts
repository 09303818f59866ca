/**
 * The jobs of `earshot sanity` as pool tasks (src/parallel/pool.ts), journalled and resumable
 * (src/experiments/journal.ts): one cascading-randomisation job per excerpt (every method's
 * mask on the original model and after each step of the cascade, compared by SSIM and Spearman)
 * and one ROAR retraining per (method, fraction). Node only.
 */
import { EarshotError } from '../../bindings/errors.ts';
import { createMaskExplainer, lmacExplainer, magnitudeTarget, predictedClassOf, type MaskExplainer, type MaskExplainerOptions } from '../explain/attribution/index.ts';
import { loadLmac, type Lmac } from '../explain/lmac/index.ts';
import { initBackend } from '../model/backend.ts';
import type { SvdCnn } from '../model/svdcnn.ts';
import { registerWasmTrainingKernels } from '../model/wasm_kernels.ts';
import { registerTask } from '../parallel/pool.ts';
import { excerptSeed, hasLmacDecoder } from './evaluate-task.ts';
import { visibleBins } from './evaluate.ts';
import { resolveModelWeights } from '../model/resolve-node.ts';
import { buildEvalModel, withStats, type EvalModel } from './model-node.ts';
import { CASCADE_LAYERS, mapSimilarity, randomiseTop, roarTrain, type RoarTrainInput, type RoarTrainResult } from './sanity.ts';

export const RANDOMISATION_TASK = 'earshot.sanity.randomisation';
export const ROAR_TASK = 'earshot.sanity.roar';
/** The module workers import to find the tasks (this file from the sources, the bundle when bundled). */
export const SANITY_TASK_MODULE = import.meta.url;

export interface RandomisationInit {
  model?: string;
  lmac?: string;
  explainer: Omit<MaskExplainerOptions, 'forward'>;
  /** Seed of the random re-initialisation. */
  seed: number;
  statsFrom?: Float32Array[];
}

/** One job: one method on one excerpt, through the whole cascade. */
export interface RandomisationInput {
  key: string;
  method: string;
  mag: Float32Array;
}

export interface RandomisationOutput {
  key: string;
  method: string;
  c: number;
  /** SSIM and Spearman of the map after randomising the top 1…7 layers vs the original. */
  ssim: number[];
  spearman: number[];
}

interface RandState {
  init: RandomisationInit;
  model: EvalModel;
  lmac: Lmac | null;
  explainers: Map<string, MaskExplainer>;
  nVisible: number;
}

async function explainerFor(s: RandState, method: string): Promise<MaskExplainer> {
  let e = s.explainers.get(method);
  if (e) return e;
  if (method === 'lmac') {
    if (!hasLmacDecoder(s.init.lmac)) throw new EarshotError('LMAC_MISSING', `lmac: no decoder in ${s.init.lmac}`);
    s.lmac = await loadLmac(s.init.lmac!, withStats(s.model.weights, s.model.stats));
    e = lmacExplainer(s.lmac, s.model.mm.frames * s.model.mm.bins);
  } else {
    // forward passes of slime / kernelshap must see the randomised weights: the SvdCnn itself
    e = createMaskExplainer(method, s.model.mm, s.init.explainer);
  }
  s.explainers.set(method, e);
  return e;
}

registerTask<RandomisationInput, RandomisationOutput, RandState, RandomisationInit>(RANDOMISATION_TASK, {
  async init(d) {
    const { weights, dir } = await resolveModelWeights(d.model);
    const model = await buildEvalModel(weights, dir, d.model, d.statsFrom ?? []);
    const vis = visibleBins(model.mm);
    let nVisible = 0;
    for (let k = 0; k < vis.length; k++) if (vis[k]) nVisible = k + 1;
    return { init: d, model, lmac: null, explainers: new Map(), nVisible };
  },
  async run(input, s) {
    const { mm, svd, weights } = s.model;
    const e = await explainerFor(s, input.method);
    const models: SvdCnn[] = [svd, ...(s.lmac ? [s.lmac.classifier] : [])];
    const seed = s.init.seed;
    randomiseTop(models, 0, weights.tensors, seed);
    const c = predictedClassOf(magnitudeTarget(mm), input.mag);
    // the same noise at every depth (only the model changes), except for the random control,
    // whose maps must be independent draws
    const ctx = (depth: number) => ({ target: c, seed: (excerptSeed(input.key, seed) + (e.name === 'random' ? depth : 0)) >>> 0 });
    const out: RandomisationOutput = { key: input.key, method: input.method, c, ssim: [], spearman: [] };
    try {
      const original = await e.explain(input.mag, ctx(0));
      for (let depth = 1; depth <= CASCADE_LAYERS.length; depth++) {
        randomiseTop(models, depth, weights.tensors, seed);
        const sim = mapSimilarity(original, await e.explain(input.mag, ctx(depth)), mm.frames, mm.bins, s.nVisible);
        out.ssim.push(sim.ssim);
        out.spearman.push(sim.spearman);
      }
    } finally {
      randomiseTop(models, 0, weights.tensors, seed);
    }
    return out;
  },
  dispose(s) {
    for (const e of s.explainers.values()) e.dispose?.();
    s.model.mm.dispose();
    s.model.svd.dispose();
  },
});

registerTask<RoarTrainInput, RoarTrainResult, null, null>(ROAR_TASK, {
  async init() {
    await initBackend('wasm');
    registerWasmTrainingKernels();
    return null;
  },
  run: (input) => roarTrain(input),
});
