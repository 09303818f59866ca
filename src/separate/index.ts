/**
 * Offline source separation of a mono signal (docs/separate.md): HPSS (Fitzgerald 2010,
 * librosa.decompose.hpss), REPET-SIM (Rafii & Pardo 2012) and β-NMF (Févotte & Idier 2011) on
 * the magnitude of the mixture's STFT; each source is the ISTFT of (its mask × the mixture's
 * complex STFT), i.e. with the mixture's phase. The masks sum to one in every cell and the STFT is
 * linear, so the sources sum to the mixture (up to the STFT round trip, ≈ 1e-6).
 * Runs anywhere (no fs); user stems from files are in ./stems.ts (Node).
 */
import { EarshotError, check, checkArray, checkFinite, checkInt, checkNumber } from '../../bindings/errors.ts';
import { stft, istft } from '../../bindings/stft.ts';
import {
  applyMask,
  complexMagnitude,
  hpssMasks,
  nmf,
  repetSimMask,
  HPSS_KEYS,
  NMF_KEYS,
  type HpssOptions,
  type NmfOptions,
} from '../../bindings/separate.ts';

export type SeparationMethod = 'hpss' | 'repet' | 'nmf';
export const SEPARATION_METHODS: readonly SeparationMethod[] = ['hpss', 'repet', 'nmf'];

export interface SeparateOptions extends HpssOptions, Omit<NmfOptions, never> {
  method: SeparationMethod;
  /** FFT size (power of two, 64…16384). Default 2048 (librosa). */
  nFft?: number;
  /** Hop in samples. Default 512 (librosa). */
  hop?: number;
  /** REPET-SIM: most similar frames per frame. Default 20. */
  k?: number;
  /** REPET-SIM: minimum distance between picked frames, seconds. Default 1 (Rafii & Pardo's code). */
  minDistance?: number;
  /** REPET-SIM: minimum cosine similarity of a picked frame. Default 0 (Rafii & Pardo's code). */
  threshold?: number;
  /**
   * REPET-SIM: bins 1…⌈cutoff·(nFft − 1)/sampleRate⌉ go wholly to the background (Rafii's "dual
   * high-pass filter of the foreground": vocals are rarely below 100 Hz). Default 100 Hz; 0 = off.
   */
  cutoff?: number;
}

export interface SeparationMasks {
  names: string[];
  /** One soft mask per source (frames × bins of the mixture's STFT); they sum to one. */
  masks: Float32Array[];
  nFrames: number;
  nBins: number;
  nFft: number;
  hop: number;
  objective?: Float64Array;
}

export interface Separation {
  names: string[];
  sources: Float32Array[];
  /** Extra per-method output (NMF: the objective per iteration). */
  objective?: Float64Array;
}

const COMMON_KEYS = ['method', 'nFft', 'hop'];
const KEYS: Record<SeparationMethod, readonly string[]> = {
  hpss: [...COMMON_KEYS, ...HPSS_KEYS],
  repet: [...COMMON_KEYS, 'k', 'minDistance', 'threshold', 'cutoff'],
  nmf: [...COMMON_KEYS, ...NMF_KEYS],
};

/** Separate `signal` (mono, `sampleRate` Hz) into named sources that sum to it. */
export function separate(signal: Float32Array, sampleRate: number, options: SeparateOptions): Separation {
  const m = separationMasks(signal, sampleRate, options);
  const out: Separation = { names: m.names, sources: applyMasks(signal, m) };
  if (m.objective) out.objective = m.objective;
  return out;
}

/**
 * Apply separation masks to any signal of the same length as the one they came from: ISTFT of
 * (mask × the signal's complex STFT). Used by `separate`, and to send a known component of a
 * mixture through the mixture's masks (the STFT is linear).
 */
export function applyMasks(signal: Float32Array, masks: SeparationMasks): Float32Array[] {
  checkArray(signal, Float32Array, 'signal');
  checkFinite(signal, 'signal');
  const framing = { nFft: masks.nFft, hopLength: masks.hop };
  const X = stft(signal, framing);
  check(X.nFrames === masks.nFrames && X.nBins === masks.nBins, `signal gives ${X.nFrames} × ${X.nBins} STFT cells but the masks have ${masks.nFrames} × ${masks.nBins}`, 'BAD_SHAPE');
  return masks.masks.map((mask) => istft({ data: applyMask(X.data, mask), nFrames: X.nFrames, nBins: X.nBins }, { ...framing, length: signal.length }));
}

/** The soft masks of a separation (see `separate`), without resynthesis. */
export function separationMasks(signal: Float32Array, sampleRate: number, options: SeparateOptions): SeparationMasks {
  checkArray(signal, Float32Array, 'signal');
  checkInt(sampleRate, 'sampleRate', 1, 10_000_000);
  checkFinite(signal, 'signal');
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new EarshotError('BAD_ARGUMENT', `separate options must be an object with a method, got ${options === null ? 'null' : typeof options}`);
  }
  const method = options.method;
  check(typeof method === 'string' && (SEPARATION_METHODS as readonly string[]).includes(method), `method must be one of ${SEPARATION_METHODS.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(method)}`);
  for (const key of Object.keys(options)) {
    if (!KEYS[method].includes(key) && (options as unknown as Record<string, unknown>)[key] !== undefined) throw new EarshotError('BAD_ARGUMENT', `unknown option '${key}' for method '${method}' (allowed: ${KEYS[method].join(', ')})`);
  }
  const o = options as unknown as Record<string, unknown>;
  const nFft = o.nFft === undefined ? 2048 : checkInt(o.nFft, 'nFft', 64, 16384);
  check((nFft & (nFft - 1)) === 0, `nFft must be a power of two in 64…16384, got ${nFft}`);
  const hop = o.hop === undefined ? 512 : checkInt(o.hop, 'hop', 1, nFft / 2);
  check(signal.length > 0, 'signal must not be empty', 'BAD_SHAPE');
  const framing = { nFft, hopLength: hop };
  const X = stft(signal, framing);
  const T = X.nFrames;
  const F = X.nBins;
  const mag = complexMagnitude(X.data);
  let names: string[];
  let masks: Float32Array[];
  let objective: Float64Array | undefined;
  if (method === 'hpss') {
    const hp: HpssOptions = {};
    for (const key of HPSS_KEYS) if (o[key] !== undefined) (hp as Record<string, unknown>)[key] = o[key];
    const m = hpssMasks(mag, T, F, hp);
    names = ['harmonic', 'percussive'];
    masks = [m.harmonic, m.percussive];
    if (m.residual) {
      names.push('residual');
      masks.push(m.residual);
    }
  } else if (method === 'repet') {
    const kk = o.k === undefined ? 20 : checkInt(o.k, 'k', 1, 10000);
    const seconds = o.minDistance === undefined ? 1 : checkNumber(o.minDistance, 'minDistance', 0, 3600);
    const threshold = o.threshold === undefined ? 0 : checkNumber(o.threshold, 'threshold', -1, 1);
    const minDistance = Math.max(1, Math.round((seconds * sampleRate) / hop));
    const cutoff = o.cutoff === undefined ? 100 : checkNumber(o.cutoff, 'cutoff', 0, sampleRate / 2);
    const bg = repetSimMask(mag, T, F, { k: kk, minDistance, threshold });
    // repet.m: repeating_mask(2:cutoff+1, :) = 1 (1-based rows: bins 1…cutoff, DC left as is)
    const cutBins = Math.min(F - 1, Math.ceil((cutoff * (nFft - 1)) / sampleRate));
    for (let t = 0; t < T; t++) for (let b = 1; b <= cutBins; b++) bg[t * F + b] = 1;
    const fg = new Float32Array(bg.length);
    for (let i = 0; i < bg.length; i++) fg[i] = 1 - bg[i]!;
    names = ['accompaniment', 'vocals'];
    masks = [bg, fg];
  } else {
    const no: NmfOptions = {};
    for (const key of NMF_KEYS) if (o[key] !== undefined) (no as Record<string, unknown>)[key] = o[key];
    const r = nmf(mag, T, F, no);
    names = r.masks.map((_, c) => `component${c}`);
    masks = r.masks;
    objective = r.objective;
  }
  const out: SeparationMasks = { names, masks, nFrames: T, nBins: F, nFft, hop };
  if (objective) out.objective = objective;
  return out;
}
