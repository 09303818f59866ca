/**
 * The seeded pseudo-random generator of the explainers: xoshiro128** (Blackman & Vigna 2018,
 * 32-bit state words, period 2^128 − 1) seeded by running SplitMix32 (the 32-bit variant of
 * Steele et al.'s SplitMix: state += 0x9e3779b9, then the murmur3 finaliser) over the seed.
 * Only 32-bit integer arithmetic (`Math.imul`, `>>>`), so the same seed gives the same numbers in
 * Node and in every browser. Nothing in src/explain uses Math.random.
 *
 * Derived draws:
 * - `bits(out)`: Bernoulli(½) bits, 32 per generator output, least significant bit first;
 * - `uniform()`: 53-bit double in [0, 1) from two outputs ((a >>> 5)·2^26 + (b >>> 6)) / 2^53;
 * - `normal()`: Box–Muller from two uniforms, cos branch only (one output per call pair);
 * - `below(k)`: an integer in [0, k) by rejection (no modulo bias).
 */
import { EarshotError } from '../../bindings/errors.ts';

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new EarshotError('BAD_ARGUMENT', `seed must be an integer in [0, 4294967295], got ${String(seed)}`);
    }
    let x = seed >>> 0;
    const mix = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit output (unsigned). */
  nextU32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Fill `out` with independent fair bits (0/1). */
  bits(out: Uint8Array): Uint8Array {
    let word = 0;
    for (let i = 0; i < out.length; i++) {
      if ((i & 31) === 0) word = this.nextU32();
      out[i] = (word >>> (i & 31)) & 1;
    }
    return out;
  }

  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  below(k: number): number {
    const limit = Math.floor(4294967296 / k) * k;
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % k;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
