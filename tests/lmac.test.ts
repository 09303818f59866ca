/**
 * L-MAC (src/explain/lmac): the decoder loss's gradient against central finite differences
 * (stage 1 and with the FT guidance term), the resampling matrices against hand values, the
 * ISTFT of a mask of ones against the input audio, flat tensor counts over repeated
 * explanations, a tiny end-to-end training run on synthetic songs (train → save → load →
 * explain → resume), and the errors for bad options and mismatched or damaged decoder files.
 * Classifiers are seeded random CNNs (no corpus, no trained model needed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/model/backend.ts';
import { registerWasmTrainingKernels } from '../src/model/wasm_kernels.ts';
import { initWeights, type WeightSet } from '../src/model/weights.ts';
import { createSvdCnn } from '../src/model/svdcnn.ts';
import { magnitudeModel } from '../src/explain/maskable.ts';
import {
  LmacDecoder,
  svdLmacArchitecture,
  initDecoderTensors,
  interpolationMatrix,
  lmacLoss,
  checkLossWeights,
  classifierRef,
  createLmac,
  loadLmac,
  serializeDecoder,
  parseDecoder,
  clipSpectrogram,
  maskedExcerptAudio,
  excerptAudio,
  excerptMagnitude,
  type DecoderFile,
} from '../src/explain/lmac/index.ts';
import { trainLmac, resolveLmacOptions, type LmacSong } from '../src/explain/lmac/train.ts';
import { explainLmacCommand } from '../src/cli/commands/explain-lmac.ts';
import { SVD_FRONTEND } from '../src/frontend/config.ts';
import { saveWeights } from '../src/model/weights.ts';
import { writeWavFile } from '../src/audio/node.ts';
import { throwsCode, rejectsCode } from './helpers.ts';

const norm = { mean: Array.from({ length: 80 }, () => -2), std: Array.from({ length: 80 }, () => 3) };
const randomClassifier = (seed: number): WeightSet => initWeights(seed, { normalization: norm, id: `svd-cnn-ismir2015/test-${seed}` });

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** A synthetic "song": a harmonic voice-like tone in labelled spans over noise, and its stem. */
function synthSong(id: string, seconds: number, seed: number): LmacSong {
  const sr = 22050;
  const n = Math.round(seconds * sr);
  const rnd = lcg(seed);
  const mix = new Float32Array(n);
  const vocals = new Float32Array(n);
  const nFrames = Math.floor((n - 1024) / 315) + 1;
  const labels = new Uint8Array(nFrames);
  for (let t = 0; t < nFrames; t++) labels[t] = Math.floor(t / 150) % 2;
  for (let i = 0; i < n; i++) {
    const t = Math.min(nFrames - 1, Math.floor(Math.max(0, i - 512) / 315));
    let v = 0;
    if (labels[t]) for (let h = 1; h <= 6; h++) v += (0.15 / h) * Math.sin((2 * Math.PI * 220 * h * i) / sr + 0.3 * Math.sin(i / 2000));
    vocals[i] = v;
    mix[i] = v + 0.05 * (2 * rnd() - 1);
  }
  return { id, mix, vocals, labels, nFrames };
}

function decoderFileFor(w: WeightSet, seed = 3): DecoderFile {
  const arch = svdLmacArchitecture();
  const cnn = createSvdCnn(w);
  const mm = magnitudeModel(cnn, { mean: Float32Array.from(w.info.normalization!.mean), std: Float32Array.from(w.info.normalization!.std) });
  const melT = mm.melT.dataSync() as Float32Array;
  const tensors = initDecoderTensors(arch, melT, seed);
  mm.dispose();
  cnn.dispose();
  return { info: { architecture: arch, classifier: classifierRef(w), loss: { lambdaIn: 4, lambdaOut: 0.2, lambdaS: 0.4 }, training: { test: true } }, tensors };
}

// The finite-difference checks run on tfjs-backend-cpu, whose reductions accumulate in float64
// (the wasm backend's float32 sums over 10^5 mask cells are too noisy for a 1e-4 step); the
// gradients of the wasm backend with earshot's training kernels are then compared with the
// cpu ones, and everything else runs on wasm.
test('setup: cpu backend for the finite-difference checks', async () => {
  await initBackend('cpu');
});

test('interpolationMatrix: rows sum to 1, centres land where the receptive fields say, ramps stay ramps', () => {
  const m = interpolationMatrix(111, 33, 3, 7);
  for (let j = 0; j < 111; j++) {
    let s = 0;
    for (let i = 0; i < 33; i++) s += m[j * 33 + i]!;
    assert.ok(Math.abs(s - 1) < 1e-6, `row ${j} sums to ${s}`);
  }
  // conv4 cell i sits on conv2 cell 3i + 7: that row is a one-hot at i.
  assert.is(m[(3 * 5 + 7) * 33 + 5], 1);
  assert.is(m[0 * 33 + 0], 1); // before the first centre: edge replicated
  assert.is(m[110 * 33 + 32], 1);
  // halfway between cells 5 and 6 (conv2 cell 23.5 is not a cell; cell 23 is 1/3 of the way)
  assert.ok(Math.abs(m[23 * 33 + 5]! - 2 / 3) < 1e-6 && Math.abs(m[23 * 33 + 6]! - 1 / 3) < 1e-6);
  const p = interpolationMatrix(115, 111, 1, 2);
  assert.is(p[(50 + 2) * 111 + 50], 1); // conv2 cell t is centred on input frame t + 2
  // the architecture's shapes are the SVD CNN's activation shapes
  const a = svdLmacArchitecture();
  assert.equal(a.layerShapes, [[111, 76, 32], [33, 21, 64]]);
});

/**
 * Directional derivative <∇L, d> from tf.variableGrads against (L(θ + εd) − L(θ − εd)) / 2ε for
 * the decoder variables selected by `which`. The frozen classifier (leaky ReLUs, max-pools) makes
 * the L-MAC loss only piecewise smooth, so the full loss is checked along the frequency map and
 * head (few classifier kinks crossed at ε = 1e-3); the decoder graph itself (all parameters,
 * through its own projections and resampling) is checked tightly with a smooth loss of the mask.
 */
function gradCheck(kind: 'lmac' | 'ft' | 'decoder', which: RegExp, tol: number, eps = 1e-4): Float32Array[] {
  const w = randomClassifier(11);
  const cnn = createSvdCnn(w);
  const mm = magnitudeModel(cnn, { mean: Float32Array.from(norm.mean), std: Float32Array.from(norm.std) });
  const arch = svdLmacArchitecture(115, 80, 513, 4);
  const dec = new LmacDecoder(arch, initDecoderTensors(arch, mm.melT.dataSync() as Float32Array, 5));
  const rnd = lcg(7);
  const n = 2;
  const size = n * 115 * 513;
  const mag = tf.tensor3d(Float32Array.from({ length: size }, () => 0.05 + 2 * rnd()), [n, 115, 513]);
  const acts = mm.activations(mag, ['conv2', 'conv4']);
  const A = acts.conv2!;
  const B = acts.conv4!;
  const cls = tf.tensor1d([1, 0]);
  const weights = checkLossWeights();
  const r = tf.tensor3d(Float32Array.from({ length: size }, () => 2 * rnd() - 1), [n, 115, 513]);
  const guidance = kind === 'ft' ? { target: tf.tensor3d(Float32Array.from({ length: size }, () => (rnd() < 0.3 ? 1 : 0)), [n, 115, 513]), weight: tf.tensor1d([1, 0]) } : undefined;
  const loss = () =>
    kind === 'decoder'
      ? (tf.add(tf.mean(tf.mul(r, dec.mask(A, B))), tf.mul(0.4, tf.mean(dec.mask(A, B)))) as tf.Scalar)
      : lmacLoss(dec, mm, mag, A, B, cls, weights, guidance).total;
  const lossValue = (): number => tf.tidy(() => loss().dataSync()[0]!);
  const vars = dec.variables();
  const { value, grads } = tf.variableGrads(() => tf.tidy(loss), vars);
  const dirs = vars.map((v) => Float32Array.from({ length: v.size }, () => (which.test(v.name) ? 2 * rnd() - 1 : 0)));
  let analytic = 0;
  vars.forEach((v, i) => {
    const g = grads[v.name]!.dataSync();
    for (let k = 0; k < g.length; k++) analytic += g[k]! * dirs[i]![k]!;
  });
  const orig = vars.map((v) => v.dataSync().slice() as Float32Array);
  const shift = (s: number) => vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(orig[i]!.map((x, k) => x + s * dirs[i]![k]!), v.shape))));
  shift(eps);
  const lp = lossValue();
  shift(-eps);
  const lm = lossValue();
  shift(0);
  const numeric = (lp - lm) / (2 * eps);
  assert.ok(Math.abs(numeric) > 1e-4, `the check is not vacuous (${numeric})`);
  assert.ok(Math.abs(analytic - numeric) <= tol * Math.abs(numeric), `${kind}: directional derivative ${analytic} vs finite differences ${numeric}`);
  const out = vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array);
  tf.dispose([value, ...Object.values(grads), mag, A, B, cls, r, ...(guidance ? [guidance.target, guidance.weight] : [])]);
  dec.dispose();
  mm.dispose();
  cnn.dispose();
  return out;
}

test('decoder graph gradient (smooth loss of the mask) matches central finite differences: 0.2 % past the projections, 2 % through them', () => {
  gradCheck('decoder', /freq|head/, 0.002);
  gradCheck('decoder', /proj/, 0.02);
});
test('wasm backend with the training kernels for the rest', async () => {
  await initBackend('wasm');
  registerWasmTrainingKernels();
});
// Through the frozen classifier (leaky ReLUs, max-pools: piecewise linear) and the wasm
// backend's float32 reductions the loss is only piecewise smooth and its values carry ~1e-6
// noise, hence the looser tolerance at ε = 1e-3.
test('L-MAC loss gradient (λ_in CE_in − λ_out CE_out + λ_s ‖M‖₁) matches central finite differences (5 %)', () => {
  gradCheck('lmac', /freq|head/, 0.05, 1e-3);
});
test('L-MAC loss gradient with the FT guidance term matches central finite differences (5 %)', () => {
  gradCheck('ft', /freq|head/, 0.05, 1e-3);
});

test('ISTFT of a mask of ones returns the input audio; in + out = original; zeros give silence', () => {
  const song = synthSong('s', 4, 1);
  const spec = clipSpectrogram(song.mix, SVD_FRONTEND);
  for (const c of [60, 150]) {
    const ones = new Float32Array(115 * 513).fill(1);
    const y = maskedExcerptAudio(spec, c, ones);
    const x = excerptAudio(song.mix, SVD_FRONTEND, c);
    assert.is(y.length, x.length);
    // The symmetric Hann is 0 at both ends of a frame: the first and last sample have no
    // window support; everything else is reconstructed.
    let err = 0;
    let peak = 0;
    for (let i = 64; i < x.length - 64; i++) {
      err = Math.max(err, Math.abs(y[i]! - x[i]!));
      peak = Math.max(peak, Math.abs(x[i]!));
    }
    assert.ok(err < 1e-5 * Math.max(1, peak) + 1e-6, `round trip error ${err}`);
    const rnd = lcg(c);
    const m = Float32Array.from({ length: 115 * 513 }, () => rnd());
    const a = maskedExcerptAudio(spec, c, m);
    const b = maskedExcerptAudio(spec, c, m, true);
    let e2 = 0;
    for (let i = 64; i < x.length - 64; i++) e2 = Math.max(e2, Math.abs(a[i]! + b[i]! - x[i]!));
    assert.ok(e2 < 1e-5, `masked-in + masked-out differs from the original by ${e2}`);
    const z = maskedExcerptAudio(spec, c, new Float32Array(115 * 513));
    assert.ok(z.every((v) => v === 0));
  }
  throwsCode(() => maskedExcerptAudio(spec, 60, new Float32Array(10)), 'BAD_SHAPE');
  const bad = new Float32Array(115 * 513).fill(0.5);
  bad[7] = 1.5;
  throwsCode(() => maskedExcerptAudio(spec, 60, bad), 'BAD_ARGUMENT', /mask\[7\]/);
});

test('explanations: masks in (0, 1) of the right size, numTensors flat over repeated calls, disposed use throws', async () => {
  const w = randomClassifier(21);
  const lmac = createLmac(decoderFileFor(w), w);
  const spec = clipSpectrogram(synthSong('s', 3, 2).mix, SVD_FRONTEND);
  const mag = excerptMagnitude(spec, 100);
  const m0 = await lmac.explainMagnitude(mag);
  assert.is(m0.length, 115 * 513);
  assert.ok(m0.every((v) => v > 0 && v < 1));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 4; i++) {
    const m = await lmac.explainMagnitude(mag);
    assert.equal(m, m0, 'deterministic');
    await lmac.explainDetailed(mag);
    await lmac.explainBatch(new Float32Array(2 * 115 * 513).fill(0.3), 2);
    assert.is(tf.memory().numTensors, before, `tensors leak at call ${i}`);
  }
  const d = await lmac.explainDetailed(mag);
  assert.ok(d.pIn >= 0 && d.pIn <= 1 && d.pOut >= 0 && d.pOut <= 1 && (d.predictedClass === 0 || d.predictedClass === 1));
  assert.equal(d.mask, m0);
  await rejectsCode(() => lmac.explainMagnitude(new Float32Array(115 * 512)), 'BAD_SHAPE', /mag must have 58995/);
  const nan = mag.slice();
  nan[5] = NaN;
  await rejectsCode(() => lmac.explainMagnitude(nan), 'BAD_ARGUMENT', /mag\[5\]/);
  const neg = mag.slice();
  neg[9] = -1;
  await rejectsCode(() => lmac.explainMagnitude(neg), 'BAD_ARGUMENT', /mag\[9\] is -1/);
  lmac.dispose();
  assert.is(tf.memory().numTensors < before, true, 'dispose frees the decoder, classifier and magnitude model');
  await rejectsCode(() => lmac.explainMagnitude(mag), 'DISPOSED');
});

test('decoder files: round trip; mismatched classifier, wrong shape, missing tensor, damaged binary, bad version are refused by name', async () => {
  const w = randomClassifier(31);
  const f = decoderFileFor(w);
  const { json, bin } = serializeDecoder(f);
  const back = parseDecoder(json, bin);
  assert.equal(back.tensors['freq.kernel'], f.tensors['freq.kernel']);
  assert.equal(back.info.classifier, f.info.classifier);
  // Another classifier (other seed): refused, both fingerprints named.
  await rejectsCode(() => loadLmac({ json, bin }, randomClassifier(32)), 'LMAC_MISMATCH', /trained for classifier 'svd-cnn-ismir2015\/test-31' \(fingerprint [0-9a-f]{8}\).*'svd-cnn-ismir2015\/test-32'/);
  const m = JSON.parse(json);
  const bad = structuredClone(m);
  bad.weights.tensors.find((t: { name: string }) => t.name === 'head.kernel').shape = [16, 2];
  throwsCode(() => parseDecoder(bad, bin), 'LMAC_SHAPE', /'head\.kernel' has shape \[16, 2\].*\[16, 1\]/);
  const miss = structuredClone(m);
  miss.weights.tensors = miss.weights.tensors.filter((t: { name: string }) => t.name !== 'projB.bias');
  throwsCode(() => parseDecoder(miss, bin), 'LMAC_MISSING', /'projB\.bias'/);
  const extra = structuredClone(m);
  extra.weights.tensors.push({ name: 'wat', shape: [1], dtype: 'float32', byteOffset: 0 });
  throwsCode(() => parseDecoder(extra, bin), 'LMAC_CORRUPT', /'wat'/);
  const dmg = bin.slice();
  dmg[100] ^= 0xff;
  throwsCode(() => parseDecoder(json, dmg), 'LMAC_CORRUPT', /checksum/);
  throwsCode(() => parseDecoder(json, bin.slice(0, bin.length - 4)), 'LMAC_CORRUPT', /bytes/);
  throwsCode(() => parseDecoder({ ...m, formatVersion: 9 }, bin), 'LMAC_VERSION', /formatVersion 9/);
  throwsCode(() => parseDecoder({ ...m, format: 'earshot-model' }, bin), 'LMAC_CORRUPT', /format/);
  throwsCode(() => parseDecoder('{nope', bin), 'LMAC_CORRUPT', /not valid JSON/);
  await rejectsCode(() => loadLmac('/nonexistent/lmac', w), 'LMAC_MISSING', /decoder\.json/);
});

test('training options: bad and unknown options are named', () => {
  throwsCode(() => resolveLmacOptions({ epochs: 0 }), 'BAD_ARGUMENT', /epochs/);
  throwsCode(() => resolveLmacOptions({ batchSize: 1.5 }), 'BAD_ARGUMENT', /batchSize/);
  throwsCode(() => resolveLmacOptions({ learningRate: NaN }), 'BAD_ARGUMENT', /learningRate/);
  throwsCode(() => resolveLmacOptions({ ccThreshold: 2 }), 'BAD_ARGUMENT', /ccThreshold/);
  throwsCode(() => resolveLmacOptions({ loss: { lambdaIn: -1 } }), 'BAD_ARGUMENT', /lambdaIn/);
  throwsCode(() => resolveLmacOptions({ loss: { lambdaX: 1 } as never }), 'BAD_ARGUMENT', /lambdaX/);
  throwsCode(() => resolveLmacOptions({ epoch: 3 } as never), 'BAD_ARGUMENT', /unknown L-MAC training option 'epoch'/);
});

test('tiny end-to-end run: train (mask + FT stage) on synthetic songs, save, load, explain via the CLI, resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-lmac-'));
  try {
    const w = randomClassifier(41);
    const train = [synthSong('a', 4, 1), synthSong('b', 4, 2)];
    const valid = [synthSong('v', 4, 3)];
    const out = join(dir, 'dec');
    const logs: string[] = [];
    const opts = { epochs: 1, ftEpochs: 1, stepsPerEpoch: 2, batchSize: 2, validExcerpts: 2, channels: 4, ccThreshold: -1, outDir: out, log: (l: string) => logs.push(l) };
    const r = await trainLmac(w, train, valid, opts);
    assert.is(r.history.length, 2);
    assert.equal(r.history.map((h) => h.stage), ['mask', 'ft']);
    assert.ok(logs.some((l) => /mask epoch 1 done .*P\(c\) original .* masked-in .* masked-out .* AI .* AD/.test(l)), logs.join('\n'));
    assert.ok(r.history[1]!.train.guidedShare! > 0, 'the guidance term applied to some items');
    for (const f of ['decoder.json', 'decoder.bin', 'stage1/decoder.json', 'checkpoint/state.json', 'checkpoint/adam.bin']) assert.ok(existsSync(join(out, f)), f);
    const manifest = JSON.parse(readFileSync(join(out, 'decoder.json'), 'utf8'));
    assert.is(manifest.training.stage, 'ft');
    assert.is(manifest.training.seed, 1);
    // Resume with one more FT epoch continues from the checkpoint (no stage-1 epoch redone).
    const r2 = await trainLmac(w, train, valid, { ...opts, ftEpochs: 2, resume: true });
    assert.equal(r2.history.map((h) => `${h.stage}${h.epoch}`), ['mask1', 'ft1', 'ft2']);
    await rejectsCode(() => trainLmac(w, train, valid, { ...opts, batchSize: 3, resume: true }), 'CHECKPOINT_MISMATCH', /batchSize/);
    // Warm start from the trained decoder: recorded; another architecture refused by name.
    const { loadDecoderFile } = await import('../src/explain/lmac/weights.ts');
    const prev = { ...(await loadDecoderFile(out)), source: out };
    const r3 = await trainLmac(w, train, valid, { ...opts, ftEpochs: 0, outDir: join(dir, 'warm'), init: prev });
    assert.is((r3.file.info.training.initialisedFrom as { source: string }).source, out);
    await rejectsCode(() => trainLmac(w, train, valid, { ...opts, channels: 5, outDir: join(dir, 'warm2'), init: prev }), 'LMAC_MISMATCH', /channels = 4.*5/);
    // The CLI on a WAV with this decoder and classifier.
    const modelDir = join(dir, 'model');
    await saveWeights(modelDir, w);
    const wav = join(dir, 'clip.wav');
    await writeWavFile(wav, { sampleRate: 22050, channels: [synthSong('c', 3, 9).mix] });
    const exOut = join(dir, 'ex');
    const log = console.log;
    console.log = () => {};
    try {
      assert.is(await explainLmacCommand([wav, '--method', 'lmac', '--decoder', out, '--model', modelDir, '--at', '1.5', '--out', exOut]), 0);
      assert.is(await explainLmacCommand([wav, '--method', 'lmac', '--decoder', out, '--model', modelDir, '--out', join(dir, 'whole')]), 0);
    } finally {
      console.log = log;
    }
    for (const f of ['mask.npy', 'mask.png', 'excerpt.wav', 'masked-in.wav', 'masked-out.wav', 'explanation.json', 'index.html']) assert.ok(existsSync(join(exOut, f)), f);
    const ej = JSON.parse(readFileSync(join(exOut, 'explanation.json'), 'utf8'));
    assert.equal(ej.mask.shape, [115, 513]);
    const npy = readFileSync(join(exOut, 'mask.npy'));
    assert.is(npy.length, 128 + 115 * 513 * 4);
    const whole = JSON.parse(readFileSync(join(dir, 'whole', 'explanation.json'), 'utf8'));
    const nF = Math.floor((3 * 22050 - 1024) / 315) + 1;
    assert.equal(whole.mask.shape, [nF, 513]);
    assert.is(whole.excerpts.length, Math.ceil(nF / 115));
    // CLI errors name the option / file.
    await rejectsCode(() => explainLmacCommand([wav, '--method', 'lmac', '--decoder', out, '--model', modelDir, '--at', 'soon', '--out', exOut]), 'BAD_USAGE', /--at/);
    await rejectsCode(() => explainLmacCommand([wav, '--method', 'lmac', '--decoder', out, '--model', modelDir, '--at', '99', '--out', exOut]), 'BAD_USAGE', /past the end/);
    await rejectsCode(() => explainLmacCommand([wav, '--method', 'lmac', '--decoder', out, '--model', modelDir, '--steps', '3', '--out', exOut]), 'BAD_USAGE', /steps/);
    await rejectsCode(() => explainLmacCommand([wav, '--method', 'lmac', '--decoder', join(dir, 'nothing'), '--model', modelDir, '--out', exOut]), 'LMAC_MISSING', /nothing/);
    await rejectsCode(() => explainLmacCommand([wav, '--method', 'lmac', '--decoder', out, '--model', modelDir]), 'BAD_USAGE', /--out/);
    const other = join(dir, 'other');
    await saveWeights(other, randomClassifier(42));
    await rejectsCode(() => explainLmacCommand([wav, '--method', 'lmac', '--decoder', out, '--model', other, '--out', exOut]), 'LMAC_MISMATCH', /test-41/);
    writeFileSync(join(out, 'decoder.bin'), new Uint8Array(8));
    await rejectsCode(() => explainLmacCommand([wav, '--method', 'lmac', '--decoder', out, '--model', modelDir, '--out', exOut]), 'LMAC_CORRUPT', /decoder\.bin/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
