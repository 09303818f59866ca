/**
 * Micro-benchmark of the two hot LIME kernels (bindings/lime.ts):
 *  1. batched occlusion of 1024 samples × 115 × 80 (temporal d=10, spectral d=10, 5×4 and 6×4
 *     time-frequency) against a plain copy of the same number of bytes (Float32Array.set of
 *     1024·115·80 floats), timed in turn rep by rep: ratio = copy time / occlusion time
 *     (target ≥ 0.5), into an arena block and into a JS Float32Array;
 *  2. weighted ridge, d = 24, N = 70 000 LIME rows (0/1, exponential-kernel weights) against
 *     building the same centred, weighted normal equations with ml-matrix and solving them with
 *     its Cholesky decomposition.
 * Medians of repeated runs after warm-up. Run: node --import tsx bench/occlude-micro.ts
 */
import { mlMatrixRidge } from './peers.ts';
import { gridLabels, prepareOcclusion, weightedRidge } from '../bindings/lime.ts';
import { core } from '../bindings/wasm.ts';

function median(name: string, fn: () => void, budgetMs = 1500, minReps = 7): number {
  for (let i = 0; i < 3; i++) fn();
  const t: number[] = [];
  const start = performance.now();
  while (t.length < minReps || (performance.now() - start < budgetMs && t.length < 200)) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const m = t[t.length >> 1]!;
  console.log(`  ${name.padEnd(52)} ${m.toFixed(2).padStart(8)} ms  (${t.length} runs)`);
  return m;
}

let seed = 2024;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);

// ── occlusion ──
const T = 115;
const F = 80;
const N = 1024;
const size = T * F;
const x = Float32Array.from({ length: size }, () => rnd() * 8 - 4);
const noise = Float32Array.from({ length: size }, () => rnd() * 2 - 1);
const arena = core().arena;

console.log(`occlusion: ${N} samples × ${T} × ${F} (${((N * size * 4) / 2 ** 20).toFixed(1)} MiB per batch)`);
console.log('  plain copy, occlusion into an arena block and into a JS Float32Array (staged) are timed');
console.log('  in turn, rep by rep, so each ratio compares the same moments of a shared machine');
const src = new Float32Array(N * size).map(() => rnd());
const dst = new Float32Array(N * size);
const outBlock = arena.allocF32(N * size);
const outJs = new Float32Array(N * size);
const med = (t: number[]) => [...t].sort((a, b) => a - b)[t.length >> 1]!;
const clock = (fn: () => unknown, into: number[]) => {
  const t0 = performance.now();
  fn();
  into.push(performance.now() - t0);
};

console.log(`\n  ${'segmentation, content'.padEnd(30)} runs  copy ms  arena ms  staged ms  ratio→arena  ratio→Float32Array`);
for (const [name, grid, d] of [
  ['temporal d=10', { time: 10 }, 10],
  ['spectral d=10', { freq: 10 }, 10],
  ['time-frequency 5×4', { time: 5, freq: 4 }, 20],
  ['time-frequency 6×4', { time: 6, freq: 4 }, 24],
] as const) {
  const labels = gridLabels(T, F, grid);
  const bits = Uint8Array.from({ length: N * d }, () => (rnd() < 0.5 ? 1 : 0));
  for (const [cname, content] of [
    ['scalar', 0.25],
    ['noise', noise],
  ] as const) {
    const p = prepareOcclusion(x, [T, F], { labels, d }, content);
    const tc: number[] = [];
    const ta: number[] = [];
    const tj: number[] = [];
    for (let rep = 0; rep < 43; rep++) {
      clock(() => dst.set(src), rep < 3 ? [] : tc);
      clock(() => p.run(bits, N, outBlock), rep < 3 ? [] : ta);
      clock(() => p.run(bits, N, outJs), rep < 3 ? [] : tj);
    }
    const [c, a, j] = [med(tc), med(ta), med(tj)];
    console.log(
      `  ${`${name}, ${cname}`.padEnd(30)} ${String(p.nRuns).padStart(4)} ${c.toFixed(2).padStart(8)} ${a.toFixed(2).padStart(9)} ${j.toFixed(2).padStart(10)} ${(c / a).toFixed(2).padStart(12)} ${(c / j).toFixed(2).padStart(19)}`,
    );
    p.dispose();
  }
}
outBlock.free();

// ── weighted ridge ──
const n = 70_000;
const d = 24;
console.log(`\nweighted ridge: N = ${n}, d = ${d}, alpha = 1, with intercept`);
const Z = new Uint8Array(n * d);
for (let i = 0; i < n * d; i++) Z[i] = i < d || rnd() < 0.5 ? 1 : 0;
const y = new Float64Array(n);
const w = new Float64Array(n);
for (let i = 0; i < n; i++) {
  let on = 0;
  let s = 0;
  for (let j = 0; j < d; j++) {
    on += Z[i * d + j]!;
    s += Z[i * d + j]! * Math.sin(j + 1);
  }
  y[i] = 1 / (1 + Math.exp(-s / 3));
  w[i] = Math.exp((-80 / d) * (d - on));
}
const Xf64 = Float64Array.from(Z);
let ours: Float64Array = new Float64Array(0);
const tU8 = median('earshot weightedRidge (X as u8 bits, incl. R²)', () => (ours = weightedRidge(Z, y, w, { n, d }).coef));
const tF64 = median('earshot weightedRidge (X as f64, incl. R²)', () => weightedRidge(Xf64, y, w, { n, d }));

let theirs: Float64Array = new Float64Array(0);
const tMl = median('ml-matrix normal equations + Cholesky (no R²)', () => (theirs = mlMatrixRidge(Z, y, w, n, d)), 3000, 5);
let maxDiff = 0;
for (let j = 0; j < d; j++) maxDiff = Math.max(maxDiff, Math.abs(ours[j]! - theirs[j]!) / Math.abs(theirs[j]!));
console.log(`  speed-up vs ml-matrix: ${(tMl / tU8).toFixed(1)}× (u8 input), ${(tMl / tF64).toFixed(1)}× (f64 input); max relative coef difference ${maxDiff.toExponential(1)}`);
