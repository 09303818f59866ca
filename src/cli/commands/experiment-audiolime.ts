/**
 * `earshot experiment audiolime`: audioLIME's validations (src/experiments/audiolime/run.ts) and
 * `earshot experiment audiolime train-confounded`: the confounded model they need
 * (src/experiments/audiolime/train-confounded.ts).
 */
import { EarshotError } from '../../../bindings/errors.ts';
import type { Command } from '../commands.ts';
import { parseCommandArgs } from './mel.ts';

const HELP = `Usage: earshot experiment audiolime [options]
       earshot experiment audiolime train-confounded [options]

audioLIME's validations (Haunschmid et al. 2020; methods.md §5) on held-out (test) songs of the
in-project corpus; results (CSV + PNG + summary.txt per stage) go to --out. Resumable: rerun the
same command after an interruption (--fresh starts over).
  confound  the tone-confounded model (train-confounded) vs the default model: how often audioLIME,
            given the tone as a source, names it (resp. the vocals) as the top source
  sanity    cascading layer randomisation from the top: Spearman rank correlation with the trained
            model's explanation per depth, audioLIME beside SLIME
  oracle    audioLIME on HPSS / REPET-SIM / NMF sources vs on the true stems (top-3 overlap)

Options:
  --stage <list>        confound,sanity,oracle (comma-separated) or all            [all]
  --corpus <dir>        the corpus (npm run corpus; docs/corpus.md)               [corpus]
  --out <dir>           results folder                                  [results/audiolime]
  --model <dir>         the clean model                           [assets/models/svd-default]
  --confounded <dir>    the confounded model                   [assets/models/svd-confounded]
  --clips <n>           held-out clips for confound and oracle (0 = all test songs)       [0]
  --sanity-clips <n>    clips for the sanity check                                        [4]
  --slime-components <d> d of the sanity check's SLIME explanation (temporal)            [10]
  --seconds <s>         clip length                                                       [6]
  --segments <n>        temporal segments per clip                                        [3]
  --samples <n>         N_s per explanation (dedup sampler)                            [1024]
  --seed <n>            sampler seed                                                      [0]
  --workers <n>         worker threads (1 = inline)                                       [2]
  --engine <e>          auto | tfjs | ort | ort-web                                    [auto]
  --fresh               ignore the journals and start over

train-confounded options:
  --corpus <dir> [corpus]  --out <dir> [assets/models/svd-confounded]  --epochs <n> [1]
  --steps <n> steps per epoch [100]  --batch <n> [32]  --workers <n> [2]  --seed <n> [1]  --resume`;

function usage(msg: string): never {
  throw new EarshotError('BAD_USAGE', `${msg} (see \`earshot experiment audiolime --help\`)`);
}

function int(v: unknown, name: string, def: number, min = 0): number {
  if (v === undefined) return def;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min) usage(`--${name} must be an integer ≥ ${min}, got '${s}'`);
  return Number(s);
}

async function trainCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('experiment audiolime train-confounded', args, {
    corpus: { type: 'string' }, out: { type: 'string' }, epochs: { type: 'string' }, steps: { type: 'string' }, batch: { type: 'string' },
    workers: { type: 'string' }, seed: { type: 'string' }, resume: { type: 'boolean' }, 'limit-songs': { type: 'string' },
  });
  if (positionals.length) usage(`unexpected argument '${positionals[0]}'`);
  const { trainConfounded } = await import('../../experiments/audiolime/train-confounded.ts');
  const o = {
    corpus: (values.corpus as string | undefined) ?? 'corpus',
    out: (values.out as string | undefined) ?? 'assets/models/svd-confounded',
    epochs: int(values.epochs, 'epochs', 1, 1),
    stepsPerEpoch: int(values.steps, 'steps', 100, 1),
    batchSize: int(values.batch, 'batch', 32, 2),
    workers: int(values.workers, 'workers', 2, 1),
    seed: int(values.seed, 'seed', 1),
    resume: values.resume === true,
    limitSongs: values['limit-songs'] === undefined ? undefined : int(values['limit-songs'], 'limit-songs', 1, 1),
    command: ['earshot', 'experiment', 'audiolime', 'train-confounded', ...args].join(' '),
    log: (l: string) => process.stderr.write(l + '\n'),
  };
  const r = await trainConfounded(o);
  process.stderr.write(`confounded model: validation frame error ${(100 * r.validError).toFixed(2)} % after ${r.epochs} epoch(s), ${(r.seconds / 60).toFixed(1)} min → ${o.out}\n`);
  console.log(o.out);
  return 0;
}

export async function experimentAudioLimeCommand(args: string[]): Promise<number> {
  if (args[0] === 'train-confounded') return trainCmd(args.slice(1));
  const { values, positionals } = parseCommandArgs('experiment audiolime', args, {
    stage: { type: 'string' }, corpus: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' }, confounded: { type: 'string' },
    clips: { type: 'string' }, 'sanity-clips': { type: 'string' }, 'slime-components': { type: 'string' }, seconds: { type: 'string' }, segments: { type: 'string' }, samples: { type: 'string' },
    seed: { type: 'string' }, workers: { type: 'string' }, engine: { type: 'string' }, fresh: { type: 'boolean' },
  });
  if (positionals.length) usage(`unexpected argument '${positionals[0]}'`);
  const { STAGES, runAudioLimeExperiment } = await import('../../experiments/audiolime/run.ts');
  const stageArg = (values.stage as string | undefined) ?? 'all';
  const stages = stageArg === 'all' ? [...STAGES] : stageArg.split(',').map((x) => x.trim());
  for (const st of stages) if (!(STAGES as readonly string[]).includes(st)) usage(`--stage must be all or a comma-separated list of ${STAGES.join(', ')}, got '${st}'`);
  const engine = (values.engine as string | undefined) ?? 'auto';
  if (!['auto', 'tfjs', 'ort', 'ort-web'].includes(engine)) usage(`--engine must be one of auto, tfjs, ort, ort-web, got '${engine}'`);
  const seconds = Number(values.seconds ?? 6);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 10) usage(`--seconds must be a number in [1, 10], got '${String(values.seconds)}'`);
  const clips = int(values.clips, 'clips', 0);
  const sanityClips = int(values['sanity-clips'], 'sanity-clips', 4, 1);
  const slimeComponents = int(values['slime-components'], 'slime-components', 10, 2);
  const segments = int(values.segments, 'segments', 3, 1);
  const samples = int(values.samples, 'samples', 1024, 1);
  const seed = int(values.seed, 'seed', 0);
  const workers = int(values.workers, 'workers', 2, 1);
  const { existsSync } = await import('node:fs');
  const corpus = (values.corpus as string | undefined) ?? 'corpus';
  if (!existsSync(corpus)) throw new EarshotError('CORPUS_MISSING', `corpus ${corpus} does not exist: build it with \`npm run corpus\` (docs/corpus.md) or pass --corpus DIR`);
  const confounded = (values.confounded as string | undefined) ?? 'assets/models/svd-confounded';
  if (stages.includes('confound') && !existsSync(confounded)) {
    throw new EarshotError('MODEL_MISSING', `--confounded ${confounded} does not exist: train it with \`earshot experiment audiolime train-confounded\``);
  }
  await runAudioLimeExperiment({
    corpus,
    out: (values.out as string | undefined) ?? 'results/audiolime',
    model: (values.model as string | undefined) ?? 'assets/models/svd-default',
    confounded,
    stages: stages as never,
    clips,
    sanityClips,
    slimeComponents,
    seconds,
    segments,
    samples,
    seed,
    workers,
    engine,
    fresh: values.fresh === true,
    log: (l) => process.stderr.write(l + '\n'),
  });
  return 0;
}

export const experimentAudioLimeCmd: Command = {
  summary: "audioLIME's validations: confounded model, layer randomisation, separated vs true stems",
  help: HELP,
  run: experimentAudioLimeCommand,
};
