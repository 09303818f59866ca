/**
 * `earshot demo`: renders the bundled sung example (assets/lena-sung.wav) as a log-mel image
 * (the SVD front end of methods.md §1) and prints the PNG's path. Later steps add an explanation
 * of the singing-voice model's prediction on top.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { FrontEnd } from '../../frontend/index.ts';
import { renderSpectrogram } from '../../render/png.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import type { Command } from '../commands.ts';
import { parseCommandArgs, writeFileAtomic } from './mel.ts';

const EXAMPLE = 'lena-sung.wav';

/** assets/ next to this file's package: src/cli/commands/ (tsx) or dist/ (bundle). */
export function findAsset(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..', '../../..', '../../../..']) {
    const p = resolve(here, up, 'assets', name);
    if (existsSync(p)) return p;
  }
  throw new EarshotError('FILE_NOT_FOUND', `the bundled example assets/${name} was not found next to the earshot package`);
}

const HELP = `Usage: earshot demo [--input <audio.wav>] [--out <file.png>]

Renders the bundled sung example (assets/${EXAMPLE}) as a log-mel spectrogram image (time on x,
low frequencies at the bottom, viridis colours) and prints the image's path.

Options:
  -i, --input <file>  another WAV file instead of the bundled example
  -o, --out <file>    the PNG to write (default out/demo-logmel.png)`;

export async function demoCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('demo', args, {
    input: { type: 'string', short: 'i' },
    out: { type: 'string', short: 'o' },
  });
  if (positionals.length) throw new EarshotError('BAD_USAGE', `demo takes no positional arguments, got '${positionals[0]}'`);
  const input = (values.input as string | undefined) ?? findAsset(EXAMPLE);
  const out = (values.out as string | undefined) ?? join('out', 'demo-logmel.png');
  if (!out.toLowerCase().endsWith('.png')) throw new EarshotError('BAD_USAGE', `--out must end in .png, got '${out}'`);
  const fe = new FrontEnd();
  const signal = await loadMono(input, fe.config.sampleRate);
  const lm = fe.logMel(signal);
  if (lm.nFrames === 0) throw new EarshotError('TOO_SHORT', `${input} is shorter than one frame`);
  // show 80 dB below the loudest cell (ln of a magnitude: 80 dB = ln(1e4)); quieter is clipped
  let max = -Infinity;
  for (const v of lm.data) if (v > max) max = v;
  const png = renderSpectrogram(lm.data, lm.nFrames, lm.nMels, { vmin: max - Math.log(1e4), vmax: max, scale: 2, deflate: nodeDeflate });
  await writeFileAtomic(out, png);
  process.stderr.write(`earshot demo: log-mel of ${input} (${lm.nFrames} frames × ${lm.nMels} bands, ${(signal.length / fe.config.sampleRate).toFixed(1)} s)\n`);
  console.log(resolve(out));
  return 0;
}

export const demo: Command = {
  summary: 'render the bundled sung example as a log-mel PNG (out/demo-logmel.png)',
  help: HELP,
  run: demoCommand,
};
