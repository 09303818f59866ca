/**
 * `earshot attack clip.wav --domain waveform|spectrogram [--at SECONDS | --all] --out DIR`: the
 * veracity paper's targeted adversarial attack (001; methods.md §6; src/veracity/attack.ts) on
 * one excerpt or on every excerpt of a clip, batched and spread over the cores, with a report
 * (JSON), the adversarial audio (32-bit float WAV, so δ survives the file exactly), the
 * adversarial log-mel (.npy) and a picture of δ over the spectrogram (PNG).
 */
import { availableParallelism } from 'node:os';
import { join, resolve, basename } from 'node:path';
import { existsSync } from 'node:fs';
import { EarshotError } from '../../../bindings/errors.ts';
import { melSpectrogram } from '../../../bindings/mel.ts';
import { loadMono } from '../../audio/node.ts';
import { encodeWav } from '../../audio/wav.ts';
import { melOptionsOf, validateFrontEndConfig, SVD_FRONTEND, type FrontEndConfig } from '../../frontend/config.ts';
import { initBackend } from '../../model/backend.ts';
import { SvdCnn } from '../../model/svdcnn.ts';
import { initWeights, loadWeights, MANIFEST_FILE, type WeightSet } from '../../model/weights.ts';
import { encodeNpy } from '../../render/npy.ts';
import { nodeDeflate } from '../../render/png-node.ts';
import { ATTACK_DEFAULTS, resolveAttackOptions, type AttackDomain, type AttackResult } from '../../veracity/attack.ts';
import { attackMany, type PortableAttackOptions } from '../../veracity/attack-task.ts';
import { releaseInputGradients } from '../../veracity/grad.ts';
import { renderAttackPng, resynthesizeLogMelDelta } from '../../veracity/attack-render.ts';
import { findDefaultModel } from '../model-loader.ts';
import { Progress } from '../progress.ts';
import { writeFileAtomic } from './mel.ts';
import { Options } from '../options.ts';
import type { Command } from '../commands.ts';

const HELP = `Usage: earshot attack <clip.wav> --domain waveform|spectrogram [--at SECONDS | --all] --out DIR [options]

Targeted adversarial attack of the veracity paper (Praher et al. 2021; docs/attack.md): each
excerpt's prediction is pushed to the opposite label; loss Σδ² + α·BCE, the sign of the gradient
then an Adam step of rate η, δ clamped to ±ε, at most --max-iterations steps, stopping when the
prediction (threshold --threshold) has flipped.

  --domain waveform      δ on the samples (defaults ε ${ATTACK_DEFAULTS.waveform.epsilon}, η ${ATTACK_DEFAULTS.waveform.eta}, α ${ATTACK_DEFAULTS.waveform.alpha})
  --domain spectrogram   δ on the log-mel (defaults ε ${ATTACK_DEFAULTS.spectrogram.epsilon}, η ${ATTACK_DEFAULTS.spectrogram.eta}, α ${ATTACK_DEFAULTS.spectrogram.alpha}); the audio is
                         resynthesised with the original phase
  --at SECONDS           attack the one 115-frame excerpt centred there (one prediction)
  --all                  attack every excerpt, side by side (default): excerpts start every 118
                         frames (waveform: their samples do not overlap) or 115 (spectrogram)
  -o, --out DIR          writes report.json, adversarial.wav (32-bit float), adversarial-logmel.npy
                         (frames × 80, log(max(mel, 1e-7)), before z-scoring) and delta.png

Options:
  --model DIR|random:SEED   weights (default: the bundled model)
  --epsilon E  --eta H  --alpha A  --max-iterations N  --threshold P   (defaults per domain)
  --workers N    threads (default: the number of cores)
  --batch N      excerpts per batched attack (default 8)
  --engine auto|ort|tfjs   forward pass of the gradient: onnxruntime-node (auto: where it loads)
                 or TF.js wasm; the backward pass is always earshot's own kernels`;

async function resolveWeights(spec: string | undefined): Promise<WeightSet> {
  if (spec !== undefined && /^random(:|$)/.test(spec)) {
    const m = /^random:(\d{1,10})$/.exec(spec);
    if (!m || Number(m[1]) > 0xffffffff) throw new EarshotError('BAD_USAGE', `--model random:SEED needs an integer seed in [0, 4294967295], got '${spec}'`);
    return initWeights(Number(m[1]), { id: `svd-cnn-ismir2015/random-${m[1]}` });
  }
  const dir = spec === undefined ? findDefaultModel() : resolve(spec);
  if (!dir) throw new EarshotError('MODEL_MISSING', 'the bundled default model is not there; pass --model DIR or --model random:SEED');
  if (!existsSync(join(dir, MANIFEST_FILE))) throw new EarshotError('MODEL_MISSING', `--model: ${spec} has no ${MANIFEST_FILE}`);
  return loadWeights(dir);
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);
const round = (a: Float32Array, d = 5) => Array.from(a, (v) => Number(v.toFixed(d)));

export async function attackCommand(args: string[]): Promise<number> {
  const o: Options = Options.parse('attack', args, {
    domain: { type: 'string' },
    at: { type: 'string' },
    all: { type: 'boolean' },
    out: { type: 'string', short: 'o' },
    model: { type: 'string' },
    epsilon: { type: 'string' },
    eta: { type: 'string' },
    alpha: { type: 'string' },
    'max-iterations': { type: 'string' },
    threshold: { type: 'string' },
    workers: { type: 'string' },
    batch: { type: 'string' },
    engine: { type: 'string' },
  });
  const clip = o.onePositional('input WAV file');
  const domain: AttackDomain = o.oneOf('domain', ['waveform', 'spectrogram'] as const);
  const out = o.required('out', 'attack needs --out DIR');
  if (o.has('at') && o.flag('all')) o.fail('--at and --all exclude each other');
  const at = o.num('at', { min: 0 });
  const workersArg = o.int('workers', { min: 1 });
  const batchArg = o.int('batch', { min: 1 });
  const engine = o.oneOf('engine', ['auto', 'ort', 'tfjs'] as const, 'auto');
  const options: PortableAttackOptions = { domain, engine };
  const flags: Array<[keyof PortableAttackOptions, string]> = [['epsilon', '--epsilon'], ['eta', '--eta'], ['alpha', '--alpha'], ['maxIterations', '--max-iterations'], ['threshold', '--threshold']];
  for (const [key, flag] of flags) {
    const v = o.num(flag.slice(2));
    if (v !== undefined) (options as Record<string, unknown>)[key] = v;
  }
  try {
    resolveAttackOptions(options);
  } catch (e) {
    if (e instanceof EarshotError) {
      const [key, flag] = flags.find(([k]) => e.message.startsWith(`${k} `)) ?? [];
      throw new EarshotError('BAD_USAGE', key ? e.message.replace(String(key), flag!) : e.message);
    }
    throw e;
  }
  const t0 = performance.now();
  const weights = await resolveWeights(o.string('model'));
  await initBackend('wasm');
  const model = new SvdCnn(weights);
  try {
    let fe: FrontEndConfig = SVD_FRONTEND;
    try {
      fe = validateFrontEndConfig(weights.info.frontend);
    } catch {
      // older weight files describe the SVD front end loosely
    }
    const audio = await loadMono(clip, fe.sampleRate);
    const mo = melOptionsOf(fe);
    const raw = melSpectrogram(audio, mo).data;
    const B = fe.nMels;
    const F = raw.length / B;
    const T = model.arch.frames;
    const half = Math.floor(T / 2);
    const excerptSamples = (T - 1) * fe.hop + fe.nFft;
    if (F < T) {
      throw new EarshotError('TOO_SHORT', `${clip}: ${F} frames (${(audio.length / fe.sampleRate).toFixed(2)} s); an excerpt needs ${T} frames = ${excerptSamples} samples (${(excerptSamples / fe.sampleRate).toFixed(2)} s)`);
    }
    const norm = model.normalize(raw);
    let starts: number[];
    if (at !== undefined) {
      const c = Math.round((at * fe.sampleRate - fe.nFft / 2) / fe.hop);
      starts = [Math.min(F - T, Math.max(0, c - half))];
    } else {
      const hopE = domain === 'waveform' ? Math.ceil(excerptSamples / fe.hop) : T;
      starts = [];
      for (let s = 0; s + T <= F; s += hopE) starts.push(s);
    }
    const inputs = starts.map((s) => (domain === 'waveform' ? audio.slice(s * fe.hop, s * fe.hop + excerptSamples) : norm.slice(s * B, (s + T) * B)));
    const workers = Math.min(workersArg ?? availableParallelism(), Math.max(1, Math.ceil(inputs.length / (batchArg ?? 8))));
    const progress = new Progress(`attack ${domain}`, inputs.length, { unit: 'excerpts' });
    // One thread per worker; a single inline attack may use every core inside onnxruntime.
    if (workers === 1) options.threads = Math.min(availableParallelism(), 4);
    const results: AttackResult[] = await attackMany(model, weights, inputs, options, {
      workers,
      batch: Math.min(batchArg ?? 8, Math.max(1, Math.ceil(inputs.length / workers))),
      onProgress: (d) => progress.update(d),
    });
    const ok = results.filter((r) => r.success).length;
    progress.finish(`${ok}/${results.length} flipped`);

    // The whole clip with every excerpt's δ added (the excerpts do not overlap).
    let advAudio: Float32Array;
    let advRaw: Float32Array;
    const deltaRaw = new Float32Array(raw.length);
    if (domain === 'waveform') {
      advAudio = audio.slice();
      results.forEach((r, k) => {
        const o = starts[k]! * fe.hop;
        for (let i = 0; i < r.delta.length; i++) advAudio[o + i] = advAudio[o + i]! + r.delta[i]!;
      });
      advRaw = melSpectrogram(advAudio, mo).data;
      for (let i = 0; i < raw.length; i++) deltaRaw[i] = advRaw[i]! - raw[i]!;
    } else {
      results.forEach((r, k) => deltaRaw.set(r.deltaLogMel!, starts[k]! * B));
      advRaw = new Float32Array(raw.length);
      for (let i = 0; i < raw.length; i++) advRaw[i] = raw[i]! + deltaRaw[i]!;
      advAudio = resynthesizeLogMelDelta(audio, deltaRaw, fe);
    }
    const before = await model.predictFrames(norm, F);
    const after = await model.predictFrames(model.normalize(advRaw), F);
    const afterResynthesis = domain === 'spectrogram' ? await model.predictFrames(model.normalize(melSpectrogram(advAudio, mo).data), F) : null;
    let num2 = 0;
    let den2 = 0;
    let linf = 0;
    for (let i = 0; i < audio.length; i++) {
      const d = advAudio[i]! - audio[i]!;
      num2 += audio[i]! * audio[i]!;
      den2 += d * d;
      if (domain === 'waveform') linf = Math.max(linf, Math.abs(d));
    }
    if (domain === 'spectrogram') for (const r of results) linf = Math.max(linf, r.linf);
    const o = resolveAttackOptions(options);
    const dir = resolve(out);
    const files = { report: 'report.json', audio: 'adversarial.wav', logMel: 'adversarial-logmel.npy', png: 'delta.png' };
    const report = {
      clip: basename(clip),
      model: weights.info.id ?? null,
      domain,
      options: { epsilon: o.epsilon, eta: o.eta, alpha: o.alpha, maxIterations: o.maxIterations, threshold: o.threshold },
      sampleRate: fe.sampleRate,
      frames: F,
      frameSeconds: fe.hop / fe.sampleRate,
      summary: {
        excerpts: results.length,
        succeeded: ok,
        successRate: ok / results.length,
        meanIterations: results.reduce((a, r) => a + r.iterations, 0) / results.length,
        snrDb: den2 > 0 ? 10 * Math.log10(num2 / den2) : null,
        snrNote: domain === 'waveform' ? 'clip samples vs δ' : 'clip samples vs the resynthesised difference',
        linf,
        linfUnits: domain === 'waveform' ? 'samples' : 'log-mel',
      },
      excerpts: results.map((r, k) => ({
        index: k,
        startFrame: starts[k],
        centreFrame: starts[k]! + half,
        centreSeconds: ((starts[k]! + half) * fe.hop + fe.nFft / 2) / fe.sampleRate,
        success: r.success,
        iterations: r.iterations,
        target: r.targets[0],
        before: r.before[0],
        after: r.after[0],
        snrDb: finiteOrNull(r.snrDb),
        linf: r.linf,
      })),
      frameProbabilities: { before: round(before), after: round(after), ...(afterResynthesis ? { afterResynthesis: round(afterResynthesis) } : {}) },
      files,
      elapsedSeconds: (performance.now() - t0) / 1000,
      workers,
    };
    await writeFileAtomic(join(dir, files.audio), encodeWav({ sampleRate: fe.sampleRate, channels: [advAudio] }, { format: 'float32' }));
    await writeFileAtomic(join(dir, files.logMel), encodeNpy(advRaw, [F, B]));
    await writeFileAtomic(join(dir, files.png), renderAttackPng(raw, deltaRaw, F, B, { deflate: nodeDeflate }));
    await writeFileAtomic(join(dir, files.report), JSON.stringify(report, null, 1) + '\n');
    process.stderr.write(`earshot attack: ${ok}/${results.length} excerpts flipped (${domain}) → ${dir}\n`);
    return 0;
  } finally {
    await releaseInputGradients(model);
    model.dispose();
  }
}

export const attackCmd: Command = {
  summary: 'targeted adversarial attack (veracity paper) on one excerpt or all excerpts of a clip',
  help: HELP,
  run: attackCommand,
};
