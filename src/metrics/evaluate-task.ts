/**
 * The per-excerpt job of `earshot evaluate` as a pool task (src/parallel/pool.ts), so a run can
 * use worker threads and the resumable journal (src/experiments/journal.ts): `init` loads the
 * classifier (and the L-MAC decoder, and a fast forward engine for SLIME / KernelSHAP) once per
 * worker and warms every explainer up; `run` explains one excerpt with every method, times each
 * explanation, and scores each mask (./evaluate.ts). Node only.
 */
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { crc32 } from '../model/weights.ts';
import { EarshotError } from '../../bindings/errors.ts';
import { createMaskExplainer, lmacExplainer, predictedClassOf, magnitudeTarget, type MaskExplainer, type MaskExplainerOptions } from '../explain/attribution/index.ts';
import { loadLmac } from '../explain/lmac/index.ts';
import { createClassifier } from '../model/engines.ts';
import type { Classifier } from '../model/classifier.ts';
import { registerTask } from '../parallel/pool.ts';
import { scoreMask, visibleBins, vocalAuc, type MethodSample } from './evaluate.ts';
import { resolveModelWeights } from '../model/resolve-node.ts';
import { buildEvalModel, withStats, type EvalModel } from './model-node.ts';

export const EVALUATE_TASK = 'earshot.evaluate.excerpt';
/** The module workers import to find the task (this file from the sources, the bundle when bundled). */
export const EVALUATE_TASK_MODULE = import.meta.url;

export interface EvaluateInit {
  model?: string;
  /** L-MAC decoder directory (when 'lmac' is among the methods). */
  lmac?: string;
  /** Options of the explainers (seed, per-method settings; GradientSHAP's baselines). */
  explainer: Omit<MaskExplainerOptions, 'forward'>;
  /** --engine for SLIME / KernelSHAP forward passes ('tfjs' = the same SvdCnn). */
  engine: string;
  /** Excerpts to compute normalisation statistics from when the weights have none. */
  statsFrom?: Float32Array[];
}

/** One job: one method on one excerpt. */
export interface EvaluateInput {
  /** The excerpt's key (seeds the stochastic methods). */
  key: string;
  method: string;
  mag: Float32Array;
  vocals?: Float32Array;
  accompaniment?: Float32Array;
}

export interface EvaluateOutput extends MethodSample {
  method: string;
}

interface State {
  init: EvaluateInit;
  model: EvalModel;
  explainers: Map<string, MaskExplainer>;
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

/** The explainer of `method` in this worker, built (and warmed up once, untimed) on first use. */
async function explainerFor(s: State, method: string, warm: Float32Array): Promise<MaskExplainer> {
  let e = s.explainers.get(method);
  if (e) return e;
  const d = s.init;
  if (method === 'lmac') {
    if (!hasLmacDecoder(d.lmac)) throw new EarshotError('LMAC_MISSING', `lmac: no decoder in ${d.lmac}`);
    const lm = await loadLmac(d.lmac!, withStats(s.model.weights, s.model.stats));
    e = lmacExplainer(lm, s.model.mm.frames * s.model.mm.bins);
  } else {
    if ((method === 'slime' || method === 'kernelshap') && !s.forward && d.engine !== 'tfjs') {
      s.forward = await createClassifier(s.model.weights, { engine: d.engine as 'auto', threads: 1 });
    }
    e = createMaskExplainer(method, s.model.mm, { ...d.explainer, ...(s.forward ? { forward: s.forward } : {}) });
  }
  // the first call of a method pays for kernel set-up and caches, not for the explanation
  await e.explain(warm, { target: predictedClassOf(magnitudeTarget(s.model.mm), warm), seed: 0 });
  s.explainers.set(method, e);
  return e;
}

registerTask<EvaluateInput, EvaluateOutput, State, EvaluateInit>(EVALUATE_TASK, {
  async init(d) {
    const { weights, dir } = await resolveModelWeights(d.model);
    const model = await buildEvalModel(weights, dir, d.model, d.statsFrom ?? []);
    return { init: d, model, explainers: new Map(), forward: null, visible: visibleBins(model.mm), seed: d.explainer.seed ?? 0 };
  },
  async run(input, s) {
    const mm = s.model.mm;
    const e = await explainerFor(s, input.method, input.mag);
    const c = predictedClassOf(magnitudeTarget(mm), input.mag);
    const t0 = performance.now();
    const mask = await e.explain(input.mag, { target: c, seed: excerptSeed(input.key, s.seed) });
    const ms = performance.now() - t0;
    const m = scoreMask(mm, input.mag, mask);
    if (m.c !== c) throw new EarshotError('INTERNAL', `evaluate: class ${m.c} from the metrics, ${c} from the explainer`);
    const auc = input.vocals && input.accompaniment && c === 1 ? vocalAuc(mask, input.vocals, input.accompaniment, s.visible) : null;
    return { method: input.method, ...m, ms, auc };
  },
  dispose(s) {
    for (const e of s.explainers.values()) e.dispose?.();
    s.forward?.dispose();
    s.model.mm.dispose();
    s.model.svd.dispose();
  },
});

/** The journal key of a method: L-MAC's carries its decoder's checksum, so a new decoder is evaluated anew. */
export function methodKey(method: string, lmacDir: string | undefined): string {
  if (method !== 'lmac' || !lmacDir || !hasLmacDecoder(lmacDir)) return method;
  const bin = join(lmacDir, 'decoder.bin');
  const bytes = existsSync(bin) ? readFileSync(bin) : readFileSync(join(lmacDir, 'decoder.json'));
  return `lmac@${crc32(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))}`;
}
