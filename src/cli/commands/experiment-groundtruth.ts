/**
 * `earshot experiment groundtruth`: choosing SLIME's content type with synthetic ground truth
 * (Mishra et al. 2020, Sec. V; src/experiments/slime/gt-experiment.ts). Needs a corpus with
 * aligned stems (--corpus, default `corpus`). Writes groundtruth-instances.csv, groundtruth.csv,
 * groundtruth-by-type.csv, groundtruth.png and groundtruth-summary.txt into --out.
 */
import { COMMON_HELP, commandLine, common, contents, int, num, parse } from '../../experiments/slime/cli-options.ts';
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
    const { values, positionals } = parse(cmd, args, {
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
    if (positionals.length) throw new Error(`groundtruth takes no files (it reads the corpus's stems), got ${positionals.join(' ')}`);
    const c = common(cmd, values, 'results/slime');
    const threshold = values.threshold === undefined ? 0.5 : num(cmd, values.threshold, 'threshold', 0.5, -1);
    const { summary, written } = await groundTruthExperiment({
      ...c,
      corpus: String(values.corpus ?? 'corpus'),
      seed: int(cmd, values.seed, 'seed', 1, 0, 0xffffffff),
      excerptsPerSong: int(cmd, values['excerpts-per-song'], 'excerpts-per-song', 10),
      mixes: int(cmd, values.mixes, 'mixes', 4, 1, 120),
      minInstances: int(cmd, values['min-instances'], 'min-instances', 600, 0),
      maxRounds: values['max-rounds'] === undefined ? undefined : int(cmd, values['max-rounds'], 'max-rounds', 1),
      threshold: Math.min(1, threshold),
      numSamples: int(cmd, values.samples, 'samples', 70000, 1, 1 << 26),
      contents: contents(cmd, values.contents, ['zero', 'min_inp', 'mean_inp', 'noise', 'min_data']),
      fullInstances: int(cmd, values['full-instances'], 'full-instances', 20, 0),
      fullContents: contents(cmd, values['full-contents'], ['zero', 'mean_inp']),
      command: commandLine(cmd, args),
    });
    process.stdout.write(summary);
    for (const w of written) process.stderr.write(`wrote ${w}\n`);
    return 0;
  },
};
