/**
 * What an attack's outputs look and sound like:
 * - `resynthesizeLogMelDelta`: audio of a spectrogram-domain perturbation. δ is on the log-mel
 *   (methods.md §6), so each frame's mel magnitudes are scaled by r_b = exp(δ_b); the mel → linear
 *   map is the front end's filterbank FB as in src/render/listen.ts (for masks): bin gain
 *   g_k = Σ_b FB[b,k]·r_b / Σ_b FB[b,k] (1 where no filter covers bin k), applied to the STFT of
 *   the audio (the front end's window, hop and FFT size, no centring) with its original phase,
 *   then ISTFT. Only the difference ISTFT(X·g) − ISTFT(X) is added to the audio, so samples whose
 *   frames carry no perturbation stay bit-identical and the edges need no special care.
 * - `renderAttackPng`: the log-mel (viridis, top) and δ over it (bottom: mid-grey, red where δ > 0,
 *   blue where δ < 0, opacity ∝ |δ| / max |δ|); time on x, low frequencies at the bottom.
 */
import { EarshotError, checkArray, checkInt } from '../../bindings/errors.ts';
import { istft, stft, type StftOptions } from '../../bindings/stft.ts';
import type { FrontEndConfig } from '../frontend/config.ts';
import { frontEndFilterbank } from '../render/listen.ts';
import { VIRIDIS } from '../render/colormap.ts';
import { encodePng, type Deflate } from '../render/png.ts';

/**
 * audio + the resynthesised effect of a log-mel perturbation δ (frames × nMels, log-mel units,
 * frames = the front end's frames of `audio`).
 */
export function resynthesizeLogMelDelta(audio: Float32Array, deltaLogMel: Float32Array, fe: FrontEndConfig): Float32Array {
  checkArray(audio, Float32Array, 'audio');
  const B = fe.nMels;
  const frames = audio.length < fe.nFft ? 0 : Math.floor((audio.length - fe.nFft) / fe.hop) + 1;
  checkArray(deltaLogMel, Float32Array, 'deltaLogMel', frames * B);
  if (frames === 0) throw new EarshotError('TOO_SHORT', `audio of ${audio.length} samples has no frame of ${fe.nFft}`);
  const fb = frontEndFilterbank(fe);
  const nBins = fe.nFft / 2 + 1;
  const U = fe.nBinsUsed;
  const colSum = new Float64Array(U);
  for (let b = 0; b < B; b++) for (let k = 0; k < U; k++) colSum[k] += fb[b * U + k]!;
  const opts: StftOptions = { nFft: fe.nFft, hopLength: fe.hop, winLength: fe.nFft, window: fe.window, periodic: !fe.symmetric, center: false };
  const X = stft(audio, { ...opts, output: 'complex' });
  const D = new Float32Array(X.data.length);
  let touched = false;
  for (let t = 0; t < frames; t++) {
    const row = deltaLogMel.subarray(t * B, (t + 1) * B);
    if (row.every((v) => v === 0)) continue;
    touched = true;
    const o = t * 2 * nBins;
    for (let k = 0; k < U; k++) {
      if (colSum[k] === 0) continue;
      let num = 0;
      for (let b = 0; b < B; b++) {
        const w = fb[b * U + k]!;
        if (w !== 0) num += w * Math.exp(row[b]!);
      }
      const gm1 = num / colSum[k]! - 1; // gain − 1: the difference spectrum
      D[o + 2 * k] = X.data[o + 2 * k]! * gm1;
      D[o + 2 * k + 1] = X.data[o + 2 * k + 1]! * gm1;
    }
  }
  const out = audio.slice();
  if (!touched) return out;
  const diff = istft({ data: D, nFrames: X.nFrames, nBins }, { ...opts, length: audio.length });
  for (let i = 0; i < out.length; i++) out[i] = out[i]! + diff[i]!;
  return out;
}

export interface AttackPngOptions {
  /** Pixels per frame (default 2, 1 above 1500 frames) and per band (default 3). */
  xScale?: number;
  yScale?: number;
  deflate?: Deflate;
}

/** PNG: log-mel (frames × bands, any units) on top, δ (same layout) over grey below. */
export function renderAttackPng(logMel: Float32Array, delta: Float32Array, frames: number, bands: number, opts: AttackPngOptions = {}): Uint8Array {
  checkInt(frames, 'frames', 1);
  checkInt(bands, 'bands', 1);
  checkArray(logMel, Float32Array, 'logMel', frames * bands);
  checkArray(delta, Float32Array, 'delta', frames * bands);
  const xs = checkInt(opts.xScale ?? (frames > 1500 ? 1 : 2), 'xScale', 1, 16);
  const ys = checkInt(opts.yScale ?? 3, 'yScale', 1, 16);
  const gap = 6;
  const W = frames * xs;
  const Hp = bands * ys;
  const H = 2 * Hp + gap;
  const px = new Uint8Array(W * H * 3).fill(255);
  let lo = Infinity;
  let hi = -Infinity;
  let dmax = 0;
  for (let i = 0; i < logMel.length; i++) {
    lo = Math.min(lo, logMel[i]!);
    hi = Math.max(hi, logMel[i]!);
    dmax = Math.max(dmax, Math.abs(delta[i]!));
  }
  const span = hi > lo ? hi - lo : 1;
  const put = (x: number, y: number, r: number, g: number, b: number) => {
    for (let dy = 0; dy < ys; dy++) {
      for (let dx = 0; dx < xs; dx++) {
        const o = ((y + dy) * W + x + dx) * 3;
        px[o] = r;
        px[o + 1] = g;
        px[o + 2] = b;
      }
    }
  };
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < bands; b++) {
      const y = (bands - 1 - b) * ys;
      const v = Math.min(255, Math.max(0, Math.round(((logMel[t * bands + b]! - lo) / span) * 255)));
      put(t * xs, y, VIRIDIS[v * 3]!, VIRIDIS[v * 3 + 1]!, VIRIDIS[v * 3 + 2]!);
      const d = delta[t * bands + b]!;
      const a = dmax > 0 ? Math.min(1, Math.abs(d) / dmax) * 0.9 : 0;
      const c = d >= 0 ? [215, 48, 39] : [49, 54, 149];
      put(t * xs, Hp + gap + y, Math.round(128 * (1 - a) + c[0]! * a), Math.round(128 * (1 - a) + c[1]! * a), Math.round(128 * (1 - a) + c[2]! * a));
    }
  }
  return encodePng(px, W, H, { deflate: opts.deflate });
}
