/**
 * The excerpts the mask evaluations run on (Node only: reads audio files). An excerpt is 115
 * consecutive frames of the linear STFT magnitude |X| of the singing-voice front end (methods.md
 * §1: symmetric Hann 1024, hop 315, no centring; 513 bins), the grid on which L-MAC and the
 * baselines put their masks (methods.md §7–8).
 *
 * From a corpus (docs/corpus.md; manifest.json with the split, per song mix.wav, vocals.wav,
 * accompaniment.wav, labels.json), excerpts are drawn from one split's songs in turn, at seeded
 * random positions, alternating between excerpts whose centre frame is voiced and unvoiced, and
 * carry the stems' magnitudes: the vocal's ideal binary mask 1[|V| > |A|] is a ground truth for
 * "where is the voice" that the paper's datasets do not have. From plain audio files
 * (`audioExcerpts`, CI and ad-hoc use) excerpts are spread evenly over each file, with no stems.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { SINGING_VOICE_STFT, stft } from '../../bindings/stft.ts';
import { loadMono } from '../audio/node.ts';
import { Rng } from '../explain/rng.ts';
import { listCorpus, type Split } from '../model/dataset.ts';

export const EXCERPT_FRAMES = 115;
export const STFT_BINS = 513;
export const SAMPLE_RATE = 22050;

export interface EvalExcerpt {
  /** Stable id: `<song>@<first frame>`. */
  key: string;
  song: string;
  /** First STFT frame of the excerpt. */
  start: number;
  /** Label of the centre frame (1 voiced, 0 unvoiced, −1 unknown). */
  label: number;
  /** |X| of the mix, 115 × 513. */
  mag: Float32Array;
  /** |V| and |A| of the stems (corpus only). */
  vocals?: Float32Array;
  accompaniment?: Float32Array;
}

/** |X| of a mono 22 050 Hz signal: { data: frames × 513, nFrames }. */
export function magnitudeOf(signal: Float32Array): { data: Float32Array; nFrames: number } {
  const r = stft(signal, { ...SINGING_VOICE_STFT });
  return { data: r.data, nFrames: r.nFrames };
}

function slice(data: Float32Array, start: number): Float32Array {
  return data.slice(start * STFT_BINS, (start + EXCERPT_FRAMES) * STFT_BINS);
}

export interface CorpusExcerptOptions {
  split?: Split;
  count: number;
  seed?: number;
  /** Also read the stems (default true). */
  stems?: boolean;
  /** Take excerpts from the first `songs` songs of the split only (default all). */
  songs?: number;
}

/** `count` excerpts of the corpus split (default 'test'), balanced between voiced and unvoiced centres. */
export async function corpusExcerpts(dir: string, o: CorpusExcerptOptions): Promise<EvalExcerpt[]> {
  const count = checkInt(o.count, 'excerpts', 1, 100_000);
  const split = o.split ?? 'test';
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new EarshotError('CORPUS_MISSING', `corpus: ${dir}/manifest.json not found; build the corpus with \`npm run corpus\` (docs/corpus.md) or pass --audio FILES`);
  }
  let songs = (await listCorpus(dir)).filter((s) => s.split === split).sort((a, b) => (a.id < b.id ? -1 : 1));
  if (o.songs !== undefined) songs = songs.slice(0, checkInt(o.songs, 'songs', 1));
  if (songs.length === 0) throw new EarshotError('CORPUS_EMPTY', `corpus ${dir} has no '${split}' songs`);
  const rng = new Rng(checkInt(o.seed ?? 1, 'seed', 0, 0xffffffff));
  const cache = new Map<string, { mix: Float32Array; voc?: Float32Array; acc?: Float32Array; labels: Uint8Array; nFrames: number }>();
  const load = async (i: number) => {
    const s = songs[i]!;
    let c = cache.get(s.id);
    if (c) return c;
    const mix = magnitudeOf(await loadMono(s.mix, SAMPLE_RATE));
    const lj = JSON.parse(await readFile(s.labels, 'utf8')) as { labels?: number[] };
    if (!Array.isArray(lj.labels)) throw new EarshotError('CORPUS_CORRUPT', `corpus: ${s.labels} has no "labels" array`);
    const labels = Uint8Array.from(lj.labels, (v) => (v ? 1 : 0));
    c = { mix: mix.data, labels, nFrames: mix.nFrames };
    if (o.stems !== false) {
      const vocalsPath = join(s.dir, 'vocals.wav');
      if (existsSync(vocalsPath) && existsSync(s.accompaniment)) {
        const v = magnitudeOf(await loadMono(vocalsPath, SAMPLE_RATE));
        const a = magnitudeOf(await loadMono(s.accompaniment, SAMPLE_RATE));
        if (v.nFrames >= mix.nFrames && a.nFrames >= mix.nFrames) {
          c.voc = v.data;
          c.acc = a.data;
        }
      }
    }
    cache.set(s.id, c);
    return c;
  };
  const out: EvalExcerpt[] = [];
  const seen = new Set<string>();
  for (let i = 0; out.length < count && i < count * 20; i++) {
    const si = i % songs.length;
    const c = await load(si);
    if (c.nFrames < EXCERPT_FRAMES) continue;
    const want = out.length % 2 === 0 ? 1 : 0;
    let start = 0;
    for (let tries = 0; tries < 50; tries++) {
      start = rng.below(c.nFrames - EXCERPT_FRAMES + 1);
      if (c.labels[start + (EXCERPT_FRAMES >> 1)] === want) break;
    }
    const key = `${songs[si]!.id}@${start}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      key,
      song: songs[si]!.id,
      start,
      label: c.labels[start + (EXCERPT_FRAMES >> 1)] ?? -1,
      mag: slice(c.mix, start),
      ...(c.voc && c.acc ? { vocals: slice(c.voc, start), accompaniment: slice(c.acc, start) } : {}),
    });
  }
  if (out.length === 0) throw new EarshotError('CORPUS_EMPTY', `corpus ${dir}: no '${split}' song is long enough for a ${EXCERPT_FRAMES}-frame excerpt`);
  return out;
}

/** `count` excerpts spread evenly over the given audio files (no labels, no stems). */
export async function audioExcerpts(paths: string[], count: number): Promise<EvalExcerpt[]> {
  checkInt(count, 'excerpts', 1, 100_000);
  if (paths.length === 0) throw new EarshotError('BAD_USAGE', 'audio: no files given');
  const mags = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new EarshotError('FILE_NOT_FOUND', `--audio: ${p} does not exist`);
    const m = magnitudeOf(await loadMono(p, SAMPLE_RATE));
    if (m.nFrames < EXCERPT_FRAMES) throw new EarshotError('TOO_SHORT', `--audio: ${p} is shorter than one ${EXCERPT_FRAMES}-frame excerpt (${((1024 + 315 * (EXCERPT_FRAMES - 1)) / SAMPLE_RATE).toFixed(2)} s)`);
    mags.push({ p, ...m });
  }
  const out: EvalExcerpt[] = [];
  for (let i = 0; i < count; i++) {
    const f = mags[i % mags.length]!;
    const k = Math.floor(i / mags.length);
    const per = Math.ceil(count / mags.length);
    const start = Math.floor(((k + 0.5) / per) * (f.nFrames - EXCERPT_FRAMES));
    const name = f.p.split(/[\\/]/).pop()!;
    out.push({ key: `${name}@${start}`, song: name, start, label: -1, mag: slice(f.data, start) });
  }
  return out;
}
