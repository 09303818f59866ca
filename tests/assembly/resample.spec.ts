// as-pect specs for the polyphase resampling kernel (assembly/resample.ts): hand-computed dot
// products for tiny phase tables, so the phase/start bookkeeping is checked independently of the
// filter design (which tests/resample.test.ts checks against SciPy).
import { resamplePoly } from "../../assembly/resample";

function buf(values: f32[]): usize {
  const p = heap.alloc(<usize>(values.length << 2) + 16);
  const a = (p + 15) & ~(<usize>15);
  for (let i = 0; i < values.length; i++) store<f32>(a + (<usize>i << 2), values[i]);
  return a;
}
function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

describe("resamplePoly", () => {
  it("with one phase [1,0,0,0] and up = down = 1 copies the input", () => {
    const x = buf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const taps = buf([1, 0, 0, 0]);
    const out = buf([0, 0, 0, 0, 0, 0]);
    resamplePoly(x, taps, 4, 1, 1, 0, 6, out);
    for (let k = 0; k < 6; k++) expect(at(out, k)).toBe(<f32>(k + 1));
  });

  it("decimates by 2: output k is the dot product at start 2k", () => {
    const x = buf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const taps = buf([1, 10, 100, 1000]);
    const out = buf([0, 0, 0, 0]);
    resamplePoly(x, taps, 4, 1, 2, 0, 4, out);
    // x[2k]·1 + x[2k+1]·10 + x[2k+2]·100 + x[2k+3]·1000
    expect(at(out, 0)).toBe(4321);
    expect(at(out, 1)).toBe(6543);
    expect(at(out, 2)).toBe(8765);
    expect(at(out, 3)).toBe(10987);
  });

  it("upsamples by 2: phases alternate and the start advances every second output", () => {
    const x = buf([1, 2, 3, 4, 5, 6, 7, 8]);
    // phase 0 picks the first sample, phase 1 averages the first two
    const taps = buf([1, 0, 0, 0, 0.5, 0.5, 0, 0]);
    const out = buf([0, 0, 0, 0, 0, 0]);
    resamplePoly(x, taps, 4, 2, 1, 0, 6, out);
    const want: f32[] = [1, 1.5, 2, 2.5, 3, 3.5];
    for (let k = 0; k < 6; k++) expect(at(out, k)).toBe(want[k]);
  });

  it("ratio 3/2 starting at phase 1: phase r_k = (1 + 2k) mod 3, start = (1 + 2k) div 3", () => {
    const x = buf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // phase r returns (r + 1) · x[start]
    const taps = buf([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    const out = buf([0, 0, 0, 0, 0]);
    resamplePoly(x, taps, 4, 3, 2, 1, 5, out);
    for (let k = 0; k < 5; k++) {
      const m = 1 + 2 * k;
      expect(at(out, k)).toBe(<f32>(((m % 3) + 1) * (m / 3 + 1)));
    }
  });

  it("uses all lanes of rows longer than one vector (8 taps)", () => {
    const x = buf([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
    const taps = buf([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = buf([0, 0]);
    resamplePoly(x, taps, 8, 1, 8, 0, 2, out);
    expect(at(out, 0)).toBe(36);
    expect(at(out, 1)).toBe(72);
  });
});
