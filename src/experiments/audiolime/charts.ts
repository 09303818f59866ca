/**
 * Plain charts for the audioLIME experiment's PNGs (no text: the legends are in summary.txt and
 * docs/reproduction/audiolime.md): grouped bars on a 0…1 axis and lines on a −1…1 axis, with
 * light grid lines at every 0.25, drawn on earshot's raster canvas (src/render/canvas.ts).
 */
import { Canvas } from '../../render/canvas.ts';
import { nodeDeflate } from '../../render/png-node.ts';

export const PALETTE: Array<[number, number, number]> = [
  [215, 48, 39], [49, 54, 149], [26, 152, 80], [253, 174, 97], [120, 120, 120],
];

/** groups × series bars of values in [lo, hi]. */
export function barChart(values: number[][], lo = 0, hi = 1, width = 640, height = 320): Uint8Array {
  const cv = new Canvas(width, height);
  const M = 20;
  const H = height - 2 * M;
  const y = (v: number) => M + H - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * H;
  for (let g = 0; g <= 4; g++) for (let x = M; x < width - M; x++) cv.set(x, y(lo + ((hi - lo) * g) / 4), [220, 220, 220]);
  const G = values.length;
  const S = Math.max(1, ...values.map((v) => v.length));
  const gw = (width - 2 * M) / G;
  const bw = (gw * 0.8) / S;
  values.forEach((series, g) =>
    series.forEach((v, s) => {
      const x0 = M + g * gw + gw * 0.1 + s * bw;
      const y0 = y(Math.max(lo, Math.min(v, 0)));
      const y1 = y(Math.max(v, 0));
      // a 1-pixel gap to the next bar; a bar narrower than that is not drawn
      const xa = Math.floor(x0);
      const xb = Math.floor(x0 + bw) - 1;
      if (xb > xa) cv.fill(xa, Math.floor(Math.min(y0, y1)), xb, Math.ceil(Math.max(y0, y1)) + 1, PALETTE[s % PALETTE.length]!);
    }),
  );
  for (let x = M; x < width - M; x++) cv.set(x, y(Math.max(lo, 0)), [0, 0, 0]);
  return cv.png(nodeDeflate);
}

/** Lines (one per series) over equally spaced x positions, values in [lo, hi]. */
export function lineChart(series: number[][], lo = -1, hi = 1, width = 640, height = 320): Uint8Array {
  const cv = new Canvas(width, height);
  const M = 20;
  const H = height - 2 * M;
  const y = (v: number) => M + H - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * H;
  for (let g = 0; g <= 8; g++) for (let x = M; x < width - M; x++) cv.set(x, y(lo + ((hi - lo) * g) / 8), g === 4 ? [150, 150, 150] : [225, 225, 225]);
  const n = Math.max(2, ...series.map((s) => s.length));
  const xOf = (i: number) => M + (i * (width - 2 * M)) / (n - 1);
  series.forEach((s, k) => {
    const c = PALETTE[k % PALETTE.length]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const steps = Math.ceil(xOf(i + 1) - xOf(i));
      for (let t = 0; t <= steps; t++) {
        const x = xOf(i) + t;
        const v = s[i]! + ((s[i + 1]! - s[i]!) * t) / steps;
        for (let d = -1; d <= 1; d++) cv.set(x, y(v) + d, c);
      }
    }
    for (let i = 0; i < s.length; i++) cv.marker(xOf(i), y(s[i]!), c, 'square', 3);
  });
  return cv.png(nodeDeflate);
}
