/**
 * "Drawing on the spectrogram" (Praher, Prinz et al. 2021, Sec. 5.1, Fig. 1; after Schlüter's
 * singing_horse demo), made objective: instead of a person drawing symbols on a "no voice"
 * excerpt until the model says "voice", earshot draws a sung note — a harmonic stack with
 * vibrato, synthesised as audio and passed through the model's own front end — into chosen
 * components of the excerpt, louder step by step until P(voice) crosses the threshold, and then
 * asks whether the explanation's top-k are the drawn components.
 *
 * Drawing happens in the linear mel-magnitude domain: L' = ln(max(e^L + g·M, floor)) on the drawn
 * cells, L elsewhere (L: the excerpt's log-mel before normalisation, M: the note's mel magnitude
 * scaled to max 1, g: the gain). Gains are a geometric ladder relative to the mean mel magnitude
 * of the drawn cells; the smallest that flips the label is kept.
 */
import { EarshotError, checkArray, checkInt, checkNumber } from '../../bindings/errors.ts';
import { FrontEnd } from '../frontend/frontend.ts';

export interface NoteOptions {
  /** Fundamental (Hz), default 330. */
  f0?: number;
  /** Vibrato rate (Hz), default 5.5; depth (cents, ± around f0), default 50. */
  vibratoHz?: number;
  vibratoCents?: number;
  /** Harmonics up to this number (default 30; those above Nyquist are left out). */
  harmonics?: number;
  /** Amplitude of harmonic h ∝ h^−rolloff (default 1). */
  rolloff?: number;
  /** Vibrato phase (radians), default 0. */
  phase?: number;
}

/** A sung-note-like tone: Σ_h h^−rolloff·sin(h·φ(t)), φ' = 2π·f0·2^(cents·sin(2π·rate·t + phase)/1200). Peak 1. */
export function singNote(samples: number, sampleRate: number, opts: NoteOptions = {}): Float32Array {
  checkInt(samples, 'samples');
  checkNumber(sampleRate, 'sampleRate', 1);
  const f0 = checkNumber(opts.f0 ?? 330, 'f0', 1, sampleRate / 2);
  const rate = checkNumber(opts.vibratoHz ?? 5.5, 'vibratoHz', 0);
  const cents = checkNumber(opts.vibratoCents ?? 50, 'vibratoCents', 0, 1200);
  const H = checkInt(opts.harmonics ?? 30, 'harmonics', 1, 1000);
  const roll = checkNumber(opts.rolloff ?? 1, 'rolloff', 0);
  const phase = checkNumber(opts.phase ?? 0, 'phase');
  const y = new Float64Array(samples);
  let phi = 0;
  let peak = 0;
  for (let i = 0; i < samples; i++) {
    const t = i / sampleRate;
    const f = f0 * Math.pow(2, (cents * Math.sin(2 * Math.PI * rate * t + phase)) / 1200);
    let s = 0;
    for (let h = 1; h <= H; h++) {
      // leave out harmonics above Nyquist at this instant (no aliasing)
      if (h * f >= sampleRate / 2) break;
      s += Math.pow(h, -roll) * Math.sin(h * phi);
    }
    y[i] = s;
    peak = Math.max(peak, Math.abs(s));
    phi += (2 * Math.PI * f) / sampleRate;
  }
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) out[i] = peak > 0 ? y[i]! / peak : 0;
  return out;
}

/**
 * The note's mel magnitude over one excerpt (T × F, the front end's log-mel exponentiated, its
 * floor removed), scaled to a maximum of 1: the "ink".
 */
export function noteInk(fe: FrontEnd, opts: NoteOptions = {}): Float32Array {
  const c = fe.config;
  const n = (c.excerptFrames - 1) * c.hop + c.nFft;
  const lm = fe.logMel(singNote(n, c.sampleRate, opts));
  if (lm.nFrames !== c.excerptFrames) throw new EarshotError('INTERNAL', `note log-mel has ${lm.nFrames} frames, expected ${c.excerptFrames}`);
  const ink = new Float32Array(lm.data.length);
  let mx = 0;
  for (let i = 0; i < ink.length; i++) {
    ink[i] = Math.max(0, Math.exp(lm.data[i]!) - c.logFloor);
    mx = Math.max(mx, ink[i]!);
  }
  if (!(mx > 0)) throw new EarshotError('INTERNAL', 'the note has no energy in the mel bands');
  for (let i = 0; i < ink.length; i++) ink[i] = ink[i]! / mx;
  return ink;
}

/** L' = ln(max(e^L + gain·ink, floor)) where mask = 1, L elsewhere (all T·F, log-mel before normalisation). */
export function drawInk(logMel: Float32Array, ink: Float32Array, mask: Float32Array, gain: number, floor = 1e-7, out?: Float32Array): Float32Array {
  checkArray(logMel, Float32Array, 'logMel');
  checkArray(ink, Float32Array, 'ink', logMel.length);
  checkArray(mask, Float32Array, 'mask', logMel.length);
  checkNumber(gain, 'gain', 0);
  const y = out ?? new Float32Array(logMel.length);
  for (let i = 0; i < logMel.length; i++) {
    y[i] = mask[i]! > 0 ? Math.log(Math.max(Math.exp(logMel[i]!) + gain * ink[i]!, floor)) : logMel[i]!;
  }
  return y;
}

/** Mean mel magnitude e^L over the masked cells: the reference level of the gain ladder. */
export function maskedLevel(logMel: Float32Array, mask: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < logMel.length; i++) {
    if (mask[i]! > 0) {
      s += Math.exp(logMel[i]!);
      n++;
    }
  }
  if (n === 0) throw new EarshotError('BAD_ARGUMENT', 'the drawing mask is empty');
  return s / n;
}

/** The default gain ladder relative to the drawn cells' level: 2^(s/2) for s = −16 … 20 (1/256 … 1024). */
export const GAIN_STEPS: readonly number[] = Array.from({ length: 37 }, (_, i) => Math.pow(2, (i - 16) / 2));

export interface DrawResult {
  /** Smallest ladder gain (absolute) whose drawing the model calls "voice", or null if none did. */
  gain: number | null;
  /** That gain relative to the drawn cells' level. */
  relativeGain: number | null;
  /** P(voice) of each ladder step. */
  probabilities: number[];
  /** The drawn log-mel at the chosen gain (null if none flipped). */
  drawn: Float32Array | null;
}

/**
 * Draw `ink` into the masked cells of `logMel` at every ladder gain (one batch through
 * `predictRaw`, which takes log-mel excerpts before normalisation) and keep the quietest drawing
 * with P(voice) > threshold.
 */
export async function drawUntilVoice(
  predictRaw: (batch: Float32Array, n: number) => Promise<Float32Array>,
  logMel: Float32Array,
  ink: Float32Array,
  mask: Float32Array,
  opts: { threshold: number; steps?: readonly number[]; floor?: number },
): Promise<DrawResult> {
  const thr = checkNumber(opts.threshold, 'threshold', 0, 1);
  const steps = opts.steps ?? GAIN_STEPS;
  if (!Array.isArray(steps) || steps.length === 0) throw new EarshotError('BAD_ARGUMENT', 'steps must be a non-empty array of relative gains');
  const level = maskedLevel(logMel, mask);
  const size = logMel.length;
  const batch = new Float32Array(steps.length * size);
  steps.forEach((s, i) => drawInk(logMel, ink, mask, checkNumber(s, `steps[${i}]`, 0) * level, opts.floor, batch.subarray(i * size, (i + 1) * size)));
  const p = Array.from(await predictRaw(batch, steps.length));
  const i = p.findIndex((v) => v > thr);
  if (i < 0) return { gain: null, relativeGain: null, probabilities: p, drawn: null };
  return { gain: steps[i]! * level, relativeGain: steps[i]!, probabilities: p, drawn: batch.slice(i * size, (i + 1) * size) };
}

/** The components of one time block t and the k lowest frequency blocks of a grid with nF frequency blocks. */
export function drawnComponents(timeBlock: number, k: number, nF: number): number[] {
  checkInt(nF, 'nF (frequency blocks)');
  checkInt(timeBlock, 'timeBlock', 0);
  checkInt(k, 'k (drawn components)', 1, nF);
  return Array.from({ length: k }, (_, f) => nF * timeBlock + f);
}
