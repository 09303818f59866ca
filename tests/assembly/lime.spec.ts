// as-pect specs of the LIME kernels (assembly/ridge.ts, assembly/occlude.ts) on small hand-made
// systems whose answers are known in closed form.
import { weightedRidge, weightedR2, ridgeScratchBytes, firstNonFiniteF64, u8ToF64 } from "../../assembly/ridge";
import { occludeRuns } from "../../assembly/occlude";

// raw, unmanaged blocks (heap.alloc): the GC never moves or collects them, unlike arrays whose
// only reference would be a pointer; 16-byte aligned like the host's arena blocks
function f64s(values: f64[]): usize {
  const p = heap.alloc(<usize>values.length << 3);
  for (let i = 0; i < values.length; i++) store<f64>(p + (<usize>i << 3), values[i]);
  return p;
}
function zeros(count: i32): usize {
  const p = heap.alloc(<usize>count << 3);
  memory.fill(p, 0, <usize>count << 3);
  return p;
}
function get(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}
function scratchFor(n: i32, d: i32): usize {
  return heap.alloc(<usize>ridgeScratchBytes(n, d));
}

describe("weightedRidge, Cholesky path", () => {
  it("solves least squares exactly: X = [[1,0],[0,1],[1,1]], y = [1,2,3] → β = [1, 2]", () => {
    const coef = zeros(2);
    const s = scratchFor(3, 2);
    const b0 = weightedRidge(f64s([1, 0, 0, 1, 1, 1]), f64s([1, 2, 3]), f64s([1, 1, 1]), 3, 2, 0.0, 0, coef, s);
    expect(b0).toBe(0.0);
    expect(get(s, 0)).toBe(0.0); // Cholesky
    expect(get(coef, 0)).toBeCloseTo(1.0, 14);
    expect(get(coef, 1)).toBeCloseTo(2.0, 14);
  });
  it("adds αI: α = 1 gives (G + I)⁻¹ Xᵀy = [7/8, 11/8]", () => {
    const coef = zeros(2);
    weightedRidge(f64s([1, 0, 0, 1, 1, 1]), f64s([1, 2, 3]), f64s([1, 1, 1]), 3, 2, 1.0, 0, coef, scratchFor(3, 2));
    expect(get(coef, 0)).toBeCloseTo(0.875, 14);
    expect(get(coef, 1)).toBeCloseTo(1.375, 14);
  });
  it("centres with weighted means: y = 1 + 2x gives β = 2, intercept = 1", () => {
    const coef = zeros(1);
    const b0 = weightedRidge(f64s([0, 1, 2]), f64s([1, 3, 5]), f64s([0.5, 1, 3]), 3, 1, 0.0, 1, coef, scratchFor(3, 1));
    expect(get(coef, 0)).toBeCloseTo(2.0, 14);
    expect(b0).toBeCloseTo(1.0, 14);
  });
  it("weights scale residuals: a zero-weight outlier changes nothing", () => {
    const coef = zeros(1);
    const b0 = weightedRidge(f64s([0, 1, 2, 3]), f64s([1, 3, 5, 100]), f64s([1, 1, 1, 0]), 4, 1, 0.0, 1, coef, scratchFor(4, 1));
    expect(get(coef, 0)).toBeCloseTo(2.0, 13);
    expect(b0).toBeCloseTo(1.0, 13);
  });
  it("odd d and n not a multiple of 4 (padding and remainder rows): 5 rows, 3 features, exact fit", () => {
    // y = 1·x0 − 2·x1 + 0.5·x2 on 5 independent rows
    const X: f64[] = [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 2, -1, 3];
    const y: f64[] = [1, -2, 0.5, -0.5, 5.5];
    const coef = zeros(3);
    const s = scratchFor(5, 3);
    weightedRidge(f64s(X), f64s(y), f64s([1, 2, 3, 4, 5]), 5, 3, 0.0, 0, coef, s);
    expect(get(s, 0)).toBe(0.0);
    expect(get(coef, 0)).toBeCloseTo(1.0, 13);
    expect(get(coef, 1)).toBeCloseTo(-2.0, 13);
    expect(get(coef, 2)).toBeCloseTo(0.5, 13);
  });
});

describe("weightedRidge, fallback when X̃ᵀX̃ + αI is not positive definite", () => {
  it("duplicated column, α = 0: Cholesky fails, the pseudo-inverse gives the minimum-norm β = [1, 1]", () => {
    const coef = zeros(2);
    const s = scratchFor(3, 2);
    weightedRidge(f64s([1, 1, 2, 2, 3, 3]), f64s([2, 4, 6]), f64s([1, 1, 1]), 3, 2, 0.0, 0, coef, s);
    expect(get(s, 0)).toBe(1.0); // eigen fallback
    expect(get(s, 3)).toBe(1.0); // rank 1
    expect(get(coef, 0)).toBeCloseTo(1.0, 13);
    expect(get(coef, 1)).toBeCloseTo(1.0, 13);
  });
  it("all-zero column, α = 0: the null direction gets β = 0 exactly", () => {
    const coef = zeros(2);
    const s = scratchFor(2, 2);
    weightedRidge(f64s([1, 0, 2, 0]), f64s([3, 6]), f64s([1, 1]), 2, 2, 0.0, 0, coef, s);
    expect(get(s, 0)).toBe(1.0);
    expect(get(coef, 0)).toBeCloseTo(3.0, 14);
    expect(get(coef, 1)).toBe(0.0);
  });
  it("rank 2 of 3 (c2 = c0 + c1), y = c0 + 2·c1: minimum-norm β = [0, 1, 1]", () => {
    // c0 = 1111, c1 = 1100: G = [[4,2,6],[2,2,4],[6,4,10]] factorises exactly to a zero last pivot
    const coef = zeros(3);
    const s = scratchFor(4, 3);
    weightedRidge(f64s([1, 1, 2, 1, 1, 2, 1, 0, 1, 1, 0, 1]), f64s([3, 3, 1, 1]), f64s([1, 1, 1, 1]), 4, 3, 0.0, 0, coef, s);
    expect(get(s, 0)).toBe(1.0);
    expect(get(s, 3)).toBe(2.0);
    expect(get(coef, 0)).toBeCloseTo(0.0, 12);
    expect(get(coef, 1)).toBeCloseTo(1.0, 12);
    expect(get(coef, 2)).toBeCloseTo(1.0, 12);
  });
  it("a constant column with an intercept centres to zero and drops out", () => {
    const coef = zeros(2);
    const s = scratchFor(3, 2);
    const b0 = weightedRidge(f64s([0, 4, 1, 4, 2, 4]), f64s([1, 3, 5]), f64s([1, 1, 1]), 3, 2, 0.0, 1, coef, s);
    expect(get(s, 0)).toBe(1.0);
    expect(get(coef, 0)).toBeCloseTo(2.0, 13);
    expect(get(coef, 1)).toBe(0.0);
    expect(b0).toBeCloseTo(1.0, 13);
  });
});

describe("weightedR2", () => {
  it("is 1 for a perfect fit (numerator 0)", () => {
    expect(weightedR2(f64s([0, 1, 2]), f64s([1, 3, 5]), f64s([1, 2, 3]), 3, 1, f64s([2]), 1.0)).toBe(1.0);
  });
  it("is 0 for a constant target that the model misses (denominator 0)", () => {
    expect(weightedR2(f64s([0, 1, 2]), f64s([2, 2, 2]), f64s([1, 2, 3]), 3, 1, f64s([1]), 0.0)).toBe(0.0);
  });
  it("is 1 − Σw r² / Σw (y − ȳ_w)² otherwise", () => {
    // ŷ = 0 for all; ȳ_w = (1·1 + 1·3)/2 = 2; num = 1 + 9 = 10; den = 1 + 1 = 2 → 1 − 5 = −4
    expect(weightedR2(f64s([0, 0]), f64s([1, 3]), f64s([1, 1]), 2, 1, f64s([0]), 0.0)).toBe(-4.0);
  });
});

describe("helpers", () => {
  it("firstNonFiniteF64 finds NaN / Infinity in the vector blocks and the tail", () => {
    const a = new StaticArray<f64>(21);
    const p = changetype<usize>(a);
    expect(firstNonFiniteF64(p, 21)).toBe(-1);
    a[13] = Infinity;
    expect(firstNonFiniteF64(p, 21)).toBe(13);
    a[13] = 0;
    a[20] = NaN;
    expect(firstNonFiniteF64(p, 21)).toBe(20);
    a[3] = -Infinity;
    expect(firstNonFiniteF64(p, 21)).toBe(3);
  });
  it("u8ToF64 widens bytes", () => {
    const src = new StaticArray<u8>(3);
    src[0] = 1;
    src[2] = 1;
    const dst = zeros(3);
    u8ToF64(changetype<usize>(src), dst, 3);
    expect(get(dst, 0)).toBe(1.0);
    expect(get(dst, 1)).toBe(0.0);
    expect(get(dst, 2)).toBe(1.0);
  });
});

describe("occludeRuns", () => {
  it("writes bits[label] ? x : R per bin, −1 bins always x", () => {
    // 2×4 excerpt, labels [0 0 1 -1 | 1 1 0 0] → runs start [0,2,3,4,6] comp [0,1,-1,1,0]
    const x = new StaticArray<f32>(8);
    const r = new StaticArray<f32>(8);
    for (let i = 0; i < 8; i++) {
      x[i] = <f32>(i + 1);
      r[i] = <f32>(-(i + 1));
    }
    const starts = new StaticArray<i32>(5);
    const comps = new StaticArray<i32>(5);
    const s: i32[] = [0, 2, 3, 4, 6];
    const c: i32[] = [0, 1, -1, 1, 0];
    for (let i = 0; i < 5; i++) {
      starts[i] = s[i];
      comps[i] = c[i];
    }
    const bits = new StaticArray<u8>(4); // rows: [1, 0], [0, 1]
    bits[0] = 1;
    bits[3] = 1;
    const out = new StaticArray<f32>(16);
    occludeRuns(changetype<usize>(x), changetype<usize>(r), 0, 0, changetype<usize>(starts), changetype<usize>(comps), 5, changetype<usize>(bits), 2, 2, changetype<usize>(out), 8);
    const want: f32[] = [1, 2, -3, 4, -5, -6, 7, 8, -1, -2, 3, 4, 5, 6, -7, -8];
    for (let i = 0; i < 16; i++) expect(out[i]).toBe(want[i]);
    occludeRuns(changetype<usize>(x), 0, 1, 9.5, changetype<usize>(starts), changetype<usize>(comps), 5, changetype<usize>(bits), 2, 2, changetype<usize>(out), 8);
    const wantScalar: f32[] = [1, 2, 9.5, 4, 9.5, 9.5, 7, 8, 9.5, 9.5, 3, 4, 5, 6, 9.5, 9.5];
    for (let i = 0; i < 16; i++) expect(out[i]).toBe(wantScalar[i]);
  });
});
