/**
 * The inputs of the SLIME experiments (Mishra et al. 2020; methods.md §4), Node side:
 * - the file set: by default the held-out (test-split) mixes of the corpus (docs/corpus.md) plus
 *   the bundled real clip assets/lena-sung.wav, or WAV files given by the user;
 * - each file's normalised, unpadded log-mel (the model's front end and statistics) and its
 *   non-overlapping 115-frame excerpts (no padding frames inside, like the reference code, which
 *   skips the ends of a file);
 * - min_data, the smallest normalised bin over the set (the reference code takes the minimum
 *   over the spectrograms of the dataset it explains).
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarshotError, checkInt } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { FrontEnd, type FrontEndConfig } from '../../frontend/index.ts';
import type { BandStats } from '../../frontend/stats.ts';
import { listCorpus } from '../../model/dataset.ts';

export const CORPUS_HINT =
  'Build the corpus first (offline, ~20 min on 2 cores): `bash scripts/corpus/install-deps.sh && node --import tsx scripts/corpus/build.ts --seed 1 --out corpus` (docs/corpus.md), or pass --corpus DIR';

/** The repository's assets/ directory (next to src/ or dist/), or null. */
export function assetsDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..', '../../..', '../../../..']) {
    const d = resolve(here, up, 'assets');
    if (existsSync(join(d, 'lena-sung.wav'))) return d;
  }
  return null;
}

/** Test-split songs of a corpus (sorted by id), or null when `dir` has no corpus. */
export async function heldOutSongs(dir: string): Promise<Array<{ id: string; dir: string; mix: string; vocals: string; accompaniment: string }> | null> {
  if (!existsSync(join(dir, 'manifest.json')) && !existsSync(join(dir, 'test'))) return null;
  const songs = (await listCorpus(dir)).filter((s) => s.split === 'test').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return songs.map((s) => ({ id: s.id, dir: s.dir, mix: s.mix, vocals: join(s.dir, 'vocals.wav'), accompaniment: s.accompaniment }));
}

/** The default file set: the corpus's test mixes (when the corpus exists) + assets/lena-sung.wav. */
export async function defaultFiles(corpus: string): Promise<{ files: string[]; note: string }> {
  const files: string[] = [];
  const notes: string[] = [];
  const songs = await heldOutSongs(corpus).catch(() => null);
  if (songs && songs.length) {
    files.push(...songs.map((s) => s.mix));
    notes.push(`${songs.length} test-split mixes of ${corpus}`);
  } else notes.push(`no corpus at ${corpus} (${CORPUS_HINT}); using the bundled clip only`);
  const a = assetsDir();
  if (a) {
    files.push(join(a, 'lena-sung.wav'));
    notes.push('assets/lena-sung.wav');
  }
  if (!files.length) throw new EarshotError('NO_DATA', `no input files: no corpus at ${corpus} and no assets/lena-sung.wav; give WAV files as arguments`);
  return { files, note: notes.join(' + ') };
}

/** A short, stable name for a file in result tables (relative to the working directory). */
export function displayName(path: string): string {
  const r = relative(process.cwd(), path);
  return r.startsWith('..') ? basename(path) : r;
}

export interface LoadedSpectrogram {
  path: string;
  /** Normalised, unpadded log-mel: nFrames × F. */
  data: Float32Array;
  nFrames: number;
}

/** Mono audio → log-mel → per-band z-score with the model's statistics (no padding). */
export async function loadNormalised(path: string, frontEnd: FrontEndConfig, stats: BandStats): Promise<LoadedSpectrogram> {
  const fe = new FrontEnd(frontEnd);
  const signal = await loadMono(path, fe.config.sampleRate, { onWarning: () => {} });
  const lm = fe.logMel(signal);
  if (lm.nFrames === 0) throw new EarshotError('TOO_SHORT', `${path}: shorter than one frame (${fe.config.nFft} samples)`);
  return { path, data: fe.normalise(lm.data, stats), nFrames: lm.nFrames };
}

/**
 * Start frames of non-overlapping T-frame excerpts inside a file of nFrames frames (0, T, 2T, …),
 * in a spreading order: the i-th pick is excerpt ⌊((v(i) + ½) mod 1)·N⌋ (v = base-2 van der
 * Corput: 0, ½, ¼, ¾, …; repeats skipped), i.e. the middle first, then the quarters, and so on.
 * `perFile` keeps the first picks, so a smaller set is always a subset of a larger one (a run
 * stopped early and rerun with a smaller --per-file reuses its journal).
 */
export function excerptStarts(nFrames: number, T: number, perFile?: number): number[] {
  checkInt(nFrames, 'nFrames', 0);
  checkInt(T, 'T (excerpt frames)', 1);
  const N = Math.floor(nFrames / T);
  const want = perFile === undefined ? N : Math.min(N, checkInt(perFile, 'excerpts per file', 1));
  const out: number[] = [];
  const seen = new Uint8Array(N);
  for (let k = 0; out.length < want; k++) {
    let v = 0;
    for (let b = 0.5, m = k; m > 0; m >>>= 1, b /= 2) if (m & 1) v += b;
    const i = Math.min(N - 1, Math.floor(((v + 0.5) % 1) * N));
    if (!seen[i]) {
      seen[i] = 1;
      out.push(i * T);
    }
    // the van der Corput points get dense: once they are finer than 1/N every index has come up
    if (k > 4 * N + 8) for (let j = 0; j < N && out.length < want; j++) if (!seen[j]) (seen[j] = 1), out.push(j * T);
  }
  return out;
}

/** Copy of excerpt [start, start + T) of a frames × F spectrogram. */
export function excerptAt(spec: Float32Array, F: number, start: number, T: number): Float32Array {
  if (start < 0 || (start + T) * F > spec.length) throw new EarshotError('BAD_ARGUMENT', `excerpt [${start}, ${start + T}) is outside the spectrogram (${spec.length / F} frames)`);
  return spec.slice(start * F, (start + T) * F);
}

/** The smallest value over spectrograms (min_data). */
export function minOver(specs: Iterable<Float32Array>): number {
  let m = Infinity;
  for (const s of specs) for (let i = 0; i < s.length; i++) if (s[i]! < m) m = s[i]!;
  if (!Number.isFinite(m)) throw new EarshotError('NO_DATA', 'min_data: no spectrogram values');
  return m;
}

/** SHA-1 of a model's weights.bin (what a journal is keyed on), or the spec for random:SEED. */
export async function modelFingerprint(dir: string | null, spec: string): Promise<string> {
  if (!dir) return spec;
  const b = await readFile(join(dir, 'weights.bin'));
  return createHash('sha1').update(b).digest('hex').slice(0, 16);
}
