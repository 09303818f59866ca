/**
 * `earshot experiment stability`: SLIME's U_n against N_s (Mishra et al. 2020, Sec. IV-A;
 * src/experiments/slime/stability.ts). Writes stability.csv, stability-by-ns.csv,
 * stability.png and stability-summary.txt into --out and prints the summary.
 */
import { CONTENT_TYPES } from '../../explain/content.ts';
import { COMMON_HELP, commandLine, common, parse } from '../../experiments/slime/cli-options.ts';
import type { Options } from '../options.ts';
import { DEFAULT_NS, stabilityExperiment } from '../../experiments/slime/stability.ts';
import type { Command } from '../commands.ts';

const HELP = `Usage: earshot experiment stability [file.wav …] [options]

SLIME's stability against the number of samples N_s (Mishra et al. 2020, Sec. IV-A, Fig. 3):
for every excerpt, k temporal explanations (d = 10) with different seeds at each N_s; U_n = the
number of distinct components in their top-3 sets (3 = stable, 10 = worst). Also the
deduplicated and exhaustive samplers, and the time per explanation (explain() end to end).
Files: the given WAVs, else the corpus's test-split mixes + assets/lena-sung.wav; excerpts:
non-overlapping 115-frame excerpts of each file.

Options:
  --corpus <dir>          corpus for the default file set                            [corpus]
  --per-file <n>          excerpts per file, spread evenly                             [all]
  --samples <list>        N_s values                 [1000,5000,10000,20000,…,70000]
  --repetitions <k>       explanations per excerpt and N_s                               [5]
  --content <c>           replacement content                                         [zero]
  --timing-excerpts <n>   excerpts timed with explain() on real forward passes           [2]
  --timing-random-max <N> largest N_s timed with the random design (larger: extrapolated)
                                                                                     [5000]
${COMMON_HELP}`;

export const stabilityCmd: Command = {
  summary: "SLIME's U_n against N_s (paper 000, Fig. 3) + time per explanation",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const cmd = 'stability';
    const o: Options = parse(cmd, args, {
      corpus: { type: 'string' },
      'per-file': { type: 'string' },
      samples: { type: 'string' },
      repetitions: { type: 'string' },
      content: { type: 'string' },
      'timing-excerpts': { type: 'string' },
      'timing-random-max': { type: 'string' },
    });
    const c = common(o, 'results/slime');
    const content = o.oneOf('content', CONTENT_TYPES, 'zero');
    const { summary, written } = await stabilityExperiment({
      ...c,
      files: [...o.positionals],
      corpus: o.string('corpus', 'corpus'),
      perFile: o.int('per-file', { min: 1, max: 2 ** 31 - 1 }),
      numSamples: o.intList('samples', { def: DEFAULT_NS, min: 1, max: 1 << 26 }),
      repetitions: o.int('repetitions', { def: 5, min: 2, max: 100 }),
      content,
      timingExcerpts: o.int('timing-excerpts', { def: 2, min: 0, max: 2 ** 31 - 1 }),
      timingRandomMax: o.int('timing-random-max', { def: 5000, min: 0, max: 2 ** 31 - 1 }),
      command: commandLine(cmd, args),
    });
    process.stdout.write(summary);
    for (const w of written) process.stderr.write(`wrote ${w}\n`);
    return 0;
  },
};
