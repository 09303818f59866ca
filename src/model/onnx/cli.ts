/**
 * `earshot export-onnx --model DIR --out model.onnx [--form excerpt|file] [--logits]`: the
 * singing-voice CNN of an earshot weight file (docs/model.md) as an ONNX model for ONNX Runtime
 * or any other ONNX host (./export.ts; docs/engines.md). Node-only (file system); the browser
 * path never imports it.
 */
import { EarshotError } from '../../../bindings/errors.ts';
import { parseCommandArgs, writeFileAtomic } from '../../cli/commands/mel.ts';
import type { Command } from '../../cli/commands.ts';
import { initWeights, loadWeights } from '../weights.ts';
import { exportSvdOnnx } from './export.ts';

const HELP = `Usage: earshot export-onnx --model DIR --out model.onnx [--form excerpt|file] [--logits]

Export the singing-voice CNN (methods.md §2) of an earshot weight directory (model.json +
weights.bin) to ONNX (opset 17, IR 8), batch norm folded into the convolutions and dense layers,
conv1's zero-mean kernels applied. The model takes NORMALISED log-mel input (the per-band
statistics are stored in the file's metadata as earshot.normalization).

Options:
  --model DIR|random:SEED  weight directory (default: the bundled model), or a seeded random CNN
  -o, --out FILE           where to write the .onnx file (atomically)
  --form excerpt|file      excerpt (default): x [N, 1, 115, 80] → p [N, 1] = P(voice)
                           file: x [N, 1, L, 80] (padded by 57 frames at both ends)
                                 → p [N, L − 114], one P(voice) per frame (fully convolutional)
  --logits                 output the pre-sigmoid logit instead of P(voice)`;

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('export-onnx', args, {
    model: { type: 'string' },
    out: { type: 'string', short: 'o' },
    form: { type: 'string' },
    logits: { type: 'boolean' },
  });
  if (positionals.length) throw new EarshotError('BAD_USAGE', `export-onnx takes no positional arguments, got ${positionals.join(' ')} (see \`earshot export-onnx --help\`)`);
  const out = values.out as string | undefined;
  if (!out) throw new EarshotError('BAD_USAGE', 'export-onnx needs --out <model.onnx>');
  const form = (values.form as string | undefined) ?? 'excerpt';
  if (form !== 'excerpt' && form !== 'file') throw new EarshotError('BAD_USAGE', `--form must be 'excerpt' or 'file', got '${form}'`);
  const spec = values.model as string | undefined;
  let weights;
  const rnd = spec === undefined ? null : /^random:(\d{1,10})$/.exec(spec);
  if (spec !== undefined && /^random(:|$)/.test(spec)) {
    if (!rnd || Number(rnd[1]) > 0xffffffff) throw new EarshotError('BAD_USAGE', `--model random:SEED needs an integer seed in [0, 4294967295], got '${spec}'`);
    weights = initWeights(Number(rnd[1]), { id: `svd-cnn-ismir2015/random-${rnd[1]}` });
  } else {
    const { findDefaultModel } = await import('../resolve-node.ts');
    const dir = spec ?? findDefaultModel();
    if (!dir) throw new EarshotError('MODEL_MISSING', 'export-onnx: no --model given and the bundled default model is not there; pass --model DIR');
    weights = await loadWeights(dir);
  }
  const bytes = exportSvdOnnx(weights, { form, logits: values.logits === true });
  await writeFileAtomic(out, bytes);
  process.stderr.write(`earshot export-onnx: wrote ${out} (${form} form, ${(bytes.length / 1e6).toFixed(1)} MB)\n`);
  return 0;
}

export const exportOnnxCommand: Command = {
  summary: 'export the singing-voice CNN to ONNX (excerpt or fully-convolutional file form)',
  help: HELP,
  run,
};
