// Hand-computed cases for assembly/conv_grad.ts (the TS tests compare against tfjs-backend-cpu).
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dTransposeFilter } from "../../assembly/conv_grad";

function buf(values: f32[]): usize {
  const p = heap.alloc(<usize>values.length << 2);
  for (let i = 0; i < values.length; i++) store<f32>(p + (<usize>i << 2), values[i]);
  return p;
}
function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

describe("conv2dBackpropFilter", () => {
  it("3×3 input, 2×2 filter, dy = [[1,0],[0,1]]: dw[kh,kw] = x[kh,kw] + x[1+kh,1+kw]", () => {
    const x = buf([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const dy = buf([1, 0, 0, 1]);
    const dw = buf([7, 7, 7, 7]);
    conv2dBackpropFilter(x, dy, dw, 1, 3, 3, 1, 2, 2, 1, 2, 2, 1, 1, 1, 1, 0, 0);
    expect(at(dw, 0)).toBe(6);
    expect(at(dw, 1)).toBe(8);
    expect(at(dw, 2)).toBe(12);
    expect(at(dw, 3)).toBe(14);
  });
  it("1×1 filter over 4 input × 8 output channels (the SIMD block): dw[ci,co] = Σ_pos x[pos,ci]·dy[pos,co]", () => {
    const x = buf([1, 2, 3, 4, 1, 1, 1, 1]);
    const dy = buf([1, 2, 3, 4, 5, 6, 7, 8, 10, 10, 10, 10, 10, 10, 10, 10]);
    const dw = buf(new Array<f32>(32).fill(-1));
    conv2dBackpropFilter(x, dy, dw, 1, 1, 2, 4, 1, 2, 8, 1, 1, 1, 1, 1, 1, 0, 0);
    for (let ci = 0; ci < 4; ci++) {
      for (let co = 0; co < 8; co++) expect(at(dw, ci * 8 + co)).toBe(<f32>(ci + 1) * <f32>(co + 1) + 10);
    }
  });
  it("stride 2 with padding 1 skips the taps that fall outside the input", () => {
    // x = [1,2,3] (1×1×3×1), 3-tap filter, stride 2, pad 1: outputs at columns −1..1 and 1..3.
    const x = buf([1, 2, 3]);
    const dy = buf([1, 10]);
    const dw = buf([0, 0, 0]);
    conv2dBackpropFilter(x, dy, dw, 1, 1, 3, 1, 1, 2, 1, 1, 3, 1, 2, 1, 1, 0, 1);
    // tap 0 reads columns −1 (zero) and 1; tap 1 reads 0 and 2; tap 2 reads 1 and 3 (zero)
    expect(at(dw, 0)).toBe(20);
    expect(at(dw, 1)).toBe(31);
    expect(at(dw, 2)).toBe(2);
  });
});

describe("conv2dBackpropInput", () => {
  it("3×3 input, 2×2 filter [1,2,3,4], dy = [[1,0],[0,1]] scatters two copies of the filter", () => {
    const w = buf([1, 2, 3, 4]);
    const wt = buf([0, 0, 0, 0]);
    conv2dTransposeFilter(w, wt, 2, 2, 1, 1);
    const dy = buf([1, 0, 0, 1]);
    const dx = buf(new Array<f32>(9).fill(5));
    conv2dBackpropInput(dy, wt, dx, 1, 3, 3, 1, 2, 2, 1, 2, 2, 1, 1, 1, 1, 0, 0);
    const want: f32[] = [1, 2, 0, 3, 5, 2, 0, 3, 4];
    for (let i = 0; i < 9; i++) expect(at(dx, i)).toBe(want[i]);
  });
  it("dilation 2 spreads the taps apart", () => {
    // x 1×1×5×1, filter [1, 2] with dilation 2: y[o] = x[o]·1 + x[o+2]·2, o = 0..2
    const w = buf([1, 2]);
    const wt = buf([0, 0]);
    conv2dTransposeFilter(w, wt, 1, 2, 1, 1);
    const dy = buf([1, 10, 100]);
    const dx = buf([0, 0, 0, 0, 0]);
    conv2dBackpropInput(dy, wt, dx, 1, 1, 5, 1, 1, 3, 1, 1, 2, 1, 1, 1, 2, 0, 0);
    const want: f32[] = [1, 10, 102, 20, 200];
    for (let i = 0; i < 5; i++) expect(at(dx, i)).toBe(want[i]);
  });
});
