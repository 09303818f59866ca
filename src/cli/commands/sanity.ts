/**
 * `earshot sanity`: the two sanity checks of L-MAC §3.4 (methods.md §8) for earshot's mask
 * explainers on the singing-voice classifier — cascading model randomisation (Adebayo et al.
 * 2018; SSIM and Spearman of each method's map with the original, per randomised depth) and
 * ROAR (Hooker et al. 2019; remove the top x % of bins by each method's mask, retrain the
 * classifier from scratch on TF.js wasm with a short budget, report the test accuracy and its
 * drop). The logic is in src/metrics/sanity.ts, the jobs in src/metrics/sanity-task.ts.
 * Outputs: randomisation.csv, roar.csv, results.md, randomisation.png, roar.png, summary.txt.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { createMaskExplainer, lmacExplainer, magnitudeTarget, MASK_METHODS, predictedClassOf, type MaskExplainer } from '../../explain/attribution/index.ts';
import { loadLmac } from '../../explain/lmac/index.ts';
import { Journal, runJobs } from '../../experiments/journal.ts';
import { renderBarChart } from '../../metrics/chart.ts';
import { excerptSeed, hasLmacDecoder, methodKey } from '../../metrics/evaluate-task.ts';
import { visibleBins } from '../../metrics/evaluate.ts';
import { audioExcerpts, corpusExcerpts, type EvalExcerpt } from '../../metrics/excerpts-node.ts';
import { resolveModelWeights } from '../model-loader.ts';
import { buildEvalModel, journalModelKey, withStats } from '../../metrics/model-node.ts';
import { binMeans, CASCADE_LAYERS, removeTop, type RoarTrainInput, type RoarTrainResult } from '../../metrics/sanity.ts';
import { RANDOMISATION_TASK, ROAR_TASK, SANITY_TASK_MODULE, type RandomisationInit, type RandomisationInput, type RandomisationOutput } from '../../metrics/sanity-task.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import type { Command } from '../commands.ts';
import { writeFileAtomic } from './mel.ts';
import { Options, type OptionSpecs } from '../options.ts';
import { DEFAULT_LMAC_DIR } from './evaluate.ts';

export const DEFAULT_RANDOMISATION_METHODS = ['lmac', 'saliency', 'smoothgrad', 'ig', 'guidedbackprop', 'gradcam', 'gradientshap', 'random'];
export const DEFAULT_ROAR_METHODS = ['lmac', 'saliency', 'gradcam', 'random'];

const HELP = `Usage: earshot sanity [options]

Sanity checks of the mask explainers (L-MAC section 3.4; methods.md section 8):
  randomisation  re-initialise the classifier's layers from the top (fc3, fc2, fc1, conv4 ...
                 conv1) and compare each method's map with the original one (SSIM, Spearman;
                 over the bins the classifier sees). A method that explains the model drifts.
  roar           remove the top x % of bins by each method's mask (replaced by the training
                 excerpts' mean |X| of the bin), retrain a fresh classifier on TF.js wasm for a
                 short budget, report its test accuracy; compare with a random mask.

Options:
  --methods <list>       randomisation methods        [${DEFAULT_RANDOMISATION_METHODS.join(',')}]
  --roar-methods <list>  ROAR methods ('random' is the reference)   [${DEFAULT_ROAR_METHODS.join(',')}]
  --skip <part>          randomisation | roar: run only the other part
  --corpus <dir>         corpus with manifest.json                                   [corpus]
  --audio <files>        comma-separated WAV files for the randomisation part (ROAR needs the
                         corpus' labels and is skipped)
  --excerpts <n>         randomisation excerpts (test split)                                [8]
  --roar-train <n>       ROAR training excerpts (train split, balanced)                    [256]
  --roar-test <n>        ROAR test excerpts (test split, balanced)                          [128]
  --fractions <list>     fractions of the visible bins removed                        [0.2,0.5]
  --roar-steps <n>       training steps per retraining                                       [80]
  --roar-batch <n>       excerpts per step                                                   [16]
  --roar-lr <x>          Adam learning rate                                               [0.001]
  --seed <n>             excerpts, random weights, retraining                                 [1]
  --model <dir>          weight directory or random:SEED          [assets/models/svd-default]
  --lmac <dir>           L-MAC decoder directory                [${DEFAULT_LMAC_DIR}]
  --ig-steps <n> --smoothgrad-samples <n> --gradientshap-samples <n> --perturbation-samples <n>
                         method settings (as earshot evaluate)            [50, 16, 5, 300]
  --workers <n>          worker threads                                                      [1]
  -o, --out <dir>        results directory                                     [results/sanity]
  --fresh                start over instead of resuming the journals in --out`;

export interface SanitySettings {
  methods: string[];
  roarMethods: string[];
  skip: 'randomisation' | 'roar' | null;
  corpus: string;
  audio: string[] | null;
  excerpts: number;
  roarTrain: number;
  roarTest: number;
  fractions: number[];
  roarSteps: number;
  roarBatch: number;
  roarLr: number;
  seed: number;
  model?: string;
  lmac: string;
  igSteps: number;
  smoothgradSamples: number;
  gradientshapSamples: number;
  perturbationSamples: number;
  workers: number;
  out: string;
  fresh: boolean;
}

const OPTIONS: OptionSpecs = {
  methods: { type: 'string' }, 'roar-methods': { type: 'string' }, skip: { type: 'string' }, corpus: { type: 'string' }, audio: { type: 'string' },
  excerpts: { type: 'string' }, 'roar-train': { type: 'string' }, 'roar-test': { type: 'string' }, fractions: { type: 'string' },
  'roar-steps': { type: 'string' }, 'roar-batch': { type: 'string' }, 'roar-lr': { type: 'string' }, seed: { type: 'string' }, model: { type: 'string' },
  lmac: { type: 'string' }, 'ig-steps': { type: 'string' }, 'smoothgrad-samples': { type: 'string' }, 'gradientshap-samples': { type: 'string' },
  'perturbation-samples': { type: 'string' }, workers: { type: 'string' }, out: { type: 'string', short: 'o' }, fresh: { type: 'boolean' },
};

export function parseSanityArgs(args: string[]): SanitySettings {
  const o: Options = Options.parse('sanity', args, OPTIONS);
  o.noPositionals();
  const skip = o.has('skip') ? o.oneOf('skip', ['randomisation', 'roar'] as const) : null;
  return {
    methods: o.members('methods', MASK_METHODS, DEFAULT_RANDOMISATION_METHODS, 'method'),
    roarMethods: o.members('roar-methods', MASK_METHODS, DEFAULT_ROAR_METHODS, 'method'),
    skip,
    corpus: o.string('corpus', 'corpus'),
    audio: o.has('audio') ? o.string('audio')!.split(',').map((s) => s.trim()).filter(Boolean) : null,
    excerpts: o.int('excerpts', { def: 8, min: 1, max: 100_000 }),
    roarTrain: o.int('roar-train', { def: 256, min: 2, max: 1_000_000 }),
    roarTest: o.int('roar-test', { def: 128, min: 2, max: 1_000_000 }),
    fractions: o.numList('fractions', { def: [0.2, 0.5], min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }),
    roarSteps: o.int('roar-steps', { def: 80, min: 1, max: 1_000_000 }),
    roarBatch: o.int('roar-batch', { def: 16, min: 2, max: 4096 }),
    roarLr: o.num('roar-lr', { def: 1e-3, min: 0, max: 1, exclusiveMin: true }),
    seed: o.int('seed', { def: 1, min: 0, max: 0xffffffff }),
    model: o.string('model'),
    lmac: o.string('lmac', DEFAULT_LMAC_DIR),
    igSteps: o.int('ig-steps', { def: 50, min: 1, max: 100_000 }),
    smoothgradSamples: o.int('smoothgrad-samples', { def: 16, min: 1, max: 100_000 }),
    gradientshapSamples: o.int('gradientshap-samples', { def: 5, min: 1, max: 100_000 }),
    perturbationSamples: o.int('perturbation-samples', { def: 300, min: 2, max: 1 << 24 }),
    workers: o.int('workers', { def: 1, min: 1, max: 64 }),
    out: o.string('out', join('results', 'sanity')),
    fresh: o.flag('fresh'),
  };
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3));
/** A change in points with its sign (+1.2, −0.6). */
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
const num = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(6))) : '');

export interface SanityReport {
  randomisation: Array<{ method: string; ssim: number[]; spearman: number[] }> | null;
  roar: Array<{ method: string; fraction: number; accuracy: number; drop: number }> | null;
  missing: Array<{ method: string; reason: string }>;
  notes: string[];
  files: string[];
}

export async function runSanity(s: SanitySettings, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<SanityReport> {
  const missing: Array<{ method: string; reason: string }> = [];
  const notes: string[] = [];
  const lmacOk = hasLmacDecoder(resolve(s.lmac));
  const drop = (list: string[]) => {
    if (list.includes('lmac') && !lmacOk) {
      if (!missing.some((m) => m.method === 'lmac')) missing.push({ method: 'lmac', reason: `no L-MAC decoder in ${s.lmac}` });
      return list.filter((m) => m !== 'lmac');
    }
    return list;
  };
  const randMethods = drop(s.methods);
  const roarMethods = drop(s.roarMethods);
  const { weights } = await resolveModelWeights(s.model);
  const fingerprint = journalModelKey(weights);
  const baseExplainer = {
    seed: s.seed,
    ig: { steps: s.igSteps },
    smoothgrad: { samples: s.smoothgradSamples },
    gradientshap: { samples: s.gradientshapSamples },
    perturbation: { numSamples: s.perturbationSamples },
  };
  const md: string[] = ['# earshot sanity — cascading model randomisation and ROAR (methods.md §8)', ''];
  const summary: string[] = [`earshot sanity — ${new Date().toISOString()}`, `model: ${s.model ?? 'default'} id=${weights.info.id ?? '?'} fc3-crc=${fingerprint}; seed ${s.seed}`];
  const files: string[] = [];
  let randOut: SanityReport['randomisation'] = null;
  let roarOut: SanityReport['roar'] = null;
  const depthNames = CASCADE_LAYERS.map((_, i) => `+${CASCADE_LAYERS[i]}`);

  if (s.skip !== 'randomisation' && randMethods.length) {
    const ex: EvalExcerpt[] = s.audio ? await audioExcerpts(s.audio, s.excerpts) : await corpusExcerpts(s.corpus, { split: 'test', count: s.excerpts, seed: s.seed, stems: false });
    const init: RandomisationInit = {
      model: s.model, lmac: resolve(s.lmac), explainer: baseExplainer, seed: s.seed,
      statsFrom: weights.info.normalization ? [] : ex.map((e) => e.mag),
    };
    // keyed by (excerpt, method): a method added later (L-MAC) is computed alone
    const config = { part: 'randomisation', model: s.model ?? 'default', fingerprint, audio: s.audio, corpus: s.audio ? null : resolve(s.corpus), ...baseExplainer };
    const journal = await Journal.open<RandomisationOutput>(join(s.out, 'journal-randomisation.jsonl'), config, { resume: !s.fresh });
    const keys = new Map(randMethods.map((m) => [m, methodKey(m, resolve(s.lmac))]));
    const jobs = ex.flatMap((e) => randMethods.map((m) => ({ key: `${e.key}|${keys.get(m)}`, input: { key: e.key, method: m, mag: e.mag } })));
    log(`sanity/randomisation: ${ex.length} excerpts × ${randMethods.length} methods × ${CASCADE_LAYERS.length + 1} models; ${jobs.filter((j) => journal.has(j.key)).length} of ${jobs.length} jobs already journalled`);
    const flat = await runJobs<RandomisationInput, RandomisationOutput, RandomisationInit>({
      jobs, journal: journal as Journal<unknown>, task: RANDOMISATION_TASK, taskModule: SANITY_TASK_MODULE, initData: init, workers: s.workers, label: 'randomisation',
    });
    const res = ex.map((e, i) => ({ key: e.key, methods: Object.fromEntries(randMethods.map((m, k) => [m, flat[i * randMethods.length + k]!])) }));
    const mean = (xs: number[]) => {
      const ok = xs.filter(Number.isFinite);
      return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
    };
    randOut = randMethods.map((m) => ({
      method: m,
      ssim: CASCADE_LAYERS.map((_, d) => mean(res.map((r) => r.methods[m]!.ssim[d]!))),
      spearman: CASCADE_LAYERS.map((_, d) => mean(res.map((r) => r.methods[m]!.spearman[d]!))),
    }));
    const csv = ['method,depth,randomised_up_to,ssim,spearman,n'];
    for (const r of randOut) CASCADE_LAYERS.forEach((l, d) => csv.push([r.method, d + 1, l, num(r.ssim[d]!), num(r.spearman[d]!), res.length].join(',')));
    files.push(join(s.out, 'randomisation.csv'));
    await writeFileAtomic(files[files.length - 1]!, csv.join('\n') + '\n');
    const png = renderBarChart(
      { title: `cascading randomisation: ssim with the original map (${res.length} excerpts)`, series: randOut.map((r) => r.method), panels: CASCADE_LAYERS.map((l, d) => ({ name: `+${l}`, values: randOut!.map((r) => r.ssim[d]!) })) },
      { deflate: nodeDeflate },
    );
    files.push(join(s.out, 'randomisation.png'));
    await writeFileAtomic(files[files.length - 1]!, png);
    md.push(
      `## Cascading model randomisation (${res.length} test excerpts${s.audio ? ` from ${s.audio.join(', ')}` : ''})`,
      '',
      'Layers re-initialised from the top (He / Glorot, the architecture\'s initialiser; batch-norm statistics kept); each cell: mean SSIM / Spearman of the mask with the original model\'s mask over the 115 × 372 bins the classifier sees. Lower = the map depends on the weights.',
      '',
      `| method | ${depthNames.join(' | ')} |`,
      `|---|${depthNames.map(() => '---:').join('|')}|`,
      ...randOut.map((r) => `| ${r.method} | ${CASCADE_LAYERS.map((_, d) => `${f3(r.ssim[d])} / ${f3(r.spearman[d])}`).join(' | ')} |`),
      '',
    );
    summary.push(`randomisation: ${res.length} excerpts; SSIM / Spearman after randomising ${CASCADE_LAYERS.join(' → ')}:`, ...randOut.map((r) => `  ${r.method.padEnd(14)} ${r.ssim.map((x, d) => `${f3(x)}/${f3(r.spearman[d])}`).join('  ')}`));
  }

  if (s.skip !== 'roar' && roarMethods.length) {
    if (s.audio) {
      notes.push('ROAR skipped: it needs the corpus labels (--audio given)');
    } else {
      const train = await corpusExcerpts(s.corpus, { split: 'train', count: s.roarTrain, seed: s.seed, stems: false });
      const test = await corpusExcerpts(s.corpus, { split: 'test', count: s.roarTest, seed: s.seed + 7, stems: false });
      const config = {
        part: 'roar', model: s.model ?? 'default', fingerprint, corpus: resolve(s.corpus), roarTrain: s.roarTrain, roarTest: s.roarTest,
        fractions: s.fractions, steps: s.roarSteps, batch: s.roarBatch, lr: s.roarLr, ...baseExplainer,
      };
      const journal = await Journal.open<RoarTrainResult>(join(s.out, 'journal-roar.jsonl'), config, { resume: !s.fresh });
      // journal keys per (method, fraction); L-MAC's carry its decoder's checksum
      const roarKeys = new Map(roarMethods.map((m) => [m, methodKey(m, resolve(s.lmac))]));
      const jk = (m: string, f: number) => `${roarKeys.get(m) ?? m}@${f}`;
      const jobKeys = [{ method: 'none', fraction: 0 }, ...roarMethods.flatMap((m) => s.fractions.map((f) => ({ method: m, fraction: f })))];
      const todo = jobKeys.filter((j) => !journal.has(jk(j.method, j.fraction)));
      const results = new Map<string, RoarTrainResult>();
      for (const j of jobKeys) if (journal.has(jk(j.method, j.fraction))) results.set(jk(j.method, j.fraction), journal.get(jk(j.method, j.fraction))!);
      if (todo.length) {
        const model = await buildEvalModel(weights, null, s.model, weights.info.normalization ? [] : train.map((e) => e.mag));
        const mm = model.mm;
        const vis = visibleBins(mm);
        let nVisible = 0;
        for (let k = 0; k < vis.length; k++) if (vis[k]) nVisible = k + 1;
        const fill = binMeans(train.map((e) => e.mag), mm.bins);
        const all = [...train, ...test];
        const toInputs = (mags: Float32Array[]) => {
          const size = mm.frames * mm.nMels;
          const out = new Float32Array(mags.length * size);
          for (let i = 0; i < mags.length; i += 16) {
            const part = mags.slice(i, i + 16);
            const flat = new Float32Array(part.length * mags[0]!.length);
            part.forEach((m, j) => flat.set(m, j * m.length));
            const x = tf.tidy(() => mm.toInput(tf.tensor3d(flat, [part.length, mm.frames, mm.bins])).dataSync() as Float32Array);
            out.set(x, i * size);
          }
          return out;
        };
        const labels = (xs: EvalExcerpt[]) => Uint8Array.from(xs, (e) => (e.label > 0 ? 1 : 0));
        const jobs: Array<{ key: string; input: RoarTrainInput }> = [];
        const base = { trainLabels: labels(train), testLabels: labels(test), steps: s.roarSteps, batch: s.roarBatch, learningRate: s.roarLr, seed: s.seed };
        if (todo.some((j) => j.method === 'none')) {
          jobs.push({ key: 'none@0', input: { ...base, train: toInputs(train.map((e) => e.mag)), test: toInputs(test.map((e) => e.mag)) } });
        }
        const target = magnitudeTarget(mm);
        for (const m of roarMethods) {
          const need = todo.filter((j) => j.method === m);
          if (!need.length) continue;
          let ex: MaskExplainer;
          if (m === 'lmac') ex = lmacExplainer(await loadLmac(resolve(s.lmac), withStats(weights, model.stats)), mm.frames * mm.bins);
          else ex = createMaskExplainer(m, mm, baseExplainer);
          log(`sanity/roar: ${m} masks for ${all.length} excerpts`);
          const masks: Float32Array[] = [];
          for (const e of all) masks.push(await ex.explain(e.mag, { target: predictedClassOf(target, e.mag), seed: excerptSeed(e.key, s.seed) }));
          ex.dispose?.();
          for (const j of need) {
            const degraded = all.map((e, i) => removeTop(e.mag, masks[i]!, j.fraction, fill, mm.bins, nVisible, s.seed + i));
            jobs.push({ key: jk(m, j.fraction), input: { ...base, train: toInputs(degraded.slice(0, train.length)), test: toInputs(degraded.slice(train.length)) } });
          }
        }
        mm.dispose();
        model.svd.dispose();
        log(`sanity/roar: ${jobs.length} retrainings of ${s.roarSteps} steps × ${s.roarBatch} excerpts`);
        const res = await runJobs<RoarTrainInput, RoarTrainResult>({
          jobs, journal: journal as Journal<unknown>, task: ROAR_TASK, taskModule: SANITY_TASK_MODULE, workers: s.workers, label: 'roar',
        });
        jobs.forEach((j, i) => results.set(j.key, res[i]!));
      }
      const baseAcc = results.get('none@0')!.accuracy;
      roarOut = [{ method: 'none', fraction: 0, accuracy: baseAcc, drop: 0 }, ...roarMethods.flatMap((m) => s.fractions.map((f) => {
        const r = results.get(jk(m, f))!;
        return { method: m, fraction: f, accuracy: r.accuracy, drop: baseAcc - r.accuracy };
      }))];
      const csv = ['method,fraction_removed,test_accuracy,drop_vs_none,final_train_loss,seconds'];
      for (const r of roarOut) {
        const x = results.get(jk(r.method, r.fraction))!;
        csv.push([r.method, r.fraction, num(r.accuracy), num(r.drop), num(x.loss), num(x.seconds)].join(','));
      }
      files.push(join(s.out, 'roar.csv'));
      await writeFileAtomic(files[files.length - 1]!, csv.join('\n') + '\n');
      const png = renderBarChart(
        {
          title: `roar: test accuracy after retraining (${s.roarTrain} train / ${s.roarTest} test, ${s.roarSteps} steps); none = ${(100 * baseAcc).toFixed(1)}%`,
          series: roarMethods,
          panels: s.fractions.map((f) => ({ name: `${Math.round(f * 100)}% removed`, values: roarMethods.map((m) => 100 * results.get(jk(m, f))!.accuracy) })),
        },
        { deflate: nodeDeflate },
      );
      files.push(join(s.out, 'roar.png'));
      await writeFileAtomic(files[files.length - 1]!, png);
      md.push(
        `## ROAR (${s.roarTrain} training excerpts, ${s.roarTest} test excerpts, balanced; ${s.roarSteps} steps × ${s.roarBatch}, Adam ${s.roarLr}, one seed)`,
        '',
        `Top x % of the 115 × 372 visible bins of every excerpt (by the original model's mask) replaced by the training mean |X| of the bin; a fresh classifier trained on the degraded excerpts; accuracy at P = 0.5 on degraded test excerpts. Without removal: ${(100 * baseAcc).toFixed(1)} %. Lower accuracy than 'random' = the method found what the model needs.`,
        '',
        `| method | ${s.fractions.map((f) => `${Math.round(f * 100)} % removed`).join(' | ')} |`,
        `|---|${s.fractions.map(() => '---:').join('|')}|`,
        ...roarMethods.map((m) => `| ${m} | ${s.fractions.map((f) => `${(100 * results.get(jk(m, f))!.accuracy).toFixed(1)} % (${signed(100 * (results.get(jk(m, f))!.accuracy - baseAcc))})`).join(' | ')} |`),
        '',
      );
      summary.push(`roar: none ${(100 * baseAcc).toFixed(1)}%`, ...roarMethods.map((m) => `  ${m.padEnd(14)} ${s.fractions.map((f) => `${Math.round(f * 100)}%: ${(100 * results.get(jk(m, f))!.accuracy).toFixed(1)}%`).join('  ')}`));
    }
  }
  for (const m of missing) {
    md.push(`**${m.method}: not available** — ${m.reason}.`, '');
    summary.push(`${m.method}: not available: ${m.reason}`);
  }
  for (const n of notes) {
    md.push(n, '');
    summary.push(n);
  }
  summary.push(`load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')} on ${cpus().length} cores`);
  files.push(join(s.out, 'results.md'), join(s.out, 'summary.txt'));
  await writeFileAtomic(files[files.length - 2]!, md.join('\n') + '\n');
  await writeFileAtomic(files[files.length - 1]!, summary.join('\n') + '\n');
  log(summary.join('\n'));
  return { randomisation: randOut, roar: roarOut, missing, notes, files };
}

export const sanity: Command = {
  summary: 'sanity checks of the mask explainers: cascading model randomisation and ROAR',
  help: HELP,
  async run(args: string[]): Promise<number> {
    await runSanity(parseSanityArgs(args));
    return 0;
  },
};
