/**
 * The raw ABI as docs/abi.md shows it: a host with no bindings instantiates the core with only
 * `env.abort`, manages memory from heapBase() itself, and calls the kernels.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreBytes } from '../bindings/wasm.ts';
import { ROOT } from './helpers.ts';

test('the core imports nothing but (at most) env.abort and exports memory, heapBase and abiVersion', () => {
  const mod = new WebAssembly.Module(coreBytes());
  const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);
  for (const i of imports) assert.is(i, 'env.abort');
  const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
  for (const name of ['memory', 'heapBase', 'abiVersion', 'rfft', 'stftFrames', 'melFrontEnd', 'occludeRuns', 'weightedRidge']) {
    assert.ok(exports.includes(name), `missing export ${name}`);
  }
  // every export is a function or the memory: no globals/tables leak managed state
  for (const e of WebAssembly.Module.exports(mod)) assert.ok(e.kind === 'function' || e.kind === 'memory', `${e.name} is a ${e.kind}`);
});

test('docs/abi.md example: a 1 kHz tone at 22 050 Hz peaks in bin round(1000·1024/22050) = 46', async () => {
  const { instance } = await WebAssembly.instantiate(coreBytes(), { env: { abort() { throw new Error('abort'); } } });
  const k = instance.exports as any;
  let top = (k.heapBase() + 15) & ~15;
  const alloc = (b: number) => {
    const p = top;
    top = (top + b + 15) & ~15;
    const need = top - k.memory.buffer.byteLength;
    if (need > 0) k.memory.grow(Math.ceil(need / 65536));
    return p;
  };
  const plan = alloc(k.fftPlanBytes(1024));
  k.fftPlanInit(1024, plan);
  const scratch = alloc(k.fftScratchBytes(1024));
  const x = alloc(4 * 1024);
  const X = alloc(4 * 1026);
  const xs = new Float32Array(k.memory.buffer, x, 1024);
  for (let i = 0; i < 1024; i++) xs[i] = Math.sin((2 * Math.PI * 1000 * i) / 22050);
  k.rfft(plan, 1024, x, X, scratch);
  const spec = new Float32Array(k.memory.buffer, X, 1026);
  let best = 0;
  let bestMag = -1;
  for (let b = 0; b <= 512; b++) {
    const m = Math.hypot(spec[2 * b]!, spec[2 * b + 1]!);
    if (m > bestMag) {
      bestMag = m;
      best = b;
    }
  }
  assert.is(best, Math.round((1000 * 1024) / 22050));
});

test('docs/abi.md documents every function the core exports (node scripts/abi-doc.mjs regenerates it)', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'abi.md'), 'utf8');
  const mod = new WebAssembly.Module(coreBytes());
  for (const e of WebAssembly.Module.exports(mod)) {
    if (e.kind === 'function') assert.ok(doc.includes(`| \`${e.name}\` |`), `docs/abi.md lacks ${e.name}`);
  }
});

test.run();
