/**
 * `earshot experiment veracity --domain waveform|spectrogram`: the veracity experiments of
 * Praher, Prinz et al. (2021; methods.md §6) — flip test, localised perturbations, fidelity of
 * correct vs wrong explanations and the "drawing on the spectrogram" test — with LIME and
 * KernelSHAP on the 5 × 4 time-frequency grid (src/veracity/experiment*.ts, docs/veracity.md).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve, basename, dirname, relative } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import { ATTACK_DEFAULTS } from '../../veracity/attack.ts';
import { VERACITY_METHODS, type VeracityConfig } from '../../veracity/experiment.ts';
import { assetFiles, corpusTestFiles, runVeracity } from '../../veracity/experiment-run.ts';
import type { Command } from '../commands.ts';
import { findDefaultModel } from '../model-loader.ts';
import { loadWeights } from '../../model/weights.ts';
import { Options } from '../options.ts';

const HELP = `Usage: earshot experiment veracity --domain <waveform|spectrogram> [options]

The veracity tests of Praher, Prinz et al. (ISMIR 2021; docs/veracity.md): adversarial attacks
(C&W-style, methods.md §6) on excerpts the model calls "voice" or "no voice", then
  flip test     add back only the top-k segments of the perturbation (by the explanation, or by
                L2 norm): Table 1 (k = 3), Fig. 2 (k = 1…20), Table 2 (all positive)
  localised     only the k ∈ --ks largest-norm segments; does the explanation find them (Fig. 3)?
  fidelity      R² of correct vs wrong explanations at k = 1 (Fig. 4)
  drawing       a sung note drawn into a "no voice" excerpt until it says "voice" (Fig. 1)
Explanations on the 5 × 4 time-frequency grid of the log-mel excerpt: LIME (N_s = 8192, 'mean'
content, cosine distance, kernel width 0.25) and KernelSHAP. Writes CSV, PNG and summary.txt to
--out; the run is resumable (rerun the same command after an interruption).

Data:
  --domain <d>            waveform | spectrogram: where the attack perturbs       (required)
  --files <a.wav,…>       audio files (default: the test split of --corpus plus assets/*.wav)
  --corpus <dir>          the in-project corpus                                   [corpus]
  --no-assets             leave out the bundled clips in assets/
  --excerpts <N>          excerpts per predicted label ("voice", "no voice")      [4]
  --draw-excerpts <N>     "no voice" excerpts for the drawing part                [4]
  --parts <list>          adversarial,drawing       [adversarial; spectrogram: adversarial,drawing]
  --seed <S>              excerpt selection and explanation seeds                 [0]

Attack (defaults: the paper's per domain, methods.md §6):
  --max-iterations <N>    at most N Adam steps per excerpt                        [1000]
  --context <F>           frames attacked on each side of the excerpt; all 2F + 1
                          frame-wise predictions must flip (the reference attacks
                          whole files)                                            [11]
  --epsilon <e>  --eta <l>  --alpha <a>
  --threshold <t>         decision threshold on P(voice)    [the model's tuned threshold]

Explanations:
  --methods <list>        lime,kernelshap                                         [lime,kernelshap]
  --samples <N>           LIME N_s                                                [8192]
  --kernel-width <w>      LIME kernel width                                       [0.25]
  --shap-samples <N>      KernelSHAP coalitions (shap's default 2·d + 2048)       [2088]
  --ks <list>             k of the localised experiment                           [1,3,5]
  --draw-ks <list>        drawn components (lowest frequency blocks of one time block) [1,2,3]

Run:
  --model <dir>           weight directory, or random:SEED          [assets/models/svd-default]
  --engine <e>            auto | tfjs | ort | ort-web (explanations' forward passes)  [auto]
  --workers <N>           worker threads (one TF.js backend + one engine each)    [2]
  --fresh                 discard the journal and start over
  -o, --out <dir>         output directory                     [results/veracity/<domain>]`;

export const experimentVeracity: Command = {
  summary: 'veracity tests of LIME / KernelSHAP with adversarial excerpts (Praher, Prinz et al. 2021)',
  help: HELP,
  async run(args: string[]): Promise<number> {
    const o: Options = Options.parse('experiment veracity', args, {
      domain: { type: 'string' },
      files: { type: 'string' },
      corpus: { type: 'string' },
      'no-assets': { type: 'boolean' },
      excerpts: { type: 'string' },
      'draw-excerpts': { type: 'string' },
      parts: { type: 'string' },
      seed: { type: 'string' },
      'max-iterations': { type: 'string' },
      context: { type: 'string' },
      epsilon: { type: 'string' },
      eta: { type: 'string' },
      alpha: { type: 'string' },
      threshold: { type: 'string' },
      methods: { type: 'string' },
      samples: { type: 'string' },
      'kernel-width': { type: 'string' },
      'shap-samples': { type: 'string' },
      ks: { type: 'string' },
      'draw-ks': { type: 'string' },
      model: { type: 'string' },
      engine: { type: 'string' },
      workers: { type: 'string' },
      fresh: { type: 'boolean' },
      out: { type: 'string', short: 'o' },
    });
    o.noPositionals('give audio files with --files a.wav,b.wav');
    const values = o.values;
    const domain = o.oneOf('domain', ['waveform', 'spectrogram'] as const);
    const methods = o.members('methods', VERACITY_METHODS, ['lime', 'kernelshap'], 'method');
    const parts = o.members('parts', ['adversarial', 'drawing'] as const, domain === 'spectrogram' ? ['adversarial', 'drawing'] : ['adversarial'], 'part');
    const engine = o.oneOf('engine', ['auto', 'tfjs', 'ort', 'ort-web'] as const, 'auto');
    let model: string;
    if (values.model === undefined) {
      const dir = findDefaultModel();
      if (!dir) throw new EarshotError('MODEL_MISSING', 'the bundled default model assets/models/svd-default/ is not there; train it (`earshot train`) or pass --model DIR');
      model = dir;
    } else {
      model = /^random:/.test(String(values.model)) ? String(values.model) : resolve(String(values.model));
    }
    // journals record the model path; keep it relative to the working directory where it can be
    if (!/^random:/.test(model) && !relative(process.cwd(), model).startsWith('..')) model = relative(process.cwd(), model) || '.';
    let threshold = o.num('threshold', { min: 0, max: 1 });
    if (threshold === undefined) {
      threshold = /^random:/.test(model) ? 0.5 : (await loadWeights(model)).info.threshold;
    }
    let modelDigest = 'none';
    if (!/^random:/.test(model)) {
      try {
        modelDigest = String((JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')) as { weights?: { crc32?: string } }).weights?.crc32 ?? 'none');
      } catch {
        modelDigest = 'unreadable';
      }
    }
    const defaults = ATTACK_DEFAULTS[domain];
    const config: VeracityConfig = {
      domain,
      model,
      modelDigest,
      engine: engine as VeracityConfig['engine'],
      threshold,
      maxIterations: o.int('max-iterations', { def: defaults.maxIterations, min: 1, max: 100000 }),
      context: o.int('context', { def: 11, min: 0, max: 1000 }),
      epsilon: o.num('epsilon', { def: defaults.epsilon, min: 0, exclusiveMin: true }),
      eta: o.num('eta', { def: defaults.eta, min: 0, exclusiveMin: true }),
      alpha: o.num('alpha', { def: defaults.alpha, min: 0 }),
      samples: o.int('samples', { def: 8192, min: 2, max: 1 << 24 }),
      kernelWidth: o.num('kernel-width', { def: 0.25, min: 0, exclusiveMin: true }),
      shapSamples: o.int('shap-samples', { def: 2088, min: 2, max: 1 << 24 }),
      methods,
      ks: o.intList('ks', { def: [1, 3, 5], min: 1, max: 20 }),
      drawKs: o.intList('draw-ks', { def: [1, 2, 3], min: 1, max: 4 }),
      seed: o.int('seed', { def: 0, min: 0, max: 0xffffffff }),
    };
    // Every option is checked before the corpus is looked for, so a bad value is named even
    // where no corpus exists.
    const excerpts = o.int('excerpts', { def: 4, min: 0, max: 100000 });
    const drawExcerpts = o.int('draw-excerpts', { def: 4, min: 0, max: 100000 });
    const workers = o.int('workers', { def: 2, min: 1, max: 64 });
    let files: Array<{ file: string; name: string }>;
    const given = o.list('files');
    if (given) files = given.map((f) => ({ file: f, name: `${basename(dirname(resolve(f)))}/${basename(f, '.wav')}` }));
    else files = [...corpusTestFiles(String(values.corpus ?? 'corpus')), ...(values['no-assets'] ? [] : assetFiles('assets'))];
    const out = String(values.out ?? join('results', 'veracity', domain));
    const t0 = Date.now();
    const r = await runVeracity({
      config,
      files,
      parts,
      excerpts,
      drawExcerpts,
      out,
      workers,
      fresh: Boolean(values.fresh),
    });
    const run = { command: `earshot experiment veracity ${args.join(' ')}`, finished: new Date().toISOString(), wallSeconds: (Date.now() - t0) / 1000, workers, files: files.length, adversarialExcerpts: r.adversarial?.length ?? 0, drawingExcerpts: r.drawing?.length ?? 0 };
    await writeFile(join(out, 'run.json'), JSON.stringify(run, null, 1) + '\n');
    for (const f of [...r.written, join(out, 'run.json')]) console.log(f);
    return 0;
  },
};
