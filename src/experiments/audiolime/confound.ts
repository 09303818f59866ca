/**
 * The confounded classifier of audioLIME's first validation (Haunschmid et al. 2020, Sec. 4.1:
 * "a classifier that was deliberately trained to confuse the true target with a spurious
 * signal"): a short tone pattern is added to the training mixtures exactly where they are
 * labelled "voice" and nowhere else, so the tone predicts the label perfectly and is far easier
 * to detect than a voice. A model trained on that data should answer "voice" because of the
 * tone; audioLIME, given the tone as a source of its own, must name it.
 *
 * This module builds the tone (a beep train gated by the frame labels) and the confounded
 * corpus songs (log-mel of mix + tone) for the existing trainer (src/model/train.ts); it leaves
 * the corpus files untouched.
 */
import { EarshotError, checkInt, checkNumber } from '../../../bindings/errors.ts';
import { loadMono } from '../../audio/node.ts';
import { FrontEnd } from '../../frontend/frontend.ts';
import type { Song, SongEntry } from '../../model/dataset.ts';
import { readFile } from 'node:fs/promises';

export interface SpuriousOptions {
  /** Tone frequency (Hz), default 3000 (above most sung fundamentals, inside the 8 kHz mel range). */
  frequency?: number;
  /** Beep length (ms), default 80. */
  beepMs?: number;
  /** One beep every periodMs (ms), default 250. */
  periodMs?: number;
  /** RMS of a sounding beep relative to the mixture's RMS (dB), default −6. */
  levelDb?: number;
}

export const SPURIOUS_DEFAULTS: Required<SpuriousOptions> = Object.freeze({ frequency: 3000, beepMs: 80, periodMs: 250, levelDb: -6 }) as Required<SpuriousOptions>;

/** Root-mean-square of a signal. */
export function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, x.length));
}

/**
 * The spurious tone for a clip of n samples: beeps of `frequency` Hz, `beepMs` long (5 ms
 * raised-cosine ramps) every `periodMs`, sounding only where the frame label (frame f covers
 * [hop·f, hop·f + nFft), the sample takes the label of the frame centred nearest to it) is 1.
 * `mixRms` scales it: a sounding beep has RMS mixRms·10^(levelDb/20).
 */
export function spuriousTone(labels: Uint8Array, n: number, sampleRate: number, hop: number, nFft: number, mixRms: number, options: SpuriousOptions = {}): Float32Array {
  checkInt(n, 'n (samples)', 1);
  const o = { ...SPURIOUS_DEFAULTS, ...options };
  checkNumber(o.frequency, 'frequency', 1, sampleRate / 2);
  checkNumber(o.beepMs, 'beepMs', 1);
  checkNumber(o.periodMs, 'periodMs', o.beepMs);
  checkNumber(mixRms, 'mixRms', 0);
  const amp = mixRms * 10 ** (o.levelDb / 20) * Math.SQRT2;
  const beep = Math.round((o.beepMs / 1000) * sampleRate);
  const period = Math.round((o.periodMs / 1000) * sampleRate);
  const ramp = Math.max(1, Math.round(0.005 * sampleRate));
  const out = new Float32Array(n);
  const w = (2 * Math.PI * o.frequency) / sampleRate;
  for (let i = 0; i < n; i++) {
    const f = Math.min(labels.length - 1, Math.max(0, Math.round((i - nFft / 2) / hop)));
    if (!labels[f]) continue;
    const k = i % period;
    if (k >= beep) continue;
    const edge = Math.min(k, beep - 1 - k);
    const env = edge >= ramp ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp);
    out[i] = amp * env * Math.sin(w * i);
  }
  return out;
}

/** Frame labels of a corpus song (labels.json). */
export async function readLabels(path: string): Promise<Uint8Array> {
  let j: { labels?: unknown };
  try {
    j = JSON.parse(await readFile(path, 'utf8')) as { labels?: unknown };
  } catch (e) {
    throw new EarshotError('CORPUS_CORRUPT', `${path}: cannot read the frame labels (${(e as Error).message})`);
  }
  if (!Array.isArray(j.labels)) throw new EarshotError('CORPUS_CORRUPT', `${path} has no "labels" array`);
  return Uint8Array.from(j.labels, (v) => (v ? 1 : 0));
}

/** One corpus song with the tone added where it is voiced: the mixture, the tone and the labels. */
export async function confoundedClip(e: SongEntry, fe: FrontEnd, options: SpuriousOptions = {}): Promise<{ mix: Float32Array; tone: Float32Array; labels: Uint8Array }> {
  const sr = fe.config.sampleRate;
  const mix = await loadMono(e.mix, sr, { onWarning: () => {} });
  const labels = await readLabels(e.labels);
  const tone = spuriousTone(labels, mix.length, sr, fe.config.hop, fe.config.nFft, rms(mix), options);
  const out = new Float32Array(mix.length);
  for (let i = 0; i < mix.length; i++) out[i] = mix[i]! + tone[i]!;
  return { mix: out, tone, labels };
}

/** Corpus songs whose mixtures carry the tone wherever they are voiced, ready for trainModel. */
export async function confoundedSongs(entries: SongEntry[], fe: FrontEnd, options: SpuriousOptions = {}, onProgress?: (done: number, total: number) => void): Promise<Song[]> {
  const out: Song[] = [];
  for (const [i, e] of entries.entries()) {
    const { mix, labels } = await confoundedClip(e, fe, options);
    const lm = fe.logMel(mix);
    if (lm.nFrames !== labels.length) throw new EarshotError('CORPUS_CORRUPT', `song ${e.id}: ${lm.nFrames} front-end frames but ${labels.length} labels`);
    out.push({ id: e.id, split: e.split, nFrames: lm.nFrames, nMels: lm.nMels, logMel: lm.data, accompaniment: null, labels });
    onProgress?.(i + 1, entries.length);
  }
  return out;
}
