/**
 * L-MAC's listenable side (paper 004 §2.2; methods.md §7): the linear STFT of a clip in the
 * classifier's own framing (symmetric Hann 1024, hop 315, not centred: bindings/stft.ts), the
 * magnitude of one 115-frame excerpt (frames outside the clip are silence — zero magnitude,
 * which the front end turns into exactly the log-floor padding the classifier was trained
 * with), and the ISTFT of the masked magnitude **with the original phase**: M ⊙ X keeps X's
 * phase, so istft(M ⊙ X) is the masked-in audio and istft((1 − M) ⊙ X) the masked-out audio.
 */
import { EarshotError, checkArray, checkInt } from '../../../bindings/errors.ts';
import { istft, stft, type StftOptions } from '../../../bindings/stft.ts';
import { SVD_FRONTEND, type FrontEndConfig } from '../../frontend/config.ts';

/** The front end's framing as stft/istft options. */
export function stftOptionsOf(fe: Pick<FrontEndConfig, 'nFft' | 'hop' | 'window' | 'symmetric'> = SVD_FRONTEND): StftOptions {
  return { nFft: fe.nFft, hopLength: fe.hop, winLength: fe.nFft, window: fe.window as 'hann', periodic: !fe.symmetric, center: false };
}

/** Complex STFT (interleaved re, im; frames × bins) and its magnitude. */
export interface ClipSpectrogram {
  complex: Float32Array;
  magnitude: Float32Array;
  nFrames: number;
  nBins: number;
  fe: FrontEndConfig;
}

export function clipSpectrogram(signal: Float32Array, fe: FrontEndConfig = SVD_FRONTEND): ClipSpectrogram {
  checkArray(signal, Float32Array, 'signal');
  const r = stft(signal, { ...stftOptionsOf(fe), output: 'complex' });
  if (r.nFrames === 0) throw new EarshotError('TOO_SHORT', `L-MAC: ${signal.length} samples is shorter than one frame (${fe.nFft} samples)`);
  const mag = new Float32Array(r.nFrames * r.nBins);
  for (let i = 0; i < mag.length; i++) mag[i] = Math.hypot(r.data[2 * i]!, r.data[2 * i + 1]!);
  return { complex: r.data, magnitude: mag, nFrames: r.nFrames, nBins: r.nBins, fe };
}

/**
 * Rows [c − pad, c − pad + T) of a frames × width array, zero outside [0, nFrames): the excerpt
 * centred on frame c (pad = ⌊T/2⌋).
 */
export function excerptRows(data: Float32Array, nFrames: number, width: number, c: number, T: number): Float32Array {
  checkInt(c, 'centre frame', 0, Math.max(0, nFrames - 1));
  const pad = Math.floor(T / 2);
  const out = new Float32Array(T * width);
  for (let j = 0; j < T; j++) {
    const t = c - pad + j;
    if (t >= 0 && t < nFrames) out.set(data.subarray(t * width, (t + 1) * width), j * width);
  }
  return out;
}

/** |X| of the excerpt centred on frame c: T × bins. */
export function excerptMagnitude(spec: ClipSpectrogram, c: number, T = spec.fe.excerptFrames): Float32Array {
  return excerptRows(spec.magnitude, spec.nFrames, spec.nBins, c, T);
}

/**
 * The excerpt's audio through a mask on its magnitude (T × bins, values in [0, 1]; `invert`
 * uses 1 − mask): ISTFT of mask ⊙ X with X's phase, nFft + hop·(T − 1) samples starting at
 * sample hop·(c − ⌊T/2⌋) of the clip (before the clip's start the excerpt is silence).
 */
export function maskedExcerptAudio(spec: ClipSpectrogram, c: number, mask: Float32Array, invert = false, T = spec.fe.excerptFrames): Float32Array {
  const B = spec.nBins;
  checkArray(mask, Float32Array, 'mask', T * B);
  const cx = excerptRows(spec.complex, spec.nFrames, 2 * B, c, T);
  for (let i = 0; i < T * B; i++) {
    const m = mask[i]!;
    if (!(m >= 0 && m <= 1)) throw new EarshotError('BAD_ARGUMENT', `mask[${i}] is ${m}; a mask holds values in [0, 1]`);
    const g = invert ? 1 - m : m;
    cx[2 * i] = cx[2 * i]! * g;
    cx[2 * i + 1] = cx[2 * i + 1]! * g;
  }
  return istft(cx, { ...stftOptionsOf(spec.fe), length: spec.fe.nFft + spec.fe.hop * (T - 1) });
}

/** The original audio under the same excerpt (zeros before the start / after the end of the clip). */
export function excerptAudio(signal: Float32Array, fe: FrontEndConfig, c: number, T = fe.excerptFrames): Float32Array {
  const start = fe.hop * (c - Math.floor(T / 2));
  const n = fe.nFft + fe.hop * (T - 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = start + i;
    if (k >= 0 && k < signal.length) out[i] = signal[k]!;
  }
  return out;
}
