/**
 * Training the L-MAC decoder (paper 004 §2; methods.md §7) against a frozen classifier on the
 * TF.js backend earshot trains on (wasm + `registerWasmTrainingKernels`, docs/training.md: the
 * classifier's input gradient runs through its conv kernels; only the decoder's ~42 k
 * parameters are updated).
 *
 * Data: excerpts of 115 frames of the corpus mixes (linear |X| of the front end's STFT),
 * centred on random frames, half on voiced and half on unvoiced frames (the classifier's
 * training balance); c is the classifier's own decision on the excerpt (its threshold), never
 * the label. Validation: a fixed, seeded set of excerpts of the validation songs.
 *
 * Two stages, both Adam (PyTorch form, src/model/train.ts), seeded:
 *  1. the masking objective λ_in·CE(f(M⊙X), c) − λ_out·CE(f((1−M)⊙X), c) + λ_s·‖M‖₁;
 *  2. fine-tuning (the paper's FT stage, from the best stage-1 decoder): + λ_g·BCE(M, B) with
 *     B the binarised clean vocal stem (log1p|V| ≥ binThreshold · its maximum over the excerpt;
 *     the reference code's `binarized_oracle`), applied — selectively, as the paper does — only
 *     to items classified as voice whose vocal stem is audible and whose masked-in log-spectrum
 *     already correlates with the clean one (normalised dot product ≥ ccThreshold, the
 *     reference code's "dotp" cross-correlation gate; CCT 0.6–0.7 in the paper).
 * Each epoch reports the loss terms and AI/AD-style validation numbers (mean P(c) of the
 * original, masked-in and masked-out input, AI = share of items whose P(c) rises when masked
 * in, AD = mean relative drop of P(c) when masked in, mask mean) and keeps the best epoch by
 * validation loss; a stage stops after `patience` epochs without improvement. A checkpoint
 * (decoder, Adam moments, history, sampler position) is written every epoch; `resume`
 * continues from it with the same sampling (epoch e's batches depend only on seed and e).
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EarshotError, checkInt, checkNumber } from '../../../bindings/errors.ts';
import { stft } from '../../../bindings/stft.ts';
import { loadMono } from '../../audio/node.ts';
import { SVD_FRONTEND, type FrontEndConfig } from '../../frontend/config.ts';
import { Rng, deriveSeed } from '../../model/augment.ts';
import type { SongEntry } from '../../model/dataset.ts';
import { Adam } from '../../model/train.ts';
import { createSvdCnn } from '../../model/svdcnn.ts';
import type { WeightSet } from '../../model/weights.ts';
import { registerTask } from '../../parallel/pool.ts';
import { magnitudeModel, type MagnitudeModel } from '../maskable.ts';
import { stftOptionsOf } from './audio.ts';
import { LmacDecoder, initDecoderTensors, lmacTensorSpecs, svdLmacArchitecture, type LmacArchitecture } from './decoder.ts';
import { checkLossWeights, classProbability, lmacLoss, type LossWeights } from './loss.ts';
import { classifierRef, loadDecoderFile, saveDecoderFile, type DecoderFile } from './weights.ts';

// ------------------------------------------------------------------------------------- data

/** One song held for excerpt sampling: the mix and (when present) the clean vocal stem. */
export interface LmacSong {
  id: string;
  mix: Float32Array;
  vocals: Float32Array | null;
  labels: Uint8Array;
  nFrames: number;
}

export async function loadLmacSongs(entries: SongEntry[], fe: FrontEndConfig = SVD_FRONTEND, opts: { vocals?: boolean; onProgress?: (d: number, t: number) => void } = {}): Promise<LmacSong[]> {
  const out: LmacSong[] = [];
  for (const [i, e] of entries.entries()) {
    let labels: unknown;
    try {
      labels = (JSON.parse(await readFile(e.labels, 'utf8')) as { labels?: unknown }).labels;
    } catch (err) {
      throw new EarshotError('CORPUS_CORRUPT', `corpus: cannot read the labels of song ${e.id} (${e.labels}): ${(err as Error).message}`);
    }
    if (!Array.isArray(labels)) throw new EarshotError('CORPUS_CORRUPT', `corpus: ${e.labels} has no "labels" array`);
    const mix = await loadMono(e.mix, fe.sampleRate, { onWarning: () => {} });
    let vocals: Float32Array | null = null;
    if (opts.vocals ?? true) {
      try {
        vocals = await loadMono(join(e.dir, 'vocals.wav'), fe.sampleRate, { onWarning: () => {} });
        if (vocals.length !== mix.length) vocals = null;
      } catch {
        vocals = null;
      }
    }
    const nFrames = mix.length < fe.nFft ? 0 : Math.floor((mix.length - fe.nFft) / fe.hop) + 1;
    out.push({ id: e.id, mix, vocals, labels: Uint8Array.from(labels as number[], (v) => (v ? 1 : 0)), nFrames });
    opts.onProgress?.(i + 1, entries.length);
  }
  return out;
}

/**
 * Excerpts whose 115 frames lie inside the song (centre frames pad … nFrames − 1 − pad),
 * balanced voiced / unvoiced by the centre frame's label. `next` fills |X| (and |V|) of n
 * excerpts, computed with the front end's STFT from the waveform.
 */
export class LmacSampler {
  private readonly pos: Array<[number, number]> = [];
  private readonly neg: Array<[number, number]> = [];
  readonly T: number;
  readonly bins: number;
  private readonly pad: number;
  private readonly span: number;

  constructor(
    readonly songs: LmacSong[],
    readonly fe: FrontEndConfig = SVD_FRONTEND,
  ) {
    this.T = fe.excerptFrames;
    this.pad = Math.floor(this.T / 2);
    this.bins = fe.nFft / 2 + 1;
    this.span = fe.nFft + fe.hop * (this.T - 1);
    songs.forEach((s, si) => {
      const n = Math.min(s.nFrames, s.labels.length);
      for (let c = this.pad; c < n - this.pad; c++) (s.labels[c] ? this.pos : this.neg).push([si, c]);
    });
    if (this.pos.length + this.neg.length === 0) throw new EarshotError('CORPUS_EMPTY', `L-MAC: no song is long enough for a ${this.T}-frame excerpt`);
  }

  get voiced(): number {
    return this.pos.length;
  }
  get unvoiced(): number {
    return this.neg.length;
  }

  /** Draw n (song, centre) pairs, the first ⌈n/2⌉ voiced when both kinds exist. */
  draw(rng: Rng, n: number): Array<[number, number]> {
    const nPos = this.pos.length === 0 ? 0 : this.neg.length === 0 ? n : Math.ceil(n / 2);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const list = i < nPos ? this.pos : this.neg;
      out.push(list[rng.int(list.length)]!);
    }
    return out;
  }

  /** |X| of the mix (and |V| of the vocals, zeros when a song has none) for the picks. */
  fill(picks: Array<[number, number]>, withVocals: boolean): { mag: Float32Array; voc: Float32Array | null } {
    const size = this.T * this.bins;
    const mag = new Float32Array(picks.length * size);
    const voc = withVocals ? new Float32Array(picks.length * size) : null;
    const opts = { ...stftOptionsOf(this.fe), output: 'magnitude' as const };
    picks.forEach(([si, c], i) => {
      const s = this.songs[si]!;
      const start = this.fe.hop * (c - this.pad);
      mag.set(stft(s.mix.subarray(start, start + this.span), opts).data, i * size);
      if (voc && s.vocals) voc.set(stft(s.vocals.subarray(start, start + this.span), opts).data, i * size);
    });
    return { mag, voc };
  }
}

// ------------------------------------------------------------------------------------- options

export interface LmacTrainOptions {
  /** Stage-1 epochs (masking objective). */
  epochs?: number;
  /** Fine-tuning epochs (guidance toward the clean vocal stem); 0 = no FT stage. */
  ftEpochs?: number;
  stepsPerEpoch?: number;
  batchSize?: number;
  learningRate?: number;
  /** Learning-rate factor per epoch within a stage (default 0.9). */
  lrDecay?: number;
  /** Learning rate of the FT stage (default: learningRate / 2). */
  ftLearningRate?: number;
  patience?: number;
  seed?: number;
  loss?: LossWeights;
  /** Binarisation of the clean target: log1p|V| ≥ binThreshold · max (default 0.35). */
  binThreshold?: number;
  /** Cross-correlation gate of the guidance (default 0.6). */
  ccThreshold?: number;
  /** Validation excerpts (default 192). */
  validExcerpts?: number;
  /** Projection channels of the decoder (default 16). */
  channels?: number;
  /** Stop starting new epochs after this many minutes (the FT stage gets its share). */
  maxMinutes?: number;
  outDir?: string;
  resume?: boolean;
  log?: (line: string) => void;
  command?: string;
  reportsPerEpoch?: number;
  /** Classifier directory, recorded in the decoder file and used by worker threads. */
  classifierDir?: string;
  /** Threads per batch (this one + workers − 1 worker_threads; default 1). */
  workers?: number;
  /**
   * Warm start: a decoder (of the same architecture) to start from instead of the seeded
   * initialisation, e.g. one trained for an earlier checkpoint of the same classifier; recorded
   * in the training metadata.
   */
  init?: DecoderFile & { source?: string };
}

const OPTION_KEYS = [
  'epochs', 'ftEpochs', 'stepsPerEpoch', 'batchSize', 'learningRate', 'lrDecay', 'ftLearningRate', 'patience', 'seed', 'loss', 'binThreshold', 'ccThreshold', 'validExcerpts',
  'channels', 'maxMinutes', 'outDir', 'resume', 'log', 'command', 'reportsPerEpoch', 'classifierDir', 'workers', 'init',
];

export function resolveLmacOptions(o: LmacTrainOptions) {
  for (const k of Object.keys(o)) if (!OPTION_KEYS.includes(k)) throw new EarshotError('BAD_ARGUMENT', `unknown L-MAC training option '${k}' (expected ${OPTION_KEYS.join(', ')})`);
  const lr = checkNumber(o.learningRate ?? 2e-3, 'learningRate', 0, 1);
  return {
    epochs: checkInt(o.epochs ?? 6, 'epochs', 1),
    ftEpochs: checkInt(o.ftEpochs ?? 2, 'ftEpochs', 0),
    stepsPerEpoch: checkInt(o.stepsPerEpoch ?? 40, 'stepsPerEpoch', 1),
    batchSize: checkInt(o.batchSize ?? 16, 'batchSize', 1, 4096),
    learningRate: lr,
    lrDecay: checkNumber(o.lrDecay ?? 0.9, 'lrDecay', 0, 1),
    ftLearningRate: checkNumber(o.ftLearningRate ?? lr / 2, 'ftLearningRate', 0, 1),
    patience: checkInt(o.patience ?? 3, 'patience', 1),
    seed: checkInt(o.seed ?? 1, 'seed', 0, 2 ** 32 - 1),
    loss: checkLossWeights(o.loss ?? {}),
    binThreshold: checkNumber(o.binThreshold ?? 0.35, 'binThreshold', 0, 1),
    ccThreshold: checkNumber(o.ccThreshold ?? 0.6, 'ccThreshold', -1, 1),
    validExcerpts: checkInt(o.validExcerpts ?? 192, 'validExcerpts', 1, 100000),
    channels: checkInt(o.channels ?? 16, 'channels', 1, 512),
    maxMinutes: o.maxMinutes === undefined ? Infinity : checkNumber(o.maxMinutes, 'maxMinutes', 0),
    reportsPerEpoch: checkInt(o.reportsPerEpoch ?? 10, 'reportsPerEpoch', 1),
    workers: checkInt(o.workers ?? 1, 'workers', 1, 64),
  };
}
export type ResolvedLmacOptions = ReturnType<typeof resolveLmacOptions>;

// ------------------------------------------------------------------------------- one batch

/** What a gradient pass needs: the classifier seen from |X| and the decoder (main thread or worker). */
export interface LmacGradState {
  mm: MagnitudeModel;
  decoder: LmacDecoder;
  threshold: number;
  dispose(): void;
}

export function lmacGradState(weights: WeightSet, arch: LmacArchitecture, tensors: Record<string, Float32Array>): LmacGradState {
  const norm = weights.info.normalization;
  if (!norm) throw new EarshotError('BAD_ARGUMENT', 'L-MAC training: the classifier weight file has no normalisation statistics');
  const cnn = createSvdCnn(weights);
  const mm = magnitudeModel(cnn, { mean: Float32Array.from(norm.mean), std: Float32Array.from(norm.std) }, weights.info.frontend);
  const decoder = new LmacDecoder(arch, tensors, true);
  return {
    mm,
    decoder,
    threshold: weights.info.threshold,
    dispose() {
      decoder.dispose();
      mm.dispose();
      cnn.dispose();
    },
  };
}

/** Sums over the items of a batch (divide by n for means). */
export interface BatchSums {
  n: number;
  total: number;
  ceIn: number;
  ceOut: number;
  l1: number;
  /** Σ guidance BCE over guided items, and their count. */
  guide: number;
  guided: number;
  pOrig: number;
  pIn: number;
  pOut: number;
  /** Items whose P(c) rose when masked in (AI); Σ max(0, P − P_in)/P (AD). */
  increase: number;
  drop: number;
  voiceItems: number;
}

export const emptySums = (): BatchSums => ({ n: 0, total: 0, ceIn: 0, ceOut: 0, l1: 0, guide: 0, guided: 0, pOrig: 0, pIn: 0, pOut: 0, increase: 0, drop: 0, voiceItems: 0 });
export function addSums(a: BatchSums, b: BatchSums): BatchSums {
  const o = { ...a };
  for (const k of Object.keys(o) as Array<keyof BatchSums>) o[k] += b[k];
  return o;
}

export interface FtSettings {
  binThreshold: number;
  ccThreshold: number;
}

/**
 * The guidance inputs for a batch: binarised clean target B and the per-item gate (voice
 * predicted, vocal stem audible, normalised dot product of log1p|V| and M ⊙ log1p|X| ≥ cc).
 */
function guidanceFor(mag: tf.Tensor, voc: tf.Tensor, mask: tf.Tensor, cls: tf.Tensor, ft: FtSettings): { target: tf.Tensor; weight: tf.Tensor } {
  return tf.tidy(() => {
    const n = mag.shape[0]!;
    const lv = tf.log1p(voc);
    const mx = tf.max(lv, [1, 2], true);
    const target = tf.cast(tf.logicalAnd(tf.greaterEqual(lv, tf.mul(mx, ft.binThreshold)), tf.greater(mx, 1e-3)), 'float32');
    const mi = tf.mul(mask, tf.log1p(mag));
    const dot = tf.mean(tf.mul(lv, mi), [1, 2]);
    const nv = tf.sqrt(tf.mean(tf.square(lv), [1, 2]));
    const nm = tf.sqrt(tf.mean(tf.square(mi), [1, 2]));
    const cc = tf.div(dot, tf.add(tf.mul(nv, nm), 1e-12));
    const audible = tf.greater(tf.reshape(mx, [n]), 1e-3);
    const gate = tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(cc, ft.ccThreshold), audible), tf.greater(cls, 0.5));
    return { target, weight: tf.cast(gate, 'float32') };
  });
}

/**
 * Loss terms (and, when `train`, gradients of the decoder's variables) for n excerpts.
 * Returns per-variable gradients as Float32Arrays in `lmacTensorSpecs` order.
 */
export async function lmacBatch(
  st: LmacGradState,
  w: Required<LossWeights>,
  mags: Float32Array,
  vocs: Float32Array | null,
  n: number,
  train: boolean,
  ft: FtSettings | null,
): Promise<{ sums: BatchSums; grads: Float32Array[] | null }> {
  const { mm, decoder } = st;
  const T = mm.frames;
  const K = mm.bins;
  const mag = tf.tensor3d(mags, [n, T, K]);
  const keep: tf.Tensor[] = [mag];
  try {
    const acts = mm.activations(mag, [...decoder.arch.layers, 'logit']);
    const A = acts[decoder.arch.layers[0]]!;
    const B = acts[decoder.arch.layers[1]]!;
    const z0 = acts.logit!;
    keep.push(A, B, z0);
    const thrLogit = Math.log(st.threshold / (1 - st.threshold));
    const cls = z0.shape[1] === 1 ? tf.tidy(() => tf.cast(tf.greaterEqual(tf.reshape(z0, [n]), thrLogit), 'float32')) : tf.tidy(() => tf.cast(tf.argMax(z0, 1), 'float32'));
    keep.push(cls);
    let guidance: { target: tf.Tensor; weight: tf.Tensor } | undefined;
    if (ft && vocs) {
      const voc = tf.tensor3d(vocs, [n, T, K]);
      const m0 = tf.tidy(() => decoder.mask(A, B));
      guidance = guidanceFor(mag, voc, m0, cls, ft);
      keep.push(voc, m0, guidance.target, guidance.weight);
    }
    let parts: ReturnType<typeof lmacLoss> | null = null;
    const lossFn = () => {
      const p = lmacLoss(decoder, mm, mag, A, B, cls, w, guidance);
      parts = { ...p, ceIn: tf.keep(p.ceIn), ceOut: tf.keep(p.ceOut), l1: tf.keep(p.l1), guide: tf.keep(p.guide), zIn: tf.keep(p.zIn), zOut: tf.keep(p.zOut), mask: tf.keep(p.mask) };
      return p.total;
    };
    let grads: Float32Array[] | null = null;
    let total: tf.Scalar;
    if (train) {
      const vars = decoder.variables();
      const r = tf.variableGrads(lossFn, vars);
      total = r.value;
      grads = [];
      for (const v of vars) {
        const g = r.grads[v.name];
        grads.push(g ? ((await g.data()) as Float32Array) : new Float32Array(v.size));
      }
      tf.dispose(Object.values(r.grads));
    } else total = tf.tidy(lossFn);
    const p = parts! as ReturnType<typeof lmacLoss>;
    keep.push(total, p.ceIn, p.ceOut, p.l1, p.guide, p.zIn, p.zOut, p.mask);
    const stats = tf.tidy(() => {
      const p0 = classProbability(z0, cls);
      const pi = classProbability(p.zIn, cls);
      const po = classProbability(p.zOut, cls);
      return [tf.sum(p0), tf.sum(pi), tf.sum(po), tf.sum(tf.cast(tf.greater(pi, p0), 'float32')), tf.sum(tf.div(tf.relu(tf.sub(p0, pi)), tf.maximum(p0, 1e-12))), tf.sum(cls)];
    });
    keep.push(...stats);
    const [tv, ci, co, l1, gd, ...sv] = await Promise.all([total, p.ceIn, p.ceOut, p.l1, p.guide, ...stats].map(async (t) => (await t.data())[0]!));
    const guided = guidance ? Array.from((await guidance.weight.data()) as Float32Array).reduce((a, b) => a + b, 0) : 0;
    const sums: BatchSums = {
      n,
      total: tv! * n,
      ceIn: ci! * n,
      ceOut: co! * n,
      l1: l1! * n,
      guide: gd! * guided,
      guided,
      pOrig: sv[0]!,
      pIn: sv[1]!,
      pOut: sv[2]!,
      increase: sv[3]!,
      drop: sv[4]!,
      voiceItems: sv[5]!,
    };
    if (!Number.isFinite(sums.total)) throw new EarshotError('TRAINING_DIVERGED', `L-MAC loss became ${tv}; lower --lr`);
    return { sums, grads };
  } finally {
    tf.dispose(keep);
  }
}

// --------------------------------------------------------------------------------- the loop

export interface LmacEpochRecord {
  stage: 'mask' | 'ft';
  epoch: number;
  learningRate: number;
  train: Record<string, number>;
  valid: Record<string, number>;
  seconds: number;
  msPerStep: number;
}

/** Means and AI/AD (in %) of accumulated sums. */
export function summarise(s: BatchSums): Record<string, number> {
  const n = Math.max(1, s.n);
  return {
    loss: s.total / n,
    ceIn: s.ceIn / n,
    ceOut: s.ceOut / n,
    maskMean: s.l1 / n,
    guide: s.guided ? s.guide / s.guided : 0,
    guidedShare: s.guided / n,
    pOriginal: s.pOrig / n,
    pIn: s.pIn / n,
    pOut: s.pOut / n,
    AI: (100 * s.increase) / n,
    AD: (100 * s.drop) / n,
    voiceShare: s.voiceItems / n,
  };
}

const fmtTime = (s: number) => (!Number.isFinite(s) ? '?' : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`);

interface CheckpointState {
  format: 'earshot-lmac-checkpoint/1';
  stage: 'mask' | 'ft';
  /** Epochs completed in this stage. */
  epoch: number;
  adamT: number;
  best: { stage: 'mask' | 'ft'; epoch: number; loss: number } | null;
  bestMask: { epoch: number; loss: number } | null;
  badEpochs: number;
  history: LmacEpochRecord[];
  options: Record<string, unknown>;
  elapsedSeconds: number;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export interface LmacTrainResult {
  history: LmacEpochRecord[];
  best: { stage: 'mask' | 'ft'; epoch: number; loss: number; valid: Record<string, number> } | null;
  seconds: number;
  file: DecoderFile;
}

/**
 * Train a decoder for `weights` on `train` songs, validating on `valid`. Writes the final
 * decoder (best FT epoch, or best stage-1 epoch without FT) to outDir, the best stage-1 decoder
 * to outDir/stage1, and checkpoints to outDir/checkpoint.
 */
export async function trainLmac(weights: WeightSet, train: LmacSong[], valid: LmacSong[], options: LmacTrainOptions = {}): Promise<LmacTrainResult> {
  const o = resolveLmacOptions(options);
  const log = options.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const fe = weights.info.frontend ?? SVD_FRONTEND;
  const sampler = new LmacSampler(train, fe);
  const validSampler = new LmacSampler(valid, fe);
  const arch = svdLmacArchitecture(fe.excerptFrames, fe.nMels, fe.nFft / 2 + 1, o.channels);
  // melT for the frequency-map initialisation comes from a throwaway magnitude model.
  const init = await (async () => {
    const norm = weights.info.normalization!;
    const cnn = createSvdCnn(weights);
    const mm = magnitudeModel(cnn, { mean: Float32Array.from(norm.mean), std: Float32Array.from(norm.std) }, fe);
    const melT = (await mm.melT.data()) as Float32Array;
    mm.dispose();
    cnn.dispose();
    return initDecoderTensors(arch, melT, o.seed);
  })();
  let initFrom: Record<string, unknown> | null = null;
  if (options.init) {
    const ia = options.init.info.architecture;
    for (const k of ['channels', 'frames', 'nMels', 'bins'] as const) {
      if (ia[k] !== arch[k]) throw new EarshotError('LMAC_MISMATCH', `init: the decoder to start from has ${k} = ${ia[k]}, this training builds ${arch[k]}`);
    }
    if (ia.layers.join() !== arch.layers.join()) throw new EarshotError('LMAC_MISMATCH', `init: the decoder to start from reads ${ia.layers.join(', ')}, this training reads ${arch.layers.join(', ')}`);
    Object.assign(init, options.init.tensors);
    const t = options.init.info.training as Record<string, unknown>;
    initFrom = { source: options.init.source ?? null, classifier: options.init.info.classifier, command: t.command ?? null, seed: t.seed ?? null, stage: t.stage ?? null, bestEpoch: t.bestEpoch ?? null, valid: t.valid ?? null, seconds: Array.isArray(t.history) ? (t.history as Array<{ seconds: number }>).reduce((a, h) => a + h.seconds, 0) : null, initialisedFrom: t.initialisedFrom ?? null };
  }
  const st = lmacGradState(weights, arch, init);
  const vars = st.decoder.variables();
  let adam = new Adam(vars, o.learningRate);
  const ref = classifierRef(weights);
  const ckptDir = options.outDir ? join(options.outDir, 'checkpoint') : null;
  const optionsRecord = { ...o, maxMinutes: Number.isFinite(o.maxMinutes) ? o.maxMinutes : null };
  let history: LmacEpochRecord[] = [];
  let best: CheckpointState['best'] = null;
  let bestMask: CheckpointState['bestMask'] = null;
  let badEpochs = 0;
  let stage: 'mask' | 'ft' = 'mask';
  let startEpoch = 0;
  let elapsedBefore = 0;
  let bestTensors: Record<string, Float32Array> | null = null;
  let bestMaskTensors: Record<string, Float32Array> | null = null;

  const fileOf = (tensors: Record<string, Float32Array>, which: { stage: string; epoch: number; valid?: Record<string, number> }): DecoderFile => ({
    info: {
      architecture: arch,
      classifier: ref,
      loss: which.stage === 'ft' ? { ...o.loss } : { lambdaIn: o.loss.lambdaIn, lambdaOut: o.loss.lambdaOut, lambdaS: o.loss.lambdaS },
      training: {
        command: options.command ?? null,
        seed: o.seed,
        initialisedFrom: initFrom,
        classifierDir: options.classifierDir ?? null,
        options: optionsRecord,
        stage: which.stage,
        bestEpoch: which.epoch,
        valid: which.valid ?? null,
        ft: { binThreshold: o.binThreshold, ccThreshold: o.ccThreshold },
        history,
        trainSongs: train.length,
        validSongs: valid.length,
        backend: tf.getBackend(),
        finished: new Date().toISOString(),
      },
    },
    tensors,
  });

  if (options.resume && ckptDir && (await exists(join(ckptDir, 'state.json')))) {
    const s = JSON.parse(await readFile(join(ckptDir, 'state.json'), 'utf8')) as CheckpointState;
    if (s.format !== 'earshot-lmac-checkpoint/1') throw new EarshotError('CHECKPOINT_CORRUPT', `${join(ckptDir, 'state.json')} is not an L-MAC training checkpoint`);
    for (const k of ['batchSize', 'stepsPerEpoch', 'seed', 'channels'] as const) {
      if ((s.options as Record<string, unknown>)[k] !== o[k]) throw new EarshotError('CHECKPOINT_MISMATCH', `--resume: the checkpoint was made with ${k} = ${String((s.options as Record<string, unknown>)[k])}, this run asks for ${o[k]}`);
    }
    const d = await loadDecoderFile(ckptDir);
    if (d.info.classifier.fingerprint !== ref.fingerprint) throw new EarshotError('LMAC_MISMATCH', `--resume: the checkpoint belongs to classifier fingerprint ${d.info.classifier.fingerprint}, this classifier is ${ref.fingerprint}`);
    st.decoder.setTensors(d.tensors);
    stage = s.stage;
    if (stage === 'ft') adam.learningRate = o.ftLearningRate;
    const bin = await readFile(join(ckptDir, 'adam.bin'));
    const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    const total = vars.reduce((a, v) => a + v.size, 0);
    if (all.length !== 2 * total) throw new EarshotError('CHECKPOINT_CORRUPT', `${join(ckptDir, 'adam.bin')} holds ${all.length} values, the decoder's Adam state needs ${2 * total}`);
    let off = 0;
    const take = (k: number) => all.slice(off, (off += k));
    const m = vars.map((v) => take(v.size));
    const v2 = vars.map((v) => take(v.size));
    adam.load({ t: s.adamT, m, v: v2 });
    history = s.history;
    best = s.best;
    bestMask = s.bestMask;
    badEpochs = s.badEpochs;
    startEpoch = s.epoch;
    elapsedBefore = s.elapsedSeconds;
    if (await exists(join(options.outDir!, 'decoder.json'))) bestTensors = (await loadDecoderFile(options.outDir!)).tensors;
    if (await exists(join(options.outDir!, 'stage1', 'decoder.json'))) bestMaskTensors = (await loadDecoderFile(join(options.outDir!, 'stage1'))).tensors;
    log(`train-lmac: resumed from ${ckptDir} (stage ${stage}, ${startEpoch} epochs done)`);
  }

  // Validation set: fixed excerpts (seeded), with vocals for the FT numbers.
  const vPicks = validSampler.draw(new Rng(deriveSeed(o.seed, 0x7a11d)), o.validExcerpts);
  const vData = validSampler.fill(vPicks, true);
  const size = sampler.T * sampler.bins;
  const ftSettings: FtSettings = { binThreshold: o.binThreshold, ccThreshold: o.ccThreshold };

  const validate = async (ft: boolean): Promise<Record<string, number>> => {
    let sums = emptySums();
    const bs = 32;
    for (let s = 0; s < vPicks.length; s += bs) {
      const m = Math.min(bs, vPicks.length - s);
      const r = await lmacBatch(st, o.loss, vData.mag.subarray(s * size, (s + m) * size), vData.voc!.subarray(s * size, (s + m) * size), m, false, ft ? ftSettings : null);
      sums = addSums(sums, r.sums);
    }
    return summarise(sums);
  };

  // Optional data parallelism: worker threads compute gradients of their share of a batch.
  let pool: import('../../parallel/pool.ts').WorkerPool<LmacWorkerInput, LmacWorkerOutput> | null = null;
  if (o.workers > 1) {
    if (!options.classifierDir) throw new EarshotError('BAD_ARGUMENT', 'workers > 1 needs classifierDir (the workers load the classifier from it)');
    const { WorkerPool } = await import('../../parallel/pool.ts');
    pool = await WorkerPool.create<LmacWorkerInput, LmacWorkerOutput, LmacWorkerInit>({
      // This module registers the task itself (below), so it works from the sources and from a bundle.
      taskModule: import.meta.url,
      task: 'lmac-grad',
      workers: Math.min(o.workers, o.batchSize) - 1,
      initData: { classifierDir: options.classifierDir, arch },
    });
    log(`train-lmac: ${pool.size + 1} data-parallel parts per batch`);
  }

  const t0 = Date.now();
  const elapsed = () => elapsedBefore + (Date.now() - t0) / 1000;
  const budget = o.maxMinutes * 60;
  const maskBudget = o.ftEpochs > 0 ? (budget * o.epochs) / (o.epochs + o.ftEpochs) : budget;
  const n = o.batchSize;
  try {
    for (;;) {
      const ft = stage === 'ft';
      const stageEpochs = ft ? o.ftEpochs : o.epochs;
      const outOfTime = elapsed() >= (ft ? budget : maskBudget);
      if (startEpoch >= stageEpochs || badEpochs >= o.patience || outOfTime) {
        if (outOfTime) log(`train-lmac: time budget for stage '${stage}' used (${fmtTime(elapsed())}); ending the stage`);
        if (!ft && o.ftEpochs > 0) {
          // FT starts from the best stage-1 decoder with fresh Adam moments.
          if (bestMaskTensors) st.decoder.setTensors(bestMaskTensors);
          adam.dispose();
          adam = new Adam(vars, o.ftLearningRate);
          stage = 'ft';
          startEpoch = 0;
          badEpochs = 0;
          best = null;
          bestTensors = null;
          log(`train-lmac: fine-tuning stage (λ_g ${o.loss.lambdaG}, binarisation ${o.binThreshold}, cross-correlation gate ${o.ccThreshold}) from stage-1 epoch ${bestMask?.epoch ?? '—'}`);
          continue;
        }
        break;
      }
      const epoch = startEpoch;
      adam.learningRate = (ft ? o.ftLearningRate : o.learningRate) * Math.pow(o.lrDecay, epoch);
      const e0 = Date.now();
      const rng = new Rng(deriveSeed(o.seed, (ft ? 1000 : 0) + epoch + 1));
      let sums = emptySums();
      const every = Math.max(1, Math.floor(o.stepsPerEpoch / o.reportsPerEpoch));
      for (let step = 0; step < o.stepsPerEpoch; step++) {
        const picks = sampler.draw(rng, n);
        const data = sampler.fill(picks, ft);
        let grads: Float32Array[];
        if (pool) {
          const parts = pool.size + 1;
          const per = Math.ceil(n / parts);
          const tensors = await st.decoder.tensors();
          const jobs: Array<Promise<LmacWorkerOutput>> = [];
          for (let p = 1; p < parts; p++) {
            const a = p * per;
            const b = Math.min(n, a + per);
            if (a >= b) continue;
            jobs.push(pool.run({ tensors, mags: data.mag.slice(a * size, b * size), vocs: data.voc ? data.voc.slice(a * size, b * size) : null, n: b - a, loss: o.loss, ft: ft ? ftSettings : null }));
          }
          const mine = await lmacBatch(st, o.loss, data.mag.subarray(0, per * size), data.voc ? data.voc.subarray(0, per * size) : null, Math.min(per, n), true, ft ? ftSettings : null);
          const others = await Promise.all(jobs);
          grads = mine.grads!.map((g) => Float32Array.from(g, (v) => v * mine.sums.n));
          sums = addSums(sums, mine.sums);
          for (const r of others) {
            r.grads.forEach((g, i) => {
              const acc = grads[i]!;
              for (let k = 0; k < acc.length; k++) acc[k] += g[k]! * r.sums.n;
            });
            sums = addSums(sums, r.sums);
          }
          for (const g of grads) for (let k = 0; k < g.length; k++) g[k] /= n;
        } else {
          const r = await lmacBatch(st, o.loss, data.mag, data.voc, n, true, ft ? ftSettings : null);
          grads = r.grads!;
          sums = addSums(sums, r.sums);
        }
        const gt = grads.map((g, i) => tf.tensor(g, vars[i]!.shape));
        adam.step(gt);
        tf.dispose(gt);
        if ((step + 1) % every === 0 || step + 1 === o.stepsPerEpoch) {
          const s = summarise(sums);
          const ms = (Date.now() - e0) / (step + 1);
          log(
            `train-lmac: ${stage} epoch ${epoch + 1}/${stageEpochs} step ${step + 1}/${o.stepsPerEpoch} loss ${s.loss!.toFixed(4)} (CE_in ${s.ceIn!.toFixed(3)}, CE_out ${s.ceOut!.toFixed(3)}, ` +
              `mask ${s.maskMean!.toFixed(3)}${ft ? `, guide ${s.guide!.toFixed(3)} on ${(100 * s.guidedShare!).toFixed(0)} %` : ''}) ${ms.toFixed(0)} ms/step`,
          );
        }
      }
      const vm = await validate(ft);
      const seconds = (Date.now() - e0) / 1000;
      const rec: LmacEpochRecord = { stage, epoch: epoch + 1, learningRate: adam.learningRate, train: summarise(sums), valid: vm, seconds, msPerStep: (1000 * seconds) / o.stepsPerEpoch };
      history.push(rec);
      const improved = !best || vm.loss! < best.loss;
      log(
        `train-lmac: ${stage} epoch ${epoch + 1} done in ${fmtTime(seconds)} — validation loss ${vm.loss!.toFixed(4)} (CE_in ${vm.ceIn!.toFixed(3)}, CE_out ${vm.ceOut!.toFixed(3)}, mask mean ${vm.maskMean!.toFixed(3)}` +
          `${ft ? `, guide ${vm.guide!.toFixed(3)} on ${(100 * vm.guidedShare!).toFixed(0)} %` : ''}); P(c) original ${vm.pOriginal!.toFixed(3)}, masked-in ${vm.pIn!.toFixed(3)}, masked-out ${vm.pOut!.toFixed(3)}; ` +
          `AI ${vm.AI!.toFixed(1)} %, AD ${vm.AD!.toFixed(1)} %${improved ? ' — best so far' : ''}; elapsed ${fmtTime(elapsed())}`,
      );
      if (improved) {
        best = { stage, epoch: epoch + 1, loss: vm.loss! };
        badEpochs = 0;
        bestTensors = await st.decoder.tensors();
        if (!ft) {
          bestMask = { epoch: epoch + 1, loss: vm.loss! };
          bestMaskTensors = bestTensors;
        }
        if (options.outDir) {
          const f = fileOf(bestTensors, { stage, epoch: epoch + 1, valid: vm });
          if (!ft) await saveDecoderFile(join(options.outDir, 'stage1'), f);
          await saveDecoderFile(options.outDir, f);
        }
      } else badEpochs++;
      startEpoch = epoch + 1;
      if (ckptDir) {
        await mkdir(ckptDir, { recursive: true });
        await saveDecoderFile(ckptDir, fileOf(await st.decoder.tensors(), { stage, epoch: epoch + 1 }));
        const s = await adam.state();
        const all = new Float32Array([...s.m, ...s.v].reduce((a, x) => a + x.length, 0));
        let off = 0;
        for (const x of [...s.m, ...s.v]) {
          all.set(x, off);
          off += x.length;
        }
        const tmp = `.tmp-${process.pid}`;
        await writeFile(join(ckptDir, 'adam.bin') + tmp, new Uint8Array(all.buffer));
        await rename(join(ckptDir, 'adam.bin') + tmp, join(ckptDir, 'adam.bin'));
        const state: CheckpointState = { format: 'earshot-lmac-checkpoint/1', stage, epoch: startEpoch, adamT: adam.t, best, bestMask, badEpochs, history, options: optionsRecord, elapsedSeconds: elapsed() };
        await writeFile(join(ckptDir, 'state.json') + tmp, JSON.stringify(state, null, 1) + '\n');
        await rename(join(ckptDir, 'state.json') + tmp, join(ckptDir, 'state.json'));
      }
    }
  } finally {
    pool?.dispose();
  }
  const finalTensors = bestTensors ?? (await st.decoder.tensors());
  const bestRec = best ? history.filter((h) => h.stage === best!.stage && h.epoch === best!.epoch).pop() : undefined;
  const file = fileOf(finalTensors, { stage: best?.stage ?? stage, epoch: best?.epoch ?? 0, valid: bestRec?.valid });
  if (options.outDir) await saveDecoderFile(options.outDir, file);
  adam.dispose();
  st.dispose();
  return { history, best: best && bestRec ? { ...best, valid: bestRec.valid } : null, seconds: elapsed(), file };
}

// ------------------------------------------------------------------------- worker protocol

export interface LmacWorkerInit {
  classifierDir: string;
  arch: LmacArchitecture;
}
export interface LmacWorkerInput {
  tensors: Record<string, Float32Array>;
  mags: Float32Array;
  vocs: Float32Array | null;
  n: number;
  loss: Required<LossWeights>;
  ft: FtSettings | null;
}
export interface LmacWorkerOutput {
  grads: Float32Array[];
  sums: BatchSums;
}

/** The decoder tensor names in order (for workers that rebuild gradients by position). */
export const lmacTensorNames = (a: LmacArchitecture) => lmacTensorSpecs(a).map((s) => s.name);

// The worker-thread side of data-parallel training (`workers > 1`): each worker loads the frozen
// classifier once, receives the decoder's current tensors with its share of a batch, and returns
// that share's gradients and loss sums (the decoder is ~42 k floats, cheap to ship every step).
registerTask<LmacWorkerInput, LmacWorkerOutput, LmacGradState, LmacWorkerInit>('lmac-grad', {
  async init(d) {
    const { initBackend } = await import('../../model/backend.ts');
    const { registerWasmTrainingKernels } = await import('../../model/wasm_kernels.ts');
    const { loadWeights } = await import('../../model/weights.ts');
    await initBackend('wasm');
    registerWasmTrainingKernels();
    const w = await loadWeights(d.classifierDir);
    return lmacGradState(w, d.arch, initDecoderTensors(d.arch, new Float32Array(d.arch.nMels * d.arch.bins), 0));
  },
  async run(input, st) {
    st.decoder.setTensors(input.tensors);
    const r = await lmacBatch(st, input.loss, input.mags, input.vocs, input.n, true, input.ft);
    return { grads: r.grads!, sums: r.sums };
  },
  dispose(st) {
    st.dispose();
  },
});
