/**
 * `earshot experiment groundtruth`: choosing SLIME's content type with synthetic ground truth
 * (Mishra et al. 2020, Sec. V; src/experiments/slime/gt-experiment.ts). Needs a corpus with
 * aligned stems (--corpus, default `corpus`). Writes groundtruth-instances.csv, groundtruth.csv,
 * groundtruth-by-type.csv, groundtruth.png and groundtruth-summary.txt into --out.
 */
import { COMMON_HELP, commandLine, common, contents, parse } from '../../experiments/slime/cli-options.ts';
import type { Options } from '../options.ts';
import { groundTruthExperiment } from '../../experiments/slime/gt-experiment.ts';
import type { Command } from '../commands.ts';

const HELP = `Usage: earshot experiment groundtruth [options]

Choosing SLIME's content type with ground truth (Mishra et al. 2020, Sec. V, Fig. 7): from the
aligned stems of the corpus's test-split songs, an accompaniment excerpt gets 3 random temporal
components (of 10) replaced by the time-aligned vocal excerpt's bins; instances the model calls
voice (P ≥ 0.5) are explained with each content type and scored N_ce = |E_c ∩ G|. Extensions:
the exhaustive design, the other distance, exact KernelSHAP.
The corpus is not part of the repository: build it with
  bash scripts/corpus/install-deps.sh && node --import tsx scripts/corpus/build.ts --seed 1 --out corpus
(docs/corpus.md); any directory with test/<song>/{vocals,accompaniment}.wav works too.

Options:
  --corpus <dir>          corpus with stems                                          [corpus]
  --seed <s>              seed of the instance plan                                      [1]
  --excerpts-per-song <n> excerpt starts per song (more rounds if too few are kept)     [10]
  --mixes <n>             3-subsets per excerpt start                                    [4]
  --min-instances <n>     keep adding rounds until this many instances are kept        [600]
  --max-rounds <n>        give up after this many rounds                [20 × excerpts-per-song]
  --threshold <p>         keep instances with P(voice) ≥ p                              [0.5]
  --samples <N>           N_s                                                       [70000]
  --contents <list>       content types          [zero,min_inp,mean_inp,noise,min_data]
  --full-instances <n>    instances (the first n) that also get the extensions needing the
                          whole table: the other distance and exact KernelSHAP          [20]
  --full-contents <list>  content types of those extensions                 [zero,mean_inp]
${COMMON_HELP}`;

export const groundTruthCmd: Command = {
  summary: "SLIME's N_ce against synthetic ground truth per content type (paper 000 Fig. 7) + KernelSHAP, exhaustive, cosine",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const cmd = 'groundtruth';
    const o: Options = parse(cmd, args, {
      corpus: { type: 'string' },
      seed: { type: 'string' },
      'excerpts-per-song': { type: 'string' },
      mixes: { type: 'string' },
      'min-instances': { type: 'string' },
      'max-rounds': { type: 'string' },
      threshold: { type: 'string' },
      samples: { type: 'string' },
      contents: { type: 'string' },
      'full-instances': { type: 'string' },
      'full-contents': { type: 'string' },
    });
    o.noPositionals("groundtruth takes no files: it reads the corpus's stems");
    const c = common(o, 'results/slime');
    const threshold = o.num('threshold', { def: 0.5, min: -1, exclusiveMin: true });
    const { summary, written } = await groundTruthExperiment({
      ...c,
      corpus: o.string('corpus', 'corpus'),
      seed: o.int('seed', { def: 1, min: 0, max: 0xffffffff }),
      excerptsPerSong: o.int('excerpts-per-song', { def: 10, min: 1, max: 2 ** 31 - 1 }),
      mixes: o.int('mixes', { def: 4, min: 1, max: 120 }),
      minInstances: o.int('min-instances', { def: 600, min: 0, max: 2 ** 31 - 1 }),
      maxRounds: o.int('max-rounds', { min: 1, max: 2 ** 31 - 1 }),
      threshold: Math.min(1, threshold),
      numSamples: o.int('samples', { def: 70000, min: 1, max: 1 << 26 }),
      contents: contents(o, 'contents', ['zero', 'min_inp', 'mean_inp', 'noise', 'min_data']),
      fullInstances: o.int('full-instances', { def: 20, min: 0, max: 2 ** 31 - 1 }),
      fullContents: contents(o, 'full-contents', ['zero', 'mean_inp']),
      command: commandLine(cmd, args),
    });
    process.stdout.write(summary);
    for (const w of written) process.stderr.write(`wrote ${w}\n`);
    return 0;
  },
};
