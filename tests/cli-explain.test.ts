// `earshot explain` and `earshot demo` end to end on a short synthetic clip with a seeded random
// CNN (--model random:1) and few forward passes: every file exists and parses (JSON through the
// validating loader, PNG through node:zlib, WAVs through the WAV decoder), the listenable parts
// add up to the excerpt, exhaustive runs repeat exactly, and every bad option is rejected with a
// message naming it. Also the progress bar's TTY and plain modes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { EarshotError } from '../bindings/errors.ts';
import { writeWavFile } from '../src/audio/node.ts';
import { decodeWav } from '../src/audio/wav.ts';
import { explainCommand } from '../src/cli/commands/explain.ts';
import { demoCommand } from '../src/cli/commands/demo.ts';
import { findDefaultModel } from '../src/cli/model-loader.ts';
import { initWeights, saveWeights } from '../src/model/weights.ts';
import { Progress, formatDuration } from '../src/cli/progress.ts';
import { loadExplanationJSON } from '../src/render/explanation.ts';
import { ROOT } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'earshot-cli-explain-'));
const clip = join(dir, 'clip.wav');
const SR = 22050;

test.before(async () => {
  // 3 s: a 440 Hz tone with 200 ms noise bursts every 0.5 s
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5;
  const x = Float32Array.from({ length: 3 * SR }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / SR) + ((i % (SR / 2)) < 0.2 * SR ? 0.4 * rnd() : 0));
  await writeWavFile(clip, { sampleRate: SR, channels: [x] });
  await writeWavFile(join(dir, 'too-short.wav'), { sampleRate: SR, channels: [x.subarray(0, 500)] });
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function run(fn: (a: string[]) => Promise<number>, args: string[]): Promise<{ code: number; printed: string[] }> {
  const log = console.log;
  const write = process.stderr.write;
  const printed: string[] = [];
  console.log = (m: string) => void printed.push(m);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { code: await fn(args), printed };
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
}

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, EarshotError);
    assert.is((e as EarshotError).code, code, (e as Error).message);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${code} ${re}`);
}

const wav = (p: string) => decodeWav(new Uint8Array(readFileSync(p)), p).channels[0]!;

function pngSize(p: string): [number, number] {
  const b = readFileSync(p);
  assert.equal([...b.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  // inflate every IDAT to be sure the stream is whole
  let o = 8;
  const idat: Buffer[] = [];
  while (o < b.length) {
    const len = b.readUInt32BE(o);
    if (b.toString('latin1', o + 4, o + 8) === 'IDAT') idat.push(b.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  const w = b.readUInt32BE(16);
  const h = b.readUInt32BE(20);
  assert.is(zlib.inflateSync(Buffer.concat(idat)).length, h * (w * 3 + 1));
  return [w, h];
}

const base = ['--model', 'random:1', '--segmentation', 'temporal', '--components', '4', '--sampler', 'exhaustive', '--samples', '64'];

test('explain: temporal, 4 components, exhaustive → six files that parse; parts add up; reruns are identical', async () => {
  const out = join(dir, 'one');
  const { code, printed } = await run(explainCommand, [clip, ...base, '--at', '1.5', '--top', '2', '--out', out]);
  assert.is(code, 0);
  const names = ['explanation.json', 'heatmap.png', 'excerpt.wav', 'topk.wav', 'rest.wav', 'index.html'];
  assert.equal(printed, names.map((n) => join(out, n)));
  for (const n of names) assert.ok(existsSync(join(out, n)), n);
  const e = loadExplanationJSON(readFileSync(join(out, 'explanation.json'), 'utf8'));
  assert.is(e.components.d, 4);
  assert.is(e.forwardPasses, 16);
  assert.is(e.method, 'slime');
  assert.is(e.params.sampler, 'exhaustive');
  assert.is(e.params.modelId, 'svd-cnn-ismir2015/random-1');
  assert.is(e.params.topK, 2);
  assert.is(e.params.normalisation, 'clip');
  // --at 1.5 s → frame round((1.5·22050 − 512) / 315) = 103
  assert.is(e.excerptContext!.centreFrame, 103);
  assert.ok(e.prediction > 0 && e.prediction < 1);
  const [w, h] = pngSize(join(out, 'heatmap.png'));
  assert.ok(w > 2 * 115 * 4 && h === 80 * 4 + 16, `${w}×${h}`);
  const x = wav(join(out, 'excerpt.wav'));
  const k = wav(join(out, 'topk.wav'));
  const r = wav(join(out, 'rest.wav'));
  assert.is(x.length, 315 * 114 + 1024);
  let err = 0;
  for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(k[i]! + r[i]! - x[i]!));
  assert.ok(err < 1e-4, `kept + rest vs excerpt (pcm16): ${err}`);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.equal(html.match(/<audio /g)!.length, 3);
  assert.ok(html.includes('earshot explain') && html.includes('--seed 0'));
  // exhaustive: the same explanation again, bit for bit
  const out2 = join(dir, 'two');
  assert.is((await run(explainCommand, [clip, ...base, '--at', '1.5', '--top', '2', '--out', out2])).code, 0);
  const e2 = loadExplanationJSON(readFileSync(join(out2, 'explanation.json'), 'utf8'));
  assert.equal(Array.from(e2.weights), Array.from(e.weights));
});

test('explain: a weight directory with statistics; tf grid, random sampler → STFT-masked WAVs; --embed inlines the media', async () => {
  const modelDir = join(dir, 'model');
  await saveWeights(modelDir, initWeights(2, { id: 'test/saved-2', normalization: { mean: new Array(80).fill(-6), std: new Array(80).fill(2.5) } }));
  const out = join(dir, 'tf');
  const args = [clip, '--model', modelDir, '--segmentation', 'tf', '--grid', '2x2', '--sampler', 'random', '--samples', '12', '--content', 'zero', '--distance', 'euclidean', '--embed', '--out', out];
  assert.is((await run(explainCommand, args)).code, 0);
  const e = loadExplanationJSON(readFileSync(join(out, 'explanation.json'), 'utf8'));
  assert.is(e.components.d, 4);
  assert.is(e.params.segmentation, 'time-frequency');
  assert.is(e.params.modelId, 'test/saved-2');
  assert.is(e.params.normalisation, 'model');
  assert.is(e.forwardPasses, 12);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.ok(html.includes('data:image/png;base64,') && html.includes('data:audio/wav;base64,'));
  assert.ok(html.includes('short-time Fourier'));
  const x = wav(join(out, 'excerpt.wav'));
  const k = wav(join(out, 'topk.wav'));
  const r = wav(join(out, 'rest.wav'));
  let err = 0;
  for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(k[i]! + r[i]! - x[i]!));
  assert.ok(err < 2e-4, `kept + rest vs excerpt: ${err}`);
});

test('explain --all-frames: one directory per excerpt and an index', async () => {
  const out = join(dir, 'all');
  const { code, printed } = await run(explainCommand, [clip, ...base, '--all-frames', '--every', '115', '--out', out]);
  assert.is(code, 0);
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
  // 3 s = 207 frames: centres 57 and 172
  assert.equal(index.excerpts.map((r: { frame: number }) => r.frame), [57, 172]);
  for (const r of index.excerpts) {
    assert.ok(existsSync(join(out, r.dir, 'explanation.json')));
    assert.is(loadExplanationJSON(readFileSync(join(out, r.dir, 'explanation.json'), 'utf8')).excerptContext!.centreFrame, r.frame);
  }
  assert.ok(existsSync(join(out, 'index.html')));
  assert.is(printed.length, 4);
});

test('explain --engine: TF.js wasm and onnxruntime-node give the same explanation; the engine is recorded', async () => {
  const args = [clip, ...base, '--at', '1.5'];
  assert.is((await run(explainCommand, [...args, '--engine', 'tfjs', '--out', join(dir, 'eng-tfjs')])).code, 0);
  assert.is((await run(explainCommand, [...args, '--engine', 'ort', '--out', join(dir, 'eng-ort')])).code, 0);
  const a = loadExplanationJSON(readFileSync(join(dir, 'eng-tfjs', 'explanation.json'), 'utf8'));
  const b = loadExplanationJSON(readFileSync(join(dir, 'eng-ort', 'explanation.json'), 'utf8'));
  assert.is(a.params.engine, 'tfjs');
  assert.is(b.params.engine, 'ort');
  assert.ok(Math.abs(a.prediction - b.prediction) < 1e-4, `${a.prediction} vs ${b.prediction}`);
  for (let j = 0; j < a.weights.length; j++) assert.ok(Math.abs(a.weights[j]! - b.weights[j]!) < 1e-4, `weight ${j}: ${a.weights[j]} vs ${b.weights[j]}`);
});

test('explain: every bad option is rejected with a message naming it', async () => {
  const out = join(dir, 'bad');
  const bad = (extra: string[], re: RegExp, code = 'BAD_USAGE', args = [clip, '--model', 'random:1', '--out', out]) => rejects(explainCommand([...args, ...extra]), code, re);
  await bad(['--engine', 'gpu'], /--engine must be one of auto, tfjs, ort, ort-web/);
  await bad(['--samples', 'abc'], /--samples/);
  await bad(['--samples', '0'], /--samples/);
  await bad(['--sampler', 'lhs'], /--sampler must be one of random, dedup, exhaustive/);
  await bad(['--segmentation', 'mel'], /--segmentation/);
  await bad(['--segmentation', 'tf', '--grid', '5by4'], /--grid/);
  await bad(['--grid', '5x4'], /--grid applies to --segmentation tf/);
  await bad(['--segmentation', 'tf', '--components', '4'], /--components/);
  await bad(['--content', 'silence'], /--content/);
  await bad(['--content', 'min_data'], /--min-data/);
  await bad(['--min-data=-3'], /--min-data applies/);
  await bad(['--content', 'min_data', '--min-data', 'low'], /--min-data must be a number/);
  await bad(['--method', 'gradcam'], /--method/);
  await bad(['--distance', 'manhattan'], /--distance/);
  await bad(['--top', '0'], /--top/);
  await bad(['--seed', '-1'], /--seed/);
  await bad(['--seed', '1.5'], /--seed/);
  await bad(['--batch', '0'], /--batch/);
  await bad(['--kernel-width', '0'], /--kernel-width/);
  await bad(['--at', '-1'], /--at/);
  await bad(['--at', 'soon'], /--at/);
  await bad(['--at', '99'], /--at 99 is past the end/);
  await bad(['--at', '1', '--all-frames'], /--at and --all-frames/);
  await bad(['--every', '10'], /--every applies to --all-frames/);
  await bad(['--all-frames', '--every', '0'], /--every/);
  await bad(['--bogus'], /bogus/);
  await bad([], /random:SEED needs an integer seed/, 'BAD_USAGE', [clip, '--model', 'random:x', '--out', out]);
  await bad([], /--model: .*nowhere does not exist/, 'MODEL_MISSING', [clip, '--model', join(dir, 'nowhere'), '--out', out]);
  await bad([], /--out/, 'BAD_USAGE', [clip]);
  await bad([], /exactly one input WAV/, 'BAD_USAGE', ['--out', out]);
  await bad([], /too-short\.wav.*shorter than one frame/, 'TOO_SHORT', [join(dir, 'too-short.wav'), '--model', 'random:1', '--out', out]);
  assert.not.ok(existsSync(out), 'nothing written for a rejected command');
});

test('demo: without the bundled model it says so; with --model random:1 it writes everything', async () => {
  if (findDefaultModel() === null) {
    await rejects(demoCommand(['--out', join(dir, 'demo-missing')]), 'MODEL_MISSING', /assets\/models\/svd-default.*earshot train/);
    assert.not.ok(existsSync(join(dir, 'demo-missing')));
  }
  const out = join(dir, 'demo');
  const { code, printed } = await run(demoCommand, ['--model', 'random:1', '--components', '4', '--sampler', 'exhaustive', '--out', out]);
  assert.is(code, 0);
  // SLIME's 7 files + audioLIME's 6 (L-MAC is skipped: the bundled decoder belongs to the bundled model)
  assert.is(printed.length, 13);
  assert.ok(printed.some((p) => p.endsWith(join('audiolime', 'topk.wav'))));
  const only = await run(demoCommand, ['--model', 'random:1', '--components', '4', '--sampler', 'exhaustive', '--slime-only', '--out', join(dir, 'demo-slime')]);
  assert.is(only.printed.length, 7);
  for (const p of printed) assert.ok(existsSync(p), p);
  const e = loadExplanationJSON(readFileSync(join(out, 'explanation.json'), 'utf8'));
  assert.match(String((e.params.input as { source: string }).source), /lena-sung\.wav$/);
  pngSize(join(out, 'logmel.png'));
  assert.ok(readFileSync(join(out, 'index.html'), 'utf8').includes('logmel.png'));
});

test('the earshot binary exits 1 and names the option on stderr', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'explain', clip, '--samples', 'many', '--out', join(dir, 'x')], { cwd: ROOT, encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.match(r.stderr, /earshot explain: --samples must be an integer .* got 'many'/);
});

test('progress: TTY redraws in place with rate and ETA; plain mode prints quarter lines', () => {
  let t = 0;
  const tty: string[] = [];
  const p = new Progress('explain', 100, { stream: { write: (s: string) => tty.push(s), isTTY: true, columns: 80 }, now: () => t, unit: 'passes' });
  t = 1000;
  p.update(50);
  t = 1050;
  p.update(60); // within 100 ms: not redrawn
  t = 2000;
  p.update(100);
  p.finish();
  assert.is(tty.length, 4);
  assert.is(tty[3], '\n');
  assert.match(tty[0]!, /^\rexplain \[#+\.+\] 50\/100 \(50%\) 50\.0 passes\/s ETA 1s/);
  assert.match(tty[2]!, /100\/100 \(100%\) 50\.0 passes\/s in 2s$/);
  const lines: string[] = [];
  t = 0;
  const q = new Progress('job', 8, { stream: { write: (s: string) => lines.push(s) }, now: () => t });
  for (let i = 1; i <= 8; i++) {
    t = i * 500;
    q.update(i);
  }
  q.finish();
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^job: 2\/8 \(25%\) 2\.0 it\/s ETA 3s\n$/);
  assert.match(lines[3]!, /^job: 8\/8 \(100%\) 2\.0 it\/s in 4s\n$/);
  assert.is(formatDuration(184), '3m04s');
  assert.is(formatDuration(NaN), '?');
});

test.run();
