/**
 * The `earshot` command. Subcommands live in src/cli/commands/*; progress goes to stderr and
 * results to files or stdout.
 */
import { EarshotError } from '../../bindings/errors.ts';
import { isMainThread } from 'node:worker_threads';
import { commands } from './commands.ts';

const VERSION = '0.1.0';

function usage(): string {
  const lines = [
    `earshot ${VERSION} — fast, listenable explanations of audio classifiers`,
    '',
    'Usage: earshot <command> [options]',
    '',
    'Commands:',
  ];
  const w = Math.max(...Object.keys(commands).map((k) => k.length));
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(w)}  ${c.summary}`);
  lines.push('', 'Run `earshot <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(VERSION);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`earshot: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (!cmd.handlesHelp && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof EarshotError) {
      console.error(`earshot ${name}: ${e.message} [${e.code}]`);
      return 1;
    }
    throw e;
  }
}

// In a worker thread (a pool started from the bundle imports it to reach its tasks) the CLI
// must not run again; instead every task module is evaluated so the worker finds its task.
if (!isMainThread) await import('./worker-tasks.ts');
if (isMainThread) main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
