/**
 * Paired comparison of two singing-voice models on the TEST splits of corpus-big, corpus-huge and
 * corpus-games: each at its own weight-file threshold, 56-frame median; the difference of pooled
 * frame errors (B − A) with a 95 % paired percentile bootstrap over songs (4 000 resamples, seed 1).
 * Pairing removes the song-to-song spread that makes each model's own interval ±1–2 points wide.
 * Usage: node --import tsx scripts/compare-models.ts assets/models/svd-v2 assets/models/svd-default
 * (docs/training.md §10); `--test <corpus>` (repeatable) replaces the three corpora, e.g. to add
 * the extra test songs of `npm run corpus:extra-test`. The pooled row counts corpus-huge's 5
 * repeats of corpus-big test songs twice.
 */
import { resolve } from 'node:path';
import { createClassifier } from '../src/model/engines.ts';
import { loadWeights } from '../src/model/weights.ts';
import { listCorpus, loadSongs, normaliseSong } from '../src/model/dataset.ts';
import { evaluate, ratioBootstrap } from '../src/model/train.ts';
const args = process.argv.slice(2);
const given: string[] = [];
const models: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--test' && args[i + 1]) given.push(args[++i]!);
  else models.push(args[i]!);
}
const [a, b] = models;
if (!a || !b || models.length !== 2) {
  console.error('usage: node --import tsx scripts/compare-models.ts <model dir A> <model dir B> [--test <corpus>]...');
  process.exit(2);
}
const corpora = given.length > 0 ? given : ['corpus-big', 'corpus-huge', 'corpus-games'];
const sets = await Promise.all(corpora.map(async (c) => loadSongs((await listCorpus(c)).filter((e) => e.split === 'test'), { accompaniment: false })));
async function errs(d: string) {
  const w = await loadWeights(resolve(d)); const info = w.info as any;
  const stats = { mean: Float32Array.from(info.normalization.mean), std: Float32Array.from(info.normalization.std) };
  const clf = await createClassifier(w, { engine: 'ort' });
  const out: Array<{ e: number; f: number }[]> = [];
  for (const songs of sets) {
    const r = [];
    for (const s of songs) {
      // per song: frames wrong and frames, as evaluate counts them (median 56, > threshold = voice)
      const m = evaluate([await clf.predictFrames(normaliseSong(s, stats), s.nFrames)], [s.labels], info.threshold, 56);
      r.push({ e: Math.round(m.error * m.frames), f: m.frames });
    }
    out.push(r);
  }
  clf.dispose();
  return out;
}
const A = await errs(a!), B = await errs(b!);
const report = (name: string, ea: { e: number; f: number }[], eb: { e: number; f: number }[]) => {
  // paired: each resampled song brings both models' errors on it
  const ci = ratioBootstrap(ea.map((z, i) => eb[i]!.e - z.e), ea.map((z) => z.f), { reps: 4000, seed: 1 });
  const tot = (v: { e: number }[]) => v.reduce((s, z) => s + z.e, 0); const F = ea.reduce((s, z) => s + z.f, 0);
  const better = ea.filter((z, i) => eb[i]!.e < z.e).length;
  console.log(`${name} (${ea.length} songs): A ${(100 * tot(ea) / F).toFixed(2)} B ${(100 * tot(eb) / F).toFixed(2)} diff B−A ${(100 * (tot(eb) - tot(ea)) / F).toFixed(2)} points, 95 % paired interval ${(100 * ci.low).toFixed(2)} … ${(100 * ci.high).toFixed(2)}; B better on ${better} songs`);
};
corpora.forEach((c, i) => report(c, A[i]!, B[i]!));
report(given.length > 0 ? 'all' : 'all (huge incl. 5 repeats)', A.flat(), B.flat());
