/**
 * Shared test helpers: loading committed fixtures (tests/fixtures/<area>/…) and comparing arrays.
 * Binary fixtures are raw little-endian arrays (.f32, .f64, .i32) described by a JSON file from
 * the generator script under scripts/fixtures/.
 */
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const fixturePath = (...p: string[]) => join(ROOT, 'tests', 'fixtures', ...p);

function bytes(p: string): Uint8Array {
  const b = readFileSync(fixturePath(p));
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
export const readF32 = (p: string) => new Float32Array(bytes(p).buffer);
export const readF64 = (p: string) => new Float64Array(bytes(p).buffer);
export const readI32 = (p: string) => new Int32Array(bytes(p).buffer);
export const readJSON = <T = any>(p: string): T => JSON.parse(readFileSync(fixturePath(p), 'utf8'));

/** Largest |a−b| / (|b| + atol) over all elements, with the index where it happens. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-12): { err: number; at: number } {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let err = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!) / (Math.abs(b[i]!) + atol);
    if (!(e <= err)) {
      err = e;
      at = i;
    }
  }
  return { err, at };
}

/** Largest |a−b|. NaN anywhere makes it NaN (so `< tol` fails). */
export function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (!(e <= err)) err = e;
  }
  return err;
}

/** Assert that `fn` throws an EarshotError with the given code (and message matching `re`). */
export function throwsCode(fn: () => unknown, code: string, re?: RegExp): void {
  try {
    fn();
  } catch (e: any) {
    if (e?.name !== 'EarshotError') throw new Error(`expected EarshotError ${code}, got ${e?.name}: ${e?.message}`);
    if (e.code !== code) throw new Error(`expected code ${code}, got ${e.code}: ${e.message}`);
    if (re && !re.test(e.message)) throw new Error(`message ${JSON.stringify(e.message)} does not match ${re}`);
    return;
  }
  throw new Error(`expected EarshotError ${code}, nothing was thrown`);
}

/** Like throwsCode for async functions: the promise rejects with this EarshotError code (and message). */
export async function rejectsCode(fn: () => Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  let err: any = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected a rejection with code ${code}, got none`);
  if (err.code !== code) throw new Error(`expected code ${code}, got ${err.code}: ${err.message}`);
  if (re && !re.test(err.message)) throw new Error(`message ${JSON.stringify(err.message)} does not match ${re}`);
}

/**
 * A tiny synthetic corpus in `dir` (manifest.json + per song mix/vocals/accompaniment WAVs and
 * labels.json, the layout of docs/corpus.md) for end-to-end tests of corpus commands: each song
 * is `seconds` long at 22 050 Hz, a vibrato "voice" (harmonics of 220–330 Hz) in its first half
 * over a low drone + noise accompaniment; frame labels (hop 315) mark the voiced half.
 */
export async function makeTinyCorpus(dir: string, songs: Record<'train' | 'valid' | 'test', number>, seconds = 3): Promise<void> {
  const { writeWavFile } = await import('../src/audio/node.ts');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const sr = 22050;
  const n = Math.round(seconds * sr);
  const frames = Math.floor((n - 1024) / 315) + 1;
  const list: Array<{ id: string; split: string }> = [];
  let k = 0;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (const split of ['train', 'valid', 'test'] as const) {
    for (let i = 0; i < songs[split]; i++, k++) {
      const id = `song-${String(k).padStart(4, '0')}`;
      const d = join(dir, split, id);
      mkdirSync(d, { recursive: true });
      const voc = new Float32Array(n);
      const acc = new Float32Array(n);
      const f0 = 220 + 40 * k;
      let ph = 0;
      for (let t = 0; t < n; t++) {
        const f = f0 * (1 + 0.02 * Math.sin((2 * Math.PI * 5.5 * t) / sr));
        ph += (2 * Math.PI * f) / sr;
        if (t < n / 2) for (let h = 1; h <= 6; h++) voc[t] += (0.25 / h) * Math.sin(h * ph);
        acc[t] = 0.15 * Math.sin((2 * Math.PI * 55 * t) / sr) + 0.03 * rand();
      }
      const mix = Float32Array.from(voc, (v, t) => v + acc[t]!);
      await writeWavFile(join(d, 'mix.wav'), { sampleRate: sr, channels: [mix] });
      await writeWavFile(join(d, 'vocals.wav'), { sampleRate: sr, channels: [voc] });
      await writeWavFile(join(d, 'accompaniment.wav'), { sampleRate: sr, channels: [acc] });
      const labels = Array.from({ length: frames }, (_, f) => (315 * f + 1024 <= n / 2 ? 1 : 0));
      writeFileSync(join(d, 'labels.json'), JSON.stringify({ sampleRate: sr, frameLength: 1024, hop: 315, frames, labels }));
      list.push({ id, split });
    }
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'earshot-corpus/1', songs: list }));
}
