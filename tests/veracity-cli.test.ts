/**
 * `earshot experiment veracity` end to end, tiny (src/cli/commands/experiment-veracity.ts,
 * src/veracity/experiment*.ts): the two bundled clips, the test CNN of tests/fixtures/cnn/model,
 * a handful of attack iterations and forward passes; its outputs, a resume that recomputes
 * nothing, a resume with other options refused by name, and every bad option named.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { experimentVeracity } from '../src/cli/commands/experiment-veracity.ts';
import { runVeracity, corpusTestFiles } from '../src/veracity/experiment-run.ts';
import type { VeracityConfig } from '../src/veracity/experiment.ts';
import { rejectsCode, throwsCode, fixturePath } from './helpers.ts';

const MODEL = fixturePath('cnn', 'model');
const FILES = 'assets/lena-sung.wav,assets/instrumental-loops.wav';
const TINY = ['--model', MODEL, '--files', FILES, '--excerpts', '1', '--draw-excerpts', '1', '--max-iterations', '3', '--samples', '48', '--shap-samples', '24', '--ks', '1', '--draw-ks', '1', '--workers', '1'];

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const out = console.log;
  const err = process.stderr.write.bind(process.stderr);
  console.log = () => undefined;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await f();
  } finally {
    console.log = out;
    process.stderr.write = err;
  }
}

const run = (args: string[]) => quietly(() => experimentVeracity.run(args));

test('cli: bad options are rejected by name', async () => {
  await rejectsCode(() => run([]), 'BAD_USAGE', /--domain is required/);
  await rejectsCode(() => run(['--domain', 'audio']), 'BAD_USAGE', /--domain must be waveform or spectrogram, got 'audio'/);
  await rejectsCode(() => run(['--domain', 'waveform', '--methods', 'lime,gradcam']), 'BAD_USAGE', /--methods: unknown method 'gradcam'/);
  await rejectsCode(() => run(['--domain', 'waveform', '--methods', 'lime,lime']), 'BAD_USAGE', /--methods has repeated/);
  await rejectsCode(() => run(['--domain', 'waveform', '--parts', 'flip']), 'BAD_USAGE', /--parts: unknown part 'flip'/);
  await rejectsCode(() => run(['--domain', 'waveform', '--ks', '1,0']), 'BAD_USAGE', /--ks: each value must be an integer in \[1, 20\], got '0'/);
  await rejectsCode(() => run(['--domain', 'waveform', '--draw-ks', '5']), 'BAD_USAGE', /--draw-ks/);
  await rejectsCode(() => run(['--domain', 'waveform', '--excerpts=-1']), 'BAD_USAGE', /--excerpts must be an integer/);
  await rejectsCode(() => run(['--domain', 'waveform', '--max-iterations', '0']), 'BAD_USAGE', /--max-iterations/);
  await rejectsCode(() => run(['--domain', 'waveform', '--threshold', '1.5']), 'BAD_USAGE', /--threshold must be a number in \[0, 1\]/);
  await rejectsCode(() => run(['--domain', 'waveform', '--epsilon', '0']), 'BAD_USAGE', /--epsilon/);
  await rejectsCode(() => run(['--domain', 'waveform', '--kernel-width', 'wide']), 'BAD_USAGE', /--kernel-width/);
  await rejectsCode(() => run(['--domain', 'waveform', '--engine', 'gpu']), 'BAD_USAGE', /--engine must be one of/);
  await rejectsCode(() => run(['--domain', 'waveform', '--workers', '0']), 'BAD_USAGE', /--workers/);
  await rejectsCode(() => run(['--domain', 'waveform', '--bogus']), 'BAD_USAGE', /bogus/);
  await rejectsCode(() => run(['--domain', 'waveform', 'clip.wav']), 'BAD_USAGE', /unexpected argument 'clip\.wav'/);
  await rejectsCode(() => run(['--domain', 'waveform', '--model', MODEL, '--files', 'no/such.wav']), 'FILE_NOT_FOUND', /no\/such\.wav/);
  await rejectsCode(() => run(['--domain', 'waveform', '--model', MODEL, '--corpus', '/no/corpus']), 'CORPUS_MISSING', /npm run corpus/);
  throwsCode(() => corpusTestFiles('/no/corpus'), 'CORPUS_MISSING', /--files/);
});

test('cli: a tiny run writes every table and figure, resumes without recomputing, refuses other options', async () => {
  const out = mkdtempSync(join(tmpdir(), 'earshot-veracity-'));
  const args = ['--domain', 'spectrogram', ...TINY, '--out', out];
  assert.is(await run(args), 0);
  for (const f of ['summary.txt', 'excerpts.csv', 'table1.csv', 'table2.csv', 'fig2_flip_curves.csv', 'fig2_flip_curves.png', 'fig3_localised.csv', 'fig4_fidelity.csv', 'drawing.csv', 'drawing_summary.txt', 'fig1_drawing.png', 'run.json']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const journal = readFileSync(join(out, 'journal-adversarial.jsonl'), 'utf8').trim().split('\n');
  const excerpts = readFileSync(join(out, 'excerpts.csv'), 'utf8').trim().split('\n');
  assert.is(journal.length - 1, excerpts.length - 1, 'one journal line per excerpt');
  assert.ok(excerpts.length >= 2, 'at least one excerpt');
  for (const line of journal.slice(1)) {
    const r = JSON.parse(line).result;
    assert.ok(r.attack.iterations <= 3, 'iteration cap');
    assert.is(r.target, 1 - r.original);
    if (r.valid) {
      assert.is(r.norms.length, 20);
      assert.is(r.methods.lime.flipTopK.length, 20);
      assert.is(r.methods.kernelshap.ranking.length, 20);
    }
  }
  assert.match(readFileSync(join(out, 'summary.txt'), 'utf8'), /Table 1/);
  // resume: the same command recomputes nothing (the journals stay as they are)
  const before = readFileSync(join(out, 'journal-adversarial.jsonl'), 'utf8');
  assert.is(await run(args), 0);
  assert.is(readFileSync(join(out, 'journal-adversarial.jsonl'), 'utf8'), before);
  // other options: refused, naming the option
  const other = args.map((a, i) => (args[i - 1] === '--samples' ? '64' : a));
  await rejectsCode(() => run(other), 'JOURNAL_MISMATCH', /samples = 48 \(now 64\)/);
});

test('run: the API refuses an empty file list', async () => {
  const config: VeracityConfig = { domain: 'waveform', model: MODEL, engine: 'auto', threshold: 0.5, maxIterations: 1, context: 0, samples: 8, kernelWidth: 0.25, shapSamples: 8, methods: ['lime'], ks: [1], drawKs: [1], seed: 0 };
  await rejectsCode(() => runVeracity({ config, files: [], parts: ['adversarial'], excerpts: 1, drawExcerpts: 0, out: tmpdir(), workers: 1, fresh: false, quiet: true }), 'BAD_USAGE', /no audio files/);
});

test.run();
