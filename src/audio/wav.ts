/**
 * WAV (RIFF/WAVE, RF64) decoding and encoding over plain bytes: no fs, safe in browsers.
 *
 * Method: the Microsoft RIFF/WAVE layout ("Multimedia Programming Interface and Data
 * Specifications 1.0", 1991; WAVEFORMATEXTENSIBLE, 1998; EBU Tech 3306 for RF64). Chunks are
 * walked in order, each padded to an even size; unknown chunks (LIST, fact, cue, bext, …) are
 * skipped. Samples are scaled to [-1, 1) by 2^(bits-1) (8-bit is unsigned, offset 128), the
 * convention of libsndfile, SoX and scipy's `wavfile` users, so PCM → float → PCM is lossless.
 *
 * Truncated files: when the data chunk declares more bytes than the file holds (an interrupted
 * download or recording), the complete frames that are present are decoded and the result has
 * `truncated: true` and a warning; only a file with no complete frame at all throws
 * `WAV_TRUNCATED`.
 */
import { EarshotError } from '../../bindings/errors.ts';

/** Audio as planar float channels (all of the same length), the currency of earshot's audio I/O. */
export interface AudioData {
  sampleRate: number;
  channels: Float32Array[];
}

/** Sample encodings the decoder understands ('pcm8' is unsigned). */
export type WavSampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export interface DecodedWav extends AudioData {
  /** The sample encoding found in the file. */
  format: WavSampleFormat;
  /** True when the data chunk was cut short and only the frames present were decoded. */
  truncated: boolean;
  /** Human-readable notes about tolerated defects (truncation, …). Empty for a clean file. */
  warnings: string[];
}

/** Encodings `encodeWav` can write. */
export type WavEncodeFormat = 'pcm16' | 'pcm24' | 'pcm32' | 'float32';
export interface EncodeWavOptions {
  format?: WavEncodeFormat;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** The tail shared by every KSDATAFORMAT_SUBTYPE_* GUID: xxxxxxxx-0000-0010-8000-00aa00389b71. */
const GUID_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** Format tags seen in the wild that earshot does not decode, named so the user knows what they have. */
const KNOWN_TAGS: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'μ-law',
  0x0011: 'IMA ADPCM',
  0x0016: 'ITU G.723 ADPCM',
  0x0031: 'GSM 6.10',
  0x0040: 'ITU G.721 ADPCM',
  0x0050: 'MPEG',
  0x0055: 'MPEG Layer 3 (MP3)',
  0x0092: 'Dolby AC-3 SPDIF',
  0x00ff: 'AAC',
  0x1610: 'HE-AAC',
  0x2000: 'Dolby AC-3',
  0xf1ac: 'FLAC',
};

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

function where(source?: string): string {
  return source ? `${source}: ` : '';
}

function fail(code: string, source: string | undefined, message: string): never {
  throw new EarshotError(code, `${where(source)}${message}`);
}

/** A hint for common non-WAV files handed to the WAV reader. */
function sniff(b: Uint8Array): string {
  const s4 = b.length >= 4 ? fourcc(b, 0) : '';
  if (s4 === 'fLaC') return ' (it looks like FLAC; convert it with `sox in.flac out.wav`)';
  if (s4 === 'OggS') return ' (it looks like Ogg; convert it with `sox in.ogg out.wav`)';
  if (s4 === 'FORM') return ' (it looks like AIFF; convert it with `sox in.aiff out.wav`)';
  if (s4.startsWith('ID3') || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0)) return ' (it looks like MP3; convert it with `sox in.mp3 out.wav` or ffmpeg)';
  return '';
}

interface Fmt {
  tag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function describeTag(tag: number): string {
  const name = KNOWN_TAGS[tag];
  return `${name ? `${name} ` : ''}(format tag 0x${tag.toString(16).padStart(4, '0')})`;
}

function parseFmt(b: Uint8Array, dv: DataView, at: number, size: number, source?: string): Fmt {
  if (size < 16) fail('WAV_CORRUPT', source, `fmt chunk is ${size} bytes, needs at least 16`);
  let tag = dv.getUint16(at, true);
  const channels = dv.getUint16(at + 2, true);
  const sampleRate = dv.getUint32(at + 4, true);
  const blockAlign = dv.getUint16(at + 12, true);
  const bits = dv.getUint16(at + 14, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) fail('WAV_CORRUPT', source, `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, needs 40`);
    // cbSize(2) validBits(2) channelMask(4) then the 16-byte subformat GUID at offset 24.
    const g = at + 24;
    for (let i = 0; i < 12; i++) {
      if (b[g + 4 + i] !== GUID_TAIL[i]) {
        const hex = Array.from(b.subarray(g, g + 16), (x) => x.toString(16).padStart(2, '0')).join('');
        fail('WAV_UNSUPPORTED_FORMAT', source, `WAVE_FORMAT_EXTENSIBLE with subformat GUID ${hex} is not supported (only PCM and IEEE float)`);
      }
    }
    tag = dv.getUint16(g, true) | (dv.getUint16(g + 2, true) << 16);
  }
  if (tag !== WAVE_FORMAT_PCM && tag !== WAVE_FORMAT_IEEE_FLOAT) {
    fail('WAV_UNSUPPORTED_FORMAT', source, `${describeTag(tag)} WAV is not supported; earshot reads PCM (8/16/24/32-bit) and IEEE float (32/64-bit). Convert it, e.g. \`sox in.wav -e signed -b 16 out.wav\``);
  }
  if (channels === 0) fail('WAV_CORRUPT', source, 'fmt chunk declares 0 channels');
  if (sampleRate === 0) fail('WAV_CORRUPT', source, 'fmt chunk declares a sample rate of 0 Hz');
  return { tag, channels, sampleRate, blockAlign, bits };
}

function sampleFormat(f: Fmt, source?: string): { format: WavSampleFormat; bytes: number } {
  const bytes = Math.ceil(f.bits / 8);
  let format: WavSampleFormat | null = null;
  if (f.tag === WAVE_FORMAT_PCM) {
    // Valid bits below the container size (12-bit in 16, 20-bit in 24) are left-justified,
    // so decoding by container size gives the right values.
    format = bytes === 1 ? 'pcm8' : bytes === 2 ? 'pcm16' : bytes === 3 ? 'pcm24' : bytes === 4 ? 'pcm32' : null;
  } else if (f.bits === 32) format = 'float32';
  else if (f.bits === 64) format = 'float64';
  if (!format || f.bits === 0) {
    fail('WAV_UNSUPPORTED_FORMAT', source, `${f.tag === WAVE_FORMAT_PCM ? 'PCM' : 'IEEE float'} with ${f.bits} bits per sample is not supported`);
  }
  if (f.blockAlign !== bytes * f.channels) {
    fail('WAV_CORRUPT', source, `block align is ${f.blockAlign} bytes but ${f.channels} channel(s) of ${f.bits}-bit samples need ${bytes * f.channels}`);
  }
  return { format, bytes };
}

/**
 * Decode a WAV file into planar float channels in [-1, 1).
 * @param bytes  the whole file
 * @param source a name for error messages (usually the path)
 * @throws EarshotError WAV_EMPTY, WAV_NOT_RIFF, WAV_TRUNCATED, WAV_CORRUPT, WAV_UNSUPPORTED_FORMAT
 */
export function decodeWav(bytes: Uint8Array, source?: string): DecodedWav {
  if (!(bytes instanceof Uint8Array)) {
    throw new EarshotError('BAD_ARGUMENT', `${where(source)}decodeWav expects a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const n = bytes.length;
  if (n === 0) fail('WAV_EMPTY', source, 'the file is empty (0 bytes)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = n >= 4 ? fourcc(bytes, 0) : '';
  if (magic !== 'RIFF' && magic !== 'RF64') {
    if (n < 4 && 'RIFF'.startsWith(String.fromCharCode(...bytes))) fail('WAV_TRUNCATED', source, `the file is only ${n} bytes, cut inside the RIFF header`);
    fail('WAV_NOT_RIFF', source, `not a WAV file: it starts with ${JSON.stringify(String.fromCharCode(...bytes.subarray(0, 4)))} instead of "RIFF"${sniff(bytes)}`);
  }
  if (n < 12) fail('WAV_TRUNCATED', source, `the file is only ${n} bytes, cut inside the RIFF header`);
  const form = fourcc(bytes, 8);
  if (form !== 'WAVE') fail('WAV_NOT_RIFF', source, `a RIFF file of type ${JSON.stringify(form)}, not "WAVE"`);

  let fmt: Fmt | null = null;
  let rf64DataSize: number | null = null;
  let pos = 12;
  while (pos + 8 <= n) {
    const id = fourcc(bytes, pos);
    let size = dv.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'ds64' && magic === 'RF64') {
      if (size < 24 || body + 24 > n) fail('WAV_TRUNCATED', source, 'RF64 ds64 chunk is cut short');
      // riffSize(8) dataSize(8) sampleCount(8): take the 64-bit data size.
      rf64DataSize = dv.getUint32(body + 8, true) + dv.getUint32(body + 12, true) * 2 ** 32;
    } else if (id === 'fmt ') {
      if (body + Math.min(size, 40) > n) fail('WAV_TRUNCATED', source, `the file ends inside the fmt chunk (at byte ${n})`);
      fmt = parseFmt(bytes, dv, body, size, source);
    } else if (id === 'data') {
      if (!fmt) fail('WAV_CORRUPT', source, 'the data chunk comes before any fmt chunk, so the sample format is unknown');
      if (size === 0xffffffff) size = rf64DataSize ?? n - body; // RF64, or a streamed writer that never patched the size
      const { format, bytes: bps } = sampleFormat(fmt, source);
      const available = n - body;
      const warnings: string[] = [];
      let dataBytes = size;
      let truncated = false;
      if (size > available) {
        dataBytes = available;
        truncated = true;
      }
      const frames = Math.floor(dataBytes / fmt.blockAlign);
      if (truncated) {
        if (frames === 0) fail('WAV_TRUNCATED', source, `the data chunk declares ${size} bytes but the file ends after ${available}: no complete sample frame`);
        warnings.push(`${where(source)}truncated: the data chunk declares ${size} bytes but only ${available} are present; decoded the first ${frames} frames (${(frames / fmt.sampleRate).toFixed(3)} s)`);
      }
      const channels = deinterleave(bytes.subarray(body, body + frames * fmt.blockAlign), fmt.channels, frames, format, bps);
      return { sampleRate: fmt.sampleRate, channels, format, truncated, warnings };
    }
    pos = body + size + (size & 1);
  }
  if (pos < n && pos + 8 > n) fail('WAV_TRUNCATED', source, `the file ends inside a chunk header (at byte ${n}) before any data chunk`);
  if (pos > n) fail('WAV_TRUNCATED', source, `the file ends (at byte ${n}) inside a chunk, before any data chunk`);
  if (!fmt) fail(n <= 12 ? 'WAV_TRUNCATED' : 'WAV_CORRUPT', source, 'no fmt chunk: the file has a RIFF/WAVE header but no sample format');
  fail('WAV_CORRUPT', source, 'no data chunk: the file has a sample format but no audio');
}

function deinterleave(raw: Uint8Array, nch: number, frames: number, format: WavSampleFormat, bps: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let c = 0; c < nch; c++) out.push(new Float32Array(frames));
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const stride = nch * bps;
  for (let c = 0; c < nch; c++) {
    const ch = out[c]!;
    let p = c * bps;
    switch (format) {
      case 'pcm8':
        for (let i = 0; i < frames; i++, p += stride) ch[i] = (raw[p]! - 128) / 128;
        break;
      case 'pcm16':
        for (let i = 0; i < frames; i++, p += stride) ch[i] = dv.getInt16(p, true) / 32768;
        break;
      case 'pcm24':
        for (let i = 0; i < frames; i++, p += stride) {
          const v = raw[p]! | (raw[p + 1]! << 8) | (raw[p + 2]! << 16);
          ch[i] = ((v << 8) >> 8) / 8388608;
        }
        break;
      case 'pcm32':
        for (let i = 0; i < frames; i++, p += stride) ch[i] = dv.getInt32(p, true) / 2147483648;
        break;
      case 'float32':
        for (let i = 0; i < frames; i++, p += stride) ch[i] = dv.getFloat32(p, true);
        break;
      case 'float64':
        for (let i = 0; i < frames; i++, p += stride) ch[i] = dv.getFloat64(p, true);
        break;
    }
  }
  return out;
}

/** Check that `audio` is well-formed AudioData; return its frame count. */
export function checkAudio(audio: unknown, name = 'audio'): number {
  const a = audio as AudioData;
  if (!a || typeof a !== 'object') throw new EarshotError('BAD_ARGUMENT', `${name} must be { sampleRate, channels }, got ${a === null ? 'null' : typeof a}`);
  if (typeof a.sampleRate !== 'number' || !Number.isInteger(a.sampleRate) || a.sampleRate < 1 || a.sampleRate > 0xffffffff) {
    throw new EarshotError('BAD_ARGUMENT', `${name}.sampleRate must be a positive integer (Hz), got ${String(a.sampleRate)}`);
  }
  if (!Array.isArray(a.channels) || a.channels.length === 0 || a.channels.length > 65535) {
    throw new EarshotError('BAD_ARGUMENT', `${name}.channels must be an array of 1–65535 Float32Arrays, got ${Array.isArray(a.channels) ? `${a.channels.length} channels` : typeof a.channels}`);
  }
  const len = a.channels[0]?.length;
  a.channels.forEach((ch, c) => {
    if (!(ch instanceof Float32Array)) throw new EarshotError('BAD_ARGUMENT', `${name}.channels[${c}] must be a Float32Array, got ${ch === null ? 'null' : (ch as object)?.constructor?.name ?? typeof ch}`);
    if (ch.length !== len) throw new EarshotError('BAD_SHAPE', `${name}.channels[${c}] has ${ch.length} samples but channels[0] has ${len}; all channels must have the same length`);
  });
  return len!;
}

const ENCODINGS: Record<WavEncodeFormat, { bits: number; tag: number }> = {
  pcm16: { bits: 16, tag: WAVE_FORMAT_PCM },
  pcm24: { bits: 24, tag: WAVE_FORMAT_PCM },
  pcm32: { bits: 32, tag: WAVE_FORMAT_PCM },
  float32: { bits: 32, tag: WAVE_FORMAT_IEEE_FLOAT },
};

/**
 * Encode planar float channels as a WAV file (plain WAVE_FORMAT_PCM / IEEE_FLOAT header, which
 * every reader accepts). PCM: x·2^(bits−1) rounded to nearest (ties away from zero), then
 * clipped to [−2^(bits−1), 2^(bits−1)−1], so full-scale +1.0 becomes the largest positive code.
 * float32 stores the values as they are (no clipping). NaN/±Infinity are rejected (NOT_FINITE).
 */
export function encodeWav(audio: AudioData, opts: EncodeWavOptions = {}): Uint8Array {
  const frames = checkAudio(audio);
  if (opts === null || typeof opts !== 'object') throw new EarshotError('BAD_ARGUMENT', `encodeWav options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  for (const k of Object.keys(opts)) {
    if (k !== 'format') throw new EarshotError('BAD_ARGUMENT', `unknown encodeWav option ${JSON.stringify(k)} (known: 'format')`);
  }
  const format = opts.format ?? 'pcm16';
  const enc = ENCODINGS[format as WavEncodeFormat];
  if (!enc || !Object.prototype.hasOwnProperty.call(ENCODINGS, format)) {
    throw new EarshotError('BAD_ARGUMENT', `format must be one of 'pcm16', 'pcm24', 'pcm32', 'float32', got ${JSON.stringify(format)}`);
  }
  const nch = audio.channels.length;
  const bps = enc.bits / 8;
  const blockAlign = nch * bps;
  const dataBytes = frames * blockAlign;
  const isFloat = enc.tag === WAVE_FORMAT_IEEE_FLOAT;
  // Non-PCM formats carry cbSize and a fact chunk (sample frames), as the spec asks.
  const fmtSize = isFloat ? 18 : 16;
  const factBytes = isFloat ? 12 : 0;
  const headerBytes = 12 + 8 + fmtSize + factBytes + 8;
  const total = headerBytes + dataBytes + (dataBytes & 1);
  if (total - 8 > 0xffffffff) {
    throw new EarshotError('WAV_TOO_LARGE', `${frames} frames × ${nch} channels of ${format} is ${dataBytes} bytes, over the 4 GiB limit of a RIFF WAV file; write shorter pieces`);
  }
  for (let c = 0; c < nch; c++) {
    const ch = audio.channels[c]!;
    for (let i = 0; i < frames; i++) {
      if (!Number.isFinite(ch[i]!)) throw new EarshotError('NOT_FINITE', `audio.channels[${c}][${i}] is ${ch[i]}; cannot write a non-finite sample`);
    }
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const put4 = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  put4(0, 'RIFF');
  dv.setUint32(4, total - 8, true);
  put4(8, 'WAVE');
  put4(12, 'fmt ');
  dv.setUint32(16, fmtSize, true);
  dv.setUint16(20, enc.tag, true);
  dv.setUint16(22, nch, true);
  dv.setUint32(24, audio.sampleRate, true);
  dv.setUint32(28, audio.sampleRate * blockAlign, true);
  dv.setUint16(32, blockAlign, true);
  dv.setUint16(34, enc.bits, true);
  let p = 20 + fmtSize;
  if (isFloat) {
    dv.setUint16(36, 0, true); // cbSize
    put4(p, 'fact');
    dv.setUint32(p + 4, 4, true);
    dv.setUint32(p + 8, frames, true);
    p += 12;
  }
  put4(p, 'data');
  dv.setUint32(p + 4, dataBytes, true);
  const d0 = p + 8;
  const full = 2 ** (enc.bits - 1);
  for (let c = 0; c < nch; c++) {
    const ch = audio.channels[c]!;
    let q = d0 + c * bps;
    if (isFloat) {
      for (let i = 0; i < frames; i++, q += blockAlign) dv.setFloat32(q, ch[i]!, true);
      continue;
    }
    for (let i = 0; i < frames; i++, q += blockAlign) {
      const s = ch[i]! * full;
      let v = s < 0 ? -Math.round(-s) : Math.round(s);
      if (v >= full) v = full - 1;
      else if (v < -full) v = -full;
      if (bps === 2) dv.setInt16(q, v, true);
      else if (bps === 4) dv.setInt32(q, v, true);
      else {
        out[q] = v & 0xff;
        out[q + 1] = (v >> 8) & 0xff;
        out[q + 2] = (v >> 16) & 0xff;
      }
    }
  }
  return out;
}
