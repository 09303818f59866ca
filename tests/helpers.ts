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
