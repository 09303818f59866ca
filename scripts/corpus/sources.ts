// The raw material of the corpus and its split policy: which synthetic singers (festival
// singing voices, espeak-ng language × variant pairs), which Sonic Pi samples and wesnoth tracks
// are used, which are excluded because they contain or resemble a human voice, and which of them
// belong to train / valid / test. Test and valid material (voices and accompaniment sources) is
// never used in train, so the held-out error measures generalisation to unseen singers and
// unseen backing music.
import type { Rng } from './rng.ts';

export type Split = 'train' | 'valid' | 'test';
export const SPLITS: readonly Split[] = ['train', 'valid', 'test'];

/** Festival voices whose singing mode follows the score (checked: the HTS voices slt/ona ignore the note durations). */
export interface FestivalVoice {
  name: string;
  lang: 'en' | 'it' | 'fi' | 'cs';
  sex: 'm' | 'f';
  split: Split;
}
// Fixed assignment (few voices: a random one could leave a split without any female voice).
export const FESTIVAL_VOICES: readonly FestivalVoice[] = [
  { name: 'kal_diphone', lang: 'en', sex: 'm', split: 'train' },
  { name: 'pc_diphone', lang: 'it', sex: 'm', split: 'train' },
  { name: 'lp_diphone', lang: 'it', sex: 'f', split: 'train' },
  { name: 'suo_fi_lj_diphone', lang: 'fi', sex: 'f', split: 'train' },
  { name: 'hy_fi_mv_diphone', lang: 'fi', sex: 'm', split: 'train' },
  { name: 'czech_machac', lang: 'cs', sex: 'm', split: 'valid' },
  { name: 'ked_diphone', lang: 'en', sex: 'm', split: 'test' },
  { name: 'czech_dita', lang: 'cs', sex: 'f', split: 'test' },
];

/** espeak-ng languages written in Latin script (the lyrics are Latin-script syllables and words). */
export const ESPEAK_LANGUAGES: readonly string[] = [
  'en-us', 'en-gb', 'en-gb-scotland', 'en-029', 'de', 'fr-fr', 'fr-be', 'it', 'es', 'es-419', 'pt', 'pt-br',
  'nl', 'sv', 'da', 'nb', 'pl', 'cs', 'sk', 'sl', 'hr', 'ro', 'hu', 'fi', 'et', 'lv', 'lt', 'tr', 'id', 'ms',
  'sw', 'eo', 'ia', 'la', 'ca', 'eu', 'cy', 'ga', 'is', 'af', 'sq', 'haw', 'mi',
];

/** espeak-ng variants that do not sound human (whisper, robots, effects) or are test fixtures. */
export const ESPEAK_VARIANT_EXCLUDE: ReadonlySet<string> = new Set([
  'whisper', 'whisperf', 'Demonic', 'UniRobot', 'anikaRobot', 'robosoft', 'robosoft2', 'robosoft3', 'robosoft4',
  'robosoft5', 'robosoft6', 'robosoft7', 'robosoft8', 'announcer', 'fast', 'croak', 'Mr', 'RicishayMax',
  'RicishayMax2', 'RicishayMax3', 'AnxiousAndy',
]);

export interface EspeakVariant {
  file: string;
  sex: 'm' | 'f';
}

/** Parses `espeak-ng --voices=variant` ("Pty Language Age/Gender VoiceName File …"). */
export function parseEspeakVariants(listing: string): EspeakVariant[] {
  const out: EspeakVariant[] = [];
  for (const line of listing.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const gender = cols[2]!.replace(/^--\//, '').slice(-1).toUpperCase();
    const file = cols[4]!.replace(/^!v\//, '');
    if (ESPEAK_VARIANT_EXCLUDE.has(file)) continue;
    out.push({ file, sex: gender === 'F' ? 'f' : 'm' });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Sonic Pi samples left out: voices, voice-like synths, robot speech, animal cries, scratches, and loops whose content we could not verify. */
export const SONICPI_EXCLUDE: ReadonlySet<string> = new Set([
  'ambi_choir', 'bass_voxy_c', 'bass_voxy_hit_c', 'tbd_voctone', 'glitch_robot1', 'glitch_robot2',
  'mehackit_robot1', 'mehackit_robot2', 'mehackit_robot3', 'mehackit_robot4', 'mehackit_robot5', 'mehackit_robot6',
  'mehackit_robot7', 'mehackit_phone1', 'mehackit_phone2', 'mehackit_phone3', 'mehackit_phone4', 'misc_burp',
  'misc_crow', 'vinyl_scratch', 'vinyl_backspin', 'vinyl_rewind', 'loop_mika',
]);

export type SampleKind = 'loop' | 'tonal' | 'kick' | 'snare' | 'hat' | 'perc';

/** Classifies a Sonic Pi sample by its name prefix (the Sonic Pi naming scheme). */
export function sampleKind(name: string): SampleKind {
  if (name.startsWith('loop_') || name.startsWith('arovane_beat') || name === 'tbd_fxbed_loop') {
    return name === 'loop_drone_g_97' ? 'tonal' : 'loop';
  }
  if (/^(ambi_|guit_|bass_|tbd_pad|tbd_highkey|glitch_bass|perc_bell|elec_chime|vinyl_hiss|misc_cineboom)/.test(name)) return 'tonal';
  if (/^(bd_|drum_bass|drum_heavy_kick|elec_soft_kick|elec_hollow_kick)/.test(name)) return 'kick';
  if (/^(sn_|drum_snare|elec_.*snare)/.test(name)) return 'snare';
  if (/^(hat_|drum_cymbal|ride_|tbd_perc_hat)/.test(name)) return 'hat';
  return 'perc';
}

/** wesnoth-1.16-music tracks left out: choral or possibly vocal pieces (by title and description), silence and short stingers. */
export const WESNOTH_EXCLUDE: ReadonlySet<string> = new Set([
  'nunc_dimittis', 'revelation', 'heroes_rite', 'legends_of_the_north', 'main_menu', 'the_king_is_dead',
  'silvan_sanctuary', 'love_theme', 'elvish-theme', 'silence', 'defeat', 'defeat2', 'victory', 'victory2', 'elf-land',
]);

/** Assigns items to splits: a seeded shuffle, then the first `test` items to test, the next `valid` to valid. */
export function splitItems<T>(rng: Rng, items: readonly T[], fractions: { valid: number; test: number }): Record<Split, T[]> {
  const shuffled = rng.shuffle(items);
  const nTest = Math.max(1, Math.round(items.length * fractions.test));
  const nValid = Math.max(1, Math.round(items.length * fractions.valid));
  return {
    test: shuffled.slice(0, nTest),
    valid: shuffled.slice(nTest, nTest + nValid),
    train: shuffled.slice(nTest + nValid),
  };
}

/** Monosyllabic English lyrics (one note per word keeps festival's syllable count and the score aligned). */
export const EN_WORDS: readonly string[] = [
  'love', 'heart', 'night', 'day', 'sky', 'home', 'light', 'dream', 'fire', 'rain', 'sun', 'moon', 'star', 'road',
  'you', 'me', 'go', 'stay', 'fly', 'high', 'low', 'gold', 'blue', 'time', 'life', 'soul', 'sea', 'wind', 'hold',
  'know', 'free', 'shine', 'fall', 'rise', 'song', 'sing', 'way', 'true', 'find', 'still', 'oh', 'yeah', 'now', 'we',
  'all', 'dance', 'run', 'cry', 'smile', 'wide', 'deep', 'shore', 'bright', 'long', 'gone', 'here', 'near', 'far',
];
/** Open syllables that every Latin-script voice pronounces. */
export const SYLLABLES: readonly string[] = [
  'la', 'na', 'ma', 'mi', 'do', 're', 'so', 'lo', 'no', 'si', 'ta', 'va', 'ri', 'lu', 'ne', 'da', 'ko', 'sa', 'be',
  'mo', 'li', 'te', 'vo', 'ja', 'ni', 'ra', 'pa', 'me', 'le', 'o', 'a', 'e',
];

/**
 * Instrumental game soundtracks packaged by Debian, used with `build.ts --game-music`: produced
 * and recorded music (electronic, ambient, orchestral, chiptune-like) beyond wesnoth's, so that
 * the training split hears many more kinds of sustained, pitched accompaniment. Tracks are split
 * like wesnoth's (seeded, by track).
 */
export interface GameMusicSet {
  /** Short name, the first part of a track id. */
  name: string;
  pkg: string;
  dir: string;
  licence: string;
}
export const GAME_MUSIC: readonly GameMusicSet[] = [
  { name: 'singularity', pkg: 'singularity-music', dir: '/usr/share/games/singularity/music', licence: 'CC-BY-SA-3.0' },
  { name: 'hyperrogue', pkg: 'hyperrogue-music', dir: '/usr/share/hyperrogue/music', licence: 'CC-BY-SA-3.0 / CC-BY-SA-4.0 / CC-BY-3.0' },
  { name: 'planetblupi', pkg: 'planetblupi-music-ogg', dir: '/usr/share/planetblupi/music', licence: 'GPL-3+' },
  { name: 'warzone2100', pkg: 'warzone2100-music', dir: '/usr/share/games/warzone2100/music', licence: 'CC-BY-SA-3.0 / CC0-1.0' },
];

/** Game tracks left out (by id): see docs/corpus.md for why each one. */
export const GAME_MUSIC_EXCLUDE: ReadonlySet<string> = new Set<string>([]);

/** The id of a game track: `<set name>/<path below the set's folder, without extension>`. */
export function gameTrackId(set: GameMusicSet, path: string): string {
  const prefix = set.dir.endsWith('/') ? set.dir : `${set.dir}/`;
  if (!path.startsWith(prefix)) throw new Error(`corpus: ${path} is not below ${set.dir}`);
  const rel = path.slice(prefix.length).replace(/\.(ogg|opus)$/i, '');
  if (rel === path.slice(prefix.length)) throw new Error(`corpus: ${path} is not an .ogg or .opus file`);
  return `${set.name}/${rel}`;
}

/** General MIDI sound fonts that `--game-music` corpora draw from per song (the default corpora use FluidR3_GM only). */
export const GM_SOUNDFONTS: ReadonlyArray<{ path: string; pkg: string; licence: string }> = [
  { path: '/usr/share/sounds/sf2/FluidR3_GM.sf2', pkg: 'fluid-soundfont-gm', licence: 'MIT' },
  { path: '/usr/share/sounds/sf3/MuseScore_General_Lite.sf3', pkg: 'musescore-general-soundfont-small', licence: 'MIT' },
  { path: '/usr/share/sounds/sf2/TimGM6mb.sf2', pkg: 'timgm6mb-soundfont', licence: 'GPL-2' },
];
