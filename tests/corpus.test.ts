// Tests of the pure parts of the corpus builder (scripts/corpus): the Standard MIDI File writer
// (checked against the byte layout and the variable-length-quantity table of the SMF 1.1
// specification, by an independent chunk parser written here), the seeded PRNG, and the frame
// labelling on the front end's grid (checked against an overlap count computed directly from
// the known on/off intervals). Needs neither the Debian tools nor a built corpus.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { vlq, writeSmf, randomArrangement, VOICE_LIKE_PROGRAMS, type MidiEvent } from '../scripts/corpus/midi.ts';
import { Rng } from '../scripts/corpus/rng.ts';
import { frameLabels, frameCount, frameEnergies, labelRuns } from '../scripts/corpus/labels.ts';
import { parseEspeakVariants, splitItems, sampleKind, gameTrackId, GAME_MUSIC } from '../scripts/corpus/sources.ts';
import { unionCorpora } from '../scripts/corpus/union.ts';
import { listCorpus } from '../src/model/dataset.ts';
import { mkdtemp, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// ---------------------------------------------------------------- SMF

test('vlq matches the examples table of the SMF 1.1 specification', () => {
  const table: Array<[number, number[]]> = [
    [0x00, [0x00]], [0x40, [0x40]], [0x7f, [0x7f]], [0x80, [0x81, 0x00]], [0x2000, [0xc0, 0x00]],
    [0x3fff, [0xff, 0x7f]], [0x4000, [0x81, 0x80, 0x00]], [0x100000, [0xc0, 0x80, 0x00]],
    [0x1fffff, [0xff, 0xff, 0x7f]], [0x200000, [0x81, 0x80, 0x80, 0x00]], [0x8000000, [0xc0, 0x80, 0x80, 0x00]],
    [0xfffffff, [0xff, 0xff, 0xff, 0x7f]],
  ];
  for (const [v, bytes] of table) assert.equal(vlq(v), bytes, `vlq(0x${v.toString(16)})`);
  assert.throws(() => vlq(-1));
  assert.throws(() => vlq(0x10000000));
  assert.throws(() => vlq(1.5));
});

interface ParsedEvent { tick: number; status: number; data: number[] }
interface ParsedSmf { format: number; ntrks: number; division: number; tracks: ParsedEvent[][] }

/** An independent reader of the chunks and events this writer may emit (running status not used by it, but accepted). */
function parseSmf(b: Uint8Array): ParsedSmf {
  const u32 = (o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  const tag = (o: number): string => String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);
  assert.is(tag(0), 'MThd');
  assert.is(u32(4), 6, 'header length');
  const format = (b[8]! << 8) | b[9]!;
  const ntrks = (b[10]! << 8) | b[11]!;
  const division = (b[12]! << 8) | b[13]!;
  let o = 14;
  const tracks: ParsedEvent[][] = [];
  while (o < b.length) {
    assert.is(tag(o), 'MTrk', `chunk at ${o}`);
    const len = u32(o + 4);
    const end = o + 8 + len;
    assert.ok(end <= b.length, 'track chunk length within the file');
    o += 8;
    let tick = 0;
    let status = 0;
    const events: ParsedEvent[] = [];
    let ended = false;
    while (o < end) {
      let delta = 0;
      let c: number;
      do {
        c = b[o++]!;
        delta = (delta << 7) | (c & 0x7f);
      } while (c & 0x80);
      tick += delta;
      if (b[o]! & 0x80) status = b[o++]!;
      if (status === 0xff) {
        const type = b[o++]!;
        const mlen = b[o++]!;
        const data = Array.from(b.subarray(o, o + mlen));
        o += mlen;
        events.push({ tick, status: 0xff, data: [type, ...data] });
        if (type === 0x2f) {
          ended = true;
          assert.is(o, end, 'End of Track is the last event of its chunk');
        }
      } else {
        const hi = status & 0xf0;
        const n = hi === 0xc0 || hi === 0xd0 ? 1 : 2;
        events.push({ tick, status, data: Array.from(b.subarray(o, o + n)) });
        o += n;
      }
    }
    assert.ok(ended, 'track ends with FF 2F 00');
    tracks.push(events);
  }
  assert.is(tracks.length, ntrks, 'ntrks equals the number of MTrk chunks');
  return { format, ntrks, division, tracks };
}

test('writeSmf writes a format-1 file whose chunks and events parse back', () => {
  const track: MidiEvent[] = [
    { tick: 480, kind: 'off', channel: 2, note: 60 },
    { tick: 0, kind: 'program', channel: 2, program: 40 },
    { tick: 0, kind: 'on', channel: 2, note: 60, velocity: 100 },
    { tick: 480, kind: 'on', channel: 2, note: 60, velocity: 90 },
    { tick: 20000, kind: 'off', channel: 2, note: 60 },
  ];
  const smf = writeSmf([[{ tick: 0, kind: 'tempo', microsPerQuarter: 500000 }], track], 96);
  const p = parseSmf(smf);
  assert.is(p.format, 1);
  assert.is(p.division, 96);
  assert.equal(p.tracks[0]![0], { tick: 0, status: 0xff, data: [0x51, 0x07, 0xa1, 0x20] });
  const ev = p.tracks[1]!;
  assert.equal(ev.map((e) => [e.tick, e.status, ...e.data]), [
    [0, 0xc2, 40], [0, 0x92, 60, 100], [480, 0x82, 60, 0x40], [480, 0x92, 60, 90], [20000, 0x82, 60, 0x40], [20000, 0xff, 0x2f],
  ], 'sorted by tick, note-off before note-on at the same tick, long delta as a multi-byte VLQ');
  assert.throws(() => writeSmf([[{ tick: 0, kind: 'on', channel: 16, note: 60, velocity: 1 }]]), /channel/);
  assert.throws(() => writeSmf([]), /tracks/);
});

test('randomArrangement: valid SMF, drums only on channel 10, no voice-like GM programs, deterministic', () => {
  for (let seed = 0; seed < 40; seed++) {
    const { smf, info } = randomArrangement(new Rng(seed), 20);
    const p = parseSmf(smf);
    assert.is(p.format, 1);
    const programs = p.tracks.flat().filter((e) => (e.status & 0xf0) === 0xc0);
    for (const e of programs) assert.not.ok(VOICE_LIKE_PROGRAMS.includes(e.data[0]!), `seed ${seed}: program ${e.data[0]}`);
    const drumNotes = p.tracks.flat().filter((e) => e.status === 0x99);
    assert.is(drumNotes.length > 0, info.drums, `seed ${seed}: drum notes iff drums`);
    const lastTick = Math.max(...p.tracks.flat().map((e) => e.tick));
    const seconds = (lastTick / 480) * (60 / info.bpm);
    assert.ok(seconds >= 20 && seconds < 20 + (4 * 60) / info.bpm + 1, `seed ${seed}: ${seconds} s covers the request`);
    assert.equal(randomArrangement(new Rng(seed), 20).smf, smf);
  }
});

// ---------------------------------------------------------------- PRNG

test('Rng: same seed gives the same stream, different seeds and forks differ', () => {
  const a = new Rng(1);
  const b = new Rng(1);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.equal(Array.from({ length: 1000 }, () => b.next()), xs);
  assert.not.equal(Array.from({ length: 10 }, () => new Rng(2).next()), xs.slice(0, 10));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const root = new Rng(7);
  const f1 = root.fork('song-0001').nextU32();
  assert.is(new Rng(7).fork('song-0001').nextU32(), f1);
  assert.is.not(new Rng(7).fork('song-0002').nextU32(), f1);
  assert.throws(() => new Rng(Number.NaN));
});

test('Rng: uniform moments, inclusive integer bounds, shuffle is a permutation', () => {
  const r = new Rng(123);
  const n = 200000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = r.next();
    s += x;
    s2 += x * x;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.005, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - s * s / n / n - 1 / 12) < 0.002, 'variance 1/12');
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const k = r.int(-2, 3);
    assert.ok(k >= -2 && k <= 3 && Number.isInteger(k));
    seen.add(k);
  }
  assert.is(seen.size, 6);
  const items = Array.from({ length: 50 }, (_, i) => i);
  const sh = r.shuffle(items);
  assert.equal([...sh].sort((x, y) => x - y), items);
  assert.not.equal(sh, items);
});

// ---------------------------------------------------------------- labels

test('frameCount follows methods.md §1 (no centring)', () => {
  assert.is(frameCount(1023), 0);
  assert.is(frameCount(1024), 1);
  assert.is(frameCount(1338), 1);
  assert.is(frameCount(1339), 2);
  assert.is(frameCount(22050), Math.floor((22050 - 1024) / 315) + 1);
  assert.is(frameEnergies(new Float32Array(1000)).length, 0);
});

/** A ±amp square wave on the given [start, end) sample intervals, zero elsewhere (its square is exactly amp² where on). */
function stem(n: number, intervals: Array<[number, number]>, amp = 0.25): Float32Array {
  const x = new Float32Array(n);
  for (const [a, b] of intervals) for (let i = a; i < b; i++) x[i] = i % 2 === 0 ? amp : -amp;
  return x;
}

/** Expected labels without gap filling: a frame is voice when its overlap with the on-intervals has ≥ 4 samples (4/1024 ≥ 10^−2.5 > 3/1024). */
function expectedByOverlap(n: number, intervals: Array<[number, number]>): number[] {
  const out: number[] = [];
  for (let f = 0; f < frameCount(n); f++) {
    const a = 315 * f;
    const b = a + 1024;
    const ov = intervals.reduce((s, [p, q]) => s + Math.max(0, Math.min(b, q) - Math.max(a, p)), 0);
    out.push(ov >= 4 ? 1 : 0);
  }
  return out;
}

test('frameLabels marks frames overlapping the known vocal intervals (threshold −25 dB of the active level)', () => {
  const n = 60000;
  // Interval edges chosen so that frame 30 (ending at 10474) overlaps the first interval by
  // exactly 4 samples (voice) and frame 96 (starting at 30240) by exactly 3 (no voice): a
  // threshold of −20 or −30 dB would label these frames differently.
  const on: Array<[number, number]> = [[10470, 30243], [40000, 41000], [50003, 50006]];
  const labels = frameLabels(stem(n, on), { fillGapFrames: 0 });
  assert.is(labels.length, frameCount(n));
  assert.equal(Array.from(labels), expectedByOverlap(n, on));
  assert.is(labels.indexOf(1), 30);
  assert.is(labels[95], 1);
  assert.is(labels[96], 0);
  // Three samples of voice (the third interval) stay below the threshold.
  assert.ok(labels.slice(Math.floor(49000 / 315), Math.floor(50006 / 315) + 1).every((v) => v === 0));
  // Scale invariance: the rule is relative to the stem's own level.
  assert.equal(frameLabels(stem(n, on, 0.001), { fillGapFrames: 0 }), labels);
  assert.equal(Array.from(frameLabels(new Float32Array(n))), new Array(frameCount(n)).fill(0));
});

test('frameLabels closes unvoiced gaps of at most fillGapFrames frames, not longer ones', () => {
  const n = 40000;
  // Gap of 3000 samples: the frames between are unvoiced when they overlap < 4 samples.
  const on: Array<[number, number]> = [[5000, 15000], [18000, 25000]];
  const raw = frameLabels(stem(n, on), { fillGapFrames: 0 });
  const runs = labelRuns(raw);
  assert.is(runs.length, 2);
  const gap = runs[1]![0] - runs[0]![1];
  assert.ok(gap > 0, `gap of ${gap} frames`);
  assert.equal(labelRuns(frameLabels(stem(n, on), { fillGapFrames: gap })), [[runs[0]![0], runs[1]![1]]]);
  assert.equal(labelRuns(frameLabels(stem(n, on), { fillGapFrames: gap - 1 })), runs);
});

test('labelRuns lists [start, end) runs of ones', () => {
  assert.equal(labelRuns(Uint8Array.from([0, 1, 1, 0, 1, 0, 0, 1])), [[1, 3], [4, 5], [7, 8]]);
  assert.equal(labelRuns(new Uint8Array(0)), []);
});

// ---------------------------------------------------------------- sources

test('source helpers: espeak variant listing, split assignment, Sonic Pi sample kinds', () => {
  const listing = [
    'Pty Language       Age/Gender VoiceName          File                 Other Languages',
    ' 5  variant         --/M      Adam               !v/adam              ',
    ' 5  variant         --/F      female2            !v/f2                ',
    ' 5  variant         --/M      whisper            !v/whisper           ',
  ].join('\n');
  assert.equal(parseEspeakVariants(listing), [{ file: 'adam', sex: 'm' }, { file: 'f2', sex: 'f' }]);
  const items = Array.from({ length: 20 }, (_, i) => `x${i}`);
  const s = splitItems(new Rng(3), items, { valid: 0.15, test: 0.2 });
  assert.is(s.test.length, 4);
  assert.is(s.valid.length, 3);
  assert.is(s.train.length, 13);
  assert.equal([...s.train, ...s.valid, ...s.test].sort(), [...items].sort());
  assert.is(sampleKind('loop_amen'), 'loop');
  assert.is(sampleKind('loop_drone_g_97'), 'tonal');
  assert.is(sampleKind('bd_haus'), 'kick');
  assert.is(sampleKind('drum_snare_hard'), 'snare');
  assert.is(sampleKind('hat_zild'), 'hat');
  assert.is(sampleKind('tabla_na'), 'perc');
});

test('gameTrackId: set name and path below the set folder, nested albums kept, other files refused', () => {
  const wz = GAME_MUSIC.find((g) => g.name === 'warzone2100')!;
  assert.is(gameTrackId(wz, `${wz.dir}/albums/legacy_soundtrack/track10.opus`), 'warzone2100/albums/legacy_soundtrack/track10');
  assert.is(gameTrackId(wz, `${wz.dir}/menu.opus`), 'warzone2100/menu');
  const sg = GAME_MUSIC.find((g) => g.name === 'singularity')!;
  assert.is(gameTrackId(sg, `${sg.dir}/win/Apex Aleph.ogg`), 'singularity/win/Apex Aleph');
  assert.throws(() => gameTrackId(sg, `${wz.dir}/menu.opus`), /is not below/);
  assert.throws(() => gameTrackId(sg, `${sg.dir}/notes.txt`), /not an \.ogg or \.opus/);
  // ids are unique across the sets (each set has its own name)
  assert.is(new Set(GAME_MUSIC.map((g) => g.name)).size, GAME_MUSIC.length);
});

// ---------------------------------------------------------------- union of corpora

async function fakeCorpus(dir: string, songs: Array<{ id: string; split: string; voice: string; acc: string[] }>): Promise<void> {
  for (const s of songs) {
    await mkdir(join(dir, s.split, s.id), { recursive: true });
    await writeFile(join(dir, s.split, s.id, 'mix.wav'), s.id);
  }
  const manifest = {
    format: 'earshot-corpus/1', seed: 1,
    songs: songs.map((s) => ({
      id: s.id, split: s.split, files: { mix: `${s.split}/${s.id}/mix.wav` },
      singer: { engine: 'festival', voice: s.voice }, accompaniment: { sources: s.acc },
    })),
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
}

test('unionCorpora links every song under a tagged id and refuses sources that cross splits', async () => {
  const root = await mkdtemp(join(tmpdir(), 'earshot-union-'));
  try {
    const a = join(root, 'a');
    const b = join(root, 'b');
    await fakeCorpus(a, [
      { id: 'song-0001', split: 'train', voice: 'v1', acc: ['midi:12', 'wesnoth:x'] },
      { id: 'song-0002', split: 'test', voice: 'v2', acc: ['sonicpi:y'] },
    ]);
    await fakeCorpus(b, [
      { id: 'song-0001', split: 'train', voice: 'v1', acc: ['midi:12'] },
      { id: 'song-0002', split: 'valid', voice: 'v3', acc: ['midi:99', 'wesnoth:z'] },
    ]);
    const r = await unionCorpora(join(root, 'u'), [{ dir: a, tag: 'a' }, { dir: b, tag: 'b' }]);
    assert.equal([r.train, r.valid, r.test], [2, 1, 1]);
    const entries = await listCorpus(join(root, 'u'));
    assert.equal(entries.map((e) => `${e.split}/${e.id}`).sort(), ['test/a-song-0002', 'train/a-song-0001', 'train/b-song-0001', 'valid/b-song-0002']);
    for (const e of entries) {
      const [tag, ...rest] = e.id.split('-');
      const original = join(tag === 'a' ? a : b, e.split, rest.join('-'), 'mix.wav');
      assert.is(await realpath(e.mix), await realpath(original), `${e.id} reaches its song through the link`);
      assert.is(await readFile(e.mix, 'utf8'), rest.join('-'));
    }
    // a singer of a's test split in b's training split: a test song would not be unseen
    const c = join(root, 'c');
    await fakeCorpus(c, [{ id: 'song-0001', split: 'train', voice: 'v2', acc: [] }]);
    await rejectsWith(unionCorpora(join(root, 'u2'), [{ dir: a, tag: 'a' }, { dir: c, tag: 'c' }]), /festival:v2 is in the test split .* and the train split/);
    // an accompaniment source crossing splits, too (MIDI seeds are per song and may repeat)
    const d = join(root, 'd');
    await fakeCorpus(d, [{ id: 'song-0001', split: 'valid', voice: 'v9', acc: ['midi:12', 'wesnoth:x'] }]);
    await rejectsWith(unionCorpora(join(root, 'u3'), [{ dir: a, tag: 'a' }, { dir: d, tag: 'd' }]), /wesnoth:x is in the train split/);
    await rejectsWith(unionCorpora(join(root, 'u4'), [{ dir: a, tag: 'a' }, { dir: join(root, 'none'), tag: 'n' }]), /manifest\.json: missing/);
    await rejectsWith(unionCorpora(join(root, 'u5'), [{ dir: a, tag: 'a' }, { dir: b, tag: 'a' }]), /tag "a" given twice/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.run();
