// Mel filterbanks, applyMel, logFloor, zscore (bindings/mel.ts) against the NumPy references of
// scripts/fixtures/make_mel_fixtures.py (methods.md §1 written from the text; librosa's formulas)
// and analytic properties.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { melFilterbank, applyMel, logFloor, zscore, frameCount } from '../bindings/mel.ts';
import { core } from '../bindings/wasm.ts';
import { readF32, readJSON, maxAbsErr, throwsCode, fixturePath, ROOT } from './helpers.ts';
import { readFileSync, mkdtempSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '../src/render/npy.ts';
import { melCommand } from '../src/cli/commands/mel.ts';
import { demoCommand } from '../src/cli/commands/demo.ts';
import { loadMono } from '../src/audio/node.ts';
import { FrontEnd } from '../src/frontend/index.ts';

const index = readJSON<Record<string, any>>('mel/index.json');
const fx = (name: string) => readF32(`mel/${index[name].file}`);
const SVD = { sampleRate: 22050, nFft: 1024, nMels: 80, fMin: 27.5, fMax: 8000 } as const;

/** max |a − b| relative to the largest |b| (filter weights span orders of magnitude near zero). */
function relToMax(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (const v of b) m = Math.max(m, Math.abs(v));
  return maxAbsErr(a, b) / m;
}

test('the svd filterbank of methods.md §1 (80 × 372 used bins) matches the NumPy text-book version', () => {
  const fb = melFilterbank({ ...SVD, scale: 'htk', construction: 'svd', norm: 'sum', nBinsUsed: 372 });
  assert.is(fb.length, 80 * 372);
  const ref = fx('svd_fb');
  assert.ok(relToMax(fb, ref) < 1e-6, `rel err ${relToMax(fb, ref)}`);
  // same support, bin for bin: searchsorted-left peak bins must agree exactly
  for (let i = 0; i < fb.length; i++) assert.is(fb[i] !== 0, ref[i] !== 0, `support differs at ${i}`);
});

test('each svd filter sums to 1 and vanishes above bin 372 (= 513·2·8000 // 22050)', () => {
  const fb = melFilterbank({ ...SVD });
  const nBins = 513;
  assert.is(fb.length, 80 * nBins);
  for (let b = 0; b < 80; b++) {
    let s = 0;
    for (let k = 0; k < nBins; k++) s += fb[b * nBins + k]!;
    assert.ok(Math.abs(s - 1) < 1e-6, `filter ${b} sums to ${s}`);
    for (let k = 372; k < nBins; k++) assert.is(fb[b * nBins + k], 0);
  }
});

test('svd construction with the Slaney scale and no normalisation matches NumPy', () => {
  const m = index.svd_slaney_none_fb;
  const fb = melFilterbank({ sampleRate: m.sampleRate, nFft: m.nFft, nMels: m.nMels, fMin: m.fMin, fMax: m.fMax, scale: 'slaney', construction: 'svd', norm: 'none' });
  assert.ok(relToMax(fb, fx('svd_slaney_none_fb')) < 1e-6);
});

for (const name of ['lib_htk_area_fb', 'lib_slaney_area_fb', 'lib_slaney_sum_fb']) {
  test(`librosa-style filterbank ${name} matches librosa's formulas in NumPy`, () => {
    const m = index[name];
    const fb = melFilterbank({ sampleRate: m.sampleRate, nFft: m.nFft, nMels: m.nMels, fMin: m.fMin, fMax: m.fMax, scale: m.scale, construction: 'librosa', norm: m.norm });
    const ref = fx(name);
    assert.is(fb.length, ref.length);
    const e = relToMax(fb, ref);
    assert.ok(e < 1e-6, `${name}: rel err ${e}`);
  });
}

test('a pure tone lands in the mel bands whose filters cover its bin', () => {
  const fb = melFilterbank({ ...SVD, nBinsUsed: 372 });
  const k0 = 100; // ≈ 2153 Hz
  const mag = new Float32Array(2 * 372);
  mag[k0] = 1; // frame 0: a tone in bin 100
  mag[372 + 5] = 2; // frame 1: a tone in bin 5
  const mel = applyMel(mag, 2, fb, { nMels: 80 });
  for (let b = 0; b < 80; b++) {
    assert.ok(Math.abs(mel[b]! - fb[b * 372 + k0]!) < 1e-7);
    assert.ok(Math.abs(mel[80 + b]! - 2 * fb[b * 372 + 5]!) < 1e-7);
  }
  const bands = [...mel.subarray(0, 80)].map((v, b) => (v > 0 ? b : -1)).filter((b) => b >= 0);
  assert.ok(bands.length >= 1 && bands.length <= 2, `bands ${bands}`);
  assert.ok(bands.every((b, i) => i === 0 || b === bands[i - 1]! + 1), 'adjacent bands');
});

test('applyMel on real magnitudes (513 bins, 372 used) matches NumPy mag[:, :372] @ FB', () => {
  const mag = fx('fe_mag');
  const ref = fx('fe_mag_mel');
  const fb = melFilterbank({ ...SVD });
  const mel = applyMel(mag, 6, fb, { nMels: 80, nBinsUsed: 372 });
  assert.ok(relToMax(mel, ref) < 1e-6);
  let worst = 0;
  for (let i = 0; i < mel.length; i++) worst = Math.max(worst, Math.abs(mel[i]! - ref[i]!) / ref[i]!);
  assert.ok(worst < 1e-5, `elementwise rel ${worst}`);
});

test('applyMel with arbitrary sparse filters, supports at the last bins, and fewer than 4 bins', () => {
  for (const [nBins, nBinsUsed] of [[9, 9], [9, 7], [3, 3], [5, 2]] as const) {
    const nMels = 5;
    const nFrames = 3;
    const fb = new Float32Array(nMels * nBins);
    // filter b: non-zero on a few bins, the last filter ends at the last bin
    for (let b = 0; b < nMels; b++) for (let k = 0; k < nBins; k++) if ((k + b) % 3 !== 0 || k === nBins - 1) fb[b * nBins + k] = (b + 1) * 0.5 + k * 0.25;
    fb.fill(0, 2 * nBins, 3 * nBins); // an all-zero filter
    const mag = new Float32Array(nFrames * nBins).map((_, i) => ((i * 7) % 5) + 0.5);
    const mel = applyMel(mag, nFrames, fb, { nMels, nBinsUsed });
    for (let t = 0; t < nFrames; t++) {
      for (let b = 0; b < nMels; b++) {
        let s = 0;
        for (let k = 0; k < nBinsUsed; k++) s += fb[b * nBins + k]! * mag[t * nBins + k]!;
        assert.ok(Math.abs(mel[t * nMels + b]! - s) <= 1e-5 * Math.max(1, s), `nBins ${nBins} used ${nBinsUsed} t ${t} b ${b}: ${mel[t * nMels + b]} vs ${s}`);
      }
    }
  }
});

test('logFloor: ln of values above the floor, ln(floor) below it', () => {
  const x = new Float32Array([1, Math.E, 1e-9, 0, 1e-7, 123.456, 3e-5, 7, 0.5, 1e30, 2e-38]);
  const y = logFloor(x, 1e-7);
  const expect = [...x].map((v) => Math.log(Math.max(v, Math.fround(1e-7))));
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(y[i]! - expect[i]!) <= 2e-7 * Math.max(1, Math.abs(expect[i]!)), `${x[i]}: ${y[i]} vs ${expect[i]}`);
  assert.is(y[2], y[3]);
  // accuracy over a sweep of magnitudes (the SIMD log polynomial)
  const n = 4099;
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = Math.fround(Math.exp(-20 + (40 * i) / n));
  const ys = logFloor(xs, 1e-30);
  for (let i = 0; i < n; i++) {
    const e = Math.log(xs[i]!);
    assert.ok(Math.abs(ys[i]! - e) <= 3e-7 * Math.max(1, Math.abs(e)), `log(${xs[i]}) = ${ys[i]} vs ${e}`);
  }
});

test('zscore matches the NumPy fixture and gives each band mean 0 / std 1 on its own statistics', () => {
  const logmel = fx('fe_logmel');
  const nFrames = index.fe_logmel.shape[0];
  const z = zscore(logmel, nFrames, fx('fe_mean'), fx('fe_std'));
  assert.ok(maxAbsErr(z, fx('fe_z')) < 1e-5);
  const mean = new Float32Array(80);
  const std = new Float32Array(80);
  for (let b = 0; b < 80; b++) {
    let s = 0;
    for (let t = 0; t < nFrames; t++) s += logmel[t * 80 + b]!;
    const m = s / nFrames;
    let v = 0;
    for (let t = 0; t < nFrames; t++) v += (logmel[t * 80 + b]! - m) ** 2;
    mean[b] = m;
    std[b] = Math.sqrt(v / nFrames);
  }
  const z2 = zscore(logmel, nFrames, mean, std);
  for (let b = 0; b < 80; b++) {
    let s = 0, v = 0;
    for (let t = 0; t < nFrames; t++) s += z2[t * 80 + b]!;
    for (let t = 0; t < nFrames; t++) v += (z2[t * 80 + b]! - s / nFrames) ** 2;
    assert.ok(Math.abs(s / nFrames) < 1e-5 && Math.abs(Math.sqrt(v / nFrames) - 1) < 1e-5, `band ${b}`);
  }
});

test('frameCount follows (n − nFft) // hop + 1, none below one frame', () => {
  assert.is(frameCount(44100, 1024, 315), 137);
  assert.is(frameCount(1023, 1024, 315), 0);
  assert.is(frameCount(1024, 1024, 315), 1);
  assert.is(frameCount(22050 * 30, 1024, 315), 2097);
});

test('bad inputs: melFilterbank options are validated by name', () => {
  throwsCode(() => melFilterbank(null as any), 'BAD_ARGUMENT', /options object/);
  throwsCode(() => melFilterbank({ ...SVD, sampleRate: 0 }), 'BAD_ARGUMENT', /sampleRate/);
  throwsCode(() => melFilterbank({ ...SVD, sampleRate: NaN }), 'BAD_ARGUMENT', /sampleRate/);
  throwsCode(() => melFilterbank({ ...SVD, nFft: 1023 }), 'BAD_ARGUMENT', /nFft must be even/);
  throwsCode(() => melFilterbank({ ...SVD, nFft: -4 }), 'BAD_ARGUMENT', /nFft/);
  throwsCode(() => melFilterbank({ ...SVD, nMels: 0 }), 'BAD_ARGUMENT', /nMels/);
  throwsCode(() => melFilterbank({ ...SVD, nMels: 2.5 }), 'BAD_ARGUMENT', /nMels/);
  throwsCode(() => melFilterbank({ ...SVD, fMin: 9000 }), 'BAD_ARGUMENT', /fMin \(9000\) must be < fMax/);
  throwsCode(() => melFilterbank({ ...SVD, fMin: -1 }), 'BAD_ARGUMENT', /fMin/);
  throwsCode(() => melFilterbank({ ...SVD, fMax: 12000 }), 'BAD_ARGUMENT', /fMax.*11025/);
  throwsCode(() => melFilterbank({ ...SVD, scale: 'bark' as any }), 'BAD_ARGUMENT', /scale must be one of 'htk', 'slaney'/);
  throwsCode(() => melFilterbank({ ...SVD, construction: 'x' as any }), 'BAD_ARGUMENT', /construction/);
  throwsCode(() => melFilterbank({ ...SVD, norm: 'l2' as any }), 'BAD_ARGUMENT', /norm/);
  throwsCode(() => melFilterbank({ ...SVD, nBinsUsed: 514 }), 'BAD_ARGUMENT', /nBinsUsed.*513/);
  throwsCode(() => melFilterbank({ ...SVD, nMel: 80 } as any), 'BAD_ARGUMENT', /unknown option 'nMel'/);
});

test('bad inputs: applyMel, logFloor, zscore', () => {
  const fb = melFilterbank({ ...SVD, nBinsUsed: 372 });
  const mag = new Float32Array(372 * 2);
  throwsCode(() => applyMel([1, 2] as any, 1, fb, { nMels: 80 }), 'BAD_ARGUMENT', /mag must be a Float32Array, got Array/);
  throwsCode(() => applyMel(mag, 0, fb, { nMels: 80 }), 'BAD_ARGUMENT', /nFrames/);
  throwsCode(() => applyMel(mag, 5, fb, { nMels: 80 }), 'BAD_SHAPE', /not a multiple of nFrames = 5/);
  throwsCode(() => applyMel(mag, 2, fb, { nMels: 7 }), 'BAD_SHAPE', /not a multiple of nMels = 7/);
  throwsCode(() => applyMel(new Float32Array(513 * 2), 2, fb, { nMels: 80 }), 'BAD_SHAPE', /513 bins but fb rows 372/);
  throwsCode(() => applyMel(mag, 2, fb, { nMels: 80, nBinsUsed: 400 }), 'BAD_ARGUMENT', /nBinsUsed/);
  throwsCode(() => applyMel(mag, 2, fb, { nMels: 80, foo: 1 } as any), 'BAD_ARGUMENT', /unknown option 'foo'/);
  const bad = mag.slice();
  bad[400] = NaN;
  throwsCode(() => applyMel(bad, 2, fb, { nMels: 80 }), 'NOT_FINITE', /mag\[400\] is NaN/);
  const badFb = fb.slice();
  badFb[3] = Infinity;
  throwsCode(() => applyMel(mag, 2, badFb, { nMels: 80 }), 'NOT_FINITE', /fb\[3\]/);
  throwsCode(() => logFloor(new Float32Array(3), 0), 'BAD_ARGUMENT', /floor/);
  throwsCode(() => logFloor(new Float32Array(3), -1), 'BAD_ARGUMENT', /floor/);
  throwsCode(() => logFloor(new Float32Array(3), NaN), 'BAD_ARGUMENT', /floor/);
  throwsCode(() => logFloor(new Float64Array(3) as any, 1e-7), 'BAD_ARGUMENT', /x must be a Float32Array/);
  throwsCode(() => logFloor(new Float32Array([1, 2, 3, 4, 5, NaN]), 1e-7), 'NOT_FINITE', /x\[5\] is NaN/);
  assert.is(logFloor(new Float32Array(0), 1e-7).length, 0);
  const mean = new Float32Array(4);
  const std = new Float32Array(4).fill(1);
  throwsCode(() => zscore(new Float32Array(9), 2, mean, std), 'BAD_SHAPE', /2 × 4 = 8 values, got 9/);
  throwsCode(() => zscore(new Float32Array(8), 2, mean, new Float32Array(3)), 'BAD_SHAPE', /std must have 4/);
  throwsCode(() => zscore(new Float32Array(8), 2, mean, new Float32Array([1, 1, 0, 1])), 'BAD_ARGUMENT', /std\[2\] is 0/);
  throwsCode(() => zscore(new Float32Array(8), 2, mean, new Float32Array([1, 1, Infinity, 1])), 'BAD_ARGUMENT', /std\[2\] is Infinity/);
  throwsCode(() => zscore(new Float32Array(8), 2, new Float32Array([0, NaN, 0, 0]), std), 'NOT_FINITE', /mean\[1\]/);
  throwsCode(() => zscore(new Float32Array([0, 0, 0, 0, 0, 0, 0, -Infinity]), 2, mean, std), 'NOT_FINITE', /x\[7\]/);
  throwsCode(() => frameCount(-1, 1024, 315), 'BAD_ARGUMENT', /n/);
});

test('no arena memory leaks across the bindings', () => {
  const before = core().arena.liveBytes;
  const fb = melFilterbank({ ...SVD, nBinsUsed: 372 });
  applyMel(new Float32Array(372 * 3), 3, fb, { nMels: 80 });
  logFloor(new Float32Array(10), 1e-7);
  try {
    applyMel(new Float32Array([NaN, ...new Float32Array(371)]), 1, fb, { nMels: 80 });
  } catch {
    /* expected */
  }
  assert.is(core().arena.liveBytes, before);
});

/** A hand-written .npy v1.0 reader: magic, version, header dict, then little-endian f32 data. */
function parseNpy(buf: Uint8Array): { shape: number[]; data: Float32Array; headerLen: number } {
  assert.equal([...buf.subarray(0, 8)], [0x93, 78, 85, 77, 80, 89, 1, 0], 'magic + version 1.0');
  const hl = buf[8]! | (buf[9]! << 8);
  assert.is((10 + hl) % 64, 0, 'data aligned to 64 bytes');
  const header = new TextDecoder('latin1').decode(buf.subarray(10, 10 + hl));
  assert.ok(header.endsWith('\n'));
  assert.match(header, /'descr': '<f4'/);
  assert.match(header, /'fortran_order': False/);
  const m = header.match(/'shape': \(([^)]*)\)/)!;
  const shape = m[1]!.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  const body = buf.slice(10 + hl);
  return { shape, data: new Float32Array(body.buffer, 0, body.length / 4), headerLen: hl };
}

test('encodeNpy writes exactly what numpy.save writes (3 × 80 float32)', () => {
  const ref = new Uint8Array(readFileSync(fixturePath('mel', 'npy_3x80.npy')));
  const a = new Float32Array(240).map((_, i) => Math.fround(Math.fround(i / 7) - 5) /* float32 arithmetic, as NumPy did */);
  const ours = encodeNpy(a, [3, 80]);
  assert.equal([...ours.subarray(0, 128)], [...ref.subarray(0, 128)]);
  assert.is(Buffer.compare(Buffer.from(ours), Buffer.from(ref)), 0);
  assert.equal(parseNpy(encodeNpy(new Float32Array(5), [5])).shape, [5]);
  throwsCode(() => encodeNpy(new Float32Array(5), [2, 3]), 'BAD_SHAPE', /holds 6 values, data has 5/);
  throwsCode(() => encodeNpy(new Float32Array(5), []), 'BAD_ARGUMENT', /shape/);
});

const wav = join(ROOT, 'assets', 'lena-sung.wav');

test('earshot mel writes the log-mel (frames × 80, before z-scoring) as .npy and .json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-mel-'));
  try {
    const npy = join(dir, 'sub', 'lena.npy');
    assert.is(await melCommand([wav, '--out', npy]), 0);
    const parsed = parseNpy(new Uint8Array(readFileSync(npy)));
    const fe = new FrontEnd();
    const expect = fe.logMel(await loadMono(wav, 22050));
    assert.equal(parsed.shape, [expect.nFrames, 80]);
    assert.ok(maxAbsErr(parsed.data, expect.data) === 0);
    const js = join(dir, 'lena.json');
    assert.is(await melCommand([wav, '-o', js]), 0);
    const j = JSON.parse(readFileSync(js, 'utf8'));
    assert.equal(j.shape, [expect.nFrames, 80]);
    assert.is(j.data.length, expect.nFrames * 80);
    assert.is(j.data[81], expect.data[81]);
    assert.is(j.frontEnd.hop, 315);
    // no temporary files left behind
    assert.equal(readdirSync(dir).sort(), ['lena.json', 'sub']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('earshot mel: clear errors, and a failed write leaves no file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-mel-'));
  const rejects = async (p: Promise<unknown>, code: string, re: RegExp) => {
    try {
      await p;
    } catch (e: any) {
      assert.is(e.code, code, e.message);
      assert.match(e.message, re);
      return;
    }
    assert.unreachable('expected a rejection');
  };
  try {
    await rejects(melCommand([join(dir, 'missing.wav'), '--out', join(dir, 'x.npy')]), 'FILE_NOT_FOUND', /missing\.wav/);
    await rejects(melCommand([wav, '--out', join(dir, 'x.csv')]), 'BAD_USAGE', /\.npy or \.json/);
    await rejects(melCommand([wav]), 'BAD_USAGE', /--out/);
    await rejects(melCommand(['--out', join(dir, 'x.npy')]), 'BAD_USAGE', /exactly one input/);
    await rejects(melCommand([wav, '--bogus', '--out', join(dir, 'x.npy')]), 'BAD_USAGE', /bogus/);
    const notWav = join(dir, 'n.wav');
    writeFileSync(notWav, 'this is not a wav file at all, just text');
    await rejects(melCommand([notWav, '--out', join(dir, 'x.npy')]), 'WAV_NOT_RIFF', /n\.wav: not a WAV file/);
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    await rejects(melCommand([wav, '--out', join(blocker, 'y.npy')]), 'FILE_WRITE', /y\.npy/);
    assert.equal(readdirSync(dir).sort(), ['file', 'n.wav']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('earshot demo renders the sung example to a PNG', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-demo-'));
  try {
    const out = join(dir, 'demo.png');
    const log = console.log;
    let printed = '';
    console.log = (s: string) => (printed += s);
    try {
      assert.is(await demoCommand(['--out', out]), 0);
    } finally {
      console.log = log;
    }
    assert.ok(existsSync(out));
    assert.is(printed, out);
    const png = readFileSync(out);
    assert.equal([...png.subarray(12, 16)].map((c) => String.fromCharCode(c)).join(''), 'IHDR');
    assert.is(png.readUInt32BE(20), 80 * 2); // height = 80 bands × scale 2
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
