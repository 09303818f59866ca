/**
 * `earshot experiment audiolime`: audioLIME's validations (src/experiments/audiolime/run.ts) and
 * `earshot experiment audiolime train-confounded`: the confounded model they need
 * (src/experiments/audiolime/train-confounded.ts).
 */
import { EarshotError } from '../../../bindings/errors.ts';
import type { Command } from '../commands.ts';
import { Options } from '../options.ts';

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

async function trainCmd(args: string[]): Promise<number> {
  const opt: Options = Options.parse('experiment audiolime train-confounded', args, {
    corpus: { type: 'string' }, out: { type: 'string' }, epochs: { type: 'string' }, steps: { type: 'string' }, batch: { type: 'string' },
    workers: { type: 'string' }, seed: { type: 'string' }, resume: { type: 'boolean' }, 'limit-songs': { type: 'string' },
  });
  opt.noPositionals();
  const { trainConfounded } = await import('../../experiments/audiolime/train-confounded.ts');
  const o = {
    corpus: opt.string('corpus', 'corpus'),
    out: opt.string('out', 'assets/models/svd-confounded'),
    epochs: opt.int('epochs', { def: 1, min: 1 }),
    stepsPerEpoch: opt.int('steps', { def: 100, min: 1 }),
    batchSize: opt.int('batch', { def: 32, min: 2 }),
    workers: opt.int('workers', { def: 2, min: 1 }),
    seed: opt.int('seed', { def: 1, min: 0 }),
    resume: opt.flag('resume'),
    limitSongs: opt.int('limit-songs', { min: 1 }),
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
  const o: Options = Options.parse('experiment audiolime', args, {
    stage: { type: 'string' }, corpus: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' }, confounded: { type: 'string' },
    clips: { type: 'string' }, 'sanity-clips': { type: 'string' }, 'slime-components': { type: 'string' }, seconds: { type: 'string' }, segments: { type: 'string' }, samples: { type: 'string' },
    seed: { type: 'string' }, workers: { type: 'string' }, engine: { type: 'string' }, fresh: { type: 'boolean' },
  });
  o.noPositionals();
  const { STAGES, runAudioLimeExperiment } = await import('../../experiments/audiolime/run.ts');
  const stageArg = o.string('stage', 'all');
  const stages = stageArg === 'all' ? [...STAGES] : stageArg.split(',').map((x) => x.trim());
  for (const st of stages) if (!(STAGES as readonly string[]).includes(st)) o.fail(`--stage must be all or a comma-separated list of ${STAGES.join(', ')}, got '${st}'`);
  const engine = o.oneOf('engine', ['auto', 'tfjs', 'ort', 'ort-web'] as const, 'auto');
  const seconds = o.num('seconds', { def: 6, min: 1, max: 10 });
  const clips = o.int('clips', { def: 0, min: 0 });
  const sanityClips = o.int('sanity-clips', { def: 4, min: 1 });
  const slimeComponents = o.int('slime-components', { def: 10, min: 2 });
  const segments = o.int('segments', { def: 3, min: 1 });
  const samples = o.int('samples', { def: 1024, min: 1 });
  const seed = o.int('seed', { def: 0, min: 0 });
  const workers = o.int('workers', { def: 2, min: 1 });
  const { existsSync } = await import('node:fs');
  const corpus = o.string('corpus', 'corpus');
  if (!existsSync(corpus)) throw new EarshotError('CORPUS_MISSING', `corpus ${corpus} does not exist: build it with \`npm run corpus\` (docs/corpus.md) or pass --corpus DIR`);
  const confounded = o.string('confounded', 'assets/models/svd-confounded');
  if (stages.includes('confound') && !existsSync(confounded)) {
    throw new EarshotError('MODEL_MISSING', `--confounded ${confounded} does not exist: train it with \`earshot experiment audiolime train-confounded\``);
  }
  await runAudioLimeExperiment({
    corpus,
    out: o.string('out', 'results/audiolime'),
    model: o.string('model', 'assets/models/svd-default'),
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
    fresh: o.flag('fresh'),
    log: (l) => process.stderr.write(l + '\n'),
  });
  return 0;
}

export const experimentAudioLimeCmd: Command = {
  summary: "audioLIME's validations: confounded model, layer randomisation, separated vs true stems",
  help: HELP,
  run: experimentAudioLimeCommand,
};
