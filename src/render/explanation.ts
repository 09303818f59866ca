/**
 * An explanation as a stable JSON document (format 'earshot-explanation', version 1) and the
 * loader that reads one back with validation, so a saved explanation can be compared, rendered
 * again (heatmap.ts, listen.ts, html.ts) or checked for reproducibility without re-running it.
 *
 * Time and frequency of a component (methods.md §1 front end): excerpt frame j of the excerpt
 * centred on original frame c is original frame i = c − padFrames + j; frame i's window covers
 * samples [hop·i, hop·i + nFft) and stands for the hop-wide interval around its centre,
 * samples [hop·i + ⌊(nFft − hop)/2⌋, hop·(i + 1) + ⌊(nFft − hop)/2⌋) — consecutive frames tile the
 * time axis without overlap. Mel band b stands for the frequencies between the crossings of
 * its triangle with its neighbours' (the Hz midpoints between consecutive filter peaks), so
 * adjacent bands tile the frequency axis too. Document layout: docs/explain-cli.md.
 */
import { EarshotError } from '../../bindings/errors.ts';
import type { ComponentLayout, Explanation, ExplainedFeature } from '../explain/types.ts';
import { hzToMel, melToHz, type FrontEndConfig } from '../frontend/config.ts';

export const EXPLANATION_FORMAT = 'earshot-explanation';
export const EXPLANATION_FORMAT_VERSION = 1;

/** Where the explained excerpt sits in its audio (needed for seconds and Hz). */
export interface ExcerptContext {
  /** The front end that made the excerpt (SVD_FRONTEND for the bundled model). */
  frontEnd: FrontEndConfig;
  /** c: the original frame the excerpt is centred on (= its excerpt index, methods.md §1). */
  centreFrame: number;
  /** The audio file, when there is one. */
  source?: string;
  /** Length of the source signal in samples (at frontEnd.sampleRate). */
  sourceSamples?: number;
}

/** The parts of an Explanation that the renderers need (an `Explanation` or a loaded JSON). */
export interface ExplanationView {
  method: string;
  label: string;
  labelIndex: number;
  prediction: number;
  features: ExplainedFeature[];
  weights: Float64Array;
  intercept: number;
  score: number;
  localPrediction: number;
  topPositive(k: number): number[];
  components: { d: number; names: string[]; layout: ComponentLayout };
  params: Record<string, unknown>;
  forwardPasses: number;
}

/** One component's extent: bounding box in frames/bands, bins, and in seconds/Hz when known. */
export interface ComponentExtent {
  index: number;
  name: string;
  weight: number;
  /** Bins of the excerpt in the component. */
  bins: number;
  /** Bounding box, half-open: excerpt frames [t0, t1), mel bands [b0, b1). */
  frames: [number, number];
  bands: [number, number];
  /** The frames' span in the source audio, seconds (when the excerpt context is known). */
  seconds?: [number, number];
  /** The bands' span in Hz (when the front end is known). */
  hz?: [number, number];
}

/** The JSON document. Numbers are plain JSON numbers (shortest round-trip form of the f64). */
export interface ExplanationJSON {
  format: typeof EXPLANATION_FORMAT;
  formatVersion: number;
  method: string;
  label: string;
  labelIndex: number;
  prediction: number;
  /** Sorted by |weight| descending. */
  features: ExplainedFeature[];
  /** By component index. */
  weights: number[];
  intercept: number;
  score: number;
  localPrediction: number;
  /** The top-k positive components for k = params.topK (default 3). */
  topK: number;
  topPositive: number[];
  forwardPasses: number;
  components: {
    d: number;
    names: string[];
    layout: LayoutJSON;
    extents: ComponentExtent[];
  };
  excerpt: null | {
    source: string | null;
    centreFrame: number;
    firstFrame: number;
    frames: number;
    /** The excerpt's span in the source, by the frame convention above (may start < 0 at file edges). */
    seconds: [number, number];
    sampleRate: number;
    frontEnd: FrontEndConfig;
  };
  /** Method, content type, sampler, N_s, kernel width, distance, seed, model id … (JSON-safe copy). */
  params: Record<string, unknown>;
  /** params.timings when present (ms per stage). */
  timings: Record<string, number> | null;
}

export type LayoutJSON =
  | { kind: 'spectrogram'; shape: [number, number]; segmentation: string; grid: { time: number; freq: number } | null; labels: number[] }
  | { kind: 'sources'; sources: string[]; segments: Array<[number, number]>; sampleRate: number };

// ---------------------------------------------------------------- frequency and time

/** The nMels + 2 filter peaks in Hz (equally spaced in mel from fMin to fMax). */
export function melPeaksHz(fe: Pick<FrontEndConfig, 'nMels' | 'fMin' | 'fMax' | 'scale'>): Float64Array {
  const lo = hzToMel(fe.fMin, fe.scale);
  const hi = hzToMel(fe.fMax, fe.scale);
  const out = new Float64Array(fe.nMels + 2);
  for (let k = 0; k < out.length; k++) out[k] = melToHz(lo + ((hi - lo) * k) / (fe.nMels + 1), fe.scale);
  return out;
}

/** Bands [b0, b1) → Hz from the lower crossing of band b0 to the upper crossing of band b1 − 1. */
export function bandsToHz(fe: Pick<FrontEndConfig, 'nMels' | 'fMin' | 'fMax' | 'scale'>, b0: number, b1: number): [number, number] {
  const p = melPeaksHz(fe);
  return [(p[b0]! + p[b0 + 1]!) / 2, (p[b1]! + p[b1 + 1]!) / 2];
}

/** The first sample of the hop-wide interval original frame i stands for (may be negative). */
export function frameStartSample(fe: Pick<FrontEndConfig, 'nFft' | 'hop'>, i: number): number {
  return fe.hop * i + Math.floor((fe.nFft - fe.hop) / 2);
}

/** Excerpt frames [j0, j1) → seconds in the source (frame convention of the module comment). */
export function framesToSeconds(ctx: ExcerptContext, j0: number, j1: number): [number, number] {
  const fe = ctx.frontEnd;
  const first = ctx.centreFrame - fe.padFrames;
  return [frameStartSample(fe, first + j0) / fe.sampleRate, frameStartSample(fe, first + j1) / fe.sampleRate];
}

// ---------------------------------------------------------------- extents

/** Bounding boxes (and seconds/Hz with a context) of the components of a spectrogram layout. */
export function componentExtents(view: Pick<ExplanationView, 'components' | 'weights'>, ctx?: ExcerptContext): ComponentExtent[] {
  const { d, names, layout } = view.components;
  if (layout.kind !== 'spectrogram') {
    return names.map((name, index) => ({ index, name, weight: view.weights[index]!, bins: 0, frames: [0, 0], bands: [0, 0] }));
  }
  const [T, F] = layout.shape;
  const t0 = new Int32Array(d).fill(T);
  const t1 = new Int32Array(d);
  const b0 = new Int32Array(d).fill(F);
  const b1 = new Int32Array(d);
  const bins = new Int32Array(d);
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) {
      const l = layout.labels[t * F + f]!;
      if (l < 0) continue;
      bins[l]!++;
      if (t < t0[l]!) t0[l] = t;
      if (t + 1 > t1[l]!) t1[l] = t + 1;
      if (f < b0[l]!) b0[l] = f;
      if (f + 1 > b1[l]!) b1[l] = f + 1;
    }
  }
  const out: ComponentExtent[] = [];
  for (let j = 0; j < d; j++) {
    const empty = bins[j] === 0;
    const e: ComponentExtent = {
      index: j,
      name: names[j] ?? String(j),
      weight: view.weights[j]!,
      bins: bins[j]!,
      frames: empty ? [0, 0] : [t0[j]!, t1[j]!],
      bands: empty ? [0, 0] : [b0[j]!, b1[j]!],
    };
    if (ctx && !empty) {
      e.seconds = framesToSeconds(ctx, t0[j]!, t1[j]!);
      if (ctx.frontEnd.nMels === F) e.hz = bandsToHz(ctx.frontEnd, b0[j]!, b1[j]!);
    }
    out.push(e);
  }
  return out;
}

// ---------------------------------------------------------------- to JSON

/** A JSON-safe deep copy: typed arrays → arrays, non-finite numbers → null, functions dropped. */
function jsonSafe(v: unknown, depth = 0): unknown {
  if (depth > 20) return null;
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : null));
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1) ?? null);
  if (typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const s = jsonSafe(x, depth + 1);
      if (s !== undefined) o[k] = s;
    }
    return o;
  }
  return null;
}

function topKOf(params: Record<string, unknown>): number {
  const k = params.topK;
  return typeof k === 'number' && Number.isInteger(k) && k >= 1 ? k : 3;
}

/** The explanation as a plain object (JSON.stringify it, or use explanationToJSON). */
export function explanationToObject(e: ExplanationView | Explanation, ctx?: ExcerptContext): ExplanationJSON {
  const layout = e.components.layout;
  const lj: LayoutJSON =
    layout.kind === 'spectrogram'
      ? { kind: 'spectrogram', shape: [layout.shape[0], layout.shape[1]], segmentation: layout.segmentation, grid: layout.grid ? { time: layout.grid.time, freq: layout.grid.freq } : null, labels: Array.from(layout.labels) }
      : { kind: 'sources', sources: layout.sources.slice(), segments: layout.segments.map(([a, b]) => [a, b] as [number, number]), sampleRate: layout.sampleRate };
  const params = jsonSafe(e.params) as Record<string, unknown>;
  const timings = params.timings && typeof params.timings === 'object' ? (params.timings as Record<string, number>) : null;
  const topK = topKOf(e.params);
  const fe = ctx?.frontEnd;
  return {
    format: EXPLANATION_FORMAT,
    formatVersion: EXPLANATION_FORMAT_VERSION,
    method: e.method,
    label: e.label,
    labelIndex: e.labelIndex,
    prediction: e.prediction,
    features: [...e.features].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).map((f) => ({ index: f.index, name: f.name, weight: f.weight })),
    weights: Array.from(e.weights),
    intercept: e.intercept,
    score: e.score,
    localPrediction: e.localPrediction,
    topK,
    topPositive: e.topPositive(topK),
    forwardPasses: e.forwardPasses,
    components: { d: e.components.d, names: e.components.names.slice(), layout: lj, extents: componentExtents(e, ctx) },
    excerpt:
      ctx && fe && layout.kind === 'spectrogram'
        ? {
            source: ctx.source ?? null,
            centreFrame: ctx.centreFrame,
            firstFrame: ctx.centreFrame - fe.padFrames,
            frames: layout.shape[0],
            seconds: framesToSeconds(ctx, 0, layout.shape[0]),
            sampleRate: fe.sampleRate,
            frontEnd: { ...fe },
          }
        : null,
    params,
    timings,
  };
}

/** The explanation as a JSON string (2-space indented; the label map on one line). */
export function explanationToJSON(e: ExplanationView | Explanation, ctx?: ExcerptContext): string {
  return JSON.stringify(explanationToObject(e, ctx), null, 2).replace(/"labels": \[[\s\d,-]*\]/g, (m) => m.replace(/\s+/g, ''));
}

// ---------------------------------------------------------------- loading

/** A validated, loaded explanation document: an ExplanationView plus the document itself. */
export interface LoadedExplanation extends ExplanationView {
  document: ExplanationJSON;
  excerptContext: ExcerptContext | null;
}

function bad(msg: string): never {
  throw new EarshotError('BAD_EXPLANATION', `explanation JSON: ${msg}`);
}
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
function num(o: Record<string, unknown>, k: string, where = ''): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${where}${k} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}
function int(o: Record<string, unknown>, k: string, min: number, where = ''): number {
  const v = num(o, k, where);
  if (!Number.isInteger(v) || v < min) bad(`${where}${k} must be an integer ≥ ${min}, got ${v}`);
  return v;
}
function str(o: Record<string, unknown>, k: string, where = ''): string {
  const v = o[k];
  if (typeof v !== 'string') bad(`${where}${k} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Parse and validate an explanation document (a string or an already parsed object). */
export function loadExplanationJSON(input: string | unknown): LoadedExplanation {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      bad(`not JSON (${(e as Error).message})`);
    }
  }
  if (!isObj(doc)) bad('the document must be an object');
  if (doc.format !== EXPLANATION_FORMAT) bad(`format must be '${EXPLANATION_FORMAT}', got ${JSON.stringify(doc.format)}`);
  if (doc.formatVersion !== EXPLANATION_FORMAT_VERSION) bad(`formatVersion ${JSON.stringify(doc.formatVersion)} is not supported (this earshot reads ${EXPLANATION_FORMAT_VERSION})`);
  const method = str(doc, 'method');
  const label = str(doc, 'label');
  const labelIndex = int(doc, 'labelIndex', 0);
  const prediction = num(doc, 'prediction');
  const intercept = num(doc, 'intercept');
  const score = num(doc, 'score');
  const localPrediction = num(doc, 'localPrediction');
  const forwardPasses = int(doc, 'forwardPasses', 0);
  const topK = int(doc, 'topK', 1);
  const comps = doc.components;
  if (!isObj(comps)) bad('components must be an object');
  const d = int(comps, 'd', 1, 'components.');
  const names = comps.names;
  if (!Array.isArray(names) || names.length !== d || !names.every((n) => typeof n === 'string')) bad(`components.names must be ${d} strings`);
  const wArr = doc.weights;
  if (!Array.isArray(wArr) || wArr.length !== d || !wArr.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`weights must be ${d} finite numbers`);
  const weights = Float64Array.from(wArr as number[]);
  const fArr = doc.features;
  if (!Array.isArray(fArr)) bad('features must be an array');
  const features: ExplainedFeature[] = fArr.map((f, i) => {
    if (!isObj(f)) bad(`features[${i}] must be an object`);
    const index = int(f, 'index', 0, `features[${i}].`);
    if (index >= d) bad(`features[${i}].index ${index} is not a component (d = ${d})`);
    const weight = num(f, 'weight', `features[${i}].`);
    if (weight !== weights[index]) bad(`features[${i}].weight ${weight} differs from weights[${index}] = ${weights[index]}`);
    return { index, name: str(f, 'name', `features[${i}].`), weight };
  });
  for (let i = 1; i < features.length; i++) {
    if (Math.abs(features[i]!.weight) > Math.abs(features[i - 1]!.weight)) bad(`features must be sorted by |weight| descending (features[${i}])`);
  }
  const L = comps.layout;
  if (!isObj(L)) bad('components.layout must be an object');
  let layout: ComponentLayout;
  if (L.kind === 'spectrogram') {
    const shape = L.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((x) => Number.isInteger(x) && (x as number) >= 1)) bad('components.layout.shape must be [T, F] positive integers');
    const [T, F] = shape as [number, number];
    const labels = L.labels;
    if (!Array.isArray(labels) || labels.length !== T * F) bad(`components.layout.labels must hold T·F = ${T * F} integers`);
    const lab = new Int32Array(T * F);
    for (let i = 0; i < lab.length; i++) {
      const v = labels[i];
      if (!Number.isInteger(v) || (v as number) < -1 || (v as number) >= d) bad(`components.layout.labels[${i}] must be an integer in [-1, ${d}), got ${JSON.stringify(v)}`);
      lab[i] = v as number;
    }
    const seg = str(L, 'segmentation', 'components.layout.');
    if (!['temporal', 'spectral', 'time-frequency', 'custom'].includes(seg)) bad(`components.layout.segmentation must be temporal, spectral, time-frequency or custom, got '${seg}'`);
    let grid: { time: number; freq: number } | undefined;
    if (L.grid !== null && L.grid !== undefined) {
      if (!isObj(L.grid)) bad('components.layout.grid must be { time, freq } or null');
      grid = { time: int(L.grid, 'time', 1, 'components.layout.grid.'), freq: int(L.grid, 'freq', 1, 'components.layout.grid.') };
    }
    layout = { kind: 'spectrogram', shape: [T, F], labels: lab, segmentation: seg as 'temporal', grid };
  } else if (L.kind === 'sources') {
    if (!Array.isArray(L.sources) || !L.sources.every((s) => typeof s === 'string')) bad('components.layout.sources must be strings');
    if (!Array.isArray(L.segments) || !L.segments.every((s) => Array.isArray(s) && s.length === 2 && s.every((x) => typeof x === 'number'))) bad('components.layout.segments must be [start, end] pairs');
    layout = { kind: 'sources', sources: L.sources as string[], segments: L.segments as Array<[number, number]>, sampleRate: num(L, 'sampleRate', 'components.layout.') };
  } else bad(`components.layout.kind must be 'spectrogram' or 'sources', got ${JSON.stringify(L.kind)}`);
  const params = isObj(doc.params) ? doc.params : bad('params must be an object');
  const view = makeView({ method, label, labelIndex, prediction, features, weights, intercept, score, localPrediction, components: { d, names: names as string[], layout }, params, forwardPasses });
  const tp = doc.topPositive;
  if (!Array.isArray(tp) || tp.length > topK || !tp.every((j) => Number.isInteger(j) && (j as number) >= 0 && (j as number) < d && weights[j as number]! > 0)) {
    bad(`topPositive must list at most topK = ${topK} components with positive weights, got ${JSON.stringify(tp)}`);
  }
  let excerptContext: ExcerptContext | null = null;
  if (isObj(doc.excerpt)) {
    const x = doc.excerpt;
    if (!isObj(x.frontEnd)) bad('excerpt.frontEnd must be an object');
    excerptContext = { frontEnd: x.frontEnd as unknown as FrontEndConfig, centreFrame: int(x, 'centreFrame', -1e9, 'excerpt.'), source: typeof x.source === 'string' ? x.source : undefined };
  } else if (doc.excerpt !== null && doc.excerpt !== undefined) bad('excerpt must be an object or null');
  return { ...view, document: doc as unknown as ExplanationJSON, excerptContext };
}

/** An ExplanationView over plain fields (features already sorted); topPositive = the first k features with weight > 0. */
export function makeView(v: Omit<ExplanationView, 'topPositive'>): ExplanationView {
  return { ...v, topPositive: (k: number) => v.features.filter((f) => f.weight > 0).slice(0, k).map((f) => f.index) };
}
