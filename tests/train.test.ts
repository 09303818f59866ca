/**
 * Training (src/model/train.ts, dataset.ts, augment.ts): the loop learns a synthetic
 * "voice = harmonic band pattern" task on the wasm backend with earshot's conv-gradient kernels,
 * Adam matches tfjs-core's own Adam optimizer and the update written out by hand, augmentation
 * is a pure function of its seed, no tensor leaks, the median filter matches SciPy's
 * median_filter (mode 'nearest') (fixture from scripts/fixtures/train_median.py), and resume continues exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/model/backend.ts';
import { registerWasmTrainingKernels } from '../src/model/wasm_kernels.ts';
import { createSvdCnn, SVD_ARCHITECTURE, type SvdArchitecture } from '../src/model/svdcnn.ts';
import { initWeights, loadWeights } from '../src/model/weights.ts';
import { FrontEnd, SVD_FRONTEND, statsToJSON } from '../src/frontend/index.ts';
import { Adam, evaluate, medianFilter, trainModel, trainStep, tuneThreshold, songBootstrap, ratioBootstrap } from '../src/model/train.ts';
import { ExcerptSampler, bandStats, type Song } from '../src/model/dataset.ts';
import { Rng, checkAugmentOptions, extractExcerpt, applyGain, mixInto, pitchShiftBands, remixVocals, vocalGainCurve, DEFAULT_AUGMENT, NO_AUGMENT, VOCAL_EQ_POINTS } from '../src/model/augment.ts';
import { maxBandsAbove, melAxis, widenFrontEnd } from '../src/frontend/config.ts';
import { ROOT, makeTinyCorpus, readJSON, rejectsCode, throwsCode } from './helpers.ts';
import { trainCommand } from '../src/cli/commands/train.ts';
import { listCorpus, loadSongs } from '../src/model/dataset.ts';
import { loadMono, writeWavFile } from '../src/audio/node.ts';
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';

// A small instance of the same architecture (frames ≡ 7 mod 9) so a step takes milliseconds.
// Dropout off: with 16 and 8 hidden units a 0.5 dropout makes 60 steps too noisy to show the descent.
const ARCH: SvdArchitecture = { ...SVD_ARCHITECTURE, frames: 25, bands: 26, convFilters: [8, 8, 8, 8], dense: [16, 8], dropout: 0 };
const FE = new FrontEnd({ ...SVD_FRONTEND, nMels: 26, excerptFrames: 25, padFrames: 12 });
const LOG_FLOOR = Math.fround(Math.log(1e-7));

/** A song of log-mel frames: noise everywhere, plus harmonic bands 4, 8, 12, 16 where voiced. */
function syntheticSong(id: string, seed: number, nFrames: number, withAcc = true): Song {
  const r = new Rng(seed);
  const B = 26;
  const labels = new Uint8Array(nFrames);
  let t = 0;
  while (t < nFrames) {
    const len = 20 + r.int(40);
    const v = r.next() < 0.5 ? 1 : 0;
    for (let k = 0; k < len && t < nFrames; k++, t++) labels[t] = v;
  }
  const logMel = new Float32Array(nFrames * B);
  const acc = new Float32Array(nFrames * B);
  for (let f = 0; f < nFrames; f++) {
    for (let b = 0; b < B; b++) {
      const noise = -6 + 1.5 * (r.next() + r.next() - 1);
      const harmonic = labels[f] && b % 4 === 0 && b > 0 ? 4 : 0;
      logMel[f * B + b] = noise + harmonic;
      acc[f * B + b] = noise;
    }
  }
  return { id, split: 'train', nFrames, nMels: B, logMel, accompaniment: withAcc ? acc : null, labels };
}

function tinyModel(seed: number, songs: Song[]) {
  const stats = bandStats(songs);
  return { model: createSvdCnn(initWeights(seed, { architecture: ARCH, frontend: { ...FE.config }, normalization: statsToJSON(stats) })), stats };
}

test.before(async () => {
  await initBackend('wasm');
  registerWasmTrainingKernels();
});

test('a few Adam steps on wasm reduce the loss on a synthetic voice / no-voice task, without leaking tensors', () => {
  const songs = [syntheticSong('a', 1, 400), syntheticSong('b', 2, 400)];
  const { model, stats } = tinyModel(3, songs);
  const sampler = new ExcerptSampler(songs, stats, { frontEnd: FE, augment: checkAugmentOptions({ ...DEFAULT_AUGMENT, mixProbability: 0 }) });
  const adam = new Adam(model.trainableVariables(), 1e-2);
  const n = 16;
  const x = new Float32Array(n * sampler.excerptSize);
  const y = new Float32Array(n);
  const rng = new Rng(11);
  const losses: number[] = [];
  let before = 0;
  for (let step = 0; step < 60; step++) {
    sampler.next(rng, n, x, y);
    const xt = tf.tensor3d(x, [n, 25, 26]);
    const yt = tf.tensor2d(y, [n, 1]);
    losses.push(trainStep(model, adam, xt, yt, step).loss);
    tf.dispose([xt, yt]);
    if (step === 2) before = tf.memory().numTensors;
    if (step > 2) assert.is(tf.memory().numTensors, before, `tensors leaked at step ${step}`);
  }
  const mean = (a: number[]) => a.reduce((p, v) => p + v, 0) / a.length;
  const first = mean(losses.slice(0, 5));
  const last = mean(losses.slice(-5));
  assert.ok(last < 0.5 * first, `loss went from ${first.toFixed(3)} to ${last.toFixed(3)}`);
  adam.dispose();
  model.dispose();
});

test('Adam equals tfjs-core\'s Adam optimizer and the update written out by hand', () => {
  const g1 = [0.5, -0.1, 2];
  const g2 = [-0.25, 0.3, 1];
  const lr = 0.01;
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  // By hand: step 1 moves by lr·g/(|g|+ε); step 2 from the bias-corrected moments.
  const theta0 = [1, -2, 0.5];
  const hand = theta0.map((t, i) => {
    const m1 = (1 - b1) * g1[i]!;
    const v1 = (1 - b2) * g1[i]! ** 2;
    const t1 = t - (lr * (m1 / (1 - b1))) / (Math.sqrt(v1 / (1 - b2)) + eps);
    const m2 = b1 * m1 + (1 - b1) * g2[i]!;
    const v2 = b2 * v1 + (1 - b2) * g2[i]! ** 2;
    return t1 - (lr * (m2 / (1 - b1 ** 2))) / (Math.sqrt(v2 / (1 - b2 ** 2)) + eps);
  });
  const p = tf.variable(tf.tensor1d(theta0));
  const adam = new Adam([p], lr, b1, b2, eps);
  adam.step([tf.tensor1d(g1)]);
  const after1 = Array.from(p.dataSync());
  theta0.forEach((t, i) => assert.ok(Math.abs(after1[i]! - (t - lr * Math.sign(g1[i]!))) < 1e-6, `step 1, element ${i}`));
  adam.step([tf.tensor1d(g2)]);
  const ours = Array.from(p.dataSync());
  hand.forEach((h, i) => assert.ok(Math.abs(ours[i]! - h) < 1e-6, `hand: ${ours[i]} vs ${h}`));
  // tfjs-core's optimizer on the same gradients
  const q = tf.variable(tf.tensor1d(theta0));
  const opt = tf.train.adam(lr, b1, b2, eps);
  opt.applyGradients([{ name: q.name, tensor: tf.tensor1d(g1) }]);
  opt.applyGradients([{ name: q.name, tensor: tf.tensor1d(g2) }]);
  const theirs = Array.from(q.dataSync());
  theirs.forEach((v, i) => assert.ok(Math.abs(ours[i]! - v) < 1e-6, `tfjs Adam: ${ours[i]} vs ${v}`));
  adam.dispose();
  opt.dispose();
  tf.dispose([p, q]);
});

test('augmentation and sampling are a pure function of the seed; batches are balanced', () => {
  const songs = [syntheticSong('a', 5, 300), syntheticSong('b', 6, 300)];
  const stats = bandStats(songs);
  const draw = (seed: number) => {
    const s = new ExcerptSampler(songs, stats, { frontEnd: FE, augment: checkAugmentOptions(DEFAULT_AUGMENT) });
    const x = new Float32Array(8 * s.excerptSize);
    const y = new Float32Array(8);
    s.next(new Rng(seed), 8, x, y);
    return { x, y };
  };
  const a = draw(42);
  const b = draw(42);
  const c = draw(43);
  assert.equal(a.x, b.x);
  assert.equal(Array.from(a.y), [1, 1, 1, 1, 0, 0, 0, 0]);
  assert.not.equal(a.x, c.x);
  // The labels are the centre frames' labels: unaugmented excerpts of a voiced frame show the harmonic bands at the centre.
  const identity = { mean: new Float32Array(26), std: new Float32Array(26).fill(1) };
  const plain = new ExcerptSampler(songs, identity, { frontEnd: FE });
  const x = new Float32Array(plain.excerptSize);
  const y = new Float32Array(1);
  plain.next(new Rng(9), 1, x, y);
  const centre = x.subarray(12 * 26, 13 * 26);
  assert.is(y[0], 1);
  assert.ok(centre[8]! - centre[9]! > 1.5, 'a voiced excerpt has the harmonic band at its centre frame');
});

test('extractExcerpt: factors 1 copy rows; stretch keeps the centre row; gain and mixing act in log / linear magnitude', () => {
  const rows = 40;
  const B = 6;
  const spec = Float32Array.from({ length: rows * B }, (_, i) => Math.floor(i / B) + (i % B) / 10);
  const out = new Float32Array(9 * B);
  extractExcerpt(spec, rows, B, 20, 9, 1, null, out, 0);
  assert.equal(Array.from(out), Array.from(spec.subarray(16 * B, 25 * B)));
  extractExcerpt(spec, rows, B, 20, 9, 1.25, null, out, 0);
  assert.ok(Math.abs(out[4 * B]! - 20) < 1e-6, 'centre row unchanged by a stretch');
  assert.ok(Math.abs(out[0]! - 15) < 1e-6, 'row 0 reads 20 − 4·1.25');
  extractExcerpt(spec, rows, B, 20, 9, 1, Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5]), out, 0);
  assert.ok(Math.abs(out[4 * B + 4]! - 20.2) < 1e-5, 'band 4 reads band 2 through the band map');
  assert.ok(Math.abs(out[4 * B + 3]! - 20.15) < 1e-5, 'band 3 interpolates bands 1 and 2');
  // rows wider than the output: bands [0, nOut) of each row
  const narrow = new Float32Array(9 * 4);
  extractExcerpt(spec, rows, B, 20, 9, 1, null, narrow, 0, 4);
  assert.equal(Array.from(narrow.subarray(4, 8)), Array.from(spec.subarray(17 * B, 17 * B + 4)));
  throwsCode(() => extractExcerpt(spec, rows, B, 20, 9, 1, null, narrow, 0, 7), 'BAD_SHAPE', /7 output bands from rows of 6/);
  const g = Float32Array.from([0, -1, LOG_FLOOR]);
  applyGain(g, 0, 3, 20, LOG_FLOOR);
  assert.ok(Math.abs(g[0]! - Math.log(10)) < 1e-6 && Math.abs(g[1]! - (Math.log(10) - 1)) < 1e-6 && g[2] === Math.fround(LOG_FLOOR));
  const m = Float32Array.from([Math.log(2)]);
  mixInto(m, 0, Float32Array.from([Math.log(3)]), 0, 1, -20 * Math.log10(3), LOG_FLOOR);
  assert.ok(Math.abs(m[0]! - Math.log(3)) < 1e-6, '2 + 3 at 1/3 level = 3');
  throwsCode(() => checkAugmentOptions({ stretch: 0.1 }), 'BAD_ARGUMENT', /unknown augment option 'stretch'/);
  throwsCode(() => checkAugmentOptions({ gainDb: -1 }), 'BAD_ARGUMENT', /gainDb/);
  throwsCode(() => checkAugmentOptions({ mixDb: [0, -5] }), 'BAD_ARGUMENT', /mixDb\[1\]/);
});

test('remixVocals: unit gain leaves the mix as it is; a silent accompaniment takes the gain in full; equal stems add powers', () => {
  const n = 4;
  const gain = (db: number) => new Float32Array(n).fill(db);
  const x0 = Float32Array.from([-3, -2, -1, 0]);
  const v = Float32Array.from([-3, -2.5, LOG_FLOOR, -1]);
  const a = Float32Array.from([-4, LOG_FLOOR, -1, -1]);
  const x = Float32Array.from(x0);
  remixVocals(x, 0, v, a, n, n, gain(0), LOG_FLOOR);
  assert.equal(Array.from(x), Array.from(x0), 'w = 1: the correction is ln 1 = 0 exactly');
  remixVocals(x, 0, v, a, n, n, gain(6), LOG_FLOOR);
  const g6 = (6 * Math.LN10) / 20;
  assert.ok(Math.abs(x[1]! - (x0[1]! + g6)) < 1e-6, 'accompaniment at the floor: the frame moves by the vocal gain, 6 dB = ln(10)·6/20');
  assert.ok(Math.abs(x[2]! - x0[2]!) < 1e-6, 'vocals at the floor: the frame does not move');
  assert.ok(Math.abs(x[3]! - (x0[3]! + 0.5 * Math.log((Math.pow(10, 0.6) + 1) / 2))) < 1e-6, 'equal stems: powers 10^0.6 + 1 against 1 + 1');
  const y = Float32Array.from(x0);
  remixVocals(y, 0, v, a, n, n, gain(-200), LOG_FLOOR);
  assert.ok(Math.abs(y[3]! - (x0[3]! - 0.5 * Math.log(2))) < 1e-6, 'vocals removed from equal stems: half the power');
  assert.ok(Math.abs(y[1]! - (x0[1]! + a[1]! - v[1]!)) < 1e-4, 'vocals removed over a silent accompaniment: the frame falls to the accompaniment\'s share');
  const z = Float32Array.from([LOG_FLOOR + 1]);
  remixVocals(z, 0, Float32Array.from([0]), Float32Array.from([LOG_FLOOR]), 1, 1, new Float32Array(1).fill(-200), LOG_FLOOR);
  assert.is(z[0], Math.fround(LOG_FLOOR), 'never below the log floor');
  throwsCode(() => remixVocals(x, 0, v.subarray(0, 2), a, n, n, gain(0), LOG_FLOOR), 'BAD_SHAPE', /stems of 2 and 4 values for an excerpt of 4/);
  throwsCode(() => remixVocals(x, 0, v, a, n, 3, gain(0), LOG_FLOOR), 'BAD_SHAPE', /4 values in rows of 3/);
  // the EQ curve: control points spread over the bands, linear between them, plus the gain
  const eq = [0, 6, 0, -6, 0, 3];
  const c = vocalGainCurve(1, eq, 11);
  assert.equal(Array.from(c, (v) => +v.toFixed(5)), [1, 4, 7, 4, 1, -2, -5, -2, 1, 2.5, 4]);
  throwsCode(() => vocalGainCurve(0, [1], 5), 'BAD_SHAPE', /at least 2 control points/);
  throwsCode(() => checkAugmentOptions({ vocalDb: [6, -6] }), 'BAD_ARGUMENT', /vocalDb\[1\]/);
  throwsCode(() => checkAugmentOptions({ vocalRemix: 2 }), 'BAD_ARGUMENT', /vocalRemix/);
  assert.is(checkAugmentOptions(undefined).vocalRemix, 0, 'off by default');
  assert.is(VOCAL_EQ_POINTS, 6);
});

test('loadSongs stems: the stems\' log-mels on the mix\'s band grid; a remix at 0 dB is the mix, one at −40 dB is close to the accompaniment stem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-stems-'));
  try {
    await makeTinyCorpus(dir, { train: 2, valid: 1, test: 0 }, 2);
    const entries = (await listCorpus(dir)).filter((e) => e.split === 'train');
    const songs = await loadSongs(entries, { bandsAbove: 9, stems: true });
    const wide = new FrontEnd(widenFrontEnd(SVD_FRONTEND, 9));
    for (const [i, s] of songs.entries()) {
      assert.is(s.stems!.stride, 89);
      const v = wide.logMel(await loadMono(entries[i]!.vocals));
      const a = wide.logMel(await loadMono(entries[i]!.accompaniment));
      assert.equal(Array.from(s.stems!.vocals), Array.from(v.data), `song ${i}: vocals`);
      assert.equal(Array.from(s.stems!.accompaniment), Array.from(a.data), `song ${i}: accompaniment`);
    }
    assert.ok(existsSync(join(entries[0]!.dir, 'vocals-wide9.f32')), 'cached next to the song');
    const narrow = await loadSongs(entries, { stems: true });
    assert.is(narrow[0]!.stems!.stride, 80);
    assert.equal(Array.from(narrow[0]!.stems!.accompaniment), Array.from(narrow[0]!.accompaniment!), 'without bands above, the accompaniment stem is the one mixing uses');
    const stats = { mean: new Float32Array(80), std: new Float32Array(80).fill(1) };
    // one excerpt (a batch of 1: the remix's own draws come after the excerpt's, so the frame is the same)
    const one = (list: Song[], remix: Partial<typeof DEFAULT_AUGMENT>, seed: number) => {
      const smp = new ExcerptSampler(list, stats, { augment: checkAugmentOptions({ ...NO_AUGMENT, ...remix }) });
      const x = new Float32Array(smp.excerptSize);
      smp.next(new Rng(seed), 1, x, new Float32Array(1));
      return x;
    };
    for (const seed of [1, 2, 3]) {
      const plain = one(songs, {}, seed);
      assert.equal(Array.from(one(songs, { vocalRemix: 1, vocalDb: [0, 0], vocalEqDb: 0 }, seed)), Array.from(plain), 'a remix at 0 dB without EQ is the mix');
      // a voiced frame's excerpt with the vocals 40 dB down: the accompaniment stem's excerpt, up to the power-sum approximation
      const quiet = one(songs, { vocalRemix: 1, vocalDb: [-40, -40], vocalEqDb: 0 }, seed);
      const smp = new ExcerptSampler(songs, stats);
      const x = new Float32Array(smp.excerptSize);
      smp.next(new Rng(seed), 1, x, new Float32Array(1));
      assert.equal(Array.from(x), Array.from(plain), 'the same frame as without augmentation');
      let dPlain = 0, dQuiet = 0;
      const accRef = new ExcerptSampler(songs.map((s) => ({ ...s, logMel: Float32Array.from({ length: s.nFrames * 80 }, (_, k) => s.stems!.accompaniment[Math.floor(k / 80) * 89 + (k % 80)]!) })), stats);
      const acc = new Float32Array(smp.excerptSize);
      accRef.next(new Rng(seed), 1, acc, new Float32Array(1));
      for (let k = 0; k < acc.length; k++) {
        dPlain += Math.abs(plain[k]! - acc[k]!) / acc.length;
        dQuiet += Math.abs(quiet[k]! - acc[k]!) / acc.length;
      }
      assert.ok(dQuiet < 0.1 && dQuiet < dPlain / 3, `seed ${seed}: the remix without vocals is ${dQuiet.toFixed(3)} nats from the accompaniment, the mix ${dPlain.toFixed(3)}`);
    }
    // named errors: remix without stems, stems on another band grid
    const bare = await loadSongs(entries, { bandsAbove: 9 });
    throwsCode(() => new ExcerptSampler(bare, stats, { augment: checkAugmentOptions({ vocalRemix: 0.5 }) }), 'BAD_ARGUMENT', /needs songs loaded with their stems/);
    throwsCode(() => new ExcerptSampler([{ ...songs[0]!, stems: narrow[0]!.stems! }, songs[1]!], stats, { augment: checkAugmentOptions({ vocalRemix: 0.5, pitchShift: 0.2 }) }), 'BAD_SHAPE', /song 0 .* stems in rows of 80 bands, its mix has 89/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A pure tone's log-mel peaks in the band whose centre is nearest its frequency.
function toneLogMel(fe: FrontEnd, hz: number): { data: Float32Array; nFrames: number; nMels: number } {
  const x = Float32Array.from({ length: 22050 }, (_, i) => Math.sin((2 * Math.PI * hz * i) / 22050));
  return fe.logMel(x);
}
const argmaxRow = (a: Float32Array, row: number, n: number, stride = n): number => {
  let best = 0;
  for (let b = 1; b < n; b++) if (a[row * stride + b]! > a[row * stride + best]!) best = b;
  return best;
};

test('widenFrontEnd: the first 80 bands are the SVD front end exactly; the 9 bands above reach 10.76 kHz and hold tones above 8 kHz', () => {
  assert.is(maxBandsAbove(SVD_FRONTEND), 9);
  const w = widenFrontEnd(SVD_FRONTEND, 9);
  // peaks 1127·ln(1 + f/700) equally spaced: mel(27.5) + 90·(mel(8000) − mel(27.5))/81, back to Hz
  const mel = (f: number) => 1127 * Math.log(1 + f / 700);
  const top = 700 * (Math.exp((mel(27.5) + (90 * (mel(8000) - mel(27.5))) / 81) / 1127) - 1);
  assert.ok(Math.abs(w.fMax - top) < 1e-6 && w.fMax > 10700 && w.fMax < 11025, `fMax ${w.fMax}`);
  assert.is(w.nMels, 89);
  assert.is(w.nBinsUsed, Math.floor((513 * 2 * w.fMax) / 22050));
  throwsCode(() => widenFrontEnd(SVD_FRONTEND, 10), 'BAD_CONFIG', /above Nyquist .* at most 9/);
  const rng = new Rng(4);
  const x = Float32Array.from({ length: 22050 }, () => rng.uniform(-1, 1));
  const a = new FrontEnd(SVD_FRONTEND).logMel(x);
  const b = new FrontEnd(w).logMel(x);
  assert.is(b.nFrames, a.nFrames);
  for (let t = 0; t < a.nFrames; t++) for (let k = 0; k < 80; k++) assert.is(b.data[t * 89 + k], a.data[t * 80 + k], `frame ${t} band ${k}`);
  const axis = melAxis(w);
  const tone = toneLogMel(new FrontEnd(w), 9500);
  assert.ok(Math.abs(argmaxRow(tone.data, 10, 89) - axis.bandOf(9500)) <= 1, `9.5 kHz peaks in band ${argmaxRow(tone.data, 10, 89)}, expected ≈ ${axis.bandOf(9500).toFixed(1)}`);
  assert.ok(argmaxRow(tone.data, 10, 89) >= 80, 'above the 80 SVD bands');
});

test('pitchShiftBands: a shifted tone peaks where the front end puts the tone at p·f, also from the bands above 8 kHz', () => {
  const fe = new FrontEnd(SVD_FRONTEND);
  for (const [hz, p] of [[2000, 1.25], [2000, 0.75], [440, 1.3], [6000, 0.8]] as const) {
    const src = toneLogMel(fe, hz);
    const out = new Float32Array(3 * 80);
    extractExcerpt(src.data, src.nFrames, 80, 10, 3, 1, pitchShiftBands(SVD_FRONTEND, p), out, 0);
    const ref = toneLogMel(fe, hz * p);
    const got = argmaxRow(out, 1, 80);
    const want = argmaxRow(ref.data, 10, 80);
    assert.ok(Math.abs(got - want) <= 1, `${hz} Hz × ${p}: shifted peak in band ${got}, a real ${hz * p} Hz tone in band ${want}`);
  }
  // 9.5 kHz is above the SVD front end; shifted by 0.75 it belongs at 7.1 kHz, which only the
  // widened cache can supply (the 80-band spectrogram would repeat its top band there).
  const w = widenFrontEnd(SVD_FRONTEND, 9);
  const src = toneLogMel(new FrontEnd(w), 9500);
  const out = new Float32Array(3 * 80);
  extractExcerpt(src.data, src.nFrames, 89, 10, 3, 1, pitchShiftBands(SVD_FRONTEND, 0.75, 89), out, 0, 80);
  const want = argmaxRow(toneLogMel(fe, 9500 * 0.75).data, 10, 80);
  assert.ok(Math.abs(argmaxRow(out, 1, 80) - want) <= 1, `9.5 kHz × 0.75 from the wide cache: band ${argmaxRow(out, 1, 80)}, expected ${want}`);
  const map = pitchShiftBands(SVD_FRONTEND, 0.75, 80);
  assert.ok(map[79] === 79 && map[60]! < 79, 'without bands above, only the top bands clamp');
  assert.equal(Array.from(pitchShiftBands(SVD_FRONTEND, 1)).map((v) => Math.round(v * 1e4) / 1e4), Array.from({ length: 80 }, (_, b) => b), 'p = 1 is the identity');
  throwsCode(() => pitchShiftBands(SVD_FRONTEND, 0.8, 79), 'BAD_SHAPE', /79 source bands for 80/);
});

test('loadSongs bandsAbove: the widened log-mel\'s top bands, cached; the sampler keeps them only for pitch shifts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-wide-'));
  try {
    await makeTinyCorpus(dir, { train: 2, valid: 1, test: 0 }, 2);
    const entries = (await listCorpus(dir)).filter((e) => e.split === 'train');
    const songs = await loadSongs(entries, { bandsAbove: 9 });
    const wide = new FrontEnd(widenFrontEnd(SVD_FRONTEND, 9));
    for (const [i, s] of songs.entries()) {
      const ref = wide.logMel(await loadMono(entries[i]!.mix));
      assert.is(s.above!.length, s.nFrames * 9);
      for (let t = 0; t < s.nFrames; t += 7) for (let k = 0; k < 9; k++) assert.is(s.above![t * 9 + k], ref.data[t * 89 + 80 + k]);
    }
    assert.ok(existsSync(join(entries[0]!.dir, 'logmel-wide9.f32')), 'cached next to the song');
    const again = await loadSongs(entries, { bandsAbove: 9 });
    assert.equal(Array.from(again[1]!.above!), Array.from(songs[1]!.above!), 'the cache gives the same bands');
    const stats = bandStats(songs);
    assert.is(stats.mean.length, 80, 'statistics over the 80 model bands only');
    assert.is(new ExcerptSampler(songs, stats, { augment: { ...DEFAULT_AUGMENT, pitchShift: 0.3 } }).stride, 89);
    assert.is(new ExcerptSampler(songs, stats, { augment: { ...DEFAULT_AUGMENT, pitchShift: 0 } }).stride, 80);
    assert.is(new ExcerptSampler(songs, stats).stride, 80);
    // without pitch shifts the two samplers draw identical batches
    const aug = { ...DEFAULT_AUGMENT, pitchShift: 0 };
    const plain = await loadSongs(entries);
    for (const [i, s] of songs.entries()) assert.equal(Array.from(s.logMel), Array.from(plain[i]!.logMel), `song ${i}: the 80 bands taken from the widened log-mel are the log-mel`);
    const xa = new Float32Array(4 * 115 * 80);
    const xb = new Float32Array(4 * 115 * 80);
    const y = new Float32Array(4);
    new ExcerptSampler(songs, stats, { augment: aug }).next(new Rng(3), 4, xa, y);
    new ExcerptSampler(plain, stats, { augment: aug }).next(new Rng(3), 4, xb, y);
    assert.equal(Array.from(xa), Array.from(xb));
    // songs loaded with different bandsAbove: a named error, not a silent fall-back to clamping
    assert.throws(() => new ExcerptSampler([songs[0]!, plain[1]!], stats, { augment: { ...DEFAULT_AUGMENT, pitchShift: 0.3 } }), /song 1 .* 0 log-mel bands above fMax, song 0 .* has 9/);
    assert.throws(() => new ExcerptSampler([plain[0]!, songs[1]!], stats), /has 9 log-mel bands above fMax, song 0 .* has 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('songBootstrap: a point when every song errs alike, the normal approximation (CLT) over many songs, songs not frames are resampled', () => {
  // song s: 100 frames, all labelled voice, the first e_s predicted voice-less
  const song = (wrong: number, n = 100) => {
    const p = new Float32Array(n).fill(0.9);
    p.fill(0.1, 0, wrong);
    return { p, l: new Uint8Array(n).fill(1) };
  };
  const same = Array.from({ length: 30 }, () => song(12));
  const ci = songBootstrap(same.map((x) => x.p), same.map((x) => x.l), 0.5);
  assert.ok(Math.abs(ci.low - 0.12) < 1e-12 && Math.abs(ci.high - 0.12) < 1e-12, `${ci.low} ${ci.high}`);
  // 200 songs with errors 0 … 39 %: the mean of n draws has sd σ/√n; the 95 % interval is ±1.96 of it
  const errs = Array.from({ length: 200 }, (_, i) => (i * 7) % 40);
  const many = errs.map((e) => song(e));
  const mean = errs.reduce((a, b) => a + b, 0) / errs.length / 100;
  const sd = Math.sqrt(errs.reduce((a, e) => a + (e / 100 - mean) ** 2, 0) / errs.length) / Math.sqrt(errs.length);
  const b = songBootstrap(many.map((x) => x.p), many.map((x) => x.l), 0.5, 1, { reps: 4000, seed: 3 });
  assert.ok(Math.abs(b.low - (mean - 1.96 * sd)) < 0.2 * sd && Math.abs(b.high - (mean + 1.96 * sd)) < 0.2 * sd, `[${b.low}, ${b.high}] vs ${mean} ± ${1.96 * sd}`);
  assert.equal(songBootstrap(many.map((x) => x.p), many.map((x) => x.l), 0.5, 1, { reps: 4000, seed: 3 }), b, 'seeded');
  // two songs, 0 % and 100 % wrong: means of two draws are 0, ½ or 1, so the 95 % interval is [0, 1]
  // (resampling 200 frames would give a narrow interval around ½)
  const two = [song(0), song(100)];
  const t = songBootstrap(two.map((x) => x.p), two.map((x) => x.l), 0.5);
  assert.equal([t.low, t.high], [0, 1]);
  assert.throws(() => songBootstrap([song(1).p], [song(1).l], 0.5), /at least 2 songs/);
  // the paired use (compare-models): a model better by 3 frames of 100 on every song is better by a point
  const paired = ratioBootstrap(new Array(40).fill(-3), new Array(40).fill(100), { reps: 500 });
  assert.ok(Math.abs(paired.low + 0.03) < 1e-12 && Math.abs(paired.high + 0.03) < 1e-12, `${paired.low} ${paired.high}`);
  // songBootstrap is the ratio bootstrap of wrong frames over frames, draw for draw
  const r = ratioBootstrap(errs, new Array(errs.length).fill(100), { reps: 4000, seed: 3 });
  assert.equal([r.low, r.high], [b.low, b.high]);
  throwsCode(() => ratioBootstrap([1, 2], [1]), 'BAD_ARGUMENT', /2 and 1/);
});

test('medianFilter matches scipy.ndimage.median_filter (mode nearest), odd and even sizes and a window longer than the signal', () => {
  const fx = readJSON<{ x: number[]; cases: Array<{ size: number; y: number[] }> }>('train/median.json');
  const x = Float32Array.from(fx.x);
  for (const c of fx.cases) {
    const y = medianFilter(x, c.size);
    c.y.forEach((v, i) => assert.ok(Math.abs(y[i]! - v) < 1e-6, `size ${c.size}, index ${i}: ${y[i]} vs ${v}`));
  }
});

test('evaluate: error, recall, specificity on a hand-counted case; tuneThreshold finds the separating threshold', () => {
  const p = [Float32Array.from([0.9, 0.8, 0.3, 0.2, 0.6, 0.1])];
  const l = [Uint8Array.from([1, 1, 1, 0, 0, 0])];
  const m = evaluate(p, l, 0.5, 1);
  // predicted 1 1 0 0 1 0: TP 2, FN 1, FP 1, TN 2
  assert.ok(Math.abs(m.error - 2 / 6) < 1e-12 && Math.abs(m.recall - 2 / 3) < 1e-12 && Math.abs(m.specificity - 2 / 3) < 1e-12);
  const t = tuneThreshold([Float32Array.from([0.7, 0.8, 0.75, 0.2, 0.6, 0.1])], l, 1);
  assert.is(t.error, 0);
  assert.ok(t.threshold >= 0.6 && t.threshold < 0.7, `threshold ${t.threshold}`);
  throwsCode(() => evaluate(p, l, 1.5), 'BAD_ARGUMENT', /threshold/);
  throwsCode(() => medianFilter(p[0]!, 0), 'BAD_ARGUMENT', /median filter size/);
});

test('trainModel writes the best model with stats, threshold and metadata, and resume continues to the same weights', async () => {
  const songs = [syntheticSong('a', 21, 260), syntheticSong('b', 22, 260)];
  const valid = [{ ...syntheticSong('v', 23, 200, false), split: 'valid' as const }];
  const dir = mkdtempSync(join(tmpdir(), 'earshot-train-'));
  try {
    const opts = { epochs: 2, stepsPerEpoch: 3, batchSize: 8, seed: 5, medianFrames: 5, frontEnd: FE, log: () => {} };
    const full = tinyModel(7, songs);
    const r = await trainModel(full.model, songs, valid, full.stats, { ...opts, outDir: join(dir, 'full') });
    assert.is(r.history.length, 2);
    assert.ok(r.best);
    const w = await loadWeights(join(dir, 'full'));
    assert.equal(w.info.normalization!.mean.length, 26);
    assert.is(w.info.threshold, r.best!.valid.threshold);
    assert.is((w.info.training as { seed: number }).seed, 5);
    const finalFull = await full.model.toWeights();
    full.model.dispose();

    const half = tinyModel(7, songs);
    await trainModel(half.model, songs, valid, half.stats, { ...opts, epochs: 1, outDir: join(dir, 'resumed') });
    half.model.dispose();
    const again = tinyModel(99, songs); // different init: everything must come from the checkpoint
    const r2 = await trainModel(again.model, songs, valid, again.stats, { ...opts, outDir: join(dir, 'resumed'), resume: true });
    assert.is(r2.history.length, 2);
    const finalResumed = await again.model.toWeights();
    again.model.dispose();
    for (const [name, t] of Object.entries(finalFull.tensors)) {
      const u = finalResumed.tensors[name]!.data;
      let e = 0;
      for (let i = 0; i < t.data.length; i++) e = Math.max(e, Math.abs(t.data[i]! - u[i]!));
      assert.ok(e < 1e-5, `${name} differs after resume by ${e}`);
    }
    // resuming with another start (--init or seed) would mislabel the weights the checkpoint holds
    const other = tinyModel(7, songs);
    await rejectsCode(
      () => trainModel(other.model, songs, valid, other.stats, { ...opts, epochs: 3, outDir: join(dir, 'resumed'), resume: true, initialisedFrom: 'elsewhere (CRC-32 00000000)' }),
      'CHECKPOINT_MISMATCH', /started from a random initialisation as .*, seed 5; this one starts from elsewhere \(CRC-32 00000000\)/,
    );
    await rejectsCode(() => trainModel(other.model, songs, valid, other.stats, { ...opts, seed: 6, epochs: 3, outDir: join(dir, 'resumed'), resume: true }), 'CHECKPOINT_MISMATCH', /seed 5; .* seed 6/);
    other.model.dispose();
    const bad = tinyModel(1, songs);
    try {
      await trainModel(bad.model, songs, valid, bad.stats, { epochz: 1 } as never);
      assert.unreachable('an unknown option must be rejected');
    } catch (e) {
      assert.is((e as { code?: string }).code, 'BAD_ARGUMENT');
      assert.match((e as Error).message, /unknown training option 'epochz'/);
    } finally {
      bad.model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ema: the validated and saved model is the moving average of the per-step weights; training continues from the raw iterate', async () => {
  const songs = [syntheticSong('a', 31, 260), syntheticSong('b', 32, 260)];
  const valid = [{ ...syntheticSong('v', 33, 200, false), split: 'valid' as const }];
  const dir = mkdtempSync(join(tmpdir(), 'earshot-ema-'));
  const opts = { epochs: 1, batchSize: 8, seed: 3, medianFrames: 5, frontEnd: FE, log: () => {} };
  const run = async (steps: number, ema: number, out?: string) => {
    const m = tinyModel(11, songs);
    await trainModel(m.model, songs, valid, m.stats, { ...opts, stepsPerEpoch: steps, ema, ...(out ? { outDir: out } : {}) });
    const w = await m.model.toWeights();
    m.model.dispose();
    return w.tensors;
  };
  try {
    // Steps are a pure function of (seed, epoch, step), so one step alone gives the first iterate.
    const w1 = await run(1, 0);
    const w2 = await run(2, 0);
    const raw = await run(2, 0.75, join(dir, 'ema'));
    const saved = (await loadWeights(join(dir, 'ema'))).tensors;
    const ckpt = (await loadWeights(join(dir, 'ema', 'checkpoint', 'ema'))).tensors;
    let moved = 0;
    for (const [name, t] of Object.entries(w2)) {
      for (let i = 0; i < t.data.length; i++) {
        const want = 0.75 * w1[name]!.data[i]! + 0.25 * t.data[i]!;
        assert.ok(Math.abs(saved[name]!.data[i]! - want) <= 1e-5 * (1 + Math.abs(want)), `${name}[${i}]: saved ${saved[name]!.data[i]} vs average ${want}`);
        assert.is(ckpt[name]!.data[i], saved[name]!.data[i]);
        assert.ok(Math.abs(raw[name]!.data[i]! - t.data[i]!) <= 1e-6 * (1 + Math.abs(t.data[i]!)), `${name}: the raw iterate must be restored after validation`);
        moved = Math.max(moved, Math.abs(t.data[i]! - w1[name]!.data[i]!));
      }
    }
    assert.ok(moved > 1e-4, 'the second step must move the weights, or the test shows nothing');
    const bad = tinyModel(1, songs);
    try {
      await trainModel(bad.model, songs, valid, bad.stats, { ...opts, ema: 1 });
      assert.unreachable('ema = 1 never moves and must be rejected');
    } catch (e) {
      assert.is((e as { code?: string }).code, 'BAD_ARGUMENT');
      assert.match((e as Error).message, /ema/);
    } finally {
      bad.model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validationClassifier: validation through another engine (ONNX Runtime) gives the same epoch metrics as the training model', async () => {
  const songs = [syntheticSong('a', 41, 260), syntheticSong('b', 42, 260)];
  const valid = [{ ...syntheticSong('v', 43, 200, false), split: 'valid' as const }];
  const opts = { epochs: 1, stepsPerEpoch: 2, batchSize: 8, seed: 4, medianFrames: 5, frontEnd: FE, log: () => {} };
  const plain = tinyModel(12, songs);
  const r1 = await trainModel(plain.model, songs, valid, plain.stats, opts);
  plain.model.dispose();
  const { createClassifier } = await import('../src/model/engines.ts');
  const other = tinyModel(12, songs);
  const engines: string[] = [];
  const r2 = await trainModel(other.model, songs, valid, other.stats, {
    ...opts,
    validationClassifier: async (w) => {
      const c = await createClassifier(w, { engine: 'auto' });
      engines.push(c.engine);
      return c;
    },
  });
  other.model.dispose();
  assert.equal(engines.length, 1);
  const a = r1.history[0]!.valid!;
  const b = r2.history[0]!.valid!;
  assert.ok(Math.abs(a.error - b.error) <= 1 / a.frames + 1e-12, `validation error ${a.error} (training model) vs ${b.error} (${engines[0]})`);
  assert.ok(Math.abs(a.threshold - b.threshold) <= 0.011, `threshold ${a.threshold} vs ${b.threshold}`);
});

test('earshot train rejects bad usage before loading anything; an empty corpus is a named error', async () => {
  const bad: Array<[string[], RegExp]> = [
    [['--epochs=-1'], /--epochs must be an integer ≥ 1/],
    [['--steps-per-epoch', '0'], /--steps-per-epoch must be an integer ≥ 1/],
    [['--lr-decay', '1.5'], /--lr-decay must be a number in \(0, 1\]/],
    [['--batch', 'many'], /--batch/],
    [['--lr', 'NaN'], /--lr/],
    [['--backend', 'gpu'], /--backend must be wasm or cpu/],
    [['--ema', '1.5'], /--ema must be a number in \(0, 1\)/],
    [['--ema', '1'], /--ema must be a number in \(0, 1\)/],
    [['--validate-engine', 'gpu'], /--validate-engine must be one of auto, tfjs, ort/],
    [['--pitch-shift', '0.6'], /--pitch-shift must be a number in \[0, 0\.5\]/],
    [['--time-stretch=-0.1'], /--time-stretch must be a number in \[0, 0\.5\]/],
    [['--mix-prob', '2'], /--mix-prob must be a number in \[0, 1\]/],
    [['--mix-db', '0,-12'], /--mix-db must be two levels lo,hi in dB with lo ≤ hi, got '0,-12'/],
    [['--mix-db=-12'], /--mix-db must be two levels/],
    [['--vocal-remix', '1.5'], /--vocal-remix must be a number in \[0, 1\]/],
    [['--vocal-remix', '0.5', '--vocal-db', '6,-6'], /--vocal-db must be two gains lo,hi in dB with lo ≤ hi, got '6,-6'/],
    [['--vocal-db=-6,0'], /--vocal-db and --vocal-eq-db shape the vocal remix; they need --vocal-remix > 0/],
    [['--vocal-remix', '0.5', '--vocal-eq-db', '30'], /--vocal-eq-db must be a number in \[0, 24\]/],
    [['--no-augment', '--gain-db', '3'], /--no-augment turns augmentation off; it cannot be combined with --gain-db/],
    [['--recalibrate-bn=-1'], /--recalibrate-bn must be an integer ≥ 0/],
    [['--recalibrate-bn', '0', '--bn-batch', '8'], /--bn-batch sets the recalibration batch size; it cannot be combined with --recalibrate-bn 0/],
    [['--bn-batch', '1'], /--bn-batch must be an integer ≥ 2/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['stray.wav'], /positional/i],
  ];
  for (const [args, re] of bad) {
    try {
      await trainCommand(args);
      assert.unreachable(`${args.join(' ')} must be rejected`);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'BAD_USAGE', `${args.join(' ')}: ${(e as Error).message}`);
      assert.match((e as Error).message, re);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'earshot-corpus-'));
  try {
    await listCorpus(dir);
    assert.unreachable('an empty corpus must be rejected');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'CORPUS_EMPTY');
    assert.match((e as Error).message, /no songs found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A corpus of two 1-s noise songs (s1 train, s2 valid), voiced from frame 31 on, with manifest.json. */
async function tinyCorpus(dir: string): Promise<void> {
  const r = new Rng(3);
  const songs = [{ id: 's1', split: 'train' }, { id: 's2', split: 'valid' }];
  for (const s of songs) {
    const d = join(dir, s.split, s.id);
    mkdirSync(d, { recursive: true });
    const x = Float32Array.from({ length: 22050 }, () => 0.1 * (r.next() - 0.5));
    await writeWavFile(join(d, 'mix.wav'), { sampleRate: 22050, channels: [x] });
    await writeWavFile(join(d, 'accompaniment.wav'), { sampleRate: 22050, channels: [x] });
    const frames = Math.floor((22050 - 1024) / 315) + 1;
    writeFileSync(join(d, 'labels.json'), JSON.stringify({ hop: 315, labels: Array.from({ length: frames }, (_, i) => (i > 30 ? 1 : 0)) }));
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ songs: songs.map((s) => ({ ...s, files: { mix: `${s.split}/${s.id}/mix.wav`, accompaniment: `${s.split}/${s.id}/accompaniment.wav`, labels: `${s.split}/${s.id}/labels.json` } })) }));
}

test('earshot train --init: fine-tunes the given model and records where it started; a model of another architecture is refused by name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-init-'));
  try {
    await tinyCorpus(join(dir, 'corpus'));
    const v1 = join(ROOT, 'assets', 'models', 'svd-v1');
    // The fingerprint lmac-v1 recorded for the classifier it was trained on (svd-v1), at the time.
    const recorded = (JSON.parse(readFileSync(join(ROOT, 'assets', 'models', 'lmac-v1', 'decoder.json'), 'utf8')) as { classifier: { fingerprint: string } }).classifier.fingerprint;
    const base = ['--corpus', join(dir, 'corpus'), '--epochs', '1', '--steps-per-epoch', '1', '--batch', '2', '--workers', '1', '--validate-engine', 'tfjs', '--recalibrate-bn', '1', '--bn-batch', '4'];
    const quiet = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.is(await trainCommand([...base, '--out', join(dir, 'ft'), '--init', v1, '--pitch-shift', '0.3', '--mix-db=-6,0']), 0);
    } finally {
      process.stderr.write = quiet;
    }
    const w = await loadWeights(join(dir, 'ft'));
    assert.is(w.info.id, `${(await loadWeights(v1)).info.id}+ft-1`);
    assert.match(String((w.info.training as { initialisedFrom?: string }).initialisedFrom), new RegExp(`weights CRC-32 ${recorded}\\)$`));
    // The augmentation options given on the command line are the ones trained with and recorded.
    assert.equal((w.info.training as { options: { augment: unknown } }).options.augment, { ...DEFAULT_AUGMENT, pitchShift: 0.3, mixDb: [-6, 0] });
    assert.equal((w.info.training as { options: { recalibrateBn: unknown } }).options.recalibrateBn, { batches: 1, batchSize: 4, seed: 1 });

    const { saveWeights } = await import('../src/model/weights.ts');
    await saveWeights(join(dir, 'small'), initWeights(1, { architecture: ARCH, frontend: { ...FE.config } }));
    await rejectsCode(() => trainCommand([...base, '--out', join(dir, 'x'), '--init', join(dir, 'small')]), 'BAD_USAGE', /--init .*small: its architecture .* is not the singing-voice CNN's/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corpus from manifest.json: log-mels computed by the front end, cached next to the audio, reused, and checked against the labels', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-corpus-'));
  try {
    await tinyCorpus(dir);
    const entries = await listCorpus(dir);
    assert.equal(entries.map((e) => [e.id, e.split]), [['s1', 'train'], ['s2', 'valid']]);
    const first = await loadSongs(entries);
    assert.is(first[0]!.nFrames, 67);
    assert.is(first[0]!.labels[31], 1);
    assert.ok(first[0]!.accompaniment, 'training songs carry their accompaniment');
    assert.is(first[1]!.accompaniment, null);
    assert.ok(existsSync(join(dir, 'train', 's1', 'logmel.f32')) && existsSync(join(dir, 'train', 's1', 'accompaniment.logmel.f32')));
    const direct = new FrontEnd().logMel(await loadMono(join(dir, 'train', 's1', 'mix.wav')));
    assert.equal(first[0]!.logMel, direct.data);
    const again = await loadSongs(entries);
    assert.equal(again[0]!.logMel, first[0]!.logMel);
    writeFileSync(join(dir, 'valid', 's2', 'labels.json'), JSON.stringify({ hop: 315, labels: [0, 1] }));
    try {
      await loadSongs(entries);
      assert.unreachable('a label count that does not match the frames must be rejected');
    } catch (e) {
      assert.is((e as { code?: string }).code, 'CORPUS_CORRUPT');
      assert.match((e as Error).message, /song s2 has 67 front-end frames but 2 labels/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
