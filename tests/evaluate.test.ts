/**
 * `earshot evaluate` end to end on a tiny synthetic corpus (tests/helpers.ts makeTinyCorpus; no
 * real corpus in CI) with a seeded random CNN: the table (CSV, Markdown, PNG), per-excerpt rows,
 * L-MAC reported as not available when its decoder is absent, resume from the journal without
 * recomputation, a refused resume naming the changed option, and bad options named.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEvaluateArgs, runEvaluate, evaluate } from '../src/cli/commands/evaluate.ts';
import { makeTinyCorpus, rejectsCode, throwsCode } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'earshot-evaluate-'));
const corpus = join(dir, 'corpus');
const out = join(dir, 'out');
const quiet = () => {};
const args = ['--corpus', corpus, '--model', 'random:5', '--excerpts', '2', '--methods', 'saliency,gradcam,random,lmac', '--lmac', join(dir, 'no-decoder'), '--out', out];

test('setup: a tiny corpus', async () => {
  await makeTinyCorpus(corpus, { train: 1, valid: 1, test: 2 });
});

test('evaluate writes one row per method (lmac marked not available), per-excerpt rows and a PNG chart', async () => {
  const r = await runEvaluate(parseEvaluateArgs(args), quiet);
  assert.is(r.excerpts, 2);
  assert.equal(r.rows.map((x) => x.method), ['saliency', 'gradcam', 'random']);
  assert.equal(r.missing.map((m) => m.method), ['lmac']);
  for (const row of r.rows) {
    assert.is(row.n, 2);
    for (const k of ['ai', 'ad', 'adParity', 'ag', 'ff', 'fidIn', 'sps', 'comp', 'mm'] as const) assert.ok(Number.isFinite(row[k]), `${row.method}.${k} = ${row[k]}`);
    assert.ok(row.ai >= 0 && row.ai <= 100 && row.ad >= 0 && row.ad <= 100 && row.fidIn >= 0 && row.fidIn <= 1, `${row.method}: metric ranges`);
    assert.ok(row.msMean >= 0);
  }
  // the random mask's mean is ≈ 0.5, a gradient mask's is small
  const rnd = r.rows.find((x) => x.method === 'random')!;
  assert.ok(Math.abs(rnd.mm - 0.5) < 0.01, `random MM ${rnd.mm}`);
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.is(csv.length, 1 + 4);
  assert.match(csv[0]!, /^method,n,AI,AD,AD_parity,AG,FF,FidIn,SPS,COMP,MM,vocal_AUC,n_AUC,ms_mean,ms_median,status$/);
  assert.match(csv[4]!, /^lmac,0,.*not available: no L-MAC decoder/);
  const md = readFileSync(join(out, 'results.md'), 'utf8');
  assert.match(md, /\| saliency \|/);
  assert.match(md, /\*\*lmac: not available\*\*/);
  assert.match(md, /2 excerpts/);
  const samples = readFileSync(join(out, 'samples.csv'), 'utf8').trim().split('\n');
  assert.is(samples.length, 1 + 2 * 3);
  const png = readFileSync(join(out, 'chart.png'));
  assert.equal([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test('a rerun resumes from the journal (same numbers, nothing recomputed); other options are refused by name', async () => {
  const before = readFileSync(join(out, 'results.csv'), 'utf8').split('\n').map((l) => l.split(',').slice(0, 13).join(','));
  const lines: string[] = [];
  await runEvaluate(parseEvaluateArgs(args), (l) => lines.push(l));
  assert.match(lines[0]!, /6 of 6 jobs already in the journal/);
  const after = readFileSync(join(out, 'results.csv'), 'utf8').split('\n').map((l) => l.split(',').slice(0, 13).join(','));
  assert.equal(after, before);
  await rejectsCode(() => runEvaluate(parseEvaluateArgs([...args, '--ig-steps', '7']), quiet), 'JOURNAL_MISMATCH', /igSteps/);
  // a method added later is computed alone
  const more: string[] = [];
  const r = await runEvaluate(parseEvaluateArgs([...args.slice(0, -2), '--methods', 'saliency,random,guidedbackprop', '--out', out]), (l) => more.push(l));
  assert.match(more[0]!, /4 of 6 jobs already in the journal/);
  assert.equal(r.rows.map((x) => x.method), ['saliency', 'random', 'guidedbackprop']);
});

test('an L-MAC decoder directory makes lmac a row of the table (an untrained decoder for the same classifier)', async () => {
  const { initWeights } = await import('../src/model/weights.ts');
  const { createSvdCnn } = await import('../src/model/svdcnn.ts');
  const { magnitudeModel } = await import('../src/explain/maskable.ts');
  const { svdLmacArchitecture, initDecoderTensors, classifierRef, saveDecoderFile } = await import('../src/explain/lmac/index.ts');
  const w = initWeights(5, { id: 'svd-cnn-ismir2015/random-5' });
  const svd = createSvdCnn(w);
  const mm = magnitudeModel(svd, { mean: new Float32Array(80), std: new Float32Array(80).fill(1) });
  const arch = svdLmacArchitecture();
  const lmacDir = join(dir, 'lmac');
  await saveDecoderFile(lmacDir, { info: { architecture: arch, classifier: classifierRef(w), loss: {}, training: {} }, tensors: initDecoderTensors(arch, mm.melT.dataSync() as Float32Array, 1) });
  mm.dispose();
  svd.dispose();
  const r = await runEvaluate(parseEvaluateArgs(['--corpus', corpus, '--model', 'random:5', '--excerpts', '1', '--methods', 'lmac,random', '--lmac', lmacDir, '--out', join(dir, 'out-lmac')]), quiet);
  assert.equal(r.rows.map((x) => x.method), ['lmac', 'random']);
  assert.is(r.missing.length, 0);
  const row = r.rows[0]!;
  assert.ok(row.mm > 0 && row.mm < 1, `L-MAC mask mean ${row.mm}`);
});

test('bad options name the option', async () => {
  throwsCode(() => parseEvaluateArgs(['--methods', 'saliency,foo']), 'BAD_USAGE', /unknown method 'foo'/);
  throwsCode(() => parseEvaluateArgs(['--methods', 'ig,ig']), 'BAD_USAGE', /twice/);
  throwsCode(() => parseEvaluateArgs(['--excerpts', '0']), 'BAD_USAGE', /--excerpts/);
  throwsCode(() => parseEvaluateArgs(['--ig-method', 'simpson']), 'BAD_USAGE', /--ig-method/);
  throwsCode(() => parseEvaluateArgs(['--smoothgrad-noise', 'x']), 'BAD_USAGE', /--smoothgrad-noise/);
  throwsCode(() => parseEvaluateArgs(['--gradcam-layer', 'fc1']), 'BAD_USAGE', /--gradcam-layer/);
  throwsCode(() => parseEvaluateArgs(['--split', 'dev']), 'BAD_USAGE', /--split/);
  throwsCode(() => parseEvaluateArgs(['--bogus']), 'BAD_USAGE', /bogus/);
  await rejectsCode(() => evaluate.run(['--corpus', join(dir, 'nowhere'), '--model', 'random:1', '--methods', 'saliency', '--out', join(dir, 'o2')]), 'CORPUS_MISSING', /npm run corpus/);
  await rejectsCode(() => runEvaluate(parseEvaluateArgs(['--methods', 'lmac', '--lmac', join(dir, 'none'), '--model', 'random:1', '--corpus', corpus, '--out', join(dir, 'o3')]), quiet), 'NOTHING_TO_DO', /lmac/);
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
