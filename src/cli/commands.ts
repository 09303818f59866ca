/** The registry of `earshot` subcommands. Each command module exports one `Command`. */
import { mel } from './commands/mel.ts';
import { demo } from './commands/demo.ts';
import { train } from './commands/train.ts';
import { explainCmd } from './commands/explain.ts';
import { exportOnnxCommand } from '../model/onnx/cli.ts';
import { predict } from './commands/predict.ts';
import { separateCmd } from './commands/separate.ts';
import { experiment } from './commands/experiment.ts';
import { evaluate } from './commands/evaluate.ts';
import { sanity } from './commands/sanity.ts';
import { trainLmac } from './commands/train-lmac.ts';
import { attackCmd } from './commands/attack.ts';
import { recalibrateBn } from './commands/recalibrate-bn.ts';
export interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
  /** The command prints its own help for --help (dispatchers with subcommands). */
  handlesHelp?: boolean;
}

export const commands: Record<string, Command> = {
  mel,
  demo,
  train,
  explain: explainCmd,
  'export-onnx': exportOnnxCommand,
  predict,
  separate: separateCmd,
  experiment,
  evaluate,
  sanity,
  'recalibrate-bn': recalibrateBn,
  'train-lmac': trainLmac,
  attack: attackCmd,
};
