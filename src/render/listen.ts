/**
 * Listenable explanations: the audio of the top-k positive components of a spectrogram
 * explanation and of everything else, so a person can hear what the model relied on (the
 * "listenable" outputs of SoundLIME / SLIME, methods.md §4, in the spirit of audioLIME §5).
 *
 * - Temporal components (every frame of the label map belongs to one component): those time
 *   spans of the excerpt's waveform. Excerpt frame j stands for the hop-wide interval around its
 *   window centre (explanation.ts), so component boundaries fall at samples
 *   hop·j + ⌊(nFft − hop)/2⌋ of the excerpt waveform; at each boundary where kept/not kept changes
 *   the gain ramps with a raised cosine over `fadeMs` (default 5 ms) centred on it, to avoid
 *   clicks. The "rest" gain is exactly 1 − the kept gain.
 * - Spectral, time-frequency and custom components: a T × nMels band mask m (1 = kept) is mapped
 *   to linear-STFT bin gains through the front end's mel filterbank FB (nMels × nBinsUsed):
 *   g_k = Σ_b FB[b,k]·m_b / Σ_b FB[b,k], clipped to [0, 1]; bins with no filter weight or above
 *   nBinsUsed take the mask of the band whose filter centroid is nearest. The kept audio is
 *   ISTFT(X·g) and the rest ISTFT(X·(1 − g)) with X the STFT of the waveform (the front end's
 *   window, hop and FFT size, no centring) and its original phase. The STFT runs over the
 *   excerpt plus ⌈nFft/hop⌉ hops of real context on each side (frames there take the mask of the
 *   nearest excerpt frame), so the overlap-add is well conditioned across the whole excerpt.
 *
 * The excerpt waveform of the excerpt centred on original frame c covers source samples
 * [hop·(c − padFrames), hop·(c − padFrames + T − 1) + nFft): exactly the frames of the excerpt;
 * samples outside the source (the padding frames at file edges) are zeros.
 */
import { EarshotError, checkArray, checkInt, checkNumber } from '../../bindings/errors.ts';
import { melFilterbank } from '../../bindings/mel.ts';
import { istft, stft, type StftOptions } from '../../bindings/stft.ts';
import type { FrontEndConfig } from '../frontend/config.ts';
import type { ExcerptContext, ExplanationView } from './explanation.ts';

export interface ExcerptSpan {
  /** Source sample index of the excerpt waveform's first sample (may be negative). */
  start: number;
  /** Length in samples: hop·(T − 1) + nFft. */
  length: number;
}

/** Where the waveform of a T-frame excerpt sits in the source. */
export function excerptSpan(fe: Pick<FrontEndConfig, 'hop' | 'nFft' | 'padFrames'>, centreFrame: number, T: number): ExcerptSpan {
  return { start: fe.hop * (centreFrame - fe.padFrames), length: fe.hop * (T - 1) + fe.nFft };
}

/** Source samples [start, start + length), zeros outside the source. */
export function sliceWithZeros(source: Float32Array, start: number, length: number): Float32Array {
  const out = new Float32Array(length);
  const a = Math.max(0, start);
  const b = Math.min(source.length, start + length);
  if (b > a) out.set(source.subarray(a, b), a - start);
  return out;
}

/** The waveform of the explained excerpt (see the module comment). */
export function excerptWaveform(source: Float32Array, ctx: ExcerptContext, T = ctx.frontEnd.excerptFrames): Float32Array {
  checkArray(source, Float32Array, 'excerptWaveform: source');
  const sp = excerptSpan(ctx.frontEnd, ctx.centreFrame, T);
  return sliceWithZeros(source, sp.start, sp.length);
}

export interface SplitAudio {
  /** The excerpt's waveform. */
  excerpt: Float32Array;
  kept: Float32Array;
  rest: Float32Array;
}

/**
 * Temporal split: `frameGain[j]` ∈ [0, 1] is the kept gain of excerpt frame j (0/1 for a
 * component mask); raised-cosine cross-fades of `fadeMs` centred on every frame boundary where
 * the gain changes. rest = excerpt · (1 − gain).
 */
export function temporalSplit(source: Float32Array, ctx: ExcerptContext, frameGain: Float32Array, fadeMs = 5): SplitAudio {
  const fe = ctx.frontEnd;
  checkArray(source, Float32Array, 'temporalSplit: source');
  checkArray(frameGain, Float32Array, 'temporalSplit: frameGain');
  const T = frameGain.length;
  checkInt(T, 'temporalSplit: frameGain.length (frames)', 1);
  checkNumber(fadeMs, 'temporalSplit: fadeMs', 0, 1000);
  for (let j = 0; j < T; j++) checkNumber(frameGain[j], `temporalSplit: frameGain[${j}]`, 0, 1);
  const excerpt = excerptWaveform(source, ctx, T);
  const n = excerpt.length;
  const off = Math.floor((fe.nFft - fe.hop) / 2);
  const frameOf = (s: number) => Math.min(T - 1, Math.max(0, Math.floor((s - off) / fe.hop)));
  const gain = new Float32Array(n);
  for (let s = 0; s < n; s++) gain[s] = frameGain[frameOf(s)]!;
  const L = Math.round((fadeMs * fe.sampleRate) / 1000);
  if (L >= 2) {
    for (let j = 1; j < T; j++) {
      const gl = frameGain[j - 1]!;
      const gr = frameGain[j]!;
      if (gl === gr) continue;
      const b = fe.hop * j + off;
      const a0 = b - Math.floor(L / 2);
      for (let i = 0; i < L; i++) {
        const s = a0 + i;
        if (s < 0 || s >= n) continue;
        const r = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / L);
        gain[s] = gl * (1 - r) + gr * r;
      }
    }
  }
  const kept = new Float32Array(n);
  const rest = new Float32Array(n);
  for (let s = 0; s < n; s++) {
    kept[s] = excerpt[s]! * gain[s]!;
    rest[s] = excerpt[s]! * (1 - gain[s]!);
  }
  return { excerpt, kept, rest };
}

/**
 * Bin gains (length nBins) of one frame's band mask through a filterbank fb (nMels × nBinsUsed):
 * g_k = Σ_b fb[b,k]·m_b / Σ_b fb[b,k] clipped to [0, 1]; bins without filter weight (or
 * k ≥ nBinsUsed) take the mask of the band with the nearest filter centroid.
 */
export function bandMaskToBinGains(fb: Float32Array, nMels: number, nBinsUsed: number, nBins: number, mask: ArrayLike<number>): Float32Array {
  checkArray(fb, Float32Array, 'bandMaskToBinGains: fb', nMels * nBinsUsed);
  checkInt(nBins, 'bandMaskToBinGains: nBins', nBinsUsed);
  if (mask.length !== nMels) throw new EarshotError('BAD_SHAPE', `bandMaskToBinGains: mask must have nMels = ${nMels} values, got ${mask.length}`);
  const { centroid } = filterInfo(fb, nMels, nBinsUsed);
  const g = new Float32Array(nBins);
  for (let k = 0; k < nBins; k++) {
    let num = 0;
    let den = 0;
    if (k < nBinsUsed) {
      for (let b = 0; b < nMels; b++) {
        const w = fb[b * nBinsUsed + k]!;
        if (w !== 0) {
          num += w * mask[b]!;
          den += w;
        }
      }
    }
    if (den > 0) g[k] = Math.min(1, Math.max(0, num / den));
    else {
      let best = 0;
      for (let b = 1; b < nMels; b++) if (Math.abs(centroid[b]! - k) < Math.abs(centroid[best]! - k)) best = b;
      g[k] = Math.min(1, Math.max(0, mask[best]!));
    }
  }
  return g;
}

function filterInfo(fb: Float32Array, nMels: number, nBinsUsed: number): { centroid: Float64Array } {
  const centroid = new Float64Array(nMels);
  for (let b = 0; b < nMels; b++) {
    let s = 0;
    let m = 0;
    for (let k = 0; k < nBinsUsed; k++) {
      const w = fb[b * nBinsUsed + k]!;
      s += w;
      m += w * k;
    }
    centroid[b] = s > 0 ? m / s : Infinity;
  }
  return { centroid };
}

/** The front end's filterbank over its used bins (nMels × nBinsUsed). */
export function frontEndFilterbank(fe: FrontEndConfig): Float32Array {
  return melFilterbank({ sampleRate: fe.sampleRate, nFft: fe.nFft, nMels: fe.nMels, fMin: fe.fMin, fMax: fe.fMax, scale: fe.scale, construction: fe.construction, norm: fe.norm, nBinsUsed: fe.nBinsUsed });
}

/**
 * Spectral split: `bandMask` is T × nMels (row-major, frames = time) of kept gains in [0, 1];
 * kept = ISTFT(X·g), rest = ISTFT(X·(1 − g)) with the original phase (module comment).
 */
export function spectralSplit(source: Float32Array, ctx: ExcerptContext, bandMask: Float32Array, fb?: Float32Array): SplitAudio {
  const fe = ctx.frontEnd;
  checkArray(source, Float32Array, 'spectralSplit: source');
  checkArray(bandMask, Float32Array, 'spectralSplit: bandMask');
  const B = fe.nMels;
  if (bandMask.length === 0 || bandMask.length % B !== 0) throw new EarshotError('BAD_SHAPE', `spectralSplit: bandMask must be T × nMels (${B}) values, got ${bandMask.length}`);
  for (let i = 0; i < bandMask.length; i++) checkNumber(bandMask[i], `spectralSplit: bandMask[${i}]`, 0, 1);
  const T = bandMask.length / B;
  const filt = fb ?? frontEndFilterbank(fe);
  const nBins = fe.nFft / 2 + 1;
  const sp = excerptSpan(fe, ctx.centreFrame, T);
  const extHops = Math.ceil(fe.nFft / fe.hop);
  const E = extHops * fe.hop;
  const ext = sliceWithZeros(source, sp.start - E, sp.length + 2 * E);
  const opts: StftOptions = { nFft: fe.nFft, hopLength: fe.hop, winLength: fe.nFft, window: fe.window, periodic: !fe.symmetric, center: false };
  const X = stft(ext, { ...opts, output: 'complex' });
  const nFrames = X.nFrames; // T + 2·extHops
  const keptSpec = new Float32Array(X.data.length);
  const restSpec = new Float32Array(X.data.length);
  const cache = new Map<string, Float32Array>();
  for (let jj = 0; jj < nFrames; jj++) {
    const j = Math.min(T - 1, Math.max(0, jj - extHops));
    const row = bandMask.subarray(j * B, (j + 1) * B);
    const key = row.join(',');
    let g = cache.get(key);
    if (!g) {
      g = bandMaskToBinGains(filt, B, fe.nBinsUsed, nBins, row);
      cache.set(key, g);
    }
    const o = jj * 2 * nBins;
    for (let k = 0; k < nBins; k++) {
      const gk = g[k]!;
      const re = X.data[o + 2 * k]!;
      const im = X.data[o + 2 * k + 1]!;
      keptSpec[o + 2 * k] = re * gk;
      keptSpec[o + 2 * k + 1] = im * gk;
      restSpec[o + 2 * k] = re * (1 - gk);
      restSpec[o + 2 * k + 1] = im * (1 - gk);
    }
  }
  const inv = { ...opts, length: ext.length };
  const kept = istft({ data: keptSpec, nFrames, nBins }, inv).slice(E, E + sp.length);
  const rest = istft({ data: restSpec, nFrames, nBins }, inv).slice(E, E + sp.length);
  return { excerpt: ext.slice(E, E + sp.length), kept, rest };
}

export interface ListenOptions {
  /** Keep the top-k positive components (default params.topK or 3). */
  topK?: number;
  /** Keep exactly these components instead of the top-k. */
  components?: number[];
  /** Cross-fade length at temporal boundaries (default 5 ms). */
  fadeMs?: number;
  /** Force the STFT-mask path even for temporal components. */
  forceSpectral?: boolean;
}

export interface ListenableAudio extends SplitAudio {
  mode: 'temporal' | 'spectral';
  /** The components in `kept`. */
  components: number[];
  sampleRate: number;
  /** Source sample of the first excerpt sample. */
  start: number;
}

/** True when every frame of the label map belongs to a single component (temporal layout). */
export function isTemporalLayout(labels: Int32Array, T: number, F: number): boolean {
  for (let t = 0; t < T; t++) {
    const l = labels[t * F]!;
    for (let f = 1; f < F; f++) if (labels[t * F + f] !== l) return false;
  }
  return true;
}

/** The audio of the kept components (top-k positive by default) and of the rest. */
export function listenable(e: ExplanationView, source: Float32Array, ctx: ExcerptContext, options: ListenOptions = {}): ListenableAudio {
  const layout = e.components.layout;
  if (layout.kind !== 'spectrogram') throw new EarshotError('BAD_ARGUMENT', `listenable: needs a spectrogram layout, got '${layout.kind}' components`);
  const [T, F] = layout.shape;
  if (F !== ctx.frontEnd.nMels) throw new EarshotError('BAD_SHAPE', `listenable: the explanation has ${F} bands, the front end ${ctx.frontEnd.nMels}`);
  const d = e.components.d;
  let keep: number[];
  if (options.components) {
    keep = options.components.map((j, i) => checkInt(j, `listenable: components[${i}]`, 0, d - 1));
  } else {
    const k = checkInt(options.topK ?? (typeof e.params?.topK === 'number' ? e.params.topK : 3), 'listenable: topK', 0, d);
    keep = e.topPositive(k);
  }
  const inKeep = new Uint8Array(d);
  for (const j of keep) inKeep[j] = 1;
  const kept = (l: number) => (l >= 0 && inKeep[l] ? 1 : 0);
  const sp = excerptSpan(ctx.frontEnd, ctx.centreFrame, T);
  const base = { components: keep, sampleRate: ctx.frontEnd.sampleRate, start: sp.start };
  if (!options.forceSpectral && isTemporalLayout(layout.labels, T, F)) {
    const g = new Float32Array(T);
    for (let t = 0; t < T; t++) g[t] = kept(layout.labels[t * F]!);
    return { ...temporalSplit(source, ctx, g, options.fadeMs ?? 5), mode: 'temporal', ...base };
  }
  const m = new Float32Array(T * F);
  for (let i = 0; i < m.length; i++) m[i] = kept(layout.labels[i]!);
  return { ...spectralSplit(source, ctx, m), mode: 'spectral', ...base };
}
