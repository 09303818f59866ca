/**
 * `earshot demo` (= `npm run demo`): explains the bundled sung example (assets/lena-sung.wav)
 * with the bundled singing-voice model — the excerpt with the highest P(voice), SLIME with the
 * defaults of `earshot explain` (temporal d = 10, mean_inp content, deduplicated sampling) —
 * and writes explanation.json, heatmap.png, excerpt.wav, topk.wav, rest.wav, index.html and the
 * whole clip's log-mel (logmel.png, the SVD front end of methods.md §1) into out/demo/,
 * printing their paths. If the bundled model is missing it says so and fails: it never falls
 * back to random weights on its own (`--model random:SEED` asks for them explicitly).
 * `--out <file.png>` only renders the log-mel picture (no model needed).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarshotError } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { FrontEnd } from '../../frontend/index.ts';
import { renderSpectrogram } from '../../render/png.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import type { Command } from '../commands.ts';
import { loadModel } from '../model-loader.ts';
import { Progress } from '../progress.ts';
import { EXPLAIN_OPTIONS, explainExcerptToDir, framePredictions, frameToSeconds, parseSettings, prepareClip, secondsToFrame } from './explain.ts';
import { writeFileAtomic } from './mel.ts';
import { Options } from '../options.ts';

const EXAMPLE = 'lena-sung.wav';

/** assets/ next to this file's package: src/cli/commands/ (tsx) or dist/ (bundle). */
export function findAsset(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..', '../../..', '../../../..']) {
    const p = resolve(here, up, 'assets', name);
    if (existsSync(p)) return p;
  }
  throw new EarshotError('FILE_NOT_FOUND', `the bundled example assets/${name} was not found next to the earshot package`);
}

const HELP = `Usage: earshot demo [--input <audio.wav>] [--out <dir>] [--model <dir> | --model random:SEED] [explain options]

Explains the bundled singing-voice model's prediction on the bundled sung example
(assets/${EXAMPLE}): the excerpt with the highest P(voice) (or --at <seconds>), SLIME with the
defaults of \`earshot explain\`. Writes into <dir> (default out/demo/):
  explanation.json, heatmap.png, excerpt.wav, topk.wav, rest.wav, index.html (open this one),
  logmel.png (the whole clip's log-mel spectrogram),
  audiolime/  audioLIME over REPET-SIM sources × 1 s segments (topk.wav: the explanation to hear)
  lmac/       L-MAC's mask of the same excerpt (masked-in.wav / masked-out.wav)
and prints their paths. Needs the bundled model assets/models/svd-default/ (made by
\`earshot train\`); without it the demo fails with a message saying so.

Options:
  -i, --input <file>  another WAV file instead of the bundled example
  -o, --out <dir>     output directory (default out/demo); a path ending in .png renders only
                      the log-mel picture of the input (no model needed)
  --slime-only        skip the audioLIME (out/demo/audiolime/) and L-MAC (out/demo/lmac/)
                      explanations of the same clip
  --model, --engine, --at, --segmentation, --components, --grid, --method, --content, --samples,
  --sampler, --distance, --kernel-width, --seed, --top, --batch, --embed: as in \`earshot explain\``;

/** The whole clip's log-mel as a PNG: 80 dB below its loudest cell, 2 px per cell. */
function logMelPng(fe: FrontEnd, signal: Float32Array, input: string): Uint8Array {
  const lm = fe.logMel(signal);
  if (lm.nFrames === 0) throw new EarshotError('TOO_SHORT', `${input} is shorter than one frame`);
  let max = -Infinity;
  for (const v of lm.data) if (v > max) max = v;
  // ln of a magnitude: 80 dB = ln(1e4); quieter is clipped
  return renderSpectrogram(lm.data, lm.nFrames, lm.nMels, { vmin: max - Math.log(1e4), vmax: max, scale: 2, deflate: nodeDeflate });
}

export async function demoCommand(args: string[]): Promise<number> {
  const { 'all-frames': _allFrames, every: _every, ...explainOptions } = EXPLAIN_OPTIONS;
  const o: Options = Options.parse('demo', args, { ...explainOptions, input: { type: 'string', short: 'i' }, 'slime-only': { type: 'boolean' } });
  o.noPositionals();
  const values = o.values;
  const input = o.string('input') ?? findAsset(EXAMPLE);
  const out = o.string('out', join('out', 'demo'));

  if (out.toLowerCase().endsWith('.png')) {
    const fe = new FrontEnd();
    const signal = await loadMono(input, fe.config.sampleRate);
    await writeFileAtomic(out, logMelPng(fe, signal, input));
    process.stderr.write(`earshot demo: log-mel of ${input} (${(signal.length / fe.config.sampleRate).toFixed(1)} s)\n`);
    console.log(resolve(out));
    return 0;
  }

  const settings = parseSettings(values, 'demo');
  const model = await loadModel(settings.model, { engine: settings.engine, onInfo: (m) => process.stderr.write(`earshot demo: ${m}\n`) });
  let explainedAt = 0;
  try {
    const clip = await prepareClip(input, model);
    const fe = clip.fe;
    let c: number;
    const at = values.at === undefined ? undefined : Number(values.at);
    if (at !== undefined) {
      const dur = clip.signal.length / fe.config.sampleRate;
      if (String(values.at).trim() === '' || !Number.isFinite(at) || at < 0 || at > dur) {
        o.fail(`--at must be a time in [0, ${dur.toFixed(3)}] seconds of ${input}, got '${String(values.at)}'`);
      }
      c = secondsToFrame(fe, at, clip.nFrames);
    } else {
      const p = await framePredictions(model, clip);
      c = 0;
      for (let i = 1; i < p.length; i++) if (p[i]! > p[c]!) c = i;
    }
    explainedAt = frameToSeconds(fe, c);
    await writeFileAtomic(join(out, 'logmel.png'), logMelPng(fe, clip.signal, input));
    process.stderr.write(`earshot demo: ${input}, model ${model.spec === 'default' ? model.dir : model.spec}; explaining the excerpt at ${frameToSeconds(fe, c).toFixed(2)} s\n`);
    const bar = new Progress('explain', 0, { unit: 'passes' });
    const r = await explainExcerptToDir(model, clip, c, settings, out, { onProgress: (d, t) => bar.update(d, t), extraHtml: { logmel: 'logmel.png' } });
    bar.finish();
    const e = r.explanation;
    process.stderr.write(
      `earshot demo: P(${e.label}) = ${e.prediction.toFixed(3)}; top-${settings.top} positive components: ${e.topPositive(settings.top).map((j) => e.components.names[j]).join(', ') || 'none'} — open ${resolve(r.files.html)}\n`,
    );
    for (const f of [...Object.values(r.files), join(out, 'logmel.png')]) console.log(resolve(f));
  } finally {
    model.classifier.dispose();
  }
  if (values['slime-only']) return 0;
  // The same clip explained by the two other explainers: audioLIME over REPET-SIM sources ×
  // 1 s segments (listen to topk.wav) and L-MAC's one-pass mask of the same excerpt.
  const common = [...(values.model ? ['--model', String(values.model)] : []), ...(values.engine ? ['--engine', String(values.engine)] : [])];
  process.stderr.write('earshot demo: audioLIME (REPET-SIM sources × 1 s segments, 1 024 samples)\n');
  const al = (await import('./explain-audiolime.ts')).explainAudioLimeCmd;
  const alCode = await al.run([input, '--method', 'audiolime', '--separate', 'repet', '--samples', '1024', ...common, '--out', join(out, 'audiolime')]);
  if (alCode !== 0) return alCode;
  if (values.model && String(values.model) !== 'assets/models/svd-default') {
    process.stderr.write('earshot demo: L-MAC skipped (the bundled decoder belongs to the bundled model)\n');
    return 0;
  }
  process.stderr.write(`earshot demo: L-MAC (the bundled decoder) on the excerpt at ${explainedAt.toFixed(2)} s\n`);
  const lm = (await import('./explain-lmac.ts')).explainLmacCmd;
  return lm.run([input, '--method', 'lmac', '--at', explainedAt.toFixed(3), '--out', join(out, 'lmac')]);
}

export const demo: Command = {
  summary: 'explain the bundled model on the bundled sung example (out/demo/: JSON, PNG, WAVs, HTML)',
  help: HELP,
  run: demoCommand,
};
