/**
 * Tables, CSVs, figures and the text summary of a veracity run (experiment.ts records → what
 * results/veracity/ holds), beside the paper's numbers (Praher, Prinz et al. 2021, Tables 1–2,
 * Figs. 2–4; methods.md §6). Pure: strings and PNG bytes out, no I/O.
 */
import type { AttackDomain } from './attack.ts';
import type { AdversarialRecord, DrawingRecord, VeracityConfig } from './experiment.ts';
import { boxStats, type BoxStats } from './fidelity.ts';
import { flipRates, percent, type BinaryLabel } from './flip.ts';
import { meanRecoveredFraction, recoveryHistogram } from './localised.ts';
import { barPlots, boxPlots, COLOURS, linePlots, type LinePanel } from './plot.ts';
import type { Deflate } from '../render/png.ts';

/** The paper's numbers (001, Tables 1 and 2; Fig. 4 medians as read from the figure, methods.md §6). */
export const PAPER = {
  table1: { waveform: { 1: 53, 0: 21 }, spectrogram: { 1: 41, 0: 32 } },
  table2: {
    waveform: { 1: { lime: 86, norm: 99 }, 0: { lime: 49, norm: 74 } },
    spectrogram: { 1: { lime: 91, norm: 98 }, 0: { lime: 44, norm: 55 } },
  },
  attackSuccess: { waveform: 60.5, spectrogram: 28.4 },
  fig4Median: { waveform: { correct: 0.71, wrong: 0.67 } },
} as const;

export const DIRECTIONS: ReadonlyArray<{ target: BinaryLabel; name: string }> = [
  { target: 1, name: 'no voice -> voice' },
  { target: 0, name: 'voice -> no voice' },
];

const METHOD_NAMES: Record<string, string> = { lime: 'LIME', kernelshap: 'KernelSHAP', norm: 'norm' };

function csv(rows: Array<Array<string | number | boolean | null>>): string {
  const cell = (v: string | number | boolean | null) => {
    if (v === null) return '';
    if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(8))) : '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

const pct = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} %` : 'n/a');
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

export interface SummaryFiles {
  /** name → contents (CSV, TXT). */
  text: Record<string, string>;
  /** name → PNG bytes. */
  png: Record<string, Uint8Array>;
  /** The headline numbers (for docs and tests). */
  numbers: Record<string, unknown>;
}

interface Group {
  target: BinaryLabel;
  name: string;
  all: AdversarialRecord[];
  valid: AdversarialRecord[];
}

function groups(records: readonly AdversarialRecord[]): Group[] {
  return DIRECTIONS.map((d) => {
    const all = records.filter((r) => r.target === d.target);
    return { ...d, all, valid: all.filter((r) => r.valid) };
  });
}

/** Summary of the adversarial part (flip test, localised perturbations, fidelity). */
export function summariseAdversarial(records: readonly AdversarialRecord[], config: VeracityConfig, deflate?: Deflate): SummaryFiles {
  const dom: AttackDomain = config.domain;
  const methods = config.methods;
  const gs = groups(records);
  const text: Record<string, string> = {};
  const png: Record<string, Uint8Array> = {};
  const numbers: Record<string, unknown> = {};
  const d = records.find((r) => r.norms)?.norms?.length ?? 20;

  // per-excerpt table
  const exRows: Array<Array<string | number | boolean | null>> = [['file', 'frame', 'p0', 'original', 'target', 'attack_success', 'iterations', 'snr_db', 'linf', 'attack_ms', 'p_adv', 'valid', ...methods.flatMap((m) => [`${m}_k_positive`, `${m}_score`]), 'ms']];
  for (const r of records) {
    exRows.push([r.name, r.frame, r.p0, r.original, r.target, r.attack.success, r.attack.iterations, r.attack.snrDb, r.attack.linf, r.attack.ms, r.pAdv, r.valid, ...methods.flatMap((m) => [r.methods?.[m]?.kPositive ?? null, r.methods?.[m]?.score ?? null]), r.ms]);
  }
  text['excerpts.csv'] = csv(exRows);

  // Table 1 and Fig. 2
  const curveRows: Array<Array<string | number | boolean | null>> = [['direction', 'selection', 'k', 'flip_percent', 'n']];
  const t1Rows: Array<Array<string | number | boolean | null>> = [['domain', 'direction', 'n', ...methods.map((m) => `${m}_top3_percent`), 'norm_top3_percent', 'paper_lime_percent']];
  const panels: LinePanel[] = [];
  const table1: Record<string, Record<string, number>> = {};
  for (const g of gs) {
    const series: LinePanel['series'] = [];
    const normRates = flipRates(g.valid.map((r) => ({ explanation: r.flipNormTopK!, norm: r.flipNormTopK! }))).norm;
    table1[g.name] = { n: g.valid.length, norm: normRates[2] ?? NaN };
    series.push({ name: 'norm', x: normRates.map((_, k) => k + 1), y: normRates, marker: 'circle', colour: COLOURS.green });
    for (const m of methods) {
      const rates = flipRates(g.valid.map((r) => ({ explanation: r.methods![m]!.flipTopK, norm: r.flipNormTopK! }))).explanation;
      rates.forEach((v, k) => curveRows.push([g.name, m, k + 1, v, g.valid.length]));
      series.push({ name: METHOD_NAMES[m]!, x: rates.map((_, k) => k + 1), y: rates, marker: m === 'lime' ? 'triangle' : 'square', colour: m === 'lime' ? COLOURS.blue : COLOURS.orange });
      table1[g.name]![m] = rates[2] ?? NaN;
    }
    normRates.forEach((v, k) => curveRows.push([g.name, 'norm', k + 1, v, g.valid.length]));
    panels.push({ title: `${dom} | ${g.name} (n=${g.valid.length})`, series });
    t1Rows.push([dom, g.name, g.valid.length, ...methods.map((m) => table1[g.name]![m]!), table1[g.name]!.norm!, PAPER.table1[dom][g.target]]);
  }
  numbers.table1 = table1;
  text['fig2_flip_curves.csv'] = csv(curveRows);
  text['table1.csv'] = csv(t1Rows);
  png['fig2_flip_curves.png'] = linePlots(panels, { xLabel: '# segments k', yLabel: 'percent flipped', xRange: [0.5, d + 0.5], yRange: [0, 100], xTicks: [1, 5, 10, 15, 20].filter((k) => k <= d), yTicks: [0, 20, 40, 60, 80, 100] }).png(deflate);

  // Table 2
  const t2Rows: Array<Array<string | number | boolean | null>> = [['domain', 'direction', 'method', 'n', 'mean_k_positive', 'method_positive_percent', 'norm_same_k_percent', 'paper_lime_percent', 'paper_norm_percent']];
  const table2: Record<string, Record<string, { explanation: number; norm: number; meanK: number }>> = {};
  for (const g of gs) {
    table2[g.name] = {};
    for (const m of methods) {
      const v = g.valid.map((r) => r.methods![m]!);
      const row = { explanation: percent(v.map((x) => x.flipPositive)), norm: percent(v.map((x) => x.flipNormPositive)), meanK: v.length ? v.reduce((s, x) => s + x.kPositive, 0) / v.length : NaN };
      table2[g.name]![m] = row;
      t2Rows.push([dom, g.name, m, v.length, row.meanK, row.explanation, row.norm, m === 'lime' ? PAPER.table2[dom][g.target].lime : null, m === 'lime' ? PAPER.table2[dom][g.target].norm : null]);
    }
  }
  numbers.table2 = table2;
  text['table2.csv'] = csv(t2Rows);

  // Fig. 3: localised perturbations
  const ks = config.ks;
  const locRows: Array<Array<string | number | boolean | null>> = [['direction', 'k', 'method', 'n_flipped', 'n_valid', ...Array.from({ length: Math.max(...ks, 1) + 1 }, (_, i) => `recovered_${i}`), 'mean_fraction']];
  const fig3: Record<string, Record<string, Record<string, { n: number; hist: number[]; meanFraction: number }>>> = {};
  const barPanels = [];
  for (const g of gs) {
    fig3[g.name] = {};
    for (const k of ks) {
      const cases = g.valid.map((r) => r.localised!.find((c) => c.k === k)!).filter((c) => c && c.flipped);
      fig3[g.name]![k] = {};
      const hists: number[][] = [];
      for (const m of methods) {
        const counts = cases.map((c) => c.methods[m]!.recovered);
        const hist = recoveryHistogram(counts, k);
        hists.push(hist);
        const mf = meanRecoveredFraction(counts, k);
        fig3[g.name]![k]![m] = { n: cases.length, hist, meanFraction: mf };
        locRows.push([g.name, k, m, cases.length, g.valid.length, ...Array.from({ length: Math.max(...ks) + 1 }, (_, i) => (i <= k ? hist[i]! : null)), mf]);
      }
      barPanels.push({ title: `${g.target ? 'NV->V' : 'V->NV'} k=${k} (n=${cases.length})`, groups: Array.from({ length: k + 1 }, (_, i) => ({ label: String(i), values: hists.map((h) => h[i]!) })) });
    }
  }
  numbers.fig3 = fig3;
  text['fig3_localised.csv'] = csv(locRows);
  if (barPanels.length) png['fig3_localised.png'] = barPlots(barPanels, { seriesNames: methods.map((m) => METHOD_NAMES[m]!), xLabel: 'detected segments', yLabel: 'count', panelWidth: 260, columns: ks.length }).png(deflate);

  // Fig. 4: fidelity of correct vs wrong (k = 1)
  const fidRows: Array<Array<string | number | boolean | null>> = [['direction', 'method', 'explanation', 'n', 'min', 'q1', 'median', 'q3', 'max', 'mean']];
  const fig4: Record<string, Record<string, { correct: BoxStats; wrong: BoxStats }>> = {};
  const boxPanels = [];
  for (const g of gs) {
    fig4[g.name] = {};
    for (const m of methods) {
      const cases = g.valid.map((r) => r.localised!.find((c) => c.k === 1)).filter((c) => c && c.flipped).map((c) => c!.methods[m]!);
      const correct = boxStats(cases.filter((c) => c.correct).map((c) => c.score));
      const wrong = boxStats(cases.filter((c) => !c.correct).map((c) => c.score));
      fig4[g.name]![m] = { correct, wrong };
      for (const [lab, b] of [['correct', correct], ['wrong', wrong]] as const) fidRows.push([g.name, m, lab, b.n, b.min, b.q1, b.median, b.q3, b.max, b.mean]);
      if (m === 'lime') boxPanels.push({ title: `${g.name}`, boxes: [{ label: 'wrong', stats: wrong }, { label: 'correct', stats: correct }] });
    }
  }
  numbers.fig4 = fig4;
  text['fig4_fidelity.csv'] = csv(fidRows);
  if (ks.includes(1) && methods.includes('lime')) png['fig4_fidelity.png'] = boxPlots(boxPanels, { yLabel: 'fidelity (R2)', xLabel: 'LIME explanation', yRange: [0, 1], yTicks: [0, 0.2, 0.4, 0.6, 0.8, 1], panelWidth: 280 }).png(deflate);

  // text summary
  const lines: string[] = [];
  lines.push(`Veracity experiment, ${dom} attacks (Praher, Prinz et al. 2021; methods.md §6)`);
  lines.push(`model ${config.model} (weights CRC-32 ${config.modelDigest ?? "?"}), engine ${config.engine}, context ±${config.context} frames, threshold ${config.threshold}, max ${config.maxIterations} attack iterations`);
  lines.push(`explainers: ${methods.map((m) => (m === 'lime' ? `LIME (5x4 grid, N_s = ${config.samples}, mean content, cosine, kw ${config.kernelWidth})` : `KernelSHAP (same grid, N_s = ${config.shapSamples})`)).join('; ')}`);
  lines.push('');
  lines.push('Attacks:');
  for (const g of gs) {
    const succ = g.all.filter((r) => r.attack.success).length;
    const its = g.all.filter((r) => r.attack.success).map((r) => r.attack.iterations);
    const snr = g.valid.map((r) => r.attack.snrDb).filter(Number.isFinite);
    lines.push(`  ${g.name}: ${g.all.length} excerpts attacked, ${succ} succeeded (${pct((100 * succ) / Math.max(1, g.all.length))}), ${g.valid.length} used; median iterations ${f2(boxStats(its).median)}, median SNR ${f2(boxStats(snr).median)} dB`);
  }
  const allSucc = records.filter((r) => r.attack.success).length;
  lines.push(`  overall success ${pct((100 * allSucc) / Math.max(1, records.length))} (paper: ${PAPER.attackSuccess[dom]} %)`);
  lines.push('');
  lines.push('Table 1 (flip rate with the top-3 segments added back):');
  for (const g of gs) {
    lines.push(`  ${g.name}: ${methods.map((m) => `${METHOD_NAMES[m]} ${pct(table1[g.name]![m]!)}`).join(', ')}, norm ${pct(table1[g.name]!.norm!)}  [paper LIME ${PAPER.table1[dom][g.target]} %]  (n = ${g.valid.length})`);
  }
  lines.push('');
  lines.push('Table 2 (all segments favouring the target vs the same number by norm):');
  for (const g of gs) {
    for (const m of methods) {
      const t = table2[g.name]![m]!;
      const paper = m === 'lime' ? `  [paper ${PAPER.table2[dom][g.target].lime} % vs ${PAPER.table2[dom][g.target].norm} %]` : '';
      lines.push(`  ${g.name}, ${METHOD_NAMES[m]}: ${pct(t.explanation)} vs norm ${pct(t.norm)} (mean k = ${f2(t.meanK)})${paper}`);
    }
  }
  lines.push('');
  lines.push('Fig. 2 (flip rate by k; explainer vs norm):');
  for (const g of gs) {
    const normRates = flipRates(g.valid.map((r) => ({ explanation: r.flipNormTopK!, norm: r.flipNormTopK! }))).norm;
    for (const m of methods) {
      const rates = flipRates(g.valid.map((r) => ({ explanation: r.methods![m]!.flipTopK, norm: r.flipNormTopK! }))).explanation;
      const wins = rates.filter((v, k) => normRates[k]! > v).length;
      const ties = rates.filter((v, k) => normRates[k]! === v).length;
      lines.push(`  ${g.name}, ${METHOD_NAMES[m]}: norm higher at ${wins} of ${rates.length} k, equal at ${ties}; k = 1, 5, 10: ${[0, 4, 9].map((i) => `${pct(rates[i]!)}/${pct(normRates[i]!)}`).join(', ')}`);
    }
  }
  lines.push('');
  lines.push('Fig. 3 (localised perturbations: segments recovered of k):');
  for (const g of gs) {
    for (const k of ks) {
      for (const m of methods) {
        const f = fig3[g.name]![k]![m]!;
        lines.push(`  ${g.name}, k = ${k}, ${METHOD_NAMES[m]}: n = ${f.n}, histogram 0..${k} = [${f.hist.join(', ')}], mean fraction ${f2(f.meanFraction)}`);
      }
    }
  }
  lines.push('');
  lines.push('Fig. 4 (fidelity R2 at k = 1, median [n]: correct vs wrong):');
  for (const g of gs) {
    for (const m of methods) {
      const f = fig4[g.name]![m]!;
      lines.push(`  ${g.name}, ${METHOD_NAMES[m]}: ${f2(f.correct.median)} [${f.correct.n}] vs ${f2(f.wrong.median)} [${f.wrong.n}]`);
    }
  }
  if (dom === 'waveform') lines.push(`  (paper, waveform, LIME: medians ≈ ${PAPER.fig4Median.waveform.correct} correct vs ${PAPER.fig4Median.waveform.wrong} wrong)`);
  const ms = records.reduce((s, r) => s + r.ms, 0);
  lines.push('');
  lines.push(`compute: ${(ms / 1000).toFixed(0)} s summed over ${records.length} excerpt jobs (mean ${(ms / 1000 / Math.max(1, records.length)).toFixed(1)} s)`);
  text['summary.txt'] = lines.join('\n') + '\n';
  return { text, png, numbers };
}

/** Summary of the drawing part. */
export function summariseDrawing(records: readonly DrawingRecord[], config: VeracityConfig, deflate?: Deflate): SummaryFiles {
  const methods = config.methods;
  const rows: Array<Array<string | number | boolean | null>> = [['file', 'frame', 'p0', 'time_block', 'f0', 'k', 'components', 'fooled', 'relative_gain', 'p', ...methods.flatMap((m) => [`${m}_recovered`, `${m}_recovered_positive`, `${m}_top`, `${m}_score`])]];
  for (const r of records) {
    for (const dc of r.draws) {
      rows.push([r.name, r.frame, r.p0, r.timeBlock, r.f0, dc.k, dc.components.join(' '), dc.fooled, dc.relativeGain, dc.p, ...methods.flatMap((m) => {
        const x = dc.methods[m];
        return x ? [x.recovered, x.recoveredPositive, x.ranking.slice(0, dc.k).join(' '), x.score] : [null, null, null, null];
      })]);
    }
  }
  const numbers: Record<string, unknown> = {};
  const sumRows: Array<Array<string | number | boolean | null>> = [['k', 'method', 'excerpts', 'fooled', ...Array.from({ length: Math.max(...config.drawKs, 1) + 1 }, (_, i) => `recovered_${i}`), 'all_found_percent', 'mean_fraction', 'median_score']];
  const lines: string[] = ['Drawing on the spectrogram (Fig. 1, made objective): a sung note (harmonic stack, vibrato) drawn into', 'the k lowest frequency blocks of one time block of a "no voice" excerpt, louder until P(voice) > threshold;', 'then: are the explanation\'s top-k the drawn components?', ''];
  const panels = [];
  for (const k of config.drawKs) {
    const cases = records.map((r) => r.draws.find((d) => d.k === k)!).filter(Boolean);
    const fooled = cases.filter((c) => c.fooled);
    const hists: number[][] = [];
    for (const m of methods) {
      const counts = fooled.map((c) => c.methods[m]!.recovered);
      const hist = recoveryHistogram(counts, k);
      hists.push(hist);
      const all = percent(counts.map((c) => c === k));
      const mf = meanRecoveredFraction(counts, k);
      const med = boxStats(fooled.map((c) => c.methods[m]!.score)).median;
      numbers[`k${k}_${m}`] = { excerpts: cases.length, fooled: fooled.length, hist, allFound: all, meanFraction: mf, medianScore: med };
      sumRows.push([k, m, cases.length, fooled.length, ...Array.from({ length: Math.max(...config.drawKs) + 1 }, (_, i) => (i <= k ? hist[i]! : null)), all, mf, med]);
      lines.push(`k = ${k}, ${METHOD_NAMES[m]}: ${fooled.length} of ${cases.length} excerpts fooled; all ${k} drawn components in the top-${k}: ${pct(all)}; histogram 0..${k} = [${hist.join(', ')}]; mean fraction ${f2(mf)}; median R2 ${f2(med)}`);
    }
    panels.push({ title: `drawn k=${k} (n=${fooled.length})`, groups: Array.from({ length: k + 1 }, (_, i) => ({ label: String(i), values: hists.map((h) => h[i]!) })) });
  }
  const ms = records.reduce((s, r) => s + r.ms, 0);
  lines.push('', `compute: ${(ms / 1000).toFixed(0)} s summed over ${records.length} excerpt jobs`);
  const png: Record<string, Uint8Array> = {};
  if (panels.length) png['fig1_drawing.png'] = barPlots(panels, { seriesNames: methods.map((m) => METHOD_NAMES[m]!), xLabel: 'drawn components found', yLabel: 'count', panelWidth: 240 }).png(deflate);
  return { text: { 'drawing.csv': csv(rows), 'drawing_summary.csv': csv(sumRows), 'drawing_summary.txt': lines.join('\n') + '\n' }, png, numbers };
}
