/**
 * `earshot sanity` end to end on a tiny synthetic corpus with a seeded random CNN: cascading
 * randomisation gives one SSIM / Spearman per method and depth (a random mask stays near 0, the
 * saliency map changes once the conv layers are re-initialised), ROAR retrains a fresh model per
 * (method, fraction) and reports accuracies; the helpers behind them (top-x % removal, layer
 * re-initialisation) on small hand cases; bad options named.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSanityArgs, runSanity } from '../src/cli/commands/sanity.ts';
import { binMeans, removeTop, randomiseTop, CASCADE_LAYERS } from '../src/metrics/sanity.ts';
import { initBackend } from '../src/model/backend.ts';
import { createSvdCnn } from '../src/model/svdcnn.ts';
import { initWeights } from '../src/model/weights.ts';
import { makeTinyCorpus, throwsCode } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'earshot-sanity-'));
const corpus = join(dir, 'corpus');
const out = join(dir, 'out');

test('removeTop replaces exactly the top fraction of the visible bins by the fill; binMeans averages per bin', () => {
  const bins = 4;
  const mag = Float32Array.from({ length: 3 * bins }, (_, i) => i + 1);
  const mask = Float32Array.of(0.9, 0.1, 0.5, 1, 0.2, 0.8, 0.3, 1, 0.7, 0.6, 0.4, 1);
  const fill = Float32Array.of(-1, -2, -3, -4);
  // visible bins 0..2 (9 values); 1/3 of them = the three largest: 0.9 (i=0), 0.8 (i=5), 0.7 (i=8)
  const r = removeTop(mag, mask, 1 / 3, fill, bins, 3, 1);
  assert.equal(Array.from(r), [-1, 2, 3, 4, 5, -2, 7, 8, -1, 10, 11, 12]);
  assert.equal(Array.from(removeTop(mag, mask, 0, fill, bins, 3, 1)), Array.from(mag));
  assert.equal(Array.from(binMeans([mag], bins)), [5, 6, 7, 8]);
  throwsCode(() => removeTop(mag, mask.subarray(1), 0.5, fill, bins, 3, 1), 'BAD_SHAPE');
  throwsCode(() => removeTop(mag, mask, 1.5, fill, bins, 3, 1), 'BAD_ARGUMENT', /fraction/);
});

test('randomiseTop re-initialises exactly the top `depth` layers and restores them at depth 0', async () => {
  await initBackend('wasm');
  const w = initWeights(11);
  const m = createSvdCnn(w);
  const get = async (n: string) => (await m.toWeights()).tensors[n]!.data;
  randomiseTop([m], 2, w.tensors, 3);
  assert.not.equal(Array.from((await get('fc3.kernel')).slice(0, 4)), Array.from(w.tensors['fc3.kernel']!.data.slice(0, 4)));
  assert.not.equal(Array.from((await get('fc2.kernel')).slice(0, 4)), Array.from(w.tensors['fc2.kernel']!.data.slice(0, 4)));
  assert.equal(Array.from((await get('fc1.kernel')).slice(0, 4)), Array.from(w.tensors['fc1.kernel']!.data.slice(0, 4)));
  randomiseTop([m], 0, w.tensors, 3);
  for (const l of CASCADE_LAYERS) assert.equal(Array.from((await get(`${l}.kernel`)).slice(0, 4)), Array.from(w.tensors[`${l}.kernel`]!.data.slice(0, 4)), l);
  m.dispose();
});

test('sanity end to end: randomisation table per depth, ROAR accuracies, lmac not available', async () => {
  await makeTinyCorpus(corpus, { train: 2, valid: 0, test: 1 });
  const s = parseSanityArgs([
    '--corpus', corpus, '--model', 'random:2', '--excerpts', '1', '--methods', 'saliency,random,lmac', '--roar-methods', 'saliency,random',
    '--roar-train', '8', '--roar-test', '4', '--roar-steps', '2', '--roar-batch', '4', '--fractions', '0.5', '--lmac', join(dir, 'none'), '--out', out,
  ]);
  const r = await runSanity(s, () => {});
  assert.equal(r.randomisation!.map((x) => x.method), ['saliency', 'random']);
  for (const x of r.randomisation!) assert.is(x.ssim.length, CASCADE_LAYERS.length);
  const rnd = r.randomisation!.find((x) => x.method === 'random')!;
  for (const v of rnd.ssim) assert.ok(Math.abs(v) < 0.1, `random vs random SSIM ${v}`);
  const sal = r.randomisation!.find((x) => x.method === 'saliency')!;
  assert.ok(sal.ssim[CASCADE_LAYERS.length - 1]! < 0.99, `saliency changes when every layer is random (SSIM ${sal.ssim.at(-1)})`);
  assert.equal(r.roar!.map((x) => `${x.method}@${x.fraction}`), ['none@0', 'saliency@0.5', 'random@0.5']);
  for (const x of r.roar!) assert.ok(x.accuracy >= 0 && x.accuracy <= 1);
  assert.equal(r.missing.map((m) => m.method), ['lmac']);
  const csv = readFileSync(join(out, 'randomisation.csv'), 'utf8').trim().split('\n');
  assert.is(csv.length, 1 + 2 * CASCADE_LAYERS.length);
  assert.match(readFileSync(join(out, 'roar.csv'), 'utf8'), /^method,fraction_removed,test_accuracy,drop_vs_none/);
  assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /lmac: not available/);
  assert.equal([...readFileSync(join(out, 'roar.png')).subarray(1, 4)], [0x50, 0x4e, 0x47]);
});

test('bad options name the option', () => {
  throwsCode(() => parseSanityArgs(['--skip', 'both']), 'BAD_USAGE', /--skip/);
  throwsCode(() => parseSanityArgs(['--fractions', '0.2,1.5']), 'BAD_USAGE', /--fractions/);
  throwsCode(() => parseSanityArgs(['--roar-methods', 'saliency,nope']), 'BAD_USAGE', /--roar-methods: unknown method 'nope'/);
  throwsCode(() => parseSanityArgs(['--roar-lr', '0']), 'BAD_USAGE', /--roar-lr/);
  throwsCode(() => parseSanityArgs(['--roar-batch', '1']), 'BAD_USAGE', /--roar-batch/);
  throwsCode(() => parseSanityArgs(['--excerpts', 'many']), 'BAD_USAGE', /--excerpts/);
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
