#!/usr/bin/env node
// Assembles the top-level REPRODUCTION.md from the per-paper write-ups in docs/reproduction/
// (each owned by the code that produces its numbers), so one page compares every paper's
// claims with earshot's results. Run after any of them changes: `node scripts/reproduction.mjs`.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const parts = [
  ['slime.md', 'SoundLIME: "Reliable local explanations for machine listening" (paper 000)'],
  ['veracity.md', 'Veracity: "On the veracity of local, model-agnostic explanations" (paper 001)'],
  ['audiolime.md', 'audioLIME (paper 002)'],
  ['lmac.md', 'L-MAC and the faithfulness benchmark (paper 004)'],
];
const out = [
  '# Reproduction: the papers\' claims beside earshot\'s numbers',
  '',
  'Every number below was produced by an `earshot` command on the committed model v1',
  '(`assets/models/svd-v1`, weights CRC-32 `4a45585c`, trained in-project: see its MODEL_CARD.md; the',
  'default model until 2026-11-27 and so called `assets/models/svd-default` in the commands below;',
  'its L-MAC decoder is `assets/models/lmac-v1`) and the 180-song in-project corpus',
  '(`scripts/corpus/build.ts --seed 1 --songs 180`; docs/corpus.md). To rerun a command exactly, add',
  '`--model assets/models/svd-v1` (and `--lmac assets/models/lmac-v1` to evaluate and sanity,',
  '`--decoder assets/models/lmac-v1` to `earshot explain --method lmac`): the default model is now v4,',
  'v1 fine-tuned on a 480-song corpus with recomputed batch-norm statistics (v2, `assets/models/svd-v2`),',
  'then on more accompaniment sources (v3, `assets/models/svd-v3`), then with a vocal-remix augmentation',
  '(frame error 8.7 % on 499 held-out test songs; 10.1 % vs v1\'s 14.8 % on the 480-song corpus\'s',
  '72 test songs; its MODEL_CARD.md), whose',
  'numbers would differ. The command is given with each result; the result files',
  '(CSV, PNG, summaries) are committed under `results/`. Where our numbers differ from the',
  'paper\'s, the commentary says why as far as we know it. This page is assembled by',
  '`node scripts/reproduction.mjs` from `docs/reproduction/*.md`.',
  '',
];
for (const [file, title] of parts) {
  const p = join(root, 'docs', 'reproduction', file);
  out.push(`## ${title}`, '');
  if (!existsSync(p)) {
    out.push('Not reproduced yet.', '');
    continue;
  }
  // Demote the part's own headings by one level so they nest under this page's sections.
  const text = readFileSync(p, 'utf8').replace(/^# .*\n+/, '').replace(/^(#+) /gm, '#$1 ');
  out.push(text.trimEnd(), '');
}
writeFileSync(join(root, 'REPRODUCTION.md'), out.join('\n'));
console.log('REPRODUCTION.md written');
