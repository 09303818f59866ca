/**
 * Issue 4 item 9: the singing-voice CNN's forward pass (methods.md §2), ms per 115×80 excerpt at
 * batch 1, 32 and 256, earshot on TF.js wasm (fused strided inference, `SvdCnn.predict`) against
 * PyTorch CPU on 1 and 2 threads (bench/torch_forward.py: the reference module of
 * scripts/convert_pytorch.py loaded with the same weights), same machine, same run; plus the
 * fully-convolutional whole-file form (`predictFrames`) per frame. Before timing, both must give
 * the same logits on the same inputs (≤ 1e-4 of the largest |logit|, at least 1).
 *
 * The weights: --weights DIR (default the bundled assets/models/svd-default if present, else
 * the PyTorch-fixture model tests/fixtures/cnn/model). Timings interleave the two sides batch by
 * batch, so a busy neighbour affects both alike; the machine is shared, so read orders of
 * magnitude and ratios, not the last digit.
 *
 *   node --import tsx bench/model.ts [--weights DIR] [--rounds N] [--quick] [--no-write]
 *
 * Writes the section `## 4. Singing-voice CNN forward pass` of bench/RESULTS.md, replacing only
 * that section (bench/run.ts keeps everything from the first `## 4.` on; other sections stay).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, platform, arch } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/model/backend.ts';
import { SvdCnn } from '../src/model/svdcnn.ts';
import { loadWeights } from '../src/model/weights.ts';
import { fmt, timeAsync } from './timing.ts';

const ROOT = join(import.meta.dirname, '..');
const PY = '/usr/bin/python3';
const quick = process.argv.includes('--quick');
const ri = process.argv.indexOf('--rounds');
const rounds = ri >= 0 ? Math.max(1, Number(process.argv[ri + 1]) || 1) : quick ? 1 : 2;
const wi = process.argv.indexOf('--weights');
const defaultModel = join(ROOT, 'assets', 'models', 'svd-default');
const weightsDir = wi >= 0 ? process.argv[wi + 1]! : existsSync(join(defaultModel, 'model.json')) ? defaultModel : join(ROOT, 'tests', 'fixtures', 'cnn', 'model');
const BATCHES = [1, 32, 256];
const T = 115;
const F = 80;
const log = (s: string) => console.error(s);

function py(args: string[]): any {
  const r = spawnSync(PY, [join(ROOT, 'bench', 'torch_forward.py'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`torch_forward.py failed (${r.status}): ${r.stderr}`);
  if (r.stderr) process.stderr.write(r.stderr);
  return JSON.parse(r.stdout);
}

/** Deterministic N(0, 1)-ish inputs (z-scored log-mel scale), mulberry32 + Box–Muller. */
function input(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = new Float32Array(n * T * F);
  for (let i = 0; i < x.length; i++) x[i] = Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  return x;
}

const info = await initBackend('wasm');
const model = new SvdCnn(await loadWeights(weightsDir));
const tmp = mkdtempSync(join(tmpdir(), 'earshot-model-bench-'));
const md: string[] = [];
try {
  // ── same outputs first ───────────────────────────────────────────────────────────────────
  const nCheck = 16;
  const xc = input(nCheck, 1);
  const xcPath = join(tmp, 'check.f32');
  writeFileSync(xcPath, new Uint8Array(xc.buffer));
  const checked = py(['check', weightsDir, xcPath, String(nCheck)]);
  const ref: number[] = checked.logits;
  const ours = await model.predictLogits(xc, nCheck);
  let scale = 1;
  let maxDiff = 0;
  for (let i = 0; i < nCheck; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - ref[i]!));
  }
  const checkErr = maxDiff / scale;
  log(`[model] logits, TF.js wasm vs PyTorch on ${nCheck} excerpts: max |Δ| ${maxDiff.toExponential(2)} (relative ${checkErr.toExponential(2)}; logits ${Math.min(...ref).toFixed(2)} … ${Math.max(...ref).toFixed(2)})`);
  if (!(checkErr <= 1e-4)) throw new Error(`TF.js and PyTorch disagree: ${checkErr} > 1e-4 — not timing different functions`);

  // ── timing, interleaved batch by batch ───────────────────────────────────────────────────
  // Each cell: the median of repeated calls within a round; over `rounds` rounds the smallest
  // median is kept (a busy neighbour only ever adds time).
  type Row = { batch: number; tfjs: number; torch1: number; torch2: number };
  const rows: Row[] = BATCHES.map((b) => ({ batch: b, tfjs: Infinity, torch1: Infinity, torch2: Infinity }));
  const torchVersion: string = checked.torch;
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      const b = row.batch;
      const x = input(b, 100 + b);
      const budget = quick ? 800 : b >= 256 ? 4000 : 2500;
      const t = await timeAsync(`tfjs b${b}`, () => model.predict(x, b, { batchSize: b }), { warmup: 1, budgetMs: budget, minReps: quick && b >= 256 ? 2 : 3 });
      if (t.error) throw new Error(`TF.js batch ${b}: ${t.error}`);
      const r = py(['time', weightsDir, '--batches', String(b), '--threads', '1,2', '--budget', String(budget / 1000)]);
      const get = (th: number) => r.results.find((q: { threads: number }) => q.threads === th) as { msPerExcerpt: number; reps: number };
      log(
        `[model] round ${round + 1}/${rounds} batch ${b}: TF.js ${fmt(t.ms / b)} ms/excerpt (${t.reps} reps); ` +
          `PyTorch ${fmt(get(1).msPerExcerpt)} on 1 thread (${get(1).reps} reps), ${fmt(get(2).msPerExcerpt)} on 2 (${get(2).reps} reps)`,
      );
      row.tfjs = Math.min(row.tfjs, t.ms / b);
      row.torch1 = Math.min(row.torch1, get(1).msPerExcerpt);
      row.torch2 = Math.min(row.torch2, get(2).msPerExcerpt);
    }
  }

  // ── the whole-file form ──────────────────────────────────────────────────────────────────
  const L = 2000;
  const fileSpec = input(Math.ceil(L / T), 9).subarray(0, L * F);
  const tf = await timeAsync('frames', () => model.predictFrames(fileSpec, L), { warmup: 1, budgetMs: quick ? 1000 : 3000, minReps: 2 });
  const perFrame = tf.ms / L;
  log(`[model] TF.js fully-convolutional, ${L} frames: ${fmt(perFrame)} ms/frame`);

  // ── markdown ─────────────────────────────────────────────────────────────────────────────
  md.push(
    '## 4. Singing-voice CNN forward pass',
    '',
    'Produced by `node --import tsx bench/model.ts`. The CNN of methods.md §2 (≈ 0.24 G multiply-adds per',
    '115 × 80 excerpt, strided form), the same weights on both sides',
    `(\`${weightsDir.startsWith(ROOT) ? weightsDir.slice(ROOT.length + 1) : weightsDir}\`), eval mode, z-scored random inputs. earshot: \`SvdCnn.predict\``,
    `(batch norm folded, fused conv + bias + leaky ReLU) on @tensorflow/tfjs-backend-wasm 4.22, SIMD ${info.simd ? 'on' : 'off'}, ${info.numThreads ?? 1} thread`,
    '(tfjs-backend-wasm has no threads in Node). PyTorch: the reference module of `scripts/convert_pytorch.py`',
    `(bench/torch_forward.py, shared with bench/engines.ts), torch ${torchVersion} CPU, eval mode, \`torch.inference_mode\`. Timings interleaved batch by batch in one run;`,
    `each cell is the median of repeated calls after warm-up, the smallest over ${rounds} round${rounds > 1 ? 's' : ''}; ms per excerpt = ms per call / batch.`,
    '',
    `Machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, ${platform()} ${arch()}, Node ${process.version}, shared with other jobs`,
    `(load average at the end ${(await import('node:os')).loadavg()[0]!.toFixed(1)}). Date: ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Same function first: logits of ${nCheck} excerpts, max |TF.js − PyTorch| = ${maxDiff.toExponential(1)} (${checkErr.toExponential(1)} of the largest |logit|, at least 1; limit 1e-4).`,
    '',
    '| batch | TF.js wasm (1 thread) | PyTorch CPU, 1 thread | PyTorch CPU, 2 threads | TF.js / PyTorch 1 thread | TF.js / PyTorch 2 threads |',
    '|---|---|---|---|---|---|',
  );
  for (const r of rows) {
    md.push(`| ${r.batch} | ${fmt(r.tfjs)} ms | ${fmt(r.torch1)} ms | ${fmt(r.torch2)} ms | ${(r.tfjs / r.torch1).toFixed(2)} | ${(r.tfjs / r.torch2).toFixed(2)} |`);
  }
  const best = Math.min(...rows.map((r) => r.tfjs / r.torch1));
  const worst = Math.max(...rows.map((r) => r.tfjs / r.torch1));
  md.push(
    '',
    `Ratio > 1: TF.js slower. Against single-threaded PyTorch TF.js takes ${best.toFixed(2)}–${worst.toFixed(2)}× its time per excerpt (target: parity or better).`,
    'On this shared 2-core machine PyTorch on 2 threads gains little or loses (its OpenMP threads wait for a core that another job holds);',
    'TF.js wasm in Node runs on one thread (parallelism there means worker_threads with one backend each).',
    `Whole files use the fully-convolutional form instead (\`predictFrames\`, pool stride 1 and dilations, ≈ 5 M`,
    `multiply-adds per frame): ${fmt(perFrame)} ms per frame on TF.js wasm over a ${L}-frame spectrogram, i.e. ${(rows[0]!.tfjs / perFrame).toFixed(0)}× cheaper than one excerpt per frame at batch 1.`,
    '',
  );
  console.log(md.join('\n'));

  if (!process.argv.includes('--no-write')) {
    const path = join(ROOT, 'bench', 'RESULTS.md');
    const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
    const section = md.join('\n');
    const start = old.indexOf('\n## 4.');
    let next: string;
    if (start >= 0) {
      const after = old.indexOf('\n## ', start + 1);
      next = old.slice(0, start) + '\n' + section + (after >= 0 ? old.slice(after) : '');
    } else {
      const five = old.indexOf('\n## 5.');
      next = five >= 0 ? old.slice(0, five) + '\n' + section + old.slice(five) : old.replace(/\n*$/, '\n') + '\n' + section;
    }
    writeFileSync(path, next);
    log('[model] wrote the ## 4. section of bench/RESULTS.md');
  }
} catch (e) {
  log(`[model] ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  model.dispose();
  rmSync(tmp, { recursive: true, force: true });
}
