/**
 * Where `--model` weights come from in Node: the bundled default model next to the package,
 * a weight directory, or `random:SEED` (a seeded, randomly initialised CNN: a sanity baseline).
 * Shared by the CLI (src/cli/model-loader.ts) and the Node tasks of src/metrics and
 * src/experiments; no TF.js is started here.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarshotError } from '../../bindings/errors.ts';
import { initWeights, loadWeights, MANIFEST_FILE, WEIGHTS_FILE, type WeightSet } from './weights.ts';

export const DEFAULT_MODEL_DIR = join('assets', 'models', 'svd-default');

/** The bundled model's directory next to the package (from src/model or a bundle in dist/), or null if absent. */
export function findDefaultModel(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..', '../../..']) {
    const d = resolve(here, up, DEFAULT_MODEL_DIR);
    if (existsSync(join(d, MANIFEST_FILE)) && existsSync(join(d, WEIGHTS_FILE))) return d;
  }
  return null;
}

const TRAIN_HINT =
  'Train it with `earshot train --corpus <dir> --out assets/models/svd-default` (see `earshot train --help`), ' +
  'pass another weight directory with --model DIR, or use --model random:SEED for an untrained, randomly initialised CNN (a sanity baseline only)';

/**
 * The weights `--model` names: undefined = the bundled default, `random:SEED`, or a weight
 * directory, with errors that say what to do when it is not there (no TF.js needed).
 */
export async function resolveModelWeights(spec: string | undefined): Promise<{ weights: WeightSet; dir: string | null }> {
  if (spec !== undefined && /^random(:|$)/.test(spec)) {
    const m = /^random:(\d{1,10})$/.exec(spec);
    if (!m || Number(m[1]) > 0xffffffff) throw new EarshotError('BAD_USAGE', `--model random:SEED needs an integer seed in [0, 4294967295], got '${spec}'`);
    return { weights: initWeights(Number(m[1]), { id: `svd-cnn-ismir2015/random-${m[1]}` }), dir: null };
  }
  let dir: string;
  if (spec === undefined) {
    const found = findDefaultModel();
    if (!found) throw new EarshotError('MODEL_MISSING', `the bundled default model ${DEFAULT_MODEL_DIR}/ is not there (it has not been trained yet). ${TRAIN_HINT}.`);
    dir = found;
  } else {
    dir = resolve(spec);
    if (!existsSync(dir)) throw new EarshotError('MODEL_MISSING', `--model: ${spec} does not exist. ${TRAIN_HINT}.`);
    if (!existsSync(join(dir, MANIFEST_FILE))) throw new EarshotError('MODEL_MISSING', `--model: ${spec} has no ${MANIFEST_FILE}; a model directory holds ${MANIFEST_FILE} and ${WEIGHTS_FILE} (docs/model.md)`);
  }
  return { weights: await loadWeights(dir), dir };
}
