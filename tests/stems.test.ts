/**
 * User stems (src/separate/stems.ts, ./reconcile.ts) and `earshot separate` (src/cli/commands/
 * separate.ts), on WAV files written to a temporary folder: stems that sum to the mixture give no
 * residual; missing ones give an explicit `residual` that restores the sum; other rates are
 * resampled; mismatched lengths, corrupt and missing files get errors naming the file; the CLI
 * writes one float32 WAV per source whose sum is the mixture, and says when it added a residual.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWavFile } from '../src/audio/node.ts';
import { decodeWav } from '../src/audio/wav.ts';
import { loadStems } from '../src/separate/stems.ts';
import { reconcileStems } from '../src/separate/reconcile.ts';
import { separateCommand } from '../src/cli/commands/separate.ts';
import { throwsCode } from './helpers.ts';

const SR = 16000;
const dir = mkdtempSync(join(tmpdir(), 'earshot-stems-'));
const N = SR; // 1 s
const a = new Float32Array(N).map((_, i) => 0.4 * Math.sin((2 * Math.PI * 220 * i) / SR));
const b = new Float32Array(N).map((_, i) => (i % 1600 === 0 ? 0.5 : 0) + 0.1 * Math.sin((2 * Math.PI * 1500 * i) / SR));
const mix = new Float32Array(N).map((_, i) => a[i]! + b[i]!);
const wav = (name: string, x: Float32Array, rate = SR) => writeWavFile(join(dir, name), { sampleRate: rate, channels: [x] }, { format: 'float32' }).then(() => join(dir, name));

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e: any) {
    assert.is(e?.name, 'EarshotError', String(e));
    assert.is(e.code, code, e.message);
    assert.match(e.message, re);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

function captured<T>(fn: () => Promise<T>): Promise<{ value: T; out: string; err: string }> {
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as never;
  process.stderr.write = ((s: string) => ((err += s), true)) as never;
  return fn().then(
    (value) => {
      process.stdout.write = ow;
      process.stderr.write = ew;
      return { value, out, err };
    },
    (e) => {
      process.stdout.write = ow;
      process.stderr.write = ew;
      throw e;
    },
  );
}

test('stems that sum to the mixture: no residual', async () => {
  const r = await loadStems(await wav('mix.wav', mix), { stems: { tone: await wav('a.wav', a), clicks: await wav('b.wav', b) } });
  assert.equal(r.names, ['tone', 'clicks']);
  assert.is(r.residualAdded, false);
  assert.ok(r.maxDifference <= 1e-4);
  assert.is(r.sampleRate, SR);
});

test('a missing stem becomes an explicit residual, and the sum holds', async () => {
  const r = await loadStems(join(dir, 'mix.wav'), { stems: { tone: join(dir, 'a.wav') } });
  assert.equal(r.names, ['tone', 'residual']);
  assert.is(r.residualAdded, true);
  let e = 0;
  let eb = 0;
  for (let i = 0; i < N; i++) {
    e = Math.max(e, Math.abs(r.sources[0]![i]! + r.sources[1]![i]! - mix[i]!));
    eb = Math.max(eb, Math.abs(r.sources[1]![i]! - b[i]!));
  }
  assert.ok(e < 1e-6, `sum error ${e}`);
  assert.ok(eb < 1e-6, `residual is the missing stem to ${eb}`);
});

test('folder of stems (the mixture itself skipped) and a stem at another rate, resampled', async () => {
  const sub = join(dir, 'folder');
  mkdirSync(sub);
  const a2 = new Float32Array(2 * N).map((_, i) => 0.4 * Math.sin((2 * Math.PI * 220 * i) / (2 * SR)));
  await writeWavFile(join(sub, 'tone.wav'), { sampleRate: 2 * SR, channels: [a2] }, { format: 'float32' });
  await writeWavFile(join(sub, 'clicks.wav'), { sampleRate: SR, channels: [b] }, { format: 'float32' });
  await writeWavFile(join(sub, 'mix.wav'), { sampleRate: SR, channels: [mix] }, { format: 'float32' });
  writeFileSync(join(sub, 'notes.txt'), 'not a stem');
  const r = await loadStems(join(sub, 'mix.wav'), { folder: sub });
  assert.equal(r.names.slice(0, 2), ['clicks', 'tone']);
  assert.equal(r.resampled, { tone: 2 * SR });
  for (const s of r.sources) assert.is(s.length, N);
  // resampling is not exact at the edges: whatever is left is a residual, so the sum still holds
  let e = 0;
  for (let i = 0; i < N; i++) e = Math.max(e, Math.abs(r.sources.reduce((s, x) => s + x[i]!, 0) - mix[i]!));
  assert.ok(e < 1e-5, `sum error ${e}`);
});

test('length mismatch beyond the tolerance names the file; a few samples are tolerated', async () => {
  const short = await wav('short.wav', a.subarray(0, N - SR / 10));
  await rejects(loadStems(join(dir, 'mix.wav'), { stems: { tone: short, clicks: join(dir, 'b.wav') } }), 'BAD_SHAPE', /short\.wav.*100\.0 ms shorter/);
  const nearly = await wav('nearly.wav', a.subarray(0, N - 3));
  const r = await loadStems(join(dir, 'mix.wav'), { stems: { tone: nearly, clicks: join(dir, 'b.wav') } });
  assert.is(r.sources[0]!.length, N);
});

test('corrupt and missing stems name the file; bad names and options are named', async () => {
  writeFileSync(join(dir, 'corrupt.wav'), new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4, 5, 6]));
  const mixPath = join(dir, 'mix.wav');
  try {
    await loadStems(mixPath, { stems: { x: join(dir, 'corrupt.wav') } });
    assert.unreachable('corrupt stem accepted');
  } catch (e: any) {
    assert.is(e.name, 'EarshotError');
    assert.match(e.message, /corrupt\.wav/);
  }
  await rejects(loadStems(mixPath, { stems: { x: join(dir, 'nope.wav') } }), 'FILE_NOT_FOUND', /nope\.wav/);
  // a rate the resampler cannot reach from the mixture's (ratio beyond MAX_RESAMPLE_FACTOR)
  const odd = await wav('odd-rate.wav', new Float32Array(10), 100003);
  try {
    await loadStems(mixPath, { stems: { x: odd } });
    assert.unreachable('impossible rate accepted');
  } catch (e: any) {
    assert.is(e.name, 'EarshotError');
    assert.match(e.message, /odd-rate\.wav.*100003 Hz/);
  }
  await rejects(loadStems(mixPath, { stems: { residual: join(dir, 'a.wav') } }), 'BAD_ARGUMENT', /residual.*reserved/);
  await rejects(loadStems(mixPath, { stems: { '1bad': join(dir, 'a.wav') } }), 'BAD_ARGUMENT', /stem name/);
  await rejects(loadStems(mixPath, { stems: {}, folder: dir }), 'BAD_ARGUMENT', /exactly one/);
  await rejects(loadStems(mixPath, { stems: { a: join(dir, 'a.wav') }, bogus: 1 } as never), 'BAD_ARGUMENT', /bogus/);
  await rejects(loadStems(mixPath, { folder: join(dir, 'missing-folder') }), 'FILE_NOT_FOUND', /missing-folder/);
  throwsCode(() => reconcileStems(mix, [{ name: 'a', signal: new Float64Array(N) as never }], { sampleRate: SR }), 'BAD_ARGUMENT', /stem 'a'/);
  throwsCode(() => reconcileStems(mix, [{ name: 'a', signal: a }, { name: 'a', signal: b }], { sampleRate: SR }), 'BAD_ARGUMENT', /twice/);
  throwsCode(() => reconcileStems(mix, [{ name: 'a', signal: a }], { sampleRate: SR, tolerance: -1 }), 'BAD_ARGUMENT', /tolerance/);
});

test('earshot separate --method hpss writes one float32 WAV per source that sum to the mixture', async () => {
  const out = join(dir, 'out-hpss');
  const { value, out: stdout } = await captured(() => separateCommand([join(dir, 'mix.wav'), '--method', 'hpss', '--margin', '2', '--out', out]));
  assert.is(value, 0);
  const paths = stdout.trim().split('\n');
  assert.equal(paths, ['harmonic', 'percussive', 'residual'].map((n) => join(out, `mix.${n}.wav`)));
  const decoded = paths.map((p) => decodeWav(readFileSync(p), p));
  for (const d of decoded) assert.is(d.sampleRate, SR);
  let e = 0;
  for (let i = 0; i < N; i++) e = Math.max(e, Math.abs(decoded.reduce((s, d) => s + d.channels[0]![i]!, 0) - mix[i]!));
  assert.ok(e < 1e-4, `sum error ${e}`);
});

test('earshot separate --stems says when it added a residual; usage errors are named', async () => {
  const out = join(dir, 'out-stems');
  const { out: stdout, err } = await captured(() => separateCommand([join(dir, 'mix.wav'), '--stems', `tone=${join(dir, 'a.wav')}`, '--out', out]));
  assert.equal(stdout.trim().split('\n'), [join(out, 'mix.tone.wav'), join(out, 'mix.residual.wav')]);
  assert.match(err, /residual/);
  const mixPath = join(dir, 'mix.wav');
  await rejects(separateCommand([mixPath]), 'BAD_USAGE', /--method/);
  await rejects(separateCommand([mixPath, '--method', 'ica']), 'BAD_USAGE', /--method/);
  await rejects(separateCommand([mixPath, '--method', 'hpss', '--components', '3']), 'BAD_USAGE', /--components/);
  await rejects(separateCommand([mixPath, '--method', 'nmf', '--beta', 'x']), 'BAD_USAGE', /--beta/);
  await rejects(separateCommand([mixPath, '--method', 'nmf', '--beta', '3']), 'BAD_ARGUMENT', /beta/);
  await rejects(separateCommand([mixPath, '--stems', 'tone']), 'BAD_USAGE', /name=file/);
  await rejects(separateCommand([mixPath, '--method', 'hpss', '--stems', `t=${join(dir, 'a.wav')}`]), 'BAD_USAGE', /not both/);
  await rejects(separateCommand([mixPath, '--bogus']), 'BAD_USAGE', /bogus/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
