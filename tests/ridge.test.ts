// Weighted ridge + weighted R² (bindings/lime.ts → assembly/ridge.ts) against the golden vector
// of methods.md §3 (LIME 0.2.0.1 + scikit-learn 1.2.1) and against scikit-learn's Ridge on
// seeded problems (scripts/fixtures/make_ridge_fixtures.py).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { weightedRidge, weightedR2, ridgePredict, type RidgeFit } from '../bindings/lime.ts';
import { core } from '../bindings/wasm.ts';
import { readF64, readJSON, throwsCode } from './helpers.ts';

/** |a − b| ≤ tol·|b| (relative), reported with the values. */
function close(a: number, b: number, tol: number, what: string): void {
  const err = Math.abs(a - b) / Math.abs(b);
  assert.ok(err <= tol, `${what}: got ${a}, expected ${b} (relative error ${err.toExponential(2)} > ${tol})`);
}

// ── the golden vector of methods.md §3 ──
// Z: row 0 = 1111, then 0000, 0001, …, 1110 (z0 is the leftmost digit).
const GZ = new Uint8Array(16 * 4);
const Gy = new Float64Array(16);
const gRows: number[][] = [[1, 1, 1, 1]];
for (let p = 0; p < 15; p++) gRows.push([(p >> 3) & 1, (p >> 2) & 1, (p >> 1) & 1, p & 1]);
gRows.forEach((z, i) => {
  z.forEach((v, j) => (GZ[i * 4 + j] = v));
  Gy[i] = 0.1 + 0.5 * z[0]! + 0.25 * z[1]! * z[2]! - 0.2 * z[3]! + 0.05 * z[0]! * z[3]!;
});
const KW = 0.25;
const kernel = (dist: number) => Math.sqrt(Math.exp(-(dist * dist) / (KW * KW)));
// cosine distance to the all-ones row as sklearn's pairwise_distances: rows normalised to unit
// length (a zero row stays zero), 1 − dot, clipped to [0, 2]
const cosineW = new Float64Array(
  gRows.map((z) => {
    const m = z.reduce((a, b) => a + b, 0);
    let dot = 0;
    for (let j = 0; j < 4; j++) dot += (m ? z[j]! / Math.sqrt(m) : 0) * (1 / Math.sqrt(4));
    return kernel(Math.min(2, Math.max(0, 1 - dot)));
  }),
);
const euclidW = new Float64Array(gRows.map((z) => kernel(Math.sqrt(z.reduce((a, v) => a + (1 - v) ** 2, 0)))));

function columns(X: Uint8Array, n: number, d: number, cols: number[]): Uint8Array {
  const out = new Uint8Array(n * cols.length);
  for (let i = 0; i < n; i++) cols.forEach((c, k) => (out[i * cols.length + k] = X[i * d + c]!));
  return out;
}

test('golden vector, cosine kernel, all features: intercept, coefs, score, local prediction to 1e-12', () => {
  const f = weightedRidge(GZ, Gy, cosineW, { n: 16, d: 4 });
  assert.is(f.solver, 'cholesky');
  close(f.intercept, 0.15569690702262617, 1e-12, 'intercept');
  close(f.coef[0]!, 0.3381677297098738, 1e-12, 'coef 0');
  close(f.coef[1]!, 0.095421390112368, 1e-12, 'coef 1');
  close(f.coef[2]!, 0.095421390112368, 1e-12, 'coef 2');
  close(f.coef[3]!, -0.12915464465322168, 1e-12, 'coef 3');
  close(f.score, 0.8353652305170306, 1e-12, 'score');
  close(ridgePredict(f.coef, f.intercept, [1, 1, 1, 1]), 0.55555277230401434, 1e-12, 'local prediction');
});

test('golden vector, Euclidean kernel (w = exp(−8k)), all features, to 1e-12', () => {
  for (let i = 0; i < 16; i++) close(euclidW[i]!, Math.exp(-8 * (4 - gRows[i]!.reduce((a, b) => a + b, 0))), 1e-13, `w[${i}]`);
  const f = weightedRidge(GZ, Gy, euclidW, { n: 16, d: 4, alpha: 1, fitIntercept: true });
  close(f.intercept, 0.69939636982176834, 1e-12, 'intercept');
  close(f.coef[0]!, 1.845606714015715e-4, 1e-12, 'coef 0');
  close(f.coef[1]!, 8.3865638103124e-5, 1e-12, 'coef 1');
  close(f.coef[2]!, 8.3865638103124e-5, 1e-12, 'coef 2');
  close(f.coef[3]!, -5.034188989175374e-5, 1e-12, 'coef 3');
  close(f.score, 6.710050652370958e-4, 1e-12, 'score');
});

test('golden vector, cosine, forward selection of 2 features (LIME forward_selection), to 1e-12', () => {
  // LIME: greedily add the feature whose ridge fit (alpha = 0) on the chosen set scores best
  // (strict >, so the lowest index wins a tie), then fit the final model with alpha = 1.
  const chosen: number[] = [];
  for (let step = 0; step < 2; step++) {
    let best = -1;
    let bestScore = -1e8;
    for (let j = 0; j < 4; j++) {
      if (chosen.includes(j)) continue;
      const cols = [...chosen, j];
      const f = weightedRidge(columns(GZ, 16, 4, cols), Gy, cosineW, { n: 16, d: cols.length, alpha: 0 });
      if (f.score > bestScore) {
        bestScore = f.score;
        best = j;
      }
    }
    chosen.push(best);
  }
  assert.equal(chosen, [0, 3]);
  const f = weightedRidge(columns(GZ, 16, 4, chosen), Gy, cosineW, { n: 16, d: 2, alpha: 1 });
  close(f.intercept, 0.29843961361248161, 1e-12, 'intercept');
  close(f.coef[0]!, 0.32434492309531243, 1e-12, 'coef 0');
  close(f.coef[1]!, -0.14297745126778305, 1e-12, 'coef 3');
  close(f.score, 0.73171318171461985, 1e-12, 'score');
});

// ── scikit-learn oracle ──
interface Case {
  data: string;
  n: number;
  d: number;
  bits: boolean;
  alpha: number;
  fitIntercept: boolean;
  coef: number[];
  intercept: number;
  score: number;
  sklearnSolver: 'cholesky' | 'svd';
}
const meta = readJSON<{ cases: Case[] }>('ridge/cases.json');

/** Errors relative to the size of the solution: max |Δ| / max(‖β‖∞, |intercept|); R² relative to max(|R²|, 1). */
function fitErr(f: RidgeFit, c: Case): { coef: number; intercept: number; score: number } {
  let scale = Math.abs(c.intercept);
  for (const v of c.coef) scale = Math.max(scale, Math.abs(v));
  let ce = 0;
  c.coef.forEach((v, j) => (ce = Math.max(ce, Math.abs(f.coef[j]! - v) / scale)));
  return {
    coef: ce,
    intercept: Math.abs(f.intercept - c.intercept) / scale,
    // R² = 1 − ratio: its natural scale is 1 (a score of 1e-7 carries only ~1e-9 relative digits)
    score: Math.abs(f.score - c.score) / Math.max(Math.abs(c.score), 1),
  };
}

test(`scikit-learn Ridge(sample_weight) on ${meta.cases.length} seeded problems: coef, intercept and score to 1e-10`, () => {
  let worst = { coef: 0, intercept: 0, score: 0 };
  for (const c of meta.cases) {
    const X = readF64(`ridge/${c.data}.X.f64`);
    const y = readF64(`ridge/${c.data}.y.f64`);
    const w = readF64(`ridge/${c.data}.w.f64`);
    const f = weightedRidge(X, y, w, { n: c.n, d: c.d, alpha: c.alpha, fitIntercept: c.fitIntercept });
    const label = `${c.data} (n=${c.n}, d=${c.d}, alpha=${c.alpha}, intercept=${c.fitIntercept})`;
    assert.is(f.solver, c.sklearnSolver === 'svd' ? 'eigen' : 'cholesky', `${label}: solver`);
    if (!c.fitIntercept) assert.is(f.intercept, 0, `${label}: no intercept`);
    const e = fitErr(f, c);
    assert.ok(e.coef <= 1e-10, `${label}: coef error ${e.coef}`);
    assert.ok(e.intercept <= 1e-10, `${label}: intercept error ${e.intercept}`);
    assert.ok(e.score <= 1e-10, `${label}: score error ${e.score}`);
    // the separate R² entry point agrees with the fit's own score
    const r2 = weightedR2(X, y, w, f.coef, f.intercept, { n: c.n, d: c.d });
    assert.is(r2, f.score);
    if (c.bits) {
      // the LIME bit matrix given as u8 converts exactly
      const fb = weightedRidge(Uint8Array.from(X), y, w, { n: c.n, d: c.d, alpha: c.alpha, fitIntercept: c.fitIntercept });
      assert.equal(Array.from(fb.coef), Array.from(f.coef));
      assert.is(fb.intercept, f.intercept);
    }
    worst = { coef: Math.max(worst.coef, e.coef), intercept: Math.max(worst.intercept, e.intercept), score: Math.max(worst.score, e.score) };
  }
  if (process.env.EARSHOT_VERBOSE) console.log('worst relative error vs sklearn', worst);
});

test('the zero-column case (alpha = 0) takes the pseudo-inverse route and drops the null direction', () => {
  const c = meta.cases.find((k) => k.data === 'zerocol' && k.fitIntercept)!;
  const f = weightedRidge(readF64('ridge/zerocol.X.f64'), readF64('ridge/zerocol.y.f64'), readF64('ridge/zerocol.w.f64'), {
    n: c.n,
    d: c.d,
    alpha: 0,
  });
  assert.is(f.solver, 'eigen');
  assert.is(f.rank, c.d - 1);
  assert.is(f.coef[2], 0);
});

test('weighted R²: a perfect fit scores 1, a constant target with a wrong model scores 0', () => {
  const X = new Float64Array([0, 1, 2, 3]);
  const w = new Float64Array([1, 2, 3, 4]);
  const y = new Float64Array([1, 3, 5, 7]);
  assert.is(weightedR2(X, y, w, new Float64Array([2]), 1, { n: 4, d: 1 }), 1);
  const flat = new Float64Array([2, 2, 2, 2]);
  assert.is(weightedR2(X, flat, w, new Float64Array([1]), 0, { n: 4, d: 1 }), 0);
  // a constant target is fitted exactly (β = 0, intercept = the value): numerator 0 → 1
  const f = weightedRidge(X, flat, w, { n: 4, d: 1 });
  assert.is(f.score, 1);
  assert.is(f.intercept, 2);
});

test('Float32 X and y are widened exactly: same fit as their f64 values', () => {
  const c = meta.cases.find((k) => k.data === 'dense' && k.alpha === 1 && k.fitIntercept)!;
  const X32 = Float32Array.from(readF64('ridge/dense.X.f64'));
  const y32 = Float32Array.from(readF64('ridge/dense.y.f64'));
  const w = readF64('ridge/dense.w.f64');
  const a = weightedRidge(X32, y32, w, { n: c.n, d: c.d });
  const b = weightedRidge(Float64Array.from(X32), Float64Array.from(y32), w, { n: c.n, d: c.d });
  assert.equal(Array.from(a.coef), Array.from(b.coef));
  assert.is(a.intercept, b.intercept);
  assert.is(a.score, b.score);
});

test('zero weights drop their rows exactly', () => {
  const n = 30;
  const d = 3;
  const X = new Float64Array(n * d).map((_, i) => Math.sin(i * 1.7) + (i % 5));
  const y = new Float64Array(n).map((_, i) => Math.cos(i));
  const w = new Float64Array(n).map((_, i) => (i < 20 ? 0.5 + (i % 3) : 0));
  const full = weightedRidge(X, y, w, { n, d, alpha: 0.5 });
  const cut = weightedRidge(X.subarray(0, 20 * d), y.subarray(0, 20), w.subarray(0, 20), { n: 20, d, alpha: 0.5 });
  for (let j = 0; j < d; j++) close(full.coef[j]!, cut.coef[j]!, 1e-13, `coef ${j}`);
  close(full.intercept, cut.intercept, 1e-13, 'intercept');
});

test('the kernel stays inside ridgeScratchBytes (Cholesky and eigen paths, odd and even d)', () => {
  const ex = core().exports as Record<string, any>;
  const arena = core().arena;
  for (const d of [1, 2, 5, 8]) {
    for (const dup of [false, true]) {
      const n = 9;
      const X = new Float64Array(n * d).map((_, i) => ((i * 7) % 5) - 2 + (i % d === 0 ? 0.5 : 0));
      if (dup && d > 1) for (let i = 0; i < n; i++) X[i * d + d - 1] = 0; // exactly singular Gram, α = 0
      const bytes = ex.ridgeScratchBytes(n, d) as number;
      arena.scope((s) => {
        const xB = s.copyIn(X);
        const yB = s.copyIn(new Float64Array(n).map((_, i) => Math.sin(i)));
        const wB = s.copyIn(new Float64Array(n).fill(1));
        const coefB = s.f64(d);
        const scratch = s.alloc(bytes + 256);
        scratch.u8().fill(0xa5);
        ex.weightedRidge(xB.ptr, yB.ptr, wB.ptr, n, d, 0, 1, coefB.ptr, scratch.ptr);
        if (dup && d > 1) assert.is(scratch.f64(1)[0], 1, `d=${d}: expected the eigen path`);
        const tail = scratch.u8().subarray(bytes);
        assert.ok(tail.every((b) => b === 0xa5), `d=${d}${dup ? ' (singular)' : ''}: wrote past the scratch`);
      });
    }
  }
});

test('inputs that are views of the core memory are read before any allocation', () => {
  const arena = core().arena;
  const want = weightedRidge(GZ, Gy, cosineW, { n: 16, d: 4 });
  const blocks = [arena.copyIn(GZ), arena.copyIn(Gy), arena.copyIn(cosineW)];
  try {
    const f = weightedRidge(blocks[0]!.u8(64), blocks[1]!.f64(16), blocks[2]!.f64(16), { n: 16, d: 4 });
    assert.equal(Array.from(f.coef), Array.from(want.coef));
    assert.is(weightedR2(blocks[0]!.u8(64), blocks[1]!.f64(16), blocks[2]!.f64(16), want.coef, want.intercept, { n: 16, d: 4 }), want.score);
  } finally {
    for (const b of blocks) b.free();
  }
});

test('bad input: every argument and option is checked before wasm', () => {
  const X = new Float64Array(8);
  const y = new Float64Array(4);
  const w = new Float64Array([1, 1, 1, 1]);
  const o = { n: 4, d: 2 };
  const before = core().arena.liveBytes;
  throwsCode(() => weightedRidge([1, 2] as unknown as Float64Array, y, w, o), 'BAD_ARGUMENT', /X must be/);
  throwsCode(() => weightedRidge(new Float64Array(7), y, w, o), 'BAD_SHAPE', /X must have n·d = 4·2 = 8 elements, got 7/);
  throwsCode(() => weightedRidge(X, new Float64Array(3), w, o), 'BAD_SHAPE', /y must have n = 4 elements, got 3/);
  throwsCode(() => weightedRidge(X, new Int32Array(4) as unknown as Float64Array, w, o), 'BAD_ARGUMENT', /y must be/);
  throwsCode(() => weightedRidge(X, y, new Float32Array(4) as unknown as Float64Array, o), 'BAD_ARGUMENT', /w \(sample weights/);
  throwsCode(() => weightedRidge(X, y, new Float64Array(5), o), 'BAD_SHAPE', /w \(sample weights, n = 4\) must have 4 elements, got 5/);
  throwsCode(() => weightedRidge(X, y, new Float64Array([1, -1, 1, 1]), o), 'BAD_ARGUMENT', /w\[1\] is -1; sample weights must be ≥ 0/);
  throwsCode(() => weightedRidge(X, y, new Float64Array(4), o), 'BAD_ARGUMENT', /all sample weights are zero/);
  throwsCode(() => weightedRidge(X, y, new Float64Array([1, NaN, 1, 1]), o), 'NOT_FINITE', /w\[1\] is NaN/);
  throwsCode(() => weightedRidge(new Float64Array([0, 0, Infinity, 0, 0, 0, 0, 0]), y, w, o), 'NOT_FINITE', /X\[2\] is Infinity/);
  throwsCode(() => weightedRidge(X, new Float64Array([0, NaN, 0, 0]), w, o), 'NOT_FINITE', /y\[1\] is NaN/);
  const big = new Float32Array(1000 * 3);
  big[2003] = -Infinity;
  throwsCode(() => weightedRidge(big, new Float64Array(1000), new Float64Array(1000).fill(1), { n: 1000, d: 3 }), 'NOT_FINITE', /X\[2003\] is -Infinity/);
  throwsCode(() => weightedRidge(X, y, w, { n: 0, d: 2 }), 'BAD_ARGUMENT', /n \(number of samples\) must be an integer/);
  throwsCode(() => weightedRidge(X, y, w, { n: 4, d: -2 }), 'BAD_ARGUMENT', /d \(number of features\)/);
  throwsCode(() => weightedRidge(X, y, w, { n: 4.5, d: 2 }), 'BAD_ARGUMENT', /n \(number of samples\)/);
  throwsCode(() => weightedRidge(X, y, w, { n: 4, d: 2, alpha: -1 }), 'BAD_ARGUMENT', /alpha \(ridge penalty\) must be a finite number in \[0/);
  throwsCode(() => weightedRidge(X, y, w, { n: 4, d: 2, alpha: NaN }), 'BAD_ARGUMENT', /alpha/);
  throwsCode(() => weightedRidge(X, y, w, { n: 4, d: 2, fitIntercept: 1 as unknown as boolean }), 'BAD_ARGUMENT', /fitIntercept must be a boolean/);
  throwsCode(() => weightedRidge(X, y, w, { n: 4, d: 2, lambda: 1 } as unknown as { n: number; d: number }), 'BAD_ARGUMENT', /unknown option 'lambda'/);
  throwsCode(() => weightedRidge(X, y, w, null as unknown as { n: number; d: number }), 'BAD_ARGUMENT', /options object/);
  const coef = new Float64Array(2);
  throwsCode(() => weightedR2(X, y, w, new Float64Array(3), 0, o), 'BAD_SHAPE', /coef \(d = 2\) must have 2 elements, got 3/);
  throwsCode(() => weightedR2(X, y, w, coef, NaN, o), 'BAD_ARGUMENT', /intercept must be a finite number/);
  throwsCode(() => weightedR2(X, y, w, new Float64Array([0, NaN]), 0, o), 'NOT_FINITE', /coef\[1\] is NaN/);
  throwsCode(() => weightedR2(X, y, new Float64Array(4), coef, 0, o), 'BAD_ARGUMENT', /all sample weights are zero/);
  throwsCode(() => weightedR2(X, y, w, coef, 0, { n: 4, d: 2, alpha: 1 } as unknown as { n: number; d: number }), 'BAD_ARGUMENT', /unknown option 'alpha'/);
  throwsCode(() => ridgePredict(coef, 0, [1]), 'BAD_SHAPE', /row must have d = 2 elements, got 1/);
  throwsCode(() => ridgePredict(coef, 0, [1, NaN]), 'NOT_FINITE', /row\[1\] is NaN/);
  throwsCode(() => ridgePredict([1, 2] as unknown as Float64Array, 0, [1, 1]), 'BAD_ARGUMENT', /coef must be a Float64Array/);
  throwsCode(() => ridgePredict(coef, 0, 3 as unknown as number[]), 'BAD_ARGUMENT', /row must be an array/);
  assert.is(core().arena.liveBytes, before, 'no arena block leaks on bad input');
});

test.run();
