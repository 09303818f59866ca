/**
 * The veracity experiments of Praher, Prinz et al. (2021; methods.md §6) on earshot's
 * singing-voice CNN, for one attack domain (waveform or spectrogram):
 * - flip test (Table 1, Fig. 2, Table 2): attack an excerpt (src/veracity/attack.ts), explain the
 *   adversarial excerpt, add back only the k segments of the perturbation the explanation ranks
 *   highest (k = 1…20, and "all positive") or the k of largest L2 norm, and count label flips;
 * - localised perturbations (Fig. 3): keep only the k ∈ {1, 3, 5} largest-norm segments; where
 *   the label still flips, explain again and count how many of the k segments the explanation's
 *   top-k names;
 * - fidelity (Fig. 4): R² of correct vs wrong explanations at k = 1;
 * - drawing (Fig. 1, made objective, drawing.ts): draw a sung note into chosen components of a
 *   "no voice" excerpt until the model says "voice"; does the explanation find the drawing?
 * Explainers: LIME as in the paper (5 × 4 grid, N_s = 8192, 'mean' content, cosine distance,
 * kernel width 0.25) and, as an extension, KernelSHAP on the same components.
 *
 * Domain of the analysis (as the reference code): every perturbation is analysed on the log-mel
 * excerpt BEFORE the model's per-band normalisation. For waveform attacks Δ = logmel(x + δ) −
 * logmel(x); for spectrogram attacks Δ is the attack's δ in log-mel units. The explanations see
 * that same log-mel (a classifier wrapper z-scores it), so the 'mean' content is the scalar mean
 * of the un-normalised log-mel, as audioLIME's baseline="mean" in the reference.
 *
 * One job per excerpt runs in a pool worker (TF.js wasm for the attack, the `auto` engine — ORT
 * where it loads — for the forward passes of the explanations); results go to a resumable
 * journal (src/experiments/journal.ts); `summarise*` turn records into tables and figures.
 */
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { loadMono } from '../audio/node.ts';
import { explain, type ExplainOptions } from '../explain/explain.ts';
import { segmentationLayout, VERACITY_GRID } from '../explain/components.ts';
import { Rng } from '../explain/rng.ts';
import { FrontEnd } from '../frontend/frontend.ts';
import { SVD_FRONTEND } from '../frontend/config.ts';
import type { BandStats } from '../frontend/stats.ts';
import { initBackend } from '../model/backend.ts';
import { checkPredictInput, type Classifier } from '../model/classifier.ts';
import { createClassifier, type EngineChoice, type EngineClassifier } from '../model/engines.ts';
import { createSvdCnn, type SvdCnn } from '../model/svdcnn.ts';
import { registerWasmTrainingKernels } from '../model/wasm_kernels.ts';
import { initWeights, loadWeights, type WeightSet } from '../model/weights.ts';
import { registerTask } from '../parallel/pool.ts';
import { attack, type AttackDomain } from './attack.ts';
import { drawnComponents, drawUntilVoice, noteInk } from './drawing.ts';
import { addSegments, isLabel, labelOf, positiveForTarget, rankDescending, rankForTarget, segmentMask, segmentNorms, type BinaryLabel } from './flip.ts';
import { recovered } from './localised.ts';

export type VeracityMethod = 'lime' | 'kernelshap';
export const VERACITY_METHODS: readonly VeracityMethod[] = ['lime', 'kernelshap'];

/** Everything that fixes the numbers of a run (recorded in the journal; a resume must match). */
export interface VeracityConfig {
  domain: AttackDomain;
  /** Model: a weight directory or random:SEED. */
  model: string;
  /** CRC-32 of the model's weights.bin (model.json): a resume with retrained weights is refused. */
  modelDigest?: string;
  engine: EngineChoice;
  /** Decision threshold on P(voice). */
  threshold: number;
  maxIterations: number;
  /**
   * Frames of context attacked on each side of the excerpt: the attack perturbs the span of
   * 115 + 2·context frames and must flip all 2·context + 1 frame-wise predictions in it (each
   * towards the opposite of its own decision), as the reference attacks whole files; the
   * analysis uses the central excerpt. 0 attacks the excerpt alone.
   */
  context: number;
  /** Attack hyper-parameters (undefined: attack.ts defaults per domain, 001 §4.3). */
  epsilon?: number;
  eta?: number;
  alpha?: number;
  /** LIME: N_s, kernel width; KernelSHAP: its N_s. */
  samples: number;
  kernelWidth: number;
  shapSamples: number;
  methods: VeracityMethod[];
  /** k of the localised experiment. */
  ks: number[];
  /** k of the drawing experiment (the lowest k frequency blocks of one time block). */
  drawKs: number[];
  seed: number;
}

/** One excerpt to attack. */
export interface AdversarialJob {
  file: string;
  name: string;
  /** Centre frame of the excerpt in the file (the excerpt lies wholly inside the file). */
  frame: number;
  seed: number;
}

export interface DrawingJob extends AdversarialJob {
  timeBlock: number;
  f0: number;
  phase: number;
}

export interface MethodFlip {
  /** Component weights for P(voice) (KernelSHAP: Shapley values). */
  weights: number[];
  /** Components ranked for the adversarial target. */
  ranking: number[];
  score: number;
  /** P(voice) and flip with the top-k segments added back, k = 1…d. */
  pTopK: number[];
  flipTopK: boolean[];
  /** Components favouring the target ("all positive" of Table 2) and the flips with them / with as many by norm. */
  kPositive: number;
  pPositive: number;
  flipPositive: boolean;
  pNormPositive: number;
  flipNormPositive: boolean;
  forwardPasses: number;
  ms: number;
}

export interface LocalisedCase {
  k: number;
  /** The k largest-norm segments (the ground truth). */
  segments: number[];
  p: number;
  flipped: boolean;
  methods: Record<string, { ranking: number[]; recovered: number; correct: boolean; score: number; ms: number }>;
}

export interface AdversarialRecord {
  name: string;
  frame: number;
  p0: number;
  original: BinaryLabel;
  target: BinaryLabel;
  attack: { success: boolean; iterations: number; snrDb: number; linf: number; ms: number };
  /** P(voice) of the adversarial log-mel excerpt on the explanations' engine. */
  pAdv: number;
  /** Attack succeeded and the explanations' engine agrees that the label flipped. */
  valid: boolean;
  norms?: number[];
  pNormTopK?: number[];
  flipNormTopK?: boolean[];
  methods?: Record<string, MethodFlip>;
  localised?: LocalisedCase[];
  ms: number;
}

export interface DrawCase {
  k: number;
  components: number[];
  fooled: boolean;
  relativeGain: number | null;
  p: number | null;
  methods: Record<string, { ranking: number[]; recovered: number; positive: number[]; recoveredPositive: number; score: number }>;
}

export interface DrawingRecord {
  name: string;
  frame: number;
  p0: number;
  timeBlock: number;
  f0: number;
  draws: DrawCase[];
  ms: number;
}

// ---------------------------------------------------------------------------------------------
// The explanations' view of the model: un-normalised log-mel excerpts in, P(voice) out.

/** `inner` (normalised excerpts) seen from log-mel before the per-band z-score. */
export function logMelClassifier(inner: Classifier, stats: BandStats): Classifier {
  const F = stats.mean.length;
  const size = inner.inputShape.reduce((a, b) => a * b, 1);
  if (inner.inputShape[inner.inputShape.length - 1] !== F) throw new EarshotError('BAD_SHAPE', `stats have ${F} bands, the classifier's input is [${inner.inputShape.join(', ')}]`);
  let buf = new Float32Array(0);
  const inv = Float32Array.from(stats.std, (s) => 1 / s);
  const c: Classifier = {
    id: `${inner.id}/log-mel`,
    inputShape: inner.inputShape,
    labels: inner.labels,
    async predict(batch: Float32Array, n: number) {
      checkPredictInput(c, batch, n);
      if (buf.length < n * size) buf = new Float32Array(n * size);
      const out = buf.subarray(0, n * size);
      for (let i = 0; i < out.length; i++) {
        const b = i % F;
        out[i] = (batch[i]! - stats.mean[b]!) * inv[b]!;
      }
      return inner.predict(out, n);
    },
    dispose() {
      buf = new Float32Array(0);
    },
  };
  return c;
}

// ---------------------------------------------------------------------------------------------
// Worker side

export interface WorkerInit {
  config: VeracityConfig;
  /** ORT intra-op threads per worker (1 when several workers share the machine). */
  threads?: number;
}

interface WorkerState {
  config: VeracityConfig;
  cnn: SvdCnn;
  engine: EngineClassifier;
  logMel: Classifier;
  stats: BandStats;
  fe: FrontEnd;
  labels: Int32Array;
  d: number;
  audio: Map<string, Float32Array>;
}

export async function loadWeightSet(spec: string): Promise<WeightSet> {
  const m = /^random:(\d{1,10})$/.exec(spec);
  if (m) return initWeights(Number(m[1]), { id: `svd-cnn-ismir2015/random-${m[1]}` });
  return loadWeights(spec);
}

export function statsOfWeights(w: WeightSet): BandStats {
  const n = w.info.normalization;
  if (!n) throw new EarshotError('BAD_ARGUMENT', `model '${w.info.id}' has no normalisation statistics; the veracity experiment needs them (a trained model, or a weight file with 'normalization')`);
  return { mean: Float32Array.from(n.mean), std: Float32Array.from(n.std) };
}

async function initWorker(init: WorkerInit): Promise<WorkerState> {
  const config = init.config;
  await initBackend('wasm');
  registerWasmTrainingKernels();
  const w = await loadWeightSet(config.model);
  const stats = statsOfWeights(w);
  const cnn = createSvdCnn(w);
  const engine = await createClassifier(w, { engine: config.engine, threads: init.threads });
  const fe = new FrontEnd(SVD_FRONTEND);
  const { labels, d } = segmentationLayout(fe.config.excerptFrames, fe.nMels, { kind: 'tf', ...VERACITY_GRID });
  return { config, cnn, engine, logMel: logMelClassifier(engine, stats), stats, fe, labels, d, audio: new Map() };
}

/** The samples of the excerpt centred on `frame` plus `context` frames on each side. */
async function excerptAudio(s: WorkerState, file: string, frame: number, context = 0): Promise<Float32Array> {
  let y = s.audio.get(file);
  if (!y) {
    y = await loadMono(file, s.fe.config.sampleRate);
    if (s.audio.size >= 4) s.audio.delete(s.audio.keys().next().value!);
    s.audio.set(file, y);
  }
  const c = s.fe.config;
  const P = c.padFrames;
  const start = (frame - P - context) * c.hop;
  const n = (c.excerptFrames + 2 * context - 1) * c.hop + c.nFft;
  if (start < 0 || start + n > y.length) throw new EarshotError('BAD_ARGUMENT', `${file}: the excerpt centred on frame ${frame} with ${context} frames of context does not lie inside the file`);
  return y.slice(start, start + n);
}

function normalise(s: WorkerState, logMel: Float32Array): Float32Array {
  // (the span's log-mel, z-scored per band as the model's input)
  return s.fe.normalise(logMel, s.stats);
}

async function p1(c: Classifier, x: Float32Array): Promise<number> {
  return (await c.predict(x, 1))[0]!;
}

function explainOptions(s: WorkerState, method: VeracityMethod, seed: number): ExplainOptions {
  const c = s.config;
  const common: ExplainOptions = { segmentation: 'tf', grid: { ...VERACITY_GRID }, content: 'mean_inp', sampler: 'dedup', seed, batchSize: 64 };
  if (method === 'lime') return { ...common, method: 'slime', numSamples: c.samples, distance: 'cosine', kernelWidth: c.kernelWidth };
  return { ...common, method: 'kernelshap', numSamples: c.shapSamples };
}

async function explainRaw(s: WorkerState, x: Float32Array, method: VeracityMethod, seed: number) {
  const t0 = performance.now();
  const e = await explain(s.logMel, x, explainOptions(s, method, seed));
  return { weights: Array.from(e.weights), score: e.score, forwardPasses: e.forwardPasses, ms: performance.now() - t0 };
}

/** The whole adversarial pipeline for one excerpt. */
export async function runAdversarial(s: WorkerState, job: AdversarialJob): Promise<AdversarialRecord> {
  const t0 = performance.now();
  const c = s.config;
  const thr = c.threshold;
  const h = c.context;
  const F = s.fe.nMels;
  const T = s.fe.config.excerptFrames;
  // the central excerpt's cells within the span's log-mel
  const centre = (span: Float32Array) => span.slice(h * F, (h + T) * F);
  const wave = await excerptAudio(s, job.file, job.frame, h);
  const Lspan = s.fe.logMel(wave).data;
  const L = centre(Lspan);
  const p0 = await p1(s.logMel, L);
  const original = labelOf(p0, thr);
  const target: BinaryLabel = original === 1 ? 0 : 1;
  const ta = performance.now();
  // every frame-wise prediction of the span is pushed to the opposite of its own decision
  // (attack.ts's default targets; for context 0 that is `target`)
  const opts = { domain: c.domain, threshold: thr, maxIterations: c.maxIterations, epsilon: c.epsilon, eta: c.eta, alpha: c.alpha };
  for (const k of ['epsilon', 'eta', 'alpha'] as const) if (opts[k] === undefined) delete opts[k];
  let Ladv: Float32Array;
  const r = c.domain === 'waveform' ? await attack(s.cnn, wave, opts) : await attack(s.cnn, normalise(s, Lspan), opts);
  if (c.domain === 'waveform') Ladv = centre(s.fe.logMel(r.adversarial).data);
  else if (r.deltaLogMel) Ladv = Float32Array.from(L, (v, i) => v + r.deltaLogMel![h * F + i]!);
  else Ladv = Float32Array.from(centre(r.adversarial), (v, i) => v * s.stats.std[i % F]! + s.stats.mean[i % F]!);
  const attackInfo = { success: r.success, iterations: r.iterations, snrDb: r.snrDb, linf: r.linf, ms: performance.now() - ta };
  const pAdv = await p1(s.logMel, Ladv);
  const valid = r.success && isLabel(pAdv, target, thr);
  const rec: AdversarialRecord = { name: job.name, frame: job.frame, p0, original, target, attack: attackInfo, pAdv, valid, ms: 0 };
  if (!valid) {
    rec.ms = performance.now() - t0;
    return rec;
  }
  const d = s.d;
  const delta = Float32Array.from(Ladv, (v, i) => v - L[i]!);
  const norms = segmentNorms(delta, s.labels, d);
  const byNorm = rankDescending(norms);
  const size = L.length;
  // Flip curves: all k for the norm ranking and each method's ranking, in one batch per ranking.
  const curve = async (ranking: number[]): Promise<number[]> => {
    const batch = new Float32Array(d * size);
    for (let k = 1; k <= d; k++) addSegments(L, delta, s.labels, ranking.slice(0, k), batch.subarray((k - 1) * size, k * size));
    return Array.from(await s.logMel.predict(batch, d));
  };
  const pNorm = await curve(byNorm);
  rec.norms = Array.from(norms);
  rec.pNormTopK = pNorm;
  rec.flipNormTopK = pNorm.map((p) => isLabel(p, target, thr));
  rec.methods = {};
  for (const m of c.methods) {
    const e = await explainRaw(s, Ladv, m, job.seed);
    const ranking = rankForTarget(e.weights, target);
    const pTop = await curve(ranking);
    const pos = positiveForTarget(e.weights, target);
    const pPos = await p1(s.logMel, addSegments(L, delta, s.labels, pos));
    const pNormPos = await p1(s.logMel, addSegments(L, delta, s.labels, byNorm.slice(0, pos.length)));
    rec.methods[m] = {
      weights: e.weights,
      ranking,
      score: e.score,
      pTopK: pTop,
      flipTopK: pTop.map((p) => isLabel(p, target, thr)),
      kPositive: pos.length,
      pPositive: pPos,
      flipPositive: isLabel(pPos, target, thr),
      pNormPositive: pNormPos,
      flipNormPositive: isLabel(pNormPos, target, thr),
      forwardPasses: e.forwardPasses,
      ms: e.ms,
    };
  }
  rec.localised = [];
  for (const k of c.ks) {
    const segments = byNorm.slice(0, k);
    const xk = addSegments(L, delta, s.labels, segments);
    const p = await p1(s.logMel, xk);
    const flipped = isLabel(p, target, thr);
    const lc: LocalisedCase = { k, segments, p, flipped, methods: {} };
    if (flipped) {
      for (const m of c.methods) {
        const e = await explainRaw(s, xk, m, job.seed + k);
        const ranking = rankForTarget(e.weights, target);
        lc.methods[m] = { ranking, recovered: recovered(segments, ranking, k), correct: ranking[0] === segments[0], score: e.score, ms: e.ms };
      }
    }
    rec.localised.push(lc);
  }
  rec.ms = performance.now() - t0;
  return rec;
}

/** The drawing experiment for one "no voice" excerpt. */
export async function runDrawing(s: WorkerState, job: DrawingJob): Promise<DrawingRecord> {
  const t0 = performance.now();
  const c = s.config;
  const wave = await excerptAudio(s, job.file, job.frame);
  const L = s.fe.logMel(wave).data;
  const p0 = await p1(s.logMel, L);
  const ink = noteInk(s.fe, { f0: job.f0, phase: job.phase });
  const nF = VERACITY_GRID.freq;
  const rec: DrawingRecord = { name: job.name, frame: job.frame, p0, timeBlock: job.timeBlock, f0: job.f0, draws: [], ms: 0 };
  for (const k of c.drawKs) {
    const components = drawnComponents(job.timeBlock, k, nF);
    const mask = segmentMask(s.labels, components);
    const r = await drawUntilVoice((b, n) => s.logMel.predict(b, n), L, ink, mask, { threshold: c.threshold, floor: s.fe.config.logFloor });
    const dc: DrawCase = { k, components, fooled: r.drawn !== null, relativeGain: r.relativeGain, p: r.drawn ? r.probabilities[r.probabilities.findIndex((v) => v > c.threshold)]! : null, methods: {} };
    if (r.drawn) {
      for (const m of c.methods) {
        const e = await explainRaw(s, r.drawn, m, job.seed + k);
        const ranking = rankForTarget(e.weights, 1);
        const positive = positiveForTarget(e.weights, 1).slice(0, k);
        dc.methods[m] = { ranking, recovered: recovered(components, ranking, k), positive, recoveredPositive: positive.filter((j) => components.includes(j)).length, score: e.score };
      }
    }
    rec.draws.push(dc);
  }
  rec.ms = performance.now() - t0;
  return rec;
}

async function disposeWorker(s: WorkerState): Promise<void> {
  s.engine.dispose();
  s.cnn.dispose();
}

export const ADVERSARIAL_TASK = 'veracity-adversarial';
export const DRAWING_TASK = 'veracity-drawing';
/** This module's URL: the worker pool imports it to reach the tasks (the bundle itself, when bundled). */
export const VERACITY_TASK_MODULE = import.meta.url;

registerTask<AdversarialJob, AdversarialRecord, WorkerState, WorkerInit>(ADVERSARIAL_TASK, { init: initWorker, run: (j, s) => runAdversarial(s, j), dispose: disposeWorker });
registerTask<DrawingJob, DrawingRecord, WorkerState, WorkerInit>(DRAWING_TASK, { init: initWorker, run: (j, s) => runDrawing(s, j), dispose: disposeWorker });

// ---------------------------------------------------------------------------------------------
// Excerpt selection (main thread)

export interface FileFrames {
  file: string;
  name: string;
  /** P(voice) per frame of the whole file. */
  p: Float32Array;
}

/** Frame-wise P(voice) of a file on `engine` (normalised, padded as the model pads files). */
export async function fileProbabilities(engine: EngineClassifier, stats: BandStats, file: string, name: string, fe = new FrontEnd(SVD_FRONTEND)): Promise<FileFrames> {
  const y = await loadMono(file, fe.config.sampleRate);
  const lm = fe.logMel(y);
  if (lm.nFrames < fe.config.excerptFrames) return { file, name, p: new Float32Array(0) };
  const p = await engine.predictFrames(fe.normalise(lm.data, stats), lm.nFrames);
  return { file, name, p };
}

/**
 * Pick up to `perLabel` excerpts predicted "voice" and as many predicted "no voice" (the
 * paper: random excerpts of each predicted class per test song), round-robin over the files in
 * a seeded order, each a random frame whose whole excerpt lies inside the file. `labels`
 * restricts to one class (the drawing experiment wants "no voice" only).
 */
export function selectExcerpts(files: readonly FileFrames[], perLabel: number, threshold: number, seed: number, labels: readonly BinaryLabel[] = [1, 0], P = SVD_FRONTEND.padFrames): Array<{ file: string; name: string; frame: number; label: BinaryLabel }> {
  checkInt(perLabel, 'excerpts per label', 0);
  const rng = new Rng(seed);
  const out: Array<{ file: string; name: string; frame: number; label: BinaryLabel }> = [];
  for (const label of labels) {
    const pools = files.map((f) => {
      const frames: number[] = [];
      for (let c = P; c + P < f.p.length; c++) if (labelOf(f.p[c]!, threshold) === label) frames.push(c);
      return { f, frames };
    });
    const order = pools.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let taken = 0;
    let progress = true;
    while (taken < perLabel && progress) {
      progress = false;
      for (const i of order) {
        if (taken >= perLabel) break;
        const pool = pools[i]!;
        if (!pool.frames.length) continue;
        const j = rng.below(pool.frames.length);
        const frame = pool.frames[j]!;
        // no two excerpts of one file overlap: drop every frame within one excerpt length
        pool.frames = pool.frames.filter((c) => Math.abs(c - frame) > 2 * P);
        out.push({ file: pool.f.file, name: pool.f.name, frame, label });
        taken++;
        progress = true;
      }
    }
  }
  return out;
}
