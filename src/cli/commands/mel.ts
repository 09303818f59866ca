/**
 * `earshot mel <audio.wav> --out <file.npy|file.json>`: the log-mel spectrogram of the SVD front end
 * (methods.md §1: frames × 80, log(max(mel, 1e-7)), BEFORE z-scoring), float32, C order.
 * .npy is NumPy's format v1.0 (numpy.load reads it); .json is { shape, dtype, frontEnd, data }.
 * Outputs are written atomically (temporary file, then rename).
 */
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { dirname, basename, join, extname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { FrontEnd } from '../../frontend/index.ts';
import { encodeNpy } from '../../render/npy.ts';
import type { Command } from '../commands.ts';
import { Options } from '../options.ts';

/** Write bytes to `path` through a temporary file in the same directory and a rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true }).catch(() => {});
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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

// Kept here for the modules that import it from this file (src/model/onnx/cli.ts).
export { parseCommandArgs } from '../options.ts';

const HELP = `Usage: earshot mel <audio.wav> --out <file.npy|file.json>

The log-mel spectrogram of the singing-voice front end (methods.md §1): the WAV is mixed down to
mono and resampled to 22 050 Hz, framed with a symmetric Hann window of 1024, hop 315, no
centring; |rfft| over 372 bins, 80 HTK mel bands 27.5 Hz – 8 kHz, log(max(x, 1e-7)).
Output: frames × 80 float32, C order, BEFORE per-band z-scoring.

Options:
  -o, --out <file>   .npy (NumPy format 1.0) or .json ({ shape, dtype, frontEnd, data })`;

export async function melCommand(args: string[]): Promise<number> {
  const o = Options.parse('mel', args, { out: { type: 'string', short: 'o' } });
  const input = o.onePositional('input WAV file');
  const out = o.required('out', 'mel needs --out <file.npy|file.json>');
  const ext = extname(out).toLowerCase();
  if (ext !== '.npy' && ext !== '.json') o.fail(`--out must end in .npy or .json, got '${ext || out}'`);
  const fe = new FrontEnd();
  const signal = await loadMono(input, fe.config.sampleRate);
  const lm = fe.logMel(signal);
  if (lm.nFrames === 0) {
    throw new EarshotError('TOO_SHORT', `${input}: ${signal.length} samples at ${fe.config.sampleRate} Hz is shorter than one frame (${fe.config.nFft})`);
  }
  const shape = [lm.nFrames, lm.nMels];
  const bytes =
    ext === '.npy'
      ? encodeNpy(lm.data, shape)
      : JSON.stringify({ shape, dtype: 'float32', order: 'C', zscored: false, frontEnd: fe.toJSON(), data: Array.from(lm.data) });
  await writeFileAtomic(out, bytes);
  process.stderr.write(`earshot mel: ${lm.nFrames} frames × ${lm.nMels} bands (${(signal.length / fe.config.sampleRate).toFixed(2)} s) → ${out}\n`);
  return 0;
}

export const mel: Command = {
  summary: 'log-mel spectrogram of a WAV file (SVD front end) to .npy or .json',
  help: HELP,
  run: melCommand,
};
