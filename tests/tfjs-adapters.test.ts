// TF.js layers and graph models behind the Classifier interface (src/model/tfjs-adapters*.ts).
// References: the original tfjs-layers model's own predict (the adapter must reproduce it after a
// save to memory and to a directory), and for the hand-written graph model (Reshape → MatMul →
// AddV2 → Sigmoid) the closed form sigmoid(x·w + b) and its gradient p(1 − p)·w.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tflTypes from '@tensorflow/tfjs-layers';
import { maxAbsErr } from './helpers.ts';
import { initBackend } from '../src/model/backend.ts';
import { registerGradients } from '../src/model/gradients.ts';
import { loadTfjsModel, readTfjsArtifacts } from '../src/model/tfjs-adapters-node.ts';
import { isDifferentiable, detectTfjsFormat, loadTfjsLayers } from '../src/model/tfjs-adapters.ts';

const T = 115;
const F = 80;
const D = T * F;
let tmp: string;
// tfjs-layers through earshot's loader: a plain import would replace the registered gradient
// rules of the whole (shared) test process with tfjs-core's.
let tfl: typeof tflTypes;
const RULES = ['MaxPool', 'Conv2D', 'Sigmoid', 'BatchMatMul', 'GatherV2'];
let rulesBefore: Array<tf.GradConfig | undefined>;

async function rejects(fn: () => unknown, code: string, re?: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e: any) {
    assert.is(e?.name, 'EarshotError', `expected EarshotError, got ${e?.name}: ${e?.message}`);
    assert.is(e.code, code, e.message);
    if (re) assert.ok(re.test(e.message), `message ${JSON.stringify(e.message)} does not match ${re}`);
    return;
  }
  assert.unreachable(`expected EarshotError ${code}`);
}

/** A small CNN on a 115×80 excerpt (conv + pool + dense), seeded initialisers. */
function makeLayersModel(units: number, activation: 'sigmoid' | 'softmax' | 'linear'): tflTypes.LayersModel {
  return tfl.sequential({
    name: `small_cnn_${units}_${activation}`,
    layers: [
      tfl.layers.reshape({ inputShape: [T, F], targetShape: [T, F, 1], name: 'to_image' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.maxPooling2d({ poolSize: 4, name: 'pool' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units, activation, name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }), biasInitializer: tfl.initializers.constant({ value: 0.05 }) }),
    ],
  });
}

async function toMemory(m: tflTypes.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/** Write artifacts as a model.json directory, the weights split into `shards` files. */
function writeModelDir(dir: string, a: tf.io.ModelArtifacts, shards = 2): void {
  mkdirSync(dir, { recursive: true });
  const bytes = new Uint8Array(a.weightData as ArrayBuffer);
  const paths: string[] = [];
  const step = Math.ceil(bytes.length / shards);
  for (let s = 0; s < shards; s++) {
    const p = `group1-shard${s + 1}of${shards}.bin`;
    writeFileSync(join(dir, p), bytes.subarray(s * step, Math.min(bytes.length, (s + 1) * step)));
    paths.push(p);
  }
  const json = { format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy ?? null, modelTopology: a.modelTopology, weightsManifest: [{ paths, weights: a.weightSpecs }] };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
}

const input = (n: number, seed: number) => Float32Array.from({ length: n * D }, (_, i) => Math.sin(0.013 * i * seed + seed) + 0.3 * Math.cos(0.0007 * i));

async function reference(m: tflTypes.LayersModel, x: Float32Array, n: number): Promise<Float32Array> {
  const y = tf.tidy(() => m.predict(tf.tensor(x, [n, T, F])) as tf.Tensor);
  const d = (await y.data()) as Float32Array;
  y.dispose();
  return d;
}

// A hand-written graph model (TF GraphDef JSON, as tfjs-converter writes it): y = sigmoid(reshape(x) · w + b)
const gw = Float32Array.from({ length: D }, (_, i) => 0.01 * Math.sin(i));
const gb = 0.1;
/**
 * With `dynamic`, the probability goes through Where + GatherNd (keep p ≥ 0, i.e. all of them)
 * and a Reshape back to [n, 1]: the same function, but Where is a dynamic op that tfjs-converter
 * only runs with executeAsync.
 */
function graphArtifacts(dynamic = false): tf.io.ModelArtifacts {
  const constF = (name: string) => ({ name, op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT' } }, dtype: { type: 'DT_FLOAT' } } });
  const modelTopology = {
    node: [
      { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: String(T) }, { size: String(F) }] } } } },
      { name: 'shape', op: 'Const', attr: { value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } }, dtype: { type: 'DT_INT32' } } },
      constF('w'),
      constF('b'),
      { name: 'flat', op: 'Reshape', input: ['x', 'shape'], attr: { T: { type: 'DT_FLOAT' } } },
      { name: 'mm', op: 'MatMul', input: ['flat', 'w'], attr: { transpose_a: { b: false }, transpose_b: { b: false }, T: { type: 'DT_FLOAT' } } },
      { name: 'add', op: 'AddV2', input: ['mm', 'b'], attr: { T: { type: 'DT_FLOAT' } } },
      { name: dynamic ? 'p' : 'prob', op: 'Sigmoid', input: ['add'], attr: { T: { type: 'DT_FLOAT' } } },
      ...(dynamic
        ? [
            constF('zero'),
            { name: 'outshape', op: 'Const', attr: { value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } }, dtype: { type: 'DT_INT32' } } },
            { name: 'keep', op: 'GreaterEqual', input: ['p', 'zero'], attr: { T: { type: 'DT_FLOAT' } } },
            { name: 'idx', op: 'Where', input: ['keep'], attr: { T: { type: 'DT_BOOL' } } },
            { name: 'picked', op: 'GatherNd', input: ['p', 'idx'], attr: { Tparams: { type: 'DT_FLOAT' }, Tindices: { type: 'DT_INT64' } } },
            { name: 'prob', op: 'Reshape', input: ['picked', 'outshape'], attr: { T: { type: 'DT_FLOAT' } } },
          ]
        : []),
    ],
    versions: { producer: 1 },
  };
  const weightSpecs: tf.io.WeightsManifestEntry[] = [
    { name: 'shape', shape: [2], dtype: 'int32' },
    { name: 'w', shape: [D, 1], dtype: 'float32' },
    { name: 'b', shape: [1], dtype: 'float32' },
  ];
  if (dynamic) weightSpecs.push({ name: 'zero', shape: [], dtype: 'float32' }, { name: 'outshape', shape: [2], dtype: 'int32' });
  const data = new Uint8Array(8 + 4 * D + 4 + (dynamic ? 12 : 0));
  data.set(new Uint8Array(new Int32Array([-1, D]).buffer), 0);
  data.set(new Uint8Array(gw.buffer), 8);
  data.set(new Uint8Array(new Float32Array([gb]).buffer), 8 + 4 * D);
  if (dynamic) data.set(new Uint8Array(new Int32Array([0, -1, 1]).buffer), 12 + 4 * D); // 0.0f is all-zero bytes
  return { format: 'graph-model', generatedBy: 'hand-written', modelTopology, weightSpecs, weightData: data.buffer };
}

test.before(async () => {
  await initBackend('wasm');
  registerGradients();
  rulesBefore = RULES.map((k) => tf.getGradient(k));
  tfl = await loadTfjsLayers();
  tmp = mkdtempSync(join(tmpdir(), 'earshot-tfjs-'));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('layers model saved to memory loads back with identical predictions, differentiable, with layer activations', async () => {
  const m = makeLayersModel(1, 'sigmoid');
  const a = await toMemory(m);
  assert.is(detectTfjsFormat(a), 'layers-model');
  const c = await loadTfjsModel(a, { labels: ['voice'] });
  assert.is(c.format, 'layers-model');
  assert.equal(c.inputShape, [T, F]);
  assert.equal(c.labels, ['voice']);
  assert.ok(isDifferentiable(c) && c.differentiable);
  const x = input(5, 1);
  const want = await reference(m, x, 5);
  const got = await c.predict(x, 5);
  assert.is(got.length, 5);
  assert.ok(maxAbsErr(got, want) <= 1e-6, `max |Δ| ${maxAbsErr(got, want)}`);
  // the differentiable path is the same function, and has a non-zero input gradient
  if (!isDifferentiable(c)) throw new Error('unreachable');
  const xt = tf.tensor(x, [5, T, F]);
  const viaApply = tf.tidy(() => c.apply(xt).dataSync() as Float32Array);
  assert.ok(maxAbsErr(viaApply, want) <= 1e-6);
  const g = tf.grad((t: tf.Tensor) => tf.sum(c.apply(t)))(xt);
  assert.equal(g.shape, [5, T, F]);
  assert.ok(tf.max(tf.abs(g)).dataSync()[0]! > 0);
  // activations: every non-input layer by name, the last equals the output
  assert.equal([...c.activationNames!], ['to_image', 'conv', 'pool', 'flat', 'out']);
  const acts = c.activations(xt, ['conv', 'out']);
  assert.equal(Object.keys(acts).sort(), ['conv', 'out']);
  assert.equal(acts.conv!.shape, [5, T - 2, F - 2, 4]);
  assert.ok(maxAbsErr(acts.out!.dataSync(), want) <= 1e-6);
  tf.dispose([xt, g, ...Object.values(acts)]);
  c.dispose();
  m.dispose();
});

test('layers model from a model.json directory (two shards), by directory and by file path; example shape may differ by a reshape', async () => {
  const m = makeLayersModel(3, 'softmax');
  const a = await toMemory(m);
  const dir = join(tmp, 'layers3');
  writeModelDir(dir, a, 2);
  const x = input(4, 2);
  const want = await reference(m, x, 4);
  for (const src of [dir, join(dir, 'model.json')]) {
    const c = await loadTfjsModel(src);
    assert.equal(c.labels, ['class0', 'class1', 'class2']);
    const got = await c.predict(x, 4);
    assert.ok(maxAbsErr(got, want) <= 1e-6, `${src}: max |Δ| ${maxAbsErr(got, want)}`);
    c.dispose();
  }
  // the same values seen as [115, 80, 1] examples
  const c1 = await loadTfjsModel(dir, { inputShape: [T, F, 1] });
  assert.equal(c1.inputShape, [T, F, 1]);
  assert.ok(maxAbsErr(await c1.predict(x, 4), want) <= 1e-6);
  c1.dispose();
  m.dispose();
});

test("output 'logits': softmax / sigmoid applied, logits() gives the raw scores", async () => {
  const m = makeLayersModel(3, 'linear');
  const c = await loadTfjsModel(await toMemory(m), { output: 'logits', labels: ['a', 'b', 'c'] });
  const x = input(3, 3);
  const z = await reference(m, x, 3);
  const want = tf.tidy(() => tf.softmax(tf.tensor(z, [3, 3])).dataSync() as Float32Array);
  const got = await c.predict(x, 3);
  assert.ok(maxAbsErr(got, want) <= 1e-6);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(got[3 * i]! + got[3 * i + 1]! + got[3 * i + 2]! - 1) < 1e-6);
  const zt = tf.tidy(() => c.logits!(tf.tensor(x, [3, T, F])).dataSync() as Float32Array);
  assert.ok(maxAbsErr(zt, z) <= 1e-6);
  c.dispose();
  m.dispose();
});

test('hand-written graph model (Reshape/MatMul/AddV2/Sigmoid): predictions, input gradient and node activations match the closed form', async () => {
  const c = await loadTfjsModel(graphArtifacts());
  assert.is(c.format, 'graph-model');
  assert.ok(c.differentiable && isDifferentiable(c));
  assert.equal(c.inputShape, [T, F]);
  assert.equal([...c.activationNames!], ['flat', 'mm', 'add', 'prob']);
  const n = 3;
  const x = input(n, 4);
  const p = await c.predict(x, n);
  const want = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    let z = gb;
    for (let i = 0; i < D; i++) z += x[e * D + i]! * gw[i]!;
    want[e] = 1 / (1 + Math.exp(-z));
  }
  assert.ok(maxAbsErr(p, want) <= 1e-6, `max |Δ| ${maxAbsErr(p, want)}`);
  if (!isDifferentiable(c)) throw new Error('unreachable');
  const xt = tf.tensor(x, [n, T, F]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(c.apply(t)))(xt);
  const gd = g.dataSync();
  let err = 0;
  for (let e = 0; e < n; e++) for (let i = 0; i < D; i += 97) err = Math.max(err, Math.abs(gd[e * D + i]! - want[e]! * (1 - want[e]!) * gw[i]!));
  assert.ok(err <= 1e-7, `gradient max |Δ| ${err}`);
  const acts = c.activations(xt, ['add']);
  assert.ok(maxAbsErr(acts.add!.dataSync(), Array.from(want, (q) => Math.log(q / (1 - q)))) <= 1e-4);
  tf.dispose([xt, g, ...Object.values(acts)]);
  // and from a directory
  const dir = join(tmp, 'graph');
  writeModelDir(dir, graphArtifacts(), 1);
  const c2 = await loadTfjsModel(dir, { labels: ['voice'] });
  assert.ok(maxAbsErr(await c2.predict(x, n), want) <= 1e-6);
  c.dispose();
  c2.dispose();
});

test('a graph with a dynamic op (Where) runs through executeAsync: a predict-only Classifier with the same outputs', async () => {
  const n0 = tf.memory().numTensors;
  const c = await loadTfjsModel(graphArtifacts(true));
  assert.is(c.format, 'graph-model');
  assert.is(c.differentiable, false);
  assert.not.ok(isDifferentiable(c));
  assert.is(c.apply, undefined);
  const n = 3;
  const x = input(n, 6);
  const want = Array.from({ length: n }, (_, e) => {
    let z = gb;
    for (let i = 0; i < D; i++) z += x[e * D + i]! * gw[i]!;
    return 1 / (1 + Math.exp(-z));
  });
  for (let r = 0; r < 2; r++) assert.ok(maxAbsErr(await c.predict(x, n), want) <= 1e-6);
  c.dispose();
  assert.is(tf.memory().numTensors, n0);
});

test("loading tfjs-layers / -converter models leaves the registered gradient rules as they were (earshot's, not tfjs-core's)", async () => {
  const m = makeLayersModel(1, 'sigmoid');
  const c = await loadTfjsModel(await toMemory(m));
  const g = await loadTfjsModel(graphArtifacts());
  RULES.forEach((k, i) => assert.ok(tf.getGradient(k) === rulesBefore[i], `gradient rule of ${k} changed`));
  assert.is(tf.getGradient('GatherV2'), undefined); // earshot registers none; tfjs-layers' bundle would
  c.dispose();
  g.dispose();
  m.dispose();
});

test('tf.memory().numTensors flat over repeated predictions, apply and activations', async () => {
  const m = makeLayersModel(1, 'sigmoid');
  const c = await loadTfjsModel(await toMemory(m));
  const g = await loadTfjsModel(graphArtifacts());
  const x = input(2, 5);
  await c.predict(x, 2);
  await g.predict(x, 2);
  const n0 = tf.memory().numTensors;
  for (let r = 0; r < 3; r++) {
    await c.predict(x, 2);
    await g.predict(x, 2);
    tf.tidy(() => {
      const xt = tf.tensor(x, [2, T, F]);
      c.apply!(xt);
      g.apply!(xt);
      c.activations!(xt);
      g.activations!(xt);
    });
  }
  assert.is(tf.memory().numTensors, n0);
  c.dispose();
  g.dispose();
  m.dispose();
});

test('errors: missing directory / model.json / shard, bad JSON, bad topology, short shards, wrong input shape, labels, options', async () => {
  await rejects(() => loadTfjsModel(join(tmp, 'nope')), 'MODEL_MISSING', /nope does not exist/);
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  await rejects(() => loadTfjsModel(empty), 'MODEL_MISSING', /has no model\.json/);

  const m = makeLayersModel(1, 'sigmoid');
  const a = await toMemory(m);
  m.dispose();
  const dir = join(tmp, 'broken');
  writeModelDir(dir, a, 2);
  rmSync(join(dir, 'group1-shard2of2.bin'));
  await rejects(() => loadTfjsModel(dir), 'MODEL_MISSING', /shard 'group1-shard2of2\.bin'/);
  writeFileSync(join(dir, 'group1-shard2of2.bin'), new Uint8Array(8));
  await rejects(() => loadTfjsModel(dir), 'MODEL_CORRUPT', /weight data holds \d+ bytes, the weight specs \(4 tensors\) need \d+/);

  const bad = join(tmp, 'badjson');
  mkdirSync(bad);
  writeFileSync(join(bad, 'model.json'), '{"format": "layers-model", "modelTopology": ');
  await rejects(() => loadTfjsModel(bad), 'MODEL_CORRUPT', /not valid JSON/);
  writeFileSync(join(bad, 'model.json'), JSON.stringify({ format: 'layers-model' }));
  await rejects(() => loadTfjsModel(bad), 'MODEL_CORRUPT', /no modelTopology/);
  writeFileSync(join(bad, 'model.json'), JSON.stringify({ format: 'keras', modelTopology: {}, weightsManifest: [] }));
  await rejects(() => loadTfjsModel(bad), 'MODEL_CORRUPT', /format 'keras'/);
  writeFileSync(join(bad, 'model.json'), JSON.stringify({ modelTopology: { something: 1 }, weightsManifest: [] }));
  await rejects(() => loadTfjsModel(bad), 'MODEL_CORRUPT', /cannot tell a layers model from a graph model/);
  writeFileSync(join(bad, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['../escape.bin'], weights: [] }] }));
  await rejects(() => loadTfjsModel(bad), 'MODEL_CORRUPT', /outside the model directory/);
  writeFileSync(join(bad, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'NoSuchModel', config: {} }, weightsManifest: [] }));
  await rejects(() => loadTfjsModel(bad), 'MODEL_CORRUPT', /tfjs-layers cannot build the model/);

  await rejects(() => loadTfjsModel(a, { inputShape: [T, F + 1] }), 'BAD_SHAPE', /inputShape \[115, 81\] holds 9315 values per example, the model's input \[115, 80\] holds 9200/);
  await rejects(() => loadTfjsModel(a, { labels: ['a', 'b'] }), 'BAD_ARGUMENT', /2 labels for 1 output columns/);
  await rejects(() => loadTfjsModel(a, { output: 'scores' as 'probs' }), 'BAD_ARGUMENT', /output must be 'probs' or 'logits'/);
  await rejects(() => loadTfjsModel(graphArtifacts(), { outputNode: 'nothere' }), 'BAD_ARGUMENT', /no op node 'nothere'/);
  // predict names the expected size of a batch
  const lin = makeLayersModel(1, 'linear');
  const la = await toMemory(lin);
  lin.dispose();
  const c = await loadTfjsModel(la, { output: 'logits' });
  await rejects(() => c.predict(new Float32Array(D - 1), 1), 'BAD_SHAPE', /9200/);
  c.dispose();
  const art = await readTfjsArtifacts(dir.replace('broken', 'layers3'));
  assert.is(art.format, 'layers-model');
});

test.run();
