/**
 * One interface for every method that answers "which time-frequency bins of this excerpt made
 * the classifier decide?" with a mask M ∈ [0, 1] on the linear STFT magnitude |X| (115 × 513):
 * the domain where L-MAC's masks live (methods.md §7) and where the faithfulness metrics score
 * f(M ⊙ X) and f((1 − M) ⊙ X) (methods.md §8). In Captum's spirit (one class per method, a
 * small shared interface), adding a method is one entry in `MASK_METHODS`.
 *
 * - Gradient methods (./gradients.ts) become masks as |a| / max|a| (methods.md §8).
 * - SLIME and KernelSHAP (src/explain/explain.ts) explain the classifier on its own log-mel
 *   input (the excerpt |X| maps to through the magnitude model), on a time × frequency grid of
 *   components; the positive component weights, divided by the largest, are the mask on the mel
 *   grid, spread to the linear bins by the filterbank (./target.ts `melToLinear`).
 * - 'random' is the control of the sanity checks (a uniform random mask, seeded per call).
 * - 'lmac' is the L-MAC decoder (src/explain/lmac/), added by `lmacExplainer` when present.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkEnum, checkInt } from '../../../bindings/errors.ts';
import type { Classifier } from '../../model/classifier.ts';
import { explain } from '../explain.ts';
import type { MagnitudeModel } from '../maskable.ts';
import { Rng } from '../rng.ts';
import {
  attributionToMask, gradCam, gradientShap, guidedBackprop, integratedGradients, saliency, smoothGrad,
  type Attribution, type GradCamOptions, type GradientShapOptions, type IntegratedGradientsOptions, type SmoothGradOptions,
} from './gradients.ts';
import { magnitudeTarget, melToLinear, melToLinearWeights, type GradientTarget, type ScoreOutput } from './target.ts';

/** Per-call context: which class to explain (default: the predicted one). */
export interface MaskContext {
  /** Class c (binary detector: 1 = the label, 0 = its absence); default: predicted on |X|. */
  target?: number;
  /** Seed for the stochastic methods (default: the explainer's). */
  seed?: number;
}

export interface MaskExplainer {
  /** The method's name as the CLI spells it. */
  readonly name: string;
  readonly kind: 'gradient' | 'perturbation' | 'decoder' | 'control';
  /** |X| (frames × bins, row-major) → mask in [0, 1] on the same grid. */
  explain(mag: Float32Array, ctx?: MaskContext): Promise<Float32Array>;
  /** The raw attribution (gradient methods only). */
  attribute?(mag: Float32Array, ctx?: MaskContext): Promise<Attribution>;
  dispose?(): void;
}

export const MASK_METHODS = ['saliency', 'smoothgrad', 'ig', 'guidedbackprop', 'gradcam', 'gradientshap', 'slime', 'kernelshap', 'random', 'lmac'] as const;
export type MaskMethod = (typeof MASK_METHODS)[number];

export interface MaskExplainerOptions {
  /** Score the gradients attribute: 'logit' (default) or 'probability'. */
  output?: ScoreOutput;
  smoothgrad?: SmoothGradOptions;
  ig?: IntegratedGradientsOptions;
  gradcam?: GradCamOptions;
  /** GradientSHAP; its `baselines` default to one all-zero |X| (silence). */
  gradientshap?: GradientShapOptions;
  /** SLIME / KernelSHAP on the mel input: grid (default 5 × 4, as 001) and N_s (default 1000). */
  perturbation?: { grid?: { time: number; freq: number }; numSamples?: number; batchSize?: number };
  /** Forward-only classifier for SLIME / KernelSHAP (e.g. onnxruntime; default: the magnitude model's classifier). */
  forward?: Classifier;
  /** Seed of the stochastic methods (default 0). */
  seed?: number;
}

/** The class predicted on |X| (binary detector: 1[P ≥ 0.5]). */
export function predictedClassOf(target: GradientTarget, mag: Float32Array): number {
  const [T, F] = target.shape;
  const p = tf.tidy(() => target.probabilities(tf.tensor3d(mag, [1, T, F])).dataSync() as Float32Array);
  if (target.numClasses === 2) return p[1]! >= 0.5 ? 1 : 0;
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

function gradientExplainer(name: MaskMethod, target: GradientTarget, run: (x: Float32Array, c: number, seed: number) => Attribution, seed0: number): MaskExplainer {
  const attribute = async (mag: Float32Array, ctx: MaskContext = {}) => {
    const c = ctx.target ?? predictedClassOf(target, mag);
    return run(mag, c, ctx.seed ?? seed0);
  };
  return {
    name,
    kind: 'gradient',
    attribute,
    async explain(mag, ctx) {
      return attributionToMask((await attribute(mag, ctx)).values);
    },
  };
}

/** SLIME / KernelSHAP on the mel input, mapped to the linear grid. */
function perturbationExplainer(name: 'slime' | 'kernelshap', mm: MagnitudeModel, target: GradientTarget, o: MaskExplainerOptions): MaskExplainer {
  const p = o.perturbation ?? {};
  const grid = p.grid ?? { time: 5, freq: 4 };
  const numSamples = checkInt(p.numSamples ?? 1000, `${name}: numSamples`, 2, 1 << 24);
  const clf = o.forward ?? mm.classifier;
  const weights = melToLinearWeights(mm.melT.dataSync() as Float32Array, mm.bins, mm.nMels);
  return {
    name,
    kind: 'perturbation',
    async explain(mag, ctx = {}) {
      if (!(mag instanceof Float32Array) || mag.length !== mm.frames * mm.bins) {
        throw new EarshotError('BAD_SHAPE', `${name}: |X| must be a Float32Array of ${mm.frames}×${mm.bins}, got ${mag instanceof Float32Array ? mag.length : typeof mag}`);
      }
      const c = ctx.target ?? predictedClassOf(target, mag);
      const excerpt = tf.tidy(() => mm.toInput(tf.tensor3d(mag, [1, mm.frames, mm.bins])).dataSync() as Float32Array);
      const binary = clf.labels.length === 1;
      const e = await explain(clf, excerpt, {
        method: name,
        segmentation: 'tf',
        grid,
        numSamples,
        seed: ctx.seed ?? o.seed ?? 0,
        batchSize: p.batchSize ?? 64,
        ...(binary ? { complement: c === 0 } : { labelIndex: c }),
      });
      const layout = e.components.layout;
      if (layout.kind !== 'spectrogram') throw new EarshotError('INTERNAL', `${name}: expected spectrogram components`);
      let wmax = 0;
      for (const w of e.weights) wmax = Math.max(wmax, w);
      const melMask = new Float32Array(layout.labels.length);
      if (wmax > 0) {
        for (let i = 0; i < melMask.length; i++) {
          const j = layout.labels[i]!;
          melMask[i] = j >= 0 ? Math.max(0, e.weights[j]!) / wmax : 0;
        }
      }
      return melToLinear(melMask, mm.frames, weights, mm.bins, mm.nMels);
    },
  };
}

function randomExplainer(size: number, seed0: number): MaskExplainer {
  let calls = 0;
  return {
    name: 'random',
    kind: 'control',
    async explain(mag, ctx = {}) {
      if (!(mag instanceof Float32Array) || mag.length !== size) throw new EarshotError('BAD_SHAPE', `random: |X| must be a Float32Array of ${size} values`);
      // a given seed fixes the mask; without one, every call draws a new mask
      const rng = new Rng(ctx.seed !== undefined ? ctx.seed >>> 0 : (seed0 + 0x9e3779b9 * calls++) >>> 0);
      return Float32Array.from({ length: size }, () => rng.uniform());
    },
  };
}

/**
 * The explainer of `method` on the magnitude model `mm` ('lmac' needs `lmacExplainer`).
 * Options that do not apply to the method are ignored; unknown methods are refused by name.
 */
export function createMaskExplainer(method: string, mm: MagnitudeModel, options: MaskExplainerOptions = {}): MaskExplainer {
  const m = checkEnum(method, 'method', MASK_METHODS);
  const seed = checkInt(options.seed ?? 0, 'seed', 0, 0xffffffff);
  const target = magnitudeTarget(mm, { output: options.output });
  switch (m) {
    case 'saliency':
      return gradientExplainer(m, target, (x, c) => saliency(target, x, c), seed);
    case 'smoothgrad':
      return gradientExplainer(m, target, (x, c, s) => smoothGrad(target, x, c, { ...options.smoothgrad, seed: s }), seed);
    case 'ig':
      return gradientExplainer(m, target, (x, c) => integratedGradients(target, x, c, options.ig), seed);
    case 'guidedbackprop':
      return gradientExplainer(m, target, (x, c) => guidedBackprop(target, x, c), seed);
    case 'gradcam':
      return gradientExplainer(m, target, (x, c) => gradCam(target, x, c, options.gradcam), seed);
    case 'gradientshap':
      return gradientExplainer(m, target, (x, c, s) => gradientShap(target, x, c, { ...options.gradientshap, seed: s }), seed);
    case 'slime':
    case 'kernelshap':
      return perturbationExplainer(m, mm, target, options);
    case 'random':
      return randomExplainer(mm.frames * mm.bins, seed);
    case 'lmac':
      throw new EarshotError('UNSUPPORTED', "method 'lmac' needs a trained decoder: use lmacExplainer(dir, …)");
  }
}

/** What an L-MAC decoder offers (src/explain/lmac/index.ts). */
export interface LmacLike {
  explainMagnitude(mag: Float32Array): Promise<Float32Array> | Float32Array;
  dispose?(): void;
}

/** Wrap a loaded L-MAC decoder as a MaskExplainer. */
export function lmacExplainer(lmac: LmacLike, size: number): MaskExplainer {
  return {
    name: 'lmac',
    kind: 'decoder',
    async explain(mag) {
      if (!(mag instanceof Float32Array) || mag.length !== size) throw new EarshotError('BAD_SHAPE', `lmac: |X| must be a Float32Array of ${size} values`);
      const out = await lmac.explainMagnitude(mag);
      if (!(out instanceof Float32Array) || out.length !== size) throw new EarshotError('BAD_OUTPUT', `lmac: the decoder returned ${out?.length} values, expected ${size}`);
      return out;
    },
    dispose: () => lmac.dispose?.(),
  };
}
