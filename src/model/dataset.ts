/**
 * The training data of the singing-voice CNN: a corpus of songs (scripts/corpus, `manifest.json`
 * + per song `mix.wav`, `vocals.wav`, `accompaniment.wav`, `labels.json` with one 0/1 label per
 * front-end frame, hop 315) turned into balanced mini-batches of normalised 115 × 80 excerpts,
 * as methods.md §1–2 describe:
 * - log-mel of every mix (and of its accompaniment stem, the material for mixing augmentation)
 *   through the front end (src/frontend), cached as `logmel.f32` / `accompaniment.logmel.f32`
 *   next to the audio so epochs and reruns do not recompute it;
 * - per-band mean/std computed on the TRAINING split only (they travel with the model);
 * - each song padded with 57 frames of log(1e-7) at both ends, so excerpt c is centred on frame
 *   c and labelled with frame c's label;
 * - batches drawn at random frames, half voiced and half unvoiced (balanced), augmented
 *   (./augment.ts) in the log domain, then z-scored.
 * Node-only (reads files).
 */
import { readFile, writeFile, readdir, stat } from 'node:fs/promises';
import { join, resolve, isAbsolute } from 'node:path';
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { loadMono } from '../audio/node.ts';
import { FrontEnd, NormStats, SVD_FRONTEND, type BandStats } from '../frontend/index.ts';
import { widenFrontEnd } from '../frontend/config.ts';
import { applyGain, drawAugment, extractExcerpt, mixInto, pitchShiftBands, remixVocals, vocalGainCurve, type AugmentOptions, type Rng } from './augment.ts';

export type Split = 'train' | 'valid' | 'test';
export const SPLITS: readonly Split[] = ['train', 'valid', 'test'];

/** One song as listed by the corpus. */
export interface SongEntry {
  id: string;
  split: Split;
  dir: string;
  mix: string;
  vocals: string;
  accompaniment: string;
  labels: string;
}

/** One song ready for sampling: log-mel (not normalised) of the mix and of its accompaniment. */
export interface Song {
  id: string;
  split: Split;
  nFrames: number;
  nMels: number;
  /** nFrames × nMels, ln(max(mel, floor)). */
  logMel: Float32Array;
  /** Same for the accompaniment stem (null when the corpus has none). */
  accompaniment: Float32Array | null;
  /** One 0/1 label per frame. */
  labels: Uint8Array;
  /**
   * nFrames × bandsAbove log-mel bands above the front end's fMax on the same mel grid
   * (src/frontend widenFrontEnd), for pitch shifts down; absent unless loaded with `bandsAbove`.
   */
  above?: Float32Array;
  /**
   * The vocal and accompaniment stems' log-mels on the mix's own band grid (nFrames rows of
   * nMels + bandsAbove bands, the mix's bands first), for the vocal-remix augmentation; absent
   * unless loaded with `stems` (or when the corpus has no stems for the song).
   */
  stems?: { vocals: Float32Array; accompaniment: Float32Array; stride: number };
}

const CACHE_VERSION = 1;

/** List the songs of a corpus: from `manifest.json` when present, else by scanning `<split>/<song>/`. */
export async function listCorpus(dir: string): Promise<SongEntry[]> {
  const root = resolve(dir);
  let manifest: unknown = null;
  try {
    manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new EarshotError('CORPUS_CORRUPT', `corpus: ${join(root, 'manifest.json')} is not valid JSON: ${(e as Error).message}`);
  }
  const entries: SongEntry[] = [];
  if (manifest) {
    const songs = (manifest as { songs?: unknown }).songs;
    if (!Array.isArray(songs)) throw new EarshotError('CORPUS_CORRUPT', `corpus: ${join(root, 'manifest.json')} has no "songs" list`);
    for (const [i, s] of songs.entries()) {
      const o = s as { id?: unknown; split?: unknown; files?: Record<string, unknown> };
      if (typeof o.id !== 'string' || !SPLITS.includes(o.split as Split)) {
        throw new EarshotError('CORPUS_CORRUPT', `corpus: manifest songs[${i}] needs an "id" and a "split" in ${SPLITS.join('/')}`);
      }
      const split = o.split as Split;
      const songDir = join(root, split, o.id);
      const file = (k: string, dflt: string) => {
        const f = o.files?.[k];
        if (typeof f !== 'string') return join(songDir, dflt);
        if (isAbsolute(f)) return f;
        return f.includes('/') ? join(root, f) : join(songDir, f);
      };
      entries.push({
        id: o.id, split, dir: songDir, mix: file('mix', 'mix.wav'), vocals: file('vocals', 'vocals.wav'), accompaniment: file('accompaniment', 'accompaniment.wav'), labels: file('labels', 'labels.json'),
      });
    }
  } else {
    for (const split of SPLITS) {
      let names: string[] = [];
      try {
        names = (await readdir(join(root, split))).sort();
      } catch {
        continue;
      }
      for (const id of names) {
        const songDir = join(root, split, id);
        if (!(await stat(songDir)).isDirectory()) continue;
        // Without a manifest, a song directory still being written (no labels yet) is skipped.
        if (!(await exists(join(songDir, 'labels.json'))) || !(await exists(join(songDir, 'mix.wav')))) continue;
        entries.push({
          id, split, dir: songDir, mix: join(songDir, 'mix.wav'), vocals: join(songDir, 'vocals.wav'), accompaniment: join(songDir, 'accompaniment.wav'), labels: join(songDir, 'labels.json'),
        });
      }
    }
  }
  if (entries.length === 0) throw new EarshotError('CORPUS_EMPTY', `corpus: no songs found in ${root} (expected manifest.json or train/<song>/mix.wav)`);
  return entries;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** log-mel of a wav file, cached as `<cacheBase>.f32` + `<cacheBase>.json` (keyed on the front end and the source file). */
async function cachedLogMel(fe: FrontEnd, wav: string, cacheBase: string, useCache: boolean): Promise<{ data: Float32Array; nFrames: number }> {
  const src = await stat(wav);
  const key = { version: CACHE_VERSION, frontend: fe.config, source: { bytes: src.size, mtimeMs: Math.round(src.mtimeMs) } };
  const meta = `${cacheBase}.json`;
  const bin = `${cacheBase}.f32`;
  if (useCache && (await exists(meta)) && (await exists(bin))) {
    try {
      const m = JSON.parse(await readFile(meta, 'utf8')) as { key: unknown; nFrames: number; nMels: number };
      if (JSON.stringify(m.key) === JSON.stringify(key) && m.nMels === fe.nMels) {
        const b = await readFile(bin);
        if (b.byteLength === m.nFrames * m.nMels * 4) {
          const data = new Float32Array(b.byteLength / 4);
          new Uint8Array(data.buffer).set(b);
          return { data, nFrames: m.nFrames };
        }
      }
    } catch {
      // a damaged cache is recomputed below
    }
  }
  const signal = await loadMono(wav, fe.config.sampleRate, { onWarning: () => {} });
  const lm = fe.logMel(signal);
  if (useCache) {
    await writeFile(bin, new Uint8Array(lm.data.buffer, lm.data.byteOffset, lm.data.byteLength));
    await writeFile(meta, JSON.stringify({ key, nFrames: lm.nFrames, nMels: lm.nMels }) + '\n');
  }
  return { data: lm.data, nFrames: lm.nFrames };
}

export interface LoadOptions {
  frontEnd?: FrontEnd;
  /** Read/write the log-mel cache files next to the audio (default true). */
  cache?: boolean;
  /** Load the accompaniment stems (for mixing augmentation; default true for 'train'). */
  accompaniment?: boolean;
  /**
   * Also load this many mix log-mel bands above the front end's fMax (Song.above; cached as
   * `logmel-wide<k>.f32`), the material a pitch shift down reads (default 0).
   */
  bandsAbove?: number;
  /**
   * Also load the vocal and accompaniment stems on the mix's band grid (Song.stems; cached as
   * `vocals.logmel` / `vocals-wide<k>` and the like), for the vocal-remix augmentation (default false).
   * A song without both stem files is loaded without stems.
   */
  stems?: boolean;
  onProgress?: (done: number, total: number, id: string) => void;
}

/** Load the songs of the given splits (log-mel + labels). */
export async function loadSongs(entries: SongEntry[], opts: LoadOptions = {}): Promise<Song[]> {
  const fe = opts.frontEnd ?? new FrontEnd(SVD_FRONTEND);
  const useCache = opts.cache ?? true;
  const k = checkInt(opts.bandsAbove ?? 0, 'bandsAbove', 0, 1024);
  const wide = k > 0 ? new FrontEnd(widenFrontEnd(fe.config, k)) : null;
  const out: Song[] = [];
  for (const [i, e] of entries.entries()) {
    let labelsJson: { labels?: unknown; hop?: unknown };
    try {
      labelsJson = JSON.parse(await readFile(e.labels, 'utf8')) as { labels?: unknown; hop?: unknown };
    } catch (err) {
      throw new EarshotError('CORPUS_CORRUPT', `corpus: cannot read the labels of song ${e.id} (${e.labels}): ${(err as Error).message}`);
    }
    if (!Array.isArray(labelsJson.labels)) throw new EarshotError('CORPUS_CORRUPT', `corpus: ${e.labels} has no "labels" array`);
    if (labelsJson.hop !== undefined && labelsJson.hop !== fe.config.hop) {
      throw new EarshotError('CORPUS_CORRUPT', `corpus: ${e.labels} is on hop ${String(labelsJson.hop)}, the front end's hop is ${fe.config.hop}`);
    }
    // With bands above, one widened log-mel gives both: its first nMels bands are the front end's
    // log-mel exactly (widenFrontEnd keeps the filters), the rest are Song.above.
    const mix = wide ? await cachedLogMel(wide, e.mix, join(e.dir, `logmel-wide${k}`), useCache) : await cachedLogMel(fe, e.mix, join(e.dir, 'logmel'), useCache);
    if (mix.nFrames !== labelsJson.labels.length) {
      throw new EarshotError('CORPUS_CORRUPT', `corpus: song ${e.id} has ${mix.nFrames} front-end frames but ${labelsJson.labels.length} labels`);
    }
    const labels = new Uint8Array(mix.nFrames);
    labelsJson.labels.forEach((v, t) => (labels[t] = v ? 1 : 0));
    let accompaniment: Float32Array | null = null;
    if ((opts.accompaniment ?? e.split === 'train') && (await exists(e.accompaniment))) {
      const acc = await cachedLogMel(fe, e.accompaniment, join(e.dir, 'accompaniment.logmel'), useCache);
      if (acc.nFrames === mix.nFrames) accompaniment = acc.data;
    }
    let stems: Song['stems'];
    if (opts.stems && (await exists(e.vocals)) && (await exists(e.accompaniment))) {
      const grid = wide ?? fe;
      const suffix = wide ? `-wide${k}` : '.logmel';
      const v = await cachedLogMel(grid, e.vocals, join(e.dir, `vocals${suffix}`), useCache);
      // On the front end's own grid the accompaniment loaded for mixing is this stem already.
      const a = !wide && accompaniment ? { data: accompaniment, nFrames: mix.nFrames } : await cachedLogMel(grid, e.accompaniment, join(e.dir, `accompaniment${suffix}`), useCache);
      if (v.nFrames !== mix.nFrames || a.nFrames !== mix.nFrames) {
        throw new EarshotError('CORPUS_CORRUPT', `corpus: song ${e.id}'s stems have ${v.nFrames} (vocals) and ${a.nFrames} (accompaniment) frames, its mix ${mix.nFrames}`);
      }
      stems = { vocals: v.data, accompaniment: a.data, stride: grid.nMels };
    }
    const bands = wide ? splitBands(mix.data, mix.nFrames, fe.nMels, k) : { logMel: mix.data };
    out.push({ id: e.id, split: e.split, nFrames: mix.nFrames, nMels: fe.nMels, accompaniment, labels, ...bands, ...(stems ? { stems } : {}) });
    opts.onProgress?.(i + 1, entries.length, e.id);
  }
  return out;
}

/** Per-band mean and std of the log-mel frames of `songs` (the training split only!). */
export function bandStats(songs: Song[]): BandStats {
  if (songs.length === 0) throw new EarshotError('CORPUS_EMPTY', 'normalisation statistics need at least one training song');
  const s = new NormStats(songs[0]!.nMels);
  for (const song of songs) s.add(song.logMel, song.nFrames);
  return s.finish();
}

/** Rows of nMels + k bands → the first nMels bands of every row, and the k bands above them. */
function splitBands(x: Float32Array, nFrames: number, nMels: number, k: number): { logMel: Float32Array; above: Float32Array } {
  const logMel = new Float32Array(nFrames * nMels);
  const above = new Float32Array(nFrames * k);
  for (let t = 0; t < nFrames; t++) {
    logMel.set(x.subarray(t * (nMels + k), t * (nMels + k) + nMels), t * nMels);
    above.set(x.subarray(t * (nMels + k) + nMels, (t + 1) * (nMels + k)), t * k);
  }
  return { logMel, above };
}

/** Rows of nMels bands followed by rows of k bands → rows of nMels + k bands (splitBands' inverse). */
function interleave(a: Float32Array, b: Float32Array, nFrames: number, nMels: number, k: number): Float32Array {
  const out = new Float32Array(nFrames * (nMels + k));
  for (let t = 0; t < nFrames; t++) {
    out.set(a.subarray(t * nMels, (t + 1) * nMels), t * (nMels + k));
    out.set(b.subarray(t * k, (t + 1) * k), t * (nMels + k) + nMels);
  }
  return out;
}

/** A song padded with `pad` frames of the log floor at both ends (log domain, not normalised). */
function padLog(x: Float32Array, nFrames: number, nMels: number, pad: number, logFloor: number): Float32Array {
  const out = new Float32Array((nFrames + 2 * pad) * nMels).fill(logFloor);
  out.set(x, pad * nMels);
  return out;
}

export interface SamplerOptions {
  frontEnd?: FrontEnd;
  augment?: Required<AugmentOptions>;
}

/**
 * Balanced, augmented mini-batches from training songs. `next(rng, n, x, y)` fills x
 * (n × 115 × 80, z-scored) and y (n labels): the first ⌈n/2⌉ from voiced frames, the rest from
 * unvoiced ones (or all from one class when the songs have no frame of the other).
 */
export class ExcerptSampler {
  readonly frames: number;
  readonly nMels: number;
  /** Bands per row of the padded songs: nMels, plus the bands above fMax when every song has them. */
  readonly stride: number;
  private readonly axis: FrontEnd['config'];
  private readonly bandMap: Float32Array;
  private readonly pad: number;
  private readonly logFloor: number;
  private readonly padded: Float32Array[];
  private readonly paddedAcc: Float32Array[];
  /** Per song: its padded stems (rows of stemStride bands) for the vocal remix, or null. */
  private readonly paddedStems: ({ vocals: Float32Array; accompaniment: Float32Array } | null)[];
  private readonly stemStride: number;
  private readonly stemV: Float32Array;
  private readonly stemA: Float32Array;
  private readonly gainCurve: Float32Array;
  private readonly rows: number[];
  private readonly pos: Int32Array;
  private readonly neg: Int32Array;
  private readonly songOf: Int32Array;
  private readonly mean: Float32Array;
  private readonly invStd: Float32Array;
  private readonly augment: Required<AugmentOptions> | null;

  constructor(songs: Song[], stats: BandStats, opts: SamplerOptions = {}) {
    const fe = opts.frontEnd ?? new FrontEnd(SVD_FRONTEND);
    if (songs.length === 0) throw new EarshotError('CORPUS_EMPTY', 'the sampler needs at least one song');
    this.frames = fe.config.excerptFrames;
    this.nMels = fe.nMels;
    this.pad = fe.config.padFrames;
    this.logFloor = Math.fround(Math.log(Math.fround(fe.config.logFloor)));
    this.augment = opts.augment ?? null;
    this.axis = fe.config;
    this.bandMap = new Float32Array(this.nMels);
    // The bands above fMax are only worth their memory to pitch shifts. Without them a shift down
    // clamps the top bands (recorded in the weight file as bandsAbove 0); songs loaded with
    // different band counts are a caller's mistake, not something to fall back from silently.
    const k = songs[0]!.above ? songs[0]!.above.length / songs[0]!.nFrames : 0;
    const odd = songs.findIndex((s) => (s.above ? s.above.length : 0) !== s.nFrames * k);
    if (odd >= 0) {
      const kk = songs[odd]!.above ? songs[odd]!.above!.length / songs[odd]!.nFrames : 0;
      throw new EarshotError('BAD_SHAPE', `sampler: song ${odd} (${songs[odd]!.id}) has ${kk} log-mel bands above fMax, song 0 (${songs[0]!.id}) has ${k}; load every song with the same bandsAbove`);
    }
    const wide = k > 0 && (this.augment?.pitchShift ?? 0) > 0;
    this.stride = wide ? this.nMels + k : this.nMels;
    this.padded = songs.map((s) => padLog(wide ? interleave(s.logMel, s.above!, s.nFrames, s.nMels, k) : s.logMel, s.nFrames, this.stride, this.pad, this.logFloor));
    this.paddedAcc = songs.filter((s) => s.accompaniment).map((s) => padLog(s.accompaniment!, s.nFrames, s.nMels, this.pad, this.logFloor));
    this.rows = songs.map((s) => s.nFrames + 2 * this.pad);
    // The stems must sit on the mix's band grid (bands above fMax included), or a pitch shift down
    // would read different content from the mix and from its stems.
    this.stemStride = this.nMels + k;
    const remix = (this.augment?.vocalRemix ?? 0) > 0;
    this.paddedStems = songs.map((s, i) => {
      if (!remix || !s.stems) return null;
      if (s.stems.stride !== this.stemStride) {
        throw new EarshotError('BAD_SHAPE', `sampler: song ${i} (${s.id}) has stems in rows of ${s.stems.stride} bands, its mix has ${this.stemStride}; load stems and mix with the same bandsAbove`);
      }
      return { vocals: padLog(s.stems.vocals, s.nFrames, this.stemStride, this.pad, this.logFloor), accompaniment: padLog(s.stems.accompaniment, s.nFrames, this.stemStride, this.pad, this.logFloor) };
    });
    if (remix && this.paddedStems.every((p) => p === null)) {
      throw new EarshotError('BAD_ARGUMENT', 'sampler: the vocal remix augmentation needs songs loaded with their stems (loadSongs { stems: true }), and none has them');
    }
    this.stemV = new Float32Array(remix ? this.excerptSize : 0);
    this.stemA = new Float32Array(remix ? this.excerptSize : 0);
    this.gainCurve = new Float32Array(this.nMels);
    // Frames are addressed globally: (song, frame) → offset into the concatenation of all songs.
    let total = 0;
    let npos = 0;
    for (const s of songs) {
      total += s.nFrames;
      for (let t = 0; t < s.nFrames; t++) npos += s.labels[t]!;
    }
    this.pos = new Int32Array(npos);
    this.neg = new Int32Array(total - npos);
    this.songOf = new Int32Array(songs.length + 1);
    let g = 0;
    let ip = 0;
    let ineg = 0;
    songs.forEach((s, i) => {
      this.songOf[i] = g;
      for (let t = 0; t < s.nFrames; t++, g++) {
        if (s.labels[t]) this.pos[ip++] = g;
        else this.neg[ineg++] = g;
      }
    });
    this.songOf[songs.length] = g;
    this.mean = Float32Array.from(stats.mean);
    this.invStd = Float32Array.from(stats.std, (v) => 1 / v);
  }

  get voicedFrames(): number {
    return this.pos.length;
  }
  get unvoicedFrames(): number {
    return this.neg.length;
  }
  get excerptSize(): number {
    return this.frames * this.nMels;
  }

  private locate(global: number): [number, number] {
    let lo = 0;
    let hi = this.songOf.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.songOf[mid]! <= global) lo = mid;
      else hi = mid - 1;
    }
    return [lo, global - this.songOf[lo]!];
  }

  /**
   * Fill x (n excerpts, z-scored) and y (labels) with an augmented batch: balanced by default;
   * `balanced: false` draws frames uniformly (voiced in their natural proportion), `augment:
   * false` skips the sampler's augmentation (clean excerpts, as inference sees them).
   */
  next(rng: Rng, n: number, x: Float32Array, y: Float32Array, opts: { balanced?: boolean; augment?: boolean } = {}): void {
    checkInt(n, 'batch size', 1);
    const size = this.excerptSize;
    if (x.length < n * size || y.length < n) throw new EarshotError('BAD_SHAPE', `sampler: x needs ${n * size} values and y ${n}, got ${x.length} and ${y.length}`);
    const balanced = opts.balanced ?? true;
    const nPos = this.pos.length === 0 ? 0 : this.neg.length === 0 ? n : Math.ceil(n / 2);
    const total = this.pos.length + this.neg.length;
    for (let i = 0; i < n; i++) {
      const voiced = balanced ? i < nPos : rng.int(total) < this.pos.length;
      const list = voiced ? this.pos : this.neg;
      const [song, frame] = this.locate(list[rng.int(list.length)]!);
      const centre = frame + this.pad;
      const off = i * size;
      const a = opts.augment === false ? null : this.augment;
      const d = a ? drawAugment(rng, a) : null;
      const bands = d && d.pitch !== 1 ? pitchShiftBands(this.axis, d.pitch, this.stride, this.bandMap) : null;
      extractExcerpt(this.padded[song]!, this.rows[song]!, this.stride, centre, this.frames, d?.stretch ?? 1, bands, x, off, this.nMels);
      const stems = d?.vocal ? this.paddedStems[song] : null;
      if (d?.vocal && stems) {
        extractExcerpt(stems.vocals, this.rows[song]!, this.stemStride, centre, this.frames, d.stretch, bands, this.stemV, 0, this.nMels);
        extractExcerpt(stems.accompaniment, this.rows[song]!, this.stemStride, centre, this.frames, d.stretch, bands, this.stemA, 0, this.nMels);
        vocalGainCurve(d.vocal.gainDb, d.vocal.eqDb, this.nMels, this.gainCurve);
        remixVocals(x, off, this.stemV, this.stemA, size, this.nMels, this.gainCurve, this.logFloor);
      }
      if (d && d.gainDb !== 0) applyGain(x, off, size, d.gainDb, this.logFloor);
      if (d && d.mixDb !== null && this.paddedAcc.length > 0) {
        const k = rng.int(this.paddedAcc.length);
        const acc = this.paddedAcc[k]!;
        const rows = acc.length / this.nMels;
        const c = this.pad + rng.int(rows - 2 * this.pad);
        mixInto(x, off, acc, (c - Math.floor(this.frames / 2)) * this.nMels, size, d.mixDb, this.logFloor);
      }
      this.normalise(x, off);
      y[i] = voiced ? 1 : 0;
    }
  }

  private normalise(x: Float32Array, off: number): void {
    const B = this.nMels;
    for (let t = 0; t < this.frames; t++) {
      const o = off + t * B;
      for (let b = 0; b < B; b++) x[o + b] = (x[o + b]! - this.mean[b]!) * this.invStd[b]!;
    }
  }
}

/** z-score a song's log-mel with the training statistics (for validation / test prediction). */
export function normaliseSong(song: Song, stats: BandStats): Float32Array {
  const out = new Float32Array(song.logMel.length);
  const B = song.nMels;
  for (let i = 0; i < out.length; i++) {
    const b = i % B;
    out[i] = (song.logMel[i]! - stats.mean[b]!) / stats.std[b]!;
  }
  return out;
}
