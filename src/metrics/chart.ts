/**
 * A grouped bar chart of the evaluation table as RGB pixels for src/render/png.ts: one panel per
 * metric (its own scale from 0, or from the minimum when values are negative), one coloured bar
 * per method, a legend, and labels in a built-in 3 × 5 bitmap font (letters, digits, a few
 * signs) on earshot's raster canvas (src/render/canvas.ts), so it needs no canvas element or
 * font files and runs in Node and browsers alike.
 */
import { EarshotError } from '../../bindings/errors.ts';
import { encodePng, type PngOptions } from '../render/png.ts';
import { Canvas, type RGB, type TextStyle } from '../render/canvas.ts';

/** Tableau-like palette, distinguishable on white. */
const PALETTE: Array<[number, number, number]> = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75],
  [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207], [0, 0, 0], [90, 90, 200],
];

/** Labels: lower-cased (the font is case-insensitive), black unless a colour is given. */
function label(scale: number, colour: RGB = [0, 0, 0]): TextStyle {
  return { scale, colour, case: 'lower' };
}

/** Width of `s` in pixels at glyph scale `scale`. */
export function chartTextWidth(s: string, scale: number): number {
  return Canvas.textWidth(s, scale);
}

export interface BarChartData {
  title: string;
  /** Series (methods), one colour each. */
  series: string[];
  /** Panels (metrics): name, and one value per series (NaN / null = missing, drawn as nothing). */
  panels: Array<{ name: string; values: Array<number | null> }>;
}

/** Compact number label: 3 significant digits. */
function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toExponential(0);
}

export function barChartPixels(d: BarChartData): { pixels: Uint8Array; width: number; height: number } {
  if (d.series.length === 0 || d.panels.length === 0) throw new EarshotError('BAD_ARGUMENT', 'barChart: needs at least one series and one panel');
  for (const p of d.panels) if (p.values.length !== d.series.length) throw new EarshotError('BAD_SHAPE', `barChart: panel '${p.name}' has ${p.values.length} values for ${d.series.length} series`);
  const S = 2;
  const bar = 12;
  const gap = 3;
  const panelW = Math.max(d.series.length * (bar + gap) + 24, chartTextWidth('0000000000', S));
  const plotH = 180;
  const top = 40;
  const legendRows = Math.ceil(d.series.length / 4);
  // wide enough for the panels, the legend (up to 4 entries a row) and the title
  const width = Math.max(20 + d.panels.length * (panelW + 16), 20 + Math.min(4, d.series.length) * 200, chartTextWidth(d.title, S) + 20);
  const height = top + plotH + 40 + legendRows * 18 + 10;
  const cv = new Canvas(width, height);
  cv.text(10, 8, d.title, label(S));
  d.panels.forEach((p, pi) => {
    const x0 = 20 + pi * (panelW + 16);
    const vals = p.values.map((v) => (v === null || !Number.isFinite(v) ? null : v));
    const present = vals.filter((v): v is number => v !== null);
    const hi = Math.max(0, ...present);
    const lo = Math.min(0, ...present);
    const span = hi - lo || 1;
    const yOf = (v: number) => top + 12 + plotH - ((v - lo) / span) * plotH;
    cv.text(x0, top - 8, p.name, label(S));
    cv.fill(x0, yOf(0), x0 + panelW, yOf(0) + 1, [0, 0, 0]);
    cv.fill(x0, top + 12, x0 + 1, top + 12 + plotH, [160, 160, 160]);
    cv.text(x0 + 4, top + 12, fmt(hi), label(1, [90, 90, 90]));
    if (lo < 0) cv.text(x0 + 4, top + 12 + plotH - 6, fmt(lo), label(1, [90, 90, 90]));
    vals.forEach((v, si) => {
      const bx = x0 + 12 + si * (bar + gap);
      if (v === null) {
        cv.text(bx + 3, yOf(0) - 8, '-', label(1, [120, 120, 120]));
        return;
      }
      cv.fill(bx, yOf(0), bx + bar, yOf(v), PALETTE[si % PALETTE.length]!);
    });
  });
  const ly = top + plotH + 40;
  d.series.forEach((s, si) => {
    const lx = 20 + (si % 4) * 200;
    const y = ly + Math.floor(si / 4) * 18;
    cv.fill(lx, y, lx + 12, y + 10, PALETTE[si % PALETTE.length]!);
    cv.text(lx + 18, y, s, label(S));
  });
  return { pixels: cv.px, width, height };
}

export function renderBarChart(d: BarChartData, options: Pick<PngOptions, 'deflate'> = {}): Uint8Array {
  const { pixels, width, height } = barChartPixels(d);
  return encodePng(pixels, width, height, options);
}
