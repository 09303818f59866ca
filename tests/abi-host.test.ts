/**
 * The core as a library for other hosts: docs/abi.md is what scripts/abi-doc.mjs generates from
 * the current build (every export documented, with its wasm type), and the Python host of
 * examples/python/logmel.py (wasmtime) computes the same log-mel spectrogram as earshot in Node,
 * bit for bit. The Python test is skipped, with a message, where that host is not installed
 * (`bash examples/python/install.sh` installs it).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coreBytes } from '../bindings/wasm.ts';
import { loadMono } from '../src/audio/node.ts';
import { encodeWav } from '../src/audio/wav.ts';
import { FrontEnd } from '../src/frontend/index.ts';
import { ROOT } from './helpers.ts';

test('docs/abi.md is up to date with build/earshot.wasm (node scripts/abi-doc.mjs --check)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'abi-doc.mjs'), '--check'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test('docs/abi.md has a row for every function the core exports, with its wasm type, and names its stability', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'abi.md'), 'utf8');
  const exps = WebAssembly.Module.exports(new WebAssembly.Module(coreBytes()));
  for (const e of exps) {
    if (e.kind === 'memory') continue;
    assert.match(doc, new RegExp(`^\\| \`${e.name}\` \\| \`\\(.*\\)[^|]*\` \\| \`\\([^|]*\\) → [^|]*\` \\|`, 'm'), `row of ${e.name}`);
  }
  assert.match(doc, /Who allocates and frees: the host, always/);
  assert.match(doc, /### fft \(assembly\/fft\.ts\) — stable/);
});

/** A Python with numpy + wasmtime: $EARSHOT_PYTHON_WASMTIME, the example's venv, or Debian's python3. */
function pythonHost(): string | null {
  const candidates = [process.env.EARSHOT_PYTHON_WASMTIME, join(ROOT, 'build', 'pyenv-examples', 'bin', 'python'), '/usr/bin/python3'].filter((p): p is string => !!p && existsSync(p));
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import numpy, wasmtime'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

const py = pythonHost();
if (!py) {
  console.log('\n  [abi-host] SKIPPED: no Python with numpy + wasmtime (run `bash examples/python/install.sh`); examples/python/logmel.py was not checked against Node\n');
} else {
  test('examples/python/logmel.py (wasmtime) computes the log-mel of lena-sung.wav exactly as earshot in Node', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'earshot-abi-'));
    try {
      const out = join(tmp, 'logmel.f32');
      const wav = join(ROOT, 'assets', 'lena-sung.wav');
      const r = spawnSync(py, [join(ROOT, 'examples', 'python', 'logmel.py'), wav, '--wasm', join(ROOT, 'build', 'earshot.wasm'), '--out', out], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      assert.match(r.stdout, /856 frames × 80 mel bands/);
      const b = readFileSync(out);
      const fromPython = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      const fe = new FrontEnd();
      const lm = fe.logMel(await loadMono(wav, fe.config.sampleRate));
      assert.is(fromPython.length, lm.data.length);
      let diff = 0;
      for (let i = 0; i < lm.data.length; i++) if (!Object.is(fromPython[i], lm.data[i])) diff++;
      assert.is(diff, 0, `${diff} of ${lm.data.length} values differ`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('examples/python/logmel.py refuses a WAV at another rate, naming the rate', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'earshot-abi-'));
    try {
      const f = join(tmp, 'a44k.wav');
      writeFileSync(f, encodeWav({ sampleRate: 44100, channels: [new Float32Array(4096).fill(0.25)] }));
      const r = spawnSync(py, [join(ROOT, 'examples', 'python', 'logmel.py'), f], { encoding: 'utf8' });
      assert.is(r.status, 1);
      assert.match(r.stderr, /a44k\.wav is at 44100 Hz; this example expects 22050 Hz/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test.run();
