/**
 * Small raster plots for the SLIME experiments' result PNGs (src/render/png.ts encodes them):
 * discrete "violins" (the paper's Fig. 3, 5, 6 — for integer-valued U_n / N_ce the violin's width
 * at each value is that value's frequency), stacked proportion bars (Fig. 7, bottom) and a
 * dot-and-line panel (time per explanation). A 3×5 bitmap font covers A–Z, 0–9 and a few signs
 * (lower case is drawn as upper case). Pure: drawn on src/render/canvas.ts, PNG bytes from its png().
 */
import { Canvas, type RGB } from '../../render/canvas.ts';

export { Canvas };

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

const INK = { colour: PALETTE.ink };

/** The box of width w and height h at (x, y), half-open after rounding; w ≤ 0 or h ≤ 0 is empty. */
function box(cv: Canvas, x: number, y: number, w: number, h: number, c: RGB): void {
  if (w > 0 && h > 0) cv.fill(x, y, x + w, y + h, c);
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Frame of a panel: title on top, y ticks on the left; returns the plot area. */
function frame(cv: Canvas, b: Box, title: string, yMin: number, yMax: number, yTicks: number[], yFmt: (v: number) => string): Box & { yOf: (v: number) => number } {
  cv.text(b.x + 4, b.y + 2, title, INK);
  const left = b.x + 44;
  const top = b.y + 20;
  const area = { x: left, y: top, w: b.w - 52, h: b.h - 46 };
  const yOf = (v: number) => area.y + area.h - ((v - yMin) / (yMax - yMin || 1)) * area.h;
  for (const t of yTicks) {
    const y = Math.round(yOf(t));
    cv.fill(area.x, y, area.x + area.w + 1, y + 1, PALETTE.grid);
    cv.text(area.x - 6, y - 5, yFmt(t), { colour: PALETTE.axis, align: 'right' });
  }
  cv.fill(area.x, area.y, area.x + 1, area.y + area.h + 1, PALETTE.axis);
  cv.fill(area.x, area.y + area.h, area.x + area.w + 1, area.y + area.h + 1, PALETTE.axis);
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
      box(cv, cx - w, y - step * 0.42, 2 * w, step * 0.84, o.color ?? PALETTE.violin);
    });
    const vs = [...o.values[i]!].sort((p, q) => p - q);
    if (vs.length) {
      const med = vs[Math.floor((vs.length - 1) / 2)]! / 2 + vs[Math.ceil((vs.length - 1) / 2)]! / 2;
      box(cv, cx - half * 0.6, a.yOf(med) - 1, half * 1.2, 3, PALETTE.median);
      const mean = vs.reduce((s, v) => s + v, 0) / vs.length;
      box(cv, cx - 3, a.yOf(mean) - 3, 7, 7, PALETTE.ink);
    }
    cv.text(cx, a.y + a.h + 6, cat, { ...INK, align: 'center' });
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
      box(cv, x, y1, slot * 0.7, y0 - y1, PALETTE.levels[k % PALETTE.levels.length]!);
    });
    const top = c[c.length - 1]! / tot;
    const s = `${(top * 100).toFixed(1)}%`;
    cv.text(x + slot * 0.35, a.yOf(1) + 4, s, { colour: [255, 255, 255], align: 'center' });
    cv.text(x + slot * 0.35, a.y + a.h + 6, cat, { ...INK, align: 'center' });
  });
  // legend
  let lx = b.x + b.w - 8;
  for (let k = o.levelNames.length - 1; k >= 0; k--) {
    const s = o.levelNames[k]!;
    lx -= Canvas.textWidth(s) + 18;
    box(cv, lx, b.y + 3, 10, 10, PALETTE.levels[k % PALETTE.levels.length]!);
    cv.text(lx + 14, b.y + 3, s, INK);
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
  o.categories.forEach((cat, i) => cv.text(a.x + slot * (i + 0.5), a.y + a.h + 6, cat, { ...INK, align: 'center' }));
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
      box(cv, pt[0] - 2, pt[1] - 2, 5, 5, c);
      prev = pt;
    });
    box(cv, a.x + 8, a.y + 6 + si * 14, 10, 10, c);
    cv.text(a.x + 22, a.y + 6 + si * 14, s.name, INK);
  });
}
