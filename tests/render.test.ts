// PNG encoder and spectrogram rendering (src/render/png.ts, colormap.ts), decoded with an
// independent reader: chunk layout per the PNG spec, CRCs by node:zlib's crc32, IDAT inflated by
// node:zlib's inflateSync.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { encodePng, renderSpectrogram, zlibStored } from '../src/render/png.ts';
import { nodeDeflate } from '../src/render/png-node.ts';
import { VIRIDIS, GRAY } from '../src/render/colormap.ts';
import { throwsCode } from './helpers.ts';

interface Decoded {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  types: string[];
  pixels: Uint8Array;
}

function decodePng(png: Uint8Array): Decoded {
  assert.equal([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'signature');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  const types: string[] = [];
  const idat: Uint8Array[] = [];
  let ihdr: Uint8Array | null = null;
  while (o < png.length) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    const crc = dv.getUint32(o + 8 + len);
    assert.is(crc, (zlib as any).crc32(png.subarray(o + 4, o + 8 + len)), `CRC of ${type}`);
    types.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  assert.is(o, png.length);
  const h = new DataView(ihdr!.buffer, ihdr!.byteOffset, 13);
  const width = h.getUint32(0);
  const height = h.getUint32(4);
  const ch = ihdr![9] === 2 ? 3 : 4;
  const raw = new Uint8Array(zlib.inflateSync(Buffer.concat(idat)));
  assert.is(raw.length, height * (width * ch + 1));
  const pixels = new Uint8Array(width * height * ch);
  for (let y = 0; y < height; y++) {
    assert.is(raw[y * (width * ch + 1)], 0, 'filter type None');
    pixels.set(raw.subarray(y * (width * ch + 1) + 1, (y + 1) * (width * ch + 1)), y * width * ch);
  }
  return { width, height, bitDepth: ihdr![8]!, colourType: ihdr![9]!, types, pixels };
}

test('a 3 × 2 RGB image round-trips through an independent decoder (stored and zlib-compressed)', () => {
  const px = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  for (const deflate of [undefined, nodeDeflate]) {
    const d = decodePng(encodePng(px, 3, 2, { deflate }));
    assert.equal(d.types, ['IHDR', 'IDAT', 'IEND']);
    assert.equal([d.width, d.height, d.bitDepth, d.colourType], [3, 2, 8, 2]);
    assert.equal([...d.pixels], [...px]);
  }
});

test('RGBA colour type 6; stored deflate splits blocks over 64 KiB and keeps a valid Adler-32', () => {
  const px = new Uint8Array(2 * 2 * 4).map((_, i) => i * 13);
  const d = decodePng(encodePng(px, 2, 2, { channels: 4 }));
  assert.is(d.colourType, 6);
  assert.equal([...d.pixels], [...px]);
  const big = new Uint8Array(200_000).map((_, i) => (i * 7919) & 0xff);
  assert.equal(new Uint8Array(zlib.inflateSync(zlibStored(big))), big);
  const wide = new Uint8Array(300 * 100 * 3).map((_, i) => i % 251);
  assert.equal([...decodePng(encodePng(wide, 300, 100)).pixels], [...wide]);
});

test('renderSpectrogram: time on x, bin 0 at the bottom, vmin/vmax clip, scale magnifies', () => {
  // 3 frames × 2 bins: data[t*2 + k]
  const data = new Float32Array([0, 1, 0.5, 1, 1, 0]);
  const d = decodePng(renderSpectrogram(data, 3, 2, { colormap: GRAY, vmin: 0, vmax: 1 }));
  assert.equal([d.width, d.height], [3, 2]);
  const px = (x: number, y: number) => d.pixels[(y * d.width + x) * 3]!;
  // bottom row (y = 1) = bin 0 over time: 0, 0.5, 1 → 0, 128, 255
  assert.equal([px(0, 1), px(1, 1), px(2, 1)], [0, 128, 255]);
  // top row (y = 0) = bin 1: 1, 1, 0
  assert.equal([px(0, 0), px(1, 0), px(2, 0)], [255, 255, 0]);
  const s = decodePng(renderSpectrogram(data, 3, 2, { colormap: GRAY, vmin: 0.25, vmax: 0.75, scale: 2 }));
  assert.equal([s.width, s.height], [6, 4]);
  const sp = (x: number, y: number) => s.pixels[(y * s.width + x) * 3]!;
  assert.equal([sp(0, 3), sp(1, 2), sp(2, 3), sp(5, 2), sp(5, 0)], [0, 0, 128, 255, 0]);
  // default: viridis, min → first colour, max → last
  const v = decodePng(renderSpectrogram(data, 3, 2));
  assert.equal([...v.pixels.subarray(0, 3)], [...VIRIDIS.subarray(765, 768)]); // top-left = bin 1 frame 0 = 1 (max)
  assert.equal([...v.pixels.subarray(9, 12)], [...VIRIDIS.subarray(0, 3)]); // bottom-left = bin 0 frame 0 = 0 (min)
});

test('viridis table: dark blue to yellow, lightness increases', () => {
  const at = (i: number) => [...VIRIDIS.subarray(3 * i, 3 * i + 3)];
  // matplotlib's viridis endpoints are (68, 1, 84) and (253, 231, 37)
  at(0).forEach((c, j) => assert.ok(Math.abs(c - [68, 1, 84][j]!) <= 4));
  at(255).forEach((c, j) => assert.ok(Math.abs(c - [253, 231, 37][j]!) <= 4));
  const lum = (i: number) => 0.2126 * at(i)[0]! + 0.7152 * at(i)[1]! + 0.0722 * at(i)[2]!;
  for (let i = 8; i < 256; i += 8) assert.ok(lum(i) > lum(i - 8), `lightness at ${i}`);
});

test('bad inputs: encodePng, renderSpectrogram', () => {
  throwsCode(() => encodePng(new Uint8Array(5), 1, 2), 'BAD_SHAPE', /6 elements, got 5/);
  throwsCode(() => encodePng(new Uint8Array(6), 0, 2), 'BAD_ARGUMENT', /width/);
  throwsCode(() => encodePng(new Uint8Array(6), 1, 2, { channels: 2 as any }), 'BAD_ARGUMENT', /channels/);
  throwsCode(() => encodePng([1, 2, 3] as any, 1, 1), 'BAD_ARGUMENT', /pixels must be a Uint8Array/);
  throwsCode(() => renderSpectrogram(new Float32Array(5), 3, 2), 'BAD_SHAPE', /6 elements/);
  throwsCode(() => renderSpectrogram(new Float32Array([0, NaN]), 1, 2), 'NOT_FINITE', /data\[1\]/);
  throwsCode(() => renderSpectrogram(new Float32Array(2), 1, 2, { vmin: 1, vmax: 0 }), 'BAD_ARGUMENT', /vmin/);
  throwsCode(() => renderSpectrogram(new Float32Array(2), 1, 2, { scale: 0 }), 'BAD_ARGUMENT', /scale/);
  throwsCode(() => renderSpectrogram(new Float32Array(2), 1, 2, { colormap: new Uint8Array(3) }), 'BAD_SHAPE', /colormap/);
  // a constant image does not divide by zero
  const d = decodePng(renderSpectrogram(new Float32Array(4).fill(3), 2, 2));
  assert.is(d.pixels.length, 12);
});

test.run();
