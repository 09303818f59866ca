/**
 * Audio files on disk (Node only: fs). Reading decodes with ./wav.ts; writing is atomic (a
 * temporary file in the same directory, then rename), so a crash never leaves a half-written
 * WAV where a finished one was expected.
 */
import { readFile, rename, unlink, open } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EarshotError } from '../../bindings/errors.ts';
import { decodeWav, encodeWav, type AudioData, type DecodedWav, type EncodeWavOptions } from './wav.ts';
import { mixdown, resample, DEFAULT_SAMPLE_RATE } from './index.ts';

/** Read and decode a WAV file. Errors name the path; see decodeWav for the codes. */
export async function readWavFile(path: string): Promise<DecodedWav> {
  if (typeof path !== 'string' || path.length === 0) throw new EarshotError('BAD_ARGUMENT', `path must be a non-empty string, got ${JSON.stringify(path)}`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new EarshotError('FILE_NOT_FOUND', `${path}: no such file`);
    if (err.code === 'EISDIR') throw new EarshotError('FILE_NOT_FOUND', `${path}: is a directory, not a WAV file`);
    throw new EarshotError('FILE_READ', `${path}: cannot read (${err.code ?? err.message})`);
  }
  return decodeWav(bytes, path);
}

/**
 * Encode and write a WAV file atomically: the bytes go to a temporary file next to `path`, are
 * flushed to disk, and the temporary file is renamed over `path`.
 */
export async function writeWavFile(path: string, audio: AudioData, opts: EncodeWavOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new EarshotError('BAD_ARGUMENT', `path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = encodeWav(audio, opts);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    const err = e as NodeJS.ErrnoException;
    throw new EarshotError('FILE_WRITE', `${path}: cannot write (${err.code ?? err.message})`);
  }
}

export interface LoadMonoOptions {
  /**
   * Called with each warning about a tolerated defect (a truncated data chunk). Default:
   * `process.emitWarning(message, 'EarshotWarning')`, so a CLI run shows it on stderr.
   */
  onWarning?: (message: string) => void;
}

/**
 * Read a WAV file as mono float audio at `sampleRate` (default 22 050 Hz, the front end's rate):
 * decode, mix the channels down to their mean, resample (resample_poly filter) if the rate differs.
 */
export async function loadMono(path: string, sampleRate = DEFAULT_SAMPLE_RATE, opts: LoadMonoOptions = {}): Promise<Float32Array> {
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate < 1) {
    throw new EarshotError('BAD_ARGUMENT', `sampleRate must be a positive integer (Hz), got ${String(sampleRate)}`);
  }
  const onWarning = opts.onWarning ?? ((m: string) => process.emitWarning(m, 'EarshotWarning'));
  const audio = await readWavFile(path);
  for (const w of audio.warnings) onWarning(w);
  const mono = mixdown(audio.channels);
  return audio.sampleRate === sampleRate ? mono : resample(mono, audio.sampleRate, sampleRate);
}
