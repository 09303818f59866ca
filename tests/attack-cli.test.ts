// `earshot attack` end to end on a 3.6 s synthetic clip with a seeded random CNN and a few
// iterations: every file exists and parses (report JSON, 32-bit float WAV through the WAV decoder,
// .npy header, PNG through node:zlib), the WAV equals clip + the report's perturbation, --at picks
// one excerpt, --workers 2 spreads excerpts over worker threads with the same results as inline,
// and bad options are rejected with a message naming the flag.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWavFile, loadMono } from '../src/audio/node.ts';
import { decodeWav } from '../src/audio/wav.ts';
import { attackCommand } from '../src/cli/commands/attack.ts';
import { rejectsCode } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'earshot-attack-cli-'));
const clip = join(dir, 'clip.wav');
const SR = 22050;

test.before(async () => {
  let s = 4321;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5;
  const x = Float32Array.from({ length: Math.round(3.6 * SR) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 330 * i) / SR) + 0.1 * rnd());
  await writeWavFile(clip, { sampleRate: SR, channels: [x] }, { format: 'float32' });
  await writeWavFile(join(dir, 'short.wav'), { sampleRate: SR, channels: [x.subarray(0, SR)] });
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

const readReport = (d: string) => JSON.parse(readFileSync(join(d, 'report.json'), 'utf8'));

test('waveform --all: report, float WAV = clip + δ, .npy, PNG; --workers 2 = inline', async () => {
  const out = join(dir, 'w1');
  const code = await quiet(() => attackCommand([clip, '--domain', 'waveform', '--all', '--model', 'random:3', '--max-iterations', '4', '--workers', '1', '--out', out]));
  assert.is(code, 0);
  const r = readReport(out);
  assert.is(r.domain, 'waveform');
  assert.is(r.options.epsilon, 0.01);
  assert.is(r.options.maxIterations, 4);
  assert.is(r.excerpts.length, 2); // 250 frames: excerpts start at 0 and 118
  assert.equal(r.excerpts.map((e: { startFrame: number }) => e.startFrame), [0, 118]);
  assert.is(r.frameProbabilities.before.length, r.frames);
  assert.is(r.frameProbabilities.after.length, r.frames);
  for (const e of r.excerpts) {
    assert.ok(e.iterations <= 4);
    assert.ok(e.linf <= 0.01 + 1e-9);
  }
  const wav = decodeWav(new Uint8Array(readFileSync(join(out, 'adversarial.wav'))));
  assert.is(wav.format, 'float32');
  const x = await loadMono(clip);
  const y = wav.channels[0]!;
  assert.is(y.length, x.length);
  let linf = 0;
  for (let i = 0; i < y.length; i++) linf = Math.max(linf, Math.abs(y[i]! - x[i]!));
  assert.ok(Math.abs(linf - r.summary.linf) < 1e-7 && linf <= 0.01 + 1e-7);
  const npy = readFileSync(join(out, 'adversarial-logmel.npy'));
  assert.is(npy.subarray(1, 6).toString('latin1'), 'NUMPY');
  assert.match(npy.toString('latin1', 10, 120), new RegExp(`'shape': \\(${r.frames}, 80\\)`));
  const png = readFileSync(join(out, 'delta.png'));
  assert.equal([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  // the same attack on two worker threads (one excerpt each)
  const out2 = join(dir, 'w2');
  assert.is(await quiet(() => attackCommand([clip, '--domain', 'waveform', '--model', 'random:3', '--max-iterations', '4', '--workers', '2', '--batch', '1', '--out', out2])), 0);
  const r2 = readReport(out2);
  assert.is(r2.workers, 2);
  assert.equal(r2.excerpts.map((e: { iterations: number }) => e.iterations), r.excerpts.map((e: { iterations: number }) => e.iterations));
  assert.equal(readFileSync(join(out2, 'adversarial.wav')), readFileSync(join(out, 'adversarial.wav')));
});

test('spectrogram --at: one excerpt centred there, resynthesised audio', async () => {
  const out = join(dir, 's1');
  assert.is(await quiet(() => attackCommand([clip, '--domain', 'spectrogram', '--at', '2.0', '--model', 'random:3', '--max-iterations', '3', '--epsilon', '0.5', '--engine', 'tfjs', '--out', out])), 0);
  const r = readReport(out);
  assert.is(r.excerpts.length, 1);
  assert.ok(Math.abs(r.excerpts[0].centreSeconds - 2.0) < 0.02, `centre ${r.excerpts[0].centreSeconds}`);
  assert.is(r.options.epsilon, 0.5);
  assert.is(r.summary.linfUnits, 'log-mel');
  assert.ok(r.summary.linf <= 0.5 + 1e-6);
  assert.is(r.frameProbabilities.afterResynthesis.length, r.frames);
  const wav = decodeWav(new Uint8Array(readFileSync(join(out, 'adversarial.wav'))));
  assert.is(wav.channels[0]!.length, Math.round(3.6 * SR));
});

test('bad options name the flag', async () => {
  const out = join(dir, 'bad');
  await rejectsCode(() => attackCommand([clip, '--out', out]), 'BAD_USAGE', /--domain/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'pixels', '--out', out]), 'BAD_USAGE', /--domain/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'waveform']), 'BAD_USAGE', /--out/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'waveform', '--at', '1', '--all', '--out', out]), 'BAD_USAGE', /--at and --all/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'waveform', '--at', 'soon', '--out', out]), 'BAD_USAGE', /--at/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'waveform', '--epsilon', '-1', '--out', out]), 'BAD_USAGE', /--epsilon/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'waveform', '--max-iterations', '2.5', '--out', out]), 'BAD_USAGE', /--max-iterations/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'waveform', '--workers', '0', '--out', out]), 'BAD_USAGE', /--workers/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'waveform', '--eps', '1', '--out', out]), 'BAD_USAGE', /eps/);
  await rejectsCode(() => attackCommand([clip, '--domain', 'waveform', '--engine', 'gpu', '--out', out]), 'BAD_USAGE', /--engine/);
  await rejectsCode(() => attackCommand([join(dir, 'short.wav'), '--domain', 'waveform', '--model', 'random:1', '--out', out]), 'TOO_SHORT', /115 frames/);
});

test.run();
