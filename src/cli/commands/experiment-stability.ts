/**
 * `earshot experiment stability`: SLIME's U_n against N_s (Mishra et al. 2020, Sec. IV-A;
 * src/experiments/slime/stability.ts). Writes stability.csv, stability-by-ns.csv,
 * stability.png and stability-summary.txt into --out and prints the summary.
 */
import type { ContentType } from '../../explain/content.ts';
import { CONTENT_TYPES } from '../../explain/content.ts';
import { COMMON_HELP, commandLine, common, int, intList, parse, usage } from '../../experiments/slime/cli-options.ts';
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
    const { values, positionals } = parse(cmd, args, {
      corpus: { type: 'string' },
      'per-file': { type: 'string' },
      samples: { type: 'string' },
      repetitions: { type: 'string' },
      content: { type: 'string' },
      'timing-excerpts': { type: 'string' },
      'timing-random-max': { type: 'string' },
    });
    const c = common(cmd, values, 'results/slime');
    const content = String(values.content ?? 'zero');
    if (!(CONTENT_TYPES as readonly string[]).includes(content)) usage(cmd, `--content must be one of ${CONTENT_TYPES.join(', ')}, got '${content}'`);
    const { summary, written } = await stabilityExperiment({
      ...c,
      files: positionals,
      corpus: String(values.corpus ?? 'corpus'),
      perFile: values['per-file'] === undefined ? undefined : int(cmd, values['per-file'], 'per-file', 1),
      numSamples: intList(cmd, values.samples, 'samples', DEFAULT_NS),
      repetitions: int(cmd, values.repetitions, 'repetitions', 5, 2, 100),
      content: content as ContentType,
      timingExcerpts: int(cmd, values['timing-excerpts'], 'timing-excerpts', 2, 0),
      timingRandomMax: int(cmd, values['timing-random-max'], 'timing-random-max', 5000, 0),
      command: commandLine(cmd, args),
    });
    process.stdout.write(summary);
    for (const w of written) process.stderr.write(`wrote ${w}\n`);
    return 0;
  },
};
