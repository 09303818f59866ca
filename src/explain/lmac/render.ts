/**
 * What a person looks at for an L-MAC explanation (browser-safe, no fs): a PNG with the
 * log-magnitude spectrogram in grey and the mask laid over it in red (top panel), and the mask
 * alone in viridis (bottom panel); and one offline HTML page with the picture, players for the
 * original, masked-in and masked-out audio, the class probabilities and the command.
 */
import { VIRIDIS, colourAt } from '../../render/colormap.ts';
import { escapeHtml } from '../../render/html.ts';
import { encodePng, type Deflate } from '../../render/png.ts';

export interface MaskImageOptions {
  /** Horizontal pixels per frame (default: 4 for ≤ 200 frames, 2 up to 600, else 1). */
  xScale?: number;
  /** Highest bin shown (default all; 372 ≈ 8 kHz is where the SVD front end stops). */
  maxBin?: number;
  /** Dynamic range of the grey spectrogram in dB below its maximum (default 80). */
  rangeDb?: number;
  deflate?: Deflate;
}

/** Two stacked panels (overlay, mask), bin 0 at the bottom of each, 4-pixel gap. */
export function renderMaskPng(magnitude: Float32Array, mask: Float32Array, frames: number, bins: number, options: MaskImageOptions = {}): Uint8Array {
  const xs = options.xScale ?? (frames <= 200 ? 4 : frames <= 600 ? 2 : 1);
  const hb = Math.min(bins, options.maxBin ?? bins);
  const range = options.rangeDb ?? 80;
  const W = frames * xs;
  const gap = 4;
  const H = 2 * hb + gap;
  const px = new Uint8Array(W * H * 3).fill(255);
  let mx = 0;
  for (let i = 0; i < frames * bins; i++) mx = Math.max(mx, magnitude[i]!);
  const ref = 20 * Math.log10(Math.max(mx, 1e-12));
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < hb; k++) {
      const i = t * bins + k;
      const db = 20 * Math.log10(Math.max(magnitude[i]!, 1e-12)) - ref;
      const g = Math.max(0, Math.min(1, 1 + db / range));
      const m = Math.max(0, Math.min(1, mask[i]!));
      const a = 0.75 * m;
      const grey = 255 * g;
      const over: [number, number, number] = [grey * (1 - a) + 255 * a * (0.35 + 0.65 * g), grey * (1 - a) + 40 * a * g, grey * (1 - a) + 30 * a * g];
      const vir = colourAt(VIRIDIS, m);
      for (let x = 0; x < xs; x++) {
        const X = t * xs + x;
        const y1 = hb - 1 - k;
        const y2 = hb + gap + hb - 1 - k;
        px.set(over.map((v) => Math.round(v)), (y1 * W + X) * 3);
        px.set(vir, (y2 * W + X) * 3);
      }
    }
  }
  return encodePng(px, W, H, { deflate: options.deflate });
}

export interface LmacPageInput {
  title: string;
  /** Rows of (name, value) shown under the picture. */
  facts: Array<[string, string]>;
  files: { png: string; original: string; maskedIn: string; maskedOut: string; npy: string; json: string };
  command: string;
  /** Optional per-excerpt table (whole-clip runs). */
  excerpts?: Array<{ seconds: number; frame: number; prediction: number; pIn: number; pOut: number; maskMean: number }>;
  label: string;
}

export function renderLmacHtml(p: LmacPageInput): string {
  const e = escapeHtml;
  const facts = p.facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('');
  const table = p.excerpts?.length
    ? `<h2>Excerpts</h2><table><thead><tr><th>seconds</th><th>frame</th><th>P(${e(p.label)})</th><th>P(c) masked-in</th><th>P(c) masked-out</th><th>mask mean</th></tr></thead><tbody>` +
      p.excerpts.map((r) => `<tr><td>${r.seconds.toFixed(2)}</td><td>${r.frame}</td><td>${r.prediction.toFixed(3)}</td><td>${r.pIn.toFixed(3)}</td><td>${r.pOut.toFixed(3)}</td><td>${r.maskMean.toFixed(3)}</td></tr>`).join('') +
      '</tbody></table>'
    : '';
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${e(p.title)}</title><style>` +
    'body{font:15px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222}img{max-width:100%;image-rendering:pixelated;border:1px solid #ccc}' +
    'dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{color:#666}dd{margin:0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}' +
    '.players{display:grid;grid-template-columns:max-content 1fr;gap:8px 16px;align-items:center}pre{background:#f6f6f6;padding:10px;white-space:pre-wrap}.note{color:#666;font-size:.9em}' +
    `</style></head><body><h1>${e(p.title)}</h1>` +
    `<p><img src="${e(p.files.png)}" alt="spectrogram with the L-MAC mask in red (top) and the mask alone (bottom)"></p>` +
    '<p class="note">Top: the linear-frequency spectrogram (grey, 80 dB range, low frequencies at the bottom) with the mask in red. Bottom: the mask alone (0 dark … 1 yellow). ' +
    'The masked-in audio is the ISTFT of mask × spectrogram with the original phase; the masked-out audio uses 1 − mask.</p>' +
    `<h2>Listen</h2><div class="players"><span>original</span><audio controls src="${e(p.files.original)}"></audio><span>masked-in (the explanation)</span><audio controls src="${e(p.files.maskedIn)}"></audio>` +
    `<span>masked-out (the rest)</span><audio controls src="${e(p.files.maskedOut)}"></audio></div>` +
    `<h2>Numbers</h2><dl>${facts}</dl>${table}` +
    `<h2>Files</h2><p><a href="${e(p.files.npy)}">mask (.npy, frames × bins)</a> · <a href="${e(p.files.json)}">explanation.json</a></p>` +
    `<h2>Reproduce</h2><pre>${e(p.command)}</pre></body></html>\n`
  );
}
