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
import { EarshotError, checkArray, checkEnum, checkInt, checkNumber } from '../../bindings/errors.ts';
import { FrontEndGradKernel } from '../../bindings/frontend_grad.ts';
import { melOptionsOf } from '../frontend/config.ts';
import { InputGradient, type GradForm } from './grad.ts';

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
  /**
   * Forward engine of the gradient (./grad.ts): 'auto' (default) = onnxruntime-node where it
   * loads, else TF.js; the backward pass is always earshot's own kernels.
   */
  engine?: 'auto' | 'tfjs' | 'ort';
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
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
  const o = resolveAttackOptions(opts);
  if (!Array.isArray(inputs) || inputs.length === 0) throw new EarshotError('BAD_ARGUMENT', 'attackBatch: inputs must be a non-empty array of Float32Array');
  const len = inputs[0] instanceof Float32Array ? inputs[0].length : -1;
  inputs.forEach((x, k) => {
    checkArray(x, Float32Array, `input${inputs.length > 1 ? `[${k}]` : ''}`, len);
    const bad = firstNonFinite(x);
    if (bad >= 0) throw new EarshotError('NOT_FINITE', `input${inputs.length > 1 ? `[${k}]` : ''}[${bad}] is ${x[bad]}; inputs must be finite`);
  });
  const grad = await InputGradient.shared(model, { engine: o.engine, threads: o.threads });
  const ctx = prepare(model, grad, o.domain, len, o.pad);
  try {
    if (o.mask) {
      checkArray(o.mask, Float32Array, 'mask', len);
      for (let i = 0; i < len; i++) {
        const m = o.mask[i]!;
        if (m !== 0 && m !== 1) throw new EarshotError('BAD_ARGUMENT', `mask[${i}] is ${m}; mask values must be 0 or 1`);
      }
    }
    if (o.targets) {
      checkArray(o.targets, Float32Array, 'targets', ctx.P);
      for (let i = 0; i < ctx.P; i++) {
        const t = o.targets[i]!;
        if (t !== 0 && t !== 1) throw new EarshotError('BAD_ARGUMENT', `targets[${i}] is ${t}; targets must be 0 or 1`);
      }
    }
    return await run(ctx, inputs, o);
  } finally {
    ctx.dispose();
  }
}

type Resolved = Required<Omit<AttackOptions, 'mask' | 'targets' | 'onIteration'>> & Pick<AttackOptions, 'mask' | 'targets' | 'onIteration'>;
const OPTION_KEYS = ['domain', 'epsilon', 'eta', 'alpha', 'maxIterations', 'threshold', 'pad', 'mask', 'targets', 'onIteration', 'engine', 'threads'] as const;

/** Options with the domain's defaults filled in; every option validated and named when wrong. */
export function resolveAttackOptions(opts: AttackOptions): Resolved {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new EarshotError('BAD_ARGUMENT', `attack options must be an object with a domain, got ${opts === null ? 'null' : typeof opts}`);
  for (const k of Object.keys(opts)) {
    if (!(OPTION_KEYS as readonly string[]).includes(k)) throw new EarshotError('BAD_ARGUMENT', `unknown attack option '${k}' (expected ${OPTION_KEYS.join(', ')})`);
  }
  const domain = checkEnum(opts.domain, 'domain', ['waveform', 'spectrogram'] as const);
  const d = ATTACK_DEFAULTS[domain];
  const positive = (v: unknown, name: string, dflt: number) => {
    const x = checkNumber(v ?? dflt, name);
    if (!(x > 0)) throw new EarshotError('BAD_ARGUMENT', `${name} must be > 0, got ${x}`);
    return x;
  };
  const pad = opts.pad ?? false;
  if (typeof pad !== 'boolean') throw new EarshotError('BAD_ARGUMENT', `pad must be a boolean, got ${String(pad)}`);
  if (opts.onIteration !== undefined && typeof opts.onIteration !== 'function') throw new EarshotError('BAD_ARGUMENT', 'onIteration must be a function');
  const threshold = checkNumber(opts.threshold ?? d.threshold, 'threshold', 0, 1);
  if (!(threshold > 0 && threshold < 1)) throw new EarshotError('BAD_ARGUMENT', `threshold must lie strictly between 0 and 1, got ${threshold}`);
  return {
    domain,
    epsilon: positive(opts.epsilon, 'epsilon', d.epsilon),
    eta: positive(opts.eta, 'eta', d.eta),
    alpha: checkNumber(opts.alpha ?? d.alpha, 'alpha', 0),
    maxIterations: checkInt(opts.maxIterations ?? d.maxIterations, 'maxIterations', 0, 1e7),
    threshold,
    pad,
    mask: opts.mask,
    targets: opts.targets,
    onIteration: opts.onIteration,
    engine: checkEnum(opts.engine ?? 'auto', 'engine', ['auto', 'tfjs', 'ort'] as const),
    threads: checkInt(opts.threads ?? 1, 'threads', 1, 256),
  };
}

function firstNonFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return i;
  return -1;
}

interface Context {
  domain: AttackDomain;
  model: SvdCnn;
  grad: InputGradient;
  fe: FrontEndGradKernel | null;
  /** Samples (waveform) or cells (spectrogram) of one input. */
  len: number;
  /** Frames of one input's spectrogram (without the padding). */
  frames: number;
  padRows: number;
  /** Rows of the model input (frames + 2·padRows), predictions P = L − T + 1. */
  L: number;
  P: number;
  form: GradForm;
  bands: number;
  mean: Float32Array;
  std: Float32Array;
  padValues: Float32Array;
  dispose(): void;
}

function prepare(model: SvdCnn, grad: InputGradient, domain: AttackDomain, len: number, pad: boolean): Context {
  const { frames: T, bands: F } = model.arch;
  const norm = model.info.normalization;
  const mean = new Float32Array(F);
  const std = new Float32Array(F).fill(1);
  if (norm) {
    mean.set(norm.mean);
    std.set(norm.std);
  }
  let fe: FrontEndGradKernel | null = null;
  let frames: number;
  if (domain === 'waveform') {
    const c = model.info.frontend;
    if (c.spectrum !== 'magnitude') throw new EarshotError('BAD_CONFIG', `waveform attacks differentiate the magnitude front end; the model's front end uses '${c.spectrum}'`);
    const mo = melOptionsOf(c);
    if (norm) {
      mo.mean = mean;
      mo.std = std;
    }
    fe = new FrontEndGradKernel(mo);
    frames = fe.frames(len);
  } else {
    if (len % F !== 0) {
      throw new EarshotError('BAD_SHAPE', `a spectrogram input must hold frames × ${F} values, got ${len} (not a multiple of ${F})`);
    }
    frames = len / F;
  }
  const padRows = pad ? model.geometry.pad : 0;
  const L = frames + 2 * padRows;
  const P = L - T + 1;
  if (P < 1) {
    fe?.dispose();
    const need = domain === 'waveform' ? `${(T - 2 * padRows - 1) * (model.info.frontend.hop) + model.info.frontend.nFft} samples` : `${T - 2 * padRows} frames`;
    throw new EarshotError('TOO_SHORT', `the ${domain} input gives ${frames} frames${pad ? ' (+ padding)' : ''}; one prediction needs at least ${need}`);
  }
  return {
    domain, model, grad, fe, len, frames, padRows, L, P, form: P === 1 ? 'excerpts' : 'frames', bands: F, mean, std,
    padValues: model.padValues(),
    dispose: () => fe?.dispose(),
  };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Model input (L × F normalised log-mel) of one input plus its perturbation. */
function modelInput(ctx: Context, x: Float32Array, delta: Float32Array, out: Float32Array, work: Float32Array): void {
  const F = ctx.bands;
  for (let r = 0; r < ctx.padRows; r++) {
    out.set(ctx.padValues, r * F);
    out.set(ctx.padValues, (ctx.L - 1 - r) * F);
  }
  const body = out.subarray(ctx.padRows * F, (ctx.padRows + ctx.frames) * F);
  if (ctx.fe) {
    for (let i = 0; i < x.length; i++) work[i] = x[i]! + delta[i]!;
    body.set(ctx.fe.forward(work));
  } else {
    for (let i = 0; i < x.length; i++) body[i] = x[i]! + delta[i]! / ctx.std[i % F]!;
  }
}

interface State {
  k: number;
  x: Float32Array;
  delta: Float32Array;
  m: Float32Array;
  v: Float32Array;
  targets: Float32Array;
  before: Float32Array | null;
  done: AttackResult | null;
}

async function run(ctx: Context, inputs: Float32Array[], o: Resolved): Promise<AttackResult[]> {
  const { P, L, bands: F } = ctx;
  const states: State[] = inputs.map((x, k) => ({
    k, x, delta: new Float32Array(x.length), m: new Float32Array(x.length), v: new Float32Array(x.length),
    targets: new Float32Array(P), before: null, done: null,
  }));
  const work = new Float32Array(ctx.len);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const adamEps = 1e-8;
  for (let it = 0; ; it++) {
    const active = states.filter((s) => !s.done);
    if (active.length === 0) break;
    // One forward (+ backward) over the active inputs: a batch of excerpts, or each long input alone.
    const groups = ctx.form === 'excerpts' ? [active] : active.map((s) => [s]);
    let flippedAll = 0;
    for (const group of groups) {
      const x = new Float32Array(group.length * L * F);
      group.forEach((s, i) => modelInput(ctx, s.x, s.delta, x.subarray(i * L * F, (i + 1) * L * F), work));
      const count = ctx.form === 'excerpts' ? group.length : L;
      const { grad } = await ctx.grad.compute(x, ctx.form, count, (z) => {
        const dz = new Float32Array(z.length);
        let needed = false;
        group.forEach((s, i) => {
          const p = new Float32Array(P);
          for (let t = 0; t < P; t++) p[t] = sigmoid(z[i * P + t]!);
          if (!s.before) {
            s.before = p.slice();
            if (o.targets) s.targets.set(o.targets);
            else for (let t = 0; t < P; t++) s.targets[t] = p[t]! >= o.threshold ? 0 : 1;
          }
          let flipped = 0;
          for (let t = 0; t < P; t++) if ((p[t]! >= o.threshold ? 1 : 0) === s.targets[t]) flipped++;
          flippedAll += flipped;
          if (flipped === P || it >= o.maxIterations) {
            s.done = finish(ctx, s, p, flipped === P, it);
            return;
          }
          needed = true;
          // d/dz of α·mean_t BCE(z_t, target_t) = α·(σ(z_t) − target_t)/P.
          for (let t = 0; t < P; t++) dz[i * P + t] = (o.alpha * (p[t]! - s.targets[t]!)) / P;
        });
        return needed ? dz : null;
      });
      if (!grad) continue;
      group.forEach((s, i) => {
        if (s.done) return;
        const g = grad.subarray((i * L + ctx.padRows) * F, (i * L + ctx.padRows + ctx.frames) * F);
        let gd: Float32Array;
        if (ctx.fe) {
          for (let j = 0; j < s.x.length; j++) work[j] = s.x[j]! + s.delta[j]!;
          gd = ctx.fe.backward(work, g);
        } else {
          gd = new Float32Array(g.length);
          for (let j = 0; j < g.length; j++) gd[j] = g[j]! / ctx.std[j % F]!;
        }
        // Sign of ∇(Σδ² + α·BCE), then one Adam step (PyTorch's form), clamp to ±ε.
        const step = it + 1;
        const c1 = 1 - Math.pow(beta1, step);
        const c2 = 1 - Math.pow(beta2, step);
        const { delta, m, v } = s;
        const mask = o.mask;
        for (let j = 0; j < delta.length; j++) {
          if (mask && mask[j] === 0) continue;
          const gj = 2 * delta[j]! + gd[j]!;
          const sg = gj > 0 ? 1 : gj < 0 ? -1 : 0;
          m[j] = beta1 * m[j]! + (1 - beta1) * sg;
          v[j] = beta2 * v[j]! + (1 - beta2) * sg * sg;
          const d = delta[j]! - (o.eta * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + adamEps);
          delta[j] = d > o.epsilon ? o.epsilon : d < -o.epsilon ? -o.epsilon : d;
        }
      });
    }
    o.onIteration?.(it, flippedAll, P * active.length);
  }
  return states.map((s) => s.done!);
}

function finish(ctx: Context, s: State, after: Float32Array, success: boolean, iterations: number): AttackResult {
  const F = ctx.bands;
  const n = s.x.length;
  let linf = 0;
  for (let j = 0; j < n; j++) linf = Math.max(linf, Math.abs(s.delta[j]!));
  const delta = new Float32Array(n);
  const adversarial = new Float32Array(n);
  let num = 0;
  let den = 0;
  if (ctx.domain === 'waveform') {
    for (let j = 0; j < n; j++) {
      delta[j] = s.delta[j]!;
      adversarial[j] = s.x[j]! + delta[j]!;
      num += s.x[j]! * s.x[j]!;
      den += delta[j]! * delta[j]!;
    }
  } else {
    for (let j = 0; j < n; j++) {
      const b = j % F;
      delta[j] = s.delta[j]! / ctx.std[b]!;
      adversarial[j] = s.x[j]! + delta[j]!;
      const mel = Math.exp(s.x[j]! * ctx.std[b]! + ctx.mean[b]!);
      const d = mel * (Math.exp(s.delta[j]!) - 1);
      num += mel * mel;
      den += d * d;
    }
  }
  return {
    domain: ctx.domain, success, iterations, delta, adversarial,
    ...(ctx.domain === 'spectrogram' ? { deltaLogMel: s.delta.slice() } : {}),
    before: s.before!, after, targets: s.targets.slice(),
    snrDb: den > 0 ? 10 * Math.log10(num / den) : Infinity,
    linf,
  };
}
