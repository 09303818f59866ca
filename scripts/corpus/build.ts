// Builds earshot's singing-voice training corpus offline, reproducibly from one seed:
// synthetic singers (festival's singing mode on generated scores, espeak-ng with sung-like SSML
// prosody, pitch-shifted / vibrato variants with sox) placed over real and generated
// accompaniment (Sonic Pi samples, fluidsynth renders of generated MIDI, wesnoth music), with
// the aligned stems, frame labels on the front end's grid (methods.md §1) and a manifest.
// The ground-truth experiment of SLIME (methods.md §4) needs the aligned vocal and
// accompaniment stems, which is why they are kept. Usage:
//   node --import tsx scripts/corpus/build.ts --seed 1 --out corpus [--songs N] [--seconds S] [--jobs J]
import { mkdir, writeFile, rm } from 'node:fs/promises';
import { readdirSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve, relative } from 'node:path';
import { readWavFile, writeWavFile } from '../../src/audio/node.ts';
import { Rng } from './rng.ts';
import { randomArrangement, type Arrangement } from './midi.ts';
import { frameLabels, frameCount, labelRuns, HOP, FRAME_LENGTH } from './labels.ts';
import {
  FESTIVAL_VOICES, ESPEAK_LANGUAGES, EN_WORDS, SYLLABLES, SONICPI_EXCLUDE, WESNOTH_EXCLUDE, SPLITS, GAME_MUSIC, GAME_MUSIC_EXCLUDE,
  GM_SOUNDFONTS, parseEspeakVariants, sampleKind, splitItems, gameTrackId, type Split, type SampleKind, type EspeakVariant,
} from './sources.ts';
import { run, checkRequirements, toolVersions, SOUNDFONT, WESNOTH_MUSIC_DIR, SOX_OUT_22K_F32 } from './tools.ts';

const SR = 22050;
const SPLIT_FRACTIONS = { valid: 0.15, test: 0.15 };

// ---------------------------------------------------------------- options

interface Options {
  seed: number;
  out: string;
  songs: number;
  seconds: number;
  jobs: number;
  keepWork: boolean;
  /** Add the game soundtracks and the extra GM sound fonts (sources.ts) to the accompaniment. */
  gameMusic: boolean;
  /**
   * Label of the song streams (singers, phrases, mixes), or null for the default ('' or 'games:').
   * Another label gives other songs over the same source split, e.g. more test songs for a
   * corpus already built with the same seed.
   */
  stream: string | null;
  /** Render only the songs of this split (the others are planned, so the split's songs are the same). */
  onlySplit: Split | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seed: 1, out: 'corpus', songs: 180, seconds: 27, jobs: 2, keepWork: false, gameMusic: false, stream: null, onlySplit: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`corpus: ${a} needs a value`);
      return v;
    };
    const num = (name: string, min: number): number => {
      const s = val();
      const v = Number(s);
      if (!Number.isFinite(v) || v < min) throw new Error(`corpus: ${name} must be a number ≥ ${min}, got ${JSON.stringify(s)}`);
      return v;
    };
    if (a === '--seed') o.seed = Math.trunc(num('--seed', 0));
    else if (a === '--out') o.out = val();
    else if (a === '--songs') o.songs = Math.trunc(num('--songs', 3));
    else if (a === '--seconds') o.seconds = num('--seconds', 8);
    else if (a === '--jobs') o.jobs = Math.trunc(num('--jobs', 1));
    else if (a === '--keep-work') o.keepWork = true;
    else if (a === '--game-music') o.gameMusic = true;
    else if (a === '--stream') {
      const v = val();
      if (!/^[a-z0-9][a-z0-9-]*$/.test(v)) throw new Error(`corpus: --stream must be a label of lower-case letters, digits and '-', got ${JSON.stringify(v)}`);
      o.stream = v;
    } else if (a === '--only-split') {
      const v = val();
      if (!SPLITS.includes(v as Split)) throw new Error(`corpus: --only-split must be one of ${SPLITS.join(', ')}, got ${JSON.stringify(v)}`);
      o.onlySplit = v as Split;
    } else if (a === '--help' || a === '-h') {
      process.stderr.write('usage: node --import tsx scripts/corpus/build.ts [--seed 1] [--out corpus] [--songs 180] [--seconds 27] [--jobs 2] [--keep-work] [--game-music] [--stream <label>] [--only-split train|valid|test]\n');
      process.exit(0);
    } else throw new Error(`corpus: unknown option ${JSON.stringify(a)} (try --help)`);
  }
  return o;
}

// ---------------------------------------------------------------- plan types

interface Singer {
  id: string;
  engine: 'festival' | 'espeak';
  voice: string;
  lang: string;
  variant: string | null;
  sex: 'm' | 'f';
  espeakPitch: number | null;
  shiftCents: number;
  vibrato: { rateHz: number; cents: number } | null;
  tremolo: { rateHz: number; depth: number } | null;
  reverb: number | null;
}

interface Phrase {
  engine: 'festival' | 'espeak';
  markup: string;
  words: string[];
}

type Accomp =
  | { kind: 'midi'; seed: number; arrangement: Arrangement | null; soundfont?: string }
  | { kind: 'wesnoth'; track: string; start: number }
  | { kind: 'game'; track: string; start: number }
  | { kind: 'sonicpi'; bpm: number; loop: string | null; tonal: string[]; kick: string; snare: string; hat: string; perc: string | null };

interface SongPlan {
  id: string;
  index: number;
  split: Split;
  seconds: number;
  samples: number;
  singer: Singer | null;
  phrases: Phrase[];
  accomp: Accomp;
  extraLoop: { sample: string; gainDb: number } | null;
  vocalToAccompDb: number;
  mixRmsDb: number;
  detailSeed: number;
}

interface Pools {
  festival: Record<Split, typeof FESTIVAL_VOICES[number][]>;
  espeakLangs: Record<Split, string[]>;
  espeakVariants: Record<Split, EspeakVariant[]>;
  sonic: Record<SampleKind, Record<Split, string[]>>;
  wesnoth: Record<Split, string[]>;
  wesnothSeconds: Record<string, number>;
  /** Only in --game-music corpora. */
  games: Record<Split, string[]> | null;
  gameFiles: Record<string, { path: string; seconds: number }>;
}

// ---------------------------------------------------------------- planning (all randomness here or in forked streams)

const MAJOR = [0, 2, 4, 5, 7, 9, 11];
const MINOR = [0, 2, 3, 5, 7, 8, 10];

function degreeToSemis(scale: number[], d: number): number {
  return 12 * Math.floor(d / 7) + scale[((d % 7) + 7) % 7]!;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A festival SINGING score: one note per monosyllabic word, pitches given in Hz (FREQ). */
function festivalPhrase(rng: Rng, singer: Singer): Phrase {
  const scale = rng.chance(0.5) ? MAJOR : MINOR;
  // Sung tonic: male voices around A2–A3, female around G3–G4 (festival sings FREQ as written).
  const tonic = singer.sex === 'm' ? rng.int(43, 52) : rng.int(52, 60);
  const bpm = rng.int(55, 110);
  const n = rng.int(4, 10);
  const words = singer.lang === 'en' ? EN_WORDS : SYLLABLES;
  let deg = rng.int(0, 4);
  const parts: string[] = [];
  const used: string[] = [];
  for (let k = 0; k < n; k++) {
    deg = Math.max(-3, Math.min(9, deg + rng.pick([-2, -1, -1, 0, 1, 1, 2, 3, -3])));
    let hz = 440 * 2 ** ((tonic + degreeToSemis(scale, deg) - 69) / 12);
    // festival's diphone voices crash (SIGSEGV) on notes much above 450 Hz: fold them down an
    // octave; higher registers come from the sox pitch shift instead.
    while (hz > 450) hz /= 2;
    const beats = k === n - 1 ? rng.pick([2, 3, 4]) : rng.pick([0.5, 1, 1, 1, 1.5, 2, 2, 3]);
    const w = rng.pick(words);
    used.push(w);
    parts.push(`<DURATION BEATS="${beats}"><PITCH FREQ="${hz.toFixed(2)}">${xmlEscape(w)}</PITCH></DURATION>`);
    if (k < n - 1 && rng.chance(0.12)) parts.push(`<REST BEATS="${rng.pick([0.25, 0.5, 1])}"></REST>`);
  }
  const markup =
    '<?xml version="1.0"?>\n<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" "Singing.v0_1.dtd" []>\n' +
    `<SINGING BPM="${bpm}">\n${parts.join('\n')}\n</SINGING>\n`;
  return { engine: 'festival', markup, words: used };
}

/** espeak-ng SSML with a flattened intonation range, a slow rate and one pitch step per word: held, stepped notes. */
function espeakPhrase(rng: Rng, singer: Singer): Phrase {
  const scale = rng.chance(0.5) ? MAJOR : MINOR;
  const words = singer.lang.startsWith('en') ? EN_WORDS : SYLLABLES;
  const n = rng.int(3, 9);
  const rate = rng.int(25, 60);
  const range = rng.pick(['x-low', 'x-low', 'low']);
  let deg = rng.int(0, 3);
  const used: string[] = [];
  const parts: string[] = [];
  for (let k = 0; k < n; k++) {
    deg = Math.max(-3, Math.min(7, deg + rng.pick([-2, -1, 0, 1, 1, 2])));
    const pct = Math.round((2 ** (degreeToSemis(scale, deg) / 12) - 1) * 100);
    const w = rng.pick(words);
    used.push(w);
    // A slower rate on some words stretches their vowel, as a held note does.
    const wordRate = rng.chance(0.3) ? Math.max(15, Math.round(rate * 0.6)) : rate;
    parts.push(`<prosody pitch="${pct >= 0 ? '+' : ''}${pct}%" rate="${wordRate}%">${xmlEscape(w)}</prosody>`);
  }
  const markup = `<speak><prosody range="${range}">${parts.join(' ')}</prosody></speak>`;
  return { engine: 'espeak', markup, words: used };
}

function planSinger(rng: Rng, pools: Pools, split: Split): Singer {
  const vibrato = rng.chance(0.5) ? { rateHz: +rng.uniform(4.5, 6.5).toFixed(2), cents: rng.int(20, 60) } : null;
  const tremolo = rng.chance(0.3) ? { rateHz: +rng.uniform(4, 7).toFixed(2), depth: rng.int(10, 35) } : null;
  const reverb = rng.chance(0.35) ? rng.int(20, 70) : null;
  // Sex first (half and half), so every split has male and female singers; festival only
  // where the split has a festival voice of that sex.
  const sex: 'm' | 'f' = rng.chance(0.5) ? 'm' : 'f';
  const festivalPool = pools.festival[split].filter((v) => v.sex === sex);
  if (rng.chance(0.5) && festivalPool.length > 0) {
    const v = rng.pick(festivalPool);
    const shiftCents = v.sex === 'm' ? rng.int(-200, 900) : rng.int(-300, 500);
    return {
      id: `festival:${v.name}${shiftCents >= 0 ? '+' : ''}${shiftCents}c`, engine: 'festival', voice: v.name, lang: v.lang, variant: null, sex: v.sex,
      espeakPitch: null, shiftCents, vibrato, tremolo, reverb,
    };
  }
  const lang = rng.pick(pools.espeakLangs[split]);
  const variants = pools.espeakVariants[split].filter((v) => v.sex === sex);
  const variant = rng.pick(variants.length > 0 ? variants : pools.espeakVariants[split]);
  const espeakPitch = variant.sex === 'm' ? rng.int(25, 60) : rng.int(40, 80);
  const shiftCents = rng.int(-300, 400);
  return {
    id: `espeak:${lang}+${variant.file}@p${espeakPitch}${shiftCents >= 0 ? '+' : ''}${shiftCents}c`, engine: 'espeak', voice: `${lang}+${variant.file}`, lang,
    variant: variant.file, sex: variant.sex, espeakPitch, shiftCents, vibrato, tremolo, reverb,
  };
}

/** A random excerpt of `seconds` from one of `tracks` long enough for it (lengths in `lengthOf`). */
function pickExcerpt(rng: Rng, tracks: string[], lengthOf: (t: string) => number, seconds: number): { track: string; start: number } {
  const track = rng.pick(tracks.filter((t) => lengthOf(t) > seconds + 2));
  return { track, start: +rng.uniform(0, lengthOf(track) - seconds - 1).toFixed(3) };
}

function planAccomp(rng: Rng, pools: Pools, split: Split, seconds: number): Accomp {
  const r = rng.next();
  // Upper bounds of r for MIDI, game tracks and wesnoth; Sonic Pi beds take the rest.
  // Default: 40 / 0 / 30 / 30 %; --game-music: 30 / 30 / 15 / 25 %, MIDI on a drawn sound font.
  const games = pools.games;
  const [midi, game, wesnoth] = games ? [0.3, 0.6, 0.75] : [0.4, 0.4, 0.7];
  if (r < midi) return { kind: 'midi', seed: rng.nextU32(), arrangement: null, ...(games ? { soundfont: rng.pick(GM_SOUNDFONTS).path } : {}) };
  if (r < game) return { kind: 'game', ...pickExcerpt(rng, games![split], (t) => pools.gameFiles[t]!.seconds, seconds) };
  if (r < wesnoth) return { kind: 'wesnoth', ...pickExcerpt(rng, pools.wesnoth[split], (t) => pools.wesnothSeconds[t]!, seconds) };
  const s = pools.sonic;
  const tonalCount = rng.int(1, 2);
  const tonal: string[] = [];
  for (let k = 0; k < tonalCount; k++) tonal.push(rng.pick(s.tonal[split]));
  return {
    kind: 'sonicpi', bpm: rng.int(80, 140), loop: rng.chance(0.7) ? rng.pick(s.loop[split]) : null, tonal,
    kick: rng.pick(s.kick[split]), snare: rng.pick(s.snare[split]), hat: rng.pick(s.hat[split]),
    perc: rng.chance(0.5) ? rng.pick(s.perc[split]) : null,
  };
}

function makePlan(opts: Options, pools: Pools, root: Rng): SongPlan[] {
  const n = opts.songs;
  // A --game-music corpus draws its songs from other streams, so that it does not repeat the
  // singers and phrases of a default corpus built with the same seed (its source split, drawn
  // from 'source-splits', is the same, which is what makes a union of the two sound).
  const tag = opts.stream !== null ? `${opts.stream}:` : opts.gameMusic ? 'games:' : '';
  const order = root.fork(`${tag}song-splits`).shuffle(Array.from({ length: n }, (_, i) => i));
  const nTest = Math.max(1, Math.round(n * SPLIT_FRACTIONS.test));
  const nValid = Math.max(1, Math.round(n * SPLIT_FRACTIONS.valid));
  const splitOf = new Array<Split>(n);
  const instrumental = new Array<boolean>(n).fill(false);
  order.forEach((songIndex, k) => {
    splitOf[songIndex] = k < nTest ? 'test' : k < nTest + nValid ? 'valid' : 'train';
    // Every 10th song of each split has no vocals (so every split has instrumental songs).
    const rank = k < nTest ? k : k < nTest + nValid ? k - nTest : k - nTest - nValid;
    instrumental[songIndex] = rank % 10 === 9;
  });
  const plans: SongPlan[] = [];
  for (let i = 0; i < n; i++) {
    const id = `song-${String(i + 1).padStart(4, '0')}`;
    const rng = root.fork(tag + id);
    const split = splitOf[i]!;
    const seconds = +rng.uniform(0.75 * opts.seconds, 1.25 * opts.seconds).toFixed(3);
    const hasVocals = !instrumental[i];
    const singer = hasVocals ? planSinger(rng, pools, split) : null;
    const phrases: Phrase[] = [];
    if (singer) {
      const count = Math.ceil(seconds / 3) + 2;
      for (let k = 0; k < count; k++) phrases.push(singer.engine === 'festival' ? festivalPhrase(rng, singer) : espeakPhrase(rng, singer));
    }
    const accomp = planAccomp(rng, pools, split, seconds);
    const extraLoop = accomp.kind !== 'sonicpi' && rng.chance(0.25) ? { sample: rng.pick(pools.sonic.loop[split]), gainDb: rng.int(-14, -4) } : null;
    plans.push({
      id, index: i, split, seconds, samples: Math.round(seconds * SR), singer, phrases, accomp, extraLoop,
      vocalToAccompDb: +rng.uniform(-6, 9).toFixed(2), mixRmsDb: +rng.uniform(-28, -14).toFixed(2), detailSeed: rng.nextU32(),
    });
  }
  return plans;
}

// ---------------------------------------------------------------- audio helpers

async function readMono22k(path: string): Promise<Float32Array> {
  const w = await readWavFile(path);
  if (w.sampleRate !== SR || w.channels.length !== 1) throw new Error(`corpus: ${path} is ${w.sampleRate} Hz × ${w.channels.length} channels, expected 22050 Hz mono`);
  return w.channels[0]!;
}

/** Converts any audio file sox reads to 22 050 Hz mono float32 WAV, with optional extra effects. */
async function soxTo22k(input: string, output: string, effects: string[] = [], inputOpts: string[] = []): Promise<void> {
  await run('sox', ['-R', '-V1', ...inputOpts, input, ...SOX_OUT_22K_F32, output, ...effects]);
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
}

function peak(x: Float32Array): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) p = Math.max(p, Math.abs(x[i]!));
  return p;
}

/** Drops leading and trailing samples below 0.1 % of the peak (the synthesisers pad with silence). */
function trimSilence(x: Float32Array): Float32Array {
  const thr = peak(x) * 1e-3;
  let a = 0;
  let b = x.length;
  while (a < b && Math.abs(x[a]!) <= thr) a++;
  while (b > a && Math.abs(x[b - 1]!) <= thr) b--;
  return x.slice(a, b);
}

function addInto(dst: Float32Array, src: Float32Array, at: number, gain: number): void {
  const end = Math.min(dst.length, at + src.length);
  for (let i = Math.max(0, at); i < end; i++) dst[i] = dst[i]! + gain * src[i - at]!;
}

function dbToGain(db: number): number {
  return 10 ** (db / 20);
}

// ---------------------------------------------------------------- Sonic Pi samples

const sonicDir = join(dirname(createRequire(import.meta.url).resolve('supersonic-scsynth-samples/package.json')), 'samples');
const sampleCache = new Map<string, Promise<Float32Array>>();

function sonicSample(name: string, cacheDir: string): Promise<Float32Array> {
  let p = sampleCache.get(name);
  if (!p) {
    p = (async () => {
      const out = join(cacheDir, `${name}.wav`);
      if (!existsSync(out)) {
        await mkdir(cacheDir, { recursive: true });
        const tmp = join(cacheDir, `.${name}.${process.pid}.wav`);
        await soxTo22k(join(sonicDir, `${name}.flac`), tmp);
        await run('mv', [tmp, out]);
      }
      const x = await readMono22k(out);
      const pk = peak(x);
      return pk > 0 ? x.map((v) => (0.5 * v) / pk) : x;
    })();
    sampleCache.set(name, p);
  }
  return p;
}

/** A bed from Sonic Pi samples: a tiled loop, tonal layers at random times, and a drum pattern from one-shots. */
async function sonicBed(a: Extract<Accomp, { kind: 'sonicpi' }>, n: number, rng: Rng, cacheDir: string): Promise<Float32Array> {
  const out = new Float32Array(n);
  const eighth = Math.round((60 / a.bpm / 2) * SR);
  if (a.loop) {
    const x = await sonicSample(a.loop, cacheDir);
    const g = dbToGain(rng.uniform(-6, 0));
    for (let t = 0; t < n; t += x.length) addInto(out, x, t, g);
  }
  for (const name of a.tonal) {
    const x = await sonicSample(name, cacheDir);
    const g = dbToGain(rng.uniform(-8, 0));
    let t = rng.int(0, 8 * eighth);
    while (t < n) {
      addInto(out, x, t, g);
      t += Math.max(x.length, 2 * eighth) + rng.int(0, 8) * eighth;
    }
  }
  const [kick, snare, hat] = await Promise.all([sonicSample(a.kick, cacheDir), sonicSample(a.snare, cacheDir), sonicSample(a.hat, cacheDir)]);
  const perc = a.perc ? await sonicSample(a.perc, cacheDir) : null;
  const pattern = rng.int(0, 2);
  const drumGain = dbToGain(rng.uniform(-6, 0));
  for (let e = 0, t = 0; t < n; e++, t += eighth) {
    const pos = e % 8;
    const isKick = pattern === 0 ? pos === 0 || pos === 4 : pattern === 1 ? pos === 0 || pos === 3 || pos === 5 : pos % 2 === 0;
    if (isKick) addInto(out, kick, t, drumGain);
    if (pos === 2 || pos === 6) addInto(out, snare, t, drumGain * 0.9);
    if (rng.chance(0.85)) addInto(out, hat, t, drumGain * rng.uniform(0.3, 0.6));
    if (perc && rng.chance(0.15)) addInto(out, perc, t, drumGain * rng.uniform(0.3, 0.8));
  }
  return out;
}

// ---------------------------------------------------------------- rendering one song

function vibratoBends(seconds: number, rateHz: number, cents: number): string[] {
  // sox `bend` takes "delay,cents,duration" segments, each starting where the previous ended:
  // alternate ±2·depth over half periods after an initial +depth to get a sine-like vibrato.
  const half = +(0.5 / rateHz).toFixed(4);
  const segs: string[] = [`0,${cents},${(half / 2).toFixed(4)}`];
  let t = half / 2;
  let sign = -1;
  while (t + half < seconds) {
    segs.push(`0,${sign * 2 * cents},${half.toFixed(4)}`);
    t += half;
    sign = -sign;
  }
  return segs;
}

async function renderPhrase(song: SongPlan, singer: Singer, phrase: Phrase, k: number, work: string): Promise<Float32Array> {
  const raw = join(work, `phrase${k}.raw.wav`);
  const out = join(work, `phrase${k}.wav`);
  if (phrase.engine === 'festival') {
    const xml = join(work, `phrase${k}.xml`);
    await writeFile(xml, phrase.markup);
    try {
      await run('text2wave', ['-mode', 'singing', xml, '-eval', `(voice_${singer.voice})`, '-o', raw], { timeoutMs: 120_000 });
    } catch (e) {
      // Deterministic failures (festival crashes on some pitch/phone combinations): the
      // phrase is skipped, identically in every build with this seed.
      process.stderr.write(`corpus: ${song.id} phrase ${k}: festival failed, phrase skipped (${(e as Error).message.split('\n')[0]!.slice(0, 160)})\n`);
      return new Float32Array(0);
    }
  } else {
    const ssml = join(work, `phrase${k}.ssml`);
    await writeFile(ssml, phrase.markup);
    await run('espeak-ng', ['-m', '-v', singer.voice, '-p', String(singer.espeakPitch), '-w', raw, '-f', ssml]);
  }
  const dur = Number((await run('soxi', ['-D', raw])).trim());
  // Headroom first: sox effects work on 32-bit integers and would clip the pitch-shifted peaks.
  const fx: string[] = ['gain', '-6'];
  if (singer.shiftCents !== 0) fx.push('pitch', String(singer.shiftCents));
  if (singer.vibrato && dur > 0.3) fx.push('bend', '-f', '25', '-o', '16', ...vibratoBends(dur, singer.vibrato.rateHz, singer.vibrato.cents));
  if (singer.tremolo) fx.push('tremolo', String(singer.tremolo.rateHz), String(singer.tremolo.depth));
  if (singer.reverb !== null) fx.push('pad', '0', '1.5', 'reverb', String(singer.reverb));
  fx.push('norm', '-3');
  await soxTo22k(raw, out, fx);
  return trimSilence(await readMono22k(out));
}

async function renderAccomp(song: SongPlan, work: string, cacheDir: string, gameFiles: Pools['gameFiles'], rng: Rng): Promise<{ audio: Float32Array; sources: string[]; detail: unknown }> {
  const n = song.samples;
  const a = song.accomp;
  let audio: Float32Array;
  let sources: string[];
  let detail: unknown;
  if (a.kind === 'midi') {
    const { smf, info } = randomArrangement(new Rng(a.seed), song.seconds + 1);
    const mid = join(work, 'accomp.mid');
    const raw = join(work, 'accomp.raw.wav');
    await writeFile(mid, smf);
    await run('fluidsynth', ['-n', '-i', '-q', '-g', '0.5', '-r', String(SR), '-F', raw, a.soundfont ?? SOUNDFONT, mid]);
    const conv = join(work, 'accomp.wav');
    await soxTo22k(raw, conv, ['trim', '0', String(song.seconds)]);
    audio = await readMono22k(conv);
    sources = [`midi:${a.seed}`];
    detail = { ...a, arrangement: info };
  } else if (a.kind === 'wesnoth') {
    const conv = join(work, 'accomp.wav');
    await soxTo22k(join(WESNOTH_MUSIC_DIR, `${a.track}.ogg`), conv, ['trim', String(a.start), String(song.seconds)]);
    audio = await readMono22k(conv);
    sources = [`wesnoth:${a.track}`];
    detail = a;
  } else if (a.kind === 'game') {
    const conv = join(work, 'accomp.wav');
    const file = gameFiles[a.track];
    if (!file) throw new Error(`corpus: ${song.id}: game track ${a.track} is not in the pool`);
    await soxTo22k(file.path, conv, ['trim', String(a.start), String(song.seconds)]);
    audio = await readMono22k(conv);
    sources = [`game:${a.track}`];
    detail = a;
  } else {
    audio = await sonicBed(a, n, rng.fork('bed'), cacheDir);
    sources = [a.loop, ...a.tonal, a.kick, a.snare, a.hat, a.perc].filter((s): s is string => s !== null).map((s) => `sonicpi:${s}`);
    detail = a;
  }
  const fitted = new Float32Array(n);
  fitted.set(audio.subarray(0, n));
  if (song.extraLoop) {
    const x = await sonicSample(song.extraLoop.sample, cacheDir);
    const level = rms(fitted) / Math.max(1e-6, rms(x));
    const g = Math.min(4, level) * dbToGain(song.extraLoop.gainDb);
    for (let t = 0; t < n; t += x.length) addInto(fitted, x, t, g);
    sources.push(`sonicpi:${song.extraLoop.sample}`);
  }
  return { audio: fitted, sources, detail };
}

interface SongResult {
  id: string;
  split: Split;
  seconds: number;
  samples: number;
  frames: number;
  voicedFrames: number;
  voicedFraction: number;
  files: { mix: string; vocals: string; accompaniment: string; labels: string };
  singer: Singer | null;
  phrases: Array<{ start: number; end: number; words: string[] }>;
  accompaniment: { kind: string; sources: string[]; detail: unknown };
  vocalToAccompDb: number | null;
  mixRmsDb: number;
  scale: number;
}

async function buildSong(song: SongPlan, outDir: string, cacheDir: string, gameFiles: Pools['gameFiles'], keepWork: boolean): Promise<SongResult> {
  // Placement and bed details depend on rendered lengths, so they are drawn here, from a stream seeded by the plan.
  const rng = new Rng(song.detailSeed);
  const songDir = join(outDir, song.split, song.id);
  const work = join(outDir, '.work', song.id);
  await mkdir(songDir, { recursive: true });
  await mkdir(work, { recursive: true });
  const n = song.samples;
  const acc = await renderAccomp(song, work, cacheDir, gameFiles, rng);
  const accompaniment = acc.audio;
  const vocals = new Float32Array(n);
  const placed: SongResult['phrases'] = [];
  if (song.singer) {
    const placeRng = rng.fork('place');
    let pos = Math.round(placeRng.uniform(0, 3) * SR);
    for (let k = 0; k < song.phrases.length; k++) {
      // Less than a second left: no phrase fits, so the rest are not rendered.
      if (pos > n - Math.round(1.2 * SR)) break;
      const x = await renderPhrase(song, song.singer, song.phrases[k]!, k, work);
      if (x.length === 0) continue;
      // A phrase that no longer fits is skipped; a later, shorter one may still fit.
      if (pos + x.length > n - Math.round(0.2 * SR)) continue;
      addInto(vocals, x, pos, 1);
      placed.push({ start: +(pos / SR).toFixed(4), end: +((pos + x.length) / SR).toFixed(4), words: song.phrases[k]!.words });
      pos += x.length + Math.round(placeRng.uniform(0.4, 4) * SR);
    }
  }
  // Levels: vocal-to-accompaniment ratio measured over the sung stretches, then one overall
  // gain for both stems (so the mix stays their exact sum) towards the drawn loudness, capped
  // to keep the peak below 0.98.
  const accRms = Math.max(1e-5, rms(accompaniment));
  let vocalGain = 0;
  if (placed.length > 0) {
    let s = 0;
    let cnt = 0;
    for (const p of placed) {
      const a = Math.round(p.start * SR);
      const b = Math.round(p.end * SR);
      for (let i = a; i < b; i++) s += vocals[i]! * vocals[i]!;
      cnt += b - a;
    }
    const vRms = Math.sqrt(s / Math.max(1, cnt));
    vocalGain = vRms > 0 ? (accRms * dbToGain(song.vocalToAccompDb)) / vRms : 0;
  }
  const mix = new Float32Array(n);
  for (let i = 0; i < n; i++) mix[i] = vocalGain * vocals[i]! + accompaniment[i]!;
  let scale = dbToGain(song.mixRmsDb) / Math.max(1e-9, rms(mix));
  const pk = peak(mix) * scale;
  if (pk > 0.98) scale *= 0.98 / pk;
  for (let i = 0; i < n; i++) {
    vocals[i] = Math.fround(vocalGain * scale * vocals[i]!);
    accompaniment[i] = Math.fround(scale * accompaniment[i]!);
    mix[i] = vocals[i]! + accompaniment[i]!; // float32 sum of the float32 stems: mix == vocals + accompaniment exactly
  }
  const labels = frameLabels(vocals);
  const voiced = labels.reduce((s, v) => s + v, 0);
  const files = { mix: 'mix.wav', vocals: 'vocals.wav', accompaniment: 'accompaniment.wav', labels: 'labels.json' };
  await writeWavFile(join(songDir, files.mix), { sampleRate: SR, channels: [mix] }, { format: 'float32' });
  await writeWavFile(join(songDir, files.vocals), { sampleRate: SR, channels: [vocals] }, { format: 'float32' });
  await writeWavFile(join(songDir, files.accompaniment), { sampleRate: SR, channels: [accompaniment] }, { format: 'float32' });
  const runs = labelRuns(labels).map(([a, b]) => [+((a * HOP) / SR).toFixed(4), +(((b - 1) * HOP + FRAME_LENGTH) / SR).toFixed(4)]);
  await writeFile(
    join(songDir, files.labels),
    JSON.stringify({
      sampleRate: SR, frameLength: FRAME_LENGTH, hop: HOP, centred: false, frames: labels.length,
      rule: 'frame mean square of vocals.wav >= median active-frame mean square - 25 dB; gaps <= 7 frames closed',
      voicedFraction: labels.length ? voiced / labels.length : 0,
      phrases: placed.map((p) => [p.start, p.end]), voicedSegments: runs, labels: Array.from(labels),
    }) + '\n',
  );
  if (!keepWork) await rm(work, { recursive: true, force: true });
  const rel = (f: string): string => relative(outDir, join(songDir, f));
  return {
    id: song.id, split: song.split, seconds: song.seconds, samples: n, frames: labels.length, voicedFrames: voiced,
    voicedFraction: labels.length ? +(voiced / labels.length).toFixed(4) : 0,
    files: { mix: rel(files.mix), vocals: rel(files.vocals), accompaniment: rel(files.accompaniment), labels: rel(files.labels) },
    singer: song.singer, phrases: placed,
    accompaniment: { kind: song.accomp.kind, sources: acc.sources, detail: acc.detail },
    vocalToAccompDb: placed.length > 0 ? song.vocalToAccompDb : null, mixRmsDb: song.mixRmsDb, scale: +scale.toPrecision(6),
  };
}

// ---------------------------------------------------------------- pools and main

function listAudio(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listAudio(p));
    else if (/\.(ogg|opus)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

/**
 * Every usable game track with the file sox reads and its length: Ogg as packaged, Opus decoded
 * once to 48 kHz WAV in `cacheDir` (sox 14.4 has no Opus reader).
 */
function gameMusicPool(cacheDir: string): Record<string, { path: string; seconds: number }> {
  const pool: Record<string, { path: string; seconds: number }> = {};
  mkdirSync(cacheDir, { recursive: true });
  for (const set of GAME_MUSIC) {
    for (const path of listAudio(set.dir)) {
      const id = gameTrackId(set, path);
      if (GAME_MUSIC_EXCLUDE.has(id)) continue;
      let file = path;
      if (path.endsWith('.opus')) {
        file = join(cacheDir, `${id.replace(/[^A-Za-z0-9._-]+/g, '_')}.wav`);
        if (!existsSync(file)) {
          const tmp = `${file}.${process.pid}.tmp.wav`;
          const r = spawnSync('opusdec', ['--quiet', '--rate', '48000', path, tmp], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`corpus: opusdec ${path} failed: ${(r.stderr ?? '').trim() || r.error?.message}`);
          renameSync(tmp, file);
        }
      }
      const seconds = Number(spawnSync('soxi', ['-D', file], { encoding: 'utf8' }).stdout.trim());
      if (!(seconds > 0)) throw new Error(`corpus: cannot read the length of ${file} (soxi -D)`);
      pool[id] = { path: file, seconds };
    }
  }
  return pool;
}

function buildPools(root: Rng, gameCacheDir: string | null): Pools {
  const listing = spawnSync('espeak-ng', ['--voices=variant'], { encoding: 'utf8' }).stdout ?? '';
  const variants = parseEspeakVariants(listing);
  if (variants.length < 10) throw new Error(`corpus: espeak-ng lists only ${variants.length} usable variants`);
  const festival = { train: [], valid: [], test: [] } as Pools['festival'];
  for (const v of FESTIVAL_VOICES) festival[v.split].push(v);
  const sr = root.fork('source-splits');
  // espeak variants are split per sex so that every split has female and male variants.
  const byVariantSex = (sex: 'm' | 'f'): Record<Split, EspeakVariant[]> =>
    splitItems(sr.fork(`espeak-variants-${sex}`), variants.filter((v) => v.sex === sex), { valid: 0.15, test: 0.2 });
  const vm = byVariantSex('m');
  const vf = byVariantSex('f');
  const names = readdirSync(sonicDir).filter((f) => f.endsWith('.flac')).map((f) => f.slice(0, -5)).filter((s) => !SONICPI_EXCLUDE.has(s)).sort();
  const kinds: SampleKind[] = ['loop', 'tonal', 'kick', 'snare', 'hat', 'perc'];
  const sonic = {} as Pools['sonic'];
  for (const k of kinds) sonic[k] = splitItems(sr.fork(`sonic-${k}`), names.filter((s) => sampleKind(s) === k), { valid: 0.15, test: 0.2 });
  const tracks = readdirSync(WESNOTH_MUSIC_DIR).filter((f) => f.endsWith('.ogg')).map((f) => f.slice(0, -4)).filter((t) => !WESNOTH_EXCLUDE.has(t)).sort();
  const wesnothSeconds: Record<string, number> = {};
  for (const t of tracks) wesnothSeconds[t] = Number(spawnSync('soxi', ['-D', join(WESNOTH_MUSIC_DIR, `${t}.ogg`)], { encoding: 'utf8' }).stdout.trim());
  // Forked after (and independently of) the other pools, so they are the same with or without --game-music.
  const gamePool = gameCacheDir ? gameMusicPool(gameCacheDir) : {};
  const games = gameCacheDir ? splitItems(sr.fork('game-music'), Object.keys(gamePool).sort(), { valid: 0.15, test: 0.2 }) : null;
  return {
    festival,
    espeakLangs: splitItems(sr.fork('espeak-languages'), ESPEAK_LANGUAGES, { valid: 0.15, test: 0.2 }),
    espeakVariants: { train: [...vm.train, ...vf.train], valid: [...vm.valid, ...vf.valid], test: [...vm.test, ...vf.test] },
    sonic,
    wesnoth: splitItems(sr.fork('wesnoth'), tracks, { valid: 0.15, test: 0.2 }),
    wesnothSeconds,
    games,
    gameFiles: gamePool,
  };
}

function summarise(songs: SongResult[]): Record<string, unknown> {
  const per: Record<string, unknown> = {};
  for (const s of [...SPLITS, 'all'] as const) {
    const xs = s === 'all' ? songs : songs.filter((x) => x.split === s);
    const frames = xs.reduce((a, x) => a + x.frames, 0);
    const voiced = xs.reduce((a, x) => a + x.voicedFrames, 0);
    const seconds = xs.reduce((a, x) => a + x.seconds, 0);
    per[s] = {
      songs: xs.length, minutes: +(seconds / 60).toFixed(2), hours: +(seconds / 3600).toFixed(4), frames, voicedFrames: voiced,
      voicedFraction: frames ? +(voiced / frames).toFixed(4) : 0,
      songsWithoutVocals: xs.filter((x) => x.singer === null).length,
      singers: [...new Set(xs.map((x) => x.singer?.voice).filter((v): v is string => !!v))].sort(),
      accompanimentKinds: Object.fromEntries(['midi', 'wesnoth', 'game', 'sonicpi'].map((k) => [k, xs.filter((x) => x.accompaniment.kind === k).length])),
    };
  }
  return per;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  checkRequirements(FESTIVAL_VOICES.map((v) => v.name), opts.gameMusic);
  const outDir = resolve(opts.out);
  const cacheDir = join(outDir, '.cache', 'sonicpi');
  await mkdir(outDir, { recursive: true });
  const root = new Rng(opts.seed);
  const pools = buildPools(root, opts.gameMusic ? join(outDir, '.cache', 'games') : null);
  // The whole corpus is planned either way, so --only-split renders exactly that split's songs of the full build.
  const plan = makePlan(opts, pools, root).filter((p) => opts.onlySplit === null || p.split === opts.onlySplit);
  const t0 = Date.now();
  const results = new Array<SongResult>(plan.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const k = next++;
      const song = plan[k]!;
      results[k] = await buildSong(song, outDir, cacheDir, pools.gameFiles, opts.keepWork);
      done++;
      const el = (Date.now() - t0) / 1000;
      const eta = (el / done) * (plan.length - done);
      process.stderr.write(`corpus: [${done}/${plan.length}] ${song.id} (${song.split}, ${results[k]!.accompaniment.kind}, voiced ${(100 * results[k]!.voicedFraction).toFixed(0)} %) — ${el.toFixed(0)} s elapsed, ~${eta.toFixed(0)} s left\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));
  const manifest = {
    format: 'earshot-corpus/1',
    seed: opts.seed,
    options: {
      songs: opts.songs, seconds: opts.seconds, ...(opts.gameMusic ? { gameMusic: true } : {}),
      ...(opts.stream !== null ? { stream: opts.stream } : {}), ...(opts.onlySplit !== null ? { onlySplit: opts.onlySplit } : {}),
    },
    sampleRate: SR,
    frames: { frameLength: FRAME_LENGTH, hop: HOP, centred: false, count: 'floor((samples - 1024) / 315) + 1' },
    tools: toolVersions(opts.gameMusic),
    splitPolicy: {
      songs: SPLIT_FRACTIONS,
      festivalVoices: pools.festival,
      espeakLanguages: pools.espeakLangs,
      espeakVariants: Object.fromEntries(SPLITS.map((s) => [s, pools.espeakVariants[s].map((v) => v.file)])),
      sonicpi: pools.sonic,
      wesnoth: pools.wesnoth,
      ...(pools.games ? { games: pools.games, soundfonts: GM_SOUNDFONTS.map((f) => f.path) } : {}),
      excluded: { sonicpi: [...SONICPI_EXCLUDE].sort(), wesnoth: [...WESNOTH_EXCLUDE].sort(), ...(pools.games ? { games: [...GAME_MUSIC_EXCLUDE].sort() } : {}) },
    },
    summary: summarise(results),
    songs: results,
  };
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  const seconds = (Date.now() - t0) / 1000;
  await writeFile(join(outDir, 'build-info.json'), JSON.stringify({ seed: opts.seed, buildSeconds: +seconds.toFixed(1), jobs: opts.jobs, finished: new Date().toISOString() }, null, 1) + '\n');
  if (!opts.keepWork) await rm(join(outDir, '.work'), { recursive: true, force: true });
  const sum = manifest.summary as Record<string, { songs: number; minutes: number; voicedFraction: number }>;
  for (const s of [...SPLITS, 'all']) process.stderr.write(`corpus: ${s}: ${sum[s]!.songs} songs, ${sum[s]!.minutes} min, voiced ${(100 * sum[s]!.voicedFraction).toFixed(1)} %\n`);
  process.stderr.write(`corpus: done in ${seconds.toFixed(0)} s → ${join(outDir, 'manifest.json')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
