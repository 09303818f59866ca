/**
 * audioLIME's interpretable components (Haunschmid, Manilow & Widmer 2020, "audioLIME: Listenable
 * Explanations Using Source Separation"; methods.md §5, conventions from the reference code
 * CPJKU/audioLIME): separated sources × temporal segments.
 *
 * - Temporal segments: by default one per second, at most 10 (⌊n / sr⌋ capped at 10); or a given
 *   count N; all of equal length ⌊n / N⌋ samples, the remainder at the end dropped (the explained
 *   input is N·⌊n / N⌋ samples long); or explicit boundaries b_0 < b_1 < … < b_N (seconds):
 *   segments [b_i, b_{i+1}), the input ends at b_N and audio before b_0 is never on.
 * - Component (source s, segment t) is source s restricted to segment t (zero elsewhere), named
 *   `${source}${t}` with t from 0 ("vocals3"), index t·S + s (segment-major, the reference's order).
 * - A sample's input is the sum of its "on" components in the waveform domain; all off is silence.
 */
import { EarshotError, checkArray, checkInt, checkNumber } from '../../../bindings/errors.ts';
import type { Components } from '../types.ts';

/** Default segmentation: one segment per second, at most this many. */
export const MAX_DEFAULT_SEGMENTS = 10;

export interface SegmentationSpec {
  /** N equal segments (remainder dropped). Default min(⌊seconds⌋, 10). */
  segments?: number;
  /** Explicit boundaries in seconds (N + 1 increasing values); excludes `segments`. */
  boundaries?: readonly number[];
}

export interface TemporalSegmentation {
  /** [start, end) in samples. */
  segments: Array<[number, number]>;
  /** Samples of the explained input (end of the last segment). */
  explainedLength: number;
  kind: 'default' | 'count' | 'boundaries';
}

/** The temporal segments of a signal of n samples at sampleRate (see the module comment). */
export function temporalSegments(n: number, sampleRate: number, spec: SegmentationSpec = {}): TemporalSegmentation {
  checkInt(n, 'signal length (samples)', 1);
  checkNumber(sampleRate, 'sampleRate', 1);
  if (spec === null || typeof spec !== 'object') throw new EarshotError('BAD_ARGUMENT', 'segmentation must be { segments } or { boundaries }');
  if (spec.segments !== undefined && spec.boundaries !== undefined) throw new EarshotError('BAD_ARGUMENT', 'give either segments (a count) or boundaries, not both');
  if (spec.boundaries !== undefined) {
    const b = spec.boundaries;
    if (!Array.isArray(b) || b.length < 2) throw new EarshotError('BAD_ARGUMENT', `boundaries must list at least 2 times in seconds (N + 1 for N segments), got ${JSON.stringify(b)}`);
    const dur = n / sampleRate;
    const samples = b.map((t, i) => {
      if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new EarshotError('BAD_ARGUMENT', `boundaries[${i}] must be a time ≥ 0 in seconds, got ${JSON.stringify(t)}`);
      if (t > dur + 1e-9) throw new EarshotError('BAD_ARGUMENT', `boundaries[${i}] = ${t} s is past the end of the audio (${dur.toFixed(3)} s)`);
      return Math.min(n, Math.round(t * sampleRate));
    });
    const segments: Array<[number, number]> = [];
    for (let i = 0; i + 1 < samples.length; i++) {
      if (!(samples[i + 1]! > samples[i]!)) throw new EarshotError('BAD_ARGUMENT', `boundaries must increase (by at least one sample): boundaries[${i}] = ${b[i]} s, boundaries[${i + 1}] = ${b[i + 1]} s`);
      segments.push([samples[i]!, samples[i + 1]!]);
    }
    return { segments, explainedLength: samples[samples.length - 1]!, kind: 'boundaries' };
  }
  let N: number;
  if (spec.segments !== undefined) N = checkInt(spec.segments, 'segments', 1, n);
  else {
    N = Math.min(Math.floor(n / sampleRate), MAX_DEFAULT_SEGMENTS);
    if (N < 1) {
      throw new EarshotError('TOO_SHORT', `the audio is ${(n / sampleRate).toFixed(3)} s long: the default segmentation (one segment per second) needs at least 1 s; give segments or boundaries`);
    }
  }
  const per = Math.floor(n / N);
  const segments: Array<[number, number]> = [];
  for (let t = 0; t < N; t++) segments.push([t * per, (t + 1) * per]);
  return { segments, explainedLength: N * per, kind: spec.segments !== undefined ? 'count' : 'default' };
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Separated sources that sum to the mixture (from `separate`, `loadStems` or the caller). */
export interface SourceSet {
  names: readonly string[];
  sources: readonly Float32Array[];
  sampleRate: number;
}

/** Validate a source set: names, equal lengths, finite samples. Returns the common length. */
export function checkSources(s: SourceSet): number {
  if (!s || typeof s !== 'object') throw new EarshotError('BAD_ARGUMENT', 'sources must be { names, sources, sampleRate }');
  if (!Array.isArray(s.names) || !Array.isArray(s.sources)) throw new EarshotError('BAD_ARGUMENT', 'sources must be { names: string[], sources: Float32Array[], sampleRate }');
  if (s.names.length === 0) throw new EarshotError('BAD_ARGUMENT', 'audioLIME needs at least one source');
  if (s.names.length !== s.sources.length) throw new EarshotError('BAD_ARGUMENT', `${s.names.length} source names for ${s.sources.length} source signals`);
  checkNumber(s.sampleRate, 'sources.sampleRate', 1);
  const seen = new Set<string>();
  let n = -1;
  s.names.forEach((name, i) => {
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw new EarshotError('BAD_ARGUMENT', `source name ${JSON.stringify(name)} must start with a letter and use only A–Z, a–z, 0–9, '_' and '-'`);
    if (seen.has(name)) throw new EarshotError('BAD_ARGUMENT', `source name '${name}' is used twice`);
    seen.add(name);
    const x = checkArray(s.sources[i], Float32Array, `source '${name}'`);
    if (n < 0) n = x.length;
    else if (x.length !== n) throw new EarshotError('BAD_SHAPE', `source '${name}' has ${x.length} samples, source '${s.names[0]}' has ${n}: sources must have equal lengths`);
    for (let k = 0; k < x.length; k++) {
      const v = x[k]!;
      if (v - v !== 0) throw new EarshotError('NOT_FINITE', `source '${name}' sample ${k} is ${v}; audio must be finite`);
    }
  });
  if (n === 0) throw new EarshotError('TOO_SHORT', 'the sources are empty');
  return n;
}

/** Sources × temporal segments of one clip: audioLIME's `Components`. */
export class SourceComponents implements Components {
  readonly d: number;
  readonly names: string[];
  readonly layout: { kind: 'sources'; sources: string[]; segments: Array<[number, number]>; sampleRate: number };
  readonly inputSize: number;
  readonly S: number;
  readonly N: number;
  readonly sources: readonly Float32Array[];
  readonly segmentation: TemporalSegmentation;

  constructor(src: SourceSet, spec: SegmentationSpec = {}) {
    const n = checkSources(src);
    this.segmentation = temporalSegments(n, src.sampleRate, spec);
    this.S = src.names.length;
    this.N = this.segmentation.segments.length;
    this.d = this.S * this.N;
    this.sources = src.sources;
    this.inputSize = this.segmentation.explainedLength;
    this.names = [];
    for (let t = 0; t < this.N; t++) for (let s = 0; s < this.S; s++) this.names.push(`${src.names[s]}${t}`);
    this.layout = { kind: 'sources', sources: [...src.names], segments: this.segmentation.segments.map(([a, b]) => [a, b] as [number, number]), sampleRate: src.sampleRate };
  }

  /** Component index of (source s, segment t). */
  index(s: number, t: number): number {
    return t * this.S + s;
  }
  sourceOf(j: number): number {
    return j % this.S;
  }
  segmentOf(j: number): number {
    return Math.floor(j / this.S);
  }

  /** The waveform of one bit row: Σ of its on components (inputSize samples) into `out` at `offset`. */
  waveform(bits: ArrayLike<number>, out: Float32Array = new Float32Array(this.inputSize), offset = 0): Float32Array {
    out.fill(0, offset, offset + this.inputSize);
    for (let t = 0; t < this.N; t++) {
      const [a, b] = this.segmentation.segments[t]!;
      for (let s = 0; s < this.S; s++) {
        if (!bits[t * this.S + s]) continue;
        const x = this.sources[s]!;
        for (let i = a; i < b; i++) out[offset + i] += x[i]!;
      }
    }
    return out;
  }

  compose(bits: Uint8Array, n: number, out: Float32Array): void {
    checkInt(n, 'n (rows)', 0);
    checkArray(bits, Uint8Array, 'bits', n * this.d);
    checkArray(out, Float32Array, 'out', n * this.inputSize);
    for (let r = 0; r < n; r++) this.waveform(bits.subarray(r * this.d, (r + 1) * this.d), out, r * this.inputSize);
  }

  dispose(): void {
    // nothing in the arena: the spectral path (spectral.ts) owns its own memory
  }
}
