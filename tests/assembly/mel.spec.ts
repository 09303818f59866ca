// as-pect specs of assembly/mel.ts: analytic properties of the kernels (the NumPy comparisons
// are in tests/mel.test.ts and tests/frontend.test.ts).
import {
  melFilterbankBuild, melSparseCount, melSparsify, melApplySparse, melLogFloor, melZScore,
  melFrameCount, melFirstNonFinite,
} from "../../assembly/mel";

function f32buf(n: i32): usize {
  return heap.alloc(<usize>n << 2);
}

describe("melFilterbankBuild (svd, HTK, sum)", () => {
  it("every filter of the 80-band SVD bank sums to 1 and is zero from bin 372 on", () => {
    const fb = f32buf(80 * 513);
    melFilterbankBuild(22050, 1024, 80, 27.5, 8000, 0, 0, 1, fb);
    let worst: f64 = 0;
    let tail: f32 = 0;
    for (let b = 0; b < 80; b++) {
      let s: f64 = 0;
      for (let k = 0; k < 513; k++) s += <f64>load<f32>(fb + ((<usize>(b * 513 + k)) << 2));
      worst = Math.max(worst, Math.abs(s - 1.0));
      for (let k = 372; k < 513; k++) tail = Mathf.max(tail, Mathf.abs(load<f32>(fb + ((<usize>(b * 513 + k)) << 2))));
    }
    expect(worst).toBeLessThan(1e-5);
    expect(tail).toBe(0);
    heap.free(fb);
  });

  it("unit-area filters (librosa, Slaney) integrate to about 1 over Hz", () => {
    const fb = f32buf(40 * 1025);
    melFilterbankBuild(16000, 2048, 40, 0, 8000, 1, 1, 2, fb);
    const df: f64 = 16000.0 / 2048.0;
    let worst: f64 = 0;
    for (let b = 0; b < 40; b++) {
      let s: f64 = 0;
      for (let k = 0; k < 1025; k++) s += <f64>load<f32>(fb + ((<usize>(b * 1025 + k)) << 2));
      // a triangle of height 2/(f2 − f0) has area 1; sampled every df Hz the sum ≈ 1/df
      worst = Math.max(worst, Math.abs(s * df - 1.0));
    }
    expect(worst).toBeLessThan(0.05);
    heap.free(fb);
  });
});

describe("sparse application", () => {
  it("equals the dense product", () => {
    const nMels = 10, nBins = 65, nFrames = 3;
    const fb = f32buf(nMels * nBins);
    melFilterbankBuild(8000, 128, nMels, 50, 4000, 0, 1, 0, fb);
    const nnz = melSparseCount(fb, nMels, nBins, nBins);
    const spans = heap.alloc(12 * nMels);
    const w = f32buf(nnz);
    expect(melSparsify(fb, nMels, nBins, nBins, spans, w)).toBe(nnz);
    const mag = f32buf(nFrames * nBins);
    for (let i = 0; i < nFrames * nBins; i++) store<f32>(mag + (<usize>i << 2), <f32>((i * 37) % 11) * 0.25);
    const out = f32buf(nFrames * nMels);
    melApplySparse(mag, nFrames, nBins, nMels, spans, w, out);
    for (let t = 0; t < nFrames; t++) {
      for (let b = 0; b < nMels; b++) {
        let s: f32 = 0;
        for (let k = 0; k < nBins; k++) s += load<f32>(fb + (<usize>(b * nBins + k) << 2)) * load<f32>(mag + (<usize>(t * nBins + k) << 2));
        expect(Mathf.abs(load<f32>(out + (<usize>(t * nMels + b) << 2)) - s)).toBeLessThan(1e-5);
      }
    }
  });
});

describe("log floor and z-score", () => {
  it("ln(max(x, floor)) to float precision", () => {
    const n = 11;
    const x = f32buf(n);
    for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), <f32>Math.pow(10, <f64>(i - 8)));
    melLogFloor(x, x, n, 1e-7);
    for (let i = 0; i < n; i++) {
      const v = Math.max(Math.pow(10, <f64>(i - 8)), <f64>(<f32>1e-7));
      expect(Math.abs(<f64>load<f32>(x + (<usize>i << 2)) - Math.log(v))).toBeLessThan(2e-6);
    }
  });

  it("z-score per band", () => {
    const x = f32buf(6), mean = f32buf(3), std = f32buf(3);
    for (let i = 0; i < 6; i++) store<f32>(x + (<usize>i << 2), <f32>i);
    for (let b = 0; b < 3; b++) {
      store<f32>(mean + (<usize>b << 2), <f32>b);
      store<f32>(std + (<usize>b << 2), 2);
    }
    melZScore(x, x, 2, 3, mean, std);
    expect(load<f32>(x)).toBe(0);
    expect(load<f32>(x + 4 * 4)).toBe(1.5); // (4 − 1) / 2
  });
});

describe("frames and finiteness", () => {
  it("(n − nfft) / hop + 1 frames, none below one frame", () => {
    expect(melFrameCount(22050 * 30, 1024, 315)).toBe(2097);
    expect(melFrameCount(1023, 1024, 315)).toBe(0);
  });
  it("finds the first NaN or infinity", () => {
    const x = f32buf(40);
    for (let i = 0; i < 40; i++) store<f32>(x + (<usize>i << 2), <f32>i);
    expect(melFirstNonFinite(x, 40)).toBe(-1);
    store<f32>(x + (33 << 2), Infinity);
    expect(melFirstNonFinite(x, 40)).toBe(33);
    store<f32>(x + (5 << 2), NaN);
    expect(melFirstNonFinite(x, 40)).toBe(5);
  });
});
