/**
 * `earshot train`: train the singing-voice CNN (methods.md §2) on a corpus built by
 * scripts/corpus (manifest.json + train/valid/test songs) on the TF.js wasm backend, with the
 * conv-gradient kernels of earshot's core. Progress on stderr; the best model (by validation
 * frame error) and a resumable checkpoint go to --out.
 */
import { EarshotError } from '../../../bindings/errors.ts';
import type { Command } from '../commands.ts';
import { Options } from '../options.ts';

const HELP = `Usage: earshot train --corpus <dir> --out <dir> [options]

Train the singing-voice CNN (Schlüter & Lehner; methods.md §2) on the TF.js wasm backend:
Adam (lr × decay per epoch), binary cross-entropy, balanced mini-batches of 115-frame excerpts,
augmentation (time stretch, pitch shift, gain, mixing with accompaniment), validation frame
error (median filtered) after every epoch, early stopping, the decision threshold tuned on the
validation split. Normalisation statistics come from the training split only.

Writes <out>/model.json + weights.bin (the best epoch, with statistics, threshold and training
metadata) and <out>/checkpoint/ (every epoch; --resume continues from it).

Options:
  --corpus <dir>          corpus directory (manifest.json, train/, valid/, test/)   [corpus]
  --out <dir>             output directory                          [assets/models/svd-default]
  --epochs <n>            epochs                                                          [20]
  --steps-per-epoch <n>   mini-batches per epoch                                        [2000]
  --batch <n>             excerpts per mini-batch                                         [32]
  --lr <x>                initial learning rate                                        [0.001]
  --lr-decay <x>          learning-rate factor per epoch                                [0.85]
  --patience <n>          epochs without improvement before stopping                       [5]
  --median <n>            median filter (frames) for validation errors                    [56]
  --seed <n>              seed of initialisation, sampling, augmentation, dropout          [1]
  --no-augment            train without augmentation
  --time-stretch <x>      largest time-stretch deviation (factors in [1 − x, 1 + x]; the
                          reference uses up to 0.3)                                      [0.1]
  --pitch-shift <x>       largest pitch shift: frequencies scaled by factors in [1 − x, 1 + x]
                          on the mel axis, reading 9 cached bands above 8 kHz (the reference
                          uses up to 0.3)                                               [0.05]
  --gain-db <x>           largest loudness change in dB (±)                               [10]
  --mix-prob <p>          probability of mixing another song's accompaniment into an example
                                                                                         [0.3]
  --mix-db=<lo,hi>        level range of the mixed-in accompaniment in dB (with =, as the
                          values are negative)                                  [-12,0]
  --vocal-remix <p>       probability of remixing an example's own vocal stem at another level
                          and spectral envelope before it meets its accompaniment again
                          (needs a corpus with stems; docs/training.md §11)                 [0]
  --vocal-db=<lo,hi>      vocal gain range of a remix in dB                            [-6,6]
  --vocal-eq-db <x>       largest boost/cut of each of the remix EQ's 6 control points
                          (smooth over the mel bands; 0 = gain only)                       [6]
  --recalibrate-bn <n>    before every validation, recompute the batch-norm statistics of
                          the weights being validated on n mini-batches of clean training
                          excerpts, dropout off (precise BN; \`earshot recalibrate-bn\` for a
                          trained model); 0 keeps training's moving averages               [32]
  --bn-batch <n>          excerpts per recalibration mini-batch                          [128]
  --resume                continue from <out>/checkpoint
  --ema <d>               validate and save an exponential moving average of the weights,
                          decay d per step (e.g. 0.999); off by default
  --init <dir>            start from this model's weights instead of a random initialisation
                          (fine-tuning, e.g. on a larger corpus; same architecture; the
                          normalisation statistics are recomputed on --corpus's training split)
  --backend <wasm|cpu>    TF.js backend                                                 [wasm]
  --workers <n>           threads per batch (data-parallel, BN per part; 1 in a bundle) [cores]
  --no-cache              recompute log-mels instead of using the .f32 caches in the corpus
  --validate-engine <e>   engine for the per-epoch validation predictions: auto (ONNX Runtime
                          when installed, ≈ 8× faster than TF.js wasm here), tfjs, ort    [auto]`;

export async function trainCommand(args: string[]): Promise<number> {
  const o: Options = Options.parse('train', args, {
    corpus: { type: 'string' },
    out: { type: 'string' },
    epochs: { type: 'string' },
    'steps-per-epoch': { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'lr-decay': { type: 'string' },
    patience: { type: 'string' },
    median: { type: 'string' },
    seed: { type: 'string' },
    'no-augment': { type: 'boolean' },
    'time-stretch': { type: 'string' },
    'pitch-shift': { type: 'string' },
    'gain-db': { type: 'string' },
    'mix-prob': { type: 'string' },
    'mix-db': { type: 'string' },
    'vocal-remix': { type: 'string' },
    'vocal-db': { type: 'string' },
    'vocal-eq-db': { type: 'string' },
    resume: { type: 'boolean' },
    'recalibrate-bn': { type: 'string' },
    'bn-batch': { type: 'string' },
    init: { type: 'string' },
    ema: { type: 'string' },
    backend: { type: 'string' },
    'no-cache': { type: 'boolean' },
    workers: { type: 'string' },
    'validate-engine': { type: 'string' },
  }, { positionals: false });
  const validateEngine = o.oneOf('validate-engine', ['auto', 'tfjs', 'ort'] as const, 'auto');
  const corpus = o.string('corpus', 'corpus');
  const out = o.string('out', 'assets/models/svd-default');
  const backend = o.oneOf('backend', ['wasm', 'cpu'] as const, 'wasm');
  const seed = o.int('seed', { def: 1, min: 0, max: 0xffffffff });
  const recalBatches = o.int('recalibrate-bn', { def: 32, min: 0 });
  if (recalBatches === 0 && o.has('bn-batch')) o.fail('--bn-batch sets the recalibration batch size; it cannot be combined with --recalibrate-bn 0');
  const opts = {
    epochs: o.int('epochs', { def: 20, min: 1 }),
    stepsPerEpoch: o.int('steps-per-epoch', { def: 2000, min: 1 }),
    batchSize: o.int('batch', { def: 32, min: 2 }),
    learningRate: o.num('lr', { def: 1e-3, min: 0, max: 1, exclusiveMin: true }),
    lrDecay: o.num('lr-decay', { def: 0.85, min: 0, max: 1, exclusiveMin: true }),
    patience: o.int('patience', { def: 5, min: 1 }),
    medianFrames: o.int('median', { def: 56, min: 1 }),
    ema: o.num('ema', { def: 0, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, example: '0.999' }),
    seed,
    recalibrateBn: recalBatches === 0 ? (false as const) : { batches: recalBatches, batchSize: o.int('bn-batch', { def: 128, min: 2 }), seed },
    // One thread per core by default; inside a bundle (dist/) worker threads cannot start: 1.
    workers: o.int('workers', { min: 1, def: (await import('../../model/parallel.ts')).parallelTrainingSupported() ? (await import('node:os')).availableParallelism() : 1 }),
  };

  const augmentFlags = ['time-stretch', 'pitch-shift', 'gain-db', 'mix-prob', 'mix-db', 'vocal-remix', 'vocal-db', 'vocal-eq-db'];
  const given = augmentFlags.filter((f) => o.has(f));
  if (o.flag('no-augment') && given.length > 0) o.fail(`--no-augment turns augmentation off; it cannot be combined with --${given.join(', --')}`);
  const { AUGMENT_LIMITS: L, DEFAULT_AUGMENT } = await import('../../model/augment.ts');
  const dbRange = (flag: 'mix-db' | 'vocal-db', key: 'mixDb' | 'vocalDb', what: string): [number, number] => {
    const r = o.numList(flag, { min: L[key][0], max: L[key][1], def: [...DEFAULT_AUGMENT[key]] });
    if (r.length !== 2 || r[0]! > r[1]!) o.fail(`--${flag} must be two ${what} lo,hi in dB with lo ≤ hi, got '${r.join(',')}'`);
    return [r[0]!, r[1]!];
  };
  const mixDb = dbRange('mix-db', 'mixDb', 'levels');
  const vocalDb = dbRange('vocal-db', 'vocalDb', 'gains');
  const vocalRemix = o.num('vocal-remix', { def: DEFAULT_AUGMENT.vocalRemix, min: L.vocalRemix[0], max: L.vocalRemix[1] });
  if (vocalRemix === 0 && (o.has('vocal-db') || o.has('vocal-eq-db'))) o.fail('--vocal-db and --vocal-eq-db shape the vocal remix; they need --vocal-remix > 0');
  const augment = o.flag('no-augment')
    ? (false as const)
    : {
        timeStretch: o.num('time-stretch', { def: DEFAULT_AUGMENT.timeStretch, min: L.timeStretch[0], max: L.timeStretch[1] }),
        pitchShift: o.num('pitch-shift', { def: DEFAULT_AUGMENT.pitchShift, min: L.pitchShift[0], max: L.pitchShift[1] }),
        gainDb: o.num('gain-db', { def: DEFAULT_AUGMENT.gainDb, min: L.gainDb[0], max: L.gainDb[1] }),
        mixProbability: o.num('mix-prob', { def: DEFAULT_AUGMENT.mixProbability, min: L.mixProbability[0], max: L.mixProbability[1] }),
        mixDb,
        vocalRemix,
        vocalDb,
        vocalEqDb: o.num('vocal-eq-db', { def: DEFAULT_AUGMENT.vocalEqDb, min: L.vocalEqDb[0], max: L.vocalEqDb[1] }),
      };

  // Loaded lazily so `earshot --help` does not start TF.js.
  const { initBackend } = await import('../../model/backend.ts');
  const { registerWasmTrainingKernels } = await import('../../model/wasm_kernels.ts');
  const { createSvdCnn } = await import('../../model/svdcnn.ts');
  const { initWeights, loadWeights, weightsFingerprint } = await import('../../model/weights.ts');
  const { listCorpus, loadSongs, bandStats } = await import('../../model/dataset.ts');
  const { trainModel } = await import('../../model/train.ts');
  const { statsToJSON } = await import('../../frontend/index.ts');

  const log = (l: string) => process.stderr.write(l + '\n');
  const info = await initBackend(backend);
  if (backend === 'wasm') registerWasmTrainingKernels();
  log(`train: TF.js ${info.backend} (SIMD ${info.simd ? 'on' : 'off'}, ${info.numThreads} thread${info.numThreads === 1 ? '' : 's'})`);

  const entries = await listCorpus(corpus);
  const pick = (s: string) => entries.filter((e) => e.split === s);
  const t0 = Date.now();
  const progress = (what: string) => (done: number, total: number) => {
    if (done === total || done % 10 === 0) log(`train: ${what} log-mel ${done}/${total}`);
  };
  // Pitch shifts down read real content above 8 kHz from a widened log-mel cache (docs/training.md §9).
  const { maxBandsAbove, SVD_FRONTEND } = await import('../../frontend/config.ts');
  const bandsAbove = augment && augment.pitchShift > 0 ? maxBandsAbove(SVD_FRONTEND) : 0;
  const stems = augment !== false && augment.vocalRemix > 0;
  const train = await loadSongs(pick('train'), { cache: !o.flag('no-cache'), bandsAbove, stems, onProgress: progress('training') });
  if (stems) {
    const without = train.filter((s) => !s.stems).length;
    if (without === train.length) throw new EarshotError('BAD_USAGE', `--vocal-remix: no training song of ${corpus} has both stems (vocals.wav, accompaniment.wav)`);
    if (without > 0) log(`train: ${without} of ${train.length} training songs have no stems; the vocal remix skips them`);
  }
  const valid = await loadSongs(pick('valid'), { cache: !o.flag('no-cache'), accompaniment: false, onProgress: progress('validation') });
  log(`train: ${train.length} training and ${valid.length} validation songs loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const stats = bandStats(train);
  let start = initWeights(seed, { normalization: statsToJSON(stats) });
  let initialisedFrom: string | undefined;
  const initDir = o.string('init');
  if (initDir !== undefined) {
    const from = await loadWeights(initDir);
    const arch = JSON.stringify(from.info.architecture);
    if (arch !== JSON.stringify(start.info.architecture)) {
      throw new EarshotError('BAD_USAGE', `--init ${initDir}: its architecture ${arch} is not the singing-voice CNN's ${JSON.stringify(start.info.architecture)}`);
    }
    initialisedFrom = `${from.info.id} (${initDir}, weights CRC-32 ${weightsFingerprint(from)})`;
    start = { info: { ...start.info, id: `${from.info.id}+ft-${seed}` }, tensors: from.tensors };
    log(`train: starting from ${initialisedFrom}`);
  }
  const model = createSvdCnn(start);
  try {
    const r = await trainModel(model, train, valid, stats, {
      ...opts,
      augment,
      outDir: out,
      resume: o.flag('resume'),
      ...(initialisedFrom ? { initialisedFrom } : {}),
      validationClassifier: async (w) => {
        const { createClassifier } = await import('../../model/engines.ts');
        return createClassifier(w, { engine: validateEngine });
      },
      log,
      command: ['earshot', 'train', ...args].join(' '),
    });
    if (!r.best) throw new EarshotError('TRAINING_FAILED', 'training finished without a validated epoch');
    log(
      `train: best epoch ${r.best.epoch}: validation error ${(100 * r.best.valid.error).toFixed(2)} % (recall ${(100 * r.best.valid.recall).toFixed(1)} %, ` +
        `specificity ${(100 * r.best.valid.specificity).toFixed(1)} %, threshold ${r.best.valid.threshold.toFixed(2)})${r.stoppedEarly ? ', stopped early' : ''} → ${out}`,
    );
  } finally {
    model.dispose();
  }
  return 0;
}

export const train: Command = {
  summary: 'train the singing-voice CNN on a corpus (TF.js wasm, resumable)',
  help: HELP,
  run: trainCommand,
};
