// audioLIME (src/explain/audiolime, bindings/audiolime.ts, the CLI module): the reference's
// segment and naming conventions (CPJKU/audioLIME: one segment per second up to 10, equal
// lengths, remainder dropped; "vocals3", index segment·S + source); the fast spectral path equals
// the front end run on the summed waveform (1e-4 on the log-mel); receptive-field caching equals
// one full pass per sample (1e-5); classifiers that respond to one source only are explained by
// that source (exact linear answer for a waveform model); bad sources and options are named;
// a tiny CLI run writes every file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceComponents, temporalSegments } from '../src/explain/audiolime/components.ts';
import { SpectralComposer } from '../src/explain/audiolime/spectral.ts';
import { explainAudioLime, type AudioLimeOptions } from '../src/explain/audiolime/explain.ts';
import { audioLimeToObject, audioLimePixels, listenableAudioLime } from '../src/explain/audiolime/render.ts';
import { SpectraSum } from '../bindings/audiolime.ts';
import { FrontEnd } from '../src/frontend/frontend.ts';
import { SVD_FRONTEND } from '../src/frontend/config.ts';
import { Rng } from '../src/explain/rng.ts';
import type { Classifier } from '../src/model/classifier.ts';
import { writeWavFile } from '../src/audio/node.ts';
import { explainAudioLimeCommand } from '../src/cli/commands/explain-audiolime.ts';
import { rejectsCode, throwsCode } from './helpers.ts';

const SR = 22050;
const T = 115;
const F = 80;
const ZERO_STATS = { mean: new Float32Array(F), std: new Float32Array(F).fill(1) };

function tone(n: number, hz: number, amp: number, phase = 0): Float32Array {
  return new Float32Array(n).map((_, i) => amp * Math.sin((2 * Math.PI * hz * i) / SR + phase));
}
function noise(n: number, amp: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return new Float32Array(n).map(() => amp * r.normal());
}

// ---------------------------------------------------------------- segments and names

test('default segmentation: one segment per second, at most 10, equal lengths, remainder dropped', () => {
  const s = temporalSegments(3.5 * SR, SR);
  assert.is(s.segments.length, 3);
  const per = Math.floor((3.5 * SR) / 3);
  assert.equal(s.segments, [[0, per], [per, 2 * per], [2 * per, 3 * per]]);
  assert.is(s.explainedLength, 3 * per);
  const long = temporalSegments(25 * SR + 7, SR);
  assert.is(long.segments.length, 10);
  assert.is(long.segments[9]![1], 10 * Math.floor((25 * SR + 7) / 10));
  const n = temporalSegments(1001, 1000, { segments: 4 });
  assert.equal(n.segments, [[0, 250], [250, 500], [500, 750], [750, 1000]]);
  assert.is(n.explainedLength, 1000);
  const b = temporalSegments(2 * SR, SR, { boundaries: [0.5, 1, 1.75] });
  assert.equal(b.segments, [[SR / 2, SR], [SR, Math.round(1.75 * SR)]]);
  assert.is(b.explainedLength, Math.round(1.75 * SR));
});

test('segmentation errors name the problem', () => {
  throwsCode(() => temporalSegments(SR / 2, SR), 'TOO_SHORT', /at least 1 s/);
  throwsCode(() => temporalSegments(SR, SR, { segments: 2, boundaries: [0, 1] }), 'BAD_ARGUMENT', /either segments/);
  throwsCode(() => temporalSegments(SR, SR, { boundaries: [0, 0.5, 0.5] }), 'BAD_ARGUMENT', /increase/);
  throwsCode(() => temporalSegments(SR, SR, { boundaries: [0, 2] }), 'BAD_ARGUMENT', /past the end/);
  throwsCode(() => temporalSegments(SR, SR, { boundaries: [0] }), 'BAD_ARGUMENT', /at least 2/);
  throwsCode(() => temporalSegments(SR, SR, { segments: 0 }), 'BAD_ARGUMENT', /segments/);
});

test('components are named source + segment ("vocals3") in segment-major order, and sum per row', () => {
  const n = 4 * SR;
  const v = tone(n, 440, 0.3);
  const a = noise(n, 0.1, 1);
  const c = new SourceComponents({ names: ['vocals', 'accompaniment'], sources: [v, a], sampleRate: SR });
  assert.is(c.d, 8);
  assert.equal(c.names, ['vocals0', 'accompaniment0', 'vocals1', 'accompaniment1', 'vocals2', 'accompaniment2', 'vocals3', 'accompaniment3']);
  assert.is(c.index(0, 3), 6);
  assert.is(c.sourceOf(7), 1);
  assert.is(c.segmentOf(7), 3);
  const bits = Uint8Array.from([1, 0, 0, 1, 0, 0, 1, 1]);
  const w = c.waveform(bits);
  assert.is(w[10], v[10]); // vocals0
  assert.is(w[SR + 10], a[SR + 10]); // accompaniment1
  assert.is(w[2 * SR + 10], 0); // segment 2 off
  assert.ok(Math.abs(w[3 * SR + 10]! - (v[3 * SR + 10]! + a[3 * SR + 10]!)) < 1e-7);
  const out = new Float32Array(2 * c.inputSize);
  c.compose(Uint8Array.from([...bits, ...new Uint8Array(8)]), 2, out);
  assert.equal(out.subarray(0, c.inputSize), w);
  assert.ok(out.subarray(c.inputSize).every((x) => x === 0)); // all off = silence
});

test('bad sources are named', () => {
  const x = new Float32Array(SR);
  throwsCode(() => new SourceComponents({ names: ['vocals', 'drums'], sources: [x, new Float32Array(SR - 5)], sampleRate: SR }), 'BAD_SHAPE', /source 'drums' has 22045 samples/);
  throwsCode(() => new SourceComponents({ names: ['a', 'a'], sources: [x, x], sampleRate: SR }), 'BAD_ARGUMENT', /'a' is used twice/);
  throwsCode(() => new SourceComponents({ names: ['3d'], sources: [x], sampleRate: SR }), 'BAD_ARGUMENT', /must start with a letter/);
  const bad = x.slice();
  bad[77] = NaN;
  throwsCode(() => new SourceComponents({ names: ['vocals'], sources: [bad], sampleRate: SR }), 'NOT_FINITE', /source 'vocals' sample 77/);
  throwsCode(() => new SourceComponents({ names: ['vocals'], sources: [x, x], sampleRate: SR }), 'BAD_ARGUMENT', /1 source names for 2/);
  throwsCode(() => new SourceComponents({ names: [], sources: [], sampleRate: SR }), 'BAD_ARGUMENT', /at least one source/);
});

// ---------------------------------------------------------------- the fast spectral path

test('fast spectral path = front end on the summed waveform (1e-4 on the log-mel), boundaries off the frame grid', () => {
  const n = Math.round(2.2 * SR);
  // every source has some broadband content, as real audio does: where a spectrum is at the
  // float32 rounding level of a 1024-point FFT (≈ 1e-7 of its peak) neither path is exact
  const srcs = [tone(n, 330, 0.3).map((v, i) => v + 0.01 * Math.sin(i * 1.3) * Math.sin(i * 0.37)), noise(n, 0.05, 2), tone(n, 2500, 0.1, 1).map((v, i) => v * (i % 4000 < 2000 ? 1 : 0.2))];
  const extra = noise(n, 0.003, 4);
  for (const x of [srcs[0]!, srcs[2]!]) for (let i = 0; i < n; i++) x[i] += extra[i]!;
  const c = new SourceComponents({ names: ['a', 'b', 'c'], sources: srcs, sampleRate: SR }, { boundaries: [0, 0.731, 1.513, 2.2] });
  const fe = new FrontEnd(SVD_FRONTEND);
  const comp = new SpectralComposer(c, SVD_FRONTEND, null);
  try {
    const r = new Rng(5);
    const bits = new Uint8Array(c.d);
    let worst = 0;
    for (let trial = 0; trial < 8; trial++) {
      for (let j = 0; j < c.d; j++) bits[j] = trial === 0 ? 1 : r.below(2);
      const fast = comp.logMel(bits);
      const slow = fe.logMel(c.waveform(bits)).data;
      assert.is(fast.length, slow.length);
      for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i]! - slow[i]!));
      const part = comp.logMel(bits, 40, 90);
      assert.equal(part, fast.subarray(40 * F, 90 * F));
    }
    assert.ok(worst <= 1e-4, `max |fast − slow| = ${worst}`);
  } finally {
    comp.dispose();
  }
});

test('SpectraSum validates every size and option by name', () => {
  const fb = new Float32Array(2 * 4).fill(0.25);
  const ok = { components: 2, nFrames: 2, nBins: 4, frameStart: Int32Array.from([0, 1, 2]), entryComponent: Int32Array.from([0, 1]), spectra: new Float32Array(16), filterbank: fb, nMels: 2 };
  const s = new SpectraSum(ok);
  const lm = s.logMel(Uint8Array.from([1, 1]), 0, 2);
  assert.ok(lm.every((v) => Math.abs(v - Math.log(1e-7)) < 1e-5)); // zero spectra → the log floor
  throwsCode(() => s.logMel(Uint8Array.from([1]), 0, 2), 'BAD_SHAPE', /bits/);
  throwsCode(() => s.logMel(Uint8Array.from([1, 1]), 1, 1), 'BAD_ARGUMENT', /f1/);
  s.dispose();
  throwsCode(() => s.logMel(Uint8Array.from([1, 1]), 0, 1), 'DISPOSED');
  throwsCode(() => new SpectraSum({ ...ok, entryComponent: Int32Array.from([0, 2]) }), 'BAD_ARGUMENT', /entryComponent\[1\] = 2/);
  throwsCode(() => new SpectraSum({ ...ok, frameStart: Int32Array.from([0, 2, 1]) }), 'BAD_ARGUMENT', /non-decreasing/);
  throwsCode(() => new SpectraSum({ ...ok, spectra: new Float32Array(15) }), 'BAD_SHAPE', /spectra/);
  const nan = new Float32Array(16);
  nan[3] = NaN;
  throwsCode(() => new SpectraSum({ ...ok, spectra: nan }), 'NOT_FINITE', /spectra\[3\]/);
  throwsCode(() => new SpectraSum({ ...ok, mean: new Float32Array(2) }), 'BAD_ARGUMENT', /both mean and std/);
  throwsCode(() => new SpectraSum({ ...ok, spectrum: 'db' as never }), 'BAD_ARGUMENT', /spectrum/);
  throwsCode(() => new SpectraSum({ ...ok, extra: 1 } as never), 'BAD_ARGUMENT', /unknown option 'extra'/);
});

// ---------------------------------------------------------------- frame models and caching

/**
 * P of an excerpt: 1 − exp(−m), m = the mean over its frames and bands [b0, b1) of the log-mel
 * above −6 (energy below e^−6, e.g. another source's window side lobes, does not count).
 */
function bandScore(x: Float32Array, o: number, b0: number, b1: number): number {
  let s = 0;
  for (let t = 0; t < T; t++) for (let b = b0; b < b1; b++) s += Math.max(0, x[o + t * F + b]! + 6);
  return 1 - Math.exp(-s / (T * (b1 - b0)));
}

function excerptModel(b0: number, b1: number, calls: { n: number }): Classifier {
  return {
    id: `band-${b0}-${b1}`, inputShape: [T, F], labels: ['voice'],
    async predict(batch, n) {
      calls.n += n;
      return Float32Array.from({ length: n }, (_, i) => bandScore(batch, i * T * F, b0, b1));
    },
    dispose() {},
  };
}

/** The same model with a frame-wise form (what the SVD CNN's fully-convolutional path offers). */
function frameModel(b0: number, b1: number, calls: { frames: number }): Classifier {
  return {
    ...excerptModel(b0, b1, { n: 0 }),
    id: `band-frames-${b0}-${b1}`,
    async predictFrames(spec: Float32Array, rows: number, opts?: { padded?: boolean }) {
      assert.ok(opts?.padded);
      const m = rows - T + 1;
      calls.frames += m;
      return Float32Array.from({ length: m }, (_, c) => bandScore(spec, c * F, b0, b1));
    },
  } as Classifier;
}

// A: 3 kHz tone (high bands), B: 150 Hz tone (low bands); the models read bands 48–60 only (the tone sits in bands 51–53)
const N2 = 3 * SR;
const A = tone(N2, 3000, 0.2);
const B = tone(N2, 150, 0.3);
const AB = { names: ['high', 'low'], sources: [A, B], sampleRate: SR };

test('a frame model that hears only one source is explained by that source (exhaustive design)', async () => {
  const e = await explainAudioLime(frameModel(48, 60, { frames: 0 }), AB, { sampler: 'exhaustive', numSamples: 4096, normStats: ZERO_STATS });
  assert.is(e.components.d, 6);
  const top = e.topPositive(3).map((j) => e.components.names[j]);
  assert.equal(top.slice().sort(), ['high0', 'high1', 'high2']);
  for (let t = 0; t < 3; t++) assert.ok(Math.abs(e.weights[e.components.index(1, t)]!) < 0.02 * e.weights[e.components.index(0, t)]!, `low${t} ≈ 0`);
  // sorted by signed weight, as the reference
  for (let i = 1; i < e.features.length; i++) assert.ok(e.features[i - 1]!.weight >= e.features[i]!.weight);
  assert.is(e.params.target, 'mean over frames');
  assert.ok(e.score > 0.9, `R² ${e.score}`);
});

test('receptive-field caching = one full pass per sample (1e-5), with fewer frames evaluated; predict path = predictFrames path', async () => {
  const base: AudioLimeOptions = { numSamples: 64, sampler: 'dedup', seed: 3, normStats: ZERO_STATS, segments: 3 };
  const cf = { frames: 0 };
  const cached = await explainAudioLime(frameModel(48, 60, cf), AB, { ...base, cache: true });
  const pf = { frames: 0 };
  const plain = await explainAudioLime(frameModel(48, 60, pf), AB, { ...base, cache: false });
  assert.ok(Math.abs(cached.prediction - plain.prediction) < 1e-5);
  for (let j = 0; j < cached.components.d; j++) assert.ok(Math.abs(cached.weights[j]! - plain.weights[j]!) < 1e-5, `weight ${j}`);
  assert.ok(cf.frames < pf.frames, `${cf.frames} < ${pf.frames}`);
  assert.is(cached.params.framesEvaluated, cf.frames);
  const calls = { n: 0 };
  const viaPredict = await explainAudioLime(excerptModel(48, 60, calls), AB, { ...base, cache: true });
  for (let j = 0; j < cached.components.d; j++) assert.ok(Math.abs(cached.weights[j]! - viaPredict.weights[j]!) < 1e-6);
  assert.is(calls.n, cf.frames);
});

test("path 'waveform' (front end on the summed waveform) gives the spectral path's explanation (1e-4)", async () => {
  const base: AudioLimeOptions = { sampler: 'exhaustive', numSamples: 1000, normStats: ZERO_STATS, segments: 2 };
  const fast = await explainAudioLime(frameModel(48, 60, { frames: 0 }), AB, base);
  const slow = await explainAudioLime(frameModel(48, 60, { frames: 0 }), AB, { ...base, path: 'waveform' });
  for (let j = 0; j < fast.components.d; j++) assert.ok(Math.abs(fast.weights[j]! - slow.weights[j]!) < 1e-4, `weight ${j}: ${fast.weights[j]} vs ${slow.weights[j]}`);
});

test('a waveform model linear in one source gets that source’s energy shares as weights, the other source 0', async () => {
  const n = 4 * SR;
  // sources on interleaved samples: exactly orthogonal
  const tgt = new Float32Array(n).map((_, i) => (i % 2 === 0 ? Math.sin(i / 50) * (1 + Math.floor(i / SR)) : 0));
  const other = new Float32Array(n).map((_, i) => (i % 2 === 1 ? Math.cos(i / 7) : 0));
  let e2 = 0;
  for (const v of tgt) e2 += v * v;
  const model: Classifier = {
    id: 'dot', inputShape: [n], labels: ['target'],
    async predict(batch, m) {
      return Float32Array.from({ length: m }, (_, r) => {
        let s = 0;
        for (let i = 0; i < n; i += 2) s += batch[r * n + i]! * tgt[i]!;
        return s / e2;
      });
    },
    dispose() {},
  };
  const e = await explainAudioLime(model, { names: ['target', 'other'], sources: [tgt, other], sampleRate: SR }, { sampler: 'exhaustive', numSamples: 1e6 });
  const c = e.components;
  for (let t = 0; t < 4; t++) {
    let et = 0;
    for (let i = t * SR; i < (t + 1) * SR; i++) et += tgt[i]! * tgt[i]!;
    assert.ok(Math.abs(e.weights[c.index(0, t)]! - et / e2) < 1e-3, `target${t}: ${e.weights[c.index(0, t)]} vs ${et / e2}`);
    assert.ok(Math.abs(e.weights[c.index(1, t)]!) < 1e-3, `other${t}`);
  }
  assert.equal(e.topPositive(4).map((j) => c.names[j]), ['target3', 'target2', 'target1', 'target0']);
  assert.ok(e.score > 0.999);
  assert.ok(Math.abs(e.prediction - 1) < 1e-6);
  const l = listenableAudioLime(e, 2);
  for (let i = 0; i < n; i += 997) assert.ok(Math.abs(l.topk[i]! + l.rest[i]! - (tgt[i]! + other[i]!)) < 1e-6);
  const j = audioLimeToObject(e, 2);
  assert.equal(j.topPositive, ['target3', 'target2']);
  assert.is(j.components[c.index(1, 2)]!.name, 'other2');
  assert.is(j.components[c.index(1, 2)]!.source, 'other');
  assert.is(j.components[c.index(1, 2)]!.segment, 2);
  const img = audioLimePixels(e, { width: 200, rowHeight: 20, topK: 2 });
  assert.is(img.pixels.length, img.width * img.height * 3);
  // the top cell is outlined in black at its corner
  const cell = img.cells[c.index(0, 3)]!;
  const p = (cell.y0 * img.width + cell.x0) * 3;
  assert.equal([img.pixels[p], img.pixels[p + 1], img.pixels[p + 2]], [0, 0, 0]);
});

test('bad options and mismatched classifiers are rejected by name', async () => {
  const m = frameModel(48, 60, { frames: 0 });
  await rejectsCode(() => explainAudioLime(m, AB, { normStats: ZERO_STATS, bogus: 1 } as never), 'BAD_ARGUMENT', /unknown option 'bogus'/);
  await rejectsCode(() => explainAudioLime(m, AB, { normStats: ZERO_STATS, sampler: 'all' as never }), 'BAD_ARGUMENT', /sampler/);
  await rejectsCode(() => explainAudioLime(m, AB, { normStats: ZERO_STATS, numSamples: 0 }), 'BAD_ARGUMENT', /numSamples/);
  await rejectsCode(() => explainAudioLime(m, AB, { normStats: ZERO_STATS, segments: 9, sampler: 'exhaustive' }), 'BAD_ARGUMENT', /exhaustive.*18/);
  await rejectsCode(() => explainAudioLime(m, AB, { normStats: ZERO_STATS, path: 'fast' as never }), 'BAD_ARGUMENT', /path/);
  await rejectsCode(() => explainAudioLime(m, AB, { normStats: ZERO_STATS, cache: 'yes' as never }), 'BAD_ARGUMENT', /cache/);
  await rejectsCode(() => explainAudioLime(m, AB, {}), 'BAD_ARGUMENT', /normStats/);
  await rejectsCode(() => explainAudioLime(m, AB, { normStats: { mean: new Float32Array(3), std: new Float32Array(3) } }), 'BAD_SHAPE', /normStats.mean/);
  const wave: Classifier = { id: 'w', inputShape: [1000], labels: ['x'], predict: async (_b, n) => new Float32Array(n), dispose() {} };
  await rejectsCode(() => explainAudioLime(wave, AB), 'BAD_SHAPE', /takes 1000 samples, the explained audio has 66150/);
  await rejectsCode(() => explainAudioLime(wave, AB, { normStats: ZERO_STATS }), 'BAD_ARGUMENT', /apply to spectrogram classifiers/);
  const cube: Classifier = { id: 'c', inputShape: [2, 3, 4], labels: ['x'], predict: async (_b, n) => new Float32Array(n), dispose() {} };
  await rejectsCode(() => explainAudioLime(cube, AB), 'BAD_SHAPE', /inputShape is \[2, 3, 4\]/);
  const liar: Classifier = { ...wave, inputShape: [66150], predict: async () => new Float32Array(1) };
  await rejectsCode(() => explainAudioLime(liar, AB, { sampler: 'exhaustive', segments: 2 }), 'BAD_OUTPUT', /returned 1 values/);
});

// ---------------------------------------------------------------- the CLI

test('earshot explain --method audiolime: a tiny run writes JSON, PNG, WAVs (one per component) and the page; bad usage is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-audiolime-'));
  const ew = process.stderr.write.bind(process.stderr);
  const ow = process.stdout.write.bind(process.stdout);
  try {
    const n = 2 * SR;
    const v = tone(n, 440, 0.2);
    const a = noise(n, 0.05, 9);
    const mix = v.map((x, i) => x + a[i]!);
    await writeWavFile(join(dir, 'mix.wav'), { sampleRate: SR, channels: [mix] }, { format: 'float32' });
    await writeWavFile(join(dir, 'v.wav'), { sampleRate: SR, channels: [v] }, { format: 'float32' });
    await writeWavFile(join(dir, 'a.wav'), { sampleRate: SR, channels: [a] }, { format: 'float32' });
    writeFileSync(join(dir, 'broken.wav'), 'RIFF not really a wav');
    const out = join(dir, 'out');
    let stdout = '';
    process.stderr.write = (() => true) as never;
    process.stdout.write = ((s: string) => ((stdout += s), true)) as never;
    const code = await explainAudioLimeCommand([
      join(dir, 'mix.wav'), '--method', 'audiolime', '--stems', `vocals=${join(dir, 'v.wav')}`, '--stems', `accompaniment=${join(dir, 'a.wav')}`,
      '--segments', '2', '--samples', '16', '--sampler', 'exhaustive', '--model', 'random:1', '--engine', 'tfjs', '--top', '2', '--out', out,
    ]);
    process.stdout.write = ow;
    assert.is(code, 0);
    for (const f of ['explanation.json', 'audiolime.png', 'mixture.wav', 'topk.wav', 'rest.wav', 'index.html', 'components/vocals0.wav', 'components/accompaniment1.wav']) assert.ok(existsSync(join(out, f)), f);
    assert.match(stdout, /index\.html/);
    const j = JSON.parse(readFileSync(join(out, 'explanation.json'), 'utf8'));
    assert.is(j.format, 'earshot-audiolime');
    assert.equal(j.components.map((c: { name: string }) => c.name), ['vocals0', 'accompaniment0', 'vocals1', 'accompaniment1']);
    assert.ok(Number.isFinite(j.score) && Number.isFinite(j.intercept));
    assert.match(j.params.command, /--method audiolime/);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.match(html, /components\/vocals1\.wav/);
    assert.match(html, /topk\.wav/);
    const run = (extra: string[]) => explainAudioLimeCommand([join(dir, 'mix.wav'), '--out', out, '--model', 'random:1', '--engine', 'tfjs', ...extra]);
    await rejectsCode(() => run([]), 'BAD_USAGE', /exactly one source of components/);
    await rejectsCode(() => run(['--separate', 'ica']), 'BAD_USAGE', /--separate must be one of hpss, repet, nmf/);
    await rejectsCode(() => run(['--separate', 'hpss', '--stems', `v=${join(dir, 'v.wav')}`]), 'BAD_USAGE', /exactly one source/);
    await rejectsCode(() => run(['--separate', 'hpss', '--duration', '11']), 'BAD_USAGE', /--duration must be at most 10/);
    await rejectsCode(() => run(['--separate', 'hpss', '--samples', 'many']), 'BAD_USAGE', /--samples/);
    await rejectsCode(() => run(['--separate', 'hpss', '--segments', '2', '--boundaries', '0,1']), 'BAD_USAGE', /either --segments or --boundaries/);
    await rejectsCode(() => run(['--stems', 'vocals']), 'BAD_USAGE', /name=file\.wav/);
    let err: any = null;
    try {
      await run(['--stems', `vocals=${join(dir, 'broken.wav')}`]);
    } catch (e) {
      err = e;
    }
    assert.ok(err && err.name === 'EarshotError' && err.message.includes('broken.wav'), String(err?.message));
    err = null;
    try {
      await run(['--stems', `vocals=${join(dir, 'missing.wav')}`]);
    } catch (e) {
      err = e;
    }
    assert.ok(err && err.name === 'EarshotError' && err.message.includes('missing.wav'), String(err?.message));
  } finally {
    process.stderr.write = ew;
    process.stdout.write = ow;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
