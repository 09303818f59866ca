/**
 * User stems from WAV files (Node only: fs): `loadStems(mixturePath, { stems: { name: path } })`
 * or `{ folder }` (every .wav in it, named by file name, the mixture itself excluded). Each file
 * is mixed down to mono and resampled to the mixture's rate (or `sampleRate`) when needed; then
 * ./reconcile.ts checks the lengths and adds a `residual` when the stems do not sum to the
 * mixture. Errors name the file.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { EarshotError, check, checkInt } from '../../bindings/errors.ts';
import { readWavFile } from '../audio/node.ts';
import { mixdown, resample } from '../audio/index.ts';
import { reconcileStems, type Stem, type StemSeparation } from './reconcile.ts';

export interface LoadStemsOptions {
  /** name → WAV path. */
  stems?: Record<string, string>;
  /** A folder of WAV files, one per stem. */
  folder?: string;
  /** Rate of the result; default the mixture's. */
  sampleRate?: number;
  lengthToleranceMs?: number;
  tolerance?: number;
}

export interface LoadedStems extends StemSeparation {
  mixture: Float32Array;
  sampleRate: number;
  /** Stem name → the file it came from. */
  files: Record<string, string>;
  /** Stems that had to be resampled (name → their rate). */
  resampled: Record<string, number>;
}

async function readMono(path: string, rate: number | undefined): Promise<{ signal: Float32Array; rate: number; native: number }> {
  const w = await readWavFile(path);
  const mono = mixdown(w.channels);
  const target = rate ?? w.sampleRate;
  if (target === w.sampleRate) return { signal: mono, rate: target, native: w.sampleRate };
  try {
    return { signal: resample(mono, w.sampleRate, target), rate: target, native: w.sampleRate };
  } catch (e) {
    // name the file whose rate could not be converted (e.g. a ratio beyond the resampler's limit)
    if (e instanceof EarshotError) throw new EarshotError(e.code, `${path}: cannot resample from ${w.sampleRate} Hz to ${target} Hz (${e.message})`);
    throw e;
  }
}

export async function loadStems(mixturePath: string, options: LoadStemsOptions): Promise<LoadedStems> {
  check(typeof mixturePath === 'string' && mixturePath.length > 0, `mixturePath must be a non-empty string, got ${JSON.stringify(mixturePath)}`);
  check(options !== null && typeof options === 'object', 'loadStems options must be an object with stems or folder');
  for (const key of Object.keys(options)) {
    if (!['stems', 'folder', 'sampleRate', 'lengthToleranceMs', 'tolerance'].includes(key)) throw new EarshotError('BAD_ARGUMENT', `unknown loadStems option '${key}'`);
  }
  check((options.stems === undefined) !== (options.folder === undefined), 'give exactly one of stems ({ name: path }) and folder');
  const rate = options.sampleRate === undefined ? undefined : checkInt(options.sampleRate, 'sampleRate', 1, 10_000_000);
  let files: Record<string, string>;
  if (options.stems !== undefined) {
    check(options.stems !== null && typeof options.stems === 'object' && !Array.isArray(options.stems), 'stems must be an object { name: path }');
    files = {};
    for (const [name, p] of Object.entries(options.stems)) {
      check(typeof p === 'string' && p.length > 0, `stem '${name}': path must be a non-empty string, got ${JSON.stringify(p)}`);
      files[name] = p;
    }
  } else {
    check(typeof options.folder === 'string' && options.folder.length > 0, `folder must be a non-empty string, got ${JSON.stringify(options.folder)}`);
    let entries: string[];
    try {
      entries = await readdir(options.folder);
    } catch (e) {
      throw new EarshotError('FILE_NOT_FOUND', `${options.folder}: cannot list the stems folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const mix = resolve(mixturePath);
    files = {};
    for (const f of entries.sort()) {
      if (extname(f).toLowerCase() !== '.wav') continue;
      const p = join(options.folder, f);
      if (resolve(p) === mix) continue;
      files[basename(f, extname(f))] = p;
    }
    check(Object.keys(files).length > 0, `${options.folder}: no .wav stems in this folder`, 'FILE_NOT_FOUND');
  }
  const mixture = await readMono(mixturePath, rate);
  const stems: Stem[] = [];
  const resampled: Record<string, number> = {};
  for (const [name, p] of Object.entries(files)) {
    const s = await readMono(p, mixture.rate);
    if (s.native !== mixture.rate) resampled[name] = s.native;
    stems.push({ name, signal: s.signal, source: p });
  }
  const r = reconcileStems(mixture.signal, stems, {
    sampleRate: mixture.rate,
    ...(options.lengthToleranceMs !== undefined ? { lengthToleranceMs: options.lengthToleranceMs } : {}),
    ...(options.tolerance !== undefined ? { tolerance: options.tolerance } : {}),
  });
  return { ...r, mixture: mixture.signal, sampleRate: mixture.rate, files, resampled };
}
