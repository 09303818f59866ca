// How well do a song's two stems add up to its mix in the log-mel domain? The vocal-remix
// augmentation (src/model/augment.ts remixVocals, docs/training.md §2) changes the vocals' level
// as a correction to the mix computed from the stems' log-mels; this measures the approximation it
// rests on: mean |ln(e^v + e^a) − m| (magnitudes added) and mean |½·ln(e^{2v} + e^{2a}) − m| (powers).
//   node --import tsx scripts/check-stem-sum.ts corpus-big song-0001 song-0002 song-0003 song-0005
import { join } from 'node:path';
import { FrontEnd } from '../src/frontend/index.ts';
import { SVD_FRONTEND } from '../src/frontend/config.ts';
import { loadMono } from '../src/audio/node.ts';
import { listCorpus } from '../src/model/dataset.ts';

const [corpus, ...ids] = process.argv.slice(2);
if (!corpus || ids.length === 0) {
  console.error('usage: node --import tsx scripts/check-stem-sum.ts <corpus dir> <song id>...');
  process.exit(2);
}
const fe = new FrontEnd(SVD_FRONTEND);
const entries = await listCorpus(corpus);
for (const id of ids) {
  const e = entries.find((x) => x.id === id);
  if (!e) throw new Error(`${join(corpus, 'manifest.json')} has no song ${id}`);
  const [m, v, a] = await Promise.all([e.mix, e.vocals, e.accompaniment].map(async (f) => fe.logMel(await loadMono(f, SVD_FRONTEND.sampleRate, { onWarning: () => {} })).data));
  let mag = 0;
  let pow = 0;
  for (let i = 0; i < m!.length; i++) {
    mag += Math.abs(Math.log(Math.exp(v![i]!) + Math.exp(a![i]!)) - m![i]!);
    pow += Math.abs(0.5 * Math.log(Math.exp(2 * v![i]!) + Math.exp(2 * a![i]!)) - m![i]!);
  }
  console.log(`${id} (${e.split}): magnitudes ${(mag / m!.length).toFixed(3)} nats, powers ${(pow / m!.length).toFixed(3)} nats`);
}
