/**
 * Audio I/O that runs anywhere (browsers included: no fs): WAV decoding and encoding, mono
 * mixdown and band-limited resampling. The front end expects mono float audio at 22 050 Hz
 * (methods.md §1); `loadMono` in ./node.ts chains these three for files on disk.
 */
import { EarshotError } from '../../bindings/errors.ts';
import { resampleRate, type ResampleOptions } from '../../bindings/resample.ts';

export { decodeWav, encodeWav, checkAudio } from './wav.ts';
export type { AudioData, DecodedWav, WavSampleFormat, WavEncodeFormat, EncodeWavOptions } from './wav.ts';
export { resamplePoly, resampleFilter, MAX_RESAMPLE_FACTOR } from '../../bindings/resample.ts';
export type { ResampleOptions } from '../../bindings/resample.ts';

/** The sample rate of the singing-voice front end (methods.md §1). */
export const DEFAULT_SAMPLE_RATE = 22050;

/**
 * Mono mixdown: the mean of the channels, sample by sample (so a mono file comes back as a
 * copy, and identical channels come back unchanged rather than louder).
 */
export function mixdown(channels: Float32Array[]): Float32Array {
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new EarshotError('BAD_ARGUMENT', `mixdown needs an array of at least one Float32Array channel, got ${Array.isArray(channels) ? 'an empty array' : channels === null ? 'null' : typeof channels}`);
  }
  const n = channels[0]?.length ?? 0;
  channels.forEach((ch, c) => {
    if (!(ch instanceof Float32Array)) throw new EarshotError('BAD_ARGUMENT', `channels[${c}] must be a Float32Array, got ${ch === null ? 'null' : (ch as object)?.constructor?.name ?? typeof ch}`);
    if (ch.length !== n) throw new EarshotError('BAD_SHAPE', `channels[${c}] has ${ch.length} samples but channels[0] has ${n}; all channels must have the same length`);
  });
  if (channels.length === 1) return channels[0]!.slice();
  // Accumulate in float64 so the mean of many channels does not lose the low bits.
  const acc = new Float64Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) acc[i] = acc[i]! + ch[i]!;
  const out = new Float32Array(n);
  const inv = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] = acc[i]! * inv;
  return out;
}

/**
 * Band-limited resampling from `fromRate` to `toRate` (positive integer Hz) with the filter and
 * edge convention of scipy.signal.resample_poly (Kaiser β = 5, 10 zero crossings a side);
 * ceil(n·toRate/fromRate) samples. Equal rates return a copy.
 */
export function resample(x: Float32Array, fromRate: number, toRate: number, opts?: ResampleOptions): Float32Array {
  return resampleRate(x, fromRate, toRate, opts);
}
