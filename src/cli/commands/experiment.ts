/**
 * `earshot experiment <name> [options]`: the reproduction experiments of the papers (SLIME's
 * stability / content / ground truth, veracity, audioLIME's validations, …). Each experiment is
 * a `Command` of its own in src/cli/commands/experiment-*.ts, registered below; this command
 * only dispatches, so `earshot experiment stability --help` shows that experiment's options.
 */
import type { Command } from '../commands.ts';

// One line per experiment: name → its command module (loaded on demand, so a run of one
// experiment does not load the others' dependencies).
const EXPERIMENTS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  audiolime: { summary: "audioLIME's validations: confounded model, layer randomisation, separated vs true stems (002)", load: async () => (await import('./experiment-audiolime.ts')).experimentAudioLimeCmd },
  stability: { summary: "SLIME's U_n against N_s (paper 000 Fig. 3) + time per explanation", load: async () => (await import('./experiment-stability.ts')).stabilityCmd },
  content: { summary: "SLIME's N_ce between content types and U_n per content type (paper 000 Fig. 5–6)", load: async () => (await import('./experiment-content.ts')).contentCmd },
  groundtruth: { summary: "SLIME's N_ce against synthetic ground truth per content type (paper 000 Fig. 7)", load: async () => (await import('./experiment-groundtruth.ts')).groundTruthCmd },
  veracity: { summary: 'flip / localised / fidelity / drawing tests of LIME and KernelSHAP with adversarial excerpts (001)', load: async () => (await import('./experiment-veracity.ts')).experimentVeracity },
};

function help(): string {
  const names = Object.keys(EXPERIMENTS);
  const w = Math.max(8, ...names.map((n) => n.length));
  return [
    'Usage: earshot experiment <name> [options]',
    '',
    'Runs one of the papers\' experiments on a model and a set of files; results (CSV, PNG, a text',
    'summary) go to --out. Runs are resumable: rerun the same command after an interruption.',
    '',
    'Experiments:',
    ...names.map((n) => `  ${n.padEnd(w)}  ${EXPERIMENTS[n]!.summary}`),
    '',
    'Run `earshot experiment <name> --help` for its options.',
  ].join('\n');
}

export const experiment: Command = {
  summary: 'run a reproduction experiment (stability, content, groundtruth, veracity, audiolime, …)',
  handlesHelp: true,
  get help() {
    return help();
  },
  async run(args: string[]): Promise<number> {
    const [name, ...rest] = args;
    if (name === '--help' || name === '-h') {
      console.log(help());
      return 0;
    }
    if (!name || name.startsWith('-')) {
      console.error(help());
      return 2;
    }
    const e = EXPERIMENTS[name];
    if (!e) {
      console.error(`earshot experiment: unknown experiment '${name}' (known: ${Object.keys(EXPERIMENTS).join(', ') || 'none yet'})`);
      return 2;
    }
    const cmd = await e.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(cmd.help);
      return 0;
    }
    return cmd.run(rest);
  },
};
