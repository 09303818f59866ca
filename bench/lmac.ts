/**
 * Issue 11 item 8: time per explanation of L-MAC (one decoder forward pass on the magnitude of
 * an excerpt) against Integrated Gradients with 50 steps (Captum's Gauss–Legendre quadrature,
 * batched tf.grad through the magnitude model: src/explain/attribution) and SLIME (temporal
 * d = 10, dedup sampler, N_s = 50 000 → at most 1 024 distinct forward passes: src/explain
 * explain()), on the same excerpts, in one run, all on TF.js wasm in this process. Also the
 * decoder's training time from its manifest. Appends (or prints with --print) a section for
 * bench/RESULTS.md.
 *
 *   node --import tsx bench/lmac.ts [--decoder assets/models/lmac-default] [--model assets/models/svd-default]
 *        [--clips 4] [--ig-batch 25] [--slime-engine auto|tfjs|ort] [--print]
 *
 * Excerpts: 115-frame excerpts centred on spread-out frames of the corpus's test songs
 * (corpus/, when built), else of assets/lena-sung.wav.
 */
import { existsSync, readdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

import { loadMono } from '../src/audio/node.ts';
import { explain } from '../src/explain/index.ts';
import { createMaskExplainer } from '../src/explain/attribution/index.ts';
import { loadLmac, clipSpectrogram, excerptMagnitude } from '../src/explain/lmac/index.ts';
import { FrontEnd } from '../src/frontend/frontend.ts';
import { initBackend } from '../src/model/backend.ts';
import { createClassifier } from '../src/model/engines.ts';
import { loadWeights } from '../src/model/weights.ts';
import { registerWasmTrainingKernels } from '../src/model/wasm_kernels.ts';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const decoderDir = arg('decoder', join(ROOT, 'assets/models/lmac-default'));
const modelDir = arg('model', join(ROOT, 'assets/models/svd-default'));
const nClips = Number(arg('clips', '4'));
const igBatch = Number(arg('ig-batch', '25'));
const print = process.argv.includes('--print');
// SLIME is model-agnostic and forward-only: by default it runs on earshot's fastest engine for
// that (auto: onnxruntime-node where it loads), as `earshot explain` does; L-MAC and IG need
// the differentiable TF.js model.
const slimeEngine = arg('slime-engine', 'auto') as 'auto' | 'tfjs' | 'ort';

const info = await initBackend('wasm');
registerWasmTrainingKernels();
const weights = await loadWeights(modelDir);
const lmac = await loadLmac(decoderDir, weights);
const fe = new FrontEnd(weights.info.frontend);
const stats = { mean: Float32Array.from(weights.info.normalization!.mean), std: Float32Array.from(weights.info.normalization!.std) };
const classifier = await createClassifier(weights, { engine: slimeEngine });
const ig = createMaskExplainer('ig', lmac.magnitudeModel, { ig: { steps: 50, batchSize: igBatch } });

// Excerpts: (clip path, centre frame).
const sources: string[] = [];
const corpusTest = join(ROOT, 'corpus', 'test');
if (existsSync(corpusTest)) for (const s of readdirSync(corpusTest).sort()) if (existsSync(join(corpusTest, s, 'mix.wav'))) sources.push(join(corpusTest, s, 'mix.wav'));
if (sources.length === 0) sources.push(join(ROOT, 'assets', 'lena-sung.wav'));
const excerpts: Array<{ src: string; c: number; mag: Float32Array; mel: Float32Array; signal: Float32Array }> = [];
for (let i = 0; i < nClips; i++) {
  const src = sources[i % sources.length]!;
  const signal = await loadMono(src, fe.config.sampleRate);
  const spec = clipSpectrogram(signal, fe.config);
  const k = Math.floor(i / sources.length);
  const c = Math.min(spec.nFrames - 58, 57 + Math.floor(((k + 1) * (spec.nFrames - 115)) / (Math.ceil(nClips / sources.length) + 1)));
  const mag = excerptMagnitude(spec, c);
  const lm = fe.logMel(signal);
  const padded = fe.pad(fe.normalise(lm.data, stats), stats).data;
  const mel = padded.slice(c * fe.nMels, (c + 115) * fe.nMels);
  excerpts.push({ src, c, mag, mel, signal });
}

const median = (a: number[]) => {
  const s = a.slice().sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load1 = (await import('node:os')).loadavg()[0]!;

// Warm-up (kernels, XNNPACK caches, engine sessions) on the first excerpt, untimed and short.
await lmac.explainMagnitude(excerpts[0]!.mag);
const igWarm = createMaskExplainer('ig', lmac.magnitudeModel, { ig: { steps: igBatch, batchSize: igBatch } });
await igWarm.explain(excerpts[0]!.mag);
igWarm.dispose?.();
await explain(classifier, excerpts[0]!.mel, { method: 'slime', sampler: 'random', numSamples: 128, segmentation: 'temporal', numComponents: 10, seed: 0 });

const tL: number[] = [];
const tI: number[] = [];
const tS: number[] = [];
let passes = 0;
for (const e of excerpts) {
  // interleaved per excerpt, so background load hits all three alike
  let t = performance.now();
  for (let r = 0; r < 5; r++) await lmac.explainMagnitude(e.mag);
  tL.push((performance.now() - t) / 5);
  t = performance.now();
  await ig.explain(e.mag);
  tI.push(performance.now() - t);
  t = performance.now();
  const x = await explain(classifier, e.mel, { method: 'slime', sampler: 'dedup', segmentation: 'temporal', numComponents: 10, seed: 0 });
  tS.push(performance.now() - t);
  passes = x.forwardPasses;
  process.stderr.write(`lmac bench: ${e.src.split('/').slice(-2).join('/')} frame ${e.c}: L-MAC ${tL.at(-1)!.toFixed(1)} ms, IG-50 ${tI.at(-1)!.toFixed(0)} ms, SLIME ${tS.at(-1)!.toFixed(0)} ms\n`);
}
const mL = median(tL);
const mI = median(tI);
const mS = median(tS);
const tr = lmac.file.info.training as { history?: Array<{ seconds: number; stage: string }>; command?: string; stage?: string; seed?: number };
const ownSeconds = (tr.history ?? []).reduce((a, h) => a + h.seconds, 0);
// Warm starts record the runs before them (src/explain/lmac/train.ts `initialisedFrom`).
const chainSeconds = (x: { seconds?: number | null; initialisedFrom?: unknown } | null | undefined): number =>
  x ? (x.seconds ?? 0) + chainSeconds(x.initialisedFrom as typeof x) : 0;
const warmSeconds = chainSeconds((tr as { initialisedFrom?: { seconds?: number } }).initialisedFrom ?? null);
const trainSeconds = ownSeconds + warmSeconds;
const stages = (tr.history ?? []).reduce((m, h) => ({ ...m, [h.stage]: (m[h.stage] ?? 0) + 1 }), {} as Record<string, number>);
const lines = [
  '',
  `## ${'L-MAC'}: time per explanation vs Integrated Gradients (50 steps) and SLIME (dedup)`,
  '',
  `\`node --import tsx bench/lmac.ts --clips ${nClips} --ig-batch ${igBatch} --slime-engine ${slimeEngine}\` — ${new Date().toISOString().slice(0, 10)}, TF.js ${info.backend} (SIMD ${info.simd ? 'on' : 'off'}, one thread), load average (1 min) ${load1.toFixed(2)} at the start.`,
  `${excerpts.length} excerpts (115 frames) of ${[...new Set(excerpts.map((e) => e.src.split('/').slice(-2).join('/')))].join(', ')}; the same excerpts for all three, interleaved; medians.`,
  `Classifier ${weights.info.id} (${lmac.file.info.classifier.fingerprint}), decoder ${decoderDir.replace(ROOT + '/', '')} (${tr.stage ?? '?'} stage).`,
  '',
  '| method | what runs | ms per explanation (median) | L-MAC speed-up |',
  '|---|---|---:|---:|',
  `| L-MAC | decoder: 1 classifier pass for the activations + the decoder, no gradient | ${mL.toFixed(1)} | 1.0× |`,
  `| Integrated Gradients, 50 steps | 50 interpolations of \\|X\\| (Gauss–Legendre), batched ${igBatch}, tf.grad through the front end + CNN | ${mI.toFixed(0)} | ${(mI / mL).toFixed(0)}× |`,
  `| SLIME, temporal d = 10, dedup | ${passes} distinct forward passes (of N_s = 50 000 samples) + ridge; engine ${classifier.engine} | ${mS.toFixed(0)} | ${(mS / mL).toFixed(0)}× |`,
  '',
  `Target (issue 11): L-MAC ≥ 20× faster than IG-50 — ${mI / mL >= 20 ? 'met' : 'NOT met'} (${(mI / mL).toFixed(1)}×).`,
  `Training the decoder (once per classifier, amortised over every explanation): ${(ownSeconds / 60).toFixed(1)} min for ${Object.entries(stages).map(([k, v]) => `${v} ${k === 'ft' ? 'fine-tuning' : 'masking'} epoch${v === 1 ? '' : 's'}`).join(' + ')}` +
    `${warmSeconds ? ` + ${(warmSeconds / 60).toFixed(1)} min of the warm-start runs it started from = ${(trainSeconds / 60).toFixed(1)} min in all, on the shared machine` : ''} ` +
    `(\`${tr.command ?? '?'}\`, seed ${tr.seed ?? '?'}; see assets/models/lmac-default/MODEL_CARD.md). At these rates that is the time of ≈ ${Math.round((trainSeconds * 1000) / mI)} IG-50 explanations.`,
  '',
];
const text = lines.join('\n');
if (print) console.log(text);
else {
  appendFileSync(join(ROOT, 'bench', 'RESULTS.md'), text);
  console.log(text);
}
ig.dispose?.();
lmac.dispose();
classifier.dispose();


