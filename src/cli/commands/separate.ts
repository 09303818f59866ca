/**
 * `earshot separate mix.wav --method hpss|repet|nmf [--out DIR] [method options]` or
 * `earshot separate mix.wav --stems name=file.wav … | --stems-folder DIR`: writes one float32 WAV
 * per source (atomically) into DIR and prints their paths. Methods and defaults: docs/separate.md
 * (HPSS: Fitzgerald 2010 / librosa; REPET-SIM: Rafii & Pardo 2012; β-NMF: Févotte & Idier 2011).
 * With user stems, the difference to the mixture becomes an explicit `residual` source when the
 * stems do not sum to it, and the command says so.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import { readWavFile, writeWavFile } from '../../audio/node.ts';
import { mixdown } from '../../audio/index.ts';
import { separate, SEPARATION_METHODS, type SeparateOptions, type SeparationMethod } from '../../separate/index.ts';
import { loadStems } from '../../separate/stems.ts';
import { Options, takeKeyValues, type OptionSpecs } from '../options.ts';
import type { Command } from '../commands.ts';

const HELP = `Usage: earshot separate <mix.wav> --method hpss|repet|nmf [--out DIR] [options]
       earshot separate <mix.wav> --stems name=file.wav [--stems name=file.wav …] [--out DIR]
       earshot separate <mix.wav> --stems-folder DIR [--out DIR]

Splits the (mono-mixed) WAV into sources that sum to it and writes one float32 WAV per source,
<out>/<mix>.<source>.wav, at the mixture's sample rate; prints the paths. Default --out: the
mixture's folder.

Methods (masks on the STFT magnitude, resynthesis with the mixture's phase):
  hpss    harmonic, percussive [, residual]  (Fitzgerald 2010, librosa.decompose.hpss)
  repet   accompaniment (repeating), vocals  (REPET-SIM, Rafii & Pardo 2012)
  nmf     component0 … component<k-1>        (β-NMF, multiplicative updates)

Options:
  --method <m>              hpss | repet | nmf
  --out <dir>               output folder
  --n-fft <n>               FFT size (default 2048)
  --hop <n>                 hop in samples (default 512)
  hpss:  --kernel-harmonic <n> (31)  --kernel-percussive <n> (31)  --power <p> (2)  --margin <m> (1; > 1 adds a residual)
  repet: --k <n> (20)  --min-distance <seconds> (1)  --threshold <s> (0)  --cutoff <Hz> (100)
  nmf:   --components <k> (2)  --beta 0|1|2 (1)  --iterations <n> (100)  --seed <n> (0)
  --stems name=file.wav     a user stem (repeatable); resampled to the mixture's rate if needed
  --stems-folder <dir>      every .wav in the folder is a stem named after its file`;

const NUMERIC: Array<[flag: string, key: string, methods: SeparationMethod[]]> = [
  ['n-fft', 'nFft', ['hpss', 'repet', 'nmf']],
  ['hop', 'hop', ['hpss', 'repet', 'nmf']],
  ['kernel-harmonic', 'kernelHarmonic', ['hpss']],
  ['kernel-percussive', 'kernelPercussive', ['hpss']],
  ['power', 'power', ['hpss']],
  ['margin', 'margin', ['hpss']],
  ['k', 'k', ['repet']],
  ['min-distance', 'minDistance', ['repet']],
  ['threshold', 'threshold', ['repet']],
  ['cutoff', 'cutoff', ['repet']],
  ['components', 'components', ['nmf']],
  ['beta', 'beta', ['nmf']],
  ['iterations', 'iterations', ['nmf']],
  ['seed', 'seed', ['nmf']],
];

export async function separateCommand(args: string[]): Promise<number> {
  const spec: OptionSpecs = {
    method: { type: 'string', short: 'm' },
    out: { type: 'string', short: 'o' },
    'stems-folder': { type: 'string' },
  };
  for (const [flag] of NUMERIC) spec[flag] = { type: 'string' };
  // --stems is repeatable: collect it before parseArgs (parseCommandArgs has no `multiple`).
  const { pairs: stems, rest } = takeKeyValues('separate', args, 'stems');
  const o: Options = Options.parse('separate', rest, spec);
  const mixPath = o.onePositional('mixture WAV file');
  const outDir = o.string('out') ?? dirname(mixPath);
  const stem = basename(mixPath, extname(mixPath));
  const method = o.string('method');
  const folder = o.string('stems-folder');
  const haveStems = Object.keys(stems).length > 0 || folder !== undefined;
  if (haveStems && method !== undefined) o.fail('give either --method or --stems/--stems-folder, not both');
  if (Object.keys(stems).length > 0 && folder !== undefined) o.fail('give either --stems or --stems-folder, not both');
  let names: string[];
  let sources: Float32Array[];
  let sampleRate: number;
  let note = '';
  if (haveStems) {
    for (const [flag] of NUMERIC) if (o.has(flag)) o.fail(`--${flag} is a separation option; it does not apply to user stems`);
    const r = await loadStems(mixPath, folder !== undefined ? { folder } : { stems });
    names = r.names;
    sources = r.sources;
    sampleRate = r.sampleRate;
    for (const [n, rate] of Object.entries(r.resampled)) process.stderr.write(`earshot separate: stem '${n}' resampled from ${rate} Hz to ${sampleRate} Hz\n`);
    if (r.residualAdded) note = `the stems do not sum to the mixture (max difference ${r.maxDifference.toExponential(2)} of its peak): added their difference as the source 'residual'`;
  } else {
    if (method === undefined) o.fail('separate needs --method hpss|repet|nmf or --stems name=file.wav');
    o.oneOf('method', SEPARATION_METHODS);
    const opts: Record<string, unknown> = { method };
    for (const [flag, key, methods] of NUMERIC) {
      if (!o.has(flag)) continue;
      if (!methods.includes(method as SeparationMethod)) o.fail(`--${flag} does not apply to --method ${method}`);
      opts[key] = o.num(flag);
    }
    const w = await readWavFile(mixPath);
    for (const m of w.warnings) process.emitWarning(m, 'EarshotWarning');
    sampleRate = w.sampleRate;
    const r = separate(mixdown(w.channels), sampleRate, opts as unknown as SeparateOptions);
    names = r.names;
    sources = r.sources;
  }
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw new EarshotError('FILE_WRITE', `${outDir}: cannot create the output folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const paths: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const p = join(outDir, `${stem}.${names[i]}.wav`);
    await writeWavFile(p, { sampleRate, channels: [sources[i]!] }, { format: 'float32' });
    paths.push(p);
  }
  for (const p of paths) process.stdout.write(p + '\n');
  if (note) process.stderr.write(`earshot separate: ${note}\n`);
  return 0;
}

export const separateCmd: Command = {
  summary: 'split a WAV into sources (HPSS, REPET-SIM, NMF) or reconcile user stems; one WAV per source',
  help: HELP,
  run: separateCommand,
};
