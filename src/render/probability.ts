/**
 * A picture of a detector's frame-wise output: the log-mel spectrogram on top (time left to
 * right, low bands at the bottom, viridis) and, in a strip below, the probability curve (one
 * point per frame, 0 at the bottom of the strip, 1 at the top) with the decision threshold as a
 * horizontal line and the frames decided positive shaded. Text-free, so it renders identically
 * everywhere; `earshot predict --png` writes it. Long files are squeezed to at most `maxWidth`
 * columns: each column shows the mean spectrum and the min…max range of the curve over its frames.
 * Browser-safe (no Node imports): pass a deflate (src/render/png-node.ts) for compression.
 */
import { EarshotError, checkArray, checkInt, checkNumber } from '../../bindings/errors.ts';
import { VIRIDIS } from './colormap.ts';
import { encodePng, type Deflate } from './png.ts';

export interface ProbabilityImageOptions {
  /** Decision threshold drawn as a line (default 0.5). */
  threshold?: number;
  /** Per-frame decisions (0/1) to shade in the strip (default p > threshold). */
  decisions?: Uint8Array;
  /** Pixels per frame when the file is short (default 2). */
  frameWidth?: number;
  /** Maximum image width; longer files are squeezed (default 2400). */
  maxWidth?: number;
  /** Pixels per mel band (default 2). */
  bandHeight?: number;
  /** Height of the probability strip (default 120). */
  stripHeight?: number;
  /** Spectrogram colour range (default: 80 dB, ln(1e4), below the maximum … the maximum). */
  vmin?: number;
  vmax?: number;
  deflate?: Deflate;
}

/** Colours of the strip (RGB). */
export const PROBABILITY_COLOURS = {
  background: [24, 24, 28],
  positive: [70, 48, 24],
  separator: [0, 0, 0],
  threshold: [230, 60, 60],
  curve: [255, 214, 64],
} as const;

export interface ProbabilityImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  /** Rows [0, spectrogramHeight) hold the spectrogram; then one separator row; then the strip. */
  spectrogramHeight: number;
  stripTop: number;
  stripHeight: number;
  /** Frames shown in column x: [columnStart[x], max(columnStart[x] + 1, columnStart[x + 1])). */
  columnStart: Int32Array;
  /** Strip row of probability p (0 at the bottom). */
  rowOf(p: number): number;
}

/**
 * Pixels of the picture. `logMel` is nFrames × nBands row-major (the un-normalised log-mel),
 * `probs` one value in [0, 1] per frame.
 */
export function probabilityPixels(logMel: Float32Array, nFrames: number, nBands: number, probs: Float32Array, options: ProbabilityImageOptions = {}): ProbabilityImage {
  checkInt(nFrames, 'renderProbability: nFrames', 1);
  checkInt(nBands, 'renderProbability: nBands', 1);
  checkArray(logMel, Float32Array, 'renderProbability: logMel', nFrames * nBands);
  checkArray(probs, Float32Array, 'renderProbability: probs', nFrames);
  const threshold = checkNumber(options.threshold ?? 0.5, 'renderProbability: threshold', 0, 1);
  const fw = checkInt(options.frameWidth ?? 2, 'renderProbability: frameWidth', 1, 64);
  const maxW = checkInt(options.maxWidth ?? 2400, 'renderProbability: maxWidth', 1, 1 << 16);
  const bh = checkInt(options.bandHeight ?? 2, 'renderProbability: bandHeight', 1, 64);
  const sh = checkInt(options.stripHeight ?? 120, 'renderProbability: stripHeight', 8, 4096);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (!(p >= 0 && p <= 1)) throw new EarshotError('NOT_FINITE', `renderProbability: probs[${i}] is ${p}; probabilities must lie in [0, 1]`);
  }
  let decisions = options.decisions;
  if (decisions !== undefined) checkArray(decisions, Uint8Array, 'renderProbability: decisions', nFrames);
  else {
    decisions = new Uint8Array(nFrames);
    for (let i = 0; i < nFrames; i++) decisions[i] = probs[i]! > threshold ? 1 : 0;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < logMel.length; i++) {
    const v = logMel[i]!;
    if (!Number.isFinite(v)) throw new EarshotError('NOT_FINITE', `renderProbability: logMel[${i}] is ${v}`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const vmax = options.vmax ?? hi;
  // ln of a magnitude: 80 dB below the loudest cell = ln(1e4), as earshot demo's log-mel picture
  const vmin = options.vmin ?? Math.max(lo, vmax - Math.log(1e4));
  const span = vmax > vmin ? vmax - vmin : 1;

  const width = Math.min(nFrames * fw, maxW);
  const columnStart = new Int32Array(width + 1);
  for (let x = 0; x <= width; x++) columnStart[x] = Math.min(nFrames, Math.floor((x * nFrames) / width));
  const specH = nBands * bh;
  const stripTop = specH + 1;
  const height = stripTop + sh;
  const px = new Uint8Array(width * height * 3);
  const put = (x: number, y: number, c: readonly number[]) => {
    const o = (y * width + x) * 3;
    px[o] = c[0]!;
    px[o + 1] = c[1]!;
    px[o + 2] = c[2]!;
  };
  const rowOf = (p: number) => stripTop + Math.round((1 - p) * (sh - 1));
  const thrRow = rowOf(threshold);
  const col = new Float64Array(nBands);
  let prevLo = -1;
  let prevHi = -1;
  for (let x = 0; x < width; x++) {
    const a = columnStart[x]!;
    const b = Math.max(a + 1, columnStart[x + 1]!);
    // spectrogram column: mean over the column's frames
    col.fill(0);
    let pmin = 1;
    let pmax = 0;
    let pos = 0;
    for (let t = a; t < b; t++) {
      for (let k = 0; k < nBands; k++) col[k] += logMel[t * nBands + k]!;
      const p = probs[t]!;
      if (p < pmin) pmin = p;
      if (p > pmax) pmax = p;
      pos += decisions[t]!;
    }
    for (let k = 0; k < nBands; k++) {
      const v = (col[k]! / (b - a) - vmin) / span;
      const idx = v <= 0 ? 0 : v >= 1 ? 255 : Math.min(255, Math.floor(v * 256));
      const c = [VIRIDIS[3 * idx]!, VIRIDIS[3 * idx + 1]!, VIRIDIS[3 * idx + 2]!];
      for (let dy = 0; dy < bh; dy++) put(x, (nBands - 1 - k) * bh + dy, c);
    }
    put(x, specH, PROBABILITY_COLOURS.separator);
    const bg = 2 * pos >= b - a ? PROBABILITY_COLOURS.positive : PROBABILITY_COLOURS.background;
    for (let y = stripTop; y < height; y++) put(x, y, bg);
    put(x, thrRow, PROBABILITY_COLOURS.threshold);
    // the curve: this column's range, joined to the previous column's so steps stay connected
    let lo = rowOf(pmax);
    let hi = rowOf(pmin);
    if (prevLo >= 0) {
      if (prevHi < lo) lo = prevHi;
      if (prevLo > hi) hi = prevLo;
    }
    const ownLo = rowOf(pmax);
    const ownHi = rowOf(pmin);
    for (let y = lo; y <= hi; y++) put(x, y, PROBABILITY_COLOURS.curve);
    prevLo = ownLo;
    prevHi = ownHi;
  }
  return { pixels: px, width, height, spectrogramHeight: specH, stripTop, stripHeight: sh, columnStart, rowOf };
}

/** The picture as PNG bytes (see probabilityPixels). */
export function renderProbability(logMel: Float32Array, nFrames: number, nBands: number, probs: Float32Array, options: ProbabilityImageOptions = {}): Uint8Array {
  const img = probabilityPixels(logMel, nFrames, nBands, probs, options);
  return encodePng(img.pixels, img.width, img.height, { channels: 3, deflate: options.deflate });
}
