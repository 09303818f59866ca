/**
 * src/audio: WAV decoding against files written by independent tools (SoX, scipy.io.wavfile,
 * Python's wave; scripts/fixtures/make_audio_fixtures.py), refusals of damaged/unsupported
 * files, encoding round trips, mixdown, and the Node file helpers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav, encodeWav, mixdown, resample } from '../src/audio/index.ts';
import { readWavFile, writeWavFile, loadMono } from '../src/audio/node.ts';
import { fixturePath, readF32, readJSON, throwsCode, maxAbsErr } from './helpers.ts';

const desc = readJSON('audio/fixtures.json');
const wavBytes = (name: string) => new Uint8Array(readFileSync(fixturePath('audio', name)));

for (const [name, c] of Object.entries<any>(desc.decode)) {
  test(`decodes ${name} (${c.tool}) to the generator's samples exactly`, () => {
    const w = decodeWav(wavBytes(`${name}.wav`), name);
    assert.is(w.sampleRate, c.sampleRate);
    assert.is(w.channels.length, c.channels);
    assert.is(w.format, c.format);
    assert.is(w.truncated, !!c.truncated);
    const expected = readF32(`audio/${c.expected}`);
    for (let ch = 0; ch < c.channels; ch++) {
      assert.is(w.channels[ch]!.length, c.frames);
      assert.is(maxAbsErr(w.channels[ch]!, expected.subarray(ch * c.frames, (ch + 1) * c.frames)), 0, `channel ${ch}`);
    }
  });
}

test('a truncated data chunk decodes its whole frames and says so', () => {
  const w = decodeWav(wavBytes('truncated_data.wav'), 'cut.wav');
  assert.ok(w.truncated);
  assert.is(w.warnings.length, 1);
  assert.match(w.warnings[0]!, /cut\.wav: truncated: the data chunk declares 400 bytes but only 101 are present; decoded the first 50 frames/);
  const clean = decodeWav(wavBytes('pcm16_mono.wav'));
  assert.not.ok(clean.truncated);
  assert.equal(clean.warnings, []);
});

for (const [name, c] of Object.entries<any>(desc.refuse)) {
  test(`refuses ${name} with ${c.code}, naming the file and the problem`, () => {
    throwsCode(() => decodeWav(wavBytes(name), `some/dir/${name}`), c.code, new RegExp(c.message));
    throwsCode(() => decodeWav(wavBytes(name), `some/dir/${name}`), c.code, new RegExp(`^some/dir/${name.replace(/\./g, '\\.')}: `));
  });
}

test('decodeWav rejects what is not bytes', () => {
  throwsCode(() => decodeWav('RIFF' as unknown as Uint8Array, 'x.wav'), 'BAD_ARGUMENT', /x\.wav: decodeWav expects a Uint8Array, got string/);
  throwsCode(() => decodeWav(null as unknown as Uint8Array), 'BAD_ARGUMENT', /got null/);
});

test('decodeWav reads a view into a larger buffer (byteOffset ≠ 0)', () => {
  const b = wavBytes('pcm16_stereo.wav');
  const big = new Uint8Array(b.length + 7);
  big.set(b, 3);
  const w = decodeWav(big.subarray(3, 3 + b.length));
  const ref = decodeWav(b);
  assert.equal(w.channels, ref.channels);
});

/** A seeded LCG in [0, 1): deterministic test signals without Math.random. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('encodeWav → decodeWav is bit-exact for PCM16 values (k / 32768) and for float32', () => {
  const r = lcg(1);
  const n = 1000;
  const pcm = [0, 1].map(() => Float32Array.from({ length: n }, () => (Math.floor(r() * 65536) - 32768) / 32768));
  pcm[0]![0] = -1;
  pcm[0]![1] = 32767 / 32768;
  const back = decodeWav(encodeWav({ sampleRate: 22050, channels: pcm }));
  assert.is(back.format, 'pcm16');
  assert.is(back.sampleRate, 22050);
  assert.equal(back.channels, pcm);
  const fl = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => (r() - 0.5) * 5)); // beyond ±1 survives in float
  fl[1]![0] = 1e-30;
  const backF = decodeWav(encodeWav({ sampleRate: 48000, channels: fl }, { format: 'float32' }));
  assert.is(backF.format, 'float32');
  assert.equal(backF.channels, fl);
});

test('PCM24 and PCM32 round trips are exact on their own grids', () => {
  const r = lcg(2);
  for (const [format, bits] of [['pcm24', 24], ['pcm32', 32]] as const) {
    const full = 2 ** (bits - 1);
    // float32 holds 24 significant bits, so PCM32 codes with more bits are not representable; use multiples of 2^8.
    const step = bits === 32 ? 256 : 1;
    const ch = Float32Array.from({ length: 500 }, () => (Math.floor((r() * 2 - 1) * (full / step)) * step) / full);
    ch[0] = -1;
    const back = decodeWav(encodeWav({ sampleRate: 8000, channels: [ch] }, { format }));
    assert.is(back.format, format);
    assert.equal(back.channels[0], ch);
  }
});

test('PCM encoding rounds to nearest (ties away from zero) and clips to the integer range', () => {
  const q = 1 / 32768;
  const x = Float32Array.from([1, -1, 1.5, -1.5, 0.5 * q, -0.5 * q, 1.5 * q, -1.5 * q, 0.49 * q, 32767.5 * q]);
  const y = decodeWav(encodeWav({ sampleRate: 8000, channels: [x] })).channels[0]!;
  const want = [32767, -32768, 32767, -32768, 1, -1, 2, -2, 0, 32767].map((k) => k * q);
  assert.equal(Array.from(y), want);
});

test('encodeWav writes the canonical 44-byte PCM header and an even-padded data chunk', () => {
  const b = encodeWav({ sampleRate: 22050, channels: [new Float32Array(3)] });
  assert.is(b.length, 44 + 6);
  const dv = new DataView(b.buffer);
  assert.is(String.fromCharCode(...b.subarray(0, 4)), 'RIFF');
  assert.is(dv.getUint32(4, true), b.length - 8);
  assert.is(dv.getUint16(20, true), 1); // WAVE_FORMAT_PCM
  assert.is(dv.getUint32(28, true), 22050 * 2); // byte rate
  const odd = encodeWav({ sampleRate: 8000, channels: [new Float32Array(1)] }, { format: 'pcm24' });
  assert.is(new DataView(odd.buffer).getUint32(40, true), 3); // data size stays 3 …
  assert.is(odd.length, 44 + 3 + 1); // … with one pad byte after it
  assert.is(decodeWav(odd).channels[0]!.length, 1);
  const f = encodeWav({ sampleRate: 8000, channels: [new Float32Array(2)] }, { format: 'float32' });
  assert.is(new DataView(f.buffer).getUint16(20, true), 3); // WAVE_FORMAT_IEEE_FLOAT
  assert.is(String.fromCharCode(...f.subarray(38, 42)), 'fact');
});

test('encodeWav validates its input and options', () => {
  const ok = new Float32Array(4);
  throwsCode(() => encodeWav({ sampleRate: 8000, channels: [Float32Array.from([0, NaN])] }), 'NOT_FINITE', /channels\[0\]\[1\] is NaN/);
  throwsCode(() => encodeWav({ sampleRate: 8000, channels: [ok, new Float32Array(3)] }), 'BAD_SHAPE', /channels\[1\] has 3 samples but channels\[0\] has 4/);
  throwsCode(() => encodeWav({ sampleRate: 0, channels: [ok] }), 'BAD_ARGUMENT', /sampleRate must be a positive integer/);
  throwsCode(() => encodeWav({ sampleRate: 44100.5, channels: [ok] }), 'BAD_ARGUMENT', /sampleRate/);
  throwsCode(() => encodeWav({ sampleRate: 8000, channels: [] }), 'BAD_ARGUMENT', /channels must be an array of 1–65535/);
  throwsCode(() => encodeWav({ sampleRate: 8000, channels: [new Float64Array(4) as unknown as Float32Array] }), 'BAD_ARGUMENT', /channels\[0\] must be a Float32Array, got Float64Array/);
  throwsCode(() => encodeWav(null as unknown as never), 'BAD_ARGUMENT', /audio must be/);
  throwsCode(() => encodeWav({ sampleRate: 8000, channels: [ok] }, { format: 'pcm8' as never }), 'BAD_ARGUMENT', /format must be one of 'pcm16', 'pcm24', 'pcm32', 'float32', got "pcm8"/);
  throwsCode(() => encodeWav({ sampleRate: 8000, channels: [ok] }, { fromat: 'pcm16' } as never), 'BAD_ARGUMENT', /unknown encodeWav option "fromat"/);
});

test('mixdown is the mean of the channels', () => {
  const a = Float32Array.from([1, 0.5, -1]);
  const b = Float32Array.from([0, 0.5, 0.5]);
  assert.equal(Array.from(mixdown([a, b])), [0.5, 0.5, -0.25]);
  assert.equal(mixdown([a, a, a]), a); // identical channels come back unchanged, not louder
  const m = mixdown([a]);
  assert.equal(m, a);
  assert.is.not(m, a); // a copy: the caller may modify it
  assert.is(mixdown([new Float32Array(0), new Float32Array(0)]).length, 0);
});

test('mixdown rejects bad channel lists', () => {
  throwsCode(() => mixdown([]), 'BAD_ARGUMENT', /at least one Float32Array channel, got an empty array/);
  throwsCode(() => mixdown(null as unknown as Float32Array[]), 'BAD_ARGUMENT', /got null/);
  throwsCode(() => mixdown([new Float32Array(2), new Float32Array(3)]), 'BAD_SHAPE', /channels\[1\] has 3 samples but channels\[0\] has 2/);
  throwsCode(() => mixdown([[1, 2] as unknown as Float32Array]), 'BAD_ARGUMENT', /channels\[0\] must be a Float32Array, got Array/);
});

test('writeWavFile writes atomically and leaves no temporary files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-audio-'));
  try {
    const p = join(dir, 'out.wav');
    writeFileSync(p, 'old contents');
    const ch = Float32Array.from([0.25, -0.5, 0.75]);
    await writeWavFile(p, { sampleRate: 16000, channels: [ch] }, { format: 'float32' });
    assert.equal(readdirSync(dir), ['out.wav']);
    const back = await readWavFile(p);
    assert.is(back.sampleRate, 16000);
    assert.equal(back.channels[0], ch);
    // A failing encode (NaN) must leave the previous file untouched.
    await writeWavFile(p, { sampleRate: 16000, channels: [Float32Array.from([NaN])] }).then(
      () => assert.unreachable('NaN should not be written'),
      (e) => assert.is(e.code, 'NOT_FINITE'),
    );
    assert.equal((await readWavFile(p)).channels[0], ch);
    assert.equal(readdirSync(dir), ['out.wav']);
    // A directory that does not exist: FILE_WRITE naming the path.
    const missing = join(dir, 'nope', 'x.wav');
    await writeWavFile(missing, { sampleRate: 8000, channels: [ch] }).then(
      () => assert.unreachable('should fail'),
      (e) => {
        assert.is(e.code, 'FILE_WRITE');
        assert.ok(e.message.includes(missing));
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readWavFile names the path of a missing or damaged file', async () => {
  const missing = join(tmpdir(), 'earshot-definitely-missing.wav');
  await readWavFile(missing).then(
    () => assert.unreachable('should fail'),
    (e) => {
      assert.is(e.code, 'FILE_NOT_FOUND');
      assert.ok(e.message.startsWith(missing));
    },
  );
  const bad = fixturePath('audio', 'mulaw.wav');
  await readWavFile(bad).then(
    () => assert.unreachable('should fail'),
    (e) => {
      assert.is(e.code, 'WAV_UNSUPPORTED_FORMAT');
      assert.ok(e.message.startsWith(bad));
      assert.match(e.message, /μ-law/);
    },
  );
});

test('loadMono mixes down and resamples to 22 050 Hz (stereo 44.1 kHz fixture)', async () => {
  const p = fixturePath('audio', 'pcm16_stereo.wav');
  const y = await loadMono(p);
  const w = decodeWav(wavBytes('pcm16_stereo.wav'));
  assert.is(y.length, Math.ceil(w.channels[0]!.length / 2));
  assert.equal(y, resample(mixdown(w.channels), 44100, 22050));
  const same = await loadMono(fixturePath('audio', 'float64_mono.wav')); // already 22 050 Hz: no resampling
  assert.equal(same, decodeWav(wavBytes('float64_mono.wav')).channels[0]);
  const at8k = await loadMono(p, 8000);
  assert.is(at8k.length, Math.ceil((200 * 8000) / 44100));
  await loadMono(p, 0).then(
    () => assert.unreachable('should fail'),
    (e) => assert.match(e.message, /sampleRate must be a positive integer/),
  );
});

test('real files from other writers (audio-lena: ffmpeg, Logic Pro, Audacity) decode to the package\'s raw float samples', () => {
  // Logic's file carries JUNK, LGWV and an odd-sized bext chunk (after data); Audacity's carries
  // fact, PEAK, LIST and id3. All three hold the same 16-bit-precision audio as lena.raw (float32).
  const dir = join(fixturePath('..', '..'), 'node_modules', 'audio-lena');
  const rb = readFileSync(join(dir, 'lena.raw'));
  const raw = new Float32Array(rb.buffer.slice(rb.byteOffset, rb.byteOffset + rb.byteLength));
  const decoded = (['lena.wav', 'logic/lena-24.wav', 'audacity/lena-32.wav'] as const).map((f) => {
    const w = decodeWav(new Uint8Array(readFileSync(join(dir, f))), f);
    assert.is(w.sampleRate, 44100);
    assert.is(w.channels.length, 1);
    assert.is(w.channels[0]!.length, raw.length);
    assert.ok(maxAbsErr(w.channels[0]!, raw) <= 1 / 32768, f);
    return w;
  });
  assert.equal(decoded.map((w) => w.format), ['pcm16', 'pcm24', 'float32']);
  assert.is(maxAbsErr(decoded[1]!.channels[0]!, decoded[0]!.channels[0]!), 0);
  assert.is(maxAbsErr(decoded[2]!.channels[0]!, decoded[0]!.channels[0]!), 0);
});

test('loadMono reports a truncated file through onWarning and still returns its audio', async () => {
  const seen: string[] = [];
  const y = await loadMono(fixturePath('audio', 'truncated_data.wav'), 8000, { onWarning: (m) => seen.push(m) });
  assert.is(y.length, 50);
  assert.is(seen.length, 1);
  assert.match(seen[0]!, /truncated_data\.wav: truncated/);
});

test('the example assets decode: mono, 22 050 Hz, 16-bit, a few seconds, not silent', () => {
  for (const name of ['lena-sung.wav', 'instrumental-loops.wav']) {
    const w = decodeWav(new Uint8Array(readFileSync(join(fixturePath('..', '..', 'assets'), name))), name);
    assert.is(w.sampleRate, 22050);
    assert.is(w.channels.length, 1);
    assert.is(w.format, 'pcm16');
    const secs = w.channels[0]!.length / 22050;
    assert.ok(secs > 5 && secs < 20, `${name}: ${secs} s`);
    let peak = 0;
    for (const v of w.channels[0]!) peak = Math.max(peak, Math.abs(v));
    assert.ok(peak > 0.1 && peak < 1, `${name}: peak ${peak}`);
  }
});

test.run();
