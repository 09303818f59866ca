/**
 * Minimal raster plots for the veracity figures (line plots of flip rates, grouped bars of
 * recovered segments, box plots of fidelity), drawn on earshot's raster canvas
 * (src/render/canvas.ts) and encoded by its png(). No dependency, no fonts: the 3×5 bitmap font
 * for upper-case labels and numbers, scaled by an integer factor.
 */
import { Canvas, type RGB, type TextStyle } from '../render/canvas.ts';
import type { BoxStats } from './fidelity.ts';

export const COLOURS = {
  blue: [31, 119, 180] as RGB,
  orange: [255, 127, 14] as RGB,
  green: [44, 160, 44] as RGB,
  red: [214, 39, 40] as RGB,
  purple: [148, 103, 189] as RGB,
  grey: [127, 127, 127] as RGB,
  black: [0, 0, 0] as RGB,
  light: [225, 225, 225] as RGB,
};
export const SERIES_COLOURS: readonly RGB[] = [COLOURS.blue, COLOURS.orange, COLOURS.green, COLOURS.red, COLOURS.purple, COLOURS.grey];

/** Labels are drawn upper-case, black unless a colour is given. */
function label(colour: RGB = COLOURS.black, align: TextStyle['align'] = 'left'): TextStyle {
  return { colour, align, case: 'upper', scale: 2 };
}

/** A compact number for axis ticks. */
function tick(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(2)));
}

interface Axes {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  sx: (v: number) => number;
  sy: (v: number) => number;
}

/** Frame, grid, ticks and labels of one panel at (left, top, w, h) for ranges [xmin, xmax] × [ymin, ymax]. */
function axes(
  cv: Canvas,
  left: number,
  top: number,
  w: number,
  h: number,
  o: { xRange: [number, number]; yRange: [number, number]; xTicks?: number[]; yTicks: number[]; xTickLabels?: string[]; title?: string; xLabel?: string; yLabel?: string },
): Axes {
  const x0 = left + 44;
  const y0 = top + (o.title ? 20 : 6);
  const x1 = left + w - 8;
  const y1 = top + h - 34;
  const sx = (v: number) => x0 + ((v - o.xRange[0]) / (o.xRange[1] - o.xRange[0] || 1)) * (x1 - x0);
  const sy = (v: number) => y1 - ((v - o.yRange[0]) / (o.yRange[1] - o.yRange[0] || 1)) * (y1 - y0);
  for (const t of o.yTicks) {
    cv.line(x0, sy(t), x1, sy(t), COLOURS.light);
    cv.text(x0 - 5, sy(t) - 5, tick(t), label(COLOURS.black, 'right'));
  }
  (o.xTicks ?? []).forEach((t, i) => {
    cv.line(sx(t), y1, sx(t), y1 + 3, COLOURS.black);
    cv.text(sx(t), y1 + 6, o.xTickLabels?.[i] ?? tick(t), label(COLOURS.black, 'center'));
  });
  cv.outline(x0, y0, x1, y1, COLOURS.black);
  if (o.title) cv.text((x0 + x1) / 2, top + 4, o.title, label(COLOURS.black, 'center'));
  if (o.xLabel) cv.text((x0 + x1) / 2, y1 + 20, o.xLabel, label(COLOURS.black, 'center'));
  if (o.yLabel) cv.textUp(left + 2, (y0 + y1) / 2, o.yLabel, label(COLOURS.black, 'center'));
  return { x0, y0, x1, y1, sx, sy };
}

export interface LineSeries {
  name: string;
  /** y per x (NaN = gap). */
  x: number[];
  y: number[];
  marker?: 'circle' | 'triangle' | 'square';
  colour?: RGB;
}

export interface LinePanel {
  title: string;
  series: LineSeries[];
}

/** Panels of line plots side by side, sharing ranges; legend under the first panel's title. */
export function linePlots(panels: LinePanel[], o: { xLabel: string; yLabel: string; xRange: [number, number]; yRange: [number, number]; xTicks: number[]; yTicks: number[]; panelWidth?: number; height?: number }): Canvas {
  const pw = o.panelWidth ?? 360;
  const H = o.height ?? 300;
  const cv = new Canvas(pw * panels.length, H);
  panels.forEach((p, i) => {
    const a = axes(cv, i * pw, 0, pw, H, { ...o, title: p.title });
    p.series.forEach((s, si) => {
      const c = s.colour ?? SERIES_COLOURS[si % SERIES_COLOURS.length]!;
      let prev: [number, number] | null = null;
      for (let j = 0; j < s.x.length; j++) {
        const y = s.y[j]!;
        if (!Number.isFinite(y)) {
          prev = null;
          continue;
        }
        const pt: [number, number] = [a.sx(s.x[j]!), a.sy(y)];
        if (prev) cv.dashed(prev[0], prev[1], pt[0], pt[1], c, 5);
        cv.marker(pt[0], pt[1], c, s.marker ?? 'circle', 3);
        prev = pt;
      }
      if (i === 0) {
        const ly = a.y0 + 8 + si * 14;
        cv.marker(a.x0 + 12, ly + 4, c, s.marker ?? 'circle', 3);
        cv.text(a.x0 + 20, ly, s.name, label(c));
      }
    });
  });
  return cv;
}

export interface BarGroup {
  /** Group label under the axis (e.g. the number recovered). */
  label: string;
  /** One value per series. */
  values: number[];
}

export interface BarPanel {
  title: string;
  groups: BarGroup[];
}

/** Panels of grouped bars; `seriesNames` in a legend in the first panel. */
export function barPlots(panels: BarPanel[], o: { seriesNames: string[]; xLabel: string; yLabel: string; yMax?: number; panelWidth?: number; height?: number; columns?: number }): Canvas {
  const pw = o.panelWidth ?? 300;
  const H = o.height ?? 280;
  const cols = Math.max(1, Math.min(o.columns ?? panels.length, panels.length));
  const cv = new Canvas(pw * cols, H * Math.ceil(panels.length / cols));
  const all = panels.flatMap((p) => p.groups.flatMap((g) => g.values)).filter(Number.isFinite);
  const yMax = o.yMax ?? Math.max(2, niceMax(Math.max(1, ...all)));
  // counts: integer ticks
  const yTicks = ticksTo(yMax).filter(Number.isInteger);
  panels.forEach((p, i) => {
    const G = p.groups.length;
    const a = axes(cv, (i % cols) * pw, Math.floor(i / cols) * H, pw, H, { title: p.title, xLabel: o.xLabel, yLabel: i % cols === 0 ? o.yLabel : undefined, xRange: [-0.5, G - 0.5], yRange: [0, yMax], yTicks, xTicks: p.groups.map((_, j) => j), xTickLabels: p.groups.map((g) => g.label) });
    const S = o.seriesNames.length;
    const slot = (a.sx(1) - a.sx(0)) * 0.8;
    const bw = slot / S;
    p.groups.forEach((g, j) => {
      g.values.forEach((v, s) => {
        if (!Number.isFinite(v) || v <= 0) return;
        const xl = a.sx(j) - slot / 2 + s * bw;
        cv.fillClosed(xl + 1, a.sy(v), xl + bw - 1, a.sy(0) - 1, SERIES_COLOURS[s % SERIES_COLOURS.length]!);
      });
    });
    if (i === 0) {
      o.seriesNames.forEach((n, s) => {
        const ly = a.y0 + 6 + s * 14;
        cv.fillClosed(a.x1 - 100, ly, a.x1 - 92, ly + 8, SERIES_COLOURS[s % SERIES_COLOURS.length]!);
        cv.text(a.x1 - 88, ly, n, label());
      });
    }
  });
  return cv;
}

export interface BoxPanel {
  title: string;
  boxes: Array<{ label: string; stats: BoxStats }>;
}

/** Panels of box plots (whiskers at min / max). */
export function boxPlots(panels: BoxPanel[], o: { yLabel: string; xLabel?: string; yRange: [number, number]; yTicks: number[]; panelWidth?: number; height?: number }): Canvas {
  const pw = o.panelWidth ?? 240;
  const H = o.height ?? 280;
  const cv = new Canvas(pw * panels.length, H);
  panels.forEach((p, i) => {
    const B = p.boxes.length;
    const a = axes(cv, i * pw, 0, pw, H, { title: p.title, xLabel: o.xLabel, yLabel: i === 0 ? o.yLabel : undefined, xRange: [-0.5, B - 0.5], yRange: o.yRange, yTicks: o.yTicks, xTicks: p.boxes.map((_, j) => j), xTickLabels: p.boxes.map((b) => `${b.label} N=${b.stats.n}`) });
    const half = (a.sx(1) - a.sx(0)) * 0.25;
    const clampY = (v: number) => a.sy(Math.min(o.yRange[1], Math.max(o.yRange[0], v)));
    p.boxes.forEach((b, j) => {
      const s = b.stats;
      if (s.n === 0) return;
      const c = SERIES_COLOURS[j % SERIES_COLOURS.length]!;
      const x = a.sx(j);
      cv.line(x, clampY(s.min), x, clampY(s.q1), COLOURS.black);
      cv.line(x, clampY(s.q3), x, clampY(s.max), COLOURS.black);
      cv.line(x - half / 2, clampY(s.min), x + half / 2, clampY(s.min), COLOURS.black);
      cv.line(x - half / 2, clampY(s.max), x + half / 2, clampY(s.max), COLOURS.black);
      cv.fillClosed(x - half, clampY(s.q3), x + half, clampY(s.q1), c);
      cv.outline(x - half, clampY(s.q3), x + half, clampY(s.q1), COLOURS.black);
      cv.line(x - half, clampY(s.median), x + half, clampY(s.median), COLOURS.black, 2);
    });
  });
  return cv;
}

function niceMax(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function ticksTo(max: number): number[] {
  const step = niceMax(max / 5);
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}
