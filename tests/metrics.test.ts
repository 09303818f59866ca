/**
 * Faithfulness metrics (src/metrics; methods.md §8): the hand values of methods.md for the Gini
 * index (SPS) and the entropy (COMP), hand-worked AI/AD/AG/FF/Fid-In cases, the reference code's
 * double-softmax AD, and SSIM / Spearman / ROC AUC against scipy / scikit-learn / the
 * scikit-image algorithm (fixture: scripts/fixtures/make_metrics_fixtures.py).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  averageMetrics, entropyComplexity, gini, idealBinaryMask, maskStatistics, probabilityMetrics, rocAuc, sampleMetrics,
} from '../src/metrics/faithfulness.ts';
import { rankdata, spearman, ssim } from '../src/metrics/similarity.ts';
import { readJSON, throwsCode } from './helpers.ts';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('Gini (SPS) reproduces the hand values of methods.md §8 to 1e-6', () => {
  const cases: Array<[number[], number]> = [
    [[1, 1, 1, 1], 0], [[0, 0, 0, 1], 0.75], [[0, 0, 1, 1], 0.5], [[0.1, 0.2, 0.3, 0.4], 0.25], [[0.5, 0, 0.25, 1], 0.464286],
  ];
  for (const [a, g] of cases) close(gini(a), g, 1e-6, `gini ${a}`);
  // |a|: the sign does not matter
  close(gini([-0.5, 0, 0.25, -1]), 0.464286, 1e-6, 'gini of signed values');
});

test('entropy (COMP) reproduces methods.md §8 and scipy.stats.entropy', () => {
  const hand = [Math.log(4), 0, 0.693147, 1.279854, 0.9557];
  const fx = readJSON<{ entropy: Array<{ a: number[]; entropy: number }> }>('metrics/similarity.json').entropy;
  fx.forEach((c, i) => {
    close(entropyComplexity(c.a), c.entropy, 1e-12, `entropy ${c.a} vs scipy`);
    close(entropyComplexity(c.a), hand[i]!, 1e-6, `entropy ${c.a} vs methods.md`);
  });
  assert.is(entropyComplexity([0, 0, 0]), 0, 'an empty mask has entropy 0');
});

test('AI, AD, AG, FF, Fid-In by hand (binary detector: c = 1[p ≥ 0.5], p_c = p or 1 − p)', () => {
  // voice predicted, p = 0.8; masked-in 0.9 (an increase), masked-out 0.3
  let m = probabilityMetrics(0.8, 0.9, 0.3);
  assert.is(m.c, 1);
  assert.is(m.ai, 100);
  close(m.ad, 0, 0, 'AD');
  close(m.ag, (100 * 0.1) / 0.2, 1e-9, 'AG = 100·0.1/0.2');
  close(m.ff, 0.5, 1e-12, 'FF = 0.8 − 0.3');
  assert.is(m.fidIn, 1);
  // masked-in drops to 0.4: the class flips
  m = probabilityMetrics(0.8, 0.4, 0.7);
  assert.is(m.ai, 0);
  close(m.ad, (100 * 0.4) / 0.8, 1e-9, 'AD = 100·0.4/0.8');
  assert.is(m.ag, 0);
  close(m.ff, 0.1, 1e-12, 'FF');
  assert.is(m.fidIn, 0);
  // "no voice" predicted: p_c = 1 − p
  m = probabilityMetrics(0.2, 0.1, 0.6);
  assert.is(m.c, 0);
  close(m.p, 0.8, 1e-12, 'p_c');
  assert.is(m.ai, 100);
  close(m.ag, 50, 1e-9, 'AG = 100·(0.9 − 0.8)/0.2');
  close(m.ff, 0.8 - 0.4, 1e-12, 'FF = 0.8 − 0.4');
  assert.is(m.fidIn, 1);
  // p = 0.5 exactly counts as the label (c = 1)
  assert.is(probabilityMetrics(0.5, 0.5, 0.5).c, 1);
  // a saturated sigmoid has nothing to gain: AG = 0, not NaN
  assert.is(probabilityMetrics(1, 1, 0).ag, 0);
});

test('K classes: argmax class, and the reference code double-softmax AD (capped at 1 − 1/e)', () => {
  const K = 50;
  const pX = new Float64Array(K).fill(0);
  pX[3] = 1;
  const pIn = new Float64Array(K).fill(1 / (K - 1));
  pIn[3] = 0;
  const m = probabilityMetrics(pX, pIn, pIn);
  assert.is(m.c, 3);
  close(m.ad, 100, 1e-9, 'textbook AD of a total drop');
  // softmax(pX)_3 = e/(e + 49), softmax(pIn)_3 = 1/(1 + 49·e^{1/49}); AD' = 100·(s − t)/s
  const s = Math.E / (Math.E + 49);
  const t = 1 / (1 + 49 * Math.exp(1 / 49));
  close(m.adParity, (100 * (s - t)) / s, 1e-9, 'double-softmax AD');
  assert.ok(m.adParity < 100 * (1 - 1 / Math.E) + 1, `parity AD ${m.adParity} ≈ 63.2 at most`);
  // binary: the two-class vector [1 − p, p] goes through the softmax again
  const b = probabilityMetrics(0.9, 0.6, 0.5);
  const sx = Math.exp(0.9) / (Math.exp(0.9) + Math.exp(0.1));
  const si = Math.exp(0.6) / (Math.exp(0.6) + Math.exp(0.4));
  close(b.adParity, (100 * (sx - si)) / sx, 1e-9, 'binary double-softmax AD');
});

test('sample metrics combine with the mask statistics; averages are per-sample means', () => {
  const a = sampleMetrics(0.8, 0.9, 0.3, [0, 0, 0, 1]);
  const b = sampleMetrics(0.8, 0.4, 0.7, [1, 1, 1, 1]);
  close(a.sps, 0.75, 1e-6, 'SPS');
  close(a.mm, 0.25, 1e-12, 'MM');
  const avg = averageMetrics([a, b]);
  assert.is(avg.n, 2);
  close(avg.ai, 50, 1e-12, 'AI average');
  close(avg.ad, 25, 1e-9, 'AD average');
  close(avg.sps, (a.sps + b.sps) / 2, 1e-12, 'SPS average');
  close(avg.mm, 0.625, 1e-12, 'MM average');
  const st = maskStatistics(new Float32Array([0.5, 0, 0.25, 1]));
  close(st.comp, 0.9557, 1e-4, 'COMP of a Float32Array');
});

test('SSIM equals the scikit-image algorithm; Spearman equals scipy; ROC AUC equals scikit-learn', () => {
  const fx = readJSON<any>('metrics/similarity.json');
  for (const c of fx.ssim) close(ssim(c.x, c.y, c.h, c.w), c.ssim, 1e-6, `ssim ${c.h}×${c.w}`);
  for (const c of fx.spearman) close(spearman(c.a, c.b), c.rho, 1e-12, `spearman n=${c.a.length}`);
  for (const c of fx.auc) close(rocAuc(c.scores, c.labels), c.auc, 1e-12, `auc n=${c.scores.length}`);
  assert.equal(Array.from(rankdata([3, 1, 3, 2])), [3.5, 1, 3.5, 2]);
  assert.ok(Number.isNaN(rocAuc([0.1, 0.2], [1, 1])), 'one class only: NaN');
  assert.equal(Array.from(idealBinaryMask(new Float32Array([1, 0.2, 3]), new Float32Array([0.5, 0.3, 3]))), [1, 0, 0]);
});

test('bad inputs name the problem', () => {
  throwsCode(() => gini([]), 'BAD_ARGUMENT', /empty/);
  throwsCode(() => gini([1, NaN]), 'NOT_FINITE', /attribution\[1\]/);
  throwsCode(() => probabilityMetrics(1.5, 0.5, 0.5), 'BAD_ARGUMENT', /p\(X\).*\[0, 1\]/);
  throwsCode(() => probabilityMetrics([0.5, 0.5], [1, 0, 0], [0.5, 0.5]), 'BAD_SHAPE', /same number of classes/);
  throwsCode(() => ssim([1, 2], [1, 2], 1, 2), 'BAD_SHAPE', /winSize 7/);
  throwsCode(() => ssim(new Array(64).fill(0), new Array(63).fill(0), 8, 8), 'BAD_SHAPE', /8×8 = 64/);
  throwsCode(() => ssim(new Array(64).fill(0), new Array(64).fill(0), 8, 8, { winSize: 4 }), 'BAD_ARGUMENT', /odd/);
  throwsCode(() => rocAuc([1, 2], [1]), 'BAD_SHAPE', /2 scores but 1 labels/);
  throwsCode(() => spearman([1, 2, 3], [1, 2]), 'BAD_SHAPE', /same length/);
  throwsCode(() => idealBinaryMask(new Float32Array(3), new Float32Array(2)), 'BAD_SHAPE');
});

test.run();
