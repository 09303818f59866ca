// A tiny Standard MIDI File (SMF, format 1) writer and a random instrumental-arrangement
// generator, used to render accompaniment beds with fluidsynth. The byte layout follows the
// "Standard MIDI-File Format Spec. 1.1" (MIDI Manufacturers Association): an "MThd" chunk
// (length 6: format, ntrks, division) and one "MTrk" chunk per track, each a list of
// (variable-length delta time, event) pairs ending with the End-of-Track meta event FF 2F 00.
import type { Rng } from './rng.ts';

/** One channel event or meta event at an absolute tick. */
export type MidiEvent =
  | { tick: number; kind: 'on'; channel: number; note: number; velocity: number }
  | { tick: number; kind: 'off'; channel: number; note: number }
  | { tick: number; kind: 'program'; channel: number; program: number }
  | { tick: number; kind: 'control'; channel: number; controller: number; value: number }
  | { tick: number; kind: 'tempo'; microsPerQuarter: number };

/** Variable-length quantity: 7 bits per byte, most significant first, continuation bit 0x80. */
export function vlq(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0x0fffffff) {
    throw new Error(`vlq: value must be an integer in [0, 0x0FFFFFFF], got ${value}`);
  }
  const bytes = [value & 0x7f];
  let v = value >>> 7;
  while (v > 0) {
    bytes.unshift((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  return bytes;
}

function u32be(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function checkByte(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Error(`midi: ${name} must be an integer in [0, ${max}], got ${v}`);
  return v;
}

function encodeEvent(e: MidiEvent): number[] {
  switch (e.kind) {
    case 'on':
      return [0x90 | checkByte('channel', e.channel, 15), checkByte('note', e.note, 127), checkByte('velocity', e.velocity, 127)];
    case 'off':
      return [0x80 | checkByte('channel', e.channel, 15), checkByte('note', e.note, 127), 0x40];
    case 'program':
      return [0xc0 | checkByte('channel', e.channel, 15), checkByte('program', e.program, 127)];
    case 'control':
      return [0xb0 | checkByte('channel', e.channel, 15), checkByte('controller', e.controller, 127), checkByte('value', e.value, 127)];
    case 'tempo': {
      const t = checkByte('microsPerQuarter', e.microsPerQuarter, 0xffffff);
      return [0xff, 0x51, 0x03, (t >>> 16) & 0xff, (t >>> 8) & 0xff, t & 0xff];
    }
  }
}

/**
 * Serialises tracks of absolute-tick events into an SMF (format 1, `ppq` ticks per quarter
 * note). Events are sorted stably by tick, note-offs before note-ons at the same tick (so a
 * repeated note is re-struck rather than cut).
 */
export function writeSmf(tracks: MidiEvent[][], ppq = 480): Uint8Array {
  if (!Number.isInteger(ppq) || ppq <= 0 || ppq > 0x7fff) throw new Error(`writeSmf: ppq must be in [1, 32767], got ${ppq}`);
  if (tracks.length === 0 || tracks.length > 0xffff) throw new Error(`writeSmf: need 1..65535 tracks, got ${tracks.length}`);
  const out: number[] = [0x4d, 0x54, 0x68, 0x64, ...u32be(6), 0x00, 0x01, (tracks.length >>> 8) & 0xff, tracks.length & 0xff, (ppq >>> 8) & 0xff, ppq & 0xff];
  for (const track of tracks) {
    const order = (e: MidiEvent): number => (e.kind === 'tempo' ? 0 : e.kind === 'program' || e.kind === 'control' ? 1 : e.kind === 'off' ? 2 : 3);
    const sorted = track
      .map((e, i) => ({ e, i }))
      .sort((a, b) => a.e.tick - b.e.tick || order(a.e) - order(b.e) || a.i - b.i)
      .map((x) => x.e);
    const body: number[] = [];
    let last = 0;
    for (const e of sorted) {
      if (!Number.isInteger(e.tick) || e.tick < 0) throw new Error(`writeSmf: event tick must be a non-negative integer, got ${e.tick}`);
      body.push(...vlq(e.tick - last), ...encodeEvent(e));
      last = e.tick;
    }
    body.push(0x00, 0xff, 0x2f, 0x00);
    out.push(0x4d, 0x54, 0x72, 0x6b, ...u32be(body.length), ...body);
  }
  return Uint8Array.from(out);
}

/** GM programs (0-based) that sound like voices: choir aahs, voice oohs, synth voice. */
export const VOICE_LIKE_PROGRAMS: readonly number[] = [52, 53, 54];

/** Description of one generated arrangement (kept in the manifest). */
export interface Arrangement {
  bpm: number;
  key: number;
  mode: 'major' | 'minor';
  chords: number[];
  programs: { chords: number; bass: number; lead: number | null };
  drums: boolean;
  bars: number;
}

const MAJOR = [0, 2, 4, 5, 7, 9, 11];
const MINOR = [0, 2, 3, 5, 7, 8, 10];
// Programs for the harmony part: pianos, chromatic percussion, organs, guitars, strings,
// ensembles (minus 52–54), brass, reeds, pipes, synth leads and pads (minus voice-like ones).
const CHORD_PROGRAMS = [0, 1, 2, 4, 5, 6, 7, 8, 11, 16, 17, 18, 19, 24, 25, 26, 27, 29, 30, 40, 41, 42, 44, 45, 46, 48, 49, 50, 51, 56, 57, 60, 61, 62, 64, 65, 68, 71, 73, 80, 81, 88, 89, 90, 92, 93, 94, 95];
const BASS_PROGRAMS = [32, 33, 34, 35, 36, 37, 38, 39, 42, 43, 58, 70];
const LEAD_PROGRAMS = [0, 11, 22, 24, 26, 40, 56, 57, 60, 64, 65, 66, 71, 72, 73, 74, 75, 79, 80, 81, 82, 84, 87];

/**
 * A random instrumental arrangement of about `seconds`: a 4-chord progression in a random key
 * and mode, block or arpeggiated chords, a bass line on roots and fifths, optional lead
 * melody (instrumental, non-voice programs only) and an optional GM drum kit on channel 10
 * (index 9). Returns the SMF bytes and its description.
 */
export function randomArrangement(rng: Rng, seconds: number): { smf: Uint8Array; info: Arrangement } {
  const ppq = 480;
  const bpm = rng.int(70, 150);
  const key = rng.int(0, 11);
  const mode = rng.chance(0.5) ? 'major' : 'minor';
  const scale = mode === 'major' ? MAJOR : MINOR;
  const degreeChoices = [0, 3, 4, 5, 1, 2];
  const chords = [0, ...Array.from({ length: 3 }, () => rng.pick(degreeChoices))];
  const barTicks = 4 * ppq;
  const bars = Math.max(1, Math.ceil((seconds * bpm) / 60 / 4));
  const programs = {
    chords: rng.pick(CHORD_PROGRAMS),
    bass: rng.pick(BASS_PROGRAMS),
    lead: rng.chance(0.55) ? rng.pick(LEAD_PROGRAMS) : null,
  };
  const drums = rng.chance(0.75);
  const arpeggio = rng.chance(0.4);
  const noteAt = (degree: number, octave: number): number => 12 * (octave + 1) + key + scale[((degree % 7) + 7) % 7]! + 12 * Math.floor(degree / 7);

  const meta: MidiEvent[] = [{ tick: 0, kind: 'tempo', microsPerQuarter: Math.round(60_000_000 / bpm) }];
  const harm: MidiEvent[] = [{ tick: 0, kind: 'program', channel: 0, program: programs.chords }];
  const bass: MidiEvent[] = [{ tick: 0, kind: 'program', channel: 1, program: programs.bass }];
  const lead: MidiEvent[] = [];
  const drum: MidiEvent[] = [];
  const note = (arr: MidiEvent[], ch: number, n: number, t0: number, dur: number, vel: number): void => {
    arr.push({ tick: t0, kind: 'on', channel: ch, note: n, velocity: vel }, { tick: t0 + dur, kind: 'off', channel: ch, note: n });
  };
  if (programs.lead !== null) lead.push({ tick: 0, kind: 'program', channel: 2, program: programs.lead });
  const bassPattern = rng.int(0, 2);
  const drumPattern = rng.int(0, 2);
  let leadDegree = rng.int(0, 6);
  for (let b = 0; b < bars; b++) {
    const deg = chords[b % chords.length]!;
    const t = b * barTicks;
    const triad = [deg, deg + 2, deg + 4].map((d) => noteAt(d, 4));
    if (arpeggio) {
      for (let s = 0; s < 8; s++) note(harm, 0, triad[[0, 1, 2, 1][s % 4]!]!, t + (s * ppq) / 2, ppq / 2, rng.int(60, 90));
    } else {
      for (const n of triad) note(harm, 0, n, t, barTicks - 10, rng.int(55, 85));
    }
    const root = noteAt(deg, 2);
    if (bassPattern === 0) note(bass, 1, root, t, barTicks - 10, 90);
    else if (bassPattern === 1) for (let q = 0; q < 4; q++) note(bass, 1, q % 2 === 0 ? root : root + 7, t + q * ppq, ppq - 20, rng.int(80, 100));
    else for (let e = 0; e < 8; e++) note(bass, 1, root, t + (e * ppq) / 2, ppq / 2 - 20, rng.int(75, 100));
    if (programs.lead !== null) {
      let pos = 0;
      while (pos < barTicks) {
        const dur = rng.pick([ppq / 2, ppq, ppq, 2 * ppq]);
        leadDegree = Math.max(-2, Math.min(9, leadDegree + rng.pick([-2, -1, -1, 0, 1, 1, 2])));
        if (rng.chance(0.85)) note(lead, 2, noteAt(leadDegree + deg, 5), t + pos, Math.min(dur, barTicks - pos) - 10, rng.int(70, 100));
        pos += dur;
      }
    }
    if (drums) {
      for (let e = 0; e < 8; e++) {
        const te = t + (e * ppq) / 2;
        note(drum, 9, drumPattern === 2 && e % 2 === 1 ? 46 : 42, te, 60, rng.int(50, 80));
        const kick = drumPattern === 0 ? e === 0 || e === 4 : drumPattern === 1 ? e === 0 || e === 3 || e === 5 : e % 2 === 0;
        if (kick) note(drum, 9, 36, te, 100, 100);
        if (e === 2 || e === 6) note(drum, 9, 38, te, 100, rng.int(85, 110));
      }
      if (b % 4 === 3) note(drum, 9, 49, t + barTicks - ppq / 2, 200, 90);
    }
  }
  const tracks = [meta, harm, bass];
  if (lead.length > 0) tracks.push(lead);
  if (drum.length > 0) tracks.push(drum);
  return { smf: writeSmf(tracks, ppq), info: { bpm, key, mode, chords, programs, drums, bars } };
}
