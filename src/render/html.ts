/**
 * One self-contained, offline HTML page for a spectrogram explanation: the prediction, the
 * heatmap (heatmap.ts), a table of components with their weights, time spans and frequency
 * ranges, audio players for the excerpt, its top-k positive components and the rest
 * (listen.ts), the parameters and the command that reproduces it. No scripts, no external
 * styles or fonts; the PNG and WAVs are referenced as files next to the page, or embedded as
 * data URIs (`embed`).
 */
import type { ExcerptContext, ExplanationView } from './explanation.ts';
import { componentExtents } from './explanation.ts';

export interface HtmlFiles {
  heatmap?: string;
  excerpt?: string;
  topk?: string;
  rest?: string;
  json?: string;
  /** An extra picture (e.g. the whole clip's log-mel). */
  logmel?: string;
}

export interface HtmlOptions {
  ctx?: ExcerptContext;
  /** File names (relative to the page) of the other outputs. */
  files?: HtmlFiles;
  /** Bytes to embed as data URIs instead of linking (PNG for heatmap/logmel, WAV for audio). */
  embed?: { heatmap?: Uint8Array; logmel?: Uint8Array; excerpt?: Uint8Array; topk?: Uint8Array; rest?: Uint8Array };
  /** The shell command that reproduces the explanation. */
  command?: string;
  title?: string;
  topK?: number;
  /** How the listenable audio was made ('temporal' spans or a 'spectral' STFT mask). */
  listenMode?: 'temporal' | 'spectral';
}

/** Escape text for HTML element content and double-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const fmt = (v: number, digits = 4) => (Number.isFinite(v) ? (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(digits) : v.toExponential(2)) : String(v));

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222;background:#fff}
h1{font-size:1.45em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.pred{font-size:1.2em}.big{font-size:1.6em;font-weight:600}
img{max-width:100%;image-rendering:pixelated;border:1px solid #ccc}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
th{background:#f6f6f6}td.l,th.l{text-align:left}tr.top td{font-weight:600}
.bar{display:inline-block;height:10px;vertical-align:middle}.pos{background:#d73027}.neg{background:#313695}
.players{display:grid;grid-template-columns:max-content 1fr;gap:8px 16px;align-items:center}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}pre{background:#f6f6f6;padding:10px;overflow-x:auto;white-space:pre-wrap}
.note{color:#666;font-size:.9em}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{color:#666}dd{margin:0}
`;

/** The page as a string. */
export function renderHtml(e: ExplanationView, options: HtmlOptions = {}): string {
  const files = options.files ?? {};
  const embed = options.embed ?? {};
  const k = options.topK ?? (typeof e.params?.topK === 'number' ? e.params.topK : 3);
  const top = e.topPositive(k);
  const extents = componentExtents(e, options.ctx);
  const ctx = options.ctx;
  const src = (kind: 'heatmap' | 'logmel' | 'excerpt' | 'topk' | 'rest', mime: string): string | null => {
    const b = embed[kind];
    if (b) return `data:${mime};base64,${base64(b)}`;
    const f = files[kind];
    return f ? encodeURI(f).replace(/"/g, '%22') : null;
  };
  const title = options.title ?? `earshot: why "${e.label}"?`;
  const parts: string[] = [];
  parts.push(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  parts.push(`<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>${escapeHtml(title)}</h1>`);
  const where = ctx
    ? (() => {
        const fe = ctx.frontEnd;
        const t = (ctx.centreFrame * fe.hop + fe.nFft / 2) / fe.sampleRate;
        return ` at <b>${t.toFixed(2)} s</b> (frame ${ctx.centreFrame})${ctx.source ? ` of <code>${escapeHtml(ctx.source)}</code>` : ''}`;
      })()
    : '';
  parts.push(`<p class="pred">The model says <span class="big">P(${escapeHtml(e.label)}) = ${fmt(e.prediction, 3)}</span>${where}.</p>`);
  parts.push(
    `<p>Explained with <b>${escapeHtml(e.method)}</b> on ${e.components.d} ${escapeHtml(String((e.components.layout as { segmentation?: string }).segmentation ?? ''))} components: ` +
      `surrogate intercept ${fmt(e.intercept)}, local prediction ${fmt(e.localPrediction)}, fidelity (weighted R²) ${fmt(e.score)}, ${e.forwardPasses} forward passes. ` +
      `Top-${k} positive components: <b>${top.length ? top.map((j) => escapeHtml(e.components.names[j] ?? String(j))).join(', ') : 'none'}</b>.</p>`,
  );

  const heat = src('heatmap', 'image/png');
  if (heat) {
    parts.push(`<h2>Picture</h2><p><img src="${heat}" alt="spectrogram of the excerpt and the component weights"></p>`);
    parts.push(
      `<p class="note">Left: the excerpt the model saw (normalised log-mel, time →, low frequencies at the bottom). Right: component weights over the same spectrogram in grey ` +
        `— red pushes towards "${escapeHtml(e.label)}", blue away from it, stronger colour = larger |weight| (scale on the colour bar). ` +
        `The top-${k} positive components are outlined (white/black); numbers are component indices.</p>`,
    );
  }
  const logmel = src('logmel', 'image/png');
  if (logmel) parts.push(`<h2>The whole clip</h2><p><img src="${logmel}" alt="log-mel spectrogram of the whole clip"></p>`);

  const audio = (label: string, kind: 'excerpt' | 'topk' | 'rest') => {
    const s = src(kind, 'audio/wav');
    return s ? `<div>${label}</div><audio controls preload="none" src="${s}"></audio>` : '';
  };
  const players = [audio('Excerpt (what the model heard)', 'excerpt'), audio(`Top-${k} positive components only`, 'topk'), audio('Everything else', 'rest')].filter(Boolean);
  if (players.length) {
    parts.push(`<h2>Listen</h2><div class="players">${players.join('')}</div>`);
    parts.push(
      `<p class="note">${
        options.listenMode === 'spectral'
          ? 'The components were cut out of the audio with a mask on its short-time Fourier transform (mel bands mapped to FFT bins through the filterbank), keeping the original phase.'
          : 'The components are time spans of the excerpt, with 5 ms cross-fades at their edges.'
      } The two parts add up to the excerpt.</p>`,
    );
  }

  parts.push(`<h2>Components</h2><table><thead><tr><th class="l">rank</th><th class="l">component</th><th>weight</th><th class="l"></th><th>frames</th><th>bands</th>${ctx ? '<th>seconds</th><th>Hz</th>' : ''}</tr></thead><tbody>`);
  const maxW = Math.max(1e-300, ...Array.from(e.weights, (w) => Math.abs(w)));
  const order = e.features.length ? e.features.map((f) => f.index) : Array.from(e.weights.keys());
  const listed = new Set(order);
  for (let j = 0; j < e.components.d; j++) if (!listed.has(j)) order.push(j);
  order.forEach((j, r) => {
    const x = extents[j]!;
    const w = e.weights[j]!;
    const bar = `<span class="bar ${w >= 0 ? 'pos' : 'neg'}" style="width:${Math.round((100 * Math.abs(w)) / maxW)}px"></span>`;
    parts.push(
      `<tr${top.includes(j) ? ' class="top"' : ''}><td class="l">${r + 1}</td><td class="l">${escapeHtml(x.name)} (#${j})</td><td>${fmt(w)}</td><td class="l">${bar}</td>` +
        `<td>${x.frames[0]}–${x.frames[1]}</td><td>${x.bands[0]}–${x.bands[1]}</td>` +
        (ctx ? `<td>${x.seconds ? `${x.seconds[0].toFixed(2)}–${x.seconds[1].toFixed(2)}` : ''}</td><td>${x.hz ? `${Math.round(x.hz[0])}–${Math.round(x.hz[1])}` : ''}</td>` : '') +
        `</tr>`,
    );
  });
  parts.push(`</tbody></table>`);

  parts.push(`<h2>Parameters</h2><dl>`);
  for (const [key, v] of Object.entries(e.params ?? {})) {
    if (v === undefined || typeof v === 'function') continue;
    const text = typeof v === 'object' ? JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x)) : String(v);
    parts.push(`<dt>${escapeHtml(key)}</dt><dd><code>${escapeHtml(text.length > 400 ? `${text.slice(0, 400)}…` : text)}</code></dd>`);
  }
  parts.push(`</dl>`);
  if (options.command) parts.push(`<h2>Reproduce</h2><pre>${escapeHtml(options.command)}</pre>`);
  if (files.json) parts.push(`<p class="note">All numbers: <a href="${encodeURI(files.json)}">${escapeHtml(files.json)}</a>.</p>`);
  parts.push(`<p class="note">Made by earshot.</p></body></html>\n`);
  return parts.join('\n');
}
