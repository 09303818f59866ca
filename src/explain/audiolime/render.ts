/**
 * What a person looks at and listens to for an audioLIME explanation (methods.md §5: "the
 * explanation is listenable: the sum of the top-k positive components is a waveform"):
 * - `audioLimeToJSON`: every component's name, source, segment (samples and seconds) and weight,
 *   the surrogate's score and intercept, the prediction and all parameters;
 * - `audioLimePixels` / `renderAudioLimePng`: a sources × segments grid, one row per source
 *   showing that source's waveform envelope, each cell tinted by its component's weight (red
 *   positive, blue negative, opacity ∝ |w| / max |w|), the top-k positive cells outlined;
 * - `listenableAudioLime`: the sum of the top-k positive components, the sum of the rest, and
 *   every component's own waveform;
 * - `renderAudioLimeHtml`: one offline page with the picture, a table of components with a player
 *   for each, the two listenable sums, parameters and the reproducing command.
 * Browser-safe (no fs); the CLI writes the files.
 */
import { EarshotError, checkInt } from '../../../bindings/errors.ts';
import { escapeHtml } from '../../render/html.ts';
import { encodePng, type Deflate } from '../../render/png.ts';
import type { AudioLimeExplanation } from './explain.ts';

export const AUDIOLIME_FORMAT = 'earshot-audiolime';

export interface AudioLimeJSON {
  format: typeof AUDIOLIME_FORMAT;
  formatVersion: 1;
  method: 'audiolime';
  label: string;
  labelIndex: number;
  prediction: number;
  intercept: number;
  score: number;
  localPrediction: number;
  sampleRate: number;
  sources: string[];
  segments: Array<{ index: number; start: number; end: number; startSeconds: number; endSeconds: number }>;
  /** In component-index order (index = segment·S + source). */
  components: Array<{ index: number; name: string; source: string; segment: number; startSeconds: number; endSeconds: number; weight: number; rank: number }>;
  /** Component names sorted by signed weight (the explanation's order). */
  order: string[];
  topPositive: string[];
  topK: number;
  forwardPasses: number;
  params: Record<string, unknown>;
}

export function audioLimeToObject(e: AudioLimeExplanation, topK = 3, extra: Record<string, unknown> = {}): AudioLimeJSON {
  const c = e.components;
  const sr = c.layout.sampleRate;
  const rank = new Map(e.features.map((f, i) => [f.index, i + 1]));
  return {
    format: AUDIOLIME_FORMAT,
    formatVersion: 1,
    method: 'audiolime',
    label: e.label,
    labelIndex: e.labelIndex,
    prediction: e.prediction,
    intercept: e.intercept,
    score: e.score,
    localPrediction: e.localPrediction,
    sampleRate: sr,
    sources: [...c.layout.sources],
    segments: c.layout.segments.map(([a, b], t) => ({ index: t, start: a, end: b, startSeconds: a / sr, endSeconds: b / sr })),
    components: c.names.map((name, j) => {
      const [a, b] = c.layout.segments[c.segmentOf(j)]!;
      return { index: j, name, source: c.layout.sources[c.sourceOf(j)]!, segment: c.segmentOf(j), startSeconds: a / sr, endSeconds: b / sr, weight: e.weights[j]!, rank: rank.get(j) ?? 0 };
    }),
    order: e.features.map((f) => f.name),
    topPositive: e.topPositive(topK).map((j) => c.names[j]!),
    topK,
    forwardPasses: e.forwardPasses,
    params: { ...e.params, ...extra },
  };
}

export function audioLimeToJSON(e: AudioLimeExplanation, topK = 3, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(audioLimeToObject(e, topK, extra), null, 2) + '\n';
}

export interface ListenableAudioLime {
  /** Σ of the top-k positive components. */
  topk: Float32Array;
  /** Σ of all other components (topk + rest = the explained mixture). */
  rest: Float32Array;
  /** Indices in topk. */
  kept: number[];
}

export function listenableAudioLime(e: AudioLimeExplanation, topK = 3): ListenableAudioLime {
  checkInt(topK, 'topK', 0);
  const c = e.components;
  const kept = e.topPositive(topK);
  const on = new Uint8Array(c.d);
  for (const j of kept) on[j] = 1;
  const off = on.map((b) => 1 - b);
  return { topk: c.waveform(on), rest: c.waveform(off), kept };
}

/** One component's waveform (the source on its segment, silence elsewhere). */
export function componentWaveform(e: AudioLimeExplanation, j: number): Float32Array {
  const c = e.components;
  checkInt(j, 'component index', 0, c.d - 1);
  const bits = new Uint8Array(c.d);
  bits[j] = 1;
  return c.waveform(bits);
}

export interface AudioLimeImageOptions {
  /** Image width of the time axis in pixels (default 800). */
  width?: number;
  /** Height of each source row (default 60). */
  rowHeight?: number;
  topK?: number;
  deflate?: Deflate;
}

const POS = [215, 48, 39];
const NEG = [49, 54, 149];

/** The sources × segments picture as RGB pixels. */
export function audioLimePixels(e: AudioLimeExplanation, o: AudioLimeImageOptions = {}): { pixels: Uint8Array; width: number; height: number; cells: Array<{ x0: number; x1: number; y0: number; y1: number }> } {
  const c = e.components;
  const W = checkInt(o.width ?? 800, 'width', 16, 8192);
  const RH = checkInt(o.rowHeight ?? 60, 'rowHeight', 8, 1024);
  const GAP = 4;
  const M = 6;
  const width = W + 2 * M;
  const height = c.S * RH + (c.S - 1) * GAP + 2 * M;
  const px = new Uint8Array(width * height * 3).fill(255);
  const n = c.inputSize;
  let wmax = 0;
  for (let j = 0; j < c.d; j++) wmax = Math.max(wmax, Math.abs(e.weights[j]!));
  const top = new Set(e.topPositive(o.topK ?? 3));
  const put = (x: number, y: number, r: number, g: number, b: number) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const p = (y * width + x) * 3;
    px[p] = r;
    px[p + 1] = g;
    px[p + 2] = b;
  };
  const cells: Array<{ x0: number; x1: number; y0: number; y1: number }> = new Array(c.d);
  for (let s = 0; s < c.S; s++) {
    const y0 = M + s * (RH + GAP);
    const x = c.sources[s]!;
    let peak = 1e-12;
    for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(x[i]!));
    // background: grey, tinted per segment by its weight
    for (let t = 0; t < c.N; t++) {
      const j = c.index(s, t);
      const [a, b] = c.layout.segments[t]!;
      const x0 = M + Math.floor((a / n) * W);
      const x1 = M + Math.max(Math.floor((b / n) * W), Math.floor((a / n) * W) + 1);
      cells[j] = { x0, x1, y0, y1: y0 + RH };
      const w = e.weights[j]!;
      const al = wmax > 0 ? 0.85 * Math.min(1, Math.abs(w) / wmax) : 0;
      const col = w >= 0 ? POS : NEG;
      const bg = [235, 235, 235].map((g, k) => Math.round((1 - al) * g + al * col[k]!));
      for (let yy = y0; yy < y0 + RH; yy++) for (let xx = x0; xx < x1; xx++) put(xx, yy, bg[0]!, bg[1]!, bg[2]!);
    }
    // waveform envelope (min/max per pixel column) in dark grey
    const mid = y0 + RH / 2;
    for (let col = 0; col < W; col++) {
      const i0 = Math.floor((col / W) * n);
      const i1 = Math.max(i0 + 1, Math.floor(((col + 1) / W) * n));
      let lo = 0;
      let hi = 0;
      for (let i = i0; i < i1 && i < n; i++) {
        lo = Math.min(lo, x[i]!);
        hi = Math.max(hi, x[i]!);
      }
      const ya = Math.round(mid - (hi / peak) * (RH / 2 - 2));
      const yb = Math.round(mid - (lo / peak) * (RH / 2 - 2));
      for (let yy = ya; yy <= yb; yy++) put(M + col, yy, 60, 60, 60);
    }
    // segment separators
    for (let t = 1; t < c.N; t++) {
      const xx = M + Math.floor((c.layout.segments[t]![0] / n) * W);
      for (let yy = y0; yy < y0 + RH; yy++) put(xx, yy, 255, 255, 255);
    }
  }
  // outline the top-k positive cells (white outside, black inside)
  for (const j of top) {
    const { x0, x1, y0, y1 } = cells[j]!;
    for (let xx = x0; xx < x1; xx++) {
      put(xx, y0, 0, 0, 0);
      put(xx, y1 - 1, 0, 0, 0);
      put(xx, y0 + 1, 0, 0, 0);
      put(xx, y1 - 2, 0, 0, 0);
    }
    for (let yy = y0; yy < y1; yy++) {
      put(x0, yy, 0, 0, 0);
      put(x1 - 1, yy, 0, 0, 0);
      put(x0 + 1, yy, 0, 0, 0);
      put(x1 - 2, yy, 0, 0, 0);
    }
  }
  return { pixels: px, width, height, cells };
}

export function renderAudioLimePng(e: AudioLimeExplanation, o: AudioLimeImageOptions = {}): Uint8Array {
  const { pixels, width, height } = audioLimePixels(e, o);
  return encodePng(pixels, width, height, { deflate: o.deflate });
}

export interface AudioLimeHtmlOptions {
  /** File names relative to the page. */
  files: { png: string; json: string; mixture?: string; topk: string; rest: string; components: string[] };
  command?: string;
  topK?: number;
  title?: string;
  notes?: string[];
}

const CSS = `body{font:15px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.5em}
img{max-width:100%;border:1px solid #ccc}table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}td.l,th.l{text-align:left}tr.top td{font-weight:600}
.bar{display:inline-block;height:10px;vertical-align:middle}.pos{background:#d73027}.neg{background:#313695}
audio{height:28px;vertical-align:middle}pre{background:#f6f6f6;padding:10px;white-space:pre-wrap}.note{color:#666;font-size:.9em}`;

export function renderAudioLimeHtml(e: AudioLimeExplanation, o: AudioLimeHtmlOptions): string {
  const c = e.components;
  const k = o.topK ?? 3;
  if (o.files.components.length !== c.d) throw new EarshotError('BAD_ARGUMENT', `renderAudioLimeHtml: ${o.files.components.length} component files for ${c.d} components`);
  const sr = c.layout.sampleRate;
  const top = new Set(e.topPositive(k));
  let wmax = 0;
  for (const f of e.features) wmax = Math.max(wmax, Math.abs(f.weight));
  const fmt = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));
  const rows = e.features
    .map((f, i) => {
      const j = f.index;
      const [a, b] = c.layout.segments[c.segmentOf(j)]!;
      const w = wmax > 0 ? Math.round((60 * Math.abs(f.weight)) / wmax) : 0;
      return `<tr${top.has(j) ? ' class="top"' : ''}><td>${i + 1}</td><td class="l">${escapeHtml(f.name)}</td><td class="l">${escapeHtml(c.layout.sources[c.sourceOf(j)]!)}</td><td>${c.segmentOf(j)}</td><td>${(a / sr).toFixed(2)}–${(b / sr).toFixed(2)}</td><td>${fmt(f.weight)}</td><td class="l"><span class="bar ${f.weight >= 0 ? 'pos' : 'neg'}" style="width:${w}px"></span></td><td class="l"><audio controls preload="none" src="${escapeHtml(o.files.components[j]!)}"></audio></td></tr>`;
    })
    .join('\n');
  const topNames = e.topPositive(k).map((j) => c.names[j]!);
  const params = Object.entries(e.params)
    .filter(([key]) => !['segments', 'timings'].includes(key))
    .map(([key, v]) => `<tr><td class="l">${escapeHtml(key)}</td><td class="l">${escapeHtml(typeof v === 'object' ? JSON.stringify(v) : String(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(o.title ?? 'earshot: audioLIME explanation')}</title><style>${CSS}</style></head><body>
<h1>${escapeHtml(o.title ?? 'audioLIME explanation')}</h1>
<p>Explained output: P(${escapeHtml(e.label)}) ${e.params.target === 'mean over frames' ? 'averaged over all frames of the explained audio' : ''} = <b>${e.prediction.toFixed(3)}</b>.
Surrogate: weighted ridge on ${c.S} sources × ${c.N} segments = ${c.d} components; fidelity R² ${e.score.toFixed(3)}, intercept ${fmt(e.intercept)}, local prediction ${e.localPrediction.toFixed(3)}.</p>
<p>Top-${k} positive components: <b>${escapeHtml(topNames.join(', ') || 'none')}</b>.</p>
<h2>Listen</h2>
<table>
${o.files.mixture ? `<tr><td class="l">the explained mixture</td><td class="l"><audio controls preload="none" src="${escapeHtml(o.files.mixture)}"></audio></td></tr>` : ''}
<tr><td class="l">top-${k} positive components (the explanation)</td><td class="l"><audio controls preload="none" src="${escapeHtml(o.files.topk)}"></audio></td></tr>
<tr><td class="l">everything else</td><td class="l"><audio controls preload="none" src="${escapeHtml(o.files.rest)}"></audio></td></tr>
</table>
<h2>Sources × segments</h2>
<p><img src="${escapeHtml(o.files.png)}" alt="component weights over each source's waveform"></p>
<p class="note">One row per source (${c.layout.sources.map(escapeHtml).join(', ')}, top to bottom), time left to right; red = the component raises P(${escapeHtml(e.label)}), blue = lowers it; the top-${k} positive components are outlined.</p>
<h2>Components (sorted by weight)</h2>
<table><thead><tr><th>#</th><th class="l">component</th><th class="l">source</th><th>segment</th><th>seconds</th><th>weight</th><th></th><th class="l">listen</th></tr></thead><tbody>
${rows}
</tbody></table>
${(o.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
<h2>Parameters</h2><table>${params}</table>
${o.command ? `<h2>Reproduce</h2><pre>${escapeHtml(o.command)}</pre>` : ''}
<p class="note">Data: <a href="${escapeHtml(o.files.json)}">${escapeHtml(o.files.json)}</a>. Method: audioLIME (Haunschmid, Manilow &amp; Widmer 2020), earshot.</p>
</body></html>
`;
}
