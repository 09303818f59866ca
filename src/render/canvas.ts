/**
 * The one raster canvas of earshot's small result charts (the SLIME and veracity experiment
 * plots, the evaluate / sanity bar chart, the audioLIME charts): 8-bit RGB pixels on a white
 * background, a handful of primitives with stated pixel conventions, text in the 3×5 bitmap font
 * of font3x5.ts, and PNG bytes through png.ts. Pure (no Node imports), so it runs in browsers too.
 *
 * Conventions (pixel (x, y) is column x, row y, row 0 at the top; "rounded" = Math.round):
 * - Everything outside the canvas is clipped, never an error; NaN coordinates draw nothing.
 * - `set` paints the pixel at the rounded point.
 * - `fill(x0, y0, x1, y1)` takes two opposite corners in any order and paints the half-open
 *   rounded box [round(min x), round(max x)) × [round(min y), round(max y)): abutting fills
 *   neither overlap nor leave a gap, and a fill narrower than half a pixel may paint nothing.
 * - `fillClosed` paints the closed box: both rounded corners are painted.
 * - Lines are sampled at n + 1 evenly spaced points, n = ceil(max(|Δx|, |Δy|)), each point
 *   rounded like `set` and stamped with a width × width square brush (offset −floor((width−1)/2)).
 * - Text: (x, y) is the top-left of the first glyph for align 'left' (x is the centre / right end
 *   for 'center' / 'right'); glyphs are 3×5 cells of scale × scale pixels, advance 4·scale, so a
 *   string is `Canvas.textWidth(s, scale)` = 4·scale·length − scale pixels wide. The horizontal
 *   origin is rounded once; each glyph pixel is then rounded like `set`.
 */
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { glyph3x5 } from './font3x5.ts';
import { encodePng, type Deflate } from './png.ts';

export type RGB = readonly [number, number, number];
export type MarkerKind = 'circle' | 'triangle' | 'square';

export interface TextStyle {
  /** Default black. */
  colour?: RGB;
  /** Integer glyph magnification (default 2: 6 × 10-pixel glyphs). */
  scale?: number;
  /** Where the anchor lies along the reading direction (default 'left', the start). */
  align?: 'left' | 'center' | 'right';
  /** Case mapping before drawing (default 'keep'); the font itself is case-insensitive, but a mapping may change the length ('ß' → 'SS'). */
  case?: 'keep' | 'upper' | 'lower';
}

const BLACK: RGB = [0, 0, 0];
/** Largest canvas: 64 Mpx (192 MB of pixels), far beyond any chart. */
const MAX_PIXELS = 1 << 26;

export class Canvas {
  /** Row-major RGB bytes, top row first (what encodePng takes). */
  readonly px: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    checkInt(width, 'Canvas: width', 1);
    checkInt(height, 'Canvas: height', 1);
    if (width * height > MAX_PIXELS) throw new EarshotError('BAD_ARGUMENT', `Canvas: width × height must be at most ${MAX_PIXELS} pixels, got ${width} × ${height}`);
    this.px = new Uint8Array(width * height * 3).fill(255);
  }

  /** Width in pixels of `s` drawn at `scale` (0 for the empty string); counts UTF-16 units. */
  static textWidth(s: string, scale = 2): number {
    return s.length ? s.length * 4 * scale - scale : 0;
  }

  private paint(x: number, y: number, c: RGB): void {
    const p = (y * this.width + x) * 3;
    this.px[p] = c[0];
    this.px[p + 1] = c[1];
    this.px[p + 2] = c[2];
  }

  set(x: number, y: number, c: RGB): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x >= 0 && y >= 0 && x < this.width && y < this.height) this.paint(x, y, c);
  }

  /** The half-open box between two corners (see the module comment). */
  fill(x0: number, y0: number, x1: number, y1: number, c: RGB): void {
    const xa = Math.max(0, Math.round(Math.min(x0, x1)));
    const xb = Math.min(this.width, Math.round(Math.max(x0, x1)));
    const ya = Math.max(0, Math.round(Math.min(y0, y1)));
    const yb = Math.min(this.height, Math.round(Math.max(y0, y1)));
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) this.paint(x, y, c);
  }

  /** The closed box between two corners: the rounded corner pixels are painted too. */
  fillClosed(x0: number, y0: number, x1: number, y1: number, c: RGB): void {
    const xa = Math.max(0, Math.round(Math.min(x0, x1)));
    const xb = Math.min(this.width - 1, Math.round(Math.max(x0, x1)));
    const ya = Math.max(0, Math.round(Math.min(y0, y1)));
    const yb = Math.min(this.height - 1, Math.round(Math.max(y0, y1)));
    for (let y = ya; y <= yb; y++) for (let x = xa; x <= xb; x++) this.paint(x, y, c);
  }

  /** The outline of the box between two corners: four 1-pixel lines through them. */
  outline(x0: number, y0: number, x1: number, y1: number, c: RGB): void {
    this.line(x0, y0, x1, y0, c);
    this.line(x1, y0, x1, y1, c);
    this.line(x1, y1, x0, y1, c);
    this.line(x0, y1, x0, y0, c);
  }

  /** A solid line `width` pixels wide (square brush). */
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, width = 1): void {
    checkInt(width, 'Canvas.line: width', 1, 1024);
    const r = Math.floor((width - 1) / 2);
    this.samples(x0, y0, x1, y1, width, (x, y) => {
      for (let dy = -r; dy <= width - 1 - r; dy++) for (let dx = -r; dx <= width - 1 - r; dx++) this.set(x + dx, y + dy, c);
    });
  }

  /** A 1-pixel dashed line: `dash` samples on, `dash` off, starting on at (x0, y0). */
  dashed(x0: number, y0: number, x1: number, y1: number, c: RGB, dash = 4): void {
    checkInt(dash, 'Canvas.dashed: dash', 1);
    this.samples(x0, y0, x1, y1, 1, (x, y, i) => {
      if (Math.floor(i / dash) % 2 === 0) this.set(x, y, c);
    });
  }

  /**
   * A marker centred on (x, y) within the (2·size + 1)² square: the whole square, a disc
   * (dx² + dy² ≤ size² + 1) or an upward triangle (apex at the top, base on the bottom row).
   */
  marker(x: number, y: number, c: RGB, kind: MarkerKind, size = 3): void {
    checkInt(size, 'Canvas.marker: size', 0, 1024);
    if (kind !== 'circle' && kind !== 'triangle' && kind !== 'square') throw new EarshotError('BAD_ARGUMENT', `Canvas.marker: kind must be 'circle', 'triangle' or 'square', got ${JSON.stringify(kind)}`);
    const s = size;
    for (let dy = -s; dy <= s; dy++) {
      for (let dx = -s; dx <= s; dx++) {
        const inside = kind === 'circle' ? dx * dx + dy * dy <= s * s + 1 : kind === 'square' ? true : Math.abs(dx) <= (dy + s) / 2;
        if (inside) this.set(x + dx, y + dy, c);
      }
    }
  }

  /** Horizontal text; (x, y) per `style.align`, y the top of the glyphs. */
  text(x: number, y: number, s: string, style: TextStyle = {}): void {
    const { t, w, scale, colour } = this.layout(s, style);
    let cx = Math.round(style.align === 'center' ? x - w / 2 : style.align === 'right' ? x - w : x);
    for (const ch of t) {
      this.glyph(ch, scale, (cx0, dx, cy0, dy) => this.set(cx + cx0 + dx, y + cy0 + dy, colour));
      cx += 4 * scale;
    }
  }

  /**
   * Text rotated 90° counter-clockwise (reading bottom to top, e.g. a y-axis label): x is the
   * left edge (the glyph tops), y the anchor along the text per `style.align` (start = bottom).
   */
  textUp(x: number, y: number, s: string, style: TextStyle = {}): void {
    const { t, w, scale, colour } = this.layout(s, style);
    let cy = Math.round(style.align === 'center' ? y + w / 2 : style.align === 'right' ? y + w : y);
    for (const ch of t) {
      this.glyph(ch, scale, (cx0, dx, cy0, dy) => this.set(x + cy0 + dx, cy - cx0 - dy, colour));
      cy -= 4 * scale;
    }
  }

  png(deflate?: Deflate): Uint8Array {
    return encodePng(this.px, this.width, this.height, { deflate });
  }

  private layout(s: string, style: TextStyle): { t: string; w: number; scale: number; colour: RGB } {
    const scale = checkInt(style.scale ?? 2, 'Canvas.text: scale', 1, 256);
    const t = style.case === 'upper' ? s.toUpperCase() : style.case === 'lower' ? s.toLowerCase() : s;
    return { t, w: Canvas.textWidth(t, scale), scale, colour: style.colour ?? BLACK };
  }

  /**
   * Calls `pixel(col·scale, dx, row·scale, dy)` for every pixel of the scaled glyph, whose offset
   * from the glyph's top-left is (col·scale + dx, row·scale + dy): the parts come separately
   * because the callers add them to a non-integer origin one by one, left to right, and
   * floating-point addition in another order could round a pixel differently.
   */
  private glyph(ch: string, scale: number, pixel: (x: number, dx: number, y: number, dy: number) => void): void {
    const g = glyph3x5(ch);
    for (let r = 0; r < 5; r++) {
      for (let col = 0; col < 3; col++) {
        if (!((g[r]! >> (2 - col)) & 1)) continue;
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) pixel(col * scale, dx, r * scale, dy);
      }
    }
  }

  /**
   * The line's sample points (x0 + Δx·i/n, y0 + Δy·i/n), i = 0…n, skipping the runs of i whose
   * points lie more than `pad` pixels outside the canvas, so a line to ±1e12 costs no more
   * than one across the canvas (the points kept are exactly those of the full line).
   */
  private samples(x0: number, y0: number, x1: number, y1: number, pad: number, at: (x: number, y: number, i: number) => void): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    if (!Number.isFinite(n) || !Number.isFinite(x0) || !Number.isFinite(y0)) return;
    let lo = 0;
    let hi = n;
    for (const [a, b, size] of [[x0, x1, this.width], [y0, y1, this.height]] as const) {
      const lim0 = -pad - 1;
      const lim1 = size + pad;
      if (a === b) {
        if (a < lim0 || a > lim1) return;
        continue;
      }
      const t0 = ((lim0 - a) / (b - a)) * n;
      const t1 = ((lim1 - a) / (b - a)) * n;
      lo = Math.max(lo, Math.floor(Math.min(t0, t1)) - 1);
      hi = Math.min(hi, Math.ceil(Math.max(t0, t1)) + 1);
    }
    for (let i = lo; i <= hi; i++) at(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, i);
  }
}
