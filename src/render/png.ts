/**
 * A small, dependency-free PNG encoder (W3C PNG specification, 2nd ed.: signature, IHDR, IDAT,
 * IEND chunks with CRC-32; 8-bit RGB or RGBA, no interlace, filter type 0 on every scanline) and
 * `renderSpectrogram`, a spectrogram as a colour image (time on x, low frequencies at the bottom).
 *
 * Pure: the zlib stream for IDAT comes from a `deflate` argument (Node passes node:zlib's
 * deflateSync, see png-node.ts; a browser bundle may pass any zlib-format compressor). Without
 * one, the data is stored in uncompressed deflate blocks (RFC 1950/1951), still a valid PNG.
 */
import { EarshotError, checkArray, checkInt, checkNumber } from '../../bindings/errors.ts';
import { VIRIDIS } from './colormap.ts';
import { crc32Of } from '../util/crc32.ts';

/** Compresses bytes into a zlib (RFC 1950) stream, e.g. node:zlib's deflateSync. */
export type Deflate = (data: Uint8Array) => Uint8Array;

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; ) {
    const end = Math.min(bytes.length, i + 5552); // largest run before the sums need a modulo
    for (; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A zlib stream of stored (uncompressed) deflate blocks: valid everywhere, no compression. */
export function zlibStored(data: Uint8Array): Uint8Array {
  const nBlocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(2 + nBlocks * 5 + data.length + 4);
  out[0] = 0x78; // CM 8 (deflate), 32 KiB window
  out[1] = 0x01; // FCHECK so that (0x78·256 + 0x01) % 31 == 0, no dictionary, fastest
  let o = 2;
  for (let blk = 0; blk < nBlocks; blk++) {
    const s = blk * 65535;
    const len = Math.min(65535, data.length - s);
    out[o++] = blk === nBlocks - 1 ? 1 : 0; // BFINAL, BTYPE 00
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(s, s + len), o);
    o += len;
  }
  const ad = adler32(data);
  out[o++] = ad >>> 24;
  out[o++] = (ad >>> 16) & 0xff;
  out[o++] = (ad >>> 8) & 0xff;
  out[o++] = ad & 0xff;
  return out;
}

export interface PngOptions {
  /** 3 = RGB, 4 = RGBA (default 3). */
  channels?: 3 | 4;
  /** zlib compressor for IDAT; default: stored blocks (no compression). */
  deflate?: Deflate;
}

/**
 * Encode 8-bit pixels (row-major, top row first, `channels` bytes per pixel) as a PNG file.
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, options: PngOptions = {}): Uint8Array {
  checkInt(width, 'encodePng: width', 1, 1 << 24);
  checkInt(height, 'encodePng: height', 1, 1 << 24);
  const channels = options.channels ?? 3;
  if (channels !== 3 && channels !== 4) throw new EarshotError('BAD_ARGUMENT', `encodePng: channels must be 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  checkArray(pixels, Uint8Array, 'encodePng: pixels', width * height * channels);
  const stride = width * channels;
  // each scanline: filter byte 0 (None), then the row
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const z = options.deflate ? options.deflate(raw) : zlibStored(raw);
  if (!(z instanceof Uint8Array)) throw new EarshotError('BAD_ARGUMENT', 'encodePng: deflate must return a Uint8Array');

  const chunks: Array<[string, Uint8Array]> = [];
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 3 ? 2 : 6; // colour type: truecolour (2) or truecolour + alpha (6)
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  chunks.push(['IHDR', ihdr], ['IDAT', z], ['IEND', new Uint8Array(0)]);

  const total = 8 + chunks.reduce((s, [, d]) => s + 12 + d.length, 0);
  const out = new Uint8Array(total);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  const odv = new DataView(out.buffer);
  let o = 8;
  for (const [type, data] of chunks) {
    odv.setUint32(o, data.length);
    for (let i = 0; i < 4; i++) out[o + 4 + i] = type.charCodeAt(i);
    out.set(data, o + 8);
    odv.setUint32(o + 8 + data.length, crc32Of(out, o + 4, o + 8 + data.length));
    o += 12 + data.length;
  }
  return out;
}

export interface SpectrogramImageOptions {
  /** Value mapped to the first colour (default: the minimum of `data`). */
  vmin?: number;
  /** Value mapped to the last colour (default: the maximum of `data`). */
  vmax?: number;
  /** Integer magnification: each cell becomes scale × scale pixels (default 1). */
  scale?: number;
  /** Colour table, 256 × RGB bytes (default VIRIDIS). */
  colormap?: Uint8Array;
  deflate?: Deflate;
}

/**
 * A spectrogram as an RGB image: `data` is nFrames × nBins row-major (frames = time); the image
 * is nFrames·scale wide and nBins·scale tall, bin 0 in the bottom row, values clipped to
 * [vmin, vmax] and mapped linearly onto the colormap.
 */
export function spectrogramPixels(data: Float32Array, nFrames: number, nBins: number, options: SpectrogramImageOptions = {}): { pixels: Uint8Array; width: number; height: number } {
  checkInt(nFrames, 'renderSpectrogram: nFrames', 1);
  checkInt(nBins, 'renderSpectrogram: nBins', 1);
  checkArray(data, Float32Array, 'renderSpectrogram: data', nFrames * nBins);
  const scale = checkInt(options.scale ?? 1, 'renderSpectrogram: scale', 1, 64);
  const cmap = options.colormap ?? VIRIDIS;
  checkArray(cmap, Uint8Array, 'renderSpectrogram: colormap', 256 * 3);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new EarshotError('NOT_FINITE', `renderSpectrogram: data[${i}] is ${v}`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const vmin = options.vmin === undefined ? lo : checkNumber(options.vmin, 'renderSpectrogram: vmin');
  const vmax = options.vmax === undefined ? hi : checkNumber(options.vmax, 'renderSpectrogram: vmax');
  if (options.vmin !== undefined && options.vmax !== undefined && !(vmin < vmax)) {
    throw new EarshotError('BAD_ARGUMENT', `renderSpectrogram: vmin (${vmin}) must be < vmax (${vmax})`);
  }
  const span = vmax > vmin ? vmax - vmin : 1;
  const width = nFrames * scale;
  const height = nBins * scale;
  const pixels = new Uint8Array(width * height * 3);
  for (let k = 0; k < nBins; k++) {
    const y0 = (nBins - 1 - k) * scale; // low bins at the bottom
    const row = y0 * width * 3;
    for (let t = 0; t < nFrames; t++) {
      const v = (data[t * nBins + k]! - vmin) / span;
      const idx = v <= 0 ? 0 : v >= 1 ? 255 : Math.min(255, Math.floor(v * 256));
      const r = cmap[3 * idx]!;
      const g = cmap[3 * idx + 1]!;
      const b = cmap[3 * idx + 2]!;
      for (let dx = 0; dx < scale; dx++) {
        const p = row + (t * scale + dx) * 3;
        pixels[p] = r;
        pixels[p + 1] = g;
        pixels[p + 2] = b;
      }
    }
    for (let dy = 1; dy < scale; dy++) pixels.copyWithin((y0 + dy) * width * 3, row, row + width * 3);
  }
  return { pixels, width, height };
}

/** renderSpectrogram → PNG bytes (see spectrogramPixels for the layout). */
export function renderSpectrogram(data: Float32Array, nFrames: number, nBins: number, options: SpectrogramImageOptions = {}): Uint8Array {
  const { pixels, width, height } = spectrogramPixels(data, nFrames, nBins, options);
  return encodePng(pixels, width, height, { channels: 3, deflate: options.deflate });
}
