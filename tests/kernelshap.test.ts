// KernelSHAP (src/explain/kernelshap.ts) on functions whose Shapley values are known in closed
// form: a linear model (φ_j = w_j (x_j − b_j)), a pure interaction z_a·z_b (½ each), the maximum
// of three components (⅓ each), and a product of three (⅓ each) — exactly with the exhaustive
// design, approximately with sampled coalitions; the efficiency constraint holds in both.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelShapDesign, kernelShapFit, shapleyKernel } from '../src/explain/kernelshap.ts';
import { throwsCode } from './helpers.ts';

function shap(f: (z: Uint8Array) => number, d: number, numSamples: number, seed = 0, mode: 'auto' | 'exhaustive' | 'sampled' = 'auto') {
  const des = kernelShapDesign(d, numSamples, seed, mode);
  const y = new Float64Array(des.n);
  for (let i = 0; i < des.n; i++) y[i] = f(des.rows.subarray(i * d, (i + 1) * d));
  const fx = f(new Uint8Array(d).fill(1));
  const f0 = f(new Uint8Array(d));
  return { fit: kernelShapFit(des.rows, y, des.weights, des.n, d, fx, f0), des, fx, f0 };
}

test('the Shapley kernel: π = (d − 1)/(C(d,s)·s·(d − s)), infinite for the empty and full coalitions', () => {
  assert.ok(Math.abs(shapleyKernel(4, 1) - 3 / (4 * 1 * 3)) < 1e-15);
  assert.ok(Math.abs(shapleyKernel(4, 2) - 3 / (6 * 2 * 2)) < 1e-15);
  assert.ok(Math.abs(shapleyKernel(10, 5) - 9 / (252 * 25)) < 1e-15);
  assert.is(shapleyKernel(5, 0), Infinity);
  assert.is(shapleyKernel(5, 5), Infinity);
});

test('linear model: φ_j = w_j (x_j − b_j) exactly (exhaustive, d = 8)', () => {
  const d = 8;
  const w = [0.3, -0.2, 0.05, 0, 0.7, -0.4, 0.1, 0.25];
  const x = [1.5, -1, 2, 3, 0.5, 1, -2, 1];
  const b = [0, 0.5, 1, -1, 0, 2, 0, 1];
  const f = (z: Uint8Array) => 0.1 + w.reduce((s, wj, j) => s + wj * (z[j] ? x[j]! : b[j]!), 0);
  const { fit, des } = shap(f, d, 1 << 20);
  assert.is(des.mode, 'exhaustive');
  w.forEach((wj, j) => assert.ok(Math.abs(fit.phi[j]! - wj * (x[j]! - b[j]!)) < 1e-12, `φ_${j} = ${fit.phi[j]}`));
  assert.ok(Math.abs(fit.score - 1) < 1e-12, 'a linear function is fitted exactly');
});

test('pure interaction z_a·z_b: ½ each; max of three components: ⅓ each; others 0; Σφ = f(x) − f(∅)', () => {
  const d = 7;
  const inter = shap((z) => z[2]! * z[5]!, d, 1 << 20).fit;
  for (let j = 0; j < d; j++) assert.ok(Math.abs(inter.phi[j]! - (j === 2 || j === 5 ? 0.5 : 0)) < 1e-12, `interaction φ_${j} = ${inter.phi[j]}`);
  const mx = shap((z) => Math.max(z[0]!, z[3]!, z[6]!), d, 1 << 20).fit;
  for (let j = 0; j < d; j++) assert.ok(Math.abs(mx.phi[j]! - ([0, 3, 6].includes(j) ? 1 / 3 : 0)) < 1e-12, `max φ_${j} = ${mx.phi[j]}`);
  const prod3 = shap((z) => 2 * z[1]! * z[2]! * z[4]!, d, 1 << 20).fit;
  for (let j = 0; j < d; j++) assert.ok(Math.abs(prod3.phi[j]! - ([1, 2, 4].includes(j) ? 2 / 3 : 0)) < 1e-12, `product φ_${j}`);
  for (const r of [inter, mx, prod3]) assert.ok(Math.abs(r.phi.reduce((a, b) => a + b, 0) - (r.full - r.base)) < 1e-12);
});

test('sampled coalitions (d = 20): efficiency exact, estimates close to the closed form, same seed → same values', () => {
  const d = 20;
  const w = Array.from({ length: d }, (_, j) => ((j * 7) % 5) - 2);
  const f = (z: Uint8Array) => w.reduce((s, wj, j) => s + wj * z[j]!, 0) + 1.5 * z[3]! * z[11]!;
  const a = shap(f, d, 4000, 5);
  assert.is(a.des.mode, 'sampled');
  assert.ok(Math.abs(a.fit.phi.reduce((s, v) => s + v, 0) - (a.fx - a.f0)) < 1e-10, 'efficiency');
  for (let j = 0; j < d; j++) {
    const want = w[j]! + (j === 3 || j === 11 ? 0.75 : 0);
    assert.ok(Math.abs(a.fit.phi[j]! - want) < 0.15, `φ_${j} = ${a.fit.phi[j]} vs ${want}`);
  }
  assert.equal(a.fit.phi, shap(f, d, 4000, 5).fit.phi);
});

test('bad arguments are rejected by name', () => {
  throwsCode(() => kernelShapDesign(1, 10, 0), 'BAD_ARGUMENT', /d \(number of components\)/);
  throwsCode(() => kernelShapDesign(20, 10, 0, 'exhaustive'), 'BAD_ARGUMENT', /d ≤ 16/);
  throwsCode(() => kernelShapDesign(5, 0, 0), 'BAD_ARGUMENT', /numSamples/);
  throwsCode(() => kernelShapFit(new Uint8Array(6), new Float64Array(2), new Float64Array(2), 2, 3, Number.NaN, 0), 'BAD_ARGUMENT', /f\(x\)/);
  throwsCode(() => kernelShapFit(new Uint8Array(5), new Float64Array(2), new Float64Array(2), 2, 3, 1, 0), 'BAD_SHAPE', /rows/);
});

test.run();
