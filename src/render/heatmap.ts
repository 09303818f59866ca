/**
 * The picture of a spectrogram explanation (SoundLIME / SLIME, methods.md §4: weights of
 * temporal, spectral or time-frequency components of one excerpt), as RGB pixels or a PNG:
 *
 *   [ spectrogram (viridis) ]  [ weights over the spectrogram in grey ]  [ colour bar + ticks ]
 *
 * Both panels: time on x, low frequencies at the bottom, each excerpt cell `scale` × `scale`
 * pixels (default 4), 1-pixel grid lines where neighbouring cells belong to different
 * components, and the top-k positive components outlined (a white line on their outer edge, a
 * black line just inside it, so the outline shows on any colour). Weight panel: a diverging tint,
 * red for positive and blue for negative weights, opacity ∝ |weight| / max |weight|; cells never
 * occluded (label −1) stay grey. The colour bar uses the same tint over mid-grey from +max (top)
 * to −max (bottom). The only text in the PNG is drawn in the shared 3×5 bitmap font of the
 * raster Canvas (canvas.ts): the colour bar's tick values and each component's index at its
 * top-left corner; names, weights and everything else belong in the HTML page (html.ts).
 */
import { EarshotError, checkArray, checkInt } from '../../bindings/errors.ts';
import { VIRIDIS } from './colormap.ts';
import { encodePng, type Deflate } from './png.ts';
import { Canvas, type RGB } from './canvas.ts';
import type { ExplanationView } from './explanation.ts';

export interface HeatmapOptions {
  /** Pixels per excerpt cell (frame × band), default 4. */
  scale?: number;
  /** Number of top positive components to outline (default params.topK or 3). */
  topK?: number;
  /** Spectrogram colour range (default: the excerpt's min and max). */
  vmin?: number;
  vmax?: number;
  /** Weight at full tint (default max |weight|). */
  weightScale?: number;
  /** Draw component indices in the weight panel (default true). */
  indices?: boolean;
  deflate?: Deflate;
}

export interface HeatmapImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  /** Where things are, in pixels (top-left corners), for tests and image maps. */
  geometry: {
    scale: number;
    spectrogram: { x: number; y: number; width: number; height: number };
    weights: { x: number; y: number; width: number; height: number };
    colourBar: { x: number; y: number; width: number; height: number };
    outlined: number[];
    weightScale: number;
  };
}

const MARGIN = 8;
const GAP = 12;
const BAR_W = 14;
const TEXT_W = 62;
const OUTLINE_OUTER: RGB = [255, 255, 255];
const OUTLINE_INNER: RGB = [0, 0, 0];
const POSITIVE: RGB = [215, 48, 39];
const NEGATIVE: RGB = [49, 54, 149];
const MAX_ALPHA = 0.85;
const WHITE: RGB = [255, 255, 255];
const BLACK: RGB = [0, 0, 0];

// Tick exponents are written with a lower-case 'e' (+1.2e-5) whose glyph the shared font lacks:
// its 'e' is the upper-case E, another shape, so drawing it would change every existing heatmap
// with an exponent tick. Rows top to bottom, 3 bits each (MSB = left column), as in font3x5.ts.
const LOWER_E = [0, 7, 7, 4, 7] as const;

/** A tick label in black: the shared font, with each 'e' stamped from LOWER_E in its (blank) cell. */
function tickText(cv: Canvas, x: number, y: number, text: string, gs: number): void {
  cv.text(x, y, text.replace(/e/g, ' '), { scale: gs, colour: BLACK });
  for (let i = text.indexOf('e'); i >= 0; i = text.indexOf('e', i + 1)) {
    for (let r = 0; r < 5; r++) {
      for (let col = 0; col < 3; col++) {
        const gx = x + 4 * gs * i + col * gs;
        if ((LOWER_E[r]! >> (2 - col)) & 1) cv.fill(gx, y + r * gs, gx + gs, y + (r + 1) * gs, BLACK);
      }
    }
  }
}

/** A compact tick label: 0, ±0.12, ±1.2e-5. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const s = v > 0 ? '+' : '-';
  const a = Math.abs(v);
  if (a >= 0.01 && a < 1000) return s + String(Number(a.toPrecision(2)));
  const [m, ex] = a.toExponential(1).split('e');
  return `${s}${m}e${Number(ex)}`;
}

/** The tint of weight w at full-scale ws over grey level g (0…255). */
function tint(w: number, ws: number, g: number): RGB {
  if (!(ws > 0) || w === 0) return [g, g, g];
  const a = MAX_ALPHA * Math.min(1, Math.abs(w) / ws);
  const c = w > 0 ? POSITIVE : NEGATIVE;
  return [Math.round((1 - a) * g + a * c[0]), Math.round((1 - a) * g + a * c[1]), Math.round((1 - a) * g + a * c[2])];
}

/**
 * The heatmap of a spectrogram explanation over its excerpt (`spectrogram`: T × F, row-major,
 * frames = time, the same T×F as the explanation's label map).
 */
export function heatmapPixels(e: ExplanationView, spectrogram: Float32Array, options: HeatmapOptions = {}): HeatmapImage {
  const layout = e.components.layout;
  if (layout.kind !== 'spectrogram') throw new EarshotError('BAD_ARGUMENT', `heatmap: needs a spectrogram layout, got '${layout.kind}' components`);
  const [T, F] = layout.shape;
  checkArray(spectrogram, Float32Array, 'heatmap: spectrogram', T * F);
  const s = checkInt(options.scale ?? 4, 'heatmap: scale', 1, 32);
  const params = e.params ?? {};
  const k = checkInt(options.topK ?? (typeof params.topK === 'number' ? params.topK : 3), 'heatmap: topK', 0, e.components.d);
  const labels = layout.labels;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < spectrogram.length; i++) {
    const v = spectrogram[i]!;
    if (!Number.isFinite(v)) throw new EarshotError('NOT_FINITE', `heatmap: spectrogram[${i}] is ${v}`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const vmin = options.vmin ?? lo;
  const vmax = options.vmax ?? hi;
  const span = vmax > vmin ? vmax - vmin : 1;
  let ws = 0;
  for (const w of e.weights) if (Number.isFinite(w)) ws = Math.max(ws, Math.abs(w));
  if (options.weightScale !== undefined) {
    if (!(options.weightScale > 0) || !Number.isFinite(options.weightScale)) throw new EarshotError('BAD_ARGUMENT', `heatmap: weightScale must be a positive number, got ${options.weightScale}`);
    ws = options.weightScale;
  }

  const pw = T * s;
  const ph = F * s;
  const ax = MARGIN;
  const bx = MARGIN + pw + GAP;
  const cx = bx + pw + GAP;
  const y0 = MARGIN;
  const W = cx + BAR_W + 4 + TEXT_W + MARGIN;
  const H = ph + 2 * MARGIN;
  const cv = new Canvas(W, H); // white background
  const px = cv.px;

  // cells
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) {
      const v = (spectrogram[t * F + f]! - vmin) / span;
      const idx = v <= 0 ? 0 : v >= 1 ? 255 : Math.min(255, Math.floor(v * 256));
      const cA: RGB = [VIRIDIS[3 * idx]!, VIRIDIS[3 * idx + 1]!, VIRIDIS[3 * idx + 2]!];
      const grey = Math.round(40 + 175 * Math.min(1, Math.max(0, v)));
      const l = labels[t * F + f]!;
      const cB: RGB = l < 0 ? [grey, grey, grey] : tint(e.weights[l]!, ws, grey);
      const top = y0 + (F - 1 - f) * s;
      cv.fill(ax + t * s, top, ax + t * s + s, top + s, cA);
      cv.fill(bx + t * s, top, bx + t * s + s, top + s, cB);
    }
  }

  // grid lines: the last pixel row/column of a cell whose right/upper neighbour has another label
  const blend = (x: number, y: number, c: number, a: number) => {
    const p = (y * W + x) * 3;
    for (let i = 0; i < 3; i++) px[p + i] = Math.round((1 - a) * px[p + i]! + a * c);
  };
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) {
      const l = labels[t * F + f]!;
      const top = y0 + (F - 1 - f) * s;
      if (t + 1 < T && labels[(t + 1) * F + f] !== l) {
        for (let dy = 0; dy < s; dy++) {
          blend(ax + t * s + s - 1, top + dy, 255, 0.6);
          blend(bx + t * s + s - 1, top + dy, 255, 0.6);
        }
      }
      if (f + 1 < F && labels[t * F + f + 1] !== l) {
        for (let dx = 0; dx < s; dx++) {
          blend(ax + t * s + dx, top, 255, 0.6);
          blend(bx + t * s + dx, top, 255, 0.6);
        }
      }
    }
  }

  // outlines of the top-k positive components: per cell, on each side whose neighbour is outside
  const outlined = k > 0 ? e.topPositive(k) : [];
  const ow = Math.min(2, s);
  const inTop = new Uint8Array(e.components.d);
  for (const j of outlined) inTop[j] = 1;
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) {
      const l = labels[t * F + f]!;
      if (l < 0 || !inTop[l]) continue;
      const same = (tt: number, ff: number) => tt >= 0 && tt < T && ff >= 0 && ff < F && labels[tt * F + ff] === l;
      const left = !same(t - 1, f);
      const right = !same(t + 1, f);
      const up = !same(t, f + 1); // higher band = upper edge on screen
      const down = !same(t, f - 1);
      const top = y0 + (F - 1 - f) * s;
      for (let dy = 0; dy < s; dy++) {
        for (let dx = 0; dx < s; dx++) {
          // distance (in pixels) from this pixel to the nearest outlined edge of its cell
          let dist = Infinity;
          if (left) dist = Math.min(dist, dx);
          if (right) dist = Math.min(dist, s - 1 - dx);
          if (up) dist = Math.min(dist, dy);
          if (down) dist = Math.min(dist, s - 1 - dy);
          if (dist >= ow) continue;
          const c = dist === 0 ? OUTLINE_OUTER : OUTLINE_INNER;
          cv.set(ax + t * s + dx, top + dy, c);
          cv.set(bx + t * s + dx, top + dy, c);
        }
      }
    }
  }

  // component indices at the top-left of each bounding box (where they fit inside it)
  if (options.indices ?? true) {
    const gs = s >= 4 ? 2 : 1;
    const bbox = new Map<number, [number, number, number, number]>();
    for (let t = 0; t < T; t++) {
      for (let f = 0; f < F; f++) {
        const l = labels[t * F + f]!;
        if (l < 0) continue;
        const b = bbox.get(l) ?? [t, t + 1, f, f + 1];
        bbox.set(l, [Math.min(b[0], t), Math.max(b[1], t + 1), Math.min(b[2], f), Math.max(b[3], f + 1)]);
      }
    }
    for (const [l, [t0, t1, f0, f1]] of bbox) {
      const text = String(l);
      const tw = Canvas.textWidth(text, gs) + 1;
      const th = 5 * gs + 1;
      const pad = ow + 2;
      if ((t1 - t0) * s < tw + 2 * pad || (f1 - f0) * s < th + 2 * pad) continue;
      const x = bx + t0 * s + pad;
      const y = y0 + (F - f1) * s + pad;
      cv.text(x + 1, y + 1, text, { scale: gs, colour: BLACK }); // shadow, so it reads on any tint
      cv.text(x, y, text, { scale: gs, colour: WHITE });
    }
  }

  // colour bar: +ws at the top, 0 in the middle, −ws at the bottom
  for (let y = 0; y < ph; y++) {
    const w = ws * (1 - (2 * (y + 0.5)) / ph);
    const c = tint(w, ws, 128);
    cv.fill(cx, y0 + y, cx + BAR_W, y0 + y + 1, c);
  }
  const gs = 2;
  const tx = cx + BAR_W + 4;
  const ticks: Array<[number, number]> = [
    [ws, y0],
    [0, y0 + Math.round(ph / 2) - Math.round((5 * gs) / 2)],
    [-ws, y0 + ph - 5 * gs],
  ];
  for (const [v, ty] of ticks) {
    let text = formatTick(v);
    while (Canvas.textWidth(text, gs) > TEXT_W && text.length > 1) text = text.slice(0, -1);
    tickText(cv, tx, ty, text, gs);
  }

  return {
    pixels: px,
    width: W,
    height: H,
    geometry: {
      scale: s,
      spectrogram: { x: ax, y: y0, width: pw, height: ph },
      weights: { x: bx, y: y0, width: pw, height: ph },
      colourBar: { x: cx, y: y0, width: BAR_W, height: ph },
      outlined,
      weightScale: ws,
    },
  };
}

/** heatmapPixels → PNG bytes (8-bit RGB). */
export function renderHeatmap(e: ExplanationView, spectrogram: Float32Array, options: HeatmapOptions = {}): Uint8Array {
  const img = heatmapPixels(e, spectrogram, options);
  return encodePng(img.pixels, img.width, img.height, { channels: 3, deflate: options.deflate });
}
