/**
 * `--model` for the CLI: a weight directory (docs/model.md: model.json + weights.bin) loaded
 * into the singing-voice CNN (methods.md §2) on the TF.js wasm backend. Without `--model`, the
 * bundled default `assets/models/svd-default/`; when it is not there (it is trained by
 * `earshot train`), a clear error says so — never a silent fallback to random weights.
 * `random:SEED` gives a seeded, randomly initialised CNN (He/Glorot, docs/model.md): a sanity
 * baseline (an explanation of an untrained model should look like noise) and fast tests.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarshotError } from '../../bindings/errors.ts';
import type { FrontEndConfig } from '../frontend/config.ts';
import type { BandStats } from '../frontend/stats.ts';
import { initBackend } from '../model/backend.ts';
import { createClassifier, ENGINES, type EngineChoice, type EngineClassifier } from '../model/engines.ts';
import { initWeights, inputPipelineOf, loadWeights, MANIFEST_FILE, WEIGHTS_FILE, type WeightSet } from '../model/weights.ts';

export const DEFAULT_MODEL_DIR = join('assets', 'models', 'svd-default');

export interface LoadedModel {
  /** The CNN on the engine asked for (`auto`: the fastest that loads; see src/model/engines.ts). */
  classifier: EngineClassifier;
  /** What was asked for: 'default', a directory, or 'random:SEED'. */
  spec: string;
  /** The directory read (null for random:SEED). */
  dir: string | null;
  /** Per-band statistics of the model input, or null when the weights carry none (random:SEED). */
  stats: BandStats | null;
  /** The front end the model was trained on (from its weight file; SVD_FRONTEND otherwise). */
  frontEnd: FrontEndConfig;
}

/** The bundled model's directory next to the package (src/cli or dist), or null if absent. */
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

export interface LoadModelOptions {
  /** `--engine`: auto (default) | tfjs | ort | ort-web. */
  engine?: string;
  /** Told which engine was picked and why faster ones were skipped. */
  onInfo?: (message: string) => void;
}

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

/** The `--engine` values, for help texts. */
export const ENGINE_HELP = ENGINES.join('|');

/**
 * Resolve and load `--model` (undefined = the bundled default) on `--engine` (default auto:
 * onnxruntime-node where it loads, then onnxruntime-web, then TF.js wasm — forward passes only;
 * gradient work asks for 'tfjs').
 */
export async function loadModel(spec: string | undefined, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const engine = options.engine ?? 'auto';
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw new EarshotError('BAD_USAGE', `--engine must be one of ${ENGINES.join(', ')}, got '${engine}'`);
  }
  const { weights, dir } = await resolveModelWeights(spec);
  await initBackend('wasm');
  const classifier = await createClassifier(weights, { engine: engine as EngineChoice, onInfo: options.onInfo });
  const { stats, frontEnd } = inputPipelineOf(weights);
  return { classifier, spec: spec ?? 'default', dir, stats, frontEnd };
}
