/**
 * Issue 5 item 10: one SLIME explanation of one excerpt — temporal d = 10, N_s = 70 000, `zero`
 * content, Euclidean distance — by earshot (dedup sampler: each distinct row through the CNN
 * once, TF.js wasm) against a Python reference run that does what the reference code does
 * (bench/slime_reference.py: NumPy sampling, N_s forward passes of the same CNN in PyTorch CPU,
 * scikit-learn Ridge), in one run, with both top-3 lists. Then U_n (methods.md §4: |union of the
 * top-3 positive| over 5 repeated explanations) for the random sampler vs the exhaustive design
 * at an equal number of forward passes (2^10 = 1 024 each).
 *
 * The CNN: a seeded PyTorch SVD CNN (scripts/convert_pytorch.py's module) converted to earshot's
 * weight format, so both sides run the same weights. The excerpt: the middle of
 * assets/lena-sung.wav through the SVD front end, z-scored with the clip's own statistics.
 *
 *   node --import tsx bench/slime.ts [--samples 70000] [--ref-samples N] [--seed 0] [--engine auto|tfjs|ort|ort-web] [--no-un] [--out bench/SLIME.md]
 *
 * --engine: where earshot's forward passes run (src/model/engines.ts; default auto = the fastest
 * that loads, onnxruntime-node first).
 *
 * --ref-samples < --samples runs the PyTorch reference on fewer samples and scales its time
 * linearly to N_s (its cost is N_s forward passes; said so in the output). Writes bench/SLIME.md
 * (or --out).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav, mixdown } from '../src/audio/index.ts';
import { explain, type ExplainOptions } from '../src/explain/index.ts';
import { FrontEnd } from '../src/frontend/frontend.ts';
import { NormStats } from '../src/frontend/stats.ts';
import { initBackend } from '../src/model/index.ts';
import { createClassifier, type EngineChoice } from '../src/model/engines.ts';

const ROOT = join(import.meta.dirname, '..');
const PY = '/usr/bin/python3';
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const numSamples = arg('samples', 70000);
const refSamples = arg('ref-samples', numSamples);
const seed = arg('seed', 0);
const withUn = !process.argv.includes('--no-un');
const engineIdx = process.argv.indexOf('--engine');
const engine = (engineIdx >= 0 ? process.argv[engineIdx + 1] : 'auto') as EngineChoice;
const outIdx = process.argv.indexOf('--out');
const outPath = outIdx >= 0 ? process.argv[outIdx + 1]! : join(ROOT, 'bench', 'SLIME.md');

function py(args: string[]): string {
  const r = spawnSync(PY, [join(ROOT, 'bench', 'slime_reference.py'), ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`slime_reference.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

const info = await initBackend('wasm');
const dir = mkdtempSync(join(tmpdir(), 'earshot-slime-bench-'));
try {
  py(['make-model', dir, '--seed', '1']);
  const model = await createClassifier(dir, { engine, onInfo: (m) => console.error(`slime bench: ${m}`) });

  const wav = decodeWav(new Uint8Array(readFileSync(join(ROOT, 'assets', 'lena-sung.wav'))));
  const fe = new FrontEnd();
  const lm = fe.logMel(mixdown(wav.channels));
  const stats = new NormStats(80).add(lm.data, lm.nFrames).finish();
  const prepared = fe.pad(fe.normalise(lm.data, stats), stats);
  const frame = Math.floor(lm.nFrames / 2);
  const x = fe.excerpt(prepared, frame);
  const excerptPath = join(dir, 'excerpt.f32');
  writeFileSync(excerptPath, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));

  const opts: ExplainOptions = { segmentation: 'temporal', numComponents: 10, content: 'zero', distance: 'euclidean', numSamples, seed };
  const t0 = performance.now();
  const e = await explain(model, x, { ...opts, sampler: 'dedup' });
  const earshotMs = performance.now() - t0;
  const top3 = e.topPositive(3);

  const ref = JSON.parse(py(['explain', join(dir, 'model.pt'), excerptPath, '--samples', String(refSamples), '--seed', String(seed)]));
  const scale = numSamples / refSamples;
  const refMs = ref.timings.explainMs * scale;
  const sameSet = JSON.stringify([...top3].sort()) === JSON.stringify([...(ref.top3 as number[])].sort());
  const sameOrder = JSON.stringify(top3) === JSON.stringify(ref.top3);

  const lines = [
    `# SLIME: earshot vs the Python reference (bench/slime.ts)`,
    ``,
    `${new Date().toISOString()}; earshot engine ${model.engine} (${model.threads} thread(s)); PyTorch ${ref.torch} CPU (${ref.threads} thread(s)); the same seeded CNN on both sides.`,
    `One excerpt (frame ${frame} of assets/lena-sung.wav), temporal d = 10, content zero, Euclidean distance, kw 0.25, ridge α = 1, N_s = ${numSamples}, seed ${seed}.`,
    ``,
    `| | forward passes | time | top-3 positive |`,
    `|---|---|---|---|`,
    `| earshot (dedup) | ${e.forwardPasses} | ${(earshotMs / 1000).toFixed(2)} s (model ${((e.params.timings as { modelMs: number }).modelMs / 1000).toFixed(2)} s) | ${JSON.stringify(top3)} |`,
    `| Python reference (NumPy + PyTorch + sklearn) | ${numSamples} | ${(refMs / 1000).toFixed(1)} s${scale !== 1 ? ` (measured ${(ref.timings.explainMs / 1000).toFixed(1)} s on ${refSamples} samples, scaled ×${scale.toFixed(2)})` : ''} | ${JSON.stringify(ref.top3)} |`,
    ``,
    `Speed-up end to end: **${(refMs / earshotMs).toFixed(1)}×** (target ≥ 50×). Same top-3 set: ${sameSet ? 'yes' : 'no'}${sameSet && !sameOrder ? ' (in another order)' : ''}.`,
    `P(voice) of the excerpt: earshot ${e.prediction.toFixed(6)}, PyTorch ${ref.prediction.toFixed(6)}.`,
    `earshot weights: ${Array.from(e.weights, (v) => v.toExponential(3)).join(', ')}`,
    `reference weights: ${ref.weights.map((v: number) => v.toExponential(3)).join(', ')}`,
  ];

  if (withUn) {
    // U_n at an equal number of forward passes: random with N_s = 1 024 rows vs the exhaustive design (1 024 rows)
    const unOpts: ExplainOptions = { ...opts, numSamples: 1024 };
    const union = (sets: number[][]) => new Set(sets.flat()).size;
    const rnd: number[][] = [];
    const exh: number[][] = [];
    for (let s = 1; s <= 5; s++) rnd.push((await explain(model, x, { ...unOpts, sampler: 'random', seed: s })).topPositive(3));
    for (let s = 1; s <= 2; s++) exh.push((await explain(model, x, { ...unOpts, sampler: 'exhaustive', seed: s })).topPositive(3));
    const exhSame = JSON.stringify(exh[0]) === JSON.stringify(exh[1]);
    lines.push(
      ``,
      `## U_n over 5 repeated explanations (1 024 forward passes each; same settings)`,
      ``,
      `- random, seeds 1–5: top-3 ${rnd.map((t) => JSON.stringify(t)).join(' ')} → U_n = ${union(rnd)}`,
      `- exhaustive: ${JSON.stringify(exh[0])} for every seed (checked on 2 seeds: ${exhSame ? 'identical' : 'DIFFERENT'}) → U_n = ${exh[0]!.length}`,
    );
  }
  const text = lines.join('\n') + '\n';
  console.log(text);
  writeFileSync(outPath, text);
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
