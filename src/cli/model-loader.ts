/**
 * `--model` for the CLI: a weight directory (docs/model.md: model.json + weights.bin) loaded
 * into the singing-voice CNN (methods.md §2) on the TF.js wasm backend. Without `--model`, the
 * bundled default `assets/models/svd-default/`; when it is not there (it is trained by
 * `earshot train`), a clear error says so — never a silent fallback to random weights.
 * `random:SEED` gives a seeded, randomly initialised CNN (He/Glorot, docs/model.md): a sanity
 * baseline (an explanation of an untrained model should look like noise) and fast tests.
 */
import { EarshotError } from '../../bindings/errors.ts';
import type { FrontEndConfig } from '../frontend/config.ts';
import type { BandStats } from '../frontend/stats.ts';
import { initBackend } from '../model/backend.ts';
import { createClassifier, ENGINES, type EngineChoice, type EngineClassifier } from '../model/engines.ts';
import { inputPipelineOf } from '../model/weights.ts';

export { DEFAULT_MODEL_DIR, findDefaultModel, resolveModelWeights } from '../model/resolve-node.ts';
import { resolveModelWeights } from '../model/resolve-node.ts';

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

export interface LoadModelOptions {
  /** `--engine`: auto (default) | tfjs | ort | ort-web. */
  engine?: string;
  /** Told which engine was picked and why faster ones were skipped. */
  onInfo?: (message: string) => void;
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
