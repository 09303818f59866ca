/**
 * `explain(classifier, input, options)`: one SLIME explanation (Mishra et al. 2017/2020;
 * methods.md §3–4) or a KernelSHAP one on the same components, for any `Classifier` whose input
 * is one T×F spectrogram excerpt. The loop: excerpt x → components + content R → sample design →
 * perturbed batches written by the wasm occlusion kernel into the arena → `classifier.predict` →
 * the LIME surrogate (lime.ts) or the constrained Shapley regression (kernelshap.ts) →
 * `Explanation`.
 */
import { EarshotError, checkArray, checkEnum, checkInt, checkNumber } from '../../bindings/errors.ts';
import type { Rect } from '../../bindings/lime.ts';
import { resample } from '../audio/index.ts';
import { FrontEnd } from '../frontend/frontend.ts';
import type { FrontEndConfig } from '../frontend/config.ts';
import type { BandStats } from '../frontend/stats.ts';
import { isBinaryDetector, type Classifier } from '../model/classifier.ts';
import { spectrogramComponents, type SpectrogramComponents, type SpectrogramSegmentation } from './components.ts';
import { CONTENT_TYPES, DEFAULT_NOISE_SEED, contentValue, type ContentType } from './content.ts';
import { kernelShapDesign, kernelShapFit } from './kernelshap.ts';
import { FEATURE_SELECTIONS, limeDistances, limeFit, type DistanceMetric, type FeatureSelection } from './lime.ts';
import { MAX_EXHAUSTIVE_D, samplerByName } from './samplers.ts';
import type { Explanation, ExplainedFeature } from './types.ts';

export type Segmentation = 'temporal' | 'spectral' | 'tf' | { rects: readonly Rect[] };
export type ProgressFn = (done: number, total: number) => void;

/**
 * What to explain:
 * - a Float32Array (or `{ excerpt }`) of prod(classifier.inputShape) values: one normalised
 *   excerpt, rows = time;
 * - `{ spectrogram, frame? }`: a normalised, unpadded spectrogram (frames × F); the excerpt is the
 *   one centred on `frame` (default: the middle frame), padded as the front end pads files;
 * - `{ waveform, sampleRate?, atSeconds? }`: mono audio; the front end (log-mel), the
 *   normalisation and the excerpt centred at `atSeconds` (default: the middle of the clip).
 */
export type ExplainInput =
  | Float32Array
  | { excerpt: Float32Array }
  | { spectrogram: Float32Array; frame?: number }
  | { waveform: Float32Array; sampleRate?: number; atSeconds?: number };

export interface ExplainOptions {
  /** 'slime' (LIME surrogate, default) or 'kernelshap' (Shapley values on the same components). */
  method?: 'slime' | 'kernelshap';
  /** Components: 'temporal' (default), 'spectral', 'tf' (time × frequency grid) or { rects }. */
  segmentation?: Segmentation;
  /** d for 'temporal' / 'spectral' (default 10). */
  numComponents?: number;
  /** Blocks of the 'tf' grid (default 5 × 4 as in 001; SoundLIME 2017 used 6 × 4). */
  grid?: { time: number; freq: number };
  /** Replacement content (default 'mean_inp', SLIME's recommendation). */
  content?: ContentType;
  /** The dataset minimum for content 'min_data'. */
  minData?: number;
  /** Seed of the 'noise' content's fixed draw (default 2020). */
  noiseSeed?: number;
  /** Per-band μ_b, σ_b: for waveform / spectrogram input and 'noise'; default: the model's (weight file). */
  normStats?: BandStats;
  /** Front end for waveform / spectrogram input (default SVD_FRONTEND). */
  frontEnd?: FrontEnd | FrontEndConfig;
  /** N_s; default 50 000 for dedup / exhaustive with d ≤ 12, else 5 000. */
  numSamples?: number;
  /** 'dedup' (default), 'random' or 'exhaustive' (d ≤ 16). */
  sampler?: 'random' | 'dedup' | 'exhaustive';
  /** Distance to the original row (default 'cosine', LIME's image default; SLIME's code used 'euclidean'). */
  distance?: DistanceMetric;
  /** Kernel width kw (default 0.25). */
  kernelWidth?: number;
  /** LIME feature selection (default 'none': every component gets a weight). */
  featureSelection?: FeatureSelection;
  /** K for feature selection (default d). */
  numFeatures?: number;
  /** Ridge α of the surrogate (default 1). */
  alpha?: number;
  /** Ridge α of highest_weights' ranking fit (default 0.01; SLIME's LIME copy used 0). */
  selectionAlpha?: number;
  /** Output column to explain (default: the predicted one; for a binary detector its one column, P(label)). */
  labelIndex?: number;
  /** Binary detector only: explain 1 − P(label) ("not voice"). */
  complement?: boolean;
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Perturbed inputs per classifier.predict call (default 64). */
  batchSize?: number;
  /** Called after every batch with (forward passes done, total). */
  onProgress?: ProgressFn;
}

const OPTION_KEYS = [
  'method', 'segmentation', 'numComponents', 'grid', 'content', 'minData', 'noiseSeed', 'normStats', 'frontEnd', 'numSamples', 'sampler',
  'distance', 'kernelWidth', 'featureSelection', 'numFeatures', 'alpha', 'selectionAlpha', 'labelIndex', 'complement', 'seed', 'batchSize', 'onProgress',
] as const;

/** Default N_s: the paper's stable point when deduplication makes it cheap (2^d ≤ 4096 rows), else 5 000. */
export const DEFAULT_NUM_SAMPLES = { small: 50_000, large: 5_000 } as const;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return JSON.stringify(v) ?? String(v);
}

function statsOf(classifier: Classifier, given: BandStats | undefined, F: number): BandStats | undefined {
  if (given !== undefined) {
    if (given === null || typeof given !== 'object') throw new EarshotError('BAD_ARGUMENT', `normStats must be { mean, std } (Float32Array of ${F}), got ${describe(given)}`);
    checkArray(given.mean, Float32Array, 'normStats.mean', F);
    checkArray(given.std, Float32Array, 'normStats.std', F);
    return given;
  }
  const norm = (classifier as { info?: { normalization?: { mean: number[]; std: number[] } | null } }).info?.normalization;
  if (norm && norm.mean.length === F && norm.std.length === F) return { mean: Float32Array.from(norm.mean), std: Float32Array.from(norm.std) };
  return undefined;
}

interface Excerpt {
  x: Float32Array;
  source: Record<string, unknown>;
}

function excerptOf(classifier: Classifier, input: ExplainInput, T: number, F: number, opts: ExplainOptions): Excerpt {
  const size = T * F;
  if (input instanceof Float32Array || (input && typeof input === 'object' && 'excerpt' in input)) {
    const x = input instanceof Float32Array ? input : input.excerpt;
    checkArray(x, Float32Array, `input excerpt (${T}×${F})`, size);
    return { x, source: { kind: 'excerpt' } };
  }
  if (!input || typeof input !== 'object') {
    throw new EarshotError('BAD_ARGUMENT', `input must be an excerpt (Float32Array of ${size}), { spectrogram, frame? } or { waveform, sampleRate?, atSeconds? }, got ${describe(input)}`);
  }
  const fe = opts.frontEnd instanceof FrontEnd ? opts.frontEnd : new FrontEnd(opts.frontEnd);
  if (fe.config.excerptFrames !== T || fe.nMels !== F) {
    throw new EarshotError('BAD_SHAPE', `frontEnd makes ${fe.config.excerptFrames}×${fe.nMels} excerpts, the classifier takes ${T}×${F}`);
  }
  const stats = statsOf(classifier, opts.normStats, F);
  const needStats = () => {
    if (!stats) throw new EarshotError('BAD_ARGUMENT', 'normStats: waveform and spectrogram input need the per-band statistics (the classifier has none); pass options.normStats');
    return stats;
  };
  if ('spectrogram' in input) {
    const spec = checkArray(input.spectrogram, Float32Array, 'input.spectrogram');
    if (spec.length === 0 || spec.length % F !== 0) throw new EarshotError('BAD_SHAPE', `input.spectrogram must hold frames × ${F} values, got ${spec.length}`);
    const nFrames = spec.length / F;
    const frame = checkInt(input.frame ?? Math.floor(nFrames / 2), 'input.frame', 0, nFrames - 1);
    const p = fe.pad(spec, needStats());
    return { x: fe.excerpt(p, frame), source: { kind: 'spectrogram', frame, frames: nFrames } };
  }
  if ('waveform' in input) {
    let wav: Float32Array = checkArray(input.waveform, Float32Array, 'input.waveform');
    const sr = fe.config.sampleRate;
    const from = checkNumber(input.sampleRate ?? sr, 'input.sampleRate', 1);
    if (from !== sr) wav = resample(wav, from, sr);
    const lm = fe.logMel(wav);
    if (lm.nFrames === 0) throw new EarshotError('TOO_SHORT', `input.waveform is shorter than one frame (${fe.config.nFft} samples at ${sr} Hz)`);
    const dur = wav.length / sr;
    const at = checkNumber(input.atSeconds ?? dur / 2, 'input.atSeconds', 0, dur);
    // frame i is centred at hop·i + nFft/2 samples
    const frame = Math.min(lm.nFrames - 1, Math.max(0, Math.round((at * sr - fe.config.nFft / 2) / fe.config.hop)));
    const p = fe.pad(fe.normalise(lm.data, needStats()), needStats());
    return { x: fe.excerpt(p, frame), source: { kind: 'waveform', atSeconds: at, frame, frames: lm.nFrames, sampleRate: from } };
  }
  throw new EarshotError('BAD_ARGUMENT', 'input must be an excerpt (Float32Array), { excerpt }, { spectrogram, frame? } or { waveform, sampleRate?, atSeconds? }');
}

function segmentationOf(opts: ExplainOptions): SpectrogramSegmentation {
  const s = opts.segmentation ?? 'temporal';
  if (typeof s === 'object' && s !== null && !Array.isArray(s)) {
    if (!Array.isArray(s.rects)) throw new EarshotError('BAD_ARGUMENT', 'segmentation: { rects } needs an array of [t0, t1, f0, f1]');
    return { kind: 'rects', rects: s.rects };
  }
  const kind = checkEnum(s, 'segmentation', ['temporal', 'spectral', 'tf']);
  if (kind === 'tf') {
    if (opts.numComponents !== undefined) throw new EarshotError('BAD_ARGUMENT', "numComponents applies to 'temporal' and 'spectral'; give grid { time, freq } for 'tf'");
    const g = opts.grid;
    if (g !== undefined && (g === null || typeof g !== 'object')) throw new EarshotError('BAD_ARGUMENT', `grid must be { time, freq }, got ${describe(g)}`);
    return { kind: 'tf', time: g?.time, freq: g?.freq };
  }
  if (opts.grid !== undefined) throw new EarshotError('BAD_ARGUMENT', `grid applies to segmentation 'tf', not '${kind}'`);
  return { kind, d: opts.numComponents };
}

/** Explain one prediction of `classifier` (see ExplainOptions for every choice and its default). */
export async function explain(classifier: Classifier, input: ExplainInput, options: ExplainOptions = {}): Promise<Explanation> {
  const t0 = performance.now();
  if (!classifier || typeof classifier.predict !== 'function' || !Array.isArray(classifier.inputShape) || !Array.isArray(classifier.labels)) {
    throw new EarshotError('BAD_ARGUMENT', 'classifier must implement Classifier (id, inputShape, labels, predict)');
  }
  if (options === null || typeof options !== 'object') throw new EarshotError('BAD_ARGUMENT', `options must be an object, got ${describe(options)}`);
  for (const k of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(k)) throw new EarshotError('BAD_ARGUMENT', `unknown option '${k}' (allowed: ${OPTION_KEYS.join(', ')})`);
  }
  const o = options;
  if (classifier.inputShape.length !== 2) {
    throw new EarshotError('BAD_SHAPE', `explain needs a classifier of one T×F spectrogram excerpt, inputShape is [${classifier.inputShape.join(', ')}]`);
  }
  const [T, F] = classifier.inputShape as [number, number];
  const method = checkEnum(o.method ?? 'slime', 'method', ['slime', 'kernelshap']);
  const content = checkEnum(o.content ?? 'mean_inp', 'content', CONTENT_TYPES);
  const samplerName = checkEnum(o.sampler ?? 'dedup', 'sampler', ['random', 'dedup', 'exhaustive']);
  const distance = checkEnum(o.distance ?? 'cosine', 'distance', ['cosine', 'euclidean']);
  const kernelWidth = checkNumber(o.kernelWidth ?? 0.25, 'kernelWidth', Number.MIN_VALUE);
  const featureSelection = checkEnum(o.featureSelection ?? 'none', 'featureSelection', FEATURE_SELECTIONS);
  const alpha = checkNumber(o.alpha ?? 1, 'alpha', 0);
  const selectionAlpha = checkNumber(o.selectionAlpha ?? 0.01, 'selectionAlpha', 0);
  const seed = checkInt(o.seed ?? 0, 'seed', 0, 0xffffffff);
  const batchSize = checkInt(o.batchSize ?? 64, 'batchSize', 1, 1 << 20);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new EarshotError('BAD_ARGUMENT', `onProgress must be a function, got ${describe(o.onProgress)}`);
  if (o.complement !== undefined && typeof o.complement !== 'boolean') throw new EarshotError('BAD_ARGUMENT', `complement must be a boolean, got ${describe(o.complement)}`);
  if (o.complement && !isBinaryDetector(classifier)) throw new EarshotError('BAD_ARGUMENT', `complement applies to binary detectors (one label); this classifier has ${classifier.labels.length}: choose labelIndex`);
  if (o.labelIndex !== undefined) checkInt(o.labelIndex, 'labelIndex', 0, classifier.labels.length - 1);
  if (o.noiseSeed !== undefined) checkInt(o.noiseSeed, 'noiseSeed', 0, 0xffffffff);
  if (o.minData !== undefined) checkNumber(o.minData, 'minData');
  const seg = segmentationOf(o);
  const { x, source } = excerptOf(classifier, input, T, F, o);
  const stats = content === 'noise' ? statsOf(classifier, o.normStats, F) : undefined;
  if (content === 'noise' && !stats) throw new EarshotError('BAD_ARGUMENT', "normStats: content 'noise' needs the per-band statistics (the classifier has none); pass options.normStats");
  const R = contentValue(content, x, [T, F], { minData: o.minData, stats, noiseSeed: o.noiseSeed });
  const components = spectrogramComponents(x, [T, F], seg, R);
  const d = components.d;
  try {
    if (method === 'kernelshap' && d < 2) throw new EarshotError('BAD_ARGUMENT', 'KernelSHAP needs at least 2 components');
    if (samplerName === 'exhaustive' && d > MAX_EXHAUSTIVE_D) {
      throw new EarshotError('BAD_ARGUMENT', `sampler 'exhaustive' needs d ≤ ${MAX_EXHAUSTIVE_D} components, the segmentation has ${d}`);
    }
    const cheap = samplerName !== 'random' && d <= 12;
    const numSamples = checkInt(o.numSamples ?? (cheap ? DEFAULT_NUM_SAMPLES.small : DEFAULT_NUM_SAMPLES.large), 'numSamples', 1, 1 << 26);
    const numFeatures = checkInt(o.numFeatures ?? d, 'numFeatures', 1, d);

    // the rows that go to the model
    const tDesign = performance.now();
    let rows: Uint8Array;
    let n: number;
    let shap: ReturnType<typeof kernelShapDesign> | null = null;
    let multiplicity: Float64Array | null = null;
    if (method === 'slime') {
      const design = samplerByName(samplerName).design(d, numSamples, seed);
      rows = design.rows;
      n = design.n;
      multiplicity = design.multiplicity;
    } else {
      shap = kernelShapDesign(d, numSamples, seed, samplerName === 'exhaustive' ? 'exhaustive' : 'auto');
      n = shap.n + 2;
      rows = new Uint8Array(n * d);
      rows.fill(1, 0, d); // f(x), then f(∅) (row 1 stays zero)
      rows.set(shap.rows, 2 * d);
    }

    // forward passes, batch by batch, straight from the occlusion kernel's output
    const tModel = performance.now();
    const L = classifier.labels.length;
    const probs = new Float32Array(n * L);
    const onProgress = o.onProgress;
    for (let s = 0; s < n; s += batchSize) {
      const m = Math.min(batchSize, n - s);
      const batch = (components as SpectrogramComponents).composeView(rows.subarray(s * d, (s + m) * d), m);
      const p = await classifier.predict(batch, m);
      if (!(p instanceof Float32Array) || p.length !== m * L) {
        throw new EarshotError('BAD_OUTPUT', `classifier '${classifier.id}' returned ${p?.length} values for ${m} inputs × ${L} labels`);
      }
      probs.set(p, s * L);
      onProgress?.(s + m, n);
    }
    const labelIndex = o.labelIndex ?? (L === 1 ? 0 : argmax(probs.subarray(0, L)));
    const complement = o.complement === true;
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = probs[i * L + labelIndex]!;
      if (!Number.isFinite(v)) throw new EarshotError('NOT_FINITE', `classifier '${classifier.id}' returned ${v} for sample ${i}`);
      y[i] = complement ? 1 - v : v;
    }
    const label = complement ? `not ${classifier.labels[labelIndex]}` : classifier.labels[labelIndex]!;

    // the surrogate
    const tFit = performance.now();
    let weights: Float64Array;
    let intercept: number;
    let score: number;
    let localPrediction: number;
    let order: Array<{ index: number; weight: number }>;
    if (method === 'slime') {
      const dist = limeDistances(rows, n, d, distance);
      const fit = limeFit(rows, y, dist, { n, d, kernelWidth, featureSelection, numFeatures, alpha, selectionAlpha, multiplicity: multiplicity!, numSamples });
      ({ weights, intercept, score, localPrediction } = fit);
      order = fit.features;
    } else {
      const fit = kernelShapFit(rows.subarray(2 * d), y.subarray(2), shap!.weights, shap!.n, d, y[0]!, y[1]!);
      weights = fit.phi;
      intercept = fit.base;
      score = fit.score;
      localPrediction = fit.base + fit.phi.reduce((a, b) => a + b, 0);
      order = Array.from(weights, (weight, index) => ({ index, weight })).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
    }
    const tEnd = performance.now();
    const features: ExplainedFeature[] = order.map((f) => ({ index: f.index, name: components.names[f.index]!, weight: f.weight }));
    const params: Record<string, unknown> = {
      method,
      modelId: classifier.id,
      segmentation: components.layout.kind === 'spectrogram' ? components.layout.segmentation : seg.kind,
      grid: components.layout.kind === 'spectrogram' ? components.layout.grid : undefined,
      d,
      content,
      contentValue: typeof R === 'number' ? R : undefined,
      noiseSeed: content === 'noise' ? (o.noiseSeed ?? DEFAULT_NOISE_SEED) : undefined,
      sampler: method === 'slime' ? samplerName : `kernelshap-${shap!.mode}`,
      numSamples,
      distinctRows: n,
      distance: method === 'slime' ? distance : undefined,
      kernelWidth: method === 'slime' ? kernelWidth : undefined,
      kernel: method === 'slime' ? 'sqrt(exp(-d^2/kw^2))' : 'shapley',
      featureSelection: method === 'slime' ? featureSelection : undefined,
      numFeatures: method === 'slime' ? numFeatures : undefined,
      alpha: method === 'slime' ? alpha : undefined,
      seed,
      batchSize,
      labelIndex,
      complement,
      input: source,
      shape: [T, F],
      timings: { designMs: tModel - tDesign, modelMs: tFit - tModel, fitMs: tEnd - tFit, totalMs: tEnd - t0 },
    };
    for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
    return {
      method,
      label,
      labelIndex,
      prediction: y[0]!,
      features,
      weights,
      intercept,
      score,
      localPrediction,
      topPositive(k: number) {
        checkInt(k, 'k (top-k)', 0);
        return features.filter((f) => f.weight > 0).slice(0, k).map((f) => f.index);
      },
      components,
      params,
      forwardPasses: n,
    };
  } finally {
    // the arena copy is only needed for the forward passes; components.compose re-prepares it
    components.dispose();
  }
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}
