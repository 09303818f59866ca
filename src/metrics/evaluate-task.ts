/**
 * The per-excerpt job of `earshot evaluate` as a pool task (src/parallel/pool.ts), so a run can
 * use worker threads and the resumable journal (src/experiments/journal.ts): `init` loads the
 * classifier (and the L-MAC decoder, and a fast forward engine for SLIME / KernelSHAP) once per
 * worker and warms every explainer up; `run` explains one excerpt with every method, times each
 * explanation, and scores each mask (./evaluate.ts). Node only.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { EarshotError } from '../../bindings/errors.ts';
import { createMaskExplainer, lmacExplainer, predictedClassOf, magnitudeTarget, type MaskExplainer, type MaskExplainerOptions } from '../explain/attribution/index.ts';
import { loadLmac } from '../explain/lmac/index.ts';
import { createClassifier } from '../model/engines.ts';
import type { Classifier } from '../model/classifier.ts';
import { registerTask } from '../parallel/pool.ts';
import { scoreMask, visibleBins, vocalAuc, type MethodSample } from './evaluate.ts';
import { buildEvalModel, readWeights, withStats, type EvalModel } from './model-node.ts';

export const EVALUATE_TASK = 'earshot.evaluate.excerpt';
/** The module workers import to find the task (this file from the sources, the bundle when bundled). */
export const EVALUATE_TASK_MODULE = import.meta.url;

export interface EvaluateInit {
  model?: string;
  methods: string[];
  /** L-MAC decoder directory (when 'lmac' is among the methods). */
  lmac?: string;
  /** Options of the explainers (seed, per-method settings); `background` = GradientSHAP baselines. */
  explainer: Omit<MaskExplainerOptions, 'forward'>;
  /** --engine for SLIME / KernelSHAP forward passes ('tfjs' = the same SvdCnn). */
  engine: string;
  /** Excerpts to compute normalisation statistics from when the weights have none. */
  statsFrom?: Float32Array[];
}

export interface EvaluateInput {
  key: string;
  mag: Float32Array;
  vocals?: Float32Array;
  accompaniment?: Float32Array;
}

export interface EvaluateOutput {
  key: string;
  /** Class predicted on X and P(label). */
  c: number;
  prediction: number;
  methods: Record<string, MethodSample>;
}

interface State {
  model: EvalModel;
  explainers: MaskExplainer[];
  forward: Classifier | null;
  visible: Uint8Array;
  seed: number;
}

/** A seed per excerpt (FNV-1a of its key mixed with the run's seed): stochastic methods draw the same noise whatever worker runs the job. */
export function excerptSeed(key: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether `dir` holds an L-MAC decoder (decoder.json next to its weights). */
export function hasLmacDecoder(dir: string | undefined): boolean {
  return !!dir && existsSync(join(dir, 'decoder.json'));
}

registerTask<EvaluateInput, EvaluateOutput, State, EvaluateInit>(EVALUATE_TASK, {
  async init(d) {
    const { weights, dir } = await readWeights(d.model);
    const model = await buildEvalModel(weights, dir, d.model, d.statsFrom ?? []);
    let forward: Classifier | null = null;
    if (d.methods.some((m) => m === 'slime' || m === 'kernelshap') && d.engine !== 'tfjs') {
      forward = await createClassifier(weights, { engine: d.engine as 'auto', threads: 1 });
    }
    const explainers: MaskExplainer[] = [];
    for (const m of d.methods) {
      if (m === 'lmac') {
        if (!hasLmacDecoder(d.lmac)) throw new EarshotError('LMAC_MISSING', `lmac: no decoder in ${d.lmac}`);
        const lm = await loadLmac(d.lmac!, withStats(weights, model.stats));
        explainers.push(lmacExplainer(lm, model.mm.frames * model.mm.bins));
      } else {
        explainers.push(createMaskExplainer(m, model.mm, { ...d.explainer, ...(forward ? { forward } : {}) }));
      }
    }
    // warm-up: the first call of each method pays for kernel set-up, not for the explanation
    const warm = d.statsFrom?.[0] ?? new Float32Array(model.mm.frames * model.mm.bins).fill(0.01);
    const target = magnitudeTarget(model.mm);
    const c = predictedClassOf(target, warm);
    for (const e of explainers) await e.explain(warm, { target: c });
    return { model, explainers, forward, visible: visibleBins(model.mm), seed: d.explainer.seed ?? 0 };
  },
  async run(input, s) {
    const mm = s.model.mm;
    const target = magnitudeTarget(mm);
    const c = predictedClassOf(target, input.mag);
    const out: EvaluateOutput = { key: input.key, c, prediction: NaN, methods: {} };
    for (const e of s.explainers) {
      const t0 = performance.now();
      const mask = await e.explain(input.mag, { target: c, seed: excerptSeed(input.key, s.seed) });
      const ms = performance.now() - t0;
      const m = scoreMask(mm, input.mag, mask);
      if (m.c !== c) throw new EarshotError('INTERNAL', `evaluate: class ${m.c} from the metrics, ${c} from the explainer`);
      out.prediction = m.c === 1 ? m.p : 1 - m.p;
      const auc = input.vocals && input.accompaniment && c === 1 ? vocalAuc(mask, input.vocals, input.accompaniment, s.visible) : null;
      out.methods[e.name] = { ...m, ms, auc };
    }
    return out;
  },
  dispose(s) {
    for (const e of s.explainers) e.dispose?.();
    s.forward?.dispose();
    s.model.mm.dispose();
    s.model.svd.dispose();
  },
});
