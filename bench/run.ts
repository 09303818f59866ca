/**
 * `npm run bench`: every benchmark of the compute core in ONE run, as ratios against peers
 * measured in the same process, written to bench/RESULTS.md (and printed).
 *
 *  1. Front end: 30 s at 22 050 Hz → STFT magnitudes (1024 / 315, no centring) and → 80-band
 *     log-mel (methods.md §1), earshot's fused wasm kernel vs fft.js, pffft-wasm (SIMD), meyda,
 *     essentia.js and tf.signal.stft on the TF.js wasm backend.
 *  2. Weighted ridge, d = 24, N = 70 000 LIME rows: earshot vs ml-matrix normal equations.
 *  3. Occlusion of 1024 × 115 × 80 (temporal, spectral, 5×4): earshot vs a plain copy of the
 *     same bytes.
 * Options: --quick (shorter budgets), --no-write (do not touch RESULTS.md).
 * `npm run bench` runs this, then bench/model.ts (section 4) and bench/engines.ts (section 5).
 */
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { cpus, platform, arch, loadavg } from 'node:os';
import { melSpectrogram, MelFrontEndKernel, melFilterbank } from '../bindings/mel.ts';
import { stft, SINGING_VOICE_STFT } from '../bindings/stft.ts';
import { gridLabels, prepareOcclusion, weightedRidge } from '../bindings/lime.ts';
import { core } from '../bindings/wasm.ts';
import { SVD_FRONTEND, melOptionsOf } from '../src/frontend/index.ts';
import * as peers from './peers.ts';
import { time, fmt, type Timing } from './timing.ts';

const quick = process.argv.includes('--quick');
const loadAtStart = loadavg()[0]!;
const budget = quick ? 400 : 1500;
const md: string[] = [];
const log = (s = '') => {
  console.log(s);
  md.push(s);
};

let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);

function table(rows: Timing[], ref: Timing, note: (t: Timing) => string = () => ''): void {
  log('| implementation | ms (median) | earshot speed-up | note |');
  log('|---|---:|---:|---|');
  for (const r of rows) {
    const ratio = r.error ? '—' : r === ref ? '1.00×' : `${(r.ms / ref.ms).toFixed(2)}×`;
    log(`| ${r.name} | ${r.error ? 'fails' : fmt(r.ms)} | ${ratio} | ${r.error ? r.error.replace(/\|/g, '/') : note(r)} |`);
  }
  log('');
}

// ── 1. front end ─────────────────────────────────────────────────────────────────────────────
const n = 30 * peers.SR;
const signal = new Float32Array(n);
for (let i = 0; i < n; i++) signal[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / peers.SR) + 0.2 * (rnd() - 0.5);
const nFrames = peers.numFrames(n);
const melOpts = melOptionsOf(SVD_FRONTEND);
const fb = melFilterbank({
  sampleRate: SVD_FRONTEND.sampleRate, nFft: SVD_FRONTEND.nFft, nMels: SVD_FRONTEND.nMels, fMin: SVD_FRONTEND.fMin,
  fMax: SVD_FRONTEND.fMax, scale: SVD_FRONTEND.scale, construction: SVD_FRONTEND.construction, norm: SVD_FRONTEND.norm,
  nBinsUsed: SVD_FRONTEND.nBinsUsed,
});
const sparse = peers.sparsify(fb, peers.N_BINS, peers.N_MELS, 'melsxbins'); // nMels × nBinsUsed

log(`## 1. Front end: 30 s at 22 050 Hz, window 1024, hop 315 (${nFrames} frames)`);
log('');
const fused = new MelFrontEndKernel(melOpts);
const melOut = new Float32Array(nFrames * peers.N_MELS);
const fftjs = peers.fftjsFrontEnd();
const pffft = await peers.pffftFrontEnd();
const meyda = peers.meydaFrontEnd();
const essentia = peers.essentiaFrontEnd();

async function tfStft(): Promise<Timing> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  const x = tf.tensor1d(signal);
  const t = time('tf.signal.stft (tfjs-backend-wasm 4.22.0)', () => tf.tidy(() => tf.abs(tf.signal.stft(x, 1024, 315)).dataSync()), { budgetMs: budget, warmup: 1 });
  x.dispose();
  return t;
}

log('### STFT magnitudes (first 372 bins)');
log('');
const stftRows = [
  time('earshot stft (wasm SIMD)', () => stft(signal, { ...SINGING_VOICE_STFT, output: 'magnitude', nBins: peers.N_BINS }), { budgetMs: budget }),
  time('fft.js 4.0.4', () => fftjs(signal, null), { budgetMs: budget }),
  time('@echogarden/pffft-wasm 0.4.2 (SIMD)', () => pffft(signal, null), { budgetMs: budget }),
  time('meyda 5.6.3', () => meyda(signal, false), { budgetMs: budget }),
  time('essentia.js 0.1.3', () => essentia(signal, false), { budgetMs: budget, minReps: 2 }),
  await tfStft(),
];
table(stftRows, stftRows[0]!);

log('### + 80 mel bands + log (the whole front end)');
log('');
const melRows = [
  time('earshot fused front end (wasm SIMD)', () => fused.run(signal, melOut), { budgetMs: budget }),
  time('earshot melSpectrogram() (fresh output)', () => melSpectrogram(signal, melOpts), { budgetMs: budget }),
  time('fft.js + sparse mel (JS)', () => fftjs(signal, sparse), { budgetMs: budget }),
  time('pffft-wasm (SIMD) + sparse mel (JS)', () => pffft(signal, sparse), { budgetMs: budget }),
  time('meyda melBands', () => meyda(signal, true), { budgetMs: budget, minReps: 2 }),
  time('essentia.js MelBands', () => essentia(signal, true), { budgetMs: budget, minReps: 2 }),
];
table(melRows, melRows[0]!, (t) => (t.name.startsWith('meyda') || t.name.startsWith('essentia') ? 'its own mel filterbank' : ''));
const bestPeer = melRows.slice(2).filter((r) => !r.error).sort((a, b) => a.ms - b.ms)[0]!;
const frontRatio = bestPeer.ms / melRows[0]!.ms;
log(`Front end vs fastest peer (${bestPeer.name}): **${frontRatio.toFixed(2)}×** (target ≥ 1.5×).`);
log('');

// ── 2. weighted ridge ───────────────────────────────────────────────────────────────────────
const N = 70_000;
const d = 24;
const Z = new Uint8Array(N * d);
for (let i = 0; i < N * d; i++) Z[i] = i < d || rnd() < 0.5 ? 1 : 0;
const y = new Float64Array(N);
const w = new Float64Array(N);
for (let i = 0; i < N; i++) {
  let on = 0;
  let s = 0;
  for (let j = 0; j < d; j++) {
    on += Z[i * d + j]!;
    s += Z[i * d + j]! * Math.sin(j + 1);
  }
  y[i] = 1 / (1 + Math.exp(-s / 3));
  w[i] = Math.sqrt(Math.exp(-((1 - on / d) ** 2) / 0.0625)); // LIME kernel on a cosine-like distance
}
log(`## 2. Weighted ridge: N = ${N} rows, d = ${d}, α = 1, intercept`);
log('');
let ours: Float64Array = new Float64Array(0);
let theirs: Float64Array = new Float64Array(0);
const ridgeRows = [
  time('earshot weightedRidge (wasm, f64, incl. weighted R²)', () => (ours = weightedRidge(Z, y, w, { n: N, d }).coef), { budgetMs: budget }),
  time('ml-matrix 6.15.1 normal equations + Cholesky', () => (theirs = peers.mlMatrixRidge(Z, y, w, N, d)), { budgetMs: budget * 2, minReps: 3 }),
];
let coefDiff = 0;
for (let j = 0; j < d; j++) coefDiff = Math.max(coefDiff, Math.abs(ours[j]! - theirs[j]!) / Math.abs(theirs[j]!));
table(ridgeRows, ridgeRows[0]!);
log(`Coefficients agree to ${coefDiff.toExponential(1)} (relative).`);
log('');

// ── 3. occlusion ────────────────────────────────────────────────────────────────────────────
const T = 115;
const F = 80;
const B = 1024;
const size = T * F;
const x = Float32Array.from({ length: size }, () => rnd() * 8 - 4);
const src = Float32Array.from({ length: B * size }, () => rnd());
const dst = new Float32Array(B * size);
log(`## 3. Occlusion: ${B} samples × ${T} × ${F} (${((B * size * 4) / 2 ** 20).toFixed(1)} MiB per batch), scalar content`);
log('');
const copy = time('plain copy of the same bytes (Float32Array.set)', () => dst.set(src), { budgetMs: budget });
log('| segmentation | earshot ms → arena | ms → Float32Array | plain copy ms | speed vs copy (arena) | (Float32Array) |');
log('|---|---:|---:|---:|---:|---:|');
const outBlock = core().arena.allocF32(B * size);
const occRatios: number[] = [];
for (const [name, grid, dd] of [
  ['temporal d = 10', { time: 10 }, 10],
  ['spectral d = 10', { freq: 10 }, 10],
  ['time-frequency 5×4', { time: 5, freq: 4 }, 20],
] as const) {
  const bits = Uint8Array.from({ length: B * dd }, () => (rnd() < 0.5 ? 1 : 0));
  const p = prepareOcclusion(x, [T, F], { labels: gridLabels(T, F, grid), d: dd }, 0.25);
  const a = time(name, () => p.run(bits, B, outBlock), { budgetMs: budget });
  const j = time(name, () => p.run(bits, B, dst), { budgetMs: budget });
  p.dispose();
  occRatios.push(copy.ms / a.ms);
  log(`| ${name} | ${fmt(a.ms)} | ${fmt(j.ms)} | ${fmt(copy.ms)} | ${(copy.ms / a.ms).toFixed(2)}× | ${(copy.ms / j.ms).toFixed(2)}× |`);
}
outBlock.free();
log('');
log(`Occlusion speed relative to the plain copy: ${Math.min(...occRatios).toFixed(2)}× at worst (target ≥ 0.5×).`);
log('');

// ── write ───────────────────────────────────────────────────────────────────────────────────
if (!process.argv.includes('--no-write')) {
  const header = [
    '# Benchmarks',
    '',
    'Produced by `npm run bench` (sections 1–3: bench/run.ts; 4: bench/model.ts; 5: bench/engines.ts; 6: bench/slime.ts); every ratio compares',
    'implementations measured in the same process, same run. Medians of repeated calls after warm-up.',
    '',
    `Machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, ${platform()} ${arch()}, Node ${process.version}. Date: ${new Date().toISOString().slice(0, 10)}.`,
    `Load average (1 min) at the start of sections 1–3: ${loadAtStart.toFixed(2)} — on a busy machine absolute times inflate; the ratios, measured side by side, are what carry.`,
    '',
  ];
  const path = new URL('./RESULTS.md', import.meta.url);
  // Other sections (e.g. the CNN forward pass, bench/model.ts) keep their part of the file.
  let tail = '';
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    const at = old.indexOf('\n## 4.');
    if (at >= 0) tail = old.slice(at);
  }
  writeFileSync(path, header.join('\n') + '\n' + md.join('\n') + tail);
  console.error('[bench] wrote bench/RESULTS.md');
}
