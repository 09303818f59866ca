// as-pect specs for the separation kernels (assembly/separate.ts) called directly: median filter
// edge reflection on a hand-worked line, HPSS masks summing to one, mask application (SIMD body
// and tail), REPET-SIM on identical frames (mask 1), and β-NMF's objective not increasing.
// The SciPy comparisons are in tests/separate.test.ts.
import { medianFilterAxis, hpssMasks, applyMaskComplex, frameCosineSimilarity, repetSimMask, nmfBeta, nmfMask } from "../../assembly/separate";

function alloc(bytes: i32): usize {
  const p = heap.alloc(<usize>bytes + 16);
  const a = (p + 15) & ~(<usize>15);
  memory.fill(a, 0, <usize>bytes);
  return a;
}
function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
function put(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

describe("medianFilterAxis", () => {
  it("reflects at the edges like scipy.ndimage (mode 'reflect')", () => {
    // one frame of 5 bins [5, 1, 4, 2, 3], kernel 3 along frequency:
    // padded 5 | 5 1 4 2 3 | 3 → medians 5, 4, 2, 3, 3
    const src = alloc(20);
    const dst = alloc(20);
    const scr = alloc(12);
    put(src, 0, 5); put(src, 1, 1); put(src, 2, 4); put(src, 3, 2); put(src, 4, 3);
    medianFilterAxis(src, 1, 5, 3, 1, dst, scr);
    expect(at(dst, 0)).toBe(5);
    expect(at(dst, 1)).toBe(4);
    expect(at(dst, 2)).toBe(2);
    expect(at(dst, 3)).toBe(3);
    expect(at(dst, 4)).toBe(3);
    // the same values as 5 frames × 1 bin along time
    medianFilterAxis(src, 5, 1, 3, 0, dst, scr);
    expect(at(dst, 1)).toBe(4);
    expect(at(dst, 4)).toBe(3);
  });
});

describe("hpssMasks", () => {
  it("sum to one with and without margins", () => {
    const h = alloc(16); const p = alloc(16);
    const mh = alloc(16); const mp = alloc(16); const mr = alloc(16);
    put(h, 0, 1); put(p, 0, 1); put(h, 1, 3); put(p, 1, 1); put(h, 2, 0); put(p, 2, 2); put(h, 3, 0); put(p, 3, 0);
    hpssMasks(h, p, 4, 2, 1, 1, mh, mp, mr);
    expect(at(mh, 0)).toBeCloseTo(0.5);
    expect(at(mh, 1)).toBeCloseTo(0.9);
    for (let i = 0; i < 4; i++) expect(at(mh, i) + at(mp, i) + at(mr, i)).toBeCloseTo(1);
    hpssMasks(h, p, 4, 2, 2, 2, mh, mp, mr);
    expect(at(mh, 0)).toBeCloseTo(0.2); // 1 / (1 + 4)
    for (let i = 0; i < 4; i++) expect(at(mh, i) + at(mp, i) + at(mr, i)).toBeCloseTo(1);
  });
});

describe("applyMaskComplex", () => {
  it("scales re and im of every cell", () => {
    const s = alloc(40); const m = alloc(20); const o = alloc(40);
    for (let i = 0; i < 10; i++) put(s, i, <f32>(i + 1));
    for (let i = 0; i < 5; i++) put(m, i, <f32>i * 0.5);
    applyMaskComplex(s, m, 5, o);
    for (let i = 0; i < 5; i++) {
      expect(at(o, 2 * i)).toBe(at(s, 2 * i) * at(m, i));
      expect(at(o, 2 * i + 1)).toBe(at(s, 2 * i + 1) * at(m, i));
    }
  });
});

describe("repetSimMask", () => {
  it("is 1 where every frame repeats", () => {
    const T = 6; const F = 5;
    const mag = alloc(T * F * 4);
    for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) put(mag, t * F + f, <f32>(f + 1));
    const sim = alloc(T * T * 4); const norms = alloc(T * 4);
    frameCosineSimilarity(mag, T, F, sim, norms);
    expect(at(sim, 7)).toBeCloseTo(1);
    const mask = alloc(T * F * 4); const scr = alloc((T + 8) * 4);
    repetSimMask(mag, sim, T, F, 4, 1, 0, mask, scr);
    for (let i = 0; i < T * F; i++) expect(at(mask, i)).toBeCloseTo(1);
  });
});

describe("nmfBeta", () => {
  it("does not increase the KL objective and its masks sum to one", () => {
    const T = 8; const F = 6; const K = 2;
    const v = alloc(T * F * 8); const a = alloc(T * K * 8); const b = alloc(K * F * 8);
    for (let i = 0; i < T * F; i++) store<f64>(v + (<usize>i << 3), 0.1 + <f64>((i * 7) % 5));
    for (let i = 0; i < T * K; i++) store<f64>(a + (<usize>i << 3), 0.5 + 0.1 * <f64>(i % 3));
    for (let i = 0; i < K * F; i++) store<f64>(b + (<usize>i << 3), 0.5 + 0.1 * <f64>(i % 4));
    const obj = alloc(11 * 8); const scr = alloc((3 * T * F + 2 * K * F) * 8);
    nmfBeta(v, T, F, K, 1, 10, a, b, obj, scr);
    for (let i = 1; i <= 10; i++) expect(load<f64>(obj + (<usize>i << 3)) <= load<f64>(obj + (<usize>(i - 1) << 3))).toBe(true);
    const acc = alloc(T * F * 4); const m0 = alloc(T * F * 4); const m1 = alloc(T * F * 4);
    nmfMask(a, b, T, F, K, 0, m0, acc);
    nmfMask(a, b, T, F, K, 1, m1, acc);
    for (let i = 0; i < T * F; i++) expect(at(m0, i) + at(m1, i)).toBeCloseTo(1);
  });
});
