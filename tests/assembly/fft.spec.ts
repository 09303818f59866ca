// as-pect specs for the FFT / window / STFT kernels (assembly/fft.ts, assembly/stft.ts) called
// directly: analytic transforms (impulse, constant, a cosine, the alternating sequence), plan and
// scratch sizes, window end points, and the magnitude row of a centred impulse. The NumPy / SciPy
// comparisons are in tests/stft.test.ts.
import { fftPlanBytes, fftPlanInit, fftScratchBytes, rfft, irfft } from "../../assembly/fft";
import { windowFill, stftMagnitudeRow, stftFrames, istftFrames } from "../../assembly/stft";

function alloc(floats: i32): usize {
  const p = heap.alloc(<usize>(floats << 2) + 16);
  const a = (p + 15) & ~(<usize>15);
  memory.fill(a, 0, <usize>floats << 2);
  return a;
}
function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
function put(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}
function planFor(n: i32): usize {
  const p = alloc(fftPlanBytes(n) >> 2);
  fftPlanInit(n, p);
  return p;
}

describe("plan and scratch sizes", () => {
  it("are zero for sizes that are not powers of two in 64…16384", () => {
    expect(fftPlanBytes(32)).toBe(0);
    expect(fftPlanBytes(1000)).toBe(0);
    expect(fftPlanBytes(32768)).toBe(0);
    expect(fftPlanBytes(0)).toBe(0);
    expect(fftPlanBytes(-64)).toBe(0);
    expect(fftScratchBytes(96)).toBe(0);
  });
  it("are positive, 16-byte multiples and grow with n for every supported size", () => {
    let last = 0;
    for (let n = 64; n <= 16384; n <<= 1) {
      const b = fftPlanBytes(n);
      expect(b).toBeGreaterThan(last);
      expect(b % 16).toBe(0);
      expect(fftScratchBytes(n) % 16).toBe(0);
      expect(fftScratchBytes(n)).toBeGreaterThanOrEqual(n * 4);
      last = b;
    }
  });
});

describe("rfft", () => {
  it("of an impulse is flat: X[k] = 1 for every bin", () => {
    for (let n = 64; n <= 4096; n <<= 1) {
      const plan = planFor(n);
      const s = alloc(fftScratchBytes(n) >> 2);
      const x = alloc(n);
      const X = alloc(n + 2);
      put(x, 0, 1);
      rfft(plan, n, x, X, s);
      let err: f32 = 0;
      for (let k = 0; k <= n / 2; k++) {
        err = max(err, Mathf.abs(at(X, 2 * k) - 1));
        err = max(err, Mathf.abs(at(X, 2 * k + 1)));
      }
      expect(err).toBeLessThan(1e-6);
    }
  });
  it("of a constant c is n·c at DC and zero elsewhere", () => {
    const n = 256;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const x = alloc(n);
    const X = alloc(n + 2);
    for (let i = 0; i < n; i++) put(x, i, 0.5);
    rfft(plan, n, x, X, s);
    expect(at(X, 0)).toBeCloseTo(128, 4);
    for (let i = 1; i < n + 2; i++) expect(Mathf.abs(at(X, i))).toBeLessThan(1e-4);
  });
  it("of (−1)^t is n at the Nyquist bin only", () => {
    const n = 512;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const x = alloc(n);
    const X = alloc(n + 2);
    for (let i = 0; i < n; i++) put(x, i, i & 1 ? -1 : 1);
    rfft(plan, n, x, X, s);
    expect(at(X, n)).toBeCloseTo(<f32>n, 3);
    for (let i = 0; i < n; i++) expect(Mathf.abs(at(X, i))).toBeLessThan(1e-3);
  });
  it("of sin(2π·3t/n) is −i·n/2 at bin 3", () => {
    const n = 64;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const x = alloc(n);
    const X = alloc(n + 2);
    for (let i = 0; i < n; i++) put(x, i, <f32>Math.sin((2 * Math.PI * 3 * <f64>i) / <f64>n));
    rfft(plan, n, x, X, s);
    expect(Mathf.abs(at(X, 6))).toBeLessThan(1e-4);
    expect(at(X, 7)).toBeCloseTo(-32, 3);
  });
  it("is inverted by irfft (scaled by 1/n)", () => {
    const n = 2048;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const x = alloc(n);
    const X = alloc(n + 2);
    const y = alloc(n);
    for (let i = 0; i < n; i++) put(x, i, <f32>Math.cos(<f64>(i * i) * 0.001) + <f32>(i % 7) * 0.1);
    rfft(plan, n, x, X, s);
    irfft(plan, n, X, y, s);
    let err: f32 = 0;
    for (let i = 0; i < n; i++) err = max(err, Mathf.abs(at(y, i) - at(x, i)));
    expect(err).toBeLessThan(1e-5);
  });
});

describe("in place", () => {
  it("rfft and irfft may write over their input (n + 2 floats of room)", () => {
    const n = 512;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const x = alloc(n + 2);
    const X = alloc(n + 2);
    const y = alloc(n + 2);
    for (let i = 0; i < n; i++) {
      const v = <f32>Math.sin(<f64>i * 0.7) + <f32>(i % 5);
      put(x, i, v);
      put(y, i, v);
    }
    rfft(plan, n, x, X, s);
    rfft(plan, n, y, y, s);
    let err: f32 = 0;
    for (let i = 0; i < n + 2; i++) err = max(err, Mathf.abs(at(y, i) - at(X, i)));
    expect(err).toBe(0);
    irfft(plan, n, y, y, s);
    for (let i = 0; i < n; i++) err = max(err, Mathf.abs(at(y, i) - at(x, i)));
    expect(err).toBeLessThan(1e-5);
  });
});

describe("windowFill", () => {
  it("symmetric Hann starts and ends at 0 and peaks at 1 for odd n", () => {
    const w = alloc(9);
    windowFill(0, 0, 9, w);
    expect(at(w, 0)).toBe(0);
    expect(Mathf.abs(at(w, 8))).toBeLessThan(1e-7);
    expect(at(w, 4)).toBe(1);
  });
  it("periodic Hamming starts at 0.08 and is 1 at n/2", () => {
    const w = alloc(8);
    windowFill(1, 1, 8, w);
    expect(at(w, 0)).toBeCloseTo(0.08, 6);
    expect(at(w, 4)).toBeCloseTo(1, 6);
  });
  it("rectangular is all ones, and any window of length 1 is [1]", () => {
    const w = alloc(5);
    windowFill(2, 0, 5, w);
    for (let i = 0; i < 5; i++) expect(at(w, i)).toBe(1);
    windowFill(0, 0, 1, w);
    expect(at(w, 0)).toBe(1);
  });
});

describe("stftMagnitudeRow and stftFrames", () => {
  it("a rectangular-windowed impulse gives |X| = 1 in every requested bin, power too", () => {
    const n = 128;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const frame = alloc(n);
    const win = alloc(n);
    windowFill(2, 0, n, win);
    put(frame, 10, 1);
    const row = alloc(65);
    for (let nb = 1; nb <= 65; nb++) {
      for (let i = 0; i < 65; i++) put(row, i, -7);
      stftMagnitudeRow(frame, win, n, n, nb, nb & 1, row, plan, s);
      for (let k = 0; k < nb; k++) expect(at(row, k)).toBeCloseTo(1, 5);
      for (let k = nb; k < 65; k++) expect(at(row, k)).toBe(-7); // nothing past nBinsOut
    }
  });
  it("a window shorter than nfft is centred: samples outside it are never read", () => {
    const n = 64;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const frame = alloc(n);
    const win = alloc(32);
    windowFill(2, 0, 32, win);
    for (let i = 0; i < n; i++) put(frame, i, i < 16 || i >= 48 ? 1000 : 1);
    const row = alloc(33);
    stftMagnitudeRow(frame, win, 32, n, 33, 0, row, plan, s);
    expect(at(row, 0)).toBeCloseTo(32, 4);
    expect(at(row, 2)).toBeLessThan(1e-3); // the 32 ones are a boxcar: zeros at even bins
  });
  it("frames start hop samples apart", () => {
    const n = 64;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const sig = alloc(200);
    const win = alloc(n);
    windowFill(2, 0, n, win);
    for (let i = 0; i < 200; i++) put(sig, i, <f32>i);
    const out = alloc(4 * 2);
    stftFrames(sig, 4, 30, win, n, n, 0, 2, out, plan, s);
    for (let fr = 0; fr < 4; fr++) {
      // DC = Σ_{t<64} (30·fr + t)
      const dc: i32 = 64 * 30 * fr + 2016;
      expect(at(out, 2 * fr)).toBeCloseTo(<f32>dc, 1);
    }
  });
  it("istftFrames inverts stftFrames mode 2 (rect window, hop = nfft/2, interior samples)", () => {
    const n = 64;
    const plan = planFor(n);
    const s = alloc(fftScratchBytes(n) >> 2);
    const sig = alloc(256);
    const win = alloc(n);
    windowFill(0, 1, n, win);
    for (let i = 0; i < 256; i++) put(sig, i, <f32>Math.sin(<f64>i * 0.3));
    const nF = (256 - n) / 16 + 1;
    const spec = alloc(nF * (n + 2));
    stftFrames(sig, nF, 16, win, n, n, 2, n / 2 + 1, spec, plan, s);
    const out = alloc(256);
    const wsum = alloc(256);
    istftFrames(spec, nF, 16, win, n, n, out, 256, wsum, plan, s);
    let err: f32 = 0;
    for (let i = 1; i < 255; i++) err = max(err, Mathf.abs(at(out, i) - at(sig, i)));
    expect(err).toBeLessThan(1e-5);
  });
});
