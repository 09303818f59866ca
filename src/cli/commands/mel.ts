/**
 * `earshot mel <audio.wav> --out <file.npy|file.json>`: the log-mel spectrogram of the SVD front end
 * (methods.md §1: frames × 80, log(max(mel, 1e-7)), BEFORE z-scoring), float32, C order.
 * .npy is NumPy's format v1.0 (numpy.load reads it); .json is { shape, dtype, frontEnd, data }.
 * Outputs are written atomically (temporary file, then rename).
 */
import { parseArgs } from 'node:util';
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { dirname, basename, join, extname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { FrontEnd } from '../../frontend/index.ts';
import { encodeNpy } from '../../render/npy.ts';
import type { Command } from '../commands.ts';

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

/** parseArgs with its errors turned into a usage error naming the command. */
export function parseCommandArgs(
  command: string,
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new EarshotError('BAD_USAGE', `${(e as Error).message} (see \`earshot ${command} --help\`)`);
  }
}

const HELP = `Usage: earshot mel <audio.wav> --out <file.npy|file.json>

The log-mel spectrogram of the singing-voice front end (methods.md §1): the WAV is mixed down to
mono and resampled to 22 050 Hz, framed with a symmetric Hann window of 1024, hop 315, no
centring; |rfft| over 372 bins, 80 HTK mel bands 27.5 Hz – 8 kHz, log(max(x, 1e-7)).
Output: frames × 80 float32, C order, BEFORE per-band z-scoring.

Options:
  -o, --out <file>   .npy (NumPy format 1.0) or .json ({ shape, dtype, frontEnd, data })`;

export async function melCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('mel', args, { out: { type: 'string', short: 'o' } });
  if (positionals.length !== 1) {
    throw new EarshotError('BAD_USAGE', `mel needs exactly one input WAV file, got ${positionals.length} (see \`earshot mel --help\`)`);
  }
  const out = values.out as string | undefined;
  if (!out) throw new EarshotError('BAD_USAGE', 'mel needs --out <file.npy|file.json>');
  const ext = extname(out).toLowerCase();
  if (ext !== '.npy' && ext !== '.json') {
    throw new EarshotError('BAD_USAGE', `--out must end in .npy or .json, got '${ext || out}'`);
  }
  const fe = new FrontEnd();
  const signal = await loadMono(positionals[0]!, fe.config.sampleRate);
  const lm = fe.logMel(signal);
  if (lm.nFrames === 0) {
    throw new EarshotError('TOO_SHORT', `${positionals[0]}: ${signal.length} samples at ${fe.config.sampleRate} Hz is shorter than one frame (${fe.config.nFft})`);
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
