/** Option parsing shared by the `earshot experiment stability | content | groundtruth` commands. */
import { availableParallelism } from 'node:os';
import { Options, shellQuote, type OptionSpecs } from '../../cli/options.ts';
import { CONTENT_TYPES, type ContentType } from '../../explain/content.ts';
import type { CommonOptions } from './common.ts';

export const COMMON_HELP = `Model, engine and output:
  --model <dir>           weight directory, or random:SEED          [assets/models/svd-default]
  --engine <e>            auto | tfjs | ort | ort-web                                  [auto]
  --workers <n>           worker threads, one engine each (ORT threads = cores / workers) [2]
  --batch <n>             perturbed inputs per forward pass                              [64]
  --distance <d>          euclidean (the paper's code) | cosine                   [euclidean]
  --kernel-width <w>      LIME kernel width                                            [0.25]
  --out <dir>             results directory                                  [results/slime]
  --journal <dir>         where the resumable journal goes   [out/<--out> for results/…, else --out]
  --fresh                 ignore the journal of an earlier run (default: resume it)
  --quiet                 no progress bar`;

export const COMMON_OPTIONS = {
  model: { type: 'string' },
  engine: { type: 'string' },
  workers: { type: 'string' },
  batch: { type: 'string' },
  distance: { type: 'string' },
  'kernel-width': { type: 'string' },
  out: { type: 'string', short: 'o' },
  journal: { type: 'string' },
  fresh: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpecs;

/** parseArgs of `earshot experiment <cmd>` with the common options plus `extra`. */
export function parse(cmd: string, args: string[], extra: OptionSpecs): Options {
  return Options.parse(`experiment ${cmd}`, args, { ...COMMON_OPTIONS, ...extra });
}

/** A comma-separated list of content types (each at most once). */
export function contents(o: Options, name: string, def: readonly ContentType[]): ContentType[] {
  return o.members(name, CONTENT_TYPES, def, 'content type');
}

export function common(o: Options, defOut: string): CommonOptions & { distance: 'euclidean' | 'cosine'; kernelWidth: number } {
  return {
    model: o.string('model', undefined, { nonEmpty: true }),
    engine: o.oneOf('engine', ['auto', 'tfjs', 'ort', 'ort-web'] as const, 'auto'),
    workers: o.int('workers', { def: Math.min(2, availableParallelism()), min: 1, max: 64 }),
    batch: o.int('batch', { def: 64, min: 1, max: 1 << 16 }),
    out: o.string('out', defOut),
    journalDir: o.string('journal'),
    fresh: o.flag('fresh'),
    progress: !o.flag('quiet'),
    distance: o.oneOf('distance', ['euclidean', 'cosine'] as const, 'euclidean'),
    kernelWidth: o.num('kernel-width', { def: 0.25, min: 0, exclusiveMin: true }),
  };
}

export const commandLine = (cmd: string, args: string[]) => ['earshot', 'experiment', cmd, ...args.map(shellQuote)].join(' ');
