/**
 * `earshot experiment content`: SLIME's sensitivity to the content type (Mishra et al. 2020,
 * Sec. IV-B; src/experiments/slime/content.ts). Writes content.csv, content-by-type.csv,
 * content.png and content-summary.txt into --out and prints the summary.
 */
import { CONTENT_TYPES } from '../../explain/content.ts';
import { COMMON_HELP, commandLine, common, contents, parse } from '../../experiments/slime/cli-options.ts';
import type { Options } from '../options.ts';
import { contentExperiment } from '../../experiments/slime/content.ts';
import type { Command } from '../commands.ts';

const HELP = `Usage: earshot experiment content [file.wav …] [options]

SLIME's sensitivity to the content of occluded components (Mishra et al. 2020, Sec. IV-B,
Fig. 5–6): temporal and spectral explanations (d = 10) of each excerpt with every content type;
N_ce(c) = |E_c ∩ E_zero| and U_n per content type over k repetitions.
Files: the given WAVs, else the corpus's test-split mixes + assets/lena-sung.wav.

Options:
  --corpus <dir>          corpus for the default file set                            [corpus]
  --per-file <n>          excerpts per file, spread evenly                             [all]
  --samples <N>           N_s                                                       [70000]
  --repetitions <k>       explanations per excerpt for U_n                               [5]
  --contents <list>       content types (zero is always included)
                                            [zero,min_data,min_inp,mean_inp,noise]
${COMMON_HELP}`;

export const contentCmd: Command = {
  summary: "SLIME's N_ce between content types and U_n per content type (paper 000 Fig. 5–6)",
  help: HELP,
  async run(args: string[]): Promise<number> {
    const cmd = 'content';
    const o: Options = parse(cmd, args, {
      corpus: { type: 'string' },
      'per-file': { type: 'string' },
      samples: { type: 'string' },
      repetitions: { type: 'string' },
      contents: { type: 'string' },
    });
    const c = common(o, 'results/slime');
    const { summary, written } = await contentExperiment({
      ...c,
      files: [...o.positionals],
      corpus: o.string('corpus', 'corpus'),
      perFile: o.int('per-file', { min: 1, max: 2 ** 31 - 1 }),
      numSamples: o.int('samples', { def: 70000, min: 1, max: 1 << 26 }),
      repetitions: o.int('repetitions', { def: 5, min: 1, max: 100 }),
      contents: contents(o, 'contents', CONTENT_TYPES),
      command: commandLine(cmd, args),
    });
    process.stdout.write(summary);
    for (const w of written) process.stderr.write(`wrote ${w}\n`);
    return 0;
  },
};
