// as-pect spec for audioLIME's spectra-sum kernel (assembly/audiolime.ts) called directly: two
// frames, three entries, hand-worked sums of the selected spectra and their magnitude / power,
// with 5 bins so both the SIMD body and the scalar tail run. The comparison with the front end on
// summed waveforms is in tests/audiolime.test.ts.
import { audiolimeSumMagnitude } from "../../assembly/audiolime";

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

describe("audiolimeSumMagnitude", () => {
  it("adds the selected components' spectra per frame and takes |·| or |·|²", () => {
    const nBins = 5;
    // frame 0: entries 0 (component 0) and 1 (component 1); frame 1: entry 2 (component 1)
    const start = alloc(12);
    store<i32>(start, 0); store<i32>(start + 4, 2); store<i32>(start + 8, 3);
    const comp = alloc(12);
    store<i32>(comp, 0); store<i32>(comp + 4, 1); store<i32>(comp + 8, 1);
    const off = alloc(12);
    store<i32>(off, 0); store<i32>(off + 4, 10); store<i32>(off + 8, 20);
    const spec = alloc(30 * 4);
    for (let k = 0; k < nBins; k++) {
      put(spec, k, <f32>(k + 1)); put(spec, nBins + k, 0);        // entry 0: re k+1, im 0
      put(spec, 10 + k, 0); put(spec, 10 + nBins + k, 1);        // entry 1: re 0, im 1
      put(spec, 20 + k, 3); put(spec, 20 + nBins + k, 4);        // entry 2: |3 + 4i| = 5
    }
    const bits = alloc(2);
    store<u8>(bits, 1); store<u8>(bits + 1, 1);
    const out = alloc(2 * 8 * 4);
    const acc = alloc(2 * nBins * 4 + 32);
    audiolimeSumMagnitude(bits, 0, 2, start, comp, off, spec, nBins, 0, out, 8, acc);
    for (let k = 0; k < nBins; k++) {
      expect(at(out, k)).toBeCloseTo(Mathf.sqrt(<f32>((k + 1) * (k + 1) + 1)));
      expect(at(out, 8 + k)).toBeCloseTo(5);
    }
    // component 1 off: frame 0 = entry 0 only, frame 1 = nothing (zeros); power mode
    store<u8>(bits + 1, 0);
    audiolimeSumMagnitude(bits, 0, 2, start, comp, off, spec, nBins, 1, out, 8, acc);
    for (let k = 0; k < nBins; k++) {
      expect(at(out, k)).toBeCloseTo(<f32>((k + 1) * (k + 1)));
      expect(at(out, 8 + k)).toBe(0);
    }
    // a frame range that starts at frame 1 writes to out row 0
    store<u8>(bits + 1, 1);
    audiolimeSumMagnitude(bits, 1, 2, start, comp, off, spec, nBins, 0, out, 8, acc);
    expect(at(out, 0)).toBeCloseTo(5);
  });
});
