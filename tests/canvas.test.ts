// The raster canvas of the result charts (src/render/canvas.ts) against its stated conventions:
// which pixels each primitive covers (counted pixel by pixel), the text width formula against
// the ink actually drawn, clipping, size validation, and PNG bytes decoded independently
// (chunks per the PNG spec, IDAT inflated by node:zlib).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { Canvas, type RGB } from '../src/render/canvas.ts';
import { nodeDeflate } from '../src/render/png-node.ts';
import { throwsCode } from './helpers.ts';

const RED: RGB = [255, 0, 0];
const BLUE: RGB = [0, 0, 255];

/** The set of painted (non-white) pixels as "x,y" strings. */
function ink(cv: Canvas, colour?: RGB): Set<string> {
  const s = new Set<string>();
  for (let y = 0; y < cv.height; y++) {
    for (let x = 0; x < cv.width; x++) {
      const p = (y * cv.width + x) * 3;
      const [r, g, b] = [cv.px[p]!, cv.px[p + 1]!, cv.px[p + 2]!];
      if (colour ? r === colour[0] && g === colour[1] && b === colour[2] : r !== 255 || g !== 255 || b !== 255) s.add(`${x},${y}`);
    }
  }
  return s;
}

/** Every pixel of [x0, x1) × [y0, y1). */
function box(x0: number, y0: number, x1: number, y1: number): Set<string> {
  const s = new Set<string>();
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s.add(`${x},${y}`);
  return s;
}

function bbox(pixels: Set<string>): { x0: number; y0: number; x1: number; y1: number } {
  const pts = [...pixels].map((k) => k.split(',').map(Number) as [number, number]);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs) + 1, y1: Math.max(...ys) + 1 };
}

test('a new canvas is white, RGB, width × height', () => {
  const cv = new Canvas(7, 3);
  assert.is(cv.px.length, 7 * 3 * 3);
  assert.ok(cv.px.every((v) => v === 255));
});

test('fill covers exactly the half-open rounded box, corners in any order', () => {
  const cv = new Canvas(10, 8);
  cv.fill(5.5, 0.2, 1.4, 2.6, RED); // x: [round 1.4, round 5.5) = [1, 6); y: [0, 3)
  assert.equal(ink(cv), box(1, 0, 6, 3));
  const cv2 = new Canvas(10, 8);
  cv2.fill(2, 2, 2.4, 6, RED); // rounds to an empty width
  assert.is(ink(cv2).size, 0);
});

test('abutting fills share no pixel and leave no gap', () => {
  const cv = new Canvas(12, 4);
  cv.fill(0, 0, 3.5, 4, RED);
  cv.fill(3.5, 0, 7.49, 4, BLUE);
  assert.equal(ink(cv, RED), box(0, 0, 4, 4));
  assert.equal(ink(cv, BLUE), box(4, 0, 7, 4));
});

test('fillClosed paints both rounded corners; set paints the rounded point', () => {
  const cv = new Canvas(10, 8);
  cv.fillClosed(3.2, 5.6, 1, 2, RED);
  assert.equal(ink(cv), box(1, 2, 4, 7));
  const cv2 = new Canvas(4, 4);
  cv2.set(1.4, 2.6, RED);
  assert.equal(ink(cv2), new Set(['1,3']));
});

test('a horizontal line of width w covers w rows (brush offset −floor((w−1)/2)) and |Δx|+w columns', () => {
  for (const [w, rows] of [[1, [5, 6]], [2, [5, 7]], [3, [4, 7]], [4, [4, 8]]] as const) {
    const cv = new Canvas(20, 12);
    cv.line(2, 5, 12, 5, RED, w);
    const r = Math.floor((w - 1) / 2);
    assert.equal(ink(cv), box(2 - r, rows[0], 12 - r + w, rows[1]), `width ${w}`);
  }
});

test('a diagonal line samples one pixel per step; outline draws the box border', () => {
  const cv = new Canvas(12, 12);
  cv.line(0, 0, 9, 9, RED);
  assert.equal(ink(cv), new Set(Array.from({ length: 10 }, (_, i) => `${i},${i}`)));
  const cv2 = new Canvas(12, 12);
  cv2.outline(2, 3, 8, 7, RED);
  const border = new Set([...box(2, 3, 9, 8)].filter((k) => !box(3, 4, 8, 7).has(k)));
  assert.equal(ink(cv2), border);
});

test('dashed: `dash` samples on, `dash` off, starting on', () => {
  const cv = new Canvas(24, 3);
  cv.dashed(0, 1, 19, 1, RED, 4);
  const want = new Set<string>();
  for (const x0 of [0, 8, 16]) for (let x = x0; x < x0 + 4; x++) want.add(`${x},1`);
  assert.equal(ink(cv), want);
});

test('markers: a (2s+1)² square, a disc of radius² s²+1, a triangle with apex on top', () => {
  const sq = new Canvas(15, 15);
  sq.marker(7, 7, RED, 'square', 2);
  assert.equal(ink(sq), box(5, 5, 10, 10));
  const ci = new Canvas(15, 15);
  ci.marker(7, 7, RED, 'circle', 3);
  // radius² = 10 within the 7 × 7 square: all but the 4 corners and their 8 neighbours on the edge
  assert.is(ink(ci).size, 49 - 4 - 8);
  assert.ok(ink(ci).has('4,7') && ink(ci).has('7,4') && !ink(ci).has('4,4') && !ink(ci).has('5,4'));
  const tr = new Canvas(15, 15);
  tr.marker(7, 7, RED, 'triangle', 3);
  const t = ink(tr);
  const row = (y: number) => [...t].filter((k) => k.endsWith(`,${y}`)).length;
  assert.equal([4, 5, 6, 7, 8, 9, 10].map(row), [1, 1, 3, 3, 5, 5, 7]);
});

test('text: the ink spans exactly textWidth × 5·scale; align moves the anchor', () => {
  for (const scale of [1, 2, 3]) {
    const s = 'H0W8'; // glyphs with ink in all three columns and all five rows
    const w = Canvas.textWidth(s, scale);
    assert.is(w, 4 * scale * s.length - scale);
    const cv = new Canvas(80, 30);
    cv.text(5, 4, s, { colour: RED, scale });
    assert.equal(bbox(ink(cv)), { x0: 5, y0: 4, x1: 5 + w, y1: 4 + 5 * scale }, `scale ${scale}`);
    const right = new Canvas(80, 30);
    right.text(70, 4, s, { scale, align: 'right' });
    assert.equal(bbox(ink(right)).x1, 70);
    const centre = new Canvas(80, 30);
    centre.text(40, 4, s, { scale, align: 'center' });
    const b = bbox(ink(centre));
    assert.is(b.x0, Math.round(40 - w / 2));
  }
  assert.is(Canvas.textWidth(''), 0);
});

test('text: glyph pixels follow the 3 × 5 font; case mapping can change the length', () => {
  const cv = new Canvas(10, 10);
  cv.text(0, 0, 'T', { scale: 1 }); // T = 111 / 010 / 010 / 010 / 010
  assert.equal(ink(cv), new Set(['0,0', '1,0', '2,0', '1,1', '1,2', '1,3', '1,4']));
  const up = new Canvas(40, 10);
  up.text(0, 0, 'ß', { scale: 1, case: 'upper' }); // 'SS': two glyphs
  assert.is(bbox(ink(up)).x1, Canvas.textWidth('SS', 1));
  const keep = new Canvas(40, 10);
  keep.text(0, 0, 'ß', { scale: 1 }); // not in the font: a blank
  assert.is(ink(keep).size, 0);
});

test('textUp: rotated 90° counter-clockwise, the first glyph at the bottom, centred on y', () => {
  const cv = new Canvas(30, 60);
  const s = 'HT';
  cv.textUp(4, 30, s, { scale: 2, align: 'center' });
  const w = Canvas.textWidth(s, 2);
  const b = bbox(ink(cv));
  assert.equal(b, { x0: 4, y0: Math.round(30 + w / 2) - w + 1, x1: 4 + 10, y1: Math.round(30 + w / 2) + 1 });
  // the T's bar (its top row) becomes its leftmost column, read upwards from (0, 9)
  const one = new Canvas(10, 10);
  one.textUp(0, 9, 'T', { scale: 1 });
  assert.equal(ink(one), new Set(['0,9', '0,8', '0,7', '1,8', '2,8', '3,8', '4,8']));
});

test('out-of-canvas drawing is clipped, never an error; NaN draws nothing', () => {
  const cv = new Canvas(16, 9);
  cv.fill(-1e9, -5, 1e9, 1e12, RED);
  assert.is(ink(cv, RED).size, 16 * 9);
  const cv2 = new Canvas(16, 9);
  cv2.line(-1e12, 3, 1e12, 3, RED, 3); // 2e12 steps if it were not clipped
  assert.equal(ink(cv2), box(0, 2, 16, 5));
  cv2.dashed(0, -1e13, 0, 1e13, BLUE);
  cv2.marker(-1, -1, RED, 'square', 2);
  cv2.text(-7, 7, 'ABC', { scale: 3 });
  cv2.textUp(14, -3, 'XYZ', { scale: 2 });
  cv2.set(16, 0, RED);
  cv2.fillClosed(20, 20, 30, 30, RED);
  const cv3 = new Canvas(5, 5);
  cv3.fill(NaN, 0, 3, 3, RED);
  cv3.fillClosed(0, NaN, 3, 3, RED);
  cv3.line(NaN, 0, 3, 3, RED);
  cv3.line(0, 0, Infinity, 3, RED);
  cv3.set(NaN, 1, RED);
  assert.is(ink(cv3).size, 0);
});

test('bad sizes and options throw an EarshotError naming the argument', () => {
  for (const bad of [0, -3, NaN, 2.5, Infinity, '10' as unknown as number]) {
    throwsCode(() => new Canvas(bad, 10), 'BAD_ARGUMENT', /Canvas: width/);
    throwsCode(() => new Canvas(10, bad), 'BAD_ARGUMENT', /Canvas: height/);
  }
  throwsCode(() => new Canvas(1 << 14, 1 << 14), 'BAD_ARGUMENT', /width × height/);
  const cv = new Canvas(4, 4);
  throwsCode(() => cv.line(0, 0, 1, 1, RED, 0), 'BAD_ARGUMENT', /line: width/);
  throwsCode(() => cv.dashed(0, 0, 1, 1, RED, 1.5), 'BAD_ARGUMENT', /dashed: dash/);
  throwsCode(() => cv.marker(0, 0, RED, 'star' as 'circle'), 'BAD_ARGUMENT', /marker: kind.*star/);
  throwsCode(() => cv.text(0, 0, 'A', { scale: 0 }), 'BAD_ARGUMENT', /text: scale/);
});

/** Width, height and RGB pixels of an 8-bit RGB, filter-0 PNG (what encodePng writes). */
function decodePng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  assert.equal([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  while (o < png.length) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    assert.is(dv.getUint32(o + 8 + len), zlib.crc32(png.subarray(o + 4, o + 8 + len)), `${type} CRC`);
    if (type === 'IHDR') {
      width = dv.getUint32(o + 8);
      height = dv.getUint32(o + 12);
      assert.equal([...data.subarray(8)], [8, 2, 0, 0, 0], 'RGB, 8 bits, no interlace');
    }
    if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  assert.is(raw.length, height * (width * 3 + 1));
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    assert.is(raw[y * (width * 3 + 1)], 0, 'filter type 0');
    pixels.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  }
  return { width, height, pixels };
}

test('png() decodes to the canvas pixels, stored or deflated', () => {
  const cv = new Canvas(23, 11);
  cv.fill(2, 2, 9, 7, RED);
  cv.line(0, 10, 22, 0, BLUE, 2);
  cv.text(1, 1, 'OK 42%', { colour: [10, 200, 30], scale: 1 });
  for (const png of [cv.png(), cv.png(nodeDeflate)]) {
    const d = decodePng(png);
    assert.is(d.width, 23);
    assert.is(d.height, 11);
    assert.equal(d.pixels, cv.px);
  }
});

test.run();
