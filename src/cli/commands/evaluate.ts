/**
 * `earshot evaluate --methods lmac,saliency,ig,…`: the faithfulness table of L-MAC (paper 004,
 * Table 1; methods.md §8) for earshot's singing-voice classifier. Every method explains the
 * same held-out excerpts (the corpus' test split, or given audio files) with a mask on |X|; each
 * mask is scored by AI, AD, AG, FF, Fid-In, SPS, COMP, MM (src/metrics), by its ROC AUC against
 * the vocal's ideal binary mask where the stems are known, and by its time per explanation.
 * Writes results.csv, results.md, chart.png (src/render/png.ts), samples.csv (per excerpt),
 * summary.txt; resumable through a journal (src/experiments/journal.ts), optionally on worker
 * threads (src/parallel/pool.ts).
 */
import { join, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { EarshotError, checkEnum } from '../../../bindings/errors.ts';
import { MASK_METHODS } from '../../explain/attribution/explainers.ts';
import { IG_METHODS } from '../../explain/attribution/gradients.ts';
import { Journal, runJobs } from '../../experiments/journal.ts';
import { renderBarChart } from '../../metrics/chart.ts';
import { aggregate, type MethodRow, type MethodSample } from '../../metrics/evaluate.ts';
import { EVALUATE_TASK, EVALUATE_TASK_MODULE, hasLmacDecoder, methodKey, type EvaluateInit, type EvaluateInput, type EvaluateOutput } from '../../metrics/evaluate-task.ts';
import { audioExcerpts, corpusExcerpts, type EvalExcerpt } from '../../metrics/excerpts-node.ts';
import { journalModelKey } from '../../metrics/model-node.ts';
import { SPLITS, type Split } from '../../model/dataset.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import { ENGINE_HELP, resolveModelWeights } from '../model-loader.ts';
import type { Command } from '../commands.ts';
import { writeFileAtomic } from './mel.ts';
import { Options, type OptionSpecs } from '../options.ts';

export const DEFAULT_METHODS = ['lmac', 'saliency', 'smoothgrad', 'ig', 'guidedbackprop', 'gradcam', 'gradientshap', 'slime', 'kernelshap', 'random'];
export const DEFAULT_LMAC_DIR = join('assets', 'models', 'lmac-default');

const HELP = `Usage: earshot evaluate [options]

The faithfulness of mask explanations on held-out excerpts (L-MAC's Table 1; methods.md §8).
Each method returns a mask M in [0, 1] on the linear STFT magnitude X of a 115-frame excerpt;
the classifier is run on X, M*X and (1-M)*X. Per method (averaged over excerpts): AI, AD
(textbook; the reference code's double-softmax AD as AD-parity), AG, FF, Fid-In, SPS (Gini),
COMP (entropy), MM (mask mean), the ROC AUC of M against the vocal's ideal binary mask
1[|V| > |A|] (corpus stems; excerpts predicted 'voice'), and the time per explanation.

Options:
  --methods <list>        comma-separated, from ${MASK_METHODS.join(', ')}
                          [${DEFAULT_METHODS.join(',')}]
  --corpus <dir>          corpus with manifest.json (docs/corpus.md)                  [corpus]
  --split <s>             ${SPLITS.join(' | ')}: the songs excerpts come from                   [test]
  --audio <files>         comma-separated WAV files instead of a corpus (no stems, no AUC)
  --excerpts <n>          excerpts to evaluate (alternating voiced / unvoiced centres)     [40]
  --seed <n>              excerpt positions and stochastic methods                            [1]
  --model <dir>           weight directory or random:SEED           [assets/models/svd-default]
  --lmac <dir>            L-MAC decoder directory                 [${DEFAULT_LMAC_DIR}]
  --engine <e>            ${ENGINE_HELP}: forward passes of slime / kernelshap              [auto]
  --output <o>            logit | probability: the score gradients attribute              [logit]
  --ad <v>                textbook | parity: which AD the Markdown table and chart show [textbook]
  --ig-steps <n>          Integrated Gradients steps (Gauss-Legendre)                         [50]
  --ig-method <m>         ${IG_METHODS.join(' | ')}                  [gausslegendre]
  --smoothgrad-samples <n>  SmoothGrad samples                                                [16]
  --smoothgrad-noise <f>  SmoothGrad sigma as a fraction of max-min of X                   [0.15]
  --gradientshap-samples <n>  GradientSHAP samples                                             [5]
  --background <n>        GradientSHAP baselines: silence + n excerpts of the 'valid' split    [4]
  --gradcam-layer <l>     conv1 | conv2 | pool1 | conv3 | conv4 | pool2                    [conv4]
  --perturbation-samples <n>  N_s of slime / kernelshap (5 x 4 time-frequency grid)        [1000]
  --workers <n>           worker threads (each its own TF.js backend)                          [1]
  -o, --out <dir>         results directory                                   [results/evaluate]
  --fresh                 start over instead of resuming the journal in --out`;

export interface EvaluateSettings {
  methods: string[];
  corpus: string;
  split: Split;
  audio: string[] | null;
  excerpts: number;
  seed: number;
  model?: string;
  lmac: string;
  engine: string;
  output: 'logit' | 'probability';
  ad: 'textbook' | 'parity';
  igSteps: number;
  igMethod: (typeof IG_METHODS)[number];
  smoothgradSamples: number;
  smoothgradNoise: number;
  gradientshapSamples: number;
  background: number;
  gradcamLayer: string;
  perturbationSamples: number;
  workers: number;
  out: string;
  fresh: boolean;
}

const OPTIONS = {
  methods: { type: 'string' }, corpus: { type: 'string' }, split: { type: 'string' }, audio: { type: 'string' }, excerpts: { type: 'string' },
  seed: { type: 'string' }, model: { type: 'string' }, lmac: { type: 'string' }, engine: { type: 'string' }, output: { type: 'string' },
  ad: { type: 'string' }, 'ig-steps': { type: 'string' }, 'ig-method': { type: 'string' }, 'smoothgrad-samples': { type: 'string' },
  'smoothgrad-noise': { type: 'string' }, 'gradientshap-samples': { type: 'string' }, background: { type: 'string' },
  'gradcam-layer': { type: 'string' }, 'perturbation-samples': { type: 'string' }, workers: { type: 'string' },
  out: { type: 'string', short: 'o' }, fresh: { type: 'boolean' },
} as const satisfies OptionSpecs;

/** Parse `earshot evaluate` arguments; every bad value is refused with the option's name. */
export function parseEvaluateArgs(args: string[]): EvaluateSettings {
  const o: Options = Options.parse('evaluate', args, OPTIONS);
  o.noPositionals();
  const methods = o.members('methods', MASK_METHODS, DEFAULT_METHODS, 'method');
  return {
    methods,
    corpus: o.string('corpus', 'corpus'),
    split: o.oneOf('split', SPLITS, 'test'),
    audio: o.has('audio') ? o.string('audio')!.split(',').map((s) => s.trim()).filter(Boolean) : null,
    excerpts: o.int('excerpts', { def: 40, min: 1, max: 100_000 }),
    seed: o.int('seed', { def: 1, min: 0, max: 0xffffffff }),
    model: o.string('model'),
    lmac: o.string('lmac', DEFAULT_LMAC_DIR),
    engine: o.oneOf('engine', ['auto', 'tfjs', 'ort', 'ort-web'] as const, 'auto'),
    output: o.oneOf('output', ['logit', 'probability'] as const, 'logit'),
    ad: o.oneOf('ad', ['textbook', 'parity'] as const, 'textbook'),
    igSteps: o.int('ig-steps', { def: 50, min: 1, max: 100_000 }),
    igMethod: o.oneOf('ig-method', IG_METHODS, 'gausslegendre'),
    smoothgradSamples: o.int('smoothgrad-samples', { def: 16, min: 1, max: 100_000 }),
    smoothgradNoise: o.num('smoothgrad-noise', { def: 0.15, min: 0, max: 10 }),
    gradientshapSamples: o.int('gradientshap-samples', { def: 5, min: 1, max: 100_000 }),
    background: o.int('background', { def: 4, min: 0, max: 1000 }),
    gradcamLayer: o.oneOf('gradcam-layer', ['conv1', 'conv2', 'pool1', 'conv3', 'conv4', 'pool2'] as const, 'conv4'),
    perturbationSamples: o.int('perturbation-samples', { def: 1000, min: 2, max: 1 << 24 }),
    workers: o.int('workers', { def: 1, min: 1, max: 64 }),
    out: o.string('out', join('results', 'evaluate')),
    fresh: o.flag('fresh'),
  };
}

const COLS: Array<{ key: keyof MethodRow | 'adShown'; head: string; digits: number }> = [
  { key: 'ai', head: 'AI ↑', digits: 2 },
  { key: 'adShown', head: 'AD ↓', digits: 2 },
  { key: 'ag', head: 'AG ↑', digits: 2 },
  { key: 'ff', head: 'FF ↑', digits: 3 },
  { key: 'fidIn', head: 'Fid-In ↑', digits: 2 },
  { key: 'sps', head: 'SPS ↑', digits: 2 },
  { key: 'comp', head: 'COMP ↓', digits: 2 },
  { key: 'mm', head: 'MM', digits: 3 },
  { key: 'auc', head: 'vocal AUC ↑', digits: 3 },
  { key: 'msMean', head: 'ms / expl.', digits: 0 },
];

function fmt(v: number | null | undefined, d: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);
}

export interface EvaluateReport {
  rows: MethodRow[];
  missing: Array<{ method: string; reason: string }>;
  excerpts: number;
  files: string[];
}

/** Run the evaluation of `s` and write its outputs; returns the table. */
export async function runEvaluate(s: EvaluateSettings, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<EvaluateReport> {
  const missing: Array<{ method: string; reason: string }> = [];
  let methods = s.methods.slice();
  if (methods.includes('lmac') && !hasLmacDecoder(resolve(s.lmac))) {
    missing.push({ method: 'lmac', reason: `no L-MAC decoder in ${s.lmac} (train one: docs/lmac.md)` });
    methods = methods.filter((m) => m !== 'lmac');
  }
  if (methods.length === 0) throw new EarshotError('NOTHING_TO_DO', `evaluate: no method can run (${missing.map((m) => `${m.method}: ${m.reason}`).join('; ')})`);
  const { weights, dir } = await resolveModelWeights(s.model);
  const fingerprint = journalModelKey(weights);
  let excerpts: EvalExcerpt[];
  let background: Float32Array[] = [];
  if (s.audio) {
    excerpts = await audioExcerpts(s.audio, s.excerpts);
  } else {
    excerpts = await corpusExcerpts(s.corpus, { split: s.split, count: s.excerpts, seed: s.seed });
    if (methods.includes('gradientshap') && s.background > 0) {
      const bg = await corpusExcerpts(s.corpus, { split: s.split === 'valid' ? 'train' : 'valid', count: s.background, seed: s.seed + 1, stems: false });
      background = bg.map((e) => e.mag);
    }
  }
  const size = excerpts[0]!.mag.length;
  const init: EvaluateInit = {
    model: s.model,
    lmac: resolve(s.lmac),
    engine: s.engine,
    explainer: {
      seed: s.seed,
      output: s.output,
      ig: { steps: s.igSteps, method: s.igMethod },
      smoothgrad: { samples: s.smoothgradSamples, noiseLevel: s.smoothgradNoise },
      gradientshap: { samples: s.gradientshapSamples, baselines: [new Float32Array(size), ...background] },
      gradcam: { layer: s.gradcamLayer },
      perturbation: { numSamples: s.perturbationSamples },
    },
    statsFrom: weights.info.normalization ? [] : excerpts.map((e) => e.mag),
  };
  // The journal is keyed by (excerpt, method): adding a method later (e.g. when the L-MAC decoder
  // lands) computes only that method, and the first k excerpts of a seed are the same for any
  // --excerpts ≥ k, so a run may grow or shrink; every setting that changes a number is in the config.
  const config = {
    model: s.model ?? 'default', modelId: weights.info.id ?? null, fingerprint, corpus: s.audio ? null : resolve(s.corpus), split: s.split,
    audio: s.audio, seed: s.seed, output: s.output, igSteps: s.igSteps, igMethod: s.igMethod,
    smoothgradSamples: s.smoothgradSamples, smoothgradNoise: s.smoothgradNoise, gradientshapSamples: s.gradientshapSamples,
    background: background.length, gradcamLayer: s.gradcamLayer, perturbationSamples: s.perturbationSamples, engine: s.engine,
  };
  const journal = await Journal.open<EvaluateOutput>(join(s.out, 'journal.jsonl'), config, { resume: !s.fresh });
  const keys = new Map(methods.map((m) => [m, methodKey(m, resolve(s.lmac))]));
  const jobs = excerpts.flatMap((e) =>
    methods.map((m) => ({ key: `${e.key}|${keys.get(m)}`, input: { key: e.key, method: m, mag: e.mag, vocals: e.vocals, accompaniment: e.accompaniment } as EvaluateInput })),
  );
  const already = jobs.filter((j) => journal.has(j.key)).length;
  log(`evaluate: ${excerpts.length} excerpts × ${methods.length} methods (${methods.join(', ')}); model ${dir ?? s.model}; ${already} of ${jobs.length} jobs already in the journal`);
  const t0 = performance.now();
  const flat = await runJobs<EvaluateInput, EvaluateOutput, EvaluateInit>({
    jobs, journal: journal as Journal<unknown>, task: EVALUATE_TASK, taskModule: EVALUATE_TASK_MODULE,
    initData: init, workers: s.workers, label: 'evaluate',
  });
  const wall = (performance.now() - t0) / 1000;
  const results = excerpts.map((e, i) => ({
    key: e.key,
    c: flat[i * methods.length]!.c,
    methods: Object.fromEntries(methods.map((m, k) => [m, flat[i * methods.length + k]! as MethodSample])),
  }));

  const rows = methods.map((m) => aggregate(m, results.map((r) => r.methods[m]!)));
  const adOf = (r: MethodRow) => (s.ad === 'parity' ? r.adParity : r.ad);
  // CSV: everything, both ADs
  const csvHead = ['method', 'n', 'AI', 'AD', 'AD_parity', 'AG', 'FF', 'FidIn', 'SPS', 'COMP', 'MM', 'vocal_AUC', 'n_AUC', 'ms_mean', 'ms_median', 'status'];
  const csv = [csvHead.join(',')];
  for (const r of rows) csv.push([r.method, r.n, r.ai, r.ad, r.adParity, r.ag, r.ff, r.fidIn, r.sps, r.comp, r.mm, r.auc ?? '', r.nAuc, r.msMean, r.msMedian, 'ok'].map((x) => (typeof x === 'number' ? (Number.isFinite(x) ? String(Number(x.toPrecision(6))) : '') : String(x))).join(','));
  for (const m of missing) csv.push([m.method, 0, ...Array(13).fill(''), `"not available: ${m.reason.replace(/"/g, "'")}"`].join(','));
  const samples = ['excerpt,method,c,p,p_in,p_out,AI,AD,AD_parity,AG,FF,FidIn,SPS,COMP,MM,vocal_AUC,ms'];
  for (const r of results) {
    for (const m of methods) {
      const x = r.methods[m]!;
      samples.push([r.key, m, x.c, x.p, x.pIn, x.pOut, x.ai, x.ad, x.adParity, x.ag, x.ff, x.fidIn, x.sps, x.comp, x.mm, x.auc ?? '', x.ms].map((v) => (typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v))).join(','));
    }
  }
  const voiced = results.filter((r) => r.c === 1).length;
  const source = s.audio ? `audio files ${s.audio.join(', ')}` : `the corpus in '${s.corpus}', split '${s.split}'`;
  const md = [
    `# earshot evaluate — faithfulness of mask explanations (methods.md §8)`,
    '',
    `${results.length} excerpts (115 frames ≈ 1.64 s each) from ${source}; ${voiced} predicted 'voice', ${results.length - voiced} 'no voice'.`,
    `Model: ${dir ?? s.model} (${weights.info.id ?? 'unnamed'}). Gradients of the ${s.output}; AD column: ${s.ad === 'parity' ? "the reference code's double-softmax AD" : 'textbook AD'}.`,
    `Vocal AUC: ROC AUC of the mask against 1[|V| > |A|] over the 372 bins the classifier sees, on excerpts predicted 'voice' whose ground truth has both classes.`,
    '',
    `| method | ${COLS.map((c) => c.head).join(' | ')} |`,
    `|---|${COLS.map(() => '---:').join('|')}|`,
    ...rows.map((r) => `| ${r.method} | ${COLS.map((c) => (c.key === 'adShown' ? fmt(adOf(r), c.digits) : c.key === 'auc' ? `${fmt(r.auc, c.digits)}${r.nAuc ? ` (${r.nAuc})` : ''}` : fmt(r[c.key] as number, c.digits))).join(' | ')} |`),
    ...missing.map((m) => `| ${m.method} | ${COLS.map(() => '—').join(' | ')} |`),
    '',
    ...missing.map((m) => `**${m.method}: not available** — ${m.reason}.`),
    '',
    `Times are wall-clock per explanation on this machine (TF.js wasm, ${s.workers} worker${s.workers > 1 ? 's' : ''}; slime/kernelshap forward passes on engine '${s.engine}'); the whole run took ${wall.toFixed(0)} s (excerpts already journalled not recomputed).`,
  ].join('\n');
  const chart = renderBarChart(
    {
      title: `earshot evaluate: ${results.length} excerpts`,
      series: rows.map((r) => r.method),
      panels: [
        { name: 'ai ^', values: rows.map((r) => r.ai) },
        { name: s.ad === 'parity' ? 'ad-par' : 'ad', values: rows.map(adOf) },
        { name: 'ag ^', values: rows.map((r) => r.ag) },
        { name: 'ff ^', values: rows.map((r) => r.ff) },
        { name: 'fid-in ^', values: rows.map((r) => r.fidIn) },
        { name: 'sps ^', values: rows.map((r) => r.sps) },
        { name: 'comp', values: rows.map((r) => r.comp) },
        { name: 'auc ^', values: rows.map((r) => r.auc) },
        { name: 'ms', values: rows.map((r) => r.msMean) },
      ],
    },
    { deflate: nodeDeflate },
  );
  const summary = [
    `earshot evaluate — ${new Date().toISOString()}`,
    `excerpts: ${results.length} (${voiced} predicted voice); source: ${source}; seed ${s.seed}`,
    `model: ${dir ?? s.model} id=${weights.info.id ?? '?'} fc3-crc=${fingerprint}`,
    `methods: ${methods.join(', ')}${missing.length ? `; not available: ${missing.map((m) => m.method).join(', ')}` : ''}`,
    `settings: output=${s.output} ig=${s.igSteps}/${s.igMethod} smoothgrad=${s.smoothgradSamples}@${s.smoothgradNoise} gradientshap=${s.gradientshapSamples} (baselines: silence + ${background.length}) gradcam=${s.gradcamLayer} perturbation N_s=${s.perturbationSamples} engine=${s.engine} workers=${s.workers}`,
    `wall time: ${wall.toFixed(1)} s; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')} on ${cpus().length} cores (times per explanation depend on it)`,
    '',
    ...rows.map((r) => `${r.method.padEnd(14)} AI ${fmt(r.ai, 2).padStart(6)}  AD ${fmt(r.ad, 2).padStart(6)}  ADpar ${fmt(r.adParity, 2).padStart(6)}  AG ${fmt(r.ag, 2).padStart(6)}  FF ${fmt(r.ff, 3).padStart(7)}  FidIn ${fmt(r.fidIn, 2)}  SPS ${fmt(r.sps, 2)}  COMP ${fmt(r.comp, 2).padStart(6)}  MM ${fmt(r.mm, 3)}  AUC ${fmt(r.auc, 3)} (${r.nAuc})  ${fmt(r.msMean, 0)} ms`),
    ...missing.map((m) => `${m.method.padEnd(14)} not available: ${m.reason}`),
  ].join('\n');
  const files = ['results.csv', 'results.md', 'chart.png', 'samples.csv', 'summary.txt'].map((f) => join(s.out, f));
  await writeFileAtomic(files[0]!, csv.join('\n') + '\n');
  await writeFileAtomic(files[1]!, md + '\n');
  await writeFileAtomic(files[2]!, chart);
  await writeFileAtomic(files[3]!, samples.join('\n') + '\n');
  await writeFileAtomic(files[4]!, summary + '\n');
  log(summary);
  return { rows, missing, excerpts: results.length, files };
}

export const evaluate: Command = {
  summary: 'faithfulness table of mask explanations (L-MAC, gradients, SLIME …) on held-out excerpts',
  help: HELP,
  async run(args: string[]): Promise<number> {
    const s = parseEvaluateArgs(args);
    checkEnum(s.ad, '--ad', ['textbook', 'parity'] as const);
    await runEvaluate(s);
    return 0;
  },
};
