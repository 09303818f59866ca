/**
 * `earshot experiment groundtruth` (Mishra et al. 2020, Sec. V, Fig. 7; methods.md §4): build the
 * ground-truth instances (groundtruth.ts) from the held-out songs' stems, explain each with every
 * content type (temporal d = 10, top-3 positive, N_s = 70 000, Euclidean as the reference code)
 * and score N_ce(c) = |E_c ∩ G|. Extensions no paper has: the exhaustive design, the other
 * distance (cosine) and exact KernelSHAP on the same components (on the first --full-instances
 * instances: KernelSHAP needs all 2^10 outputs per content type).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EarshotError } from '../../../bindings/errors.ts';
import type { ContentType } from '../../explain/content.ts';
import type { DistanceMetric } from '../../explain/lime.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import { commonComponents, histogram, summarise } from './metrics.ts';
import { Canvas, stackedBars } from './plot.ts';
import { CORPUS_HINT, heldOutSongs, loadNormalised } from './data.ts';
import { buildGroundTruth, type StemPair } from './groundtruth.ts';
import { fmtPct, fmtS, pct, prepareModel, runJournalled, SHAPE, seedOf, toCsv, writeOut, type CommonOptions } from './common.ts';
import type { GroundTruthInput, GroundTruthResult, GroundTruthSettings, GroundTruthTops } from './tasks.ts';

/** The paper's Fig. 7 (656 instances): counts of N_ce = 3, 2, 1, 0. */
export const PAPER_GT: Record<string, { counts: [number, number, number, number]; complete: number; atLeastTwo: number }> = {
  zero: { counts: [157, 373, 123, 3], complete: 23.9, atLeastTwo: 80.79 },
  min_inp: { counts: [47, 364, 233, 12], complete: 7.16, atLeastTwo: 62.65 },
  mean_inp: { counts: [219, 330, 102, 5], complete: 34, atLeastTwo: 83.68 },
  noise: { counts: [121, 404, 121, 10], complete: 18.44, atLeastTwo: 80.03 },
};

export interface GroundTruthOptions extends CommonOptions {
  corpus: string;
  seed: number;
  excerptsPerSong: number;
  mixes: number;
  minInstances: number;
  maxRounds?: number;
  threshold: number;
  numSamples: number;
  contents: ContentType[];
  distance: DistanceMetric;
  kernelWidth: number;
  fullInstances: number;
  fullContents: ContentType[];
  command: string;
}

type Variant = 'slime' | 'exhaustive' | 'otherDistance' | 'kernelshap';

export async function groundTruthExperiment(o: GroundTruthOptions, log: (s: string) => void = (s) => process.stderr.write(`earshot experiment groundtruth: ${s}\n`)): Promise<{ summary: string; written: string[] }> {
  const songs = await heldOutSongs(o.corpus).catch((e: Error) => {
    throw new EarshotError('CORPUS_MISSING', `groundtruth: cannot read the corpus at ${o.corpus}: ${e.message}. ${CORPUS_HINT}`);
  });
  if (!songs || !songs.length) throw new EarshotError('CORPUS_MISSING', `groundtruth needs the aligned vocal and accompaniment stems of a corpus's test split; ${o.corpus} has none. ${CORPUS_HINT}`);
  await mkdir(o.out, { recursive: true });
  const tAll = performance.now();
  const prep = await prepareModel(o, songs.map((s) => s.accompaniment), log);
  try {
    const [T, F] = SHAPE;
    const stems: StemPair[] = [];
    const specs: Float32Array[] = [];
    for (const s of songs) {
      const a = await loadNormalised(s.accompaniment, prep.model.frontEnd, prep.stats);
      const v = await loadNormalised(s.vocals, prep.model.frontEnd, prep.stats);
      const n = Math.min(a.nFrames, v.nFrames);
      stems.push({ id: s.id, accompaniment: a.data.subarray(0, n * F), vocals: v.data.subarray(0, n * F), nFrames: n });
      specs.push(a.data.subarray(0, n * F));
    }
    // min_data over the instances' material (both stems), like the reference code's dataset minimum
    let minData = Infinity;
    for (const s of stems) for (const arr of [s.accompaniment, s.vocals]) for (let i = 0; i < arr.length; i++) if (arr[i]! < minData) minData = arr[i]!;
    prep.init.minData = minData;
    const tBuild = performance.now();
    const built = await buildGroundTruth(stems, prep.model.classifier, { seed: o.seed, excerptsPerSong: o.excerptsPerSong, mixes: o.mixes, minInstances: o.minInstances, maxRounds: o.maxRounds, threshold: o.threshold, shape: SHAPE, batchSize: o.batch });
    const buildMs = performance.now() - tBuild;
    const inst = built.kept;
    log(`${inst.length} instances kept of ${built.candidates} candidates (${built.rounds} rounds over ${songs.length} songs) in ${fmtS(buildMs)}`);
    // which replaced components really hold singing: the corpus's frame labels of the vocal stem
    // (labels.json; a component counts as voiced when ≥ half its frames are)
    const labels = await Promise.all(songs.map((s) => readFile(join(s.dir, 'labels.json'), 'utf8').then((t) => (JSON.parse(t) as { labels?: number[] }).labels ?? null, () => null)));
    const voicedOf = (g: (typeof inst)[number]): number[] | null => {
      const lab = labels[g.song];
      if (!lab) return null;
      return g.replaced.filter((j) => {
        const t0 = j * 11;
        const t1 = j === 9 ? T : t0 + 11;
        let v = 0;
        for (let t = t0; t < t1; t++) v += lab[g.start + t] ? 1 : 0;
        return v >= (t1 - t0) / 2;
      });
    };
    const voiced = inst.map(voicedOf);
    const written: string[] = [];
    written.push(await writeOut(o.out, 'groundtruth-instances.csv', toCsv(['song', 'start_frame', 'round', 'mix', 'replaced_components', 'voiced_replaced_components', 'p_voice'], inst.map((g, i) => [g.songId, g.start, g.round, g.mix, g.replaced.join(' '), voiced[i] ? voiced[i]!.join(' ') : '', g.p]))));

    const settings: GroundTruthSettings = { numSamples: o.numSamples, k: 3, d: 10, contents: o.contents, distance: o.distance, kernelWidth: o.kernelWidth };
    // --full-instances / --full-contents are not part of the journal's config: extension jobs
    // have keys of their own, so a rerun with more of them only computes the new ones
    const config = { experiment: 'groundtruth', model: prep.fingerprint, settings, seed: o.seed, excerptsPerSong: o.excerptsPerSong, mixes: o.mixes, minInstances: o.minInstances, threshold: o.threshold, corpus: songs.map((s) => s.id), minData };
    const keyOf = (g: (typeof inst)[number]) => `${g.songId}@${g.start}#${g.round}.${g.mix}`;
    const fullContents = o.fullContents.filter((c) => o.contents.includes(c));
    const nFull = Math.min(o.fullInstances, inst.length);
    const jobs = [
      ...inst.map((g) => ({ key: keyOf(g), input: { x: g.x, seed: seedOf(keyOf(g)), part: 'main', settings } as GroundTruthInput })),
      ...(fullContents.length ? inst.slice(0, nFull) : []).map((g) => ({ key: `${keyOf(g)}+ext:${fullContents.join(',')}`, input: { x: g.x, seed: seedOf(keyOf(g)), part: 'extensions', contents: fullContents, settings } as GroundTruthInput })),
    ];
    const run = await runJournalled<GroundTruthInput, GroundTruthResult>(o, 'groundtruth', config, 'slime-groundtruth', jobs, prep.init, 'groundtruth');
    const res = run.results.slice(0, inst.length).map((r, i) => {
      const e = run.results[inst.length + i];
      if (!e) return r;
      const tops: Record<string, GroundTruthTops> = {};
      for (const c of Object.keys(r.tops)) tops[c] = { ...r.tops[c]!, ...(e.tops[c] ?? {}), forwardPasses: r.tops[c]!.forwardPasses + (e.tops[c]?.forwardPasses ?? 0) };
      return { ...r, tops, forwardPasses: r.forwardPasses + e.forwardPasses };
    });

    const nceOf = (v: Variant, c: string, onlyAllVoiced = false) => {
      const out: number[] = [];
      res.forEach((r, i) => {
        if (onlyAllVoiced && voiced[i]?.length !== 3) return;
        const t = r.tops[c]?.[v as keyof GroundTruthTops] as number[] | undefined;
        if (t) out.push(commonComponents(t, inst[i]!.replaced));
      });
      return out;
    };
    const rows: Array<Array<string | number>> = [];
    res.forEach((r, i) => {
      const g = inst[i]!;
      for (const c of o.contents) {
        const t = r.tops[c]!;
        rows.push([g.songId, g.start, g.replaced.join(' '), r.p, c, t.slime!.join(' '), commonComponents(t.slime!, g.replaced), commonComponents(t.exhaustive!, g.replaced), t.otherDistance ? commonComponents(t.otherDistance, g.replaced) : '', t.kernelshap ? commonComponents(t.kernelshap, g.replaced) : '', t.forwardPasses]);
      }
    });
    written.push(await writeOut(o.out, 'groundtruth.csv', toCsv(['song', 'start_frame', 'ground_truth', 'p_voice', 'content', 'top3_positive', 'n_ce', 'n_ce_exhaustive', `n_ce_${o.distance === 'euclidean' ? 'cosine' : 'euclidean'}`, 'n_ce_kernelshap', 'table_forward_passes'], rows)));

    const other = o.distance === 'euclidean' ? 'cosine' : 'euclidean';
    const variants: Array<[Variant, string]> = [
      ['slime', `SLIME (paper: random design N_s ${o.numSamples}, ${o.distance})`],
      ['exhaustive', `exhaustive design (${o.distance})`],
      ['otherDistance', `${other} distance (random design; first ${nFull} instances)`],
      ['kernelshap', `KernelSHAP, exact (first ${nFull} instances)`],
    ];
    const byType: Array<Array<string | number>> = [];
    const table: string[] = [];
    for (const [v, name] of variants) {
      table.push('', `${name}:`, '  content     n   N_ce=3  N_ce=2  N_ce=1  N_ce=0   complete  ≥ 2      | paper: complete  ≥ 2');
      for (const c of o.contents) {
        const x = nceOf(v, c);
        if (!x.length) continue;
        const h = histogram(x, 3);
        const pc = PAPER_GT[c];
        byType.push([v === 'otherDistance' ? other : v, c, x.length, h[3]!, h[2]!, h[1]!, h[0]!, pct(h[3]!, x.length), pct(h[3]! + h[2]!, x.length), v === 'slime' && pc ? pc.complete : '', v === 'slime' && pc ? pc.atLeastTwo : '']);
        table.push(
          `  ${c.padEnd(9)} ${String(x.length).padStart(4)}  ${[h[3]!, h[2]!, h[1]!, h[0]!].map((n) => String(n).padStart(6)).join('  ')}   ${fmtPct(pct(h[3]!, x.length)).padStart(7)}  ${fmtPct(pct(h[3]! + h[2]!, x.length)).padStart(7)}` +
            (v === 'slime' && pc ? `  | ${fmtPct(pc.complete).padStart(15)}  ${fmtPct(pc.atLeastTwo)}` : ''),
        );
      }
    }
    const nVoiced = voiced.filter((v) => v?.length === 3).length;
    if (voiced.some((v) => v)) {
      const hv = histogram(voiced.map((v) => v?.length ?? 0), 3);
      table.push('', `Replaced components that hold singing (labels.json, ≥ half the frames voiced): 3 of 3 in ${hv[3]} instances, 2 in ${hv[2]}, 1 in ${hv[1]}, 0 in ${hv[0]}.`);
      table.push(`SLIME on the ${nVoiced} instances whose 3 replaced components all hold singing:`, '  content     n   N_ce=3  N_ce=2  N_ce=1  N_ce=0   complete  ≥ 2');
      for (const c of o.contents) {
        const x = nceOf('slime', c, true);
        if (!x.length) continue;
        const h = histogram(x, 3);
        byType.push(['slime-all-voiced', c, x.length, h[3]!, h[2]!, h[1]!, h[0]!, pct(h[3]!, x.length), pct(h[3]! + h[2]!, x.length), '', '']);
        table.push(`  ${c.padEnd(9)} ${String(x.length).padStart(4)}  ${[h[3]!, h[2]!, h[1]!, h[0]!].map((n) => String(n).padStart(6)).join('  ')}   ${fmtPct(pct(h[3]!, x.length)).padStart(7)}  ${fmtPct(pct(h[3]! + h[2]!, x.length)).padStart(7)}`);
      }
    }
    written.push(await writeOut(o.out, 'groundtruth-by-type.csv', toCsv(['variant', 'content', 'instances', 'n_ce_3', 'n_ce_2', 'n_ce_1', 'n_ce_0', 'pct_complete', 'pct_at_least_2', 'paper_pct_complete', 'paper_pct_at_least_2'], byType)));

    const cv = new Canvas(1000, 680);
    const panel = (v: Variant, title: string, box: { x: number; y: number; w: number; h: number }) => {
      const cs = o.contents.filter((c) => nceOf(v, c).length);
      stackedBars(cv, box, { title, categories: cs, counts: cs.map((c) => histogram(nceOf(v, c), 3)), levelNames: ['0', '1', '2', '3'] });
    };
    panel('slime', `N_CE = |E_C INTERSECT G| (${res.length} INSTANCES), SLIME AS THE PAPER`, { x: 0, y: 0, w: 1000, h: 340 });
    panel('exhaustive', 'EXHAUSTIVE DESIGN', { x: 0, y: 340, w: 334, h: 340 });
    panel('otherDistance', `${other.toUpperCase()} (${nFull})`, { x: 333, y: 340, w: 334, h: 340 });
    panel('kernelshap', `KERNELSHAP (${nFull})`, { x: 666, y: 340, w: 334, h: 340 });
    written.push(await writeOut(o.out, 'groundtruth.png', cv.png(nodeDeflate)));

    const passes = summarise(res.map((r) => r.forwardPasses));
    const L: string[] = [];
    L.push(`SLIME ground truth (Mishra et al. 2020, Sec. V, Fig. 7): N_ce(c) = |E_c ∩ G|, temporal d = 10, top-3 positive, N_s = ${o.numSamples}, ${o.distance} distance, kw ${o.kernelWidth}`);
    L.push(`command: ${o.command}`);
    L.push(`model: ${prep.model.spec} (weights ${prep.fingerprint}); corpus ${o.corpus}: ${songs.length} test-split songs; seed ${o.seed}`);
    L.push(`instances: ${inst.length} kept (P(voice) ≥ ${o.threshold}) of ${built.candidates} candidates (${built.rounds} rounds × ${o.mixes} mixes per song; accompaniment excerpt + 3 random temporal components from the time-aligned vocal excerpt, normalised log-mel); the paper kept 656 of 2 000`);
    L.push(...table);
    L.push('');
    L.push(`How it ran: prediction tables per instance and content type, certified exact (table.ts): ${passes.mean.toFixed(0)} forward passes per instance on average (KernelSHAP needs all 1 024 per content type, the cosine kernel nearly all).`);
    L.push(`Wall time: instance building ${fmtS(buildMs)}, explanations ${fmtS(run.wallMs)} (${run.resumed} of ${jobs.length} instances resumed from the journal), total ${fmtS(performance.now() - tAll)}; ${o.workers} worker(s).`);
    const summary = L.join('\n') + '\n';
    written.push(await writeOut(o.out, 'groundtruth-summary.txt', summary));
    return { summary, written };
  } finally {
    prep.model.classifier.dispose();
  }
}
