/**
 * `earshot train-lmac`: train the L-MAC decoder (paper 004; methods.md §7; src/explain/lmac)
 * for a frozen classifier on the corpus, on the TF.js wasm backend with earshot's gradient
 * kernels. Progress per step and per epoch on stderr (loss terms, masked-in / masked-out P(c),
 * AI, AD); the best decoder goes to --out (decoder.json + decoder.bin), the pre-fine-tuning one
 * to --out/stage1, a resumable checkpoint to --out/checkpoint.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import type { Command } from '../commands.ts';

const HELP = `Usage: earshot train-lmac --corpus <dir> --model <dir> --out <dir> [options]

Train an L-MAC decoder (Listenable Maps for Audio Classifiers; docs/lmac.md) for the classifier
in --model: a small decoder reads the classifier's conv2 and conv4 activations and outputs a
sigmoid mask on the linear STFT magnitude (115 frames × 513 bins), trained with
  λ_in·CE(f(M⊙X), c) − λ_out·CE(f((1−M)⊙X), c) + λ_s·‖M‖₁       (c = the classifier's decision)
then fine-tuned (FT) with + λ_g·BCE(M, binarised clean vocal stem) on the items that pass the
cross-correlation gate. Adam, seeded; early stopping on the validation loss of each stage.

Writes <out>/decoder.json + decoder.bin (the best FT epoch, or the best stage-1 epoch with
--ft-epochs 0), <out>/stage1/ (the best stage-1 decoder), <out>/checkpoint/ (every epoch).

Options:
  --corpus <dir>          corpus (manifest.json, train/, valid/; songs with mix.wav, vocals.wav,
                          labels.json)                                              [corpus]
  --model <dir>           the classifier to explain               [assets/models/svd-default]
  --out <dir>             output directory                          [assets/models/lmac-default]
  --epochs <n>            stage-1 epochs                                                    [6]
  --ft-epochs <n>         fine-tuning epochs (0 = none)                                     [2]
  --steps-per-epoch <n>   mini-batches per epoch                                           [40]
  --batch <n>             excerpts per mini-batch                                          [16]
  --lr <x>                Adam learning rate, stage 1                                   [0.002]
  --lr-decay <x>          learning-rate factor per epoch within a stage                   [0.9]
  --ft-lr <x>             Adam learning rate, fine-tuning                          [lr / 2]
  --lambda-in <x>         λ_in                                                              [4]
  --lambda-out <x>        λ_out                                                           [0.2]
  --lambda-s <x>          λ_s (L1 of the mask, per item)                                  [0.4]
  --lambda-g <x>          λ_g (guidance, FT stage)                                          [4]
  --bin-threshold <x>     binarisation of the clean target: log1p|V| ≥ x · max          [0.35]
  --cc-threshold <x>      cross-correlation gate of the guidance                        [0.6]
  --channels <n>          decoder projection channels                                      [16]
  --valid <n>             validation excerpts (fixed, seeded)                             [192]
  --patience <n>          epochs without a better validation loss before a stage ends       [3]
  --max-minutes <x>       stop starting epochs after this long (FT keeps its share)        [∞]
  --seed <n>              seed of the decoder init, sampling and validation set            [1]
  --workers <n>           threads per batch (data-parallel)                                 [1]
  --max-songs <n>         use only the first n training songs (quick runs)
  --init <dir>            start from this decoder's weights (same architecture; e.g. one trained
                          for an earlier checkpoint of the classifier) instead of the seeded init
  --resume                continue from <out>/checkpoint`;

function usage(msg: string): never {
  throw new EarshotError('BAD_USAGE', `${msg} (see \`earshot train-lmac --help\`)`);
}
function int(v: unknown, name: string, dflt: number | undefined, min = 1): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim()) || n < min || n > 2 ** 32 - 1) usage(`--${name} must be an integer ≥ ${min}, got '${String(v)}'`);
  return n;
}
function num(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min || n > max) usage(`--${name} must be a number in [${min}, ${max}], got '${String(v)}'`);
  return n;
}

export async function trainLmacCommand(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        corpus: { type: 'string' },
        model: { type: 'string' },
        out: { type: 'string' },
        epochs: { type: 'string' },
        'ft-epochs': { type: 'string' },
        'steps-per-epoch': { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        'ft-lr': { type: 'string' },
        'lr-decay': { type: 'string' },
        'lambda-in': { type: 'string' },
        'lambda-out': { type: 'string' },
        'lambda-s': { type: 'string' },
        'lambda-g': { type: 'string' },
        'bin-threshold': { type: 'string' },
        'cc-threshold': { type: 'string' },
        channels: { type: 'string' },
        valid: { type: 'string' },
        patience: { type: 'string' },
        'max-minutes': { type: 'string' },
        seed: { type: 'string' },
        workers: { type: 'string' },
        'max-songs': { type: 'string' },
        init: { type: 'string' },
        resume: { type: 'boolean' },
      },
    }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    usage((e as Error).message);
  }
  const corpus = (values.corpus as string | undefined) ?? 'corpus';
  const modelDir = resolve((values.model as string | undefined) ?? 'assets/models/svd-default');
  const out = (values.out as string | undefined) ?? 'assets/models/lmac-default';
  const loss: Record<string, number> = {};
  for (const [opt, key] of [['lambda-in', 'lambdaIn'], ['lambda-out', 'lambdaOut'], ['lambda-s', 'lambdaS'], ['lambda-g', 'lambdaG']] as const) {
    const v = num(values[opt], opt, 0, 1e6);
    if (v !== undefined) loss[key] = v;
  }
  const opts = {
    epochs: int(values.epochs, 'epochs', undefined),
    ftEpochs: int(values['ft-epochs'], 'ft-epochs', undefined, 0),
    stepsPerEpoch: int(values['steps-per-epoch'], 'steps-per-epoch', undefined),
    batchSize: int(values.batch, 'batch', undefined),
    learningRate: num(values.lr, 'lr', 1e-9, 1),
    ftLearningRate: num(values['ft-lr'], 'ft-lr', 1e-9, 1),
    lrDecay: num(values['lr-decay'], 'lr-decay', 1e-6, 1),
    binThreshold: num(values['bin-threshold'], 'bin-threshold', 0, 1),
    ccThreshold: num(values['cc-threshold'], 'cc-threshold', -1, 1),
    channels: int(values.channels, 'channels', undefined),
    validExcerpts: int(values.valid, 'valid', undefined),
    patience: int(values.patience, 'patience', undefined),
    maxMinutes: num(values['max-minutes'], 'max-minutes', 0, 1e6),
    seed: int(values.seed, 'seed', undefined, 0),
    workers: int(values.workers, 'workers', undefined),
  };
  const maxSongs = int(values['max-songs'], 'max-songs', undefined);
  const clean = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));

  const log = (l: string) => process.stderr.write(l + '\n');
  const { initBackend } = await import('../../model/backend.ts');
  const { registerWasmTrainingKernels } = await import('../../model/wasm_kernels.ts');
  const { loadWeights } = await import('../../model/weights.ts');
  const { listCorpus } = await import('../../model/dataset.ts');
  const { loadLmacSongs, trainLmac } = await import('../../explain/lmac/train.ts');
  const { loadDecoderFile } = await import('../../explain/lmac/weights.ts');
  const initDir = values.init as string | undefined;
  const init = initDir !== undefined ? { ...(await loadDecoderFile(resolve(initDir))), source: initDir } : undefined;
  const weights = await loadWeights(modelDir);
  const info = await initBackend('wasm');
  registerWasmTrainingKernels();
  log(`train-lmac: TF.js ${info.backend} (SIMD ${info.simd ? 'on' : 'off'}); classifier ${weights.info.id ?? '?'} from ${modelDir}`);
  const entries = await listCorpus(corpus);
  let trainE = entries.filter((e) => e.split === 'train');
  if (maxSongs !== undefined) trainE = trainE.slice(0, maxSongs);
  const validE = entries.filter((e) => e.split === 'valid');
  if (trainE.length === 0 || validE.length === 0) throw new EarshotError('CORPUS_EMPTY', `train-lmac needs training and validation songs in ${corpus} (have ${trainE.length} and ${validE.length})`);
  const t0 = Date.now();
  const fe = weights.info.frontend;
  const train = await loadLmacSongs(trainE, fe);
  const valid = await loadLmacSongs(validE, fe);
  log(`train-lmac: ${train.length} training and ${valid.length} validation songs loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const r = await trainLmac(weights, train, valid, {
    ...clean,
    ...(Object.keys(loss).length ? { loss } : {}),
    ...(init ? { init } : {}),
    outDir: out,
    resume: Boolean(values.resume),
    log,
    classifierDir: modelDir,
    command: ['earshot', 'train-lmac', ...args].join(' '),
  });
  if (!r.best) throw new EarshotError('TRAINING_FAILED', 'L-MAC training finished without a validated epoch');
  const v = r.best.valid;
  log(
    `train-lmac: best ${r.best.stage} epoch ${r.best.epoch}: validation loss ${v.loss!.toFixed(4)}, P(c) masked-in ${v.pIn!.toFixed(3)} / masked-out ${v.pOut!.toFixed(3)} ` +
      `(original ${v.pOriginal!.toFixed(3)}), AI ${v.AI!.toFixed(1)} %, AD ${v.AD!.toFixed(1)} %, mask mean ${v.maskMean!.toFixed(3)}; ${(r.seconds / 60).toFixed(1)} min → ${out}`,
  );
  return 0;
}

export const trainLmac: Command = {
  summary: 'train the L-MAC decoder (listenable masks) for a classifier on a corpus',
  help: HELP,
  run: trainLmacCommand,
};
