/**
 * Targeted adversarial attacks on the singing-voice CNN, as in the veracity paper (001, §3–4.3)
 * and its reference code (methods.md §6): C&W-style, every prediction pushed towards the
 * opposite of the model's current decision, loss Σδ² + α·BCE(logits, t) (BCE with logits, mean
 * over predictions), the gradient replaced by its sign, then an Adam step (PyTorch defaults
 * β = (0.9, 0.999), ε_adam = 1e-8) with learning rate η, δ clamped to [−ε, ε]; at most 1000
 * iterations; stop as soon as every prediction, thresholded at 0.51, equals its target. δ starts
 * at 0.
 *
 * Two domains:
 * - 'waveform': δ on the audio samples (22 050 Hz); the front end (methods.md §1) is recomputed
 *   every step and differentiated through its wasm adjoint (docs/frontend-grad.md);
 *   ε = 0.01, η = 0.0003, α = 2.
 * - 'spectrogram': δ on the log-mel input of the reference model, i.e. on log(max(mel, 1e-7))
 *   BEFORE the per-band z-score (the reference model's input BatchNorm1d). The API takes and
 *   returns the *normalised* log-mel the SvdCnn consumes; δ is bounded and penalised in log-mel
 *   units, so `delta` (normalised units) is δ_logmel / σ_band; `deltaLogMel` holds δ itself.
 *   ε = 0.1, η = 0.0005, α = 15.
 *
 * Predictions: an input of exactly one excerpt (115 frames) gives one prediction (the strided
 * form); a longer input gives one prediction per excerpt start, frame-wise (the
 * fully-convolutional form, methods.md §2), i.e. frames − 114 predictions; `pad: true` adds the
 * model's 57 padding frames at both ends first (as the reference pads whole files) so there is
 * one prediction per input frame. The input and its gradient go through earshot's own backward
 * kernels (./grad.ts), not TF.js autodiff.
 */
import type { SvdCnn } from '../model/svdcnn.ts';
import { EarshotError } from '../../bindings/errors.ts';

export type AttackDomain = 'waveform' | 'spectrogram';

/** Defaults per domain (001 §4.3; the reference code's adv_default.vars). */
export const ATTACK_DEFAULTS: Readonly<Record<AttackDomain, { epsilon: number; eta: number; alpha: number; maxIterations: number; threshold: number }>> = {
  waveform: { epsilon: 0.01, eta: 0.0003, alpha: 2, maxIterations: 1000, threshold: 0.51 },
  spectrogram: { epsilon: 0.1, eta: 0.0005, alpha: 15, maxIterations: 1000, threshold: 0.51 },
};

export interface AttackOptions {
  domain: AttackDomain;
  /** Bound of |δ| (samples for 'waveform', log-mel units for 'spectrogram'). */
  epsilon?: number;
  /** Adam learning rate. */
  eta?: number;
  /** Weight of the classification loss against Σδ². */
  alpha?: number;
  /** At most this many Adam steps (default 1000). */
  maxIterations?: number;
  /** Decision threshold on P(voice) for "flipped" (default 0.51, 001's tuned threshold). */
  threshold?: number;
  /**
   * Add the model's padding frames (57, the normalised value of log(1e-7)) at both ends of the
   * (computed) spectrogram, so there is one prediction per input frame; the padding is never
   * perturbed. Default false: the input carries its own context.
   */
  pad?: boolean;
  /**
   * Same length as the attacked input (waveform samples, or frames × 80 normalised log-mel
   * cells): 1 where δ may be non-zero, 0 where it must stay 0 — localised perturbations.
   * Values other than 0 and 1 are rejected.
   */
  mask?: Float32Array;
  /** Per-prediction targets (0/1); default: the opposite of the model's current decision. */
  targets?: Float32Array;
  /** Called after every iteration with the number of predictions that equal their target. */
  onIteration?: (iteration: number, flipped: number, frames: number) => void;
}

export interface AttackResult {
  domain: AttackDomain;
  /** Every prediction reached its target (thresholded) within maxIterations. */
  success: boolean;
  /** Adam steps taken (0 when the input already met the targets). */
  iterations: number;
  /** The perturbation, same layout and units as the input (normalised log-mel for 'spectrogram'). */
  delta: Float32Array;
  /** input + delta. */
  adversarial: Float32Array;
  /** 'spectrogram' only: δ in log-mel units (what ε bounds and Σδ² penalises). */
  deltaLogMel?: Float32Array;
  /** Per-prediction P(voice) before and after. */
  before: Float32Array;
  after: Float32Array;
  /** The per-prediction targets used (0/1). */
  targets: Float32Array;
  /**
   * Signal-to-perturbation ratio in dB: waveform 10·log10(Σx²/Σδ²) over the samples;
   * spectrogram the same over the linear mel magnitudes exp(log-mel) of input and adversarial.
   * +Infinity when δ = 0.
   */
  snrDb: number;
  /** max |δ| in the units ε bounds. */
  linf: number;
}

/**
 * Attack one input. waveform: input = audio samples at 22 050 Hz of the span attacked (at least
 * one excerpt of frames unless `pad`); spectrogram: input = normalised log-mel (frames × 80,
 * padded as the model needs unless `pad`). Throws EarshotError (BAD_ARGUMENT / BAD_SHAPE /
 * NOT_FINITE / TOO_SHORT) naming the offending option or argument.
 */
export async function attack(model: SvdCnn, input: Float32Array, opts: AttackOptions): Promise<AttackResult> {
  const [r] = await attackBatch(model, [input], opts);
  return r!;
}

/**
 * Attack several inputs of the same length together: one batched forward and backward pass per
 * iteration over the inputs still running (an input leaves the batch once all its predictions
 * reached their targets). Same options for all; `mask` and `targets`, when given, apply to every
 * input. Results in input order; each equals what `attack` gives for that input alone.
 */
export async function attackBatch(model: SvdCnn, inputs: Float32Array[], opts: AttackOptions): Promise<AttackResult[]> {
  void model;
  void inputs;
  void opts;
  throw new EarshotError('UNSUPPORTED', 'attack: implementation lands in the next commit');
}
