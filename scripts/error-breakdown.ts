/**
 * Where a singing-voice model's frame errors are: the frame error, recall and specificity of one
 * split of one or more corpora, grouped by the singer's sex, engine and voice, by the song's
 * vocal-to-accompaniment level and by its accompaniment kind (from each corpus's manifest), at
 * the weight file's threshold with the 56-frame median filter. Meant for VALIDATION songs: reading
 * test errors by group and then changing the training is selection on the test split.
 * Usage: node --import tsx scripts/error-breakdown.ts <model dir> <split> <corpus>...
 *   e.g. node --import tsx scripts/error-breakdown.ts assets/models/svd-default valid corpus-big corpus-huge corpus-games
 */
import { resolve, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createClassifier } from '../src/model/engines.ts';
import { loadWeights } from '../src/model/weights.ts';
import { listCorpus, loadSongs, normaliseSong, SPLITS, type Split } from '../src/model/dataset.ts';
import { evaluate } from '../src/model/train.ts';

const [dir, split, ...corpora] = process.argv.slice(2);
if (!dir || !SPLITS.includes(split as Split) || corpora.length === 0) {
  console.error('usage: node --import tsx scripts/error-breakdown.ts <model dir> <train|valid|test> <corpus>...');
  process.exit(2);
}
const w = await loadWeights(resolve(dir));
const info = w.info as { threshold: number; normalization: { mean: number[]; std: number[] } };
const stats = { mean: Float32Array.from(info.normalization.mean), std: Float32Array.from(info.normalization.std) };
const clf = await createClassifier(w, { engine: 'ort' });

/** Per group: wrong frames, frames, songs, true positives, voiced frames, true negatives, unvoiced frames. */
const groups = new Map<string, number[]>();
let wrong = 0;
let frames = 0;
const snrBand = (db: number) => (db < 0 ? '< 0 dB' : db < 4 ? '0–4 dB' : db < 8 ? '4–8 dB' : '≥ 8 dB');
for (const corpus of corpora) {
  const manifest = JSON.parse(await readFile(join(corpus, 'manifest.json'), 'utf8')) as { songs: any[] };
  const meta = new Map(manifest.songs.map((s) => [s.id as string, s]));
  const songs = await loadSongs((await listCorpus(corpus)).filter((e) => e.split === split), { accompaniment: false });
  for (const s of songs) {
    const m = evaluate([await clf.predictFrames(normaliseSong(s, stats), s.nFrames)], [s.labels], info.threshold, 56);
    const voiced = s.labels.reduce((a, b) => a + b, 0);
    const row = [m.error * s.nFrames, s.nFrames, 1, m.recall * voiced, voiced, m.specificity * (s.nFrames - voiced), s.nFrames - voiced];
    wrong += row[0]!;
    frames += row[1]!;
    const md = meta.get(s.id);
    const singer = md?.singer;
    const keys = [`accompaniment ${md?.accompaniment?.kind ?? '?'}`, `sex ${singer?.sex ?? 'none (instrumental)'}`];
    if (singer) {
      keys.push(`engine ${singer.engine} ${singer.sex}`, `voice ${singer.variant ?? singer.voice} (${singer.sex})`);
      if (typeof md.vocalToAccompDb === 'number') keys.push(`vocals/accompaniment ${snrBand(md.vocalToAccompDb)}`);
    }
    for (const k of keys) {
      const g = groups.get(k) ?? [0, 0, 0, 0, 0, 0, 0];
      row.forEach((v, i) => (g[i] += v));
      groups.set(k, g);
    }
  }
}
clf.dispose();
const pct = (a: number, b: number) => (b > 0 ? (100 * a / b).toFixed(1) : '–');
console.log(`${split} songs of ${corpora.join(', ')} — ${dir} (threshold ${info.threshold}, median 56): frame error ${pct(wrong, frames)} % over ${frames} frames`);
console.log('| group | songs | frame error % | share of errors % | recall % | specificity % |\n|---|---:|---:|---:|---:|---:|');
for (const [k, [e, n, c, tp, pos, tn, neg]] of [...groups].sort((a, b) => a[0].localeCompare(b[0]))) {
  console.log(`| ${k} | ${c} | ${pct(e!, n!)} | ${pct(e!, wrong)} | ${pct(tp!, pos!)} | ${pct(tn!, neg!)} |`);
}
