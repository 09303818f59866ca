/**
 * Small raster plots for the SLIME experiments' result PNGs (src/render/png.ts encodes them):
 * discrete "violins" (the paper's Fig. 3, 5, 6 — for integer-valued U_n / N_ce the violin's width
 * at each value is that value's frequency), stacked proportion bars (Fig. 7, bottom) and a
 * dot-and-line panel (time per explanation). A 3×5 bitmap font covers A–Z, 0–9 and a few signs
 * (lower case is drawn as upper case). Pure: pixels in, PNG bytes out through encodePng.
 */
import { encodePng, type Deflate } from '../../render/png.ts';
import { glyph3x5 } from '../../render/font3x5.ts';

type RGB = readonly [number, number, number];

export const PALETTE = {
  ink: [40, 40, 40] as RGB,
  grid: [225, 225, 225] as RGB,
  axis: [120, 120, 120] as RGB,
  violin: [69, 117, 180] as RGB,
  median: [215, 48, 39] as RGB,
  /** N_ce = 0, 1, 2, 3 (bad → good). */
  levels: [[215, 48, 39], [252, 141, 89], [145, 191, 219], [69, 117, 180]] as RGB[],
  series: [[69, 117, 180], [215, 48, 39], [26, 152, 80], [152, 78, 163], [255, 127, 0]] as RGB[],
};

export class Canvas {
  readonly px: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.px = new Uint8Array(width * height * 3).fill(255);
  }

  rect(x: number, y: number, w: number, h: number, c: RGB): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) {
        const p = (yy * this.width + xx) * 3;
        this.px[p] = c[0];
        this.px[p + 1] = c[1];
        this.px[p + 2] = c[2];
      }
    }
  }

  hline(x0: number, x1: number, y: number, c: RGB): void {
    this.rect(Math.min(x0, x1), y, Math.abs(x1 - x0) + 1, 1, c);
  }

  vline(x: number, y0: number, y1: number, c: RGB): void {
    this.rect(x, Math.min(y0, y1), 1, Math.abs(y1 - y0) + 1, c);
  }

  line(x0: number, y0: number, x1: number, y1: number, c: RGB): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= n; i++) this.rect(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, 1, 1, c);
  }

  static textWidth(s: string, scale = 2): number {
    return s.length ? s.length * 4 * scale - scale : 0;
  }

  text(x: number, y: number, s: string, c: RGB = PALETTE.ink, scale = 2): void {
    let cx = Math.round(x);
    for (const ch0 of s) {
      const g = glyph3x5(ch0);
      for (let r = 0; r < 5; r++) for (let col = 0; col < 3; col++) if ((g[r]! >> (2 - col)) & 1) this.rect(cx + col * scale, y + r * scale, scale, scale, c);
      cx += 4 * scale;
    }
  }

  textCentred(cx: number, y: number, s: string, c: RGB = PALETTE.ink, scale = 2): void {
    this.text(cx - Canvas.textWidth(s, scale) / 2, y, s, c, scale);
  }

  png(deflate?: Deflate): Uint8Array {
    return encodePng(this.px, this.width, this.height, { deflate });
  }
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Frame of a panel: title on top, y ticks on the left; returns the plot area. */
function frame(cv: Canvas, b: Box, title: string, yMin: number, yMax: number, yTicks: number[], yFmt: (v: number) => string): Box & { yOf: (v: number) => number } {
  cv.text(b.x + 4, b.y + 2, title);
  const left = b.x + 44;
  const top = b.y + 20;
  const area = { x: left, y: top, w: b.w - 52, h: b.h - 46 };
  const yOf = (v: number) => area.y + area.h - ((v - yMin) / (yMax - yMin || 1)) * area.h;
  for (const t of yTicks) {
    const y = Math.round(yOf(t));
    cv.hline(area.x, area.x + area.w, y, PALETTE.grid);
    const s = yFmt(t);
    cv.text(area.x - 6 - Canvas.textWidth(s), y - 5, s, PALETTE.axis);
  }
  cv.vline(area.x, area.y, area.y + area.h, PALETTE.axis);
  cv.hline(area.x, area.x + area.w, area.y + area.h, PALETTE.axis);
  return { ...area, yOf };
}

/**
 * Discrete violins: one per category, integer values yMin…yMax; the half-width at each value is
 * proportional to its frequency (scaled per panel), the median marked in red, the mean as a dot.
 */
export function violins(cv: Canvas, b: Box, o: { title: string; categories: string[]; values: number[][]; yMin: number; yMax: number; color?: RGB }): void {
  const ticks = Array.from({ length: o.yMax - o.yMin + 1 }, (_, i) => o.yMin + i);
  const a = frame(cv, b, o.title, o.yMin - 0.5, o.yMax + 0.5, ticks, String);
  const n = o.categories.length;
  const slot = a.w / n;
  const step = a.h / (o.yMax - o.yMin + 1);
  let maxFrac = 0;
  const fracs = o.values.map((vs) => {
    const f = ticks.map((t) => vs.filter((v) => v === t).length / Math.max(1, vs.length));
    maxFrac = Math.max(maxFrac, ...f);
    return f;
  });
  o.categories.forEach((cat, i) => {
    const cx = a.x + slot * (i + 0.5);
    const half = slot * 0.45;
    fracs[i]!.forEach((f, k) => {
      if (f === 0) return;
      const w = Math.max(1, (f / maxFrac) * half);
      const y = a.yOf(ticks[k]!);
      cv.rect(cx - w, y - step * 0.42, 2 * w, step * 0.84, o.color ?? PALETTE.violin);
    });
    const vs = [...o.values[i]!].sort((p, q) => p - q);
    if (vs.length) {
      const med = vs[Math.floor((vs.length - 1) / 2)]! / 2 + vs[Math.ceil((vs.length - 1) / 2)]! / 2;
      cv.rect(cx - half * 0.6, a.yOf(med) - 1, half * 1.2, 3, PALETTE.median);
      const mean = vs.reduce((s, v) => s + v, 0) / vs.length;
      cv.rect(cx - 3, a.yOf(mean) - 3, 7, 7, PALETTE.ink);
    }
    cv.textCentred(cx, a.y + a.h + 6, cat);
  });
}

/** Stacked proportion bars: counts[i][level] per category, levels coloured PALETTE.levels. */
export function stackedBars(cv: Canvas, b: Box, o: { title: string; categories: string[]; counts: number[][]; levelNames: string[] }): void {
  const a = frame(cv, b, o.title, 0, 1, [0, 0.25, 0.5, 0.75, 1], (v) => `${Math.round(v * 100)}%`);
  const n = o.categories.length;
  const slot = a.w / n;
  o.categories.forEach((cat, i) => {
    const c = o.counts[i]!;
    const tot = c.reduce((s, v) => s + v, 0) || 1;
    let acc = 0;
    const x = a.x + slot * i + slot * 0.15;
    c.forEach((v, k) => {
      const y0 = a.yOf(acc / tot);
      acc += v;
      const y1 = a.yOf(acc / tot);
      cv.rect(x, y1, slot * 0.7, y0 - y1, PALETTE.levels[k % PALETTE.levels.length]!);
    });
    const top = c[c.length - 1]! / tot;
    const s = `${(top * 100).toFixed(1)}%`;
    cv.textCentred(x + slot * 0.35, a.yOf(1) + 4, s, [255, 255, 255]);
    cv.textCentred(x + slot * 0.35, a.y + a.h + 6, cat);
  });
  // legend
  let lx = b.x + b.w - 8;
  for (let k = o.levelNames.length - 1; k >= 0; k--) {
    const s = o.levelNames[k]!;
    lx -= Canvas.textWidth(s) + 18;
    cv.rect(lx, b.y + 3, 10, 10, PALETTE.levels[k % PALETTE.levels.length]!);
    cv.text(lx + 14, b.y + 3, s);
  }
}

/** Lines with dots over categorical x: series[s].values[i] at category i (log10 y when `log`). */
export function lines(cv: Canvas, b: Box, o: { title: string; categories: string[]; series: Array<{ name: string; values: number[] }>; log?: boolean; yFmt?: (v: number) => string }): void {
  const all = o.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && (!o.log || v > 0));
  const tf = (v: number) => (o.log ? Math.log10(v) : v);
  let lo = Math.min(...all.map(tf));
  let hi = Math.max(...all.map(tf));
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (o.log) [lo, hi] = [Math.floor(lo), Math.ceil(hi)];
  else [lo, hi] = [Math.min(0, lo), hi * 1.1 || 1];
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  if (o.log) for (let t = lo; t <= hi; t++) ticks.push(t);
  else for (let i = 0; i <= 4; i++) ticks.push(lo + ((hi - lo) * i) / 4);
  const fmt = o.yFmt ?? ((v: number) => String(Number(v.toPrecision(2))));
  const a = frame(cv, b, o.title, lo, hi, ticks, (t) => fmt(o.log ? 10 ** t : t));
  const n = o.categories.length;
  const slot = a.w / n;
  o.categories.forEach((cat, i) => cv.textCentred(a.x + slot * (i + 0.5), a.y + a.h + 6, cat));
  o.series.forEach((s, si) => {
    const c = PALETTE.series[si % PALETTE.series.length]!;
    let prev: [number, number] | null = null;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v) || (o.log && v <= 0)) {
        prev = null;
        return;
      }
      const pt: [number, number] = [a.x + slot * (i + 0.5), a.yOf(tf(v))];
      if (prev) cv.line(prev[0], prev[1], pt[0], pt[1], c);
      cv.rect(pt[0] - 2, pt[1] - 2, 5, 5, c);
      prev = pt;
    });
    cv.rect(a.x + 8, a.y + 6 + si * 14, 10, 10, c);
    cv.text(a.x + 22, a.y + 6 + si * 14, s.name);
  });
}
