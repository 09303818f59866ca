// Engine selection (src/model/engines.ts): tfjs, ort and ort-web give the same probabilities on
// the same inputs (≤ 1e-4; TF.js SvdCnn is the reference, ORT engines run the in-memory ONNX
// export of the same weight set), `auto` prefers ort and falls back cleanly when a package cannot
// be imported (simulated with an importer that fails like a missing module), forced engines
// report ENGINE_UNAVAILABLE with the package name and how to install it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxAbsErr } from './helpers.ts';
import { initWeights, type WeightSet } from '../src/model/weights.ts';
import { createClassifier, onnxBytesFor, type EngineClassifier } from '../src/model/engines.ts';

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

/** Fails for the named packages the way Node does for a module that is not installed. */
const without = (...missing: string[]) => (s: string) => {
  if (missing.includes(s)) {
    const e = new Error(`Cannot find package '${s}' imported from engines.ts`) as Error & { code: string };
    e.code = 'ERR_MODULE_NOT_FOUND';
    return Promise.reject(e);
  }
  return import(s);
};

/** Random weights with batch norm far from identity (as in onnx.test.ts). */
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

function input(n: number, seed: number): Float32Array {
  let s = seed;
  const r = () => ((s = (s * 48271) % 2147483647) / 2147483647);
  return new Float32Array(n * T * F).map(() => 3 * r() - 1.5);
}

test('tfjs, ort and ort-web agree (≤ 1e-4) on random weights; frame-wise too', async () => {
  // Scale the output layer down so the probabilities are not saturated by random weights.
  const w = perturbedWeights(21);
  w.tensors['fc3.kernel']!.data.forEach((v, i, a) => (a[i] = v * 0.05));
  const n = 3;
  const x = input(n, 3);
  const got: Record<string, Float32Array> = {};
  const cs: EngineClassifier[] = [];
  for (const engine of ['tfjs', 'ort', 'ort-web'] as const) {
    const c = await createClassifier(w, { engine, threads: 2, batchSize: 2 });
    assert.is(c.engine, engine);
    assert.equal(c.inputShape, [T, F]);
    assert.equal(c.labels, ['voice']);
    got[engine] = await c.predict(x, n);
    cs.push(c);
  }
  const spread = Math.max(...got.tfjs!) - Math.min(...got.tfjs!);
  assert.ok(spread > 1e-3 && Math.max(...got.tfjs!) < 0.999, `non-degenerate probabilities ${Array.from(got.tfjs!)}`);
  assert.ok(maxAbsErr(got.ort!, got.tfjs!) < 1e-4, `ort ${maxAbsErr(got.ort!, got.tfjs!)}`);
  assert.ok(maxAbsErr(got['ort-web']!, got.tfjs!) < 1e-4, `ort-web ${maxAbsErr(got['ort-web']!, got.tfjs!)}`);
  // frame-wise (fully-convolutional ONNX form vs TF.js's), unpadded input padded by the engine
  const frames = 5;
  const spec = input(1, 8).subarray(0, frames * F);
  const ft = await cs[0]!.predictFrames(spec, frames);
  const fo = await cs[1]!.predictFrames(spec, frames, { chunkFrames: 2 });
  assert.is(fo.length, frames);
  assert.ok(maxAbsErr(fo, ft) < 1e-4, `frames ${maxAbsErr(fo, ft)}`);
  for (const c of cs) c.dispose();
});

test('auto picks ort when it loads and says so', async () => {
  const msgs: string[] = [];
  const c = await createClassifier(initWeights(1), { onInfo: (m) => msgs.push(m), threads: 1 });
  assert.is(c.engine, 'ort');
  assert.is(c.threads, 1);
  assert.equal(c.fallbacks, []);
  assert.match(msgs.join('\n'), /engine: ort \(onnxruntime-node/);
  c.dispose();
});

test('auto falls back to ort-web, then tfjs, when native packages are missing; the reason is logged', async () => {
  const w = initWeights(2);
  const msgs: string[] = [];
  const a = await createClassifier(w, { importer: without('onnxruntime-node'), onInfo: (m) => msgs.push(m), threads: 1 });
  assert.is(a.engine, 'ort-web');
  assert.is(a.fallbacks.length, 1);
  assert.match(a.fallbacks[0]!, /ort: .*onnxruntime-node.*npm install onnxruntime-node/);
  assert.match(msgs.join('\n'), /engine ort unavailable/);
  const b = await createClassifier(w, { importer: without('onnxruntime-node', 'onnxruntime-web') });
  assert.is(b.engine, 'tfjs');
  assert.is(b.fallbacks.length, 2);
  const x = input(2, 4);
  assert.ok(maxAbsErr(await a.predict(x, 2), await b.predict(x, 2)) < 1e-4);
  // the TF.js engine is still the differentiable SvdCnn
  assert.is(typeof (b as unknown as { apply: unknown }).apply, 'function');
  a.dispose();
  b.dispose();
});

test('a forced engine that cannot load is an ENGINE_UNAVAILABLE naming the package', async () => {
  const w = initWeights(3);
  await rejectsCode(createClassifier(w, { engine: 'ort', importer: without('onnxruntime-node') }), 'ENGINE_UNAVAILABLE', /onnxruntime-node.*npm install onnxruntime-node.*--engine tfjs/);
  await rejectsCode(createClassifier(w, { engine: 'ort-web', importer: without('onnxruntime-web') }), 'ENGINE_UNAVAILABLE', /onnxruntime-web/);
  // a package that loads but is not ONNX Runtime
  await rejectsCode(createClassifier(w, { engine: 'ort', importer: async () => ({ hello: 1 }) }), 'ENGINE_UNAVAILABLE', /does not look like ONNX Runtime/);
});

test('tfjs worker pool (2 worker_threads, one backend each) = one backend; workers refused with forced ORT engines', async () => {
  const w = initWeights(6);
  const msgs: string[] = [];
  const pool = await createClassifier(w, { engine: 'tfjs', workers: 2, onInfo: (m) => msgs.push(m) });
  const one = await createClassifier(w, { engine: 'tfjs' });
  assert.is(pool.threads, 2);
  assert.match(msgs.join(), /2 worker threads/);
  const n = 5; // uneven split: 3 + 2
  const x = input(n, 12);
  assert.ok(maxAbsErr(await pool.predict(x, n), await one.predict(x, n)) < 1e-6);
  const spec = input(1, 13).subarray(0, 4 * F);
  assert.ok(maxAbsErr(await pool.predictFrames(spec, 4), await one.predictFrames(spec, 4)) < 1e-6);
  await rejectsCode(pool.predict(x, n + 1), 'BAD_SHAPE');
  pool.dispose();
  one.dispose();
  await rejectsCode(pool.predict(x, n), 'DISPOSED');
  await rejectsCode(createClassifier(w, { engine: 'ort', workers: 2 }), 'BAD_ARGUMENT', /oversubscribe/);
  // auto ignores workers when it lands on ORT (threads parallelise there)
  const a = await createClassifier(w, { workers: 2, threads: 1 });
  assert.is(a.engine, 'ort');
  a.dispose();
});

test('bad options are named; the ONNX export is cached per weight set', async () => {
  const w = initWeights(4);
  await rejectsCode(createClassifier(w, { engine: 'gpu' as never }), 'BAD_ARGUMENT', /engine must be one of 'auto', 'tfjs', 'ort', 'ort-web'/);
  await rejectsCode(createClassifier(w, { threads: 0 }), 'BAD_ARGUMENT', /threads/);
  await rejectsCode(createClassifier(w, { batchSize: -1 }), 'BAD_ARGUMENT', /batchSize/);
  await rejectsCode(createClassifier(w, { workers: 0 }), 'BAD_ARGUMENT', /workers/);
  await rejectsCode(createClassifier('/nonexistent/model-dir', { engine: 'tfjs' }), 'WEIGHTS_MISSING');
  assert.ok(onnxBytesFor(w) === onnxBytesFor(w));
  assert.ok(onnxBytesFor(w, 'file') !== onnxBytesFor(w));
  const c = await createClassifier(w, { engine: 'ort', threads: 1 });
  await rejectsCode(c.predict(new Float32Array(10), 1), 'BAD_SHAPE', /115×80/);
  const nan = new Float32Array(T * F);
  nan[7] = NaN;
  await rejectsCode(c.predict(nan, 1), 'NOT_FINITE');
  await rejectsCode(c.predictFrames(new Float32Array(10), 1), 'BAD_SHAPE');
  c.dispose();
});

test.run();
