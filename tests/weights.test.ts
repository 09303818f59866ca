// The weight-file format (docs/model.md): the PyTorch-converted fixture loads, round trips are
// exact (float32) or match NumPy's float16 rounding byte for byte, and every kind of damaged or
// mismatched file is rejected with a named error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from './helpers.ts';
import {
  loadWeights,
  saveWeights,
  parseWeights,
  serializeWeights,
  initWeights,
  crc32,
  SVD_FRONTEND_DESCRIPTION,
  WEIGHTS_FORMAT_VERSION,
  type WeightSet,
} from '../src/model/weights.ts';
import { svdTensorSpecs, SVD_ARCHITECTURE } from '../src/model/svdcnn.ts';

const dir = fixturePath('cnn', 'model');
const json = readFileSync(join(dir, 'model.json'), 'utf8');
const bin = new Uint8Array(readFileSync(join(dir, 'weights.bin')));

/** Call `fn`, expect an EarshotError with `code` whose message matches `re` (sync or async). */
async function rejects(fn: () => unknown, code: string, re?: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e: any) {
    assert.is(e?.name, 'EarshotError', `not an EarshotError: ${e?.message}`);
    assert.is(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

const manifest = () => JSON.parse(json);

test('the converted PyTorch fixture loads: every tensor of the architecture, float16 decoded exactly', async () => {
  const w = await loadWeights(dir);
  const specs = svdTensorSpecs(SVD_ARCHITECTURE);
  assert.equal(Object.keys(w.tensors), specs.map((s) => s.name));
  for (const s of specs) assert.equal(w.tensors[s.name]!.shape, s.shape);
  assert.equal(w.info.labels, ['voice']);
  assert.is(w.info.threshold, 0.51);
  assert.is(w.info.normalization!.mean.length, 80);
  assert.equal(w.info.frontend, SVD_FRONTEND_DESCRIPTION);
  const m = manifest();
  assert.is(m.weights.crc32, crc32(bin));
  // ~1.41 M parameters
  const n = specs.reduce((p, s) => p + s.shape.reduce((a, b) => a * b, 1), 0);
  assert.ok(n > 1.4e6 && n < 1.42e6, `${n}`);
});

test('float16 re-serialisation reproduces the NumPy-written weights.bin byte for byte', async () => {
  const w = parseWeights(json, bin);
  const out = serializeWeights(w, { dtype: 'float16' });
  assert.is(out.bin.length, bin.length);
  assert.ok(Buffer.from(out.bin).equals(Buffer.from(bin)));
});

test('float32 round trip through save/load is exact, atomic writes leave no temp files', async () => {
  const w = initWeights(7);
  const tmp = mkdtempSync(join(tmpdir(), 'earshot-w-'));
  try {
    await saveWeights(join(tmp, 'm'), w);
    assert.equal(readdirSync(join(tmp, 'm')).sort(), ['model.json', 'weights.bin']);
    const back = await loadWeights(join(tmp, 'm'));
    for (const [name, t] of Object.entries(w.tensors)) {
      assert.equal(back.tensors[name]!.shape, t.shape);
      assert.ok(Buffer.from(back.tensors[name]!.data.buffer).equals(Buffer.from(t.data.buffer)), name);
    }
    assert.equal(back.info.training, w.info.training);
    await saveWeights(join(tmp, 'm'), initWeights(8)); // overwrite in place
    const again = await loadWeights(join(tmp, 'm'));
    assert.equal(again.info.training.seed, 8);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('initWeights is deterministic in its seed, He-scaled, BN at identity', () => {
  const a = initWeights(1);
  const b = initWeights(1);
  const c = initWeights(2);
  assert.ok(Buffer.from(a.tensors['conv3.kernel']!.data.buffer).equals(Buffer.from(b.tensors['conv3.kernel']!.data.buffer)));
  assert.not.ok(Buffer.from(a.tensors['conv3.kernel']!.data.buffer).equals(Buffer.from(c.tensors['conv3.kernel']!.data.buffer)));
  const k = a.tensors['fc1.kernel']!.data;
  let ss = 0;
  for (const v of k) ss += v * v;
  const std = Math.sqrt(ss / k.length);
  const expected = Math.sqrt(2 / (11 * 7 * 64));
  assert.ok(Math.abs(std / expected - 1) < 0.01, `std ${std} vs ${expected}`);
  assert.ok(a.tensors['conv2.bn.gamma']!.data.every((v) => v === 1));
  assert.ok(a.tensors['conv2.bn.variance']!.data.every((v) => v === 1));
  assert.ok(a.tensors['conv2.bias']!.data.every((v) => v === 0));
});

test('a tensor with the wrong shape is rejected naming the tensor (WEIGHTS_SHAPE)', async () => {
  const m = manifest();
  m.weights.tensors.find((t: any) => t.name === 'conv2.kernel').shape = [3, 3, 32, 64];
  await rejects(() => parseWeights(JSON.stringify(m), bin), 'WEIGHTS_SHAPE', /'conv2\.kernel' has shape \[3, 3, 32, 64\].*needs \[3, 3, 64, 32\]/);
  const w = initWeights(1);
  w.tensors['fc3.bias'] = { shape: [2], data: new Float32Array(2) };
  await rejects(() => serializeWeights(w), 'WEIGHTS_SHAPE', /fc3\.bias/);
});

test('a missing tensor is rejected naming it (WEIGHTS_MISSING), also a missing file or directory', async () => {
  const m = manifest();
  m.weights.tensors = m.weights.tensors.filter((t: any) => t.name !== 'fc1.bn.variance');
  await rejects(() => parseWeights(JSON.stringify(m), bin), 'WEIGHTS_MISSING', /'fc1\.bn\.variance'/);
  await rejects(() => loadWeights('/nonexistent/earshot-model'), 'WEIGHTS_MISSING', /model\.json/);
  const tmp = mkdtempSync(join(tmpdir(), 'earshot-w-'));
  try {
    writeFileSync(join(tmp, 'model.json'), json);
    await rejects(() => loadWeights(tmp), 'WEIGHTS_MISSING', /weights\.bin/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const w = initWeights(1);
  delete w.tensors['conv4.bn.beta'];
  await rejects(() => serializeWeights(w), 'WEIGHTS_MISSING', /conv4\.bn\.beta/);
});

test('a truncated or damaged weights.bin is rejected (WEIGHTS_CORRUPT)', async () => {
  await rejects(() => parseWeights(json, bin.subarray(0, bin.length - 100)), 'WEIGHTS_CORRUPT', /truncated/);
  // Without the size and checksum fields, the tensor that runs past the end is named.
  const m = manifest();
  delete m.weights.byteLength;
  delete m.weights.crc32;
  await rejects(() => parseWeights(JSON.stringify(m), bin.subarray(0, bin.length - 100)), 'WEIGHTS_CORRUPT', /tensor 'fc3\.kernel'.*truncated/);
  const flipped = bin.slice();
  flipped[1000] ^= 0x40;
  await rejects(() => parseWeights(json, flipped), 'WEIGHTS_CORRUPT', /checksum/);
  // A NaN (float16 0x7e00) inside a tensor, checksum recomputed: named by tensor and index.
  const nan = bin.slice();
  const e = m.weights.tensors.find((t: any) => t.name === 'conv2.bias');
  nan[e.byteOffset + 2 * 5] = 0x00;
  nan[e.byteOffset + 2 * 5 + 1] = 0x7e;
  const m2 = manifest();
  m2.weights.crc32 = crc32(nan);
  await rejects(() => parseWeights(JSON.stringify(m2), nan), 'WEIGHTS_CORRUPT', /'conv2\.bias'.*non-finite.*index 5/);
});

test('bad JSON, another format, unknown or duplicate tensors, bad normalisation are rejected', async () => {
  await rejects(() => parseWeights(json.slice(0, 200), bin), 'WEIGHTS_CORRUPT', /not valid JSON/);
  await rejects(() => parseWeights('[1,2]', bin), 'WEIGHTS_CORRUPT', /JSON object/);
  const m = manifest();
  m.format = 'tfjs-layers';
  await rejects(() => parseWeights(JSON.stringify(m), bin), 'WEIGHTS_CORRUPT', /format must be 'earshot-model'/);
  const u = manifest();
  u.weights.tensors.push({ name: 'conv5.kernel', shape: [1], dtype: 'float16', byteOffset: 0 });
  await rejects(() => parseWeights(JSON.stringify(u), bin), 'WEIGHTS_CORRUPT', /'conv5\.kernel' is not part/);
  const d = manifest();
  d.weights.tensors.push({ ...d.weights.tensors[0] });
  await rejects(() => parseWeights(JSON.stringify(d), bin), 'WEIGHTS_CORRUPT', /listed twice/);
  const n = manifest();
  n.normalization.std = n.normalization.std.slice(0, 79);
  await rejects(() => parseWeights(JSON.stringify(n), bin), 'WEIGHTS_SHAPE', /normalization\.std must have 80/);
  const z = manifest();
  z.normalization.std[3] = 0;
  await rejects(() => parseWeights(JSON.stringify(z), bin), 'WEIGHTS_CORRUPT', /normalization\.std\[3\]/);
  const fe = manifest();
  fe.frontend.nMels = 64;
  await rejects(() => parseWeights(JSON.stringify(fe), bin), 'WEIGHTS_CORRUPT', /front end makes 115×64 excerpts, the architecture takes 115×80/);
  const fe2 = manifest();
  fe2.frontend.hopSize = 315;
  await rejects(() => parseWeights(JSON.stringify(fe2), bin), 'WEIGHTS_CORRUPT', /model\.json: frontend: .*hopSize/);
  const a = manifest();
  a.architecture.convFilters = [64, 32, 128];
  await rejects(() => parseWeights(JSON.stringify(a), bin), 'WEIGHTS_CORRUPT', /convFilters/);
  const dt = manifest();
  dt.weights.tensors[0].dtype = 'int8';
  await rejects(() => parseWeights(JSON.stringify(dt), bin), 'WEIGHTS_CORRUPT', /'conv1\.kernel' has dtype "int8"/);
});

test('another format version is rejected (WEIGHTS_VERSION)', async () => {
  const m = manifest();
  m.formatVersion = WEIGHTS_FORMAT_VERSION + 1;
  await rejects(() => parseWeights(JSON.stringify(m), bin), 'WEIGHTS_VERSION', /formatVersion 2 is not supported/);
  const tmp = mkdtempSync(join(tmpdir(), 'earshot-w-'));
  try {
    mkdirSync(join(tmp, 'v'));
    writeFileSync(join(tmp, 'v', 'model.json'), JSON.stringify(m));
    writeFileSync(join(tmp, 'v', 'weights.bin'), bin);
    await rejects(() => loadWeights(join(tmp, 'v')), 'WEIGHTS_VERSION');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the first-days front-end description is read as SVD_FRONTEND', () => {
  const m = manifest();
  m.frontend = {
    name: 'svd-ismir2015', sampleRate: 22050, mono: true, frameLength: 1024, hopLength: 315, window: 'hann-symmetric', center: false,
    spectrum: 'magnitude', mel: { bands: 80, fmin: 27.5, fmax: 8000, melScale: '1127*ln(1+f/700)', filterNorm: 'sum', maxBin: 372 },
  };
  assert.equal(parseWeights(JSON.stringify(m), bin).info.frontend, SVD_FRONTEND_DESCRIPTION);
});

test('in-memory sources: { json, bin } with an object manifest or an ArrayBuffer', async () => {
  const w: WeightSet = await loadWeights({ json: manifest(), bin: bin.slice().buffer });
  assert.is(w.info.id, 'svd-cnn-ismir2015/pytorch-fixture');
  await rejects(() => loadWeights({ json } as any), 'BAD_ARGUMENT', /directory path or \{ json, bin \}/);
  assert.is(crc32(new TextEncoder().encode('123456789')), 'cbf43926'); // the CRC-32 check value
});

test.run();
