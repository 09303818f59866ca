/**
 * The jobs of `earshot experiment audiolime` (audioLIME's validations, Haunschmid et al. 2020;
 * methods.md §5), one clip each, registered as the pool task 'audiolime' (src/parallel/pool.ts)
 * so src/experiments/journal.ts can run them in worker threads and resume them:
 *
 * - `confound`: a held-out corpus clip with the spurious tone added where it is voiced
 *   (./confound.ts); audioLIME with three sources (vocals, accompaniment, tone) on a model; which
 *   source carries the top component, and each source's total positive weight.
 * - `sanity`: cascading model randomisation (Adebayo et al. 2018, as the audioLIME paper's sanity
 *   check): re-initialise the CNN's layers from the top (fc3, fc2, fc1, conv4 … conv1), one more at
 *   each depth, and explain the same clip again with audioLIME (true stems) and the clip's middle
 *   excerpt with SLIME (temporal, d = 10, mean_inp, exhaustive design); Spearman rank correlation of each with its explanation
 *   on the trained model.
 * - `oracle`: audioLIME on the true stems vs on the sources of HPSS, REPET-SIM and NMF separated
 *   from the mixture; each separated source is matched to the true stem it correlates with most,
 *   and the top-3 components (source, segment) are compared, and the top-3 segments alone.
 */
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { explainAudioLime } from '../../explain/audiolime/explain.ts';
import { explain } from '../../explain/explain.ts';
import { FrontEnd } from '../../frontend/frontend.ts';
import { SVD_FRONTEND } from '../../frontend/config.ts';
import type { BandStats } from '../../frontend/stats.ts';
import { initBackend } from '../../model/backend.ts';
import { createClassifier, type EngineClassifier } from '../../model/engines.ts';
import { initWeights, loadWeights, type WeightSet } from '../../model/weights.ts';
import { registerTask } from '../../parallel/pool.ts';
import { separate, type SeparationMethod } from '../../separate/index.ts';
import { readLabels, rms, spuriousTone, SPURIOUS_DEFAULTS } from './confound.ts';

export interface ClipSpec {
  id: string;
  mix: string;
  vocals: string;
  accompaniment: string;
  labels: string;
  /** Window start (s) and length (s). */
  start: number;
  seconds: number;
}

export interface CommonSettings {
  segments: number;
  samples: number;
  seed: number;
}

export type AudioLimeJob =
  | { kind: 'confound'; clip: ClipSpec; model: string; settings: CommonSettings }
  | { kind: 'sanity'; clip: ClipSpec; model: string; settings: CommonSettings; randomSeed: number; slimeComponents: number }
  | { kind: 'oracle'; clip: ClipSpec; model: string; settings: CommonSettings };

export interface ConfoundResult {
  topSource: string;
  topComponent: string;
  positiveBySource: Record<string, number>;
  topSourceBySum: string;
  prediction: number;
  score: number;
}

export interface SanityResult {
  depths: string[];
  audiolime: number[];
  slime: number[];
  predictions: number[];
}

export interface OracleResult {
  oracleTop3: string[];
  methods: Record<string, { top3: string[]; mapped: string[]; overlap: number; segmentOverlap: number; mapping: Record<string, string> }>;
}

/** Layers re-initialised cumulatively from the top (depth k randomises the first k). */
export const CASCADE = ['fc3', 'fc2', 'fc1', 'conv4', 'conv3', 'conv2', 'conv1'] as const;

/** A copy of `w` whose layers `layers` hold fresh random initial values (BN back to identity). */
export function randomiseLayers(w: WeightSet, layers: readonly string[], seed: number): WeightSet {
  const fresh = initWeights(seed, { architecture: w.info.architecture });
  const tensors: WeightSet['tensors'] = {};
  for (const [name, t] of Object.entries(w.tensors)) {
    const layer = name.split('.')[0]!;
    tensors[name] = layers.includes(layer) ? { shape: [...fresh.tensors[name]!.shape], data: fresh.tensors[name]!.data.slice() } : t;
  }
  return { info: { ...w.info, id: `${w.info.id}/randomised-${layers.join('-') || 'none'}` }, tensors };
}

/** Spearman's rank correlation (average ranks for ties); 0 when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (x: ArrayLike<number>) => {
    const idx = Array.from({ length: x.length }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
    const r = new Float64Array(x.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && x[idx[j + 1]!] === x[idx[i]!]) j++;
      for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = ra.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

const SR = SVD_FRONTEND.sampleRate;

async function window(path: string, clip: ClipSpec): Promise<Float32Array> {
  const x = await loadMono(path, SR, { onWarning: () => {} });
  const a = Math.round(clip.start * SR);
  const b = a + Math.round(clip.seconds * SR);
  if (b > x.length) throw new EarshotError('TOO_SHORT', `${path}: ${(x.length / SR).toFixed(2)} s, the window ends at ${(b / SR).toFixed(2)} s`);
  return x.slice(a, b);
}

interface State {
  threads: number;
  engine: string;
  weights: Map<string, WeightSet>;
  models: Map<string, EngineClassifier>;
}

async function weightsOf(s: State, spec: string): Promise<WeightSet> {
  let w = s.weights.get(spec);
  if (!w) s.weights.set(spec, (w = await loadWeights(spec)));
  return w;
}

async function modelOf(s: State, spec: string): Promise<EngineClassifier> {
  let m = s.models.get(spec);
  if (!m) s.models.set(spec, (m = await createClassifier(await weightsOf(s, spec), { engine: s.engine as 'auto', threads: s.threads })));
  return m;
}

function statsOf(w: WeightSet): BandStats {
  const n = w.info.normalization;
  if (!n) throw new EarshotError('BAD_ARGUMENT', `model ${w.info.id} has no normalisation statistics`);
  return { mean: Float32Array.from(n.mean), std: Float32Array.from(n.std) };
}

async function runConfound(s: State, job: Extract<AudioLimeJob, { kind: 'confound' }>): Promise<ConfoundResult> {
  const { clip, settings } = job;
  const vocals = await window(clip.vocals, clip);
  const acc = await window(clip.accompaniment, clip);
  const labels = await readLabels(clip.labels);
  // the tone as in training: gated by the song's labels, scaled to the whole mixture's RMS
  const mixFull = await loadMono(clip.mix, SR, { onWarning: () => {} });
  const toneFull = spuriousTone(labels, mixFull.length, SR, SVD_FRONTEND.hop, SVD_FRONTEND.nFft, rms(mixFull), SPURIOUS_DEFAULTS);
  const a = Math.round(clip.start * SR);
  const tone = toneFull.slice(a, a + vocals.length);
  const w = await weightsOf(s, job.model);
  const e = await explainAudioLime(await modelOf(s, job.model), { names: ['vocals', 'accompaniment', 'tone'], sources: [vocals, acc, tone], sampleRate: SR }, {
    segments: settings.segments, numSamples: settings.samples, seed: settings.seed, normStats: statsOf(w),
  });
  const c = e.components;
  const positiveBySource: Record<string, number> = { vocals: 0, accompaniment: 0, tone: 0 };
  for (let j = 0; j < c.d; j++) if (e.weights[j]! > 0) positiveBySource[c.layout.sources[c.sourceOf(j)]!] += e.weights[j]!;
  const top = e.features[0]!;
  const topSourceBySum = Object.entries(positiveBySource).sort((x, y) => y[1] - x[1])[0]![0];
  return { topSource: c.layout.sources[c.sourceOf(top.index)]!, topComponent: top.name, positiveBySource, topSourceBySum, prediction: e.prediction, score: e.score };
}

async function runSanity(s: State, job: Extract<AudioLimeJob, { kind: 'sanity' }>): Promise<SanityResult> {
  const { clip, settings } = job;
  const vocals = await window(clip.vocals, clip);
  const acc = await window(clip.accompaniment, clip);
  const base = await weightsOf(s, job.model);
  const stats = statsOf(base);
  const fe = new FrontEnd(SVD_FRONTEND);
  const mix = vocals.map((v, i) => v + acc[i]!);
  const prepared = fe.prepare(mix, stats);
  const excerpt = fe.excerpt(prepared, Math.floor(prepared.nFrames / 2));
  const depths = ['none', ...CASCADE];
  const al: Float64Array[] = [];
  const sl: Float64Array[] = [];
  const predictions: number[] = [];
  for (let k = 0; k < depths.length; k++) {
    const w = k === 0 ? base : randomiseLayers(base, CASCADE.slice(0, k), job.randomSeed);
    const m = await createClassifier(w, { engine: s.engine as 'auto', threads: s.threads });
    try {
      const e = await explainAudioLime(m, { names: ['vocals', 'accompaniment'], sources: [vocals, acc], sampleRate: SR }, { segments: settings.segments, numSamples: settings.samples, seed: settings.seed, normStats: stats });
      const es = await explain(m, excerpt, { segmentation: 'temporal', numComponents: job.slimeComponents, content: 'mean_inp', sampler: 'exhaustive', numSamples: 50_000 });
      al.push(e.weights);
      sl.push(es.weights);
      predictions.push(e.prediction);
    } finally {
      m.dispose();
    }
  }
  return { depths, audiolime: al.map((w) => spearman(al[0]!, w)), slime: sl.map((w) => spearman(sl[0]!, w)), predictions };
}

function corr(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

async function runOracle(s: State, job: Extract<AudioLimeJob, { kind: 'oracle' }>): Promise<OracleResult> {
  const { clip, settings } = job;
  const vocals = await window(clip.vocals, clip);
  const acc = await window(clip.accompaniment, clip);
  const mix = vocals.map((v, i) => v + acc[i]!);
  const w = await weightsOf(s, job.model);
  const m = await modelOf(s, job.model);
  const opts = { segments: settings.segments, numSamples: settings.samples, seed: settings.seed, normStats: statsOf(w) };
  const truth = ['vocals', 'accompaniment'];
  const oracle = await explainAudioLime(m, { names: truth, sources: [vocals, acc], sampleRate: SR }, opts);
  const key = (src: string, seg: number) => `${src}${seg}`;
  const oc = oracle.components;
  const oracleTop = oracle.topPositive(3).map((j) => key(truth[oc.sourceOf(j)]!, oc.segmentOf(j)));
  const oracleSegs = new Set(oracle.topPositive(3).map((j) => oc.segmentOf(j)));
  const methods: OracleResult['methods'] = {};
  for (const method of ['hpss', 'repet', 'nmf'] as SeparationMethod[]) {
    const sep = separate(mix, SR, { method });
    const mapping: Record<string, string> = {};
    sep.names.forEach((name, i) => {
      const cv = corr(sep.sources[i]!, vocals);
      const ca = corr(sep.sources[i]!, acc);
      mapping[name] = cv >= ca ? 'vocals' : 'accompaniment';
    });
    const e = await explainAudioLime(m, { names: sep.names, sources: sep.sources, sampleRate: SR }, opts);
    const c = e.components;
    const top = e.topPositive(3);
    const mapped = top.map((j) => key(mapping[c.layout.sources[c.sourceOf(j)]!]!, c.segmentOf(j)));
    const overlap = new Set(mapped.filter((k) => oracleTop.includes(k))).size;
    const segs = new Set(top.map((j) => c.segmentOf(j)));
    const segmentOverlap = [...segs].filter((t) => oracleSegs.has(t)).length;
    methods[method] = { top3: top.map((j) => c.names[j]!), mapped, overlap, segmentOverlap, mapping };
  }
  return { oracleTop3: oracleTop, methods };
}

/** The module that registers the task (the bundle itself when bundled). */
export const AUDIOLIME_TASK_MODULE = import.meta.url;

registerTask<AudioLimeJob, unknown, State, { threads: number; engine: string }>('audiolime', {
  async init(d) {
    await initBackend('wasm');
    return { threads: d.threads, engine: d.engine, weights: new Map(), models: new Map() };
  },
  async run(job, s) {
    if (job.kind === 'confound') return runConfound(s, job);
    if (job.kind === 'sanity') return runSanity(s, job);
    return runOracle(s, job);
  },
  dispose(s) {
    for (const m of s.models.values()) m.dispose();
    s.models.clear();
  },
});
