// Thin wrappers around the Debian command-line tools the corpus builder drives (sox, espeak-ng,
// festival's text2wave, fluidsynth): running them without a shell, checking that they are
// installed (naming the Debian package to install when not), and recording their versions.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { GAME_MUSIC, GM_SOUNDFONTS } from './sources.ts';

export const SOUNDFONT = '/usr/share/sounds/sf2/FluidR3_GM.sf2';
export const WESNOTH_MUSIC_DIR = '/usr/share/games/wesnoth/1.16/data/core/music';
export const FESTIVAL_VOICE_DIR = '/usr/share/festival/voices';

/** Runs a command (no shell); rejects with its stderr on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 300_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`));
        return;
      }
      resolve(String(stdout));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Synchronous capture of a version banner (first non-empty line), '' if the tool is missing. */
function banner(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return '';
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

interface Requirement {
  what: string;
  ok: () => boolean;
  pkg: string;
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Throws one error listing every missing tool or data package, with the Debian package names. */
export function checkRequirements(festivalVoices: readonly string[], gameMusic = false): void {
  const soxFormats = (): string => spawnSync('sox', ['-h'], { encoding: 'utf8' }).stdout ?? '';
  const reqs: Requirement[] = [
    { what: 'sox', ok: () => hasCommand('sox'), pkg: 'sox' },
    { what: 'sox Ogg Vorbis and FLAC support', ok: () => /vorbis/.test(soxFormats()) && /flac/.test(soxFormats()), pkg: 'libsox-fmt-all' },
    { what: 'espeak-ng', ok: () => hasCommand('espeak-ng'), pkg: 'espeak-ng' },
    { what: 'festival (text2wave)', ok: () => hasCommand('text2wave'), pkg: 'festival' },
    { what: 'fluidsynth', ok: () => hasCommand('fluidsynth'), pkg: 'fluidsynth' },
    { what: `General MIDI sound font ${SOUNDFONT}`, ok: () => existsSync(SOUNDFONT), pkg: 'fluid-soundfont-gm' },
    { what: `wesnoth music ${WESNOTH_MUSIC_DIR}`, ok: () => existsSync(WESNOTH_MUSIC_DIR), pkg: 'wesnoth-1.16-music' },
  ];
  if (gameMusic) {
    reqs.push({ what: 'opusdec', ok: () => hasCommand('opusdec'), pkg: 'opus-tools' });
    for (const g of GAME_MUSIC) reqs.push({ what: `game music ${g.dir}`, ok: () => existsSync(g.dir), pkg: g.pkg });
    for (const f of GM_SOUNDFONTS) reqs.push({ what: `sound font ${f.path}`, ok: () => existsSync(f.path), pkg: f.pkg });
  }
  const voicePkg: Record<string, string> = {
    kal_diphone: 'festvox-kallpc16k', ked_diphone: 'festvox-kdlpc16k', lp_diphone: 'festvox-italp16k',
    pc_diphone: 'festvox-itapc16k', suo_fi_lj_diphone: 'festvox-suopuhe-lj', hy_fi_mv_diphone: 'festvox-suopuhe-mv',
    czech_dita: 'festvox-czech-dita', czech_machac: 'festvox-czech-machac',
  };
  for (const v of festivalVoices) {
    reqs.push({
      what: `festival voice ${v}`,
      ok: () => spawnSync('sh', ['-c', `ls -d ${FESTIVAL_VOICE_DIR}/*/${v}`]).status === 0,
      pkg: voicePkg[v] ?? `festvox voice for ${v}`,
    });
  }
  const missing = reqs.filter((r) => !r.ok());
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    throw new Error(
      `corpus: missing ${missing.map((m) => m.what).join(', ')}.\n` +
        `Install with: apt-get install -y --no-install-recommends ${pkgs.join(' ')}\n` +
        `(or run scripts/corpus/install-deps.sh, which installs everything the corpus needs)`,
    );
  }
}

export function toolVersions(gameMusic = false): Record<string, string> {
  const dpkg = (p: string): string => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', p], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  return {
    'espeak-ng': banner('espeak-ng', ['--version']),
    festival: banner('festival', ['--version']),
    fluidsynth: banner('fluidsynth', ['--version']),
    sox: banner('sox', ['--version']),
    'fluid-soundfont-gm': dpkg('fluid-soundfont-gm'),
    'wesnoth-1.16-music': dpkg('wesnoth-1.16-music'),
    'festvox-kallpc16k': dpkg('festvox-kallpc16k'),
    ...(gameMusic ? Object.fromEntries([...GAME_MUSIC.map((g) => g.pkg), ...GM_SOUNDFONTS.map((f) => f.pkg), 'opus-tools'].map((p) => [p, dpkg(p)])) : {}),
    node: process.version,
  };
}

/** sox arguments that write 22 050 Hz mono 32-bit float WAV (no dither: float output). */
export const SOX_OUT_22K_F32 = ['-e', 'floating-point', '-b', '32', '-c', '1', '-r', '22050'];
