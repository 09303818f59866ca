// as-pect specs for assembly/frontend_grad.ts: the adjoint of the real FFT (the analytic columns
// cos(2πkn/N) and −sin(2πkn/N), the identity ⟨rfft(x)[:nBins], g⟩ = ⟨x, rfftᵀ g⟩ at N = 64) and
// the backward pass of a silent signal (|X| = 0, mel below the floor: an exact zero gradient, no
// NaN). The PyTorch and finite-difference checks are in tests/frontend-grad.test.ts.
import { fftPlanBytes, fftPlanInit, fftScratchBytes, rfft } from "../../assembly/fft";
import { windowFill } from "../../assembly/stft";
import { rfftAdjoint, frontEndBackward, frontEndGradWorkFloats } from "../../assembly/frontend_grad";

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
let seed: u32 = 12345;
function rnd(): f32 {
  seed = seed * 1664525 + 1013904223;
  return <f32>(<f64>seed / 4294967296.0 - 0.5);
}

const N = 64;
const plan = alloc(fftPlanBytes(N) >> 2);
fftPlanInit(N, plan);
const scratch = alloc(fftScratchBytes(N) >> 2);
const spec = alloc(N + 2);
const out = alloc(N);
const g = alloc(N + 2);

describe("rfftAdjoint (N = 64)", () => {
  it("maps a unit real cotangent at bin k to cos(2πkn/N) and a unit imaginary one to −sin(2πkn/N)", () => {
    for (let k = 0; k <= N / 2; k++) {
      for (let part = 0; part < 2; part++) {
        memory.fill(g, 0, <usize>(N + 2) << 2);
        put(g, 2 * k + part, 1);
        rfftAdjoint(plan, N, g, N / 2 + 1, out, spec, scratch);
        for (let n = 0; n < N; n++) {
          const th = 2.0 * Math.PI * <f64>k * <f64>n / <f64>N;
          // Im X_0 and Im X_{N/2} are identically 0, so their cotangents have no effect
          const want = part == 0 ? Math.cos(th) : (k == 0 || k == N / 2 ? 0.0 : -Math.sin(th));
          expect(Math.abs(<f64>at(out, n) - want)).toBeLessThan(2e-6);
        }
      }
    }
  });
  it("satisfies ⟨rfft(x)[:nBins], g⟩ = ⟨x, rfftᵀ g⟩ for random x, g and nBins = 33, 17, 1", () => {
    const x = alloc(N);
    const X = alloc(N + 2);
    const bins: i32[] = [33, 17, 1];
    for (let r = 0; r < bins.length; r++) {
      const nb = bins[r];
      for (let i = 0; i < N; i++) put(x, i, rnd());
      for (let i = 0; i < 2 * nb; i++) put(g, i, rnd());
      rfft(plan, N, x, X, scratch);
      let lhs: f64 = 0;
      for (let i = 0; i < 2 * nb; i++) lhs += <f64>at(X, i) * <f64>at(g, i);
      rfftAdjoint(plan, N, g, nb, out, spec, scratch);
      let rhs: f64 = 0;
      for (let i = 0; i < N; i++) rhs += <f64>at(x, i) * <f64>at(out, i);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4);
    }
  });
});

describe("frontEndBackward", () => {
  it("gives an exact zero gradient (no NaN) for a silent signal", () => {
    // one mel band over bins 0…7 (a 4-multiple run, as ./mel's sparse form pads it)
    const nBins = 8;
    const spans = alloc(3);
    store<i32>(spans, 0);
    store<i32>(spans, 8, 4);
    store<i32>(spans, 0, 8);
    const weights = alloc(8);
    for (let i = 0; i < 8; i++) put(weights, i, 0.125);
    const win = alloc(N);
    windowFill(0, 0, N, win);
    const n = N + 16 * 3;
    const sig = alloc(n);
    const dY = alloc(4);
    for (let i = 0; i < 4; i++) put(dY, i, 1);
    const dS = alloc(n);
    for (let i = 0; i < n; i++) put(dS, i, 99);
    const work = alloc(frontEndGradWorkFloats(N, nBins, 1));
    expect(frontEndBackward(sig, n, 16, win, N, nBins, 1, spans, weights, 1e-7, 0, dY, dS, work, plan, scratch)).toBe(4);
    for (let i = 0; i < n; i++) expect(at(dS, i)).toBe(0);
  });
});
