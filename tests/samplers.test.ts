// Sample designs (src/explain/samplers.ts) and the seeded generator (src/explain/rng.ts):
// xoshiro128** outputs against an independent Python transcription of the published algorithm
// (scripts/fixtures/make_lime_fixtures.py → tests/fixtures/lime/rng.json); LIME's random draw;
// dedup = the same rows with multiplicities; exhaustive = the expected design.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../src/explain/rng.ts';
import { randomSampler, dedupSampler, exhaustiveSampler, samplerByName } from '../src/explain/samplers.ts';
import { readJSON, throwsCode } from './helpers.ts';

test('xoshiro128** with SplitMix32 seeding matches the Python reference outputs', () => {
  const ref = readJSON<Record<string, number[]>>('lime/rng.json');
  for (const [seed, outs] of Object.entries(ref)) {
    const r = new Rng(Number(seed));
    assert.equal(outs.map(() => r.nextU32()), outs, `seed ${seed}`);
  }
});

test('bits are the generator outputs, least significant bit first; uniform and normal have the right moments', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const bits = a.bits(new Uint8Array(64));
  const w0 = b.nextU32();
  const w1 = b.nextU32();
  for (let i = 0; i < 32; i++) assert.is(bits[i], (w0 >>> i) & 1);
  for (let i = 0; i < 32; i++) assert.is(bits[32 + i], (w1 >>> i) & 1);
  const r = new Rng(3);
  let s = 0;
  let s2 = 0;
  const N = 20000;
  for (let i = 0; i < N; i++) {
    const v = r.normal();
    s += v;
    s2 += v * v;
  }
  assert.ok(Math.abs(s / N) < 0.03 && Math.abs(s2 / N - 1) < 0.04, `normal mean ${s / N}, var ${s2 / N}`);
  let u = 0;
  for (let i = 0; i < N; i++) u += r.uniform();
  assert.ok(Math.abs(u / N - 0.5) < 0.01);
});

test("random: LIME's draw — N_s rows, row 0 all ones, the others fair independent bits, same seed → same rows", () => {
  const d = 10;
  const a = randomSampler.design(d, 5000, 42);
  assert.is(a.n, 5000);
  assert.equal(Array.from(a.rows.subarray(0, d)), new Array(d).fill(1));
  let ones = 0;
  for (let i = d; i < a.rows.length; i++) ones += a.rows[i]!;
  const p = ones / (a.rows.length - d);
  assert.ok(Math.abs(p - 0.5) < 0.01, `P(bit = 1) = ${p}`);
  assert.equal(a.rows, randomSampler.design(d, 5000, 42).rows);
  assert.not.equal(a.rows, randomSampler.design(d, 5000, 43).rows);
  assert.ok(a.multiplicity.every((m) => m === 1));
});

test('dedup: exactly the rows of random for the same seed, each distinct row once with its count', () => {
  for (const [d, Ns] of [[4, 1000], [10, 5000], [20, 300]] as const) {
    const r = randomSampler.design(d, Ns, 9);
    const u = dedupSampler.design(d, Ns, 9);
    assert.ok(u.n <= Math.min(Ns, 2 ** d));
    assert.is(u.numSamples, Ns);
    assert.is(u.multiplicity.reduce((a, b) => a + b, 0), Ns);
    assert.equal(Array.from(u.rows.subarray(0, d)), new Array(d).fill(1), 'row 0 is the original');
    const count = new Map<string, number>();
    for (let i = 0; i < Ns; i++) {
      const k = r.rows.subarray(i * d, (i + 1) * d).join('');
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    assert.is(count.size, u.n, 'one row per distinct pattern');
    for (let i = 0; i < u.n; i++) assert.is(u.multiplicity[i], count.get(u.rows.subarray(i * d, (i + 1) * d).join('')), `row ${i}`);
  }
});

test('exhaustive: all 2^d patterns, the all-ones row first with 1 + (N_s − 1)/2^d, the others (N_s − 1)/2^d; no seed dependence', () => {
  const d = 5;
  const e = exhaustiveSampler.design(d, 1000, 1);
  assert.is(e.n, 32);
  assert.equal(e, exhaustiveSampler.design(d, 1000, 2));
  const seen = new Set<string>();
  for (let i = 0; i < e.n; i++) seen.add(e.rows.subarray(i * d, (i + 1) * d).join(''));
  assert.is(seen.size, 32);
  assert.equal(Array.from(e.rows.subarray(0, d)), [1, 1, 1, 1, 1]);
  assert.is(e.multiplicity[0], 1 + 999 / 32);
  for (let i = 1; i < 32; i++) assert.is(e.multiplicity[i], 999 / 32);
  assert.ok(Math.abs(e.multiplicity.reduce((a, b) => a + b, 0) - 1000) < 1e-9);
});

test('bad arguments are rejected by name', () => {
  throwsCode(() => exhaustiveSampler.design(17, 1000, 0), 'BAD_ARGUMENT', /exhaustive.*d ≤ 16/);
  throwsCode(() => randomSampler.design(0, 1000, 0), 'BAD_ARGUMENT', /d \(number of components\)/);
  throwsCode(() => dedupSampler.design(10, 0, 0), 'BAD_ARGUMENT', /numSamples/);
  throwsCode(() => randomSampler.design(10, 100, -1), 'BAD_ARGUMENT', /seed/);
  throwsCode(() => randomSampler.design(10, 100, 1.5), 'BAD_ARGUMENT', /seed/);
  throwsCode(() => samplerByName('sobol'), 'BAD_ARGUMENT', /sampler/);
});

test.run();
