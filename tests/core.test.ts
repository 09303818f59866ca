import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { core, initCore, Arena } from '../bindings/wasm.ts';
import { EarshotError } from '../bindings/errors.ts';

test('the core loads and reports the ABI the bindings expect', async () => {
  const c = await initCore();
  assert.is(c.exports.abiVersion(), 1);
  assert.is(core(), c);
});

test('arena blocks never overlap and survive memory growth', () => {
  const mem = new WebAssembly.Memory({ initial: 1 });
  const a = new Arena(mem, 1024);
  const b1 = a.allocF32(1000);
  b1.f32().fill(1);
  const b2 = a.allocF32(200_000); // forces growth: old ArrayBuffer detaches
  b2.f32().fill(2);
  assert.ok(b2.ptr >= b1.ptr + 4000);
  assert.is(b1.f32()[999], 1); // fresh view after growth still sees the data
  b1.free();
  const b3 = a.allocF32(500); // reuses the freed hole
  assert.is(b3.ptr, b1.ptr);
  assert.ok(b3.ptr + 2000 <= b2.ptr);
  b3.free();
  b2.free();
  assert.is(a.liveBytes, 0);
  assert.throws(() => b2.free(), (e: unknown) => e instanceof EarshotError && e.code === 'DOUBLE_FREE');
});

test('scope frees its blocks even when the body throws', () => {
  const a = core().arena;
  const before = a.liveBytes;
  assert.throws(() =>
    a.scope((s) => {
      s.f32(100);
      s.f64(100);
      throw new Error('boom');
    }),
  );
  assert.is(a.liveBytes, before);
});

test.run();
