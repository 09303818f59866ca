/**
 * Issue 7 item 6: forward throughput (excerpts per second) of every engine behind `Classifier`
 * (src/model/engines.ts) at batch 1, 32 and 256 — TF.js wasm (H6's SvdCnn), onnxruntime-node on
 * 1 thread and on all cores, onnxruntime-web's wasm backend — next to PyTorch CPU (Debian's
 * torch, bench/torch_forward.py: the reference module of scripts/convert_pytorch.py with the
 * same weights) in the same run. Before timing, every engine must give PyTorch's probabilities
 * on the same excerpts (≤ 1e-4), so the table compares one function.
 *
 * Then one SLIME explanation end to end per engine (temporal d = 10, content zero, N_s = 70 000,
 * deduplicated sampler: ≤ 1 024 distinct rows reach the model), explanation weights compared
 * across engines. The Python reference for a whole SLIME run is bench/slime.ts (bench/SLIME.md).
 *
 *   node --import tsx bench/engines.ts [--weights DIR] [--quick] [--no-slime] [--no-write]
 *
 * Weights: --weights DIR, else the bundled assets/models/svd-default, else the PyTorch-fixture
 * model tests/fixtures/cnn/model. Writes the section `## 5. Forward-pass engines` of
 * bench/RESULTS.md (replacing only that section; bench/run.ts keeps everything from `## 4.` on).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, platform, arch, loadavg } from 'node:os';
import { join } from 'node:path';
import { createClassifier, type EngineClassifier, type EngineName } from '../src/model/engines.ts';
import { loadWeights } from '../src/model/weights.ts';
import { explain } from '../src/explain/index.ts';
import { fmt, timeAsync } from './timing.ts';

const ROOT = join(import.meta.dirname, '..');
const PY = '/usr/bin/python3';
const quick = process.argv.includes('--quick');
const wi = process.argv.indexOf('--weights');
const defaultModel = join(ROOT, 'assets', 'models', 'svd-default');
const weightsDir = wi >= 0 ? process.argv[wi + 1]! : existsSync(join(defaultModel, 'model.json')) ? defaultModel : join(ROOT, 'tests', 'fixtures', 'cnn', 'model');
const BATCHES = [1, 32, 256];
const T = 115;
const F = 80;
const CORES = cpus().length;
const log = (s: string) => console.error(s);

function py(args: string[]): any {
  const r = spawnSync(PY, [join(ROOT, 'bench', 'torch_forward.py'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`torch_forward.py ${args[0]} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Seeded N(0, 1)-ish normalised inputs (mulberry32 + Box–Muller). */
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

interface Row {
  name: string;
  /** ms per excerpt per batch size. */
  ms: Record<number, number>;
  note: string;
}

const weights = await loadWeights(weightsDir);
const tmp = mkdtempSync(join(tmpdir(), 'earshot-engines-bench-'));
const md: string[] = [];
const rows: Row[] = [];
try {
  // ── one function first ───────────────────────────────────────────────────────────────────
  const nCheck = 8;
  const xc = input(nCheck, 1);
  const xcPath = join(tmp, 'check.f32');
  writeFileSync(xcPath, new Uint8Array(xc.buffer));
  const refLogits: number[] = py(['check', weightsDir, xcPath, String(nCheck)]).logits;
  const refP = refLogits.map((z) => 1 / (1 + Math.exp(-z)));
  const engines: Array<{ name: string; engine: EngineName; threads: number }> = [
    { name: 'TF.js wasm (SIMD, 1 thread)', engine: 'tfjs', threads: 1 },
    { name: 'onnxruntime-node, 1 thread', engine: 'ort', threads: 1 },
    { name: `onnxruntime-node, ${CORES} threads`, engine: 'ort', threads: CORES },
    { name: `onnxruntime-web wasm, ${CORES} threads`, engine: 'ort-web', threads: CORES },
  ];
  const agree: string[] = [];
  const classifiers: Array<{ spec: (typeof engines)[number]; c: EngineClassifier | null; error?: string }> = [];
  for (const spec of engines) {
    try {
      const c = await createClassifier(weights, { engine: spec.engine, threads: spec.threads });
      const p = await c.predict(xc, nCheck);
      let d = 0;
      for (let i = 0; i < nCheck; i++) d = Math.max(d, Math.abs(p[i]! - refP[i]!));
      agree.push(`${spec.name}: ${d.toExponential(1)}`);
      log(`[engines] ${spec.name}: max |P − P_torch| = ${d.toExponential(2)}`);
      if (!(d <= 1e-4)) throw new Error(`${spec.name} disagrees with PyTorch (${d} > 1e-4)`);
      classifiers.push({ spec, c });
    } catch (e) {
      log(`[engines] ${spec.name}: ${(e as Error).message}`);
      classifiers.push({ spec, c: null, error: (e as Error).message.split('\n')[0] });
    }
  }

  // ── timing, batch by batch, every engine then PyTorch (so a busy neighbour hits all alike) ──
  const torch1: Row = { name: 'PyTorch CPU, 1 thread', ms: {}, note: '' };
  const torchN: Row = { name: `PyTorch CPU, ${CORES} threads`, ms: {}, note: '' };
  for (const { spec, error } of classifiers) rows.push({ name: spec.name, ms: {}, note: error ?? '' });
  let torchVersion = '?';
  for (const b of BATCHES) {
    const x = input(b, 100 + b);
    const budget = quick ? 600 : b >= 256 ? 3000 : 2000;
    for (let i = 0; i < classifiers.length; i++) {
      const { spec, c } = classifiers[i]!;
      if (!c) continue;
      // At most one big call for the slow engines at batch 256 (≈ 5–40 s each on this machine).
      const t = await timeAsync(`${spec.name} b${b}`, () => c.predict(x, b), { warmup: 1, budgetMs: budget, minReps: b >= 256 ? 1 : 3 });
      if (t.error) {
        rows[i]!.note = t.error;
        continue;
      }
      rows[i]!.ms[b] = t.ms / b;
      log(`[engines] ${spec.name}, batch ${b}: ${fmt(t.ms / b)} ms/excerpt (${(1000 * b / t.ms).toFixed(1)}/s, ${t.reps} reps)`);
    }
    const r = py(['time', weightsDir, '--batches', String(b), '--threads', `1,${CORES}`, '--budget', String(budget / 1000)]);
    torchVersion = r.torch;
    torch1.ms[b] = r.results.find((q: any) => q.threads === 1).msPerExcerpt;
    torchN.ms[b] = r.results.find((q: any) => q.threads === CORES).msPerExcerpt;
    log(`[engines] PyTorch batch ${b}: ${fmt(torch1.ms[b]!)} / ${fmt(torchN.ms[b]!)} ms/excerpt (1 / ${CORES} threads)`);
  }
  rows.push(torch1, torchN);

  // ── one SLIME explanation per engine ───────────────────────────────────────────────────────
  const slime: Array<{ name: string; ms: number; passes: number; modelMs: number; top3: number[]; weights: Float64Array | Float32Array }> = [];
  if (!process.argv.includes('--no-slime')) {
    const xs = input(1, 77);
    const opts = { segmentation: 'temporal' as const, numComponents: 10, content: 'zero' as const, numSamples: quick ? 20000 : 70000, sampler: 'dedup' as const, seed: 0 };
    for (const { spec, c } of classifiers) {
      if (!c) continue;
      const t0 = performance.now();
      const e = await explain(c, xs, opts);
      const ms = performance.now() - t0;
      const modelMs = (e.params.timings as { modelMs: number }).modelMs;
      slime.push({ name: spec.name, ms, passes: e.forwardPasses, modelMs, top3: e.topPositive(3), weights: e.weights });
      log(`[engines] SLIME on ${spec.name}: ${(ms / 1000).toFixed(2)} s (${e.forwardPasses} forward passes, model ${(modelMs / 1000).toFixed(2)} s)`);
    }
  }
  for (const { c } of classifiers) c?.dispose();

  // ── markdown ─────────────────────────────────────────────────────────────────────────────
  const tfjs = rows[0]!;
  const rel = (ms: string) => (ms.startsWith(ROOT) ? ms.slice(ROOT.length + 1) : ms);
  md.push(
    '## 5. Forward-pass engines',
    '',
    'Produced by `node --import tsx bench/engines.ts`. The singing-voice CNN (methods.md §2, strided form, ≈ 0.24 G',
    `multiply-adds per 115 × 80 excerpt), weights \`${rel(weightsDir)}\`, behind \`createClassifier(weights, { engine })\``,
    '(src/model/engines.ts; docs/engines.md): TF.js = H6\'s `SvdCnn.predict` on tfjs-backend-wasm 4.22; the ORT engines run',
    'the in-memory ONNX export (batch norm folded) on onnxruntime-node 1.30 (native CPU, intra-op threads) and',
    `onnxruntime-web 1.30 (wasm backend, threads); PyTorch = torch ${torchVersion} CPU (bench/torch_forward.py), eval mode.`,
    'Excerpts per second = batch / median time per `predict` call (after a warm-up call; batch 256 of the slow engines',
    'may be a single call). Same function first: max |P − P_PyTorch| on 8 excerpts — ' + agree.join('; ') + ' (limit 1e-4).',
    '',
    `Machine: ${cpus()[0]?.model ?? '?'} × ${CORES}, ${platform()} ${arch()}, Node ${process.version}, shared with other jobs`,
    `(load average at the end ${loadavg()[0]!.toFixed(1)}). Date: ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| engine | batch 1 (/s) | batch 32 (/s) | batch 256 (/s) | speed vs TF.js (32 / 256) | note |',
    '|---|---:|---:|---:|---:|---|',
  );
  const eps = (r: Row, b: number) => (r.ms[b] ? (1000 / r.ms[b]!).toFixed(1) : '—');
  const ratio = (r: Row, b: number) => (r.ms[b] && tfjs.ms[b] ? `${(tfjs.ms[b]! / r.ms[b]!).toFixed(2)}×` : '—');
  for (const r of rows) md.push(`| ${r.name} | ${eps(r, 1)} | ${eps(r, 32)} | ${eps(r, 256)} | ${ratio(r, 32)} / ${ratio(r, 256)} | ${r.note.replace(/\|/g, '/')} |`);
  const ortAll = rows[2]!;
  const best = Math.max(...BATCHES.map((b) => (ortAll.ms[b] && tfjs.ms[b] ? tfjs.ms[b]! / ortAll.ms[b]! : 0)));
  const worst = Math.min(...BATCHES.map((b) => (ortAll.ms[b] && tfjs.ms[b] ? tfjs.ms[b]! / ortAll.ms[b]! : Infinity)));
  md.push(
    '',
    `onnxruntime-node on ${CORES} threads is ${worst.toFixed(1)}–${best.toFixed(1)}× TF.js wasm across batch sizes (target ≥ 4×);`,
    `against PyTorch on ${CORES} threads: ${BATCHES.map((b) => (ortAll.ms[b] && torchN.ms[b] ? `${(torchN.ms[b]! / ortAll.ms[b]!).toFixed(1)}×` : '—')).join(' / ')} (batch 1 / 32 / 256).`,
    '',
  );
  if (slime.length) {
    const w0 = slime[0]!.weights;
    let dw = 0;
    let wmax = 0;
    for (const r of slime) for (let j = 0; j < w0.length; j++) dw = Math.max(dw, Math.abs(r.weights[j]! - w0[j]!));
    for (let j = 0; j < w0.length; j++) wmax = Math.max(wmax, Math.abs(w0[j]!));
    md.push(
      `### One SLIME explanation per engine (temporal d = 10, content zero, N_s = ${quick ? '20 000' : '70 000'}, deduplicated)`,
      '',
      '| engine | end to end | of which model | forward passes | top-3 positive |',
      '|---|---:|---:|---:|---|',
      ...slime.map((r) => `| ${r.name} | ${(r.ms / 1000).toFixed(2)} s | ${(r.modelMs / 1000).toFixed(2)} s | ${r.passes} | ${JSON.stringify(r.top3)} |`),
      '',
      `Explanation weights agree across engines to ${dw.toExponential(1)} (largest |weight| ${wmax.toExponential(2)}). Target: ≤ 6 s on 2 cores.`,
      'The Python reference (NumPy + PyTorch + sklearn, every one of the 70 000 rows through the CNN) is timed by bench/slime.ts',
      '(bench/SLIME.md); platform.md records 590 s on machine B.',
      '',
    );
  }
  const section = md.join('\n');
  console.log(section);

  if (!process.argv.includes('--no-write')) {
    const path = join(ROOT, 'bench', 'RESULTS.md');
    let old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
    // bench/run.ts keeps only what follows the first `## 4.`: make sure there is one before us.
    if (old.indexOf('\n## 4.') < 0) old = old.replace(/\n*$/, '\n') + '\n## 4. Singing-voice CNN forward pass\n\n(not measured in this file yet: `node --import tsx bench/model.ts`)\n';
    const start = old.indexOf('\n## 5.');
    let next: string;
    if (start >= 0) {
      const after = old.indexOf('\n## ', start + 1);
      next = old.slice(0, start) + '\n' + section + (after >= 0 ? old.slice(after) : '');
    } else next = old.replace(/\n*$/, '\n') + '\n' + section;
    writeFileSync(path, next);
    log('[engines] wrote the ## 5. section of bench/RESULTS.md');
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
