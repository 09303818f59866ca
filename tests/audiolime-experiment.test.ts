// `earshot experiment audiolime` end to end on a tiny synthetic corpus (2 test songs of 3 s,
// two seeded random models) in seconds: every stage writes its CSV, PNG and summary lines; the
// journal resumes without recomputing; the tone is gated by the labels; layer randomisation
// touches only the named layers; Spearman's rank correlation on hand cases; bad options named.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWavFile } from '../src/audio/node.ts';
import { initWeights, saveWeights } from '../src/model/weights.ts';
import { runAudioLimeExperiment, heldOutClips } from '../src/experiments/audiolime/run.ts';
import { randomiseLayers, spearman, CASCADE } from '../src/experiments/audiolime/tasks.ts';
import { spuriousTone } from '../src/experiments/audiolime/confound.ts';
import { experimentAudioLimeCommand } from '../src/cli/commands/experiment-audiolime.ts';
import { initBackend } from '../src/model/backend.ts';
import { rejectsCode } from './helpers.ts';

const SR = 22050;
const dir = mkdtempSync(join(tmpdir(), 'earshot-audiolime-exp-'));

async function makeCorpus(): Promise<string> {
  const root = join(dir, 'corpus');
  const songs = [];
  for (let k = 0; k < 2; k++) {
    const id = `song-${k}`;
    const d = join(root, 'test', id);
    mkdirSync(d, { recursive: true });
    const n = 3 * SR;
    const nF = Math.floor((n - 1024) / 315) + 1;
    const labels = Array.from({ length: nF }, (_, f) => (f > 40 + 20 * k && f < 150 ? 1 : 0));
    const vocals = new Float32Array(n).map((_, i) => (labels[Math.min(nF - 1, Math.max(0, Math.round((i - 512) / 315)))] ? 0.2 * Math.sin((2 * Math.PI * (300 + 50 * k) * i) / SR) : 0));
    const acc = new Float32Array(n).map((_, i) => 0.05 * Math.sin(i * 12.9898 + k) * Math.sin(i * 0.031));
    const mix = vocals.map((v, i) => v + acc[i]!);
    await writeWavFile(join(d, 'vocals.wav'), { sampleRate: SR, channels: [vocals] }, { format: 'float32' });
    await writeWavFile(join(d, 'accompaniment.wav'), { sampleRate: SR, channels: [acc] }, { format: 'float32' });
    await writeWavFile(join(d, 'mix.wav'), { sampleRate: SR, channels: [mix] }, { format: 'float32' });
    writeFileSync(join(d, 'labels.json'), JSON.stringify({ hop: 315, labels }));
    songs.push({ id, split: 'test' });
  }
  writeFileSync(join(root, 'manifest.json'), JSON.stringify({ songs }));
  return root;
}

async function makeModel(seed: number): Promise<string> {
  const d = join(dir, `model-${seed}`);
  await saveWeights(d, initWeights(seed, { normalization: { mean: new Array(80).fill(-6), std: new Array(80).fill(3) } }));
  return d;
}

test('spearman: hand cases (perfect, reversed, ties, constant)', () => {
  assert.is(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.is(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-12); // scipy.stats.spearmanr
  assert.is(spearman([1, 1, 1], [1, 2, 3]), 0);
});

test('randomiseLayers re-initialises exactly the named layers', () => {
  const w = initWeights(1);
  const r = randomiseLayers(w, CASCADE.slice(0, 2), 99);
  for (const [name, t] of Object.entries(w.tensors)) {
    const changed = name.startsWith('fc3.') || name.startsWith('fc2.');
    const same = t.data.every((v, i) => v === r.tensors[name]!.data[i]);
    if (changed && name.endsWith('kernel')) assert.not.ok(same, name);
    if (!changed) assert.ok(same, name);
  }
});

test('the spurious tone sounds only where the frames are labelled voice', () => {
  const labels = Uint8Array.from({ length: 100 }, (_, f) => (f >= 50 ? 1 : 0));
  const n = 99 * 315 + 1024;
  const t = spuriousTone(labels, n, SR, 315, 1024, 0.1);
  let before = 0;
  let after = 0;
  for (let i = 0; i < 40 * 315; i++) before = Math.max(before, Math.abs(t[i]!));
  for (let i = 60 * 315; i < n; i++) after = Math.max(after, Math.abs(t[i]!));
  assert.is(before, 0);
  assert.ok(Math.abs(after - 0.1 * 10 ** (-6 / 20) * Math.SQRT2) < 1e-3, `peak ${after}`);
});

test('experiment audiolime: all three stages on a tiny corpus, resumable, CSV + PNG + summary', async () => {
  await initBackend('wasm');
  const corpus = await makeCorpus();
  const clean = await makeModel(1);
  const conf = await makeModel(2);
  const clips = await heldOutClips(corpus, 2, 0);
  assert.is(clips.length, 2);
  const out = join(dir, 'results');
  const lines: string[] = [];
  const settings = {
    corpus, out, model: clean, confounded: conf, stages: ['confound', 'sanity', 'oracle'] as const, clips: 0, sanityClips: 1, slimeComponents: 3,
    seconds: 2, segments: 2, samples: 4, seed: 0, workers: 1, engine: 'auto', fresh: false, log: (l: string) => lines.push(l),
  };
  const ew = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as never;
  try {
    const files = await runAudioLimeExperiment({ ...settings, stages: [...settings.stages] });
    for (const f of ['confound.csv', 'confound.png', 'sanity.csv', 'sanity.png', 'oracle.csv', 'oracle.png', 'summary.txt']) assert.ok(existsSync(join(out, f)), f);
    assert.is(files.length, 10); // + summary-<stage>.txt
    const confound = readFileSync(join(out, 'confound.csv'), 'utf8').trim().split('\n');
    assert.is(confound.length, 1 + 2 * 2);
    assert.match(confound[0]!, /^clip,start_s,model,top_source/);
    const sanity = readFileSync(join(out, 'sanity.csv'), 'utf8').trim().split('\n');
    assert.is(sanity.length, 1 + 8);
    assert.match(sanity[1]!, /,0,none,1,1,/); // depth 0 is the trained model itself
    const oracle = readFileSync(join(out, 'oracle.csv'), 'utf8').trim().split('\n');
    assert.is(oracle.length, 1 + 2 * 3);
    assert.match(lines.join('\n'), /hpss +mean top-3 overlap/);
    // a rerun finds everything in the journals: same summary, no job run again
    const t0 = performance.now();
    await runAudioLimeExperiment({ ...settings, stages: [...settings.stages] });
    assert.ok(performance.now() - t0 < 5000);
    await rejectsCode(() => runAudioLimeExperiment({ ...settings, stages: ['oracle'], samples: 5 }), 'JOURNAL_MISMATCH', /samples = 4 \(now 5\)/);
  } finally {
    process.stderr.write = ew;
  }
});

test('experiment audiolime: bad options are named', async () => {
  await rejectsCode(() => experimentAudioLimeCommand(['--stage', 'confusion']), 'BAD_USAGE', /--stage must be all or/);
  await rejectsCode(() => experimentAudioLimeCommand(['--seconds', '30']), 'BAD_USAGE', /--seconds must be a number in \[1, 10\]/);
  await rejectsCode(() => experimentAudioLimeCommand(['--corpus', join(dir, 'nowhere')]), 'CORPUS_MISSING', /npm run corpus/);
  await rejectsCode(() => experimentAudioLimeCommand(['--corpus', dir, '--stage', 'confound', '--confounded', join(dir, 'none')]), 'MODEL_MISSING', /train-confounded/);
  await rejectsCode(() => experimentAudioLimeCommand(['--workers', 'two', '--corpus', dir]), 'BAD_USAGE', /--workers/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
