// The LIME surrogate (src/explain/lime.ts) against the golden vector of methods.md §3 (LIME
// 0.2.0.1 + scikit-learn 1.2.1) and against a NumPy + scikit-learn transcription of LIME's
// surrogate step on random neighbourhoods (scripts/fixtures/make_lime_fixtures.py: Ridge with
// sample_weight, lars_path(method='lasso'), forward selection, highest_weights).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { limeFit, limeDistances, limeKernel, larsLassoPath, weightedGram, type FeatureSelection } from '../src/explain/lime.ts';
import { readJSON, throwsCode } from './helpers.ts';

function close(a: number, b: number, tol: number, what: string): void {
  const err = Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
  assert.ok(err <= tol, `${what}: got ${a}, expected ${b} (relative error ${err.toExponential(2)} > ${tol})`);
}

// Z: row 0 = 1111, then 0000, 0001, …, 1110 (z0 = the leftmost digit)
const GZ = new Uint8Array(16 * 4);
const Gy = new Float64Array(16);
GZ.fill(1, 0, 4);
for (let p = 0; p < 15; p++) for (let j = 0; j < 4; j++) GZ[(p + 1) * 4 + j] = (p >> (3 - j)) & 1;
for (let i = 0; i < 16; i++) {
  const z = GZ.subarray(i * 4, i * 4 + 4);
  Gy[i] = 0.1 + 0.5 * z[0]! + 0.25 * z[1]! * z[2]! - 0.2 * z[3]! + 0.05 * z[0]! * z[3]!;
}
const golden = (distance: 'cosine' | 'euclidean', featureSelection: FeatureSelection, numFeatures = 4) =>
  limeFit(GZ, Gy, limeDistances(GZ, 16, 4, distance), { n: 16, d: 4, kernelWidth: 0.25, featureSelection, numFeatures });

test('the golden vector of methods.md §3 is reproduced to 1e-12: cosine, all features', () => {
  const f = golden('cosine', 'none');
  close(f.intercept, 0.15569690702262617, 1e-12, 'intercept');
  close(f.weights[0]!, 0.3381677297098738, 1e-12, 'coef 0');
  close(f.weights[3]!, -0.12915464465322168, 1e-12, 'coef 3');
  close(f.weights[1]!, 0.095421390112368, 1e-12, 'coef 1');
  close(f.weights[2]!, 0.095421390112368, 1e-12, 'coef 2');
  close(f.score, 0.8353652305170306, 1e-12, 'score');
  close(f.localPrediction, 0.55555277230401434, 1e-12, 'local prediction');
  assert.equal(f.features.map((x) => x.index), [0, 3, 1, 2], 'sorted by |coef|, the 1–2 tie in index order');
});

test('the golden vector: cosine, forward selection of 2 (also what auto picks for K ≤ 6)', () => {
  for (const fs of ['forward_selection', 'auto'] as const) {
    const f = golden('cosine', fs, 2);
    assert.equal(f.used, [0, 3]);
    close(f.intercept, 0.29843961361248161, 1e-12, `${fs} intercept`);
    close(f.weights[0]!, 0.32434492309531243, 1e-12, `${fs} coef 0`);
    close(f.weights[3]!, -0.14297745126778305, 1e-12, `${fs} coef 3`);
    assert.is(f.weights[1], 0);
    assert.is(f.weights[2], 0);
    close(f.score, 0.73171318171461985, 1e-12, `${fs} score`);
  }
});

test('the golden vector: Euclidean, all features (weights exp(−8k))', () => {
  const f = golden('euclidean', 'none');
  close(f.intercept, 0.69939636982176834, 1e-12, 'intercept');
  close(f.weights[0]!, 1.845606714015715e-4, 1e-12, 'coef 0');
  close(f.weights[1]!, 8.3865638103124e-5, 1e-12, 'coef 1');
  close(f.weights[2]!, 8.3865638103124e-5, 1e-12, 'coef 2');
  close(f.weights[3]!, -5.034188989175374e-5, 1e-12, 'coef 3');
  close(f.score, 6.710050652370958e-4, 1e-12, 'score');
  const w = limeKernel(limeDistances(GZ, 16, 4, 'euclidean'), 0.25);
  close(w[1]!, Math.exp(-8 * 4), 1e-14, 'weight of 0000');
});

interface Case {
  n: number;
  d: number;
  distance: 'cosine' | 'euclidean';
  kernelWidth: number;
  bits: number[];
  y: number[];
  distances: number[];
  results: Array<{ featureSelection: FeatureSelection; numFeatures: number; selectionAlpha?: number; used: number[]; intercept: number; weights: number[]; score: number; localPrediction: number }>;
  lassoPathSteps: number;
  lassoPath: number[];
}
const fx = readJSON<{ cases: Case[]; lassoDrops: Array<{ n: number; d: number; X: number[]; y: number[]; steps: number; path: number[] }> }>('lime/cases.json');

test('scikit-learn oracle: distances, selected features, coefficients, intercept, score, local prediction (≤ 1e-9)', () => {
  let checked = 0;
  for (const c of fx.cases) {
    const Z = Uint8Array.from(c.bits);
    const y = Float64Array.from(c.y);
    const dist = limeDistances(Z, c.n, c.d, c.distance);
    c.distances.forEach((v, i) => assert.ok(Math.abs(dist[i]! - v) <= 1e-14, `${c.distance} distance ${i}: ${dist[i]} vs ${v}`));
    for (const r of c.results) {
      const what = `n ${c.n} d ${c.d} ${c.distance} kw ${c.kernelWidth} ${r.featureSelection}(${r.numFeatures}) selectionAlpha ${r.selectionAlpha ?? 0.01}`;
      const f = limeFit(Z, y, dist, { n: c.n, d: c.d, kernelWidth: c.kernelWidth, featureSelection: r.featureSelection, numFeatures: r.numFeatures, selectionAlpha: r.selectionAlpha });
      assert.equal([...f.used].sort((a, b) => a - b), [...r.used].sort((a, b) => a - b), `${what}: selected features`);
      const scale = Math.max(...r.weights.map(Math.abs), Math.abs(r.intercept));
      r.weights.forEach((w, j) => assert.ok(Math.abs(f.weights[j]! - w) <= 1e-9 * scale, `${what}: coef ${j} ${f.weights[j]} vs ${w}`));
      assert.ok(Math.abs(f.intercept - r.intercept) <= 1e-9 * scale, `${what}: intercept`);
      assert.ok(Math.abs(f.score - r.score) <= 1e-9 * Math.max(1, Math.abs(r.score)), `${what}: score ${f.score} vs ${r.score}`);
      assert.ok(Math.abs(f.localPrediction - r.localPrediction) <= 1e-9, `${what}: local prediction`);
      checked++;
    }
  }
  assert.ok(checked >= 50, `${checked} oracle fits`);
});

test('the LARS-lasso path equals sklearn.lars_path(method="lasso") step by step', () => {
  for (const c of fx.cases) {
    const Z = Uint8Array.from(c.bits);
    const w = limeKernel(Float64Array.from(c.distances), c.kernelWidth);
    const { G, c: xy } = weightedGram(Z, Float64Array.from(c.y), w, c.n, c.d);
    const path = larsLassoPath(G, xy, c.d, c.n);
    assert.is(path.length, c.lassoPathSteps, `n ${c.n} d ${c.d}: number of steps`);
    const scale = Math.max(...c.lassoPath.map(Math.abs));
    path.forEach((coef, s) =>
      coef.forEach((v, j) => assert.ok(Math.abs(v - c.lassoPath[s * c.d + j]!) <= 1e-9 * scale, `step ${s} coef ${j}: ${v} vs ${c.lassoPath[s * c.d + j]}`)),
    );
  }
});

test('LARS-lasso paths where variables leave the active set equal sklearn (dense correlated designs)', () => {
  assert.ok(fx.lassoDrops.length >= 3);
  for (const c of fx.lassoDrops) {
    const { n, d } = c;
    const G = new Float64Array(d * d);
    const xy = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        xy[j] += c.X[i * d + j]! * c.y[i]!;
        for (let k = 0; k < d; k++) G[j * d + k] += c.X[i * d + j]! * c.X[i * d + k]!;
      }
    }
    const path = larsLassoPath(G, xy, d, n);
    assert.is(path.length, c.steps, 'number of steps');
    const dropped = path.some((p, s) => s > 0 && p.some((v, j) => Math.abs(v) < 1e-12 && Math.abs(path[s - 1]![j]!) > 1e-6));
    assert.ok(dropped, 'a coefficient returns to zero on the path');
    const scale = Math.max(...c.path.map(Math.abs));
    path.forEach((coef, s) => coef.forEach((v, j) => assert.ok(Math.abs(v - c.path[s * d + j]!) <= 1e-9 * scale, `step ${s} coef ${j}: ${v} vs ${c.path[s * d + j]}`)));
  }
});

test('a row with multiplicity m is the same fit as m copies of it (every feature selection)', () => {
  const c = fx.cases[1]!;
  const Z = Uint8Array.from(c.bits);
  const y = Float64Array.from(c.y);
  // expand: row i repeated 1 + (i mod 3) times
  const m = Float64Array.from({ length: c.n }, (_, i) => 1 + (i % 3));
  const N = m.reduce((a, b) => a + b, 0);
  const ZE = new Uint8Array(N * c.d);
  const yE = new Float64Array(N);
  let r = 0;
  for (let i = 0; i < c.n; i++) {
    for (let k = 0; k < m[i]!; k++, r++) {
      ZE.set(Z.subarray(i * c.d, (i + 1) * c.d), r * c.d);
      yE[r] = y[i]!;
    }
  }
  for (const fs of ['none', 'forward_selection', 'highest_weights', 'lasso_path'] as const) {
    const a = limeFit(Z, y, limeDistances(Z, c.n, c.d, 'cosine'), { n: c.n, d: c.d, featureSelection: fs, numFeatures: 4, multiplicity: m });
    const b = limeFit(ZE, yE, limeDistances(ZE, N, c.d, 'cosine'), { n: N, d: c.d, featureSelection: fs, numFeatures: 4 });
    assert.equal(a.used, b.used, fs);
    a.weights.forEach((v, j) => assert.ok(Math.abs(v - b.weights[j]!) <= 1e-12, `${fs} coef ${j}`));
    assert.ok(Math.abs(a.score - b.score) <= 1e-12 && Math.abs(a.intercept - b.intercept) <= 1e-12, fs);
  }
});

test('bad options are rejected by name', () => {
  const dist = limeDistances(GZ, 16, 4);
  throwsCode(() => limeFit(GZ, Gy, dist, { n: 16, d: 4, featureSelection: 'best' as FeatureSelection }), 'BAD_ARGUMENT', /featureSelection/);
  throwsCode(() => limeFit(GZ, Gy, dist, { n: 16, d: 4, numFeatures: 5 }), 'BAD_ARGUMENT', /numFeatures/);
  throwsCode(() => limeFit(GZ, Gy, dist, { n: 16, d: 4, kernelWidth: 0 }), 'BAD_ARGUMENT', /kernelWidth/);
  throwsCode(() => limeFit(GZ, Gy, dist, { n: 16, d: 4, alpha: -1 }), 'BAD_ARGUMENT', /alpha/);
  throwsCode(() => limeFit(GZ, Gy, dist, { n: 16, d: 4, multiplicity: new Float64Array(3) }), 'BAD_SHAPE', /multiplicity/);
  throwsCode(() => limeFit(GZ, Gy, new Float64Array(15), { n: 16, d: 4 }), 'BAD_SHAPE', /distances/);
  throwsCode(() => limeFit(GZ, Gy.subarray(1), dist, { n: 16, d: 4 }), 'BAD_SHAPE', /y must have/);
  throwsCode(() => limeDistances(GZ, 16, 4, 'manhattan' as 'cosine'), 'BAD_ARGUMENT', /distance/);
});

test.run();
