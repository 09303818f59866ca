/**
 * Issue 10 item 6: one audioLIME explanation of a 10 s clip — 2 sources (the corpus song's true
 * vocals and accompaniment stems) × 10 one-second segments, N_s = 2048, the default model's mean
 * P(voice) over all frames — by earshot (fast spectral path, receptive-field caching, the engine
 * picked by `auto`) against a Python reference that does what the reference code does
 * (bench/audiolime_reference.py: the waveform sum per sample, the front end in NumPy per sample,
 * the fully-convolutional CNN in PyTorch CPU in batches, scikit-learn Ridge), in the same run, on
 * the same weights.
 *
 *   node --import tsx bench/audiolime.ts [--song corpus/test/song-0002] [--samples 2048] [--ref-samples 256] [--seed 0] [--engine auto]
 *
 * --ref-samples M < N_s runs the reference on the first M samples only and scales its sampling +
 * front-end + model time linearly to N_s (its cost is one front end and one forward pass per
 * sample; said so in the output); the fit is then earshot's only. Prints a Markdown section.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMono } from '../src/audio/node.ts';
import { explainAudioLime } from '../src/explain/audiolime/explain.ts';
import { createClassifier, type EngineChoice } from '../src/model/engines.ts';
import { loadWeights } from '../src/model/weights.ts';

const ROOT = join(import.meta.dirname, '..');
const PY = '/usr/bin/python3';
const argOf = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const song = argOf('song', join(ROOT, 'corpus', 'test', 'song-0002'));
const numSamples = Number(argOf('samples', '2048'));
const refSamples = Number(argOf('ref-samples', '256'));
const seed = Number(argOf('seed', '0'));
const engine = argOf('engine', 'auto') as EngineChoice;
const modelDir = argOf('model', join(ROOT, 'assets', 'models', 'svd-default'));
if (!existsSync(join(song, 'vocals.wav'))) {
  console.error(`audiolime bench: ${song}/vocals.wav not found — build the corpus first (npm run corpus, docs/corpus.md) or pass --song DIR with vocals.wav and accompaniment.wav`);
  process.exit(2);
}

const SR = 22050;
const n = 10 * SR;
const vocals = (await loadMono(join(song, 'vocals.wav'), SR)).slice(0, n);
const acc = (await loadMono(join(song, 'accompaniment.wav'), SR)).slice(0, n);
const sources = { names: ['vocals', 'accompaniment'], sources: [vocals, acc], sampleRate: SR };
const weights = await loadWeights(modelDir);
const norm = weights.info.normalization!;
const stats = { mean: Float32Array.from(norm.mean), std: Float32Array.from(norm.std) };
const model = await createClassifier(weights, { engine, onInfo: (m) => console.error(`audiolime bench: ${m}`) });

// earshot: one warm-up call of the model (session start), then the explanation end to end
await model.predictFrames(new Float32Array(200 * 80), 200, { padded: true });
const t0 = performance.now();
const e = await explainAudioLime(model, sources, { numSamples, seed, normStats: stats });
const earshotMs = performance.now() - t0;
const top3 = e.topPositive(3).map((j) => e.components.names[j]!);

const dir = mkdtempSync(join(tmpdir(), 'earshot-audiolime-bench-'));
let ref: { prediction: number; torch: string; threads: number; runSamples: number; top3?: number[]; score?: number; timings: { explainMs: number; frontEndMs: number; modelMs: number; scaled: number } };
try {
  const f = join(dir, 'sources.f32');
  const both = new Float32Array(2 * n);
  both.set(vocals, 0);
  both.set(acc, n);
  writeFileSync(f, new Uint8Array(both.buffer));
  const r = spawnSync(PY, [join(ROOT, 'bench', 'audiolime_reference.py'), 'explain', modelDir, f, '2', '10', '--samples', String(numSamples), '--run-samples', String(refSamples), '--seed', String(seed)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`audiolime_reference.py failed: ${r.stderr}`);
  ref = JSON.parse(r.stdout);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const p = e.params as Record<string, any>;
const refTop = ref.top3 ? ref.top3.map((j) => e.components.names[j]!) : null;
const lines = [
  `## audioLIME: one explanation of a 10 s clip, earshot vs the Python reference (bench/audiolime.ts)`,
  ``,
  `${new Date().toISOString()}; \`node --import tsx bench/audiolime.ts --samples ${numSamples} --ref-samples ${refSamples} --seed ${seed}\`; clip: the first 10 s of ${song.replace(ROOT + '/', '')} (true stems vocals + accompaniment), 2 sources × 10 segments = 20 components, N_s = ${numSamples}, the default model (${weights.info.id}) on both sides.`,
  ``,
  `| | what runs the model | time | top-3 positive |`,
  `|---|---|---|---|`,
  `| earshot | ${model.engine} (${model.threads} thread(s)); ${p.modelCalls} calls, ${p.framesEvaluated} frames (plain: ${p.framesPlain}) | **${(earshotMs / 1000).toFixed(2)} s** | ${top3.join(', ')} |`,
  `| Python reference (NumPy front end + PyTorch ${ref.torch} CPU, ${ref.threads} thread(s), fully-convolutional, batches of 8 samples + sklearn) | ${numSamples} × ${p.frames} frames | **${(ref.timings.explainMs / 1000).toFixed(1)} s**${ref.timings.scaled !== 1 ? ` (measured on ${ref.runSamples} samples, scaled ×${ref.timings.scaled.toFixed(1)})` : ''}; front end ${(ref.timings.frontEndMs / 1000).toFixed(1)} s, model ${(ref.timings.modelMs / 1000).toFixed(1)} s | ${refTop ? refTop.join(', ') : '—'} |`,
  ``,
  `Speed-up end to end: **${(ref.timings.explainMs / earshotMs).toFixed(1)}×** (target ≥ 50×). Mean P(voice) of the clip: earshot ${e.prediction.toFixed(5)}, PyTorch ${ref.prediction.toFixed(5)}. earshot R² ${e.score.toFixed(3)}.`,
];
console.log(lines.join('\n'));
model.dispose();
