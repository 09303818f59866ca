/**
 * Issue 9 item 6: veracity attack iterations (forward + input gradient + Adam step, one 115-frame
 * excerpt; methods.md §6) per second, earshot (src/veracity/attack.ts: forward on onnxruntime-node
 * or TF.js wasm, backward on earshot's own kernels) against PyTorch CPU (bench/attack_reference.py:
 * the same model and weights, the front end in torch ops, autograd, torch.optim.Adam) in the same
 * run, for the waveform and the spectrogram attack. Before timing, both sides' d logit / d input
 * must agree (≤ 1e-4 of the largest |gradient|). Then a per-stage profile of earshot's iteration
 * and the throughput of two worker threads (one excerpt each) against PyTorch on 2 threads.
 *
 * The excerpt: 36 934 samples (115 frames) of audio-lena's sung recording from 2 s on. Timed
 * attacks run a fixed number of iterations: the target is the opposite of the model's decision
 * as in the attack, with a threshold it cannot reach in that many steps, so no run stops early.
 *
 *   node --import tsx bench/attack.ts [--weights DIR] [--iters 30] [--rounds 3] [--write]
 *
 * --write appends (or replaces) the section "Veracity attack iterations" at the end of
 * bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/model/backend.ts';
import { SvdCnn } from '../src/model/svdcnn.ts';
import { loadWeights } from '../src/model/weights.ts';
import { loadMono } from '../src/audio/node.ts';
import { melSpectrogram } from '../bindings/mel.ts';
import { FrontEndGradKernel } from '../bindings/frontend_grad.ts';
import { melOptionsOf, validateFrontEndConfig } from '../src/frontend/config.ts';
import { frontEndFilterbank } from '../src/render/listen.ts';
import { attack, type AttackDomain } from '../src/veracity/attack.ts';
import { ATTACK_TASK } from '../src/veracity/attack-task.ts';
import { InputGradient, profileInputGradient } from '../src/veracity/grad.ts';
import { WorkerPool } from '../src/parallel/pool.ts';
import { registerWasmTrainingKernels } from '../src/model/wasm_kernels.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { AttackResult } from '../src/veracity/attack.ts';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const weightsDir = arg('--weights', join(ROOT, 'assets', 'models', 'svd-default'));
const ITERS = Number(arg('--iters', '30'));
const ROUNDS = Number(arg('--rounds', '3'));
const log = (s: string) => console.error(s);
const TITLE = 'Veracity attack iterations';
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
const f1 = (x: number) => x.toFixed(1);

const info = await initBackend('wasm');
const weights = await loadWeights(weightsDir);
const model = new SvdCnn(weights);
const fe = validateFrontEndConfig(weights.info.frontend);
const T = model.arch.frames;
const B = model.arch.bands;
const N = (T - 1) * fe.hop + fe.nFft;
const lena = await loadMono(join(ROOT, 'node_modules', 'audio-lena', 'lena.wav'), fe.sampleRate);
const wave = lena.slice(2 * fe.sampleRate, 2 * fe.sampleRate + N);
const raw = melSpectrogram(wave, melOptionsOf(fe)).data;
const norm = model.normalize(raw);
const std = Float32Array.from(weights.info.normalization!.std);
const mo = melOptionsOf(fe);
mo.mean = Float32Array.from(weights.info.normalization!.mean);
mo.std = std;
const feGrad = new FrontEndGradKernel(mo);
const tmp = mkdtempSync(join(tmpdir(), 'earshot-attack-bench-'));
const load0 = loadavg()[0]!;
const md: string[] = [];
const rows: string[] = [];
const checks: string[] = [];

function torch(domain: AttackDomain, input: Float32Array): { logit: number; grad: Float32Array; ms: Record<number, number>; version: string } {
  const fb = join(tmp, 'fb.f32');
  writeFileSync(fb, new Uint8Array(frontEndFilterbank(fe).buffer));
  const inp = join(tmp, `${domain}.f32`);
  writeFileSync(inp, new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  const gout = join(tmp, `${domain}.grad.f32`);
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'bench', 'attack_reference.py'), weightsDir, fb, inp, domain, gout, '--threads', '1,2', '--iters', String(ITERS), '--rounds', String(ROUNDS)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`attack_reference.py failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  const b = readFileSync(gout);
  const ms: Record<number, number> = {};
  for (const x of out.results) ms[x.threads] = x.msPerIteration;
  return { logit: out.logit, grad: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), ms, version: out.torch };
}

/** d logit / d input on earshot (waveform: samples; spectrogram: raw log-mel). */
async function ours(domain: AttackDomain, g: InputGradient): Promise<{ logit: number; grad: Float32Array }> {
  const r = await g.compute(norm, 'excerpts', 1, () => Float32Array.of(1));
  const grad = domain === 'waveform' ? feGrad.backward(wave, r.grad!) : r.grad!.map((v, j) => v / std[j % B]!);
  return { logit: r.logits[0]!, grad };
}

/** ms per iteration of a fixed-length attack (see the module comment). */
async function timeAttack(domain: AttackDomain, engine: 'ort' | 'tfjs', threads: number): Promise<number> {
  const input = domain === 'waveform' ? wave : norm;
  const p = (await model.predict(norm, 1))[0]!;
  const target = p >= 0.51 ? 0 : 1;
  const opts = { domain, engine, threads, maxIterations: ITERS, targets: Float32Array.of(target), threshold: target === 0 ? 1e-9 : 1 - 1e-9 };
  await attack(model, input, { ...opts, maxIterations: 3 });
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const res = await attack(model, input, opts);
    samples.push((performance.now() - t0) / ITERS);
    if (res.iterations !== ITERS) throw new Error(`the timed attack stopped after ${res.iterations} iterations`);
  }
  return median(samples);
}

try {
  for (const domain of ['waveform', 'spectrogram'] as const) {
    log(`${domain}: PyTorch …`);
    const ref = torch(domain, domain === 'waveform' ? wave : raw);
    const gOrt = await InputGradient.shared(model, { engine: 'ort', threads: 1 });
    const mine = await ours(domain, gOrt);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < ref.grad.length; i++) {
      scale = Math.max(scale, Math.abs(ref.grad[i]!));
      diff = Math.max(diff, Math.abs(ref.grad[i]! - mine.grad[i]!));
    }
    // A max-pool window whose two largest inputs tie to float rounding routes its gradient to
    // whichever the engine's forward picked, so a few values may differ by a whole gradient
    // contribution while the rest agree to float precision: count them.
    let off = 0;
    for (let i = 0; i < ref.grad.length; i++) if (Math.abs(ref.grad[i]! - mine.grad[i]!) > 1e-4 * scale) off++;
    checks.push(`${domain}: logit earshot ${mine.logit.toFixed(5)}, PyTorch ${ref.logit.toFixed(5)}; d logit / d input max |Δ| / max |g| = ${(diff / scale).toExponential(2)} (${ref.grad.length} values, ${off} of them off by more than 1e-4 · max |g|)`);
    if (!(diff / scale <= 1e-4)) log(`WARNING: ${domain} gradients differ: ${diff / scale}`);
    log(`${domain}: earshot …`);
    const ort1 = await timeAttack(domain, 'ort', 1);
    const ort2 = await timeAttack(domain, 'ort', 2);
    const tfjs = await timeAttack(domain, 'tfjs', 1);
    rows.push(`| ${domain} | ${f1(ort1)} | ${f1(ort2)} | ${f1(tfjs)} | ${f1(ref.ms[1]!)} | ${f1(ref.ms[2]!)} | **${(ref.ms[1]! / ort1).toFixed(2)}×** |`);
    md.push(`<!-- ${domain}: torch ${ref.version} -->`);
  }
  // per-stage profile of one iteration's gradient (onnxruntime forward, 1 thread)
  const prof: Record<string, number[]> = {};
  for (const engine of ['ort', 'tfjs'] as const) {
    const g = await InputGradient.shared(model, { engine, threads: 1 });
    for (let i = 0; i < 3 + 15; i++) {
      const tm: Record<string, number> = {};
      profileInputGradient(tm);
      await g.compute(norm, 'excerpts', 1, () => Float32Array.of(1));
      profileInputGradient(null);
      if (i >= 3) for (const [k, v] of Object.entries(tm)) (prof[`${engine}:${k}`] ??= []).push(v);
    }
  }
  const fwdWave: number[] = [];
  const bwdWave: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    feGrad.forward(wave);
    const t1 = performance.now();
    feGrad.backward(wave, norm);
    fwdWave.push(t1 - t0);
    bwdWave.push(performance.now() - t1);
  }
  // two worker threads, one excerpt each (the CLI's --all path), against PyTorch on 2 threads
  const pool = await WorkerPool.create<{ inputs: Float32Array[]; options: object }, AttackResult[]>({ taskModule: new URL('../src/veracity/attack-task.ts', import.meta.url).href, task: ATTACK_TASK, workers: 2, initData: weights });
  const p0 = (await model.predict(norm, 1))[0]!;
  const tgt = p0 >= 0.51 ? 0 : 1;
  const job = (iters: number) => ({ inputs: [wave], options: { domain: 'waveform', engine: 'ort', threads: 1, maxIterations: iters, targets: Float32Array.of(tgt), threshold: tgt === 0 ? 1e-9 : 1 - 1e-9 } });
  await Promise.all([pool.run(job(3)), pool.run(job(3))]);
  const t0 = performance.now();
  await Promise.all([pool.run(job(ITERS)), pool.run(job(ITERS))]);
  const pairMs = (performance.now() - t0) / (2 * ITERS);
  await pool.dispose();

  // The previous state for comparison: TF.js autodiff of SvdCnn.forward on wasm, stock kernels,
  // then with registerWasmTrainingKernels() (Conv2DBackpropInput as a flipped XNNPACK conv).
  const tfGrad = async () => {
    const xt = tf.tensor3d(norm, [1, T, B]);
    const samples: number[] = [];
    for (let i = 0; i < 2 + ROUNDS; i++) {
      const t0 = performance.now();
      const g = tf.grad((x: tf.Tensor) => tf.sum(model.forward(x)))(xt);
      await g.data();
      g.dispose();
      if (i >= 2) samples.push(performance.now() - t0);
    }
    xt.dispose();
    return median(samples);
  };
  const stockMs = await tfGrad();
  registerWasmTrainingKernels();
  const flippedMs = await tfGrad();

  const load1 = loadavg()[0]!;
  const stage = (k: string) => (prof[k] ? f1(median(prof[k]!)) : '–');
  const text = [
    `## §. ${TITLE}: earshot vs PyTorch CPU (one 115-frame excerpt)`,
    '',
    `\`node --import tsx bench/attack.ts --iters ${ITERS} --rounds ${ROUNDS} --write\` — ${new Date().toISOString().slice(0, 16)} UTC, ${cpus().length} × ${cpus()[0]?.model.trim()}, load average ${load0.toFixed(2)} at the start and ${load1.toFixed(2)} at the end (\`uptime\`), TF.js wasm SIMD ${info.simd ? 'on' : 'off'}; weights ${weightsDir.replace(ROOT + '/', '')}.`,
    'One iteration = forward + d loss / d δ + sign + Adam step + clamp (methods.md §6), the excerpt of audio-lena from 2 s; ms per iteration, median of',
    `${ROUNDS} runs of ${ITERS} iterations. earshot: \`attack()\` (src/veracity/attack.ts), forward on onnxruntime-node (\`ort\`, intra-op threads 1 / 2) or TF.js wasm (\`tfjs\`),`,
    'backward on earshot\'s kernels (assembly/input_grad.ts; waveform: plus the front-end adjoint). PyTorch: bench/attack_reference.py (autograd, torch.optim.Adam), same weights.',
    '',
    '| attack | earshot ort, 1 thread | earshot ort, 2 threads | earshot tfjs | PyTorch, 1 thread | PyTorch, 2 threads | PyTorch 1 thr ÷ earshot ort 1 thr |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `For comparison, the input gradient alone (d logit / d input, one excerpt) by TF.js autodiff of SvdCnn.forward on wasm: ${f1(stockMs)} ms with the stock kernels, ${f1(flippedMs)} ms with \`registerWasmTrainingKernels()\`; earshot's (forward + backward, profile below): ort ${stage('ort:forward') === '–' ? '–' : f1(median(prof['ort:forward']!) + median(prof['ort:copy activations']!) + median(prof['ort:backward']!))} ms, tfjs ${f1(median(prof['tfjs:forward']!) + median(prof['tfjs:copy activations']!) + median(prof['tfjs:backward']!))} ms.`,
    '',
    `Two worker threads attacking one excerpt each (waveform, ort 1 thread per worker): ${f1(pairMs)} ms per iteration of throughput (${f1(1000 / pairMs)} iterations/s).`,
    '',
    'Same numbers first: ' + checks.join('; ') + '.',
    '',
    `Profile of the gradient of one excerpt (ms, median of 15; \`profileInputGradient\`): forward ort ${stage('ort:forward')} / tfjs ${stage('tfjs:forward')}; copy of the activations ${stage('ort:copy activations')};`,
    `backward ${stage('ort:backward')} = fc3+fc2 ${f1(median(prof['ort:  fc3']!) + median(prof['ort:  fc2']!))}, fc1 ${stage('ort:  fc1')}, pool2+conv4 ${stage('ort:  pool2+conv4')}, conv3 ${stage('ort:  conv3')}, pool1+conv2 ${stage('ort:  pool1+conv2')}, conv1 ${stage('ort:  conv1')};`,
    `front end forward ${f1(median(fwdWave))}, adjoint ${f1(median(bwdWave))} (waveform only).`,
    '',
  ].join('\n');
  console.log(text);
  if (process.argv.includes('--write')) {
    const path = join(ROOT, 'bench', 'RESULTS.md');
    let cur = readFileSync(path, 'utf8');
    // Our own section is replaced (keeping its number); otherwise appended as the next number.
    const mine = new RegExp(`\\n## (\\d+)\\. ${TITLE}`).exec(cur);
    let n: number;
    if (mine) {
      n = Number(mine[1]);
      const next = cur.indexOf('\n## ', mine.index + 5);
      cur = cur.slice(0, mine.index) + (next >= 0 ? cur.slice(next) : '\n');
    } else {
      n = Math.max(0, ...[...cur.matchAll(/\n## (\d+)\./g)].map((m) => Number(m[1]))) + 1;
    }
    writeFileSync(path, cur.replace(/\n*$/, '\n\n') + text.replace('## §.', `## ${n}.`));
    log(`bench/RESULTS.md: section ${n} written`);
  }
} finally {
  feGrad.dispose();
  model.dispose();
  rmSync(tmp, { recursive: true, force: true });
}
