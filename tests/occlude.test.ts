// Batched occlusion (bindings/lime.ts → assembly/occlude.ts) against its definition
// (methods.md §3: for each sample and bin, bits[label] ? x : R; bins labelled −1 keep x) and
// the segmentation conventions of methods.md §4.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gridLabels, labelRuns, occlude, prepareOcclusion, rectsToLabels, type Rect } from '../bindings/lime.ts';
import { core } from '../bindings/wasm.ts';
import { throwsCode } from './helpers.ts';

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T = 115;
const F = 80;
const SIZE = T * F;

function randomExcerpt(r: () => number, size = SIZE): Float32Array {
  return Float32Array.from({ length: size }, () => r() * 8 - 4);
}
function randomBits(r: () => number, n: number, d: number): Uint8Array {
  return Uint8Array.from({ length: n * d }, () => (r() < 0.5 ? 1 : 0));
}

/** The definition itself, bin by bin. */
function oracle(x: Float32Array, labels: Int32Array, content: number | Float32Array, bits: Uint8Array, n: number, d: number): Float32Array {
  const size = x.length;
  const out = new Float32Array(n * size);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < size; i++) {
      const l = labels[i]!;
      const keep = l < 0 || bits[s * d + l] === 1;
      out[s * size + i] = keep ? x[i]! : typeof content === 'number' ? content : content[i]!;
    }
  }
  return out;
}

function sameArray(a: Float32Array, b: Float32Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.unreachable(`${what}: element ${i} is ${a[i]}, expected ${b[i]}`);
  }
}

function componentSizes(labels: Int32Array, d: number): number[] {
  const sizes = new Array<number>(d).fill(0);
  for (const l of labels) if (l >= 0) sizes[l]!++;
  return sizes;
}

test('gridLabels: temporal d = 10 on 115 frames is 11×9 + 16 frames (the remainder goes to the last component)', () => {
  const labels = gridLabels(T, F, { time: 10 });
  assert.equal(componentSizes(labels, 10), [...new Array(9).fill(11 * F), 16 * F]);
  for (let t = 0; t < T; t++) assert.is(labels[t * F + 37], Math.min(Math.floor(t / 11), 9), `frame ${t}`);
});

test('gridLabels: spectral d = 10 on 80 bands is 8 bands each', () => {
  const labels = gridLabels(T, F, { freq: 10 });
  assert.equal(componentSizes(labels, 10), new Array(10).fill(8 * T));
  for (let f = 0; f < F; f++) assert.is(labels[50 * F + f], Math.floor(f / 8), `band ${f}`);
});

test('gridLabels: 5×4 is 23 frames × 20 bands, 6×4 is 19,19,19,19,19,20 frames × 20 bands; index = 4·t + f', () => {
  const l54 = gridLabels(T, F, { time: 5, freq: 4 });
  assert.equal(componentSizes(l54, 20), new Array(20).fill(23 * 20));
  assert.is(l54[(2 * 23 + 5) * F + 3 * 20 + 7], 4 * 2 + 3);
  const l64 = gridLabels(T, F, { time: 6, freq: 4 });
  const frames = [19, 19, 19, 19, 19, 20];
  assert.equal(componentSizes(l64, 24), frames.flatMap((fr) => [fr * 20, fr * 20, fr * 20, fr * 20]));
  assert.is(l64[114 * F + 79], 23);
  assert.is(l64[95 * F + 0], 4 * 5 + 0);
  assert.is(l64[94 * F + 20], 4 * 4 + 1);
});

test('labelRuns: a temporal component is one run, a spectral one a short run per frame', () => {
  assert.is(labelRuns(gridLabels(T, F, { time: 10 })).start.length, 10);
  assert.is(labelRuns(gridLabels(T, F, { freq: 10 })).start.length, 10 * T);
  const runs = labelRuns(new Int32Array([-1, -1, 0, 0, 1, -1, 1, 1]));
  assert.equal(Array.from(runs.start), [0, 2, 4, 5, 6]);
  assert.equal(Array.from(runs.comp), [-1, 0, 1, -1, 1]);
});

const segmentations: Array<[string, { time?: number; freq?: number }, number]> = [
  ['temporal d=10', { time: 10 }, 10],
  ['spectral d=10', { freq: 10 }, 10],
  ['time-frequency 5×4', { time: 5, freq: 4 }, 20],
  ['time-frequency 6×4', { time: 6, freq: 4 }, 24],
];

test('matches the definition on random excerpts, for every SLIME segmentation, scalar and array content', () => {
  const r = rng(7);
  for (const [name, grid, d] of segmentations) {
    const labels = gridLabels(T, F, grid);
    const x = randomExcerpt(r);
    const noise = randomExcerpt(r);
    const n = 19;
    const bits = randomBits(r, n, d);
    for (const content of [0, -1.25, noise]) {
      const got = occlude(x, [T, F], { labels, d }, content, bits, n);
      sameArray(got, oracle(x, labels, content, bits, n, d), `${name}, content ${typeof content === 'number' ? content : 'array'}`);
    }
  }
});

test('matches the definition for irregular label maps (scattered labels, −1 bins, odd sizes, spans of every length)', () => {
  const r = rng(11);
  for (const [t, f, d] of [
    [7, 13, 5],
    [1, 1, 1],
    [3, 129, 4],
    [40, 33, 9],
  ] as const) {
    const size = t * f;
    const labels = new Int32Array(size);
    // piecewise-constant stretches of random length (1 … 150 bins) so spans hit every copy path
    for (let i = 0; i < size; ) {
      const len = 1 + Math.floor(r() * (r() < 0.5 ? 6 : 150));
      const l = Math.floor(r() * (d + 1)) - 1;
      for (let k = 0; k < len && i < size; k++, i++) labels[i] = l;
    }
    const x = randomExcerpt(r, size);
    const content = randomExcerpt(r, size);
    const n = 23;
    const bits = randomBits(r, n, d);
    for (const c of [content, 3.5]) {
      sameArray(occlude(x, [t, f], { labels, d }, c, bits, n), oracle(x, labels, c, bits, n, d), `${t}×${f}, d=${d}`);
    }
  }
});

test('rectangles: converted to the same label map; bins outside every rectangle are never occluded', () => {
  const rects: Rect[] = [
    [0, 10, 0, 40],
    [0, 10, 40, 80],
    [30, 60, 10, 20],
    [100, 115, 0, 80],
  ];
  const labels = rectsToLabels(T, F, rects);
  assert.equal(componentSizes(labels, 4), [400, 400, 300, 15 * 80]);
  assert.is(labels[50 * F + 50], -1);
  const r = rng(3);
  const x = randomExcerpt(r);
  const bits = randomBits(r, 8, 4);
  sameArray(occlude(x, [T, F], { rects }, -2, bits, 8), oracle(x, labels, -2, bits, 8, 4), 'rects');
  sameArray(occlude(x, [T, F], { rects, d: 4 }, -2, bits, 8), oracle(x, labels, -2, bits, 8, 4), 'rects with d');
});

test('a row of ones gives x exactly; a row of zeros gives R on every labelled bin and x elsewhere', () => {
  const r = rng(5);
  const x = randomExcerpt(r);
  const R = randomExcerpt(r);
  const labels = gridLabels(T, F, { time: 5, freq: 4 });
  labels.fill(-1, 3 * F, 5 * F); // frames 3–4 belong to no component
  const bits = new Uint8Array(2 * 20);
  bits.fill(1, 0, 20);
  const out = occlude(x, [T, F], { labels, d: 20 }, R, bits, 2);
  sameArray(out.subarray(0, SIZE), x, 'all ones');
  const zeros = out.subarray(SIZE);
  for (let i = 0; i < SIZE; i++) assert.is(zeros[i], labels[i]! < 0 ? x[i] : R[i], `bin ${i}`);
});

test('prepared form: many batches on one excerpt, into a Float32Array, into an arena Block, then dispose', () => {
  const arena = core().arena;
  const before = arena.liveBytes;
  const r = rng(9);
  const x = randomExcerpt(r);
  const labels = gridLabels(T, F, { freq: 10 });
  const p = prepareOcclusion(x, [T, F], { labels, d: 10 }, 0.5);
  assert.is(p.d, 10);
  assert.is(p.nRuns, 10 * T);
  for (const n of [3, 40, 1]) {
    const bits = randomBits(r, n, 10);
    const out = new Float32Array(n * SIZE).fill(NaN);
    const res = p.run(bits, n, out);
    assert.ok(res === out, 'writes into the given array');
    sameArray(out, oracle(x, labels, 0.5, bits, n, 10), `batch of ${n}`);
  }
  const block = arena.allocF32(4 * SIZE);
  block.f32().fill(NaN);
  const bits = randomBits(r, 4, 10);
  const view = p.run(bits, 4, block);
  assert.is(view.byteOffset, block.ptr);
  sameArray(block.f32(), oracle(x, labels, 0.5, bits, 4, 10), 'into a block');
  block.free();
  const bits5 = randomBits(r, 5, 10);
  const v = p.runView(bits5, 5);
  assert.is(v.buffer, core().memory.buffer, 'a view of the arena');
  sameArray(v, oracle(x, labels, 0.5, bits5, 5, 10), 'runView');
  p.dispose();
  p.dispose(); // idempotent
  assert.is(arena.liveBytes, before, 'dispose frees every block');
  throwsCode(() => p.run(bits, 4), 'DISPOSED');
});

test('inputs that are views of the core memory (arena blocks) are read before any allocation', () => {
  const arena = core().arena;
  const r = rng(21);
  const labels = gridLabels(T, F, { time: 5, freq: 4 });
  const x = randomExcerpt(r);
  const R = randomExcerpt(r);
  const bits = randomBits(r, 6, 20);
  const want = oracle(x, labels, R, bits, 6, 20);
  const xB = arena.copyIn(x);
  const rB = arena.copyIn(R);
  const bB = arena.copyIn(bits);
  try {
    sameArray(occlude(xB.f32(SIZE), [T, F], { labels, d: 20 }, rB.f32(SIZE), bB.u8(6 * 20), 6), want, 'arena views');
    const outB = arena.allocF32(6 * SIZE);
    throwsCode(() => occlude(x, [T, F], { labels, d: 20 }, R, bits, 6, outB.f32()), 'BAD_ARGUMENT', /view of the earshot core's memory.*pass the arena Block itself/);
    outB.free();
  } finally {
    xB.free();
    rB.free();
    bB.free();
  }
});

test('bad input: shapes, bits, labels, rectangles, content, out, sizes', () => {
  const arena = core().arena;
  const before = arena.liveBytes;
  const x = new Float32Array(6 * 4);
  const labels = gridLabels(6, 4, { time: 3 });
  const c = { labels, d: 3 };
  const bits = new Uint8Array(2 * 3).fill(1);
  const sh: [number, number] = [6, 4];
  throwsCode(() => occlude(x, [6] as unknown as [number, number], c, 0, bits, 2), 'BAD_SHAPE', /shape must be \[T, F\]/);
  throwsCode(() => occlude(x, [0, 4], c, 0, bits, 2), 'BAD_ARGUMENT', /shape\[0\] \(T, frames\)/);
  throwsCode(() => occlude(x, [6, 4.5], c, 0, bits, 2), 'BAD_ARGUMENT', /shape\[1\] \(F, bands\)/);
  throwsCode(() => occlude(new Float32Array(23), sh, c, 0, bits, 2), 'BAD_SHAPE', /x \(T·F = 6·4\) must have 24 elements, got 23/);
  throwsCode(() => occlude(new Float64Array(24) as unknown as Float32Array, sh, c, 0, bits, 2), 'BAD_ARGUMENT', /x .* must be a Float32Array, got Float64Array/);
  throwsCode(() => occlude(x.map((v, i) => (i === 5 ? NaN : v)), sh, c, 0, bits, 2), 'NOT_FINITE', /x\[5\] is NaN/);
  throwsCode(() => occlude(x, sh, c, NaN, bits, 2), 'BAD_ARGUMENT', /content \(replacement value R\) must be a finite number/);
  throwsCode(() => occlude(x, sh, c, new Float32Array(5), bits, 2), 'BAD_SHAPE', /content \(T·F = 6·4\) must have 24 elements, got 5/);
  throwsCode(() => occlude(x, sh, c, new Float32Array(24).fill(Infinity), bits, 2), 'NOT_FINITE', /content\[0\] is Infinity/);
  throwsCode(() => occlude(x, sh, c, 'mean_inp' as unknown as number, bits, 2), 'BAD_ARGUMENT', /content must be a finite number or a Float32Array/);
  throwsCode(() => occlude(x, sh, c, 0, new Uint8Array(5), 2), 'BAD_SHAPE', /bits \(n·d = 2·3\) must have 6 elements, got 5/);
  throwsCode(() => occlude(x, sh, c, 0, Uint8Array.from([1, 0, 2, 1, 1, 1]), 2), 'BAD_ARGUMENT', /bits\[2\] \(row 0, component 2\) is 2; bits must be 0 or 1/);
  throwsCode(() => occlude(x, sh, c, 0, [1, 0, 1, 1, 1, 1] as unknown as Uint8Array, 2), 'BAD_ARGUMENT', /bits .* must be a Uint8Array/);
  throwsCode(() => occlude(x, sh, c, 0, bits, 0), 'BAD_ARGUMENT', /n \(number of bit rows\) must be an integer/);
  throwsCode(() => occlude(x, sh, c, 0, bits, -2), 'BAD_ARGUMENT', /n \(number of bit rows\)/);
  throwsCode(() => occlude(x, sh, c, 0, bits, 2, new Float32Array(47)), 'BAD_SHAPE', /out \(n·T·F = 2·6·4\) must have 48 elements, got 47/);
  const small = arena.allocF32(10);
  throwsCode(() => occlude(x, sh, c, 0, bits, 2, small), 'BAD_SHAPE', /out block must hold n·T·F = 48 floats/);
  small.free();
  throwsCode(() => occlude(x, sh, { labels, d: 2 }, 0, bits, 2), 'BAD_ARGUMENT', /components.labels\[16\] \(frame 4, band 0\) is 2; labels must be in \[-1, 2\)/);
  throwsCode(() => occlude(x, sh, { labels: new Int32Array(24).fill(-2), d: 3 }, 0, bits, 2), 'BAD_ARGUMENT', /is -2; labels must be in/);
  throwsCode(() => occlude(x, sh, { labels: new Int32Array(20), d: 3 }, 0, bits, 2), 'BAD_SHAPE', /components.labels must have 24 elements, got 20/);
  throwsCode(() => occlude(x, sh, { labels, d: 0 }, 0, bits, 2), 'BAD_ARGUMENT', /components.d \(number of components\)/);
  throwsCode(() => occlude(x, sh, { labels } as unknown as { labels: Int32Array; d: number }, 0, bits, 2), 'BAD_ARGUMENT', /components.d/);
  throwsCode(() => occlude(x, sh, { labels, d: 3, rects: [] } as unknown as { labels: Int32Array; d: number }, 0, bits, 2), 'BAD_ARGUMENT', /either labels or rects, not both/);
  throwsCode(() => occlude(x, sh, { labels, d: 3, grid: 1 } as unknown as { labels: Int32Array; d: number }, 0, bits, 2), 'BAD_ARGUMENT', /unknown option 'grid'/);
  throwsCode(() => occlude(x, sh, null as unknown as { labels: Int32Array; d: number }, 0, bits, 2), 'BAD_ARGUMENT', /components must be/);
  const r3: Rect[] = [
    [0, 2, 0, 4],
    [2, 4, 0, 4],
    [4, 6, 0, 4],
  ];
  throwsCode(() => occlude(x, sh, { rects: [[0, 2, 0, 4], [1, 3, 2, 3], [4, 6, 0, 4]] }, 0, bits, 2), 'BAD_ARGUMENT', /rects\[1\] overlaps components.rects\[0\] at frame 1, band 2/);
  throwsCode(() => occlude(x, sh, { rects: [[0, 2, 0, 4], [2, 7, 0, 4], [4, 6, 0, 4]] }, 0, bits, 2), 'BAD_ARGUMENT', /components.rects\[1\].t1 must be an integer in \[3, 6\], got 7/);
  throwsCode(() => occlude(x, sh, { rects: [[0, 2, 3, 3], ...r3.slice(1)] }, 0, bits, 2), 'BAD_ARGUMENT', /components.rects\[0\].f1/);
  throwsCode(() => occlude(x, sh, { rects: [[0, 2, 0], ...r3.slice(1)] as unknown as Rect[] }, 0, bits, 2), 'BAD_ARGUMENT', /rects\[0\] must be \[t0, t1, f0, f1\]/);
  throwsCode(() => occlude(x, sh, { rects: r3, d: 4 }, 0, bits, 2), 'BAD_SHAPE', /components.d \(4\) must equal the number of rectangles \(3\)/);
  throwsCode(() => occlude(x, sh, { rects: [] }, 0, bits, 2), 'BAD_ARGUMENT', /non-empty array/);
  throwsCode(() => gridLabels(6, 4, { time: 7 }), 'BAD_ARGUMENT', /grid.time \(number of time blocks\) must be an integer in \[1, 6\], got 7/);
  throwsCode(() => gridLabels(6, 4, { freq: 0 }), 'BAD_ARGUMENT', /grid.freq/);
  throwsCode(() => gridLabels(6, 4, { bands: 2 } as unknown as { freq: number }), 'BAD_ARGUMENT', /unknown option 'bands'/);
  throwsCode(() => gridLabels(-1, 4, { time: 1 }), 'BAD_ARGUMENT', /T \(frames\)/);
  throwsCode(() => rectsToLabels(6, 0, r3), 'BAD_ARGUMENT', /F \(bands\) must be an integer/);
  throwsCode(() => rectsToLabels(6, 4, 'all' as unknown as Rect[]), 'BAD_ARGUMENT', /components.rects must be a non-empty array/);
  throwsCode(() => labelRuns([0, 1] as unknown as Int32Array), 'BAD_ARGUMENT', /labels must be a Int32Array, got Array/);
  throwsCode(() => labelRuns(new Int32Array(0)), 'BAD_SHAPE', /labels must not be empty/);
  throwsCode(() => prepareOcclusion(x, sh, c, Symbol('R') as unknown as number), 'BAD_ARGUMENT', /content must be/);
  const p = prepareOcclusion(x, sh, c, 0);
  throwsCode(() => p.run(bits, 3), 'BAD_SHAPE', /bits \(n·d = 3·3\) must have 9 elements, got 6/);
  throwsCode(() => p.runView(bits, 0), 'BAD_ARGUMENT', /n \(number of bit rows\)/);
  throwsCode(() => p.run(bits, 2, {} as unknown as Float32Array), 'BAD_ARGUMENT', /out .* must be a Float32Array, got Object/);
  p.dispose();
  assert.is(arena.liveBytes, before, 'no arena block leaks on bad input');
});

test('a batch too large for the core is refused before any allocation', () => {
  const x = new Float32Array(SIZE);
  const labels = gridLabels(T, F, { time: 10 });
  const p = prepareOcclusion(x, [T, F], { labels, d: 10 }, 0);
  const n = 120_000; // 120 000 · 9 200 floats = 4.4 GB
  throwsCode(() => p.run(new Uint8Array(n * 10), n), 'OUT_OF_MEMORY', /do not fit the earshot core/);
  p.dispose();
});

test.run();
