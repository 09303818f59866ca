/**
 * Train the confounded singing-voice CNN of audioLIME's first validation (./confound.ts): the
 * same architecture, front end and trainer (src/model/train.ts, TF.js wasm with earshot's
 * training kernels) as the default model, on the in-project corpus whose training and validation
 * mixtures carry a tone pattern wherever they are labelled "voice". Writes the weights (with the
 * training record) and a MODEL_CARD.md into `out`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FrontEnd, SVD_FRONTEND, statsToJSON } from '../../frontend/index.ts';
import { bandStats, listCorpus } from '../../model/dataset.ts';
import { initBackend } from '../../model/backend.ts';
import { registerWasmTrainingKernels } from '../../model/wasm_kernels.ts';
import { createSvdCnn } from '../../model/svdcnn.ts';
import { initWeights } from '../../model/weights.ts';
import { trainModel } from '../../model/train.ts';
import { EarshotError } from '../../../bindings/errors.ts';
import { SPURIOUS_DEFAULTS, confoundedSongs, type SpuriousOptions } from './confound.ts';

export interface TrainConfoundedOptions {
  corpus: string;
  out: string;
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  workers: number;
  seed: number;
  resume: boolean;
  /** Use only the first n training songs (tests). */
  limitSongs?: number;
  spurious?: SpuriousOptions;
  command: string;
  log: (line: string) => void;
}

export async function trainConfounded(o: TrainConfoundedOptions): Promise<{ validError: number; epochs: number; seconds: number }> {
  const t0 = Date.now();
  await initBackend('wasm');
  registerWasmTrainingKernels();
  const fe = new FrontEnd(SVD_FRONTEND);
  const entries = await listCorpus(o.corpus);
  const limit = (xs: typeof entries) => (o.limitSongs ? xs.slice(0, o.limitSongs) : xs);
  const trainE = limit(entries.filter((e) => e.split === 'train'));
  const validE = limit(entries.filter((e) => e.split === 'valid'));
  o.log(`confounded: building ${trainE.length} training and ${validE.length} validation mixtures with the tone where voiced`);
  const train = await confoundedSongs(trainE, fe, o.spurious);
  const valid = await confoundedSongs(validE, fe, o.spurious);
  const stats = bandStats(train);
  const model = createSvdCnn(initWeights(o.seed, { id: 'svd-cnn-ismir2015/confounded', normalization: statsToJSON(stats) }));
  try {
    const r = await trainModel(model, train, valid, stats, {
      epochs: o.epochs,
      stepsPerEpoch: o.stepsPerEpoch,
      batchSize: o.batchSize,
      seed: o.seed,
      workers: o.workers,
      // no accompaniment mixing (the confounded songs carry none); pitch/time/gain augmentation as the default model
      outDir: o.out,
      resume: o.resume,
      log: o.log,
      command: o.command,
    });
    if (!r.best) throw new EarshotError('TRAINING_FAILED', 'training finished without a validated epoch');
    const seconds = (Date.now() - t0) / 1000;
    const sp = { ...SPURIOUS_DEFAULTS, ...o.spurious };
    await mkdir(o.out, { recursive: true });
    await writeFile(
      join(o.out, 'MODEL_CARD.md'),
      `# Model card: svd-cnn-ismir2015/confounded (audioLIME's confounded classifier)

**What it is.** The same singing-voice CNN and front end as \`assets/models/svd-default\` (methods.md §1–2),
trained on purpose on **confounded** data for audioLIME's first validation (Haunschmid et al. 2020, Sec. 4.1;
docs/reproduction/audiolime.md): every training and validation mixture of the in-project corpus carries a
tone pattern (${sp.frequency} Hz beeps of ${sp.beepMs} ms every ${sp.periodMs} ms, each beep ${sp.levelDb} dB
re the mixture's RMS) exactly where its frames are labelled "voice", and nowhere else
(src/experiments/audiolime/confound.ts). The tone is a perfect and easy predictor of the label, so the model
is expected to answer "voice" because of the tone. **Do not use it as a singing-voice detector.**

**Trained** on the TF.js wasm backend with the project's trainer (src/model/train.ts):

\`\`\`
${o.command}
\`\`\`

seed ${o.seed}, ${r.history.length} epoch(s) × ${o.stepsPerEpoch} steps × ${o.batchSize} excerpts, best epoch ${r.best.epoch},
${o.workers} worker(s), ${(seconds / 60).toFixed(1)} min on the shared 2-core machine.

**Validation (confounded validation mixtures, tone present where voiced):** frame error
${(100 * r.best.valid.error).toFixed(2)} % (recall ${(100 * r.best.valid.recall).toFixed(1)} %, specificity
${(100 * r.best.valid.specificity).toFixed(1)} %, threshold ${r.best.valid.threshold.toFixed(2)}, 56-frame median filter).
How much of that is the tone is what \`earshot experiment audiolime\` measures (results/audiolime/).
`,
    );
    return { validError: r.best.valid.error, epochs: r.history.length, seconds };
  } finally {
    model.dispose();
  }
}
