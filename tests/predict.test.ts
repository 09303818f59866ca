// `earshot predict` end to end on a 3-s cut of the bundled sung clip with a seeded random CNN
// (--model random:1) and with a small TF.js layers model read from a model.json directory.
// References: the front end's frame count and frame times (methods.md §1), the CNN's strided
// per-excerpt `predict` on excerpts cut by FrontEnd.excerpt (an independent path from the
// fully-convolutional chunks the command runs), a brute-force median with replicated edges,
// the TF.js model's own predict on the same excerpts; PNG decoded with node:zlib; every bad
// option rejected by name. Plus the probability picture's layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError } from '../bindings/errors.ts';
import { loadMono, writeWavFile } from '../src/audio/node.ts';
import { FrontEnd } from '../src/frontend/index.ts';
import { predictCommand, loadPredictModel, predictSignal } from '../src/cli/commands/predict.ts';
import { clipStats } from '../src/cli/commands/explain.ts';
import { SvdCnn } from '../src/model/svdcnn.ts';
import { initWeights } from '../src/model/weights.ts';
import { initBackend } from '../src/model/backend.ts';
import { loadTfjsLayers } from '../src/model/tfjs-adapters.ts';
import { probabilityPixels, renderProbability, PROBABILITY_COLOURS } from '../src/render/probability.ts';
import { maxAbsErr, ROOT } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'earshot-predict-'));
const clip = join(dir, 'lena-3s.wav');
const SR = 22050;
let signal: Float32Array;

test.before(async () => {
  const full = await loadMono(join(ROOT, 'assets', 'lena-sung.wav'), SR);
  signal = full.slice(SR, 4 * SR); // 1 s … 4 s: singing
  await writeWavFile(clip, { sampleRate: SR, channels: [signal] }, { format: 'float32' });
  await writeWavFile(join(dir, 'short.wav'), { sampleRate: SR, channels: [signal.subarray(0, 800)] });
  await initBackend('wasm');
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stderr.write = write;
  }
}

async function rejects(p: () => Promise<unknown>, code: string, re: RegExp): Promise<void> {
  try {
    await quiet(p);
  } catch (e) {
    assert.instance(e, EarshotError);
    assert.is((e as EarshotError).code, code, (e as Error).message);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

/** Median over [i − ⌊k/2⌋, i + k − 1 − ⌊k/2⌋] with edges replicated (SciPy mode 'nearest'). */
function bruteMedian(x: ArrayLike<number>, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const w: number[] = [];
    for (let j = i - Math.floor(k / 2); j < i - Math.floor(k / 2) + k; j++) w.push(x[Math.min(x.length - 1, Math.max(0, j))]!);
    w.sort((a, b) => a - b);
    out.push(w[Math.floor(k / 2)]!);
  }
  return out;
}

function pngSize(png: Uint8Array): { width: number; height: number; raw: Uint8Array } {
  assert.equal(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset);
  const width = dv.getUint32(16);
  const height = dv.getUint32(20);
  // IHDR (25 bytes incl. length/type/crc) then IDAT
  const idatLen = dv.getUint32(33);
  assert.is(String.fromCharCode(...png.subarray(37, 41)), 'IDAT');
  const raw = new Uint8Array(zlib.inflateSync(png.subarray(41, 41 + idatLen)));
  assert.is(raw.length, height * (width * 3 + 1));
  return { width, height, raw };
}

test('JSON: one row per front-end frame, frame-centre times, P equal to the strided CNN on FrontEnd excerpts, decisions = P > threshold', async () => {
  const out = join(dir, 'p.json');
  const png = join(dir, 'p.png');
  // --chunk 50: several fully-convolutional passes (and a progress bar) on a 3-s file
  assert.is(await quiet(() => predictCommand([clip, '--model', 'random:1', '--out', out, '--png', png, '--chunk', '50'])), 0);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  const fe = new FrontEnd();
  const n = fe.frames(signal.length);
  assert.is(n, Math.floor((3 * SR - 1024) / 315) + 1);
  assert.is(j.format, 'earshot-predictions');
  assert.is(j.frames, n);
  assert.is(j.time.length, n);
  assert.is(j.probability.length, n);
  assert.is(j.decision.length, n);
  assert.is(j.threshold, 0.51);
  assert.is(j.label, 'voice');
  assert.is(j.model, 'random:1');
  assert.is(j.normalisation, 'clip');
  for (const i of [0, 1, n - 1]) assert.ok(Math.abs(j.time[i] - (i * 315 + 512) / SR) < 1e-6);
  for (let i = 0; i < n; i++) assert.is(j.decision[i], j.probability[i] > 0.51 ? 1 : 0);
  // reference: the strided form on excerpts cut by the front end, at chunk edges and ends
  const lm = fe.logMel(signal);
  const stats = clipStats(lm.data, lm.nMels);
  const prep = fe.prepare(signal, stats);
  const cnn = new SvdCnn(initWeights(1));
  const frames = [0, 1, 49, 50, 51, 99, 100, n - 2, n - 1];
  const batch = new Float32Array(frames.length * fe.excerptSize);
  frames.forEach((c, i) => fe.excerpt(prep, c, batch, i * fe.excerptSize));
  const want = await cnn.predict(batch, frames.length);
  cnn.dispose();
  const got = frames.map((c) => j.probability[c]);
  assert.ok(maxAbsErr(got, want) <= 2e-5, `max |Δ| ${maxAbsErr(got, want)}`);
  // PNG: spectrogram (80 bands × 2 px) + separator + 120-px strip, 2 px per frame
  const { width, height } = pngSize(new Uint8Array(readFileSync(png)));
  assert.is(width, 2 * n);
  assert.is(height, 80 * 2 + 1 + 120);
});

test('CSV with --median and --threshold: median equals a brute-force median (edges replicated), decisions follow the smoothed curve', async () => {
  const out = join(dir, 'p.csv');
  assert.is(await quiet(() => predictCommand([clip, '--model', 'random:1', '--out', out, '--median', '7', '--threshold', '0.3'])), 0);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.is(lines[0], 'time,p_voice,p_voice_median7,decision');
  const rows = lines.slice(1).map((l) => l.split(',').map(Number));
  const n = new FrontEnd().frames(signal.length);
  assert.is(rows.length, n);
  const p = rows.map((r) => r[1]!);
  const med = bruteMedian(p, 7);
  assert.ok(maxAbsErr(rows.map((r) => r[2]!), med) <= 1e-6);
  rows.forEach((r) => assert.is(r[3], r[2]! > 0.3 ? 1 : 0));
  // --format overrides the extension
  const forced = join(dir, 'forced.txt');
  await quiet(() => predictCommand([clip, '--model', 'random:1', '--out', forced, '--format', 'csv']));
  assert.is(readFileSync(forced, 'utf8').split('\n')[0], 'time,p_voice,decision');
});

test('stdout gets JSON when there is no --out', async () => {
  const write = process.stdout.write;
  let text = '';
  process.stdout.write = ((s: string) => ((text += s), true)) as typeof process.stdout.write;
  try {
    await quiet(() => predictCommand([clip, '--model', 'random:2']));
  } finally {
    process.stdout.write = write;
  }
  const j = JSON.parse(text);
  assert.is(j.frames, new FrontEnd().frames(signal.length));
});

test('a TF.js layers model directory works as --model; P equals its own predict on the same excerpts', async () => {
  const tfl = await loadTfjsLayers();
  const m = tfl.sequential({
    layers: [
      tfl.layers.reshape({ inputShape: [115, 80], targetShape: [115, 80, 1] }),
      tfl.layers.conv2d({ filters: 2, kernelSize: 5, strides: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  let a: tf.io.ModelArtifacts | undefined;
  await m.save(tf.io.withSaveHandler(async (x) => ((a = x), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const mdir = join(dir, 'tfjs-model');
  mkdirSync(mdir);
  writeFileSync(join(mdir, 'weights.bin'), new Uint8Array(a!.weightData as ArrayBuffer));
  writeFileSync(join(mdir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a!.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a!.weightSpecs }], userDefinedMetadata: { earshot: { labels: ['music', 'voice'], threshold: 0.4 } } }));
  const out = join(dir, 'tfjs.json');
  assert.is(await quiet(() => predictCommand([clip, '--model', mdir, '--out', out, '--batch', '40'])), 0);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  assert.is(j.label, 'voice');
  assert.is(j.threshold, 0.4);
  const fe = new FrontEnd();
  const lm = fe.logMel(signal);
  const prep = fe.prepare(signal, clipStats(lm.data, lm.nMels));
  const frames = [0, 39, 40, j.frames - 1];
  const want = frames.map((c) => tf.tidy(() => (m.predict(tf.tensor(fe.excerpt(prep, c), [1, 115, 80])) as tf.Tensor).dataSync()[1]!));
  assert.ok(maxAbsErr(frames.map((c) => j.probability[c]), want) <= 1e-6);
  // the same model through the library function, choosing the other column
  const pm = await loadPredictModel(mdir, 'music');
  const r = await predictSignal(pm, signal);
  pm.dispose();
  assert.ok(Math.abs(r.probs[0]! + j.probability[0] - 1) < 1e-5);
  await rejects(() => predictCommand([clip, '--model', mdir, '--label', 'drums']), 'BAD_USAGE', /--label 'drums' is not one of the model's labels \(music, voice\)/);
  m.dispose();
});

test('--engine ort-web and --engine tfjs give the same frame probabilities (fully-convolutional form on both)', async () => {
  const a = join(dir, 'eng-tfjs.json');
  const b = join(dir, 'eng-ortweb.json');
  assert.is(await quiet(() => predictCommand([clip, '--model', 'random:1', '--engine', 'tfjs', '--out', a])), 0);
  assert.is(await quiet(() => predictCommand([clip, '--model', 'random:1', '--engine', 'ort-web', '--out', b])), 0);
  const pa: number[] = JSON.parse(readFileSync(a, 'utf8')).probability;
  const pb: number[] = JSON.parse(readFileSync(b, 'utf8')).probability;
  assert.is(pa.length, pb.length);
  for (let i = 0; i < pa.length; i++) assert.ok(Math.abs(pa[i]! - pb[i]!) < 1e-4, `frame ${i}: ${pa[i]} vs ${pb[i]}`);
});

test('bad options and inputs are rejected by name', async () => {
  const r = (args: string[], code: string, re: RegExp) => rejects(() => predictCommand(args), code, re);
  await r([clip, '--model', 'random:1', '--engine', 'cuda'], 'BAD_USAGE', /--engine must be one of auto, tfjs, ort, ort-web, got 'cuda'/);
  await r([clip, '--model', 'random:1', '--threshold', '1.5'], 'BAD_USAGE', /--threshold must be a number in \[0, 1\], got '1\.5'/);
  await r([clip, '--model', 'random:1', '--threshold', 'x'], 'BAD_USAGE', /--threshold/);
  await r([clip, '--model', 'random:1', '--median', '0'], 'BAD_USAGE', /--median must be an integer in \[1, 100000\], got '0'/);
  await r([clip, '--model', 'random:1', '--format', 'xml'], 'BAD_USAGE', /--format must be json or csv, got 'xml'/);
  await r([clip, '--model', 'random:1', '--png', join(dir, 'x.jpg')], 'BAD_USAGE', /--png must name a \.png file/);
  await r([clip, '--model', 'random:1', '--chunk', '-3'], 'BAD_USAGE', /chunk|-3/);
  await r([clip, '--model', 'random:1', '--label', 'voice'], 'BAD_USAGE', /--label applies to multi-class TF\.js models/);
  await r([clip, '--model', 'random:1', '--colour', 'red'], 'BAD_USAGE', /colour/);
  await r([], 'BAD_USAGE', /exactly one input WAV file, got 0/);
  await r([clip, clip], 'BAD_USAGE', /exactly one input WAV file, got 2/);
  await r([clip, '--model', 'random:x'], 'BAD_USAGE', /random:SEED/);
  await r([clip, '--model', join(dir, 'no-such-model')], 'MODEL_MISSING', /no-such-model does not exist.*earshot train/);
  await r([join(dir, 'short.wav'), '--model', 'random:1'], 'TOO_SHORT', /shorter than one frame/);
  await r([join(dir, 'missing.wav'), '--model', 'random:1'], 'FILE_NOT_FOUND', /missing\.wav/);
});

test('probability picture: spectrogram on top, threshold line, curve and shading in the strip; long inputs squeezed', () => {
  const n = 50;
  const B = 4;
  const lm = Float32Array.from({ length: n * B }, (_, i) => (i % B) + Math.floor(i / B) * 0.01);
  const p = Float32Array.from({ length: n }, (_, i) => (i < 25 ? 0.1 : 0.9));
  const img = probabilityPixels(lm, n, B, p, { threshold: 0.5, frameWidth: 1, bandHeight: 1, stripHeight: 21 });
  assert.is(img.width, n);
  assert.is(img.height, B + 1 + 21);
  const at = (x: number, y: number) => Array.from(img.pixels.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
  assert.is(img.rowOf(0.5), img.stripTop + 10);
  assert.is(img.rowOf(1), img.stripTop);
  assert.is(img.rowOf(0), img.height - 1);
  assert.equal(at(5, img.rowOf(0.5)), [...PROBABILITY_COLOURS.threshold]);
  assert.equal(at(5, img.rowOf(0.1)), [...PROBABILITY_COLOURS.curve]);
  assert.equal(at(40, img.rowOf(0.9)), [...PROBABILITY_COLOURS.curve]);
  assert.equal(at(5, img.rowOf(0.9)), [...PROBABILITY_COLOURS.background]);
  assert.equal(at(40, img.rowOf(0.1)), [...PROBABILITY_COLOURS.positive]);
  // the step at frame 25 is joined by a vertical run
  for (let y = img.rowOf(0.9); y <= img.rowOf(0.1); y++) assert.equal(at(25, y), [...PROBABILITY_COLOURS.curve]);
  // band 3 (loudest) on the top row, band 0 at the bottom of the spectrogram
  assert.ok(at(0, 0)[0]! > at(0, B - 1)[0]!);
  const wide = probabilityPixels(lm, n, B, p, { maxWidth: 10, bandHeight: 1 });
  assert.is(wide.width, 10);
  assert.equal(Array.from(wide.columnStart), [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
  const png = renderProbability(lm, n, B, p, { deflate: (d) => new Uint8Array(zlib.deflateSync(d)) });
  const s = pngSize(png);
  assert.is(s.width, 2 * n);
  assertThrows(() => probabilityPixels(lm, n, B, p.map((v, i) => (i === 3 ? 1.5 : v))), 'NOT_FINITE', /probs\[3\] is 1\.5/);
  assertThrows(() => probabilityPixels(lm, n, B, p.subarray(1)), 'BAD_SHAPE', /probs must have 50 elements, got 49/);
  assertThrows(() => probabilityPixels(lm, n, B, p, { threshold: 2 }), 'BAD_ARGUMENT', /threshold/);
});

function assertThrows(fn: () => unknown, code: string, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, EarshotError);
    assert.is((e as EarshotError).code, code, (e as Error).message);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test.run();
