/**
 * `earshot explain clip.wav --method lmac --out DIR`: an L-MAC explanation (paper 004;
 * methods.md §7; src/explain/lmac) of the singing-voice classifier on one excerpt (`--at`) or on
 * the whole clip excerpt by excerpt (115-frame tiles), written as
 *   mask.npy         the mask, frames × 513 bins (float32, values in [0, 1])
 *   mask.png         the spectrogram with the mask over it (top) and the mask alone (bottom)
 *   excerpt.wav      the audio explained (the excerpt, or the whole clip)
 *   masked-in.wav    ISTFT of mask ⊙ X with the original phase (the listenable explanation)
 *   masked-out.wav   ISTFT of (1 − mask) ⊙ X
 *   explanation.json P(voice), the predicted class, P(c) masked-in / masked-out, files, command
 *   index.html       all of it on one offline page
 * One decoder forward pass per excerpt; no sampling, no gradients.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarshotError } from '../../../bindings/errors.ts';
import { istft } from '../../../bindings/stft.ts';
import { loadMono, writeWavFile } from '../../audio/node.ts';
import { encodeNpy } from '../../render/npy.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import type { Command } from '../commands.ts';
import { writeFileAtomic } from './mel.ts';
import { Options, shellQuote, type OptionSpecs } from '../options.ts';

const HELP = `Usage: earshot explain <clip.wav> --method lmac --out <dir> [options]

L-MAC (Listenable Maps for Audio Classifiers; docs/lmac.md): a trained decoder reads the
classifier's hidden activations and outputs a mask on the linear STFT magnitude in one forward
pass; the masked spectrogram with the original phase is the listenable explanation. Writes
mask.npy, mask.png, excerpt.wav, masked-in.wav, masked-out.wav, explanation.json, index.html.

Options:
  --at <seconds>      explain the 115-frame excerpt centred here (default: the whole clip,
                      excerpt by excerpt: 115-frame tiles centred on frames 57, 172, …)
  --decoder <dir>     decoder directory (decoder.json + decoder.bin)  [assets/models/lmac-default]
  --model <dir>       the classifier the decoder was trained for       [assets/models/svd-default]
  -o, --out <dir>     output directory (created if needed)`;

const OPTIONS = {
  method: { type: 'string' },
  at: { type: 'string' },
  decoder: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string', short: 'o' },
} as const satisfies OptionSpecs;

/** A bundled asset directory next to the package (src/cli/commands or dist), or null. */
function bundled(rel: string, file: string): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..', '../../..']) {
    const d = resolve(here, up, rel);
    if (existsSync(join(d, file))) return d;
  }
  return null;
}


export async function explainLmacCommand(args: string[]): Promise<number> {
  const o: Options = Options.parse('explain --method lmac', args, OPTIONS);
  const values = o.values;
  if (values.method !== 'lmac') o.fail(`this command explains with --method lmac, got '${String(values.method)}'`);
  const clipPath = o.onePositional('input WAV file');
  const out = o.required('out', 'explain needs --out <dir>');
  const at = o.num('at', { min: 0 });
  const decoderDir = values.decoder !== undefined ? resolve(String(values.decoder)) : bundled('assets/models/lmac-default', 'decoder.json');
  if (!decoderDir) throw new EarshotError('LMAC_MISSING', 'the bundled L-MAC decoder assets/models/lmac-default/ is not there; train one with `earshot train-lmac` or pass --decoder DIR');
  if (!existsSync(join(decoderDir, 'decoder.json'))) throw new EarshotError('LMAC_MISSING', `--decoder: ${String(values.decoder)} has no decoder.json (a decoder directory holds decoder.json and decoder.bin; see \`earshot train-lmac\`)`);
  const modelDir = values.model !== undefined ? resolve(String(values.model)) : bundled('assets/models/svd-default', 'model.json');
  if (!modelDir || !existsSync(join(modelDir, 'model.json'))) throw new EarshotError('MODEL_MISSING', `--model: ${values.model === undefined ? 'the bundled assets/models/svd-default/' : String(values.model)} has no model.json`);

  const { loadLmac, clipSpectrogram, excerptRows } = await import('../../explain/lmac/index.ts');
  const { stftOptionsOf } = await import('../../explain/lmac/audio.ts');
  const { renderMaskPng, renderLmacHtml } = await import('../../explain/lmac/render.ts');
  const { loadWeights } = await import('../../model/weights.ts');
  const weights = await loadWeights(modelDir);
  const lmac = await loadLmac(decoderDir, weights);
  try {
    const fe = weights.info.frontend;
    const signal = await loadMono(clipPath, fe.sampleRate);
    const spec = clipSpectrogram(signal, fe);
    const T = lmac.frames;
    const B = lmac.bins;
    const pad = Math.floor(T / 2);
    const nF = spec.nFrames;
    const dur = signal.length / fe.sampleRate;
    // Which excerpts, and which frames of the clip each one's mask covers.
    const tiles: Array<{ c: number; f0: number; f1: number }> = [];
    if (at !== undefined) {
      if (at > dur) o.fail(`--at ${at} is past the end of ${clipPath} (${dur.toFixed(3)} s)`);
      const c = Math.min(nF - 1, Math.max(0, Math.round((at * fe.sampleRate - fe.nFft / 2) / fe.hop)));
      tiles.push({ c, f0: c - pad, f1: c - pad + T });
    } else {
      for (let c = pad; c - pad < nF; c += T) tiles.push({ c: Math.min(c, nF - 1), f0: c - pad, f1: Math.min(nF, c - pad + T) });
    }
    const F0 = tiles[0]!.f0;
    const F1 = tiles[tiles.length - 1]!.f1;
    const F = F1 - F0;
    const mask = new Float32Array(F * B);
    const rows: Array<{ seconds: number; frame: number; prediction: number; pIn: number; pOut: number; maskMean: number; predictedClass: number }> = [];
    const t0 = performance.now();
    for (const [i, tile] of tiles.entries()) {
      const mag = excerptRows(spec.magnitude, nF, B, tile.c, T);
      const r = await lmac.explainDetailed(mag);
      // The excerpt's frames [c − pad, c − pad + T) land at rows [c − pad − F0, …) of the output.
      for (let j = 0; j < T; j++) {
        const f = tile.c - pad + j;
        if (f < tile.f0 || f >= tile.f1) continue;
        mask.set(r.mask.subarray(j * B, (j + 1) * B), (f - F0) * B);
      }
      let mm = 0;
      for (const v of r.mask) mm += v;
      rows.push({ seconds: (tile.c * fe.hop + fe.nFft / 2) / fe.sampleRate, frame: tile.c, prediction: r.prediction, pIn: r.pIn, pOut: r.pOut, maskMean: mm / r.mask.length, predictedClass: r.predictedClass });
      if (tiles.length > 1) process.stderr.write(`\rearshot explain --method lmac: excerpt ${i + 1}/${tiles.length}`);
    }
    if (tiles.length > 1) process.stderr.write('\n');
    const ms = performance.now() - t0;
    // Frames outside the clip (an excerpt near an edge) carry no audio: the mask there is kept
    // in mask.npy (the decoder's output) but multiplies silence.
    const magRows = excerptRows(spec.magnitude, nF, B, F0 + Math.floor(F / 2), F); // rows F0 … F1 − 1
    const cx = new Float32Array(F * 2 * B);
    const cxIn = new Float32Array(F * 2 * B);
    const cxOut = new Float32Array(F * 2 * B);
    for (let f = 0; f < F; f++) {
      const src = F0 + f;
      if (src < 0 || src >= nF) continue;
      for (let k = 0; k < B; k++) {
        const re = spec.complex[2 * (src * B + k)]!;
        const im = spec.complex[2 * (src * B + k) + 1]!;
        const m = mask[f * B + k]!;
        const o = 2 * (f * B + k);
        cx[o] = re;
        cx[o + 1] = im;
        cxIn[o] = m * re;
        cxIn[o + 1] = m * im;
        cxOut[o] = (1 - m) * re;
        cxOut[o + 1] = (1 - m) * im;
      }
    }
    const len = fe.nFft + fe.hop * (F - 1);
    const opts = { ...stftOptionsOf(fe), length: len };
    const original = istft(cx, opts);
    const maskedIn = istft(cxIn, opts);
    const maskedOut = istft(cxOut, opts);
    await mkdir(out, { recursive: true });
    const files = { npy: 'mask.npy', png: 'mask.png', original: 'excerpt.wav', maskedIn: 'masked-in.wav', maskedOut: 'masked-out.wav', json: 'explanation.json', html: 'index.html' };
    const sr = fe.sampleRate;
    const command = ['earshot', 'explain', shellQuote(clipPath), '--method', 'lmac', ...(at !== undefined ? ['--at', String(at)] : []), ...(values.decoder !== undefined ? ['--decoder', shellQuote(String(values.decoder))] : []), ...(values.model !== undefined ? ['--model', shellQuote(String(values.model))] : []), '--out', shellQuote(out)].join(' ');
    await writeFileAtomic(join(out, files.npy), encodeNpy(mask, [F, B]));
    await writeFileAtomic(join(out, files.png), renderMaskPng(magRows, mask, F, B, { deflate: nodeDeflate }));
    await writeWavFile(join(out, files.original), { sampleRate: sr, channels: [original] });
    await writeWavFile(join(out, files.maskedIn), { sampleRate: sr, channels: [maskedIn] });
    await writeWavFile(join(out, files.maskedOut), { sampleRate: sr, channels: [maskedOut] });
    const label = weights.info.labels[0] ?? 'label';
    let maskMean = 0;
    for (const v of mask) maskMean += v;
    maskMean /= mask.length;
    const json = {
      format: 'earshot-lmac-explanation',
      formatVersion: 1,
      method: 'lmac',
      source: clipPath,
      sampleRate: sr,
      frames: { first: F0, count: F, bins: B, hop: fe.hop, nFft: fe.nFft, startSample: F0 * fe.hop },
      mask: { file: files.npy, shape: [F, B], mean: maskMean },
      excerpts: rows,
      classifier: lmac.file.info.classifier,
      decoder: { dir: decoderDir, architecture: lmac.file.info.architecture.name, loss: lmac.file.info.loss, stage: lmac.file.info.training.stage ?? null },
      files,
      msPerExcerpt: ms / tiles.length,
      command,
    };
    await writeFileAtomic(join(out, files.json), JSON.stringify(json, null, 2) + '\n');
    const one = rows.length === 1 ? rows[0]! : null;
    const facts: Array<[string, string]> = one
      ? [
          ['excerpt centre', `${one.seconds.toFixed(3)} s (frame ${one.frame})`],
          [`P(${label})`, one.prediction.toFixed(4)],
          ['predicted class c', one.predictedClass ? label : `not ${label}`],
          ['P(c) original / masked-in / masked-out', `${(one.predictedClass ? one.prediction : 1 - one.prediction).toFixed(4)} / ${one.pIn.toFixed(4)} / ${one.pOut.toFixed(4)}`],
          ['mask mean', one.maskMean.toFixed(4)],
        ]
      : [
          ['excerpts', `${rows.length} tiles of ${T} frames`],
          ['mask mean', maskMean.toFixed(4)],
        ];
    facts.push(['decoder', `${decoderDir} (${String(lmac.file.info.training.stage ?? '?')} stage)`], ['classifier', `${lmac.file.info.classifier.id} (${lmac.file.info.classifier.fingerprint})`], ['time per excerpt', `${(ms / tiles.length).toFixed(1)} ms`]);
    await writeFileAtomic(
      join(out, files.html),
      renderLmacHtml({ title: `earshot L-MAC: ${basename(clipPath)}${one ? ` at ${one.seconds.toFixed(2)} s` : ''}`, facts, files, command, excerpts: one ? undefined : rows, label }),
    );
    if (one) {
      process.stderr.write(`earshot explain --method lmac: P(${label}) = ${one.prediction.toFixed(3)} at ${one.seconds.toFixed(3)} s; P(c) masked-in ${one.pIn.toFixed(3)}, masked-out ${one.pOut.toFixed(3)}; mask mean ${one.maskMean.toFixed(3)} (${ms.toFixed(0)} ms)\n`);
    }
    for (const f of Object.values(files)) console.log(resolve(out, f));
    return 0;
  } finally {
    lmac.dispose();
  }
}

export const explainLmacCmd: Command = {
  summary: 'L-MAC: a listenable mask from a trained decoder (one forward pass)',
  help: HELP,
  run: explainLmacCommand,
};
