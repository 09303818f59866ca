/** Option parsing shared by the `earshot experiment stability | content | groundtruth` commands. */
import { availableParallelism } from 'node:os';
import { EarshotError } from '../../../bindings/errors.ts';
import { parseCommandArgs } from '../../cli/commands/mel.ts';
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
} as const;

export function usage(cmd: string, msg: string): never {
  throw new EarshotError('BAD_USAGE', `${msg} (see \`earshot experiment ${cmd} --help\`)`);
}

export function parse(cmd: string, args: string[], extra: Record<string, { type: 'string' | 'boolean'; short?: string }>) {
  return parseCommandArgs(`experiment ${cmd}`, args, { ...COMMON_OPTIONS, ...extra } as Record<string, { type: 'string' | 'boolean'; short?: string }>);
}

export function int(cmd: string, v: unknown, name: string, def: number, min = 1, max = 2 ** 31 - 1): number {
  if (v === undefined) return def;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) usage(cmd, `--${name} must be an integer in [${min}, ${max}], got '${s}'`);
  return Number(s);
}

export function num(cmd: string, v: unknown, name: string, def: number, min: number): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= min) usage(cmd, `--${name} must be a number > ${min}, got '${String(v)}'`);
  return x;
}

export function intList(cmd: string, v: unknown, name: string, def: number[], min = 1): number[] {
  if (v === undefined) return def;
  const parts = String(v).split(',').map((s) => s.trim().replace(/_/g, ''));
  const out = parts.map((s) => {
    if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > 1 << 26) usage(cmd, `--${name} must be a comma-separated list of integers ≥ ${min}, got '${String(v)}'`);
    return Number(s);
  });
  if (new Set(out).size !== out.length) usage(cmd, `--${name} lists a value twice: '${String(v)}'`);
  return out;
}

export function contents(cmd: string, v: unknown, def: readonly ContentType[]): ContentType[] {
  if (v === undefined) return [...def];
  const out = String(v).split(',').map((s) => s.trim());
  for (const c of out) if (!(CONTENT_TYPES as readonly string[]).includes(c)) usage(cmd, `--contents: '${c}' is not one of ${CONTENT_TYPES.join(', ')}`);
  return out as ContentType[];
}

export function common(cmd: string, values: Record<string, unknown>, defOut: string): CommonOptions & { distance: 'euclidean' | 'cosine'; kernelWidth: number } {
  const engine = String(values.engine ?? 'auto');
  if (!['auto', 'tfjs', 'ort', 'ort-web'].includes(engine)) usage(cmd, `--engine must be one of auto, tfjs, ort, ort-web, got '${engine}'`);
  const distance = String(values.distance ?? 'euclidean');
  if (distance !== 'euclidean' && distance !== 'cosine') usage(cmd, `--distance must be euclidean or cosine, got '${distance}'`);
  const model = values.model === undefined ? undefined : String(values.model);
  if (model === '') usage(cmd, '--model must not be empty');
  return {
    model,
    engine,
    workers: int(cmd, values.workers, 'workers', Math.min(2, availableParallelism()), 1, 64),
    batch: int(cmd, values.batch, 'batch', 64, 1, 1 << 16),
    out: String(values.out ?? defOut),
    journalDir: values.journal === undefined ? undefined : String(values.journal),
    fresh: values.fresh === true,
    progress: values.quiet !== true,
    distance,
    kernelWidth: num(cmd, values['kernel-width'], 'kernel-width', 0.25, 0),
  };
}

const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
export const commandLine = (cmd: string, args: string[]) => ['earshot', 'experiment', cmd, ...args.map(q)].join(' ');
