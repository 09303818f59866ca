Error.stackTraceLimit = 40;
/**
 * Cost of one training step of the singing-voice CNN (methods.md §2) on TF.js wasm with earshot's
 * training kernels (`registerWasmTrainingKernels()`): forward in training mode + backward + Adam,
 * random weights, random normalised input, ms per excerpt at batch 32 (`--batch`), with the fused
 * batch-norm + leaky-ReLU kernels (src/model/fused.ts) and with the layer-by-layer graph,
 * interleaved in one run (the machine is shared: compare the two columns, not absolute numbers).
 * Then a per-kernel profile (tf.profile) of one step of each form: where the time goes.
 *
 * Then (--workers N, default 2, 1 = off) one data-parallel step (src/model/parallel.ts) against
 * the single-thread layer-by-layer step, interleaved.
 *
 *   node --import tsx bench/train-step.ts [--batch 32] [--rounds 2] [--workers 2] [--no-profile]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/model/backend.ts';
import { registerWasmTrainingKernels } from '../src/model/wasm_kernels.ts';
import { setFusedBatchNorm } from '../src/model/fused.ts';
import { SvdCnn } from '../src/model/svdcnn.ts';
import { initWeights } from '../src/model/weights.ts';
import { Adam, trainStep } from '../src/model/train.ts';
import { TrainWorkers } from '../src/model/parallel.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const batch = arg('--batch', 32);
const rounds = arg('--rounds', 2);
const profile = !process.argv.includes('--no-profile');
const workers = arg('--workers', 2);

await initBackend('wasm');
registerWasmTrainingKernels();
const model = new SvdCnn(initWeights(7));
const adam = new Adam(model.trainableVariables(), 1e-4);
let s = 12345;
const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const xs = new Float32Array(batch * 115 * 80).map(() => rand() * 1.7);
const ys = new Float32Array(batch).map((_, i) => i % 2);
const x = tf.tensor3d(xs, [batch, 115, 80]);
const y = tf.tensor2d(ys, [batch, 1]);

function step(fused: boolean, seed: number): number {
  setFusedBatchNorm(fused);
  const t0 = performance.now();
  trainStep(model, adam, x, y, seed);
  return performance.now() - t0;
}

console.log(`batch ${batch}, ${rounds} round(s), load average ${(await import('node:os')).loadavg().map((v) => v.toFixed(1)).join(' ')}`);
step(true, 1);
step(false, 2);
const t = { fused: [] as number[], unfused: [] as number[] };
for (let r = 0; r < rounds; r++) {
  t.unfused.push(step(false, 10 + r));
  t.fused.push(step(true, 20 + r));
}
const med = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const uf = med(t.unfused) / batch;
const fu = med(t.fused) / batch;
console.log(`training step, ms per excerpt: layer-by-layer ${uf.toFixed(1)}, fused BN+lReLU ${fu.toFixed(1)} (${(uf / fu).toFixed(2)}× faster)`);

if (workers > 1) {
  setFusedBatchNorm(true);
  const pool = await TrainWorkers.create(await model.toWeights(), workers - 1);
  try {
    await pool.step(model, adam, xs, ys, batch, 3);
    const tp: number[] = [];
    const tu: number[] = [];
    for (let r = 0; r < rounds; r++) {
      tu.push(step(false, 30 + r));
      const t0 = performance.now();
      await pool.step(model, adam, xs, ys, batch, 40 + r);
      tp.push(performance.now() - t0);
    }
    // A single-thread step on one part alone: the floor a parallel step reaches with free cores.
    const half = Math.ceil(batch / workers);
    const xh = tf.tensor3d(xs.subarray(0, half * 115 * 80), [half, 115, 80]);
    const yh = tf.tensor2d(ys.subarray(0, half), [half, 1]);
    const th: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      trainStep(model, adam, xh, yh, 50 + r);
      th.push(performance.now() - t0);
    }
    tf.dispose([xh, yh]);
    console.log(`one part alone (batch ${half}, fused, this thread): ${med(th).toFixed(0)} ms; the ${workers}-thread step of batch ${batch}: ${med(tp).toFixed(0)} ms`);
    const p = med(tp) / batch;
    const u2 = med(tu) / batch;
    console.log(`data-parallel, ${workers} threads (fused): ${p.toFixed(1)} ms per excerpt; layer-by-layer single thread in the same rounds ${u2.toFixed(1)} (${(u2 / p).toFixed(2)}× faster)`);
  } finally {
    pool.dispose();
  }
}

if (profile) {
  for (const fused of [false, true]) {
    setFusedBatchNorm(fused);
    const info = await tf.profile(() => {
      trainStep(model, adam, x, y, 99);
    });
    const by = new Map<string, { ms: number; n: number }>();
    let total = 0;
    for (const k of info.kernels) {
      const ms = Number(await k.kernelTimeMs) || 0;
      total += ms;
      const e = by.get(k.name) ?? { ms: 0, n: 0 };
      e.ms += ms;
      e.n++;
      by.set(k.name, e);
    }
    console.log(`\nprofile (${fused ? 'fused' : 'layer-by-layer'}), kernels total ${total.toFixed(0)} ms for batch ${batch}:`);
    for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
      console.log(`  ${name.padEnd(32)} ${e.ms.toFixed(0).padStart(6)} ms  ${(100 * e.ms / total).toFixed(1).padStart(5)} %  (${e.n} calls)`);
    }
  }
}
tf.dispose([x, y]);
adam.dispose();
model.dispose();
