/** The registry of `earshot` subcommands. Each command module exports one `Command`. */
export interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {};
