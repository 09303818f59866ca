// Union of built corpora, to train on all of them at once: <out>/{train,valid,test}/<tag>-<song>
// are symlinks to the song directories (the log-mel caches are shared, no audio is copied) and
// <out>/manifest.json lists every song with its origin. Usage:
//   node --import tsx scripts/corpus/union.ts --out corpus-union corpus-big:b corpus-huge:h
// A union is only sound if no source crosses splits between the corpora (else a test song of one
// could share its singer or accompaniment with a training song of the other). Corpora built with
// the same --seed share their source split; the union checks it source by source and refuses
// otherwise. See docs/training.md §9.
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Split = 'train' | 'valid' | 'test';
interface ManifestSong {
  id: string;
  split: Split;
  singer?: { engine?: string; voice?: string; lang?: string; variant?: string | null } | null;
  accompaniment?: { sources?: string[] };
  [k: string]: unknown;
}
export interface UnionPart { dir: string; tag: string }
export interface UnionSummary { out: string; train: number; valid: number; test: number }

/** The split-defining sources of a song (what the builder assigns to one split only). */
function sourcesOf(s: ManifestSong): string[] {
  const out: string[] = [];
  const g = s.singer;
  if (g) {
    if (g.engine === 'festival' && g.voice) out.push(`festival:${g.voice}`);
    if (g.engine === 'espeak') {
      if (g.lang) out.push(`espeak-lang:${g.lang}`);
      if (g.variant) out.push(`espeak-variant:${g.variant}`);
    }
  }
  // MIDI accompaniments are generated per song from a seed, not drawn from a pool.
  for (const src of s.accompaniment?.sources ?? []) if (!src.startsWith('midi:')) out.push(src);
  return out;
}

export async function unionCorpora(outDir: string, parts: UnionPart[]): Promise<UnionSummary> {
  if (parts.length < 2) throw new Error('corpus union: give at least two corpora');
  const tags = new Set<string>();
  const loaded: Array<UnionPart & { songs: ManifestSong[]; seed: unknown }> = [];
  for (const p of parts) {
    if (!/^[a-z0-9]+$/i.test(p.tag)) throw new Error(`corpus union: tag "${p.tag}" of ${p.dir} must be letters and digits`);
    if (tags.has(p.tag)) throw new Error(`corpus union: tag "${p.tag}" given twice`);
    tags.add(p.tag);
    const file = join(resolve(p.dir), 'manifest.json');
    let m: { seed?: unknown; songs?: ManifestSong[] };
    try {
      m = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new Error(`corpus union: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing (not a finished corpus)' : (e as Error).message}`);
    }
    if (!Array.isArray(m.songs)) throw new Error(`corpus union: ${file} has no "songs" list`);
    loaded.push({ dir: resolve(p.dir), tag: p.tag, songs: m.songs, seed: m.seed });
  }
  const splitOf = new Map<string, { split: Split; where: string }>();
  for (const p of loaded) {
    for (const s of p.songs) {
      for (const src of sourcesOf(s)) {
        const seen = splitOf.get(src);
        if (seen && seen.split !== s.split) {
          throw new Error(`corpus union: source ${src} is in the ${seen.split} split of ${seen.where} and the ${s.split} split of ${p.dir}/${s.id}; build the corpora with the same --seed`);
        }
        if (!seen) splitOf.set(src, { split: s.split, where: `${p.dir}/${s.id}` });
      }
    }
  }
  const out = resolve(outDir);
  if (loaded.some((p) => p.dir === out)) throw new Error(`corpus union: --out ${out} is one of the inputs`);
  await rm(out, { recursive: true, force: true });
  const songs: ManifestSong[] = [];
  for (const p of loaded) {
    for (const s of p.songs) {
      const src = join(p.dir, s.split, s.id);
      await stat(src).catch(() => {
        throw new Error(`corpus union: ${src} is listed in ${p.dir}/manifest.json but missing`);
      });
      const id = `${p.tag}-${s.id}`;
      await mkdir(join(out, s.split), { recursive: true });
      await symlink(relative(join(out, s.split), src), join(out, s.split, id), 'dir');
      // files are left to listCorpus's defaults (<split>/<id>/mix.wav …), i.e. through the link
      const { files: _files, ...rest } = s;
      songs.push({ ...rest, id, origin: { corpus: relative(out, p.dir), id: s.id } });
    }
  }
  await writeFile(
    join(out, 'manifest.json'),
    JSON.stringify({ format: 'earshot-corpus/1', union: loaded.map((p) => ({ corpus: relative(out, p.dir), tag: p.tag, seed: p.seed, songs: p.songs.length })), songs }, null, 1),
  );
  const count = (sp: Split) => songs.filter((s) => s.split === sp).length;
  return { out, train: count('train'), valid: count('valid'), test: count('test') };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const o = args.indexOf('--out');
  if (o < 0 || !args[o + 1]) {
    console.error('usage: node --import tsx scripts/corpus/union.ts --out <dir> <corpus>:<tag> <corpus>:<tag> ...');
    process.exit(2);
  }
  const parts = args.filter((_, i) => i !== o && i !== o + 1).map((a) => {
    const k = a.lastIndexOf(':');
    return { dir: k > 0 ? a.slice(0, k) : a, tag: k > 0 ? a.slice(k + 1) : '' };
  });
  try {
    const r = await unionCorpora(args[o + 1]!, parts);
    console.log(`corpus union: ${r.out}: train ${r.train}, valid ${r.valid}, test ${r.test} songs`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
