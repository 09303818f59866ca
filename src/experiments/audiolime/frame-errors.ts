/**
 * How much a model relies on the spurious tone, without any explainer: frame error of the clean
 * and of the confounded model (./confound.ts) on the held-out (test) songs, with the tone added
 * where voiced (the confounded condition) and without it (the real task), each model at its own
 * weight file's threshold, P(voice) median-filtered over 56 frames (methods.md §1). A model that
 * learned the tone instead of the voice is good with the tone and poor without it.
 *
 *   node --import tsx src/experiments/audiolime/frame-errors.ts [corpus] [out.txt]
 */
import { writeFile } from 'node:fs/promises';
import { loadMono } from '../../audio/node.ts';
import { FrontEnd, SVD_FRONTEND } from '../../frontend/index.ts';
import { listCorpus } from '../../model/dataset.ts';
import { createClassifier } from '../../model/engines.ts';
import { evaluate } from '../../model/train.ts';
import { loadWeights } from '../../model/weights.ts';
import { readLabels, rms, spuriousTone } from './confound.ts';

const corpus = process.argv[2] ?? 'corpus';
const outPath = process.argv[3] ?? 'results/audiolime/frame-errors.txt';
const fe = new FrontEnd(SVD_FRONTEND);
const sr = fe.config.sampleRate;
const songs = (await listCorpus(corpus)).filter((e) => e.split === 'test');
const lines = [`frame error on the ${songs.length} test songs (threshold of each weight file, 56-frame median filter)`, ''];
for (const [name, dir] of [['default', 'assets/models/svd-default'], ['confounded', 'assets/models/svd-confounded']] as const) {
  const w = await loadWeights(dir);
  const n = w.info.normalization!;
  const stats = { mean: Float32Array.from(n.mean), std: Float32Array.from(n.std) };
  const model = await createClassifier(w, { engine: 'auto' });
  const probs: Record<'clean' | 'tone', Float32Array[]> = { clean: [], tone: [] };
  const labels: Uint8Array[] = [];
  for (const e of songs) {
    const mix = await loadMono(e.mix, sr, { onWarning: () => {} });
    const lab = await readLabels(e.labels);
    labels.push(lab);
    const tone = spuriousTone(lab, mix.length, sr, fe.config.hop, fe.config.nFft, rms(mix));
    for (const cond of ['clean', 'tone'] as const) {
      const x = cond === 'clean' ? mix : mix.map((v, i) => v + tone[i]!);
      const lm = fe.logMel(x);
      probs[cond].push(await model.predictFrames(fe.normalise(lm.data, stats), lm.nFrames));
    }
  }
  for (const cond of ['tone', 'clean'] as const) {
    const m = evaluate(probs[cond], labels, model.threshold, 56);
    lines.push(`${name.padEnd(10)} ${cond === 'tone' ? 'with the tone where voiced' : 'clean mixtures (no tone)  '}: error ${(100 * m.error).toFixed(1)} %, recall ${(100 * m.recall).toFixed(1)} %, specificity ${(100 * m.specificity).toFixed(1)} % (threshold ${model.threshold.toFixed(2)})`);
  }
  model.dispose();
}
await writeFile(outPath, lines.join('\n') + '\n');
console.log(lines.join('\n'));
