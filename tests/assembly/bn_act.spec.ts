// Hand-computed cases for assembly/bn_act.ts (the TS tests compare against the tfjs graph on cpu/wasm).
import { bnActStats, bnActForward, bnActBackwardSums, bnActBackwardDx, maxPoolBlocksGrad } from "../../assembly/bn_act";

function buf(values: f32[]): usize {
  const p = heap.alloc(<usize>values.length << 2);
  for (let i = 0; i < values.length; i++) store<f32>(p + (<usize>i << 2), values[i]);
  return p;
}
function buf64(n: i32): usize {
  const p = heap.alloc(<usize>n << 3);
  for (let i = 0; i < n; i++) store<f64>(p + (<usize>i << 3), 99);
  return p;
}
function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
function at64(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

describe("bnActStats", () => {
  it("2 rows × 5 channels (SIMD block + scalar tail): shifted sums and squares", () => {
    const x = buf([1, 2, 3, 4, 5, 3, 2, 1, 0, -5]);
    const shift = buf([1, 1, 1, 1, 1]);
    const s1 = buf64(5);
    const s2 = buf64(5);
    bnActStats(x, 2, 5, shift, s1, s2);
    // channel c: (x0 − 1) + (x1 − 1); squares likewise
    expect(at64(s1, 0)).toBe(2); // 0 + 2
    expect(at64(s2, 0)).toBe(4);
    expect(at64(s1, 1)).toBe(2); // 1 + 1
    expect(at64(s2, 1)).toBe(2);
    expect(at64(s1, 3)).toBe(2); // 3 + −1
    expect(at64(s2, 3)).toBe(10);
    expect(at64(s1, 4)).toBe(-2); // 4 + −6
    expect(at64(s2, 4)).toBe(52);
  });
});

describe("bnActForward", () => {
  it("y = lrelu((x − center)·scale + beta), negative side × alpha, in place", () => {
    const x = buf([1, 2, 3, 4, 5, 0, 0, 0, 0, 0]);
    const center = buf([2, 2, 2, 2, 2]);
    const scale = buf([1, 1, 2, 2, 0.5]);
    const beta = buf([0, 0, 0, 1, 0]);
    bnActForward(x, x, 2, 5, center, scale, beta, 0.5);
    expect(at(x, 0)).toBe(-0.5); // (1 − 2)·1 = −1 → ×0.5
    expect(at(x, 1)).toBe(0);
    expect(at(x, 2)).toBe(2);
    expect(at(x, 3)).toBe(5); // (4 − 2)·2 + 1
    expect(at(x, 4)).toBe(1.5); // (5 − 2)·0.5
    expect(at(x, 9)).toBe(-0.5); // (0 − 2)·0.5 = −1 → ×0.5
  });
});

describe("bnActBackward", () => {
  it("one channel, rows h = [−1, 1], γ = 2, β = 0.5, α = 0.1, dy = 1: dβ = 1.1, dγ = 0.9, dx = 0", () => {
    const x = buf([1, 3]);
    const dy = buf([1, 1]);
    const center = buf([2]);
    const inv = buf([1]);
    const gamma = buf([2]);
    const beta = buf([0.5]);
    const sg = buf64(1);
    const sgh = buf64(1);
    bnActBackwardSums(dy, x, 2, 1, center, inv, gamma, beta, 0.1, sg, sgh);
    expect(Math.abs(at64(sg, 0) - 1.1) < 1e-6).toBe(true);
    expect(Math.abs(at64(sgh, 0) - 0.9) < 1e-6).toBe(true);
    // k = γ/σ = 2, u = k·dβ/N = 1.1, w = k·dγ/N = 0.9
    const k = buf([2]);
    const u = buf([1.1]);
    const w = buf([0.9]);
    const dx = buf([7, 7]);
    const sdx = buf64(1);
    bnActBackwardDx(dy, x, dx, 2, 1, center, inv, gamma, beta, 0.1, k, u, w, sdx);
    expect(Math.abs(at(dx, 0)) < 1e-6).toBe(true); // 2·0.1 − 1.1 + 0.9
    expect(Math.abs(at(dx, 1)) < 1e-6).toBe(true); // 2·1 − 1.1 − 0.9
    expect(Math.abs(at64(sdx, 0)) < 1e-6).toBe(true);
  });
});

describe("maxPoolBlocksGrad", () => {
  it("4×4 input, 1 channel, 3×3 windows: dy to the first maximum, zeros in the dropped row/column", () => {
    const x = buf([1, 5, 5, 9, 0, 2, 5, 9, 3, 1, 0, 9, 9, 9, 9, 9]);
    const dy = buf([7]);
    const dx = buf(new Array<f32>(16).fill(-1));
    maxPoolBlocksGrad(x, dy, dx, 1, 4, 4, 1, 1, 1, 3, 3);
    for (let i = 0; i < 16; i++) expect(at(dx, i)).toBe(i == 1 ? <f32>7 : <f32>0);
  });
  it("4 channels (SIMD): each channel routes to its own first maximum", () => {
    // 3×3 window, channel c has its maximum at window position c (ties later in the window)
    const vals = new Array<f32>(36).fill(0);
    for (let c = 0; c < 4; c++) {
      vals[c * 4 + c] = 5;
      vals[8 * 4 + c] = 5; // tie at the last position: must not win
    }
    const x = buf(vals);
    const dy = buf([1, 2, 3, 4]);
    const dx = buf(new Array<f32>(36).fill(-1));
    maxPoolBlocksGrad(x, dy, dx, 1, 3, 3, 4, 1, 1, 3, 3);
    for (let p = 0; p < 9; p++) {
      for (let c = 0; c < 4; c++) expect(at(dx, p * 4 + c)).toBe(p == c ? <f32>(c + 1) : <f32>0);
    }
  });
});
