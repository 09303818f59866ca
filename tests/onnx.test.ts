// ONNX export of the singing-voice CNN (src/model/onnx/export.ts) and ONNX models as Classifiers
// (src/model/onnx/runtime.ts). References: PyTorch's eval-mode logits of the reference module
// (tests/fixtures/cnn/, scripts/fixtures/make_cnn_fixtures.py), H6's TF.js SvdCnn on random
// weights with perturbed batch norm, and ONNX files written by torch.onnx.export with PyTorch's
// outputs (tests/fixtures/onnx/, scripts/fixtures/make_onnx_fixtures.py). ONNX Runtime is the
// independent reader of earshot's writer: it validates every graph on load.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath, readF32, readJSON, maxAbsErr } from './helpers.ts';
import { initBackend } from '../src/model/backend.ts';
import { loadWeights, initWeights, type WeightSet } from '../src/model/weights.ts';
import { SvdCnn } from '../src/model/svdcnn.ts';
import { exportSvdOnnx, foldSvdWeights } from '../src/model/onnx/export.ts';
import { encodeModel, readMetadata } from '../src/model/onnx/proto.ts';
import { loadOnnxClassifier, OnnxClassifier } from '../src/model/onnx/runtime.ts';
import { exportOnnxCommand } from '../src/model/onnx/cli.ts';

const T = 115;
const F = 80;

async function rejectsCode(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e: any) {
    if (e?.name !== 'EarshotError') throw new Error(`expected EarshotError ${code}, got ${e?.name}: ${e?.message}`);
    if (e.code !== code) throw new Error(`expected code ${code}, got ${e.code}: ${e.message}`);
    if (re && !re.test(e.message)) throw new Error(`message ${JSON.stringify(e.message)} does not match ${re}`);
    return;
  }
  throw new Error(`expected EarshotError ${code}, nothing was thrown`);
}

/** Random weights whose batch norms are far from identity, so folding is really exercised. */
function perturbedWeights(seed: number): WeightSet {
  const w = initWeights(seed);
  let s = seed * 7919 + 1;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  for (const [k, t] of Object.entries(w.tensors)) {
    const d = t.data;
    if (k.endsWith('bn.gamma') || k.endsWith('bn.variance')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + r();
    else if (k.endsWith('bn.beta') || k.endsWith('bn.mean') || k.endsWith('.bias')) for (let i = 0; i < d.length; i++) d[i] = r() - 0.5;
  }
  return w;
}

function randomInput(n: number, seed: number): Float32Array {
  let s = seed;
  const r = () => ((s = (s * 48271) % 2147483647) / 2147483647);
  return new Float32Array(n * T * F).map(() => 4 * r() - 2);
}

let ref: WeightSet;
test.before(async () => {
  await initBackend('wasm');
  ref = await loadWeights(fixturePath('cnn', 'model'));
});

test('writer: metadata round-trips through the minimal reader; varints of every size', () => {
  const bytes = encodeModel({
    metadata: { a: 'x', 'long.key': 'é'.repeat(200) },
    graph: { name: 'g', nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }], initializers: [], inputs: [{ name: 'x', dims: ['N', 300] }], outputs: [{ name: 'y', dims: ['N', 300] }] },
  });
  assert.equal(readMetadata(bytes), { a: 'x', 'long.key': 'é'.repeat(200) });
});

test('excerpt form on onnxruntime-node = PyTorch reference logits (fixture weights, float16-exact)', async () => {
  const padded = readF32('cnn/padded_norm.f32');
  const want = readF32('cnn/frame_logits.f32');
  const c = await OnnxClassifier.create(exportSvdOnnx(ref, { logits: true }), { engine: 'ort', threads: 1, inputShape: [T, F], labels: ['voice'], output: 'logits' });
  const starts = [0, 7, 20, 47];
  const x = new Float32Array(starts.length * T * F);
  starts.forEach((t, i) => x.set(padded.subarray(t * F, (t + T) * F), i * T * F));
  const raw = await c.runRaw(x, [starts.length, 1, T, F]);
  const expect = starts.map((t) => want[t]!);
  let scale = 1;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  assert.ok(maxAbsErr(raw.data, expect) / scale < 1e-4, `excerpt logits vs PyTorch: ${maxAbsErr(raw.data, expect)}`);
  // predict applies the sigmoid because the exported model says it outputs logits
  const p = await c.predict(x, starts.length);
  assert.ok(maxAbsErr(p, expect.map((z) => 1 / (1 + Math.exp(-z)))) < 1e-5);
  c.dispose();
});

test('file form on onnxruntime-node = PyTorch reference frame logits', async () => {
  const padded = readF32('cnn/padded_norm.f32');
  const want = readF32('cnn/frame_logits.f32');
  const L = padded.length / F;
  const c = await OnnxClassifier.create(exportSvdOnnx(ref, { form: 'file', logits: true }), { engine: 'ort', threads: 1, inputShape: [1, T, F], output: 'logits' });
  const raw = await c.runRaw(padded, [1, 1, L, F]);
  assert.equal(raw.dims, [1, L - T + 1]);
  let scale = 1;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  assert.ok(maxAbsErr(raw.data, want) / scale < 1e-4, `frame logits vs PyTorch: ${maxAbsErr(raw.data, want)}`);
  c.dispose();
});

test('random weights with perturbed BN: ORT excerpt form = TF.js SvdCnn, file form = excerpt form (≤ 1e-4)', async () => {
  const w = perturbedWeights(3);
  const m = new SvdCnn(w);
  const n = 3;
  const x = randomInput(n, 5);
  const tfjs = await m.predict(x, n);
  const c = await OnnxClassifier.create(exportSvdOnnx(w), { engine: 'ort', threads: 2, inputShape: [T, F] });
  assert.equal(c.labels, ['voice']);
  const ort = await c.predict(x, n);
  assert.ok(maxAbsErr(ort, tfjs) < 1e-4, `ort vs tfjs ${maxAbsErr(ort, tfjs)}`);
  // logits too: random weights saturate the sigmoid, so probabilities alone would prove little
  const zt = await m.predictLogits(x, n);
  const cl = await OnnxClassifier.create(exportSvdOnnx(w, { logits: true }), { engine: 'ort', threads: 2, inputShape: [T, F], output: 'logits' });
  const zo = (await cl.runRaw(x, [n, 1, T, F])).data;
  const scale = Math.max(1, ...Array.from(zt, Math.abs));
  assert.ok(maxAbsErr(zo, zt) / scale < 1e-4, `logits ort ${Array.from(zo)} vs tfjs ${Array.from(zt)}`);
  assert.ok(Math.max(...zt) - Math.min(...zt) > 1e-2, `${Array.from(zt)}`);
  cl.dispose();
  // file form over a short spectrogram: frame t = excerpt starting at t
  const L = T + 6;
  const spec = randomInput(2, 9).subarray(0, L * F);
  const fileC = await OnnxClassifier.create(exportSvdOnnx(w, { form: 'file' }), { engine: 'ort', threads: 2, inputShape: [1, T, F] });
  const frames = (await fileC.runRaw(spec, [1, 1, L, F])).data;
  const ex = new Float32Array(7 * T * F);
  for (let t = 0; t < 7; t++) ex.set(spec.subarray(t * F, (t + T) * F), t * T * F);
  const strided = await c.predict(ex, 7);
  assert.ok(maxAbsErr(frames, strided) < 1e-5, `file vs excerpt ${maxAbsErr(frames, strided)}`);
  const tfFrames = await m.predictFrames(spec, L, { padded: true });
  assert.ok(maxAbsErr(frames, tfFrames) < 1e-4);
  c.dispose();
  fileC.dispose();
  m.dispose();
});

test('onnxruntime-web (wasm) loads the export and agrees with onnxruntime-node', async () => {
  const w = perturbedWeights(4);
  const bytes = exportSvdOnnx(w);
  const x = randomInput(2, 11);
  const a = await OnnxClassifier.create(bytes, { engine: 'ort', threads: 1, inputShape: [T, F] });
  const b = await OnnxClassifier.create(bytes, { engine: 'ort-web', threads: 2, inputShape: [T, F] });
  const pa = await a.predict(x, 2);
  const pb = await b.predict(x, 2);
  assert.ok(maxAbsErr(pa, pb) < 1e-4, `${maxAbsErr(pa, pb)}`);
  a.dispose();
  b.dispose();
});

test('fold: conv1 kernels are zero-mean after folding; metadata carries labels, threshold, normalisation', () => {
  const f = foldSvdWeights(ref);
  const k = f.conv[0]!.kernel; // [64, 1, 3, 3]
  for (let o = 0; o < 64; o++) {
    let s = 0;
    for (let j = 0; j < 9; j++) s += k[o * 9 + j]!;
    assert.ok(Math.abs(s) < 1e-5, `channel ${o} sum ${s}`);
  }
  const meta = readMetadata(exportSvdOnnx(ref));
  assert.equal(JSON.parse(meta['earshot.labels']!), ref.info.labels);
  assert.is(Number(meta['earshot.threshold']), ref.info.threshold);
  assert.equal(JSON.parse(meta['earshot.normalization']!), ref.info.normalization);
  assert.is(meta['earshot.form'], 'excerpt');
});

test('user ONNX models from torch.onnx.export: shape from the graph, dynamic batch, probs and logits', async () => {
  const d = readJSON('onnx/fixture.json');
  const x = readF32('onnx/tiny_input.f32');
  const probs = await loadOnnxClassifier(fixturePath('onnx', 'tiny_probs.onnx'), { labels: ['a', 'b', 'c'], batchSize: 2 });
  assert.equal(probs.inputShape, d.inputShape);
  assert.equal(probs.labels, ['a', 'b', 'c']);
  assert.is(probs.id, 'onnx:tiny_probs.onnx');
  const p = await probs.predict(x, d.n);
  assert.ok(maxAbsErr(p, readF32('onnx/tiny_probs_expected.f32')) < 1e-5);
  const logits = await loadOnnxClassifier(fixturePath('onnx', 'tiny_logits.onnx'), { output: 'logits', engine: 'ort-web', threads: 1 });
  assert.equal(logits.labels, ['class0', 'class1', 'class2']);
  const q = await logits.predict(x, d.n);
  assert.ok(maxAbsErr(q, readF32('onnx/tiny_logits_expected.f32')) < 1e-5);
  // a logits model read as probabilities is caught, and the message names the option
  const wrong = await loadOnnxClassifier(fixturePath('onnx', 'tiny_logits.onnx'));
  await rejectsCode(wrong.predict(x, d.n), 'MODEL_OUTPUT', /output: 'logits'/);
  // the same layout with the channel squeezed is accepted; another size is not
  const squeezed = await loadOnnxClassifier(fixturePath('onnx', 'tiny_probs.onnx'), { inputShape: [12, 10] });
  assert.ok(maxAbsErr(await squeezed.predict(x, d.n), p) < 1e-7);
  await rejectsCode(loadOnnxClassifier(fixturePath('onnx', 'tiny_probs.onnx'), { inputShape: [115, 80] }), 'ONNX_SHAPE', /\[1, 12, 10\].*\[115, 80\]/);
  await rejectsCode(loadOnnxClassifier(fixturePath('onnx', 'tiny_probs.onnx'), { labels: ['voice'] }), 'ONNX_SHAPE', /outputs 3 values.*labels has 1/);
  await rejectsCode(probs.predict(x.subarray(0, 100), 1), 'BAD_SHAPE');
  for (const c of [probs, logits, wrong, squeezed]) c.dispose();
  await rejectsCode(probs.predict(x, d.n), 'DISPOSED');
});

test('corrupt, truncated, missing and empty ONNX files get clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-onnx-'));
  try {
    const good = exportSvdOnnx(initWeights(1));
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
    await rejectsCode(loadOnnxClassifier(truncated), 'ONNX_CORRUPT', /runs past the end|truncated/);
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, new TextEncoder().encode('this is not an onnx model at all, just text\n'));
    await rejectsCode(loadOnnxClassifier(garbage), 'ONNX_CORRUPT');
    // well-formed protobuf that is not a valid graph (a node reading an undefined tensor): ORT rejects it
    const bad = encodeModel({ graph: { name: 'g', nodes: [{ op: 'Relu', inputs: ['nope'], outputs: ['y'] }], initializers: [], inputs: [{ name: 'x', dims: ['N', 4] }], outputs: [{ name: 'y', dims: ['N', 4] }] } });
    await rejectsCode(loadOnnxClassifier(bad), 'ONNX_CORRUPT', /could not load/);
    const empty = join(dir, 'empty.onnx');
    writeFileSync(empty, new Uint8Array(0));
    await rejectsCode(loadOnnxClassifier(empty), 'ONNX_CORRUPT', /empty/);
    await rejectsCode(loadOnnxClassifier(join(dir, 'absent.onnx')), 'MODEL_MISSING', /no such file/);
    await rejectsCode(loadOnnxClassifier(dir), 'MODEL_MISSING', /directory/);
    // symbolic example dimensions need inputShape
    const sym = encodeModel({ graph: { name: 'g', nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['y'] }], initializers: [], inputs: [{ name: 'x', dims: ['N', 'K'] }], outputs: [{ name: 'y', dims: ['N', 'K'] }] } });
    await rejectsCode(loadOnnxClassifier(sym), 'ONNX_SHAPE', /symbolic.*pass inputShape/);
    const c = await loadOnnxClassifier(sym, { inputShape: [3], labels: ['a', 'b', 'c'] });
    assert.ok(maxAbsErr(await c.predict(new Float32Array([0, 0, 0]), 1), [0.5, 0.5, 0.5]) < 1e-7);
    c.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('earshot export-onnx writes a model that loads with its labels; usage errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-onnx-cli-'));
  try {
    const out = join(dir, 'm.onnx');
    assert.is(await exportOnnxCommand.run(['--model', fixturePath('cnn', 'model'), '--out', out, '--form', 'file']), 0);
    const c = await loadOnnxClassifier(out, { inputShape: [1, T, F] });
    assert.equal(c.labels, ref.info.labels);
    assert.is(c.metadata['earshot.form'], 'file');
    c.dispose();
    await rejectsCode(exportOnnxCommand.run(['--model', 'random:1']), 'BAD_USAGE', /--out/);
    await rejectsCode(exportOnnxCommand.run(['--model', 'random:1', '--out', out, '--form', 'frames']), 'BAD_USAGE', /--form/);
    await rejectsCode(exportOnnxCommand.run(['--model', 'random:x', '--out', out]), 'BAD_USAGE', /random:SEED/);
    await rejectsCode(exportOnnxCommand.run(['--model', join(dir, 'nope'), '--out', out]), 'WEIGHTS_MISSING');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are named', async () => {
  const bytes = exportSvdOnnx(initWeights(2));
  await rejectsCode(OnnxClassifier.create(bytes, { engine: 'gpu' as never }), 'BAD_ARGUMENT', /engine/);
  await rejectsCode(OnnxClassifier.create(bytes, { output: 'scores' as never }), 'BAD_ARGUMENT', /output/);
  await rejectsCode(OnnxClassifier.create(bytes, { threads: 0 }), 'BAD_ARGUMENT', /threads/);
  await rejectsCode(OnnxClassifier.create(bytes, { batchSize: 1.5 }), 'BAD_ARGUMENT', /batchSize/);
  await rejectsCode(OnnxClassifier.create(bytes, { inputShape: [115, -80] }), 'BAD_ARGUMENT', /inputShape\[1\]/);
  assert.throws(() => exportSvdOnnx(initWeights(2), { form: 'frames' as never }), /form/);
});

test.run();
