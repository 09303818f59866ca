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
import { buildEvalModel, readWeights, withStats, type EvalModel } from './model-node.ts';
import { CASCADE_LAYERS, mapSimilarity, randomiseTop, roarTrain, type RoarTrainInput, type RoarTrainResult } from './sanity.ts';

export const RANDOMISATION_TASK = 'earshot.sanity.randomisation';
export const ROAR_TASK = 'earshot.sanity.roar';
/** The module workers import to find the tasks (this file from the sources, the bundle when bundled). */
export const SANITY_TASK_MODULE = import.meta.url;

export interface RandomisationInit {
  model?: string;
  methods: string[];
  lmac?: string;
  explainer: Omit<MaskExplainerOptions, 'forward'>;
  /** Seed of the random re-initialisation. */
  seed: number;
  statsFrom?: Float32Array[];
}

export interface RandomisationInput {
  key: string;
  mag: Float32Array;
}

export interface RandomisationOutput {
  key: string;
  c: number;
  /** Per method: SSIM and Spearman of the map after randomising the top 1…7 layers vs the original. */
  methods: Record<string, { ssim: number[]; spearman: number[] }>;
}

interface RandState {
  model: EvalModel;
  lmac: Lmac | null;
  explainers: MaskExplainer[];
  nVisible: number;
  seed: number;
}

registerTask<RandomisationInput, RandomisationOutput, RandState, RandomisationInit>(RANDOMISATION_TASK, {
  async init(d) {
    const { weights, dir } = await readWeights(d.model);
    const model = await buildEvalModel(weights, dir, d.model, d.statsFrom ?? []);
    let lmac: Lmac | null = null;
    const explainers: MaskExplainer[] = [];
    for (const m of d.methods) {
      if (m === 'lmac') {
        if (!hasLmacDecoder(d.lmac)) throw new EarshotError('LMAC_MISSING', `lmac: no decoder in ${d.lmac}`);
        lmac = await loadLmac(d.lmac!, withStats(weights, model.stats));
        explainers.push(lmacExplainer(lmac, model.mm.frames * model.mm.bins));
      } else {
        // forward passes of slime / kernelshap must see the randomised weights: the SvdCnn itself
        explainers.push(createMaskExplainer(m, model.mm, d.explainer));
      }
    }
    const vis = visibleBins(model.mm);
    let nVisible = 0;
    for (let k = 0; k < vis.length; k++) if (vis[k]) nVisible = k + 1;
    return { model, lmac, explainers, nVisible, seed: d.seed };
  },
  async run(input, s) {
    const { mm, svd, weights } = s.model;
    const models: SvdCnn[] = [svd, ...(s.lmac ? [s.lmac.classifier] : [])];
    const target = magnitudeTarget(mm);
    const c = predictedClassOf(target, input.mag);
    const seed = s.seed;
    const out: RandomisationOutput = { key: input.key, c, methods: {} };
    const originals: Float32Array[] = [];
    try {
      randomiseTop(models, 0, weights.tensors, seed);
      // the same noise at every depth (only the model changes), except for the random control,
      // whose maps must be independent draws
      const ctx = (e: MaskExplainer, depth: number) => ({ target: c, seed: (excerptSeed(input.key, seed) + (e.name === 'random' ? depth : 0)) >>> 0 });
      for (const e of s.explainers) originals.push(await e.explain(input.mag, ctx(e, 0)));
      s.explainers.forEach((e) => (out.methods[e.name] = { ssim: [], spearman: [] }));
      for (let depth = 1; depth <= CASCADE_LAYERS.length; depth++) {
        randomiseTop(models, depth, weights.tensors, seed);
        for (let i = 0; i < s.explainers.length; i++) {
          const e = s.explainers[i]!;
          const m = await e.explain(input.mag, ctx(e, depth));
          const sim = mapSimilarity(originals[i]!, m, mm.frames, mm.bins, s.nVisible);
          out.methods[e.name]!.ssim.push(sim.ssim);
          out.methods[e.name]!.spearman.push(sim.spearman);
        }
      }
    } finally {
      randomiseTop(models, 0, weights.tensors, seed);
    }
    return out;
  },
  dispose(s) {
    for (const e of s.explainers) e.dispose?.();
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
