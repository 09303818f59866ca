/**
 * audioLIME's fast spectral path (methods.md §5): the model's front end applied to a sum of
 * waveform components without re-running the STFT per sample. The STFT is linear, so frame f
 * of Σ_{j on} c_j is Σ_{j on} STFT(c_j)[f]; each component's complex STFT is computed once
 * (only the frames it touches: a component is one source on one temporal segment) and a sample
 * costs one complex sum per frame over the few components that touch it, then |·|, the mel
 * filterbank, the log and the z-score (bindings/audiolime.ts, wasm). Equal to the slow path
 * (sum the waveforms, run the front end) to float rounding: tests/audiolime.test.ts checks
 * 1e-4 on the log-mel.
 *
 * A frame entirely inside segment t sees component (s, t) as source s itself, so its spectrum
 * is the source's own STFT frame; only the frames straddling a boundary need spectra of the
 * source cut at the boundary.
 */
import { SpectraSum } from '../../../bindings/audiolime.ts';
import { melFilterbank } from '../../../bindings/mel.ts';
import { stft } from '../../../bindings/stft.ts';
import { EarshotError } from '../../../bindings/errors.ts';
import type { FrontEndConfig } from '../../frontend/config.ts';
import type { BandStats } from '../../frontend/stats.ts';
import type { SourceComponents } from './components.ts';

/** Frames of the front end over the explained input, and which segments each frame touches. */
export interface FrameMap {
  nFrames: number;
  /** Segment range [lo, hi] touched by frame f (lo > hi: none). */
  segLo: Int32Array;
  segHi: Int32Array;
}

export function frameMap(c: SourceComponents, fe: FrontEndConfig): FrameMap {
  const n = c.inputSize;
  const nFrames = n < fe.nFft ? 0 : Math.floor((n - fe.nFft) / fe.hop) + 1;
  const segLo = new Int32Array(nFrames);
  const segHi = new Int32Array(nFrames);
  const segs = c.segmentation.segments;
  for (let f = 0; f < nFrames; f++) {
    const a = f * fe.hop;
    const b = a + fe.nFft;
    let lo = -1;
    let hi = -2;
    for (let t = 0; t < segs.length; t++) {
      const [s0, s1] = segs[t]!;
      if (s0 < b && s1 > a) {
        if (lo < 0) lo = t;
        hi = t;
      }
    }
    segLo[f] = lo < 0 ? 1 : lo;
    segHi[f] = lo < 0 ? 0 : hi;
  }
  return { nFrames, segLo, segHi };
}

/** The spectral composer: log-mel (z-scored) of any bit row, any frame range, without an STFT per row. */
export class SpectralComposer {
  readonly map: FrameMap;
  readonly nMels: number;
  private readonly sum: SpectraSum;

  constructor(readonly components: SourceComponents, readonly fe: FrontEndConfig, stats: BandStats | null) {
    const c = components;
    this.map = frameMap(c, fe);
    const { nFrames, segLo, segHi } = this.map;
    if (nFrames === 0) throw new EarshotError('TOO_SHORT', `the explained audio has ${c.inputSize} samples, fewer than one front-end frame (${fe.nFft})`);
    const nBins = fe.nBinsUsed;
    const opts = { nFft: fe.nFft, hopLength: fe.hop, winLength: fe.nFft, window: fe.window, periodic: !fe.symmetric, center: false, output: 'complex' as const, nBins };
    const segs = c.segmentation.segments;
    // every source's own STFT over the explained input (interleaved re, im)
    const full = c.sources.map((x) => stft(x.subarray(0, c.inputSize), opts).data);
    const frameStart = new Int32Array(nFrames + 1);
    const comps: number[] = [];
    const chunks: Float32Array[] = [];
    const frame = new Float32Array(fe.nFft);
    let E = 0;
    for (let f = 0; f < nFrames; f++) {
      frameStart[f] = E;
      const a = f * fe.hop;
      const b = a + fe.nFft;
      for (let t = segLo[f]!; t <= segHi[f]!; t++) {
        const [s0, s1] = segs[t]!;
        const inside = s0 <= a && s1 >= b;
        for (let s = 0; s < c.S; s++) {
          const spec = new Float32Array(2 * nBins);
          let src: Float32Array;
          if (inside) src = full[s]!.subarray(f * 2 * nBins, (f + 1) * 2 * nBins);
          else {
            const x = c.sources[s]!;
            for (let i = 0; i < fe.nFft; i++) {
              const k = a + i;
              frame[i] = k >= s0 && k < s1 ? x[k]! : 0;
            }
            src = stft(frame, opts).data;
          }
          for (let k = 0; k < nBins; k++) {
            spec[k] = src[2 * k]!;
            spec[nBins + k] = src[2 * k + 1]!;
          }
          chunks.push(spec);
          comps.push(c.index(s, t));
          E++;
        }
      }
    }
    frameStart[nFrames] = E;
    const spectra = new Float32Array(E * 2 * nBins);
    chunks.forEach((ch, e) => spectra.set(ch, e * 2 * nBins));
    const filterbank = melFilterbank({ sampleRate: fe.sampleRate, nFft: fe.nFft, nMels: fe.nMels, fMin: fe.fMin, fMax: fe.fMax, scale: fe.scale, construction: fe.construction, norm: fe.norm, nBinsUsed: nBins });
    this.nMels = fe.nMels;
    this.sum = new SpectraSum({
      components: c.d, nFrames, nBins, frameStart, entryComponent: Int32Array.from(comps), spectra, filterbank, nMels: fe.nMels,
      spectrum: fe.spectrum, logFloor: fe.logFloor, ...(stats ? { mean: stats.mean, std: stats.std } : {}),
    });
  }

  get nFrames(): number {
    return this.map.nFrames;
  }

  /** Log-mel (z-scored if stats were given) of frames f0 … f1 − 1 of the row's waveform sum. */
  logMel(bits: Uint8Array, f0 = 0, f1 = this.map.nFrames, out?: Float32Array): Float32Array {
    return this.sum.logMel(bits, f0, f1, out);
  }

  dispose(): void {
    this.sum.dispose();
  }
}
