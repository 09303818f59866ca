/**
 * The fused wasm log-mel front end (bindings/mel.ts: frame → symmetric Hann 1024 → real FFT →
 * |X| over 372 bins → sparse 80-band mel → log(max(·, 1e-7))) against @echogarden/pffft-wasm
 * SIMD + the same sparse mel in JS (bench/peers.ts), on 30 s of noise at 22 050 Hz (2097 frames).
 * The target (docs/frontend.md): ≥ 1.5× faster than pffft-wasm + mel. Medians, one run.
 * Run: node --import tsx bench/frontend-micro.ts
 */
import { MelFrontEndKernel, melFilterbank } from '../bindings/mel.ts';
import { core } from '../bindings/wasm.ts';
import { pffftFrontEnd, sparsify, N_BINS, N_MELS, SR } from './peers.ts';
import { time } from './timing.ts';

const n = 30 * SR;
const x = new Float32Array(n);
let seed = 12345;
for (let i = 0; i < n; i++) {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  x[i] = seed / 2 ** 32 - 0.5;
}
const opts = { sampleRate: SR, nFft: 1024, hop: 315, nMels: N_MELS, fMin: 27.5, fMax: 8000, nBinsUsed: N_BINS };
const k = new MelFrontEndKernel(opts);
const out = new Float32Array(k.frames(n) * N_MELS);
const pf = await pffftFrontEnd();
const { hop: _hop, ...fbOpts } = opts;
const mel = sparsify(melFilterbank(fbOpts), N_BINS, N_MELS, 'melsxbins');

const a = time('earshot fused (into caller buffer)', () => k.run(x, out), { budgetMs: 3000 });
const b = time('earshot fused (fresh output)', () => k.run(x), { budgetMs: 3000 });
const c = time('pffft-wasm SIMD + mel (JS)', () => pf(x, mel), { budgetMs: 3000 });
// the wasm kernel alone (signal already in the arena): what the binding adds is copy in/out + NaN scan
const ex = core().exports as any;
const kk = k as any;
const d = core().arena.scope((s) => {
  const sig = s.copyIn(x);
  const o = s.f32(k.frames(n) * N_MELS);
  return time('earshot melFrontEnd kernel only', () =>
    ex.melFrontEnd(sig.ptr, n, 315, kk.win, 1024, 1024, N_BINS, 0, N_MELS, kk.spans, kk.weights, 1e-7, 0, 0, o.ptr, kk.row, kk.plan, kk.scratch), { budgetMs: 3000 });
});
// both compute the same thing: check before trusting the timing
const ref = pf(x, mel);
let err = 0;
for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ref[i]! - out[i]!));
for (const t of [d, a, b, c]) console.log(`${t.name.padEnd(36)} ${t.ms.toFixed(2)} ms  (${t.reps} reps)`);
console.log(`speed-up vs pffft-wasm + mel: ${(c.ms / a.ms).toFixed(2)}×; max |Δ log-mel| = ${err.toExponential(2)}`);
k.dispose();
