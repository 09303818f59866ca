// Checks a built corpus against its manifest: every song's three WAV files exist, are
// 22 050 Hz mono float32 of the same length, the mix is exactly vocals + accompaniment
// (float32 sum), labels.json has one label per front-end frame and equals the labelling rule
// recomputed from vocals.wav, and the manifest's per-song statistics match. Usage:
//   node --import tsx scripts/corpus/verify.ts [corpus]
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readWavFile } from '../../src/audio/node.ts';
import { frameLabels, frameCount } from './labels.ts';

interface SongEntry {
  id: string;
  samples: number;
  frames: number;
  voicedFrames: number;
  files: { mix: string; vocals: string; accompaniment: string; labels: string };
}

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? 'corpus');
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { songs: SongEntry[] };
  const problems: string[] = [];
  let checked = 0;
  for (const s of manifest.songs) {
    const [mix, voc, acc] = await Promise.all([s.files.mix, s.files.vocals, s.files.accompaniment].map((f) => readWavFile(join(dir, f))));
    for (const [name, w] of [['mix', mix], ['vocals', voc], ['accompaniment', acc]] as const) {
      if (w!.sampleRate !== 22050 || w!.channels.length !== 1 || w!.format !== 'float32') problems.push(`${s.id}: ${name} is ${w!.sampleRate} Hz × ${w!.channels.length} ch ${w!.format}`);
      if (w!.channels[0]!.length !== s.samples) problems.push(`${s.id}: ${name} has ${w!.channels[0]!.length} samples, manifest says ${s.samples}`);
    }
    const m = mix!.channels[0]!;
    const v = voc!.channels[0]!;
    const a = acc!.channels[0]!;
    let bad = 0;
    for (let i = 0; i < m.length; i++) if (m[i] !== Math.fround(v[i]! + a[i]!)) bad++;
    if (bad > 0) problems.push(`${s.id}: mix differs from vocals + accompaniment at ${bad} samples`);
    const labels = JSON.parse(await readFile(join(dir, s.files.labels), 'utf8')) as { labels: number[]; frames: number };
    const want = frameLabels(v);
    if (labels.labels.length !== frameCount(m.length) || labels.frames !== want.length || s.frames !== want.length) problems.push(`${s.id}: ${labels.labels.length} labels, expected ${frameCount(m.length)}`);
    else if (labels.labels.some((x, i) => x !== want[i])) problems.push(`${s.id}: labels differ from the rule applied to vocals.wav`);
    const voiced = want.reduce((t, x) => t + x, 0);
    if (voiced !== s.voicedFrames) problems.push(`${s.id}: manifest voicedFrames ${s.voicedFrames}, recomputed ${voiced}`);
    checked++;
  }
  for (const p of problems) process.stderr.write(`verify: ${p}\n`);
  process.stderr.write(`verify: ${checked} songs checked, ${problems.length} problems\n`);
  process.exit(problems.length === 0 ? 0 : 1);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
