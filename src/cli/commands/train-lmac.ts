/**
 * `earshot train-lmac`: train the L-MAC decoder (paper 004; methods.md §7; src/explain/lmac)
 * for a frozen classifier on the corpus, on the TF.js wasm backend with earshot's gradient
 * kernels. Progress per step and per epoch on stderr (loss terms, masked-in / masked-out P(c),
 * AI, AD); the best decoder goes to --out (decoder.json + decoder.bin), the pre-fine-tuning one
 * to --out/stage1, a resumable checkpoint to --out/checkpoint.
 */
import { resolve } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import type { Command } from '../commands.ts';
import { Options } from '../options.ts';

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

export async function trainLmacCommand(args: string[]): Promise<number> {
  const o: Options = Options.parse('train-lmac', args, {
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
  }, { positionals: false });
  const corpus = o.string('corpus', 'corpus');
  const modelDir = resolve(o.string('model', 'assets/models/svd-default'));
  const out = o.string('out', 'assets/models/lmac-default');
  const loss: Record<string, number> = {};
  for (const [opt, key] of [['lambda-in', 'lambdaIn'], ['lambda-out', 'lambdaOut'], ['lambda-s', 'lambdaS'], ['lambda-g', 'lambdaG']] as const) {
    const v = o.num(opt, { min: 0, max: 1e6 });
    if (v !== undefined) loss[key] = v;
  }
  const opts = {
    epochs: o.int('epochs', { min: 1 }),
    ftEpochs: o.int('ft-epochs', { min: 0 }),
    stepsPerEpoch: o.int('steps-per-epoch', { min: 1 }),
    batchSize: o.int('batch', { min: 1 }),
    learningRate: o.num('lr', { min: 1e-9, max: 1 }),
    ftLearningRate: o.num('ft-lr', { min: 1e-9, max: 1 }),
    lrDecay: o.num('lr-decay', { min: 1e-6, max: 1 }),
    binThreshold: o.num('bin-threshold', { min: 0, max: 1 }),
    ccThreshold: o.num('cc-threshold', { min: -1, max: 1 }),
    channels: o.int('channels', { min: 1 }),
    validExcerpts: o.int('valid', { min: 1 }),
    patience: o.int('patience', { min: 1 }),
    maxMinutes: o.num('max-minutes', { min: 0, max: 1e6 }),
    seed: o.int('seed', { min: 0, max: 0xffffffff }),
    workers: o.int('workers', { min: 1 }),
  };
  const maxSongs = o.int('max-songs', { min: 1 });
  const clean = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));

  const log = (l: string) => process.stderr.write(l + '\n');
  const { initBackend } = await import('../../model/backend.ts');
  const { registerWasmTrainingKernels } = await import('../../model/wasm_kernels.ts');
  const { loadWeights } = await import('../../model/weights.ts');
  const { listCorpus } = await import('../../model/dataset.ts');
  const { loadLmacSongs, trainLmac } = await import('../../explain/lmac/train.ts');
  const { loadDecoderFile } = await import('../../explain/lmac/weights.ts');
  const initDir = o.string('init');
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
    resume: o.flag('resume'),
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
