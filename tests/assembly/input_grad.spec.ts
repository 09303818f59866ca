// Hand-computed cases for assembly/input_grad.ts (the TS tests compare against tfjs-cpu autodiff).
import { igDenseBackward, igPoolConvBackward, igConvBackward } from "../../assembly/input_grad";

function buf(values: f32[]): usize {
  const p = heap.alloc(<usize>values.length << 2);
  for (let i = 0; i < values.length; i++) store<f32>(p + (<usize>i << 2), values[i]);
  return p;
}
function zeros(n: i32): usize {
  const p = heap.alloc(<usize>n << 2);
  memory.fill(p, 0, <usize>n << 2);
  return p;
}
function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

describe("igDenseBackward", () => {
  it("1 row, 3 inputs, 2 units: dx = w·(dy ⊙ lrelu'(y))", () => {
    // w [3, 2] = [[1, 2], [3, 4], [5, 6]]; y = [0.5, −0.2] → lrelu' = [1, 0.1]; dy = [2, 10] → g = [2, 1]
    const w = buf([1, 2, 3, 4, 5, 6]);
    const dx = zeros(3);
    igDenseBackward(buf([2, 10]), buf([0.5, -0.2]), w, dx, 1, 1, 3, 2, 1, 0.1, zeros(2));
    expect(at(dx, 0)).toBe(4); // 1·2 + 2·1
    expect(at(dx, 1)).toBe(10); // 3·2 + 4·1
    expect(at(dx, 2)).toBe(16); // 5·2 + 6·1
  });
  it("2 row taps dilated 2: output row r feeds input rows r and r + 2", () => {
    // rowLen 1, nOut 1, w = [3, 5] (tap 0, tap 1); one output row, y > 0, dy = 1
    const dx = zeros(3);
    igDenseBackward(buf([1]), buf([1]), buf([3, 5]), dx, 1, 2, 1, 1, 2, 0.01, zeros(1));
    expect(at(dx, 0)).toBe(3);
    expect(at(dx, 1)).toBe(0);
    expect(at(dx, 2)).toBe(5);
  });
});

describe("igConvBackward", () => {
  it("1×1 output, 1 channel, Cin 1: dx is the filter times g", () => {
    // wt [3, 3, C = 1, Cin = 1] = 1…9; y < 0 so g = 2·0.5 = 1
    const wt = buf([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const dx = zeros(9);
    igConvBackward(buf([2]), buf([-1]), wt, dx, 1, 1, 1, 1, 1, 1, 0.5, zeros(1));
    for (let i = 0; i < 9; i++) expect(at(dx, i)).toBe(<f32>(i + 1));
  });
});

describe("igPoolConvBackward", () => {
  it("one 3×3 window: the first of two equal maxima gets the gradient, scattered through the filter", () => {
    // y 3×3 × 1 channel, maxima 7 at (0, 2) and (1, 1): the first in row-major order is (0, 2)
    const y = buf([1, 2, 7, 3, 7, 0, 0, 0, 0]);
    const wt = buf([1, 0, 0, 0, 0, 0, 0, 0, 0]); // only tap (0, 0), Cin = 1
    const dx = zeros(25); // (3 + 2) × (3 + 2)
    igPoolConvBackward(y, buf([4]), wt, dx, 1, 3, 3, 1, 1, 1, 3, 1, 1, 1, 0.01, zeros(32));
    for (let i = 0; i < 25; i++) expect(at(dx, i)).toBe(i == 2 ? <f32>4 : <f32>0);
  });
});
