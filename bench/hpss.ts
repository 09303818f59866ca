/**
 * Issue 10 item 6: separation speed — HPSS of 30 s at 22 050 Hz (nFft 2048, hop 512, kernels 31,
 * power 2: librosa's defaults) by earshot's core (src/separate, median filters and masks in wasm)
 * against a NumPy/SciPy median-filter HPSS (bench/hpss_reference.py: scipy.ndimage.median_filter,
 * NumPy STFT/ISTFT), both end to end from the waveform to the two source waveforms, same signal,
 * same run; median of repeats. The signal: 30 s of a corpus mixture (or, without the corpus, a
 * synthetic tone + clicks + noise mix).
 *
 *   node --import tsx bench/hpss.ts [--repeats 5] [--wav corpus/test/song-0002/mix.wav]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMono } from '../src/audio/node.ts';
import { separate } from '../src/separate/index.ts';

const ROOT = join(import.meta.dirname, '..');
const argOf = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const repeats = Number(argOf('repeats', '5'));
const wav = argOf('wav', join(ROOT, 'corpus', 'test', 'song-0002', 'mix.wav'));
const SR = 22050;
const n = 30 * SR;
let x: Float32Array;
let what: string;
if (existsSync(wav)) {
  const s = await loadMono(wav, SR);
  x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = s[i % s.length]!; // a 27 s song is looped to 30 s
  what = `${wav.replace(ROOT + '/', '')} (looped to 30 s)`;
} else {
  x = new Float32Array(n).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / SR) + (i % 5512 === 0 ? 0.8 : 0) + 0.01 * Math.sin(i * 12.9898) * Math.sin(i * 78.233));
  what = 'a synthetic 440 Hz tone + clicks + noise';
}
separate(x.subarray(0, SR), SR, { method: 'hpss' }); // warm-up (plans, arena)
const ms: number[] = [];
let energy = [0, 0];
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  const out = separate(x, SR, { method: 'hpss' });
  ms.push(performance.now() - t0);
  energy = out.sources.map((s) => s.reduce((a, v) => a + v * v, 0));
}
ms.sort((a, b) => a - b);
const ours = ms[Math.floor(ms.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'earshot-hpss-bench-'));
let ref: { median: number; energy: number[]; ms: number[] };
try {
  writeFileSync(join(dir, 'x.f32'), new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'bench', 'hpss_reference.py'), join(dir, 'x.f32'), '--repeats', String(repeats)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hpss_reference.py failed: ${r.stderr}`);
  ref = JSON.parse(r.stdout);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(a, b);
console.log(
  [
    `## HPSS of 30 s: earshot vs NumPy/SciPy (bench/hpss.ts)`,
    ``,
    `${new Date().toISOString()}; \`node --import tsx bench/hpss.ts --repeats ${repeats}\`; ${what}; nFft 2048, hop 512, kernels 31, power 2, margin 1; median of ${repeats}, waveform in → 2 source waveforms out.`,
    ``,
    `| | time |`,
    `|---|---|`,
    `| earshot (wasm core) | **${(ours / 1000).toFixed(3)} s** |`,
    `| NumPy/SciPy (scipy.ndimage.median_filter) | **${(ref.median / 1000).toFixed(3)} s** |`,
    ``,
    `Speed-up: **${(ref.median / ours).toFixed(1)}×** (target ≥ 5×). Source energies agree to ${(100 * Math.max(rel(energy[0]!, ref.energy[0]!), rel(energy[1]!, ref.energy[1]!))).toFixed(3)} % (harmonic ${energy[0]!.toFixed(1)} vs ${ref.energy[0]!.toFixed(1)}, percussive ${energy[1]!.toFixed(1)} vs ${ref.energy[1]!.toFixed(1)}).`,
  ].join('\n'),
);
