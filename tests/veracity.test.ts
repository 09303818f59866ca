/**
 * Bookkeeping of the veracity experiments (src/veracity/flip.ts, localised.ts, fidelity.ts,
 * drawing.ts, experiment.ts selection, experiment-summary.ts, plot.ts) on hand-made cases whose
 * answers are worked out by hand in the comments; quartiles follow NumPy's default 'linear'
 * percentile (values stated from numpy.percentile).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addSegments, flipRates, isLabel, labelOf, percent, positiveForTarget, rankForTarget, segmentMask, segmentNorms, topByNorm, topForTarget } from '../src/veracity/flip.ts';
import { meanRecoveredFraction, recovered, recoveryHistogram } from '../src/veracity/localised.ts';
import { boxStats, fidelitySplit, quantileSorted } from '../src/veracity/fidelity.ts';
import { drawInk, drawnComponents, drawUntilVoice, maskedLevel, noteInk, singNote } from '../src/veracity/drawing.ts';
import { logMelClassifier, selectExcerpts, type AdversarialRecord, type DrawingRecord, type VeracityConfig } from '../src/veracity/experiment.ts';
import { summariseAdversarial, summariseDrawing } from '../src/veracity/experiment-summary.ts';
import { barPlots, boxPlots, linePlots } from '../src/veracity/plot.ts';
import { fromFunction } from '../src/model/adapters.ts';
import { FrontEnd } from '../src/frontend/frontend.ts';
import { gridLabels } from '../bindings/lime.ts';
import { throwsCode, rejectsCode } from './helpers.ts';

// A 4 × 4 excerpt (rows = time) on a 2 × 2 grid: component = 2·(t ≥ 2) + (f ≥ 2).
const L4 = gridLabels(4, 4, { time: 2, freq: 2 });

test('flip: segment norms are the L2 norm per component, with per-band scale', () => {
  assert.equal(Array.from(L4), [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
  const delta = Float32Array.from([1, 2, 0, 0, 2, 4, 0, 3, 0, 0, 0, 0, 0, 0, 0, -1]);
  // c0: 1 + 4 + 4 + 16 = 25 → 5; c1: 9 → 3; c2: 0; c3: 1 → 1
  assert.equal(Array.from(segmentNorms(delta, L4, 4)), [5, 3, 0, 1]);
  // band scale (1, 0.5, 2, 1): c0: 1 + 1 + 4 + 4 = 10; c1: (3·1)² = 9; c3: (−1·1)² = 1
  const scaled = segmentNorms(delta, L4, 4, Float32Array.from([1, 0.5, 2, 1]));
  assert.ok(Math.abs(scaled[0]! - Math.sqrt(10)) < 1e-12);
  assert.equal([scaled[1], scaled[2], scaled[3]], [3, 0, 1]);
  // cells labelled −1 never count
  const partial = Int32Array.from(L4, (l, i) => (i === 0 ? -1 : l));
  assert.is(segmentNorms(delta, partial, 4)[0], Math.sqrt(24));
  throwsCode(() => segmentNorms(delta.subarray(1), L4, 4), 'BAD_SHAPE', /labels/);
  throwsCode(() => segmentNorms(Float32Array.from(delta, (v, i) => (i === 3 ? NaN : v)), L4, 4), 'NOT_FINITE', /delta\[3\]/);
  throwsCode(() => segmentNorms(delta, L4, 3), 'BAD_ARGUMENT', /labels\[10\] = 3/);
  throwsCode(() => segmentNorms(delta, L4, 4, new Float32Array(3)), 'BAD_SHAPE', /bandScale/);
});

test('flip: rankings for the adversarial target, ties by index', () => {
  const w = [0.1, -0.3, 0.3, 0, 0.1];
  assert.equal(rankForTarget(w, 1), [2, 0, 4, 3, 1]);
  assert.equal(rankForTarget(w, 0), [1, 3, 0, 4, 2]);
  assert.equal(topForTarget(w, 1, 3), [2, 0, 4]);
  assert.equal(topForTarget(w, 0, 2), [1, 3]);
  // "all positive": > 0 for voice, < 0 for no voice (a zero weight favours neither)
  assert.equal(positiveForTarget(w, 1), [2, 0, 4]);
  assert.equal(positiveForTarget(w, 0), [1]);
  assert.equal(topByNorm([1, 3, 3, 0.5], 3), [1, 2, 0]);
  assert.equal(topByNorm([1, 3], 0), []);
  throwsCode(() => topByNorm([1, 2], 3), 'BAD_ARGUMENT', /k must be an integer in \[0, 2\]/);
  throwsCode(() => rankForTarget(w, 2 as 0), 'BAD_ARGUMENT', /target must be 0/);
  throwsCode(() => rankForTarget([0, NaN], 1), 'NOT_FINITE', /value 1/);
});

test('flip: adding back chosen segments and the flip decision', () => {
  const x = Float32Array.from({ length: 16 }, (_, i) => i);
  const delta = new Float32Array(16).fill(100);
  const y = addSegments(x, delta, L4, [1, 2]);
  assert.equal(Array.from(y), [0, 1, 102, 103, 4, 5, 106, 107, 108, 109, 10, 11, 112, 113, 14, 15]);
  assert.equal(Array.from(addSegments(x, delta, L4, [])), Array.from(x));
  assert.equal(Array.from(segmentMask(L4, [3])), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  throwsCode(() => addSegments(x, delta.subarray(2), L4, [0]), 'BAD_SHAPE', /delta/);
  throwsCode(() => addSegments(x, delta, L4, [-1]), 'BAD_ARGUMENT', /selected component/);
  // voice when p > t, no voice when p < t; p = t is neither
  assert.ok(isLabel(0.6, 1, 0.5) && !isLabel(0.5, 1, 0.5) && !isLabel(0.5, 0, 0.5) && isLabel(0.4, 0, 0.5));
  assert.is(labelOf(0.5, 0.5), 0);
  assert.is(labelOf(0.51, 0.5), 1);
  throwsCode(() => isLabel(NaN, 1, 0.5), 'NOT_FINITE', /NaN/);
  throwsCode(() => isLabel(0.3, 1, 1.5), 'BAD_ARGUMENT', /threshold/);
});

test('flip: rates per k over excerpts', () => {
  const r = flipRates([
    { explanation: [false, true, true], norm: [true, true, true] },
    { explanation: [false, false, true], norm: [false, true, true] },
    { explanation: [false, false, false], norm: [false, false, true] },
    { explanation: [true, true, true], norm: [true, true, true] },
  ]);
  assert.equal(r, { explanation: [25, 50, 75], norm: [50, 75, 100], n: 4 });
  assert.equal(flipRates([]), { explanation: [], norm: [], n: 0 });
  throwsCode(() => flipRates([{ explanation: [true], norm: [true] }, { explanation: [true, false], norm: [true, false] }]), 'BAD_SHAPE', /flip curve 1/);
  assert.is(percent([true, false, false, false]), 25);
  assert.ok(Number.isNaN(percent([])));
});

test('localised: recovered segments, histogram, mean fraction', () => {
  assert.is(recovered([3, 7, 1], [7, 2, 3, 1, 0]), 2); // top-3 = {7, 2, 3}
  assert.is(recovered([5], [5, 1]), 1);
  assert.is(recovered([5], [1, 5]), 0);
  assert.is(recovered([3, 7], [7, 2, 3], 3), 2);
  throwsCode(() => recovered([1, 1], [1, 2]), 'BAD_ARGUMENT', /repeated/);
  throwsCode(() => recovered([1, 2, 3], [1, 2]), 'BAD_ARGUMENT', /k must be/);
  assert.equal(recoveryHistogram([0, 1, 1, 3, 2, 1], 3), [1, 3, 1, 1]);
  throwsCode(() => recoveryHistogram([4], 3), 'BAD_ARGUMENT', /recovered count/);
  assert.is(meanRecoveredFraction([0, 1, 3, 2], 3), 0.5);
  assert.ok(Number.isNaN(meanRecoveredFraction([], 3)));
});

test('fidelity: quartiles as numpy.percentile (linear), split by correctness', () => {
  // numpy.percentile([4, 1, 3, 2], [0, 25, 50, 75, 100]) = [1, 1.75, 2.5, 3.25, 4]
  assert.equal(boxStats([4, 1, 3, 2]), { n: 4, min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4, mean: 2.5 });
  // numpy.percentile([0.2, 0.9, 0.4, 0.7, 0.5], 25) = 0.4, 75 → 0.7
  const b = boxStats([0.2, 0.9, 0.4, 0.7, 0.5]);
  assert.equal([b.q1, b.median, b.q3], [0.4, 0.5, 0.7]);
  assert.is(quantileSorted([10, 20], 0.1), 11);
  assert.is(boxStats([]).n, 0);
  throwsCode(() => boxStats([1, Infinity]), 'NOT_FINITE', /value 1/);
  const s = fidelitySplit([{ correct: true, fidelity: 0.8 }, { correct: false, fidelity: 0.6 }, { correct: true, fidelity: 0.7 }]);
  assert.equal([s.correct.n, s.correct.median, s.wrong.n, s.wrong.median], [2, 0.75, 1, 0.6]);
});

test('drawing: the ink goes only where the mask is, in the magnitude domain', () => {
  const L = Float32Array.from([0, Math.log(2), -1, 1]);
  const ink = Float32Array.from([1, 0.5, 1, 1]);
  const mask = Float32Array.from([1, 1, 0, 1]);
  const y = drawInk(L, ink, mask, 2);
  // ln(1 + 2), ln(2 + 1), unchanged, ln(e + 2)
  assert.ok(Math.abs(y[0]! - Math.log(3)) < 1e-6 && Math.abs(y[1]! - Math.log(3)) < 1e-6 && y[2] === -1 && Math.abs(y[3]! - Math.log(Math.E + 2)) < 1e-6);
  assert.ok(Math.abs(maskedLevel(L, mask) - (1 + 2 + Math.E) / 3) < 1e-6);
  throwsCode(() => maskedLevel(L, new Float32Array(4)), 'BAD_ARGUMENT', /mask is empty/);
  throwsCode(() => drawInk(L, ink.subarray(1), mask, 1), 'BAD_SHAPE', /ink/);
  throwsCode(() => drawInk(L, ink, mask, -1), 'BAD_ARGUMENT', /gain/);
  assert.equal(drawnComponents(2, 3, 4), [8, 9, 10]);
  throwsCode(() => drawnComponents(0, 5, 4), 'BAD_ARGUMENT', /k \(drawn components\)/);
});

test('drawing: the quietest drawing that flips is kept; none flips → null', async () => {
  const L = new Float32Array(4); // e^0 = 1 everywhere: level 1
  const ink = new Float32Array(4).fill(1);
  const mask = Float32Array.from([1, 1, 0, 0]);
  // P(voice) = the drawn magnitude e^{L[0]} − 1 = gain, capped at 1
  const predict = async (b: Float32Array, n: number) => Float32Array.from({ length: n }, (_, i) => Math.min(1, Math.exp(b[i * 4]!) - 1));
  const r = await drawUntilVoice(predict, L, ink, mask, { threshold: 0.3, steps: [0.1, 0.2, 0.4, 0.8] });
  assert.is(r.relativeGain, 0.4);
  assert.is(r.gain, 0.4);
  assert.ok(Math.abs(r.drawn![0]! - Math.log(1.4)) < 1e-6 && r.drawn![2] === 0);
  assert.equal(r.probabilities.length, 4);
  const none = await drawUntilVoice(predict, L, ink, mask, { threshold: 0.9, steps: [0.1, 0.2] });
  assert.equal([none.gain, none.drawn], [null, null]);
  await rejectsCode(() => drawUntilVoice(predict, L, ink, mask, { threshold: 2 }), 'BAD_ARGUMENT', /threshold/);
});

test('drawing: the note has the requested pitch and its ink peaks in the fundamental band', () => {
  const sr = 22050;
  const y = singNote(8192, sr, { f0: 300, vibratoCents: 0 });
  assert.ok(Math.abs(Math.max(...Array.from(y, Math.abs)) - 1) < 1e-6);
  // autocorrelation peak between 2 and 5 ms (one period, not two): lag ≈ sr / f0 = 73.5 samples
  let best = 0;
  let bestLag = 0;
  for (let lag = 44; lag < 110; lag++) {
    let s = 0;
    for (let i = 0; i + lag < y.length; i++) s += y[i]! * y[i + lag]!;
    if (s > best) [best, bestLag] = [s, lag];
  }
  assert.ok(Math.abs(bestLag - sr / 300) <= 1, `lag ${bestLag}`);
  const fe = new FrontEnd();
  const ink = noteInk(fe, { f0: 300, vibratoCents: 0, harmonics: 1 });
  assert.is(ink.length, 115 * 80);
  // mel band centres (HTK): the band whose peak is nearest 300 Hz carries the most ink
  const mel = (f: number) => 1127 * Math.log(1 + f / 700);
  const lo = mel(27.5);
  const hi = mel(8000);
  const centre = (b: number) => 700 * (Math.exp((lo + ((hi - lo) * (b + 1)) / 81) / 1127) - 1);
  let arg = 0;
  for (let b = 1; b < 80; b++) if (ink[57 * 80 + b]! > ink[57 * 80 + arg]!) arg = b;
  assert.ok(Math.abs(centre(arg) - 300) < 0.5 * (centre(arg + 1) - centre(arg - 1)), `band ${arg} at ${centre(arg)} Hz`);
  throwsCode(() => singNote(100, sr, { f0: 20000 }), 'BAD_ARGUMENT', /f0/);
});

test('experiment: the log-mel view z-scores before the model', async () => {
  const seen: number[] = [];
  const inner = fromFunction(async (b, n) => {
    seen.push(...b.subarray(0, 4));
    return new Float32Array(n).fill(0.25);
  }, { id: 'probe', inputShape: [2, 2], labels: ['voice'] });
  const c = logMelClassifier(inner, { mean: Float32Array.from([1, -1]), std: Float32Array.from([2, 0.5]) });
  const p = await c.predict(Float32Array.from([3, 0, 1, -2]), 1);
  assert.equal(Array.from(p), [0.25]);
  assert.equal(seen, [1, 2, 0, -2]); // (3−1)/2, (0+1)/0.5, (1−1)/2, (−2+1)/0.5
  await rejectsCode(() => c.predict(new Float32Array(3), 1), 'BAD_SHAPE', /4 values/);
});

test('experiment: excerpt selection by predicted label, inside the file, no overlap, seeded', () => {
  const P = 2; // excerpts of 5 frames: centres in [2, n − 3]
  const mk = (name: string, p: number[]) => ({ file: `${name}.wav`, name, p: Float32Array.from(p) });
  const files = [mk('a', [0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9]), mk('b', [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]), mk('c', [0.9, 0.9])];
  const picks = selectExcerpts(files, 3, 0.5, 7, [1, 0], P);
  const voice = picks.filter((p) => p.label === 1);
  const none = picks.filter((p) => p.label === 0);
  // a: voice centres 2, 3, 7, 8, 9 and no-voice 4, 5, 6; b: no-voice 2…7; c: too short.
  // Spacing > 4 frames within a file and label: at most 2 voice (a), 1 + 2 no voice.
  assert.ok(voice.length >= 1 && voice.length <= 2 && none.length >= 2 && none.length <= 3, JSON.stringify(picks));
  for (const p of picks) {
    const f = files.find((x) => x.name === p.name)!;
    assert.ok(p.frame >= P && p.frame + P < f.p.length, `${p.name}@${p.frame} inside`);
    assert.is(labelOf(f.p[p.frame]!, 0.5), p.label);
  }
  for (const a of picks) for (const b of picks) if (a !== b && a.name === b.name && a.label === b.label) assert.ok(Math.abs(a.frame - b.frame) > 2 * P, 'no overlap');
  assert.equal(selectExcerpts(files, 3, 0.5, 7, [1, 0], P), picks, 'same seed, same picks');
  assert.equal(selectExcerpts(files, 0, 0.5, 7, [1, 0], P), []);
});

const CONFIG: VeracityConfig = { domain: 'spectrogram', model: 'm', engine: 'auto', threshold: 0.5, maxIterations: 10, context: 0, samples: 64, kernelWidth: 0.25, shapSamples: 32, methods: ['lime'], ks: [1], drawKs: [1], seed: 0 };

function record(target: 0 | 1, topK: boolean[], normK: boolean[], pos: [number, boolean, boolean], loc: { flipped: boolean; recovered: number; score: number } | null, valid = true): AdversarialRecord {
  return {
    name: 'f', frame: 60, p0: target ? 0.2 : 0.8, original: target ? 0 : 1, target,
    attack: { success: valid, iterations: 3, snrDb: 30, linf: 0.1, ms: 1 }, pAdv: target ? 0.8 : 0.2, valid,
    norms: [3, 2, 1], pNormTopK: [0, 0, 0], flipNormTopK: normK,
    methods: { lime: { weights: [0, 0, 0], ranking: [0, 1, 2], score: 0.5, pTopK: [0, 0, 0], flipTopK: topK, kPositive: pos[0], pPositive: 0, flipPositive: pos[1], pNormPositive: 0, flipNormPositive: pos[2], forwardPasses: 8, ms: 1 } },
    localised: loc ? [{ k: 1, segments: [0], p: 0.9, flipped: loc.flipped, methods: loc.flipped ? { lime: { ranking: [0, 1, 2], recovered: loc.recovered, correct: loc.recovered === 1, score: loc.score, ms: 1 } } : {} }] : [],
    ms: 10,
  };
}

test('summary: Table 1, Table 2, Fig. 3 and Fig. 4 numbers from hand-made records', () => {
  const recs = [
    record(1, [false, false, true], [true, true, true], [2, true, true], { flipped: true, recovered: 1, score: 0.9 }),
    record(1, [false, true, true], [false, true, true], [1, false, true], { flipped: true, recovered: 0, score: 0.5 }),
    record(1, [false, false, false], [false, false, true], [3, false, false], { flipped: false, recovered: 0, score: 0 }),
    record(1, [true, true, true], [true, true, true], [0, false, false], null, false), // attack failed: not counted
    record(0, [true, true, true], [true, true, true], [1, true, true], { flipped: true, recovered: 1, score: 0.7 }),
  ];
  const s = summariseAdversarial(recs, CONFIG);
  const t1 = s.numbers.table1 as Record<string, Record<string, number>>;
  // no voice → voice: 3 valid; top-3 flips 2 of 3 (LIME) and 3 of 3 (norm)
  assert.equal(t1['no voice -> voice'], { n: 3, norm: 100, lime: (200 / 3) });
  assert.equal(t1['voice -> no voice'], { n: 1, norm: 100, lime: 100 });
  const t2 = s.numbers.table2 as Record<string, Record<string, { explanation: number; norm: number; meanK: number }>>;
  assert.equal(t2['no voice -> voice']!.lime, { explanation: 100 / 3, norm: 200 / 3, meanK: 2 });
  const f3 = s.numbers.fig3 as Record<string, Record<number, Record<string, { n: number; hist: number[] }>>>;
  assert.equal(f3['no voice -> voice']![1]!.lime!.n, 2);
  assert.equal(f3['no voice -> voice']![1]!.lime!.hist, [1, 1]);
  const f4 = s.numbers.fig4 as Record<string, Record<string, { correct: { median: number; n: number }; wrong: { median: number; n: number } }>>;
  assert.equal([f4['no voice -> voice']!.lime!.correct.median, f4['no voice -> voice']!.lime!.wrong.median], [0.9, 0.5]);
  assert.match(s.text['summary.txt']!, /4 excerpts attacked, 3 succeeded/);
  assert.match(s.text['table1.csv']!, /spectrogram,no voice -> voice,3,66\.666667,100,41/);
  for (const n of ['fig2_flip_curves.png', 'fig3_localised.png', 'fig4_fidelity.png']) assert.ok(s.png[n]!.length > 100, n);
  const fig2 = s.text['fig2_flip_curves.csv']!.trim().split('\n');
  assert.is(fig2.length, 1 + 2 * 2 * 3); // 2 directions × (lime, norm) × 3 k
});

test('summary: drawing counts', () => {
  const draw = (fooled: boolean, top: number[]): DrawingRecord => ({
    name: 'f', frame: 70, p0: 0.1, timeBlock: 1, f0: 300, ms: 5,
    draws: [{ k: 1, components: [4], fooled, relativeGain: fooled ? 1 : null, p: fooled ? 0.6 : null, methods: fooled ? { lime: { ranking: top, recovered: top[0] === 4 ? 1 : 0, positive: top.slice(0, 1), recoveredPositive: top[0] === 4 ? 1 : 0, score: 0.8 } } : {} }],
  });
  const s = summariseDrawing([draw(true, [4, 1]), draw(true, [2, 4]), draw(false, [])], CONFIG);
  assert.equal(s.numbers.k1_lime, { excerpts: 3, fooled: 2, hist: [1, 1], allFound: 50, meanFraction: 0.5, medianScore: 0.8 });
  assert.ok(s.png['fig1_drawing.png']!.length > 100);
});

function pngSize(png: Uint8Array): [number, number] {
  assert.equal(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset);
  return [dv.getUint32(16), dv.getUint32(20)];
}

test('plots: PNGs of the stated size whose pixels carry the series colours', () => {
  const line = linePlots([{ title: 'a', series: [{ name: 'lime', x: [1, 2, 3], y: [10, 50, 90] }] }, { title: 'b', series: [] }], { xLabel: 'k', yLabel: '%', xRange: [0, 4], yRange: [0, 100], xTicks: [1, 2, 3], yTicks: [0, 50, 100], panelWidth: 200, height: 150 });
  assert.equal(pngSize(line.png()), [400, 150]);
  // the first series is blue (31, 119, 180): some pixel has it
  let blue = 0;
  for (let i = 0; i < line.px.length; i += 3) if (line.px[i] === 31 && line.px[i + 1] === 119 && line.px[i + 2] === 180) blue++;
  assert.ok(blue > 10);
  const bars = barPlots([{ title: 'k=1', groups: [{ label: '0', values: [3, 1] }, { label: '1', values: [2, 4] }] }], { seriesNames: ['lime', 'shap'], xLabel: 'x', yLabel: 'n' });
  const png = bars.png();
  assert.equal(pngSize(png), [300, 280]);
  const box = boxPlots([{ title: 't', boxes: [{ label: 'a', stats: boxStats([0.1, 0.5, 0.9]) }] }], { yLabel: 'r2', yRange: [0, 1], yTicks: [0, 1] });
  assert.equal(pngSize(box.png()), [240, 280]);
});

test.run();
