/**
 * Writes MODEL_CARD.md for a trained L-MAC decoder directory from its decoder.json (and
 * stage1/decoder.json): what it explains, how it was trained (commands, seed, warm start),
 * per-epoch validation numbers, the best epoch, training time. The numbers come from the files,
 * never typed by hand.
 *
 *   node --import tsx bench/lmac-card.ts [assets/models/lmac-default] [--classifier-note TEXT] [--machine TEXT]
 *
 * --classifier-note says which state of the classifier the fingerprint is (the weights change
 * when the default model is retrained); --machine says what else ran while training.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const cli = parseArgs({ allowPositionals: true, options: { 'classifier-note': { type: 'string' }, machine: { type: 'string' } } });
const dir = cli.positionals[0] ?? 'assets/models/lmac-default';
const classifierNote = cli.values['classifier-note'] ?? 'That is `assets/models/svd-default/` as frozen at 09:55 UTC on 2026-11-27.';
const machineNote = cli.values.machine ?? 'on the shared 2-core machine while other jobs ran (load average 15–25)';
type Rec = { stage: string; epoch: number; learningRate: number; train: Record<string, number>; valid: Record<string, number>; seconds: number; msPerStep: number };
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const m = read(join(dir, 'decoder.json'));
const s1 = existsSync(join(dir, 'stage1', 'decoder.json')) ? read(join(dir, 'stage1', 'decoder.json')) : null;
const t = m.training as Record<string, any>;
const hist: Rec[] = t.history ?? [];
const f = (v: number | undefined, d = 3) => (v === undefined || v === null ? '—' : v.toFixed(d));
const rows = hist
  .map(
    (h) =>
      `| ${h.stage === 'ft' ? 'FT' : 'mask'} ${h.epoch} | ${h.learningRate.toExponential(1)} | ${f(h.train.loss)} | ${f(h.valid.loss)} | ${f(h.valid.ceIn)} | ${f(h.valid.ceOut)} | ${f(h.valid.maskMean)} | ` +
      `${f(h.valid.pOriginal)} / ${f(h.valid.pIn)} / ${f(h.valid.pOut)} | ${f(h.valid.AI, 1)} | ${f(h.valid.AD, 1)} | ${h.stage === 'ft' ? `${f(h.valid.guide)} (${f(100 * h.valid.guidedShare!, 0)} %)` : '—'} | ${(h.seconds / 60).toFixed(1)} |`,
  )
  .join('\n');
const total = hist.reduce((a, h) => a + h.seconds, 0);
const init = t.initialisedFrom as Record<string, any> | null;
// Each warm start records the one before it: list them oldest first with their time.
const chain = (x: Record<string, any>): string => {
  const parts: string[] = [];
  for (let c: Record<string, any> | null = x; c; c = c.initialisedFrom ?? null) {
    parts.unshift(`\`${c.command}\` (seed ${c.seed ?? '?'}, ${c.seconds !== null && c.seconds !== undefined ? (c.seconds / 60).toFixed(1) + ' min' : '? min'}, classifier ${c.classifier?.fingerprint})`);
  }
  return parts.join(' → ') + ' → this run';
};
const chainSeconds = (x: Record<string, any> | null): number => (x ? (x.seconds ?? 0) + chainSeconds(x.initialisedFrom ?? null) : 0);
const v = t.valid as Record<string, number> | null;
const o = t.options as Record<string, any>;
const text = `# L-MAC decoder: ${dir.split('/').pop()}

An L-MAC decoder (Listenable Maps for Audio Classifiers, paper 004; docs/lmac.md) for the
singing-voice CNN: it reads the classifier's conv2 and conv4 activations and outputs a sigmoid
mask on the linear STFT magnitude (115 frames × 513 bins) in one forward pass.

- **Explains:** classifier \`${m.classifier.id}\`, fingerprint \`${m.classifier.fingerprint}\` (CRC-32 of its
  float32 tensors; \`loadLmac\` refuses any other classifier), decision threshold ${m.classifier.threshold} (defines
  the predicted class c), labels ${JSON.stringify(m.classifier.labels)}. ${classifierNote}
- **Architecture:** \`${m.architecture.name}\`, layers ${m.architecture.layers.join(' + ')}, ${m.architecture.channels} channels, frequency map
  ${m.architecture.nMels} → ${m.architecture.bins} initialised from the transposed mel filterbank.
- **Loss:** λ_in ${m.loss.lambdaIn}, λ_out ${m.loss.lambdaOut}, λ_s ${m.loss.lambdaS}${m.loss.lambdaG !== undefined ? `, fine-tuning λ_g ${m.loss.lambdaG} (binarisation ${t.ft?.binThreshold}, cross-correlation gate ${t.ft?.ccThreshold})` : ''}.
- **This file is:** the best ${t.stage === 'ft' ? 'fine-tuning (FT)' : 'stage-1 (masking)'} epoch (${t.bestEpoch}) by validation loss${s1 ? `; \`stage1/\` holds the best stage-1 decoder (epoch ${s1.training.bestEpoch}, before fine-tuning)` : ''}.
- **Command:** \`${t.command}\`
- **Seed:** ${t.seed}; batch ${o.batchSize}, ${o.stepsPerEpoch} steps per epoch, Adam lr ${o.learningRate} (FT ${o.ftLearningRate}), patience ${o.patience}, ${o.validExcerpts} validation excerpts (fixed, seeded), ${t.trainSongs} training / ${t.validSongs} validation songs of the in-project corpus, backend ${t.backend}.
${init ? `- **Warm-start chain:** ${chain(init)}` : '- **Initialisation:** seeded (Glorot projections, mel-derived frequency map).'}
${init ? `- **Warm start:** initialised from \`${init.source}\` — a decoder trained by \`${init.command}\` for classifier fingerprint \`${init.classifier?.fingerprint}\` (${init.classifier?.fingerprint === m.classifier.fingerprint ? 'the same classifier' : 'another state of the classifier: the decoder is retrained when the classifier changes'}; its best ${init.stage} epoch ${init.bestEpoch}${init.valid ? `: validation loss ${f(init.valid.loss)}, P(c) masked-in ${f(init.valid.pIn)} / masked-out ${f(init.valid.pOut)}` : ''}).` : ''}
- **Training time:** ${(total / 60).toFixed(1)} min for the epochs below${init ? ` + ${(chainSeconds(init) / 60).toFixed(1)} min of the warm-start run(s) = ${((total + chainSeconds(init)) / 60).toFixed(1)} min in all` : ''}, ${machineNote}.

## Validation (fixed excerpts of the validation songs; c = the classifier's decision)

P(c) is the classifier's probability of its own decision on the original / masked-in (M ⊙ X) /
masked-out ((1 − M) ⊙ X) input. AI: share of excerpts whose P(c) rises when masked in; AD: mean
relative drop of P(c) when masked in (%). Guide: the FT guidance BCE on the guided excerpts
(and their share).

| epoch | lr | train loss | valid loss | CE_in | CE_out | mask mean | P(c) orig / in / out | AI % | AD % | guide | min |
|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---:|
${rows}

${v ? `**Best (this file):** validation loss ${f(v.loss)}; P(c) original ${f(v.pOriginal)}, masked-in ${f(v.pIn)}, masked-out ${f(v.pOut)}; AI ${f(v.AI, 1)} %, AD ${f(v.AD, 1)} %; mask mean ${f(v.maskMean)}.` : ''}

## Limits

- Trained for minutes on a shared CPU, not to convergence: a larger budget (more steps, more songs)
  should give sharper masks. The per-epoch numbers above are what it reached.
- The classifier is nearly level-invariant (docs/lmac.md §2): a mask's overall level reaches it
  only weakly, so compare masks by shape as well as by mean; the masked-in audio is quiet when the
  mask mean is small.
- The guidance of the FT stage uses the clean vocal stem; it applies only to excerpts the
  classifier calls voice and whose masked-in spectrum already correlates with the stem.
`;
writeFileSync(join(dir, 'MODEL_CARD.md'), text);
console.log(`wrote ${join(dir, 'MODEL_CARD.md')}`);
