// The FFT engine behind assembly/fft.ts and assembly/stft.ts (not re-exported by index.ts, so
// none of these helpers is part of the ABI): real-input FFT of size n (power of two, 64…16384).
//
// Method: the n real samples are read as M = n/2 complex samples z[j] = x[2j] + i·x[2j+1]; an
// M-point complex FFT Z is taken, and the spectrum of x follows from the even/odd split
//   E[k] = (Z[k] + conj Z[M−k]) / 2,  O[k] = (Z[k] − conj Z[M−k]) / 2i,  X[k] = E[k] + W_n^k·O[k]
// (the standard "real FFT by half-length complex FFT" post-processing, e.g. Sorensen et al. 1987;
// it is what pffft and FFTW's r2c do). The complex FFT is a Stockham autosort radix-4 FFT
// (decimation in frequency, OTFFT's formulation) over split real/imaginary arrays, whose last
// two passes merge into one twiddle-free radix-8 pass when log2 M is odd. Every pass is
// vectorised with f32x4: the first pass (stride 1) reads the real input directly (even/odd split
// and window by shuffles and multiplies on the loads), runs four butterflies p…p+3 per vector and
// transposes their 4×4 outputs; later passes (stride s ≥ 4) run four consecutive q per vector
// with broadcast twiddles. The inverse uses IFFT(Z) = swap(FFT(swap(Z))) (swap = exchange re and
// im), which is free in split format.
//
// Conventions: rfft is unnormalised with n/2+1 bins interleaved re,im (numpy.fft.rfft); irfft
// scales by 1/n and ignores the imaginary parts of the DC and Nyquist bins (numpy.fft.irfft).
// Nothing here allocates: the host owns the plan (fftPlanBytes) and the scratch (fftScratchBytes).

// ---- plan layout (f32 arrays, all computed from n, no header) --------------------------------
// For each radix-4 pass over length L (L = M, M/4, … while L ≥ 4), m = L/4 twiddles of each of
// W_L^p, W_L^2p, W_L^3p as six split arrays [w1r w1i w2r w2i w3r w3i] of m floats (the L = 8
// entry is unused when the radix-8 pass replaces it). Then, 16-byte aligned, the
// post-processing twiddles W_n^k, k = 0 … M/2−1, as two arrays (re, im) of M/2 floats.

const FFT_MIN_N: i32 = 64;
const FFT_MAX_N: i32 = 16384;

@inline export function validN(n: i32): bool {
  return n >= FFT_MIN_N && n <= FFT_MAX_N && (n & (n - 1)) == 0;
}

/** Floats of the radix-4 pass twiddles for an M-point complex FFT, rounded up to 16 bytes. */
@inline function passTwiddleFloats(M: i32): i32 {
  let total = 0;
  let L = M;
  while (L >= 4) {
    total += 6 * (L >> 2);
    L >>= 2;
  }
  return (total + 3) & ~3;
}

/** Bytes of a plan for a real FFT of size n (0 when n is not a power of two in 64…16384). */
export function planBytes(n: i32): i32 {
  if (!validN(n)) return 0;
  const M = n >> 1;
  return (passTwiddleFloats(M) + M) << 2;
}

/** Fill a plan of fftPlanBytes(n) bytes (twiddles computed in f64, stored as f32). */
export function planInit(n: i32, plan: usize): void {
  if (!validN(n)) return;
  const M = n >> 1;
  let tw = plan;
  let L = M;
  while (L >= 4) {
    const m = L >> 2;
    const base = (-2.0 * Math.PI) / <f64>L;
    for (let p = 0; p < m; p++) {
      for (let r = 1; r <= 3; r++) {
        const a = base * <f64>(r * p);
        const o = tw + (<usize>((2 * (r - 1)) * m + p) << 2);
        store<f32>(o, <f32>Math.cos(a));
        store<f32>(o + (<usize>m << 2), <f32>Math.sin(a));
      }
    }
    tw += <usize>(6 * m) << 2;
    L >>= 2;
  }
  tw = postTwiddles(plan, M);
  const h = M >> 1;
  const base = (-2.0 * Math.PI) / <f64>n;
  for (let k = 0; k < h; k++) {
    const a = base * <f64>k;
    store<f32>(tw + (<usize>k << 2), <f32>Math.cos(a));
    store<f32>(tw + (<usize>(h + k) << 2), <f32>Math.sin(a));
  }
}

/**
 * Floats between the starts of the four split arrays (A.re, A.im, B.re, B.im) beyond M: room for
 * the mirrored post-processing accesses (≥ 4), and 64 bytes (one cache line) so that the arrays
 * start in different L1 sets — the passes read 4–8 streams a power of two apart from each array,
 * and without the stagger all of them land in one set at large sizes (16384: 2.5× slower).
 */
const SPLIT_PAD: i32 = 16;

/**
 * Bytes of scratch every kernel of fft.ts and stft.ts needs for size n: two split complex
 * buffers of M + SPLIT_PAD floats (the ping-pong of the passes) and one n + 8 float buffer (a
 * padded frame or a spectrum).
 */
export function scratchBytes(n: i32): i32 {
  if (!validN(n)) return 0;
  const M = n >> 1;
  return (4 * (M + SPLIT_PAD) + n + 8) << 2;
}

// ---- scratch layout helpers (exported to stft.ts through this module, not the ABI) -----------
@inline export function scratchRe(scratch: usize, M: i32, buf: i32): usize {
  return scratch + (<usize>(2 * buf * (M + SPLIT_PAD)) << 2);
}
@inline export function scratchIm(scratch: usize, M: i32, buf: i32): usize {
  return scratch + (<usize>((2 * buf + 1) * (M + SPLIT_PAD)) << 2);
}
@inline export function scratchTemp(scratch: usize, M: i32): usize {
  return scratch + (<usize>(4 * (M + SPLIT_PAD)) << 2);
}

// ---- complex multiply and 4×4 transpose on f32x4 ---------------------------------------------
@inline function cmulRe(ar: v128, ai: v128, br: v128, bi: v128): v128 {
  return f32x4.sub(f32x4.mul(ar, br), f32x4.mul(ai, bi));
}
@inline function cmulIm(ar: v128, ai: v128, br: v128, bi: v128): v128 {
  return f32x4.add(f32x4.mul(ar, bi), f32x4.mul(ai, br));
}
@inline function rev(v: v128): v128 {
  return f32x4.shuffle(v, v, 3, 2, 1, 0);
}

/** Store rows r0…r3 transposed: column j (r0[j], r1[j], r2[j], r3[j]) goes to dst + 16·j. */
@inline function storeTransposed(dst: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
  v128.store(dst, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
  v128.store(dst, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
}

// ---- the passes -------------------------------------------------------------------------------
/**
 * Four radix-4 butterflies p…p+3 of the first pass (L = M, stride 1) on loaded inputs a…d;
 * the 4×4 outputs are transposed so that y[4p + k] lands contiguously.
 */
@inline function firstButterflies(
  off: usize, mb: usize, tw: usize, yr: usize, yi: usize,
  ar: v128, ai: v128, br: v128, bi: v128, cr: v128, ci: v128, dr: v128, di: v128,
): void {
  const apcr = f32x4.add(ar, cr);
  const apci = f32x4.add(ai, ci);
  const amcr = f32x4.sub(ar, cr);
  const amci = f32x4.sub(ai, ci);
  const bpdr = f32x4.add(br, dr);
  const bpdi = f32x4.add(bi, di);
  const bmdr = f32x4.sub(br, dr);
  const bmdi = f32x4.sub(bi, di);
  const w = tw + off;
  const t1r = f32x4.add(amcr, bmdi);
  const t1i = f32x4.sub(amci, bmdr);
  const w1r = v128.load(w);
  const w1i = v128.load(w + mb);
  const y1r = cmulRe(t1r, t1i, w1r, w1i);
  const y1i = cmulIm(t1r, t1i, w1r, w1i);
  const t2r = f32x4.sub(apcr, bpdr);
  const t2i = f32x4.sub(apci, bpdi);
  const w2r = v128.load(w + 2 * mb);
  const w2i = v128.load(w + 3 * mb);
  const y2r = cmulRe(t2r, t2i, w2r, w2i);
  const y2i = cmulIm(t2r, t2i, w2r, w2i);
  const t3r = f32x4.sub(amcr, bmdi);
  const t3i = f32x4.add(amci, bmdr);
  const w3r = v128.load(w + 4 * mb);
  const w3i = v128.load(w + 5 * mb);
  const y3r = cmulRe(t3r, t3i, w3r, w3i);
  const y3i = cmulIm(t3r, t3i, w3r, w3i);
  storeTransposed(yr + (off << 2), f32x4.add(apcr, bpdr), y1r, y2r, y3r);
  storeTransposed(yi + (off << 2), f32x4.add(apci, bpdi), y1i, y2i, y3i);
}

/** First radix-4 pass (L = M, stride 1) from split arrays, four butterflies per vector. */
function passFirst(M: i32, tw: usize, xr: usize, xi: usize, yr: usize, yi: usize): void {
  const m = M >> 2;
  const qb = <usize>M; // quarter offset in bytes = (M/4)·4
  const mb = <usize>m << 2;
  for (let off: usize = 0; off < mb; off += 16) {
    const pr = xr + off;
    const pi = xi + off;
    firstButterflies(off, mb, tw, yr, yi,
      v128.load(pr), v128.load(pi), v128.load(pr + qb), v128.load(pi + qb),
      v128.load(pr + 2 * qb), v128.load(pi + 2 * qb), v128.load(pr + 3 * qb), v128.load(pi + 3 * qb));
  }
}

/**
 * First radix-4 pass straight from n real samples (z[j] = x[2j] + i·x[2j+1], times the window
 * when win != 0): the even/odd split and the windowing ride on the pass's loads.
 */
function passFirstReal(M: i32, tw: usize, x: usize, win: usize, yr: usize, yi: usize): void {
  const m = M >> 2;
  const qb = <usize>M << 1; // a quarter of the complex input is M/2 real samples = 2M bytes
  const mb = <usize>m << 2;
  if (win == 0) {
    for (let off: usize = 0; off < mb; off += 16) {
      const p = x + (off << 1);
      const a0 = v128.load(p);
      const a1 = v128.load(p, 16);
      const b0 = v128.load(p + qb);
      const b1 = v128.load(p + qb, 16);
      const c0 = v128.load(p + 2 * qb);
      const c1 = v128.load(p + 2 * qb, 16);
      const d0 = v128.load(p + 3 * qb);
      const d1 = v128.load(p + 3 * qb, 16);
      firstButterflies(off, mb, tw, yr, yi,
        f32x4.shuffle(a0, a1, 0, 2, 4, 6), f32x4.shuffle(a0, a1, 1, 3, 5, 7),
        f32x4.shuffle(b0, b1, 0, 2, 4, 6), f32x4.shuffle(b0, b1, 1, 3, 5, 7),
        f32x4.shuffle(c0, c1, 0, 2, 4, 6), f32x4.shuffle(c0, c1, 1, 3, 5, 7),
        f32x4.shuffle(d0, d1, 0, 2, 4, 6), f32x4.shuffle(d0, d1, 1, 3, 5, 7));
    }
  } else {
    for (let off: usize = 0; off < mb; off += 16) {
      const o = off << 1;
      const p = x + o;
      const w = win + o;
      const a0 = f32x4.mul(v128.load(p), v128.load(w));
      const a1 = f32x4.mul(v128.load(p, 16), v128.load(w, 16));
      const b0 = f32x4.mul(v128.load(p + qb), v128.load(w + qb));
      const b1 = f32x4.mul(v128.load(p + qb, 16), v128.load(w + qb, 16));
      const c0 = f32x4.mul(v128.load(p + 2 * qb), v128.load(w + 2 * qb));
      const c1 = f32x4.mul(v128.load(p + 2 * qb, 16), v128.load(w + 2 * qb, 16));
      const d0 = f32x4.mul(v128.load(p + 3 * qb), v128.load(w + 3 * qb));
      const d1 = f32x4.mul(v128.load(p + 3 * qb, 16), v128.load(w + 3 * qb, 16));
      firstButterflies(off, mb, tw, yr, yi,
        f32x4.shuffle(a0, a1, 0, 2, 4, 6), f32x4.shuffle(a0, a1, 1, 3, 5, 7),
        f32x4.shuffle(b0, b1, 0, 2, 4, 6), f32x4.shuffle(b0, b1, 1, 3, 5, 7),
        f32x4.shuffle(c0, c1, 0, 2, 4, 6), f32x4.shuffle(c0, c1, 1, 3, 5, 7),
        f32x4.shuffle(d0, d1, 0, 2, 4, 6), f32x4.shuffle(d0, d1, 1, 3, 5, 7));
    }
  }
}

/** Radix-4 pass over length L with stride s ≥ 4, four consecutive q per vector. */
function passR4(M: i32, L: i32, s: i32, tw: usize, xr: usize, xi: usize, yr: usize, yi: usize): void {
  const m = L >> 2;
  const qb = <usize>M; // s·m·4 bytes = M bytes
  const sb = <usize>s << 2;
  const mb = <usize>m << 2;
  // p = 0: all twiddles are 1
  for (let q: usize = 0; q < sb; q += 16) {
    const pr = xr + q;
    const pi = xi + q;
    const ar = v128.load(pr);
    const ai = v128.load(pi);
    const br = v128.load(pr + qb);
    const bi = v128.load(pi + qb);
    const cr = v128.load(pr + 2 * qb);
    const ci = v128.load(pi + 2 * qb);
    const dr = v128.load(pr + 3 * qb);
    const di = v128.load(pi + 3 * qb);
    const apcr = f32x4.add(ar, cr);
    const apci = f32x4.add(ai, ci);
    const amcr = f32x4.sub(ar, cr);
    const amci = f32x4.sub(ai, ci);
    const bpdr = f32x4.add(br, dr);
    const bpdi = f32x4.add(bi, di);
    const bmdr = f32x4.sub(br, dr);
    const bmdi = f32x4.sub(bi, di);
    const or = yr + q;
    const oi = yi + q;
    v128.store(or, f32x4.add(apcr, bpdr));
    v128.store(oi, f32x4.add(apci, bpdi));
    v128.store(or + sb, f32x4.add(amcr, bmdi));
    v128.store(oi + sb, f32x4.sub(amci, bmdr));
    v128.store(or + 2 * sb, f32x4.sub(apcr, bpdr));
    v128.store(oi + 2 * sb, f32x4.sub(apci, bpdi));
    v128.store(or + 3 * sb, f32x4.sub(amcr, bmdi));
    v128.store(oi + 3 * sb, f32x4.add(amci, bmdr));
  }
  for (let p = 1; p < m; p++) {
    const w = tw + (<usize>p << 2);
    const w1r = v128.load32_splat(w);
    const w1i = v128.load32_splat(w + mb);
    const w2r = v128.load32_splat(w + 2 * mb);
    const w2i = v128.load32_splat(w + 3 * mb);
    const w3r = v128.load32_splat(w + 4 * mb);
    const w3i = v128.load32_splat(w + 5 * mb);
    const ib = <usize>p * sb;
    const ob = ib << 2;
    for (let q: usize = 0; q < sb; q += 16) {
      const pr = xr + ib + q;
      const pi = xi + ib + q;
      const ar = v128.load(pr);
      const ai = v128.load(pi);
      const br = v128.load(pr + qb);
      const bi = v128.load(pi + qb);
      const cr = v128.load(pr + 2 * qb);
      const ci = v128.load(pi + 2 * qb);
      const dr = v128.load(pr + 3 * qb);
      const di = v128.load(pi + 3 * qb);
      const apcr = f32x4.add(ar, cr);
      const apci = f32x4.add(ai, ci);
      const amcr = f32x4.sub(ar, cr);
      const amci = f32x4.sub(ai, ci);
      const bpdr = f32x4.add(br, dr);
      const bpdi = f32x4.add(bi, di);
      const bmdr = f32x4.sub(br, dr);
      const bmdi = f32x4.sub(bi, di);
      const t1r = f32x4.add(amcr, bmdi);
      const t1i = f32x4.sub(amci, bmdr);
      const t2r = f32x4.sub(apcr, bpdr);
      const t2i = f32x4.sub(apci, bpdi);
      const t3r = f32x4.sub(amcr, bmdi);
      const t3i = f32x4.add(amci, bmdr);
      const or = yr + ob + q;
      const oi = yi + ob + q;
      v128.store(or, f32x4.add(apcr, bpdr));
      v128.store(oi, f32x4.add(apci, bpdi));
      v128.store(or + sb, cmulRe(t1r, t1i, w1r, w1i));
      v128.store(oi + sb, cmulIm(t1r, t1i, w1r, w1i));
      v128.store(or + 2 * sb, cmulRe(t2r, t2i, w2r, w2i));
      v128.store(oi + 2 * sb, cmulIm(t2r, t2i, w2r, w2i));
      v128.store(or + 3 * sb, cmulRe(t3r, t3i, w3r, w3i));
      v128.store(oi + 3 * sb, cmulIm(t3r, t3i, w3r, w3i));
    }
  }
}

const SQRT1_2: f32 = 0.70710678118654752;

/**
 * Final radix-8 pass (L = 8, stride s = M/8, no external twiddles) when log2 M is odd: an 8-point
 * DFT per q as two 4-point DFTs (even and odd inputs) joined by W_8^k — one pass instead of a
 * radix-4 and a radix-2 pass.
 */
function passR8(M: i32, xr: usize, xi: usize, yr: usize, yi: usize): void {
  const sb = <usize>M >> 1; // s·4 bytes with s = M/8
  const c = f32x4.splat(SQRT1_2);
  for (let q: usize = 0; q < sb; q += 16) {
    const pr = xr + q;
    const pi = xi + q;
    // even inputs a0 a2 a4 a6 → E0…E3
    const a0r = v128.load(pr);
    const a0i = v128.load(pi);
    const a4r = v128.load(pr + 4 * sb);
    const a4i = v128.load(pi + 4 * sb);
    const a2r = v128.load(pr + 2 * sb);
    const a2i = v128.load(pi + 2 * sb);
    const a6r = v128.load(pr + 6 * sb);
    const a6i = v128.load(pi + 6 * sb);
    const t0r = f32x4.add(a0r, a4r);
    const t0i = f32x4.add(a0i, a4i);
    const t1r = f32x4.sub(a0r, a4r);
    const t1i = f32x4.sub(a0i, a4i);
    const t2r = f32x4.add(a2r, a6r);
    const t2i = f32x4.add(a2i, a6i);
    const t3r = f32x4.sub(a2r, a6r);
    const t3i = f32x4.sub(a2i, a6i);
    const e0r = f32x4.add(t0r, t2r);
    const e0i = f32x4.add(t0i, t2i);
    const e2r = f32x4.sub(t0r, t2r);
    const e2i = f32x4.sub(t0i, t2i);
    const e1r = f32x4.add(t1r, t3i);
    const e1i = f32x4.sub(t1i, t3r);
    const e3r = f32x4.sub(t1r, t3i);
    const e3i = f32x4.add(t1i, t3r);
    // odd inputs a1 a3 a5 a7 → O0…O3
    const a1r = v128.load(pr + sb);
    const a1i = v128.load(pi + sb);
    const a5r = v128.load(pr + 5 * sb);
    const a5i = v128.load(pi + 5 * sb);
    const a3r = v128.load(pr + 3 * sb);
    const a3i = v128.load(pi + 3 * sb);
    const a7r = v128.load(pr + 7 * sb);
    const a7i = v128.load(pi + 7 * sb);
    const u0r = f32x4.add(a1r, a5r);
    const u0i = f32x4.add(a1i, a5i);
    const u1r = f32x4.sub(a1r, a5r);
    const u1i = f32x4.sub(a1i, a5i);
    const u2r = f32x4.add(a3r, a7r);
    const u2i = f32x4.add(a3i, a7i);
    const u3r = f32x4.sub(a3r, a7r);
    const u3i = f32x4.sub(a3i, a7i);
    const o0r = f32x4.add(u0r, u2r);
    const o0i = f32x4.add(u0i, u2i);
    const o2r = f32x4.sub(u0r, u2r);
    const o2i = f32x4.sub(u0i, u2i);
    const o1r = f32x4.add(u1r, u3i);
    const o1i = f32x4.sub(u1i, u3r);
    const o3r = f32x4.sub(u1r, u3i);
    const o3i = f32x4.add(u1i, u3r);
    // W_8^1·O1 = ((o1r + o1i) + i(o1i − o1r))/√2, W_8^2·O2 = −i·O2, W_8^3·O3 = ((o3i − o3r) − i(o3r + o3i))/√2
    const w1r = f32x4.mul(c, f32x4.add(o1r, o1i));
    const w1i = f32x4.mul(c, f32x4.sub(o1i, o1r));
    const w3r = f32x4.mul(c, f32x4.sub(o3i, o3r));
    const w3i = f32x4.neg(f32x4.mul(c, f32x4.add(o3r, o3i)));
    const qr = yr + q;
    const qi = yi + q;
    v128.store(qr, f32x4.add(e0r, o0r));
    v128.store(qi, f32x4.add(e0i, o0i));
    v128.store(qr + 4 * sb, f32x4.sub(e0r, o0r));
    v128.store(qi + 4 * sb, f32x4.sub(e0i, o0i));
    v128.store(qr + sb, f32x4.add(e1r, w1r));
    v128.store(qi + sb, f32x4.add(e1i, w1i));
    v128.store(qr + 5 * sb, f32x4.sub(e1r, w1r));
    v128.store(qi + 5 * sb, f32x4.sub(e1i, w1i));
    v128.store(qr + 2 * sb, f32x4.add(e2r, o2i));
    v128.store(qi + 2 * sb, f32x4.sub(e2i, o2r));
    v128.store(qr + 6 * sb, f32x4.sub(e2r, o2i));
    v128.store(qi + 6 * sb, f32x4.add(e2i, o2r));
    v128.store(qr + 3 * sb, f32x4.add(e3r, w3r));
    v128.store(qi + 3 * sb, f32x4.add(e3i, w3i));
    v128.store(qr + 7 * sb, f32x4.sub(e3r, w3r));
    v128.store(qi + 7 * sb, f32x4.sub(e3i, w3i));
  }
}

/**
 * The passes after the first (which has written (yr, yi)): radix-4 passes with stride 4, 16, …
 * and a final radix-8 pass when log2 M is odd. Returns 0 when the result ends in (xr, xi),
 * 1 when in (yr, yi).
 */
function passesAfterFirst(plan: usize, M: i32, xr: usize, xi: usize, yr: usize, yi: usize): i32 {
  let tw = plan + (<usize>(6 * (M >> 2)) << 2);
  let inY = 1;
  let L = M >> 2;
  let s = 4;
  while (L >= 4 && L != 8) {
    if (inY) passR4(M, L, s, tw, yr, yi, xr, xi);
    else passR4(M, L, s, tw, xr, xi, yr, yi);
    tw += <usize>(6 * (L >> 2)) << 2;
    L >>= 2;
    s <<= 2;
    inY ^= 1;
  }
  if (L == 8) {
    if (inY) passR8(M, yr, yi, xr, xi);
    else passR8(M, xr, xi, yr, yi);
    inY ^= 1;
  }
  return inY;
}

/**
 * Forward M-point complex FFT of the split arrays (xr, xi); (yr, yi) is the other ping-pong
 * buffer. Returns 0 when the result ends in (xr, xi), 1 when in (yr, yi). Natural order.
 */
export function cfftSplit(plan: usize, M: i32, xr: usize, xi: usize, yr: usize, yi: usize): i32 {
  passFirst(M, plan, xr, xi, yr, yi);
  return passesAfterFirst(plan, M, xr, xi, yr, yi);
}

/** The post-processing twiddles W_n^k (re at the pointer, im M/2 floats later). */
@inline export function postTwiddles(plan: usize, M: i32): usize {
  return plan + (<usize>passTwiddleFloats(M) << 2);
}

/**
 * Forward real FFT of x (n floats, times win when win != 0) into the split complex FFT of its
 * even/odd halves; returns the buffer index (0 or 1 in the scratch) holding Z, with Z[M] = Z[0]
 * appended for the mirrored accesses of the post-processing.
 */
export function rfftHalf(plan: usize, n: i32, x: usize, win: usize, scratch: usize): i32 {
  const M = n >> 1;
  const ar = scratchRe(scratch, M, 0);
  const ai = scratchIm(scratch, M, 0);
  const br = scratchRe(scratch, M, 1);
  const bi = scratchIm(scratch, M, 1);
  passFirstReal(M, plan, x, win, br, bi);
  const which = passesAfterFirst(plan, M, ar, ai, br, bi);
  const zr = scratchRe(scratch, M, which);
  const zi = scratchIm(scratch, M, which);
  store<f32>(zr + (<usize>M << 2), load<f32>(zr));
  store<f32>(zi + (<usize>M << 2), load<f32>(zi));
  return which;
}

/**
 * Interleaved bins (re, im) of the real FFT whose half spectrum Z is in scratch
 * buffer `which`. All M + 1 bins are written, so out must hold n + 2 floats; callers wanting
 * fewer bins write to a full-size buffer and copy.
 */
export function postComplex(plan: usize, n: i32, scratch: usize, which: i32, out: usize): void {
  const M = n >> 1;
  const zr = scratchRe(scratch, M, which);
  const zi = scratchIm(scratch, M, which);
  const wre = postTwiddles(plan, M);
  const h = M >> 1;
  const wim = wre + (<usize>h << 2);
  const half = f32x4.splat(0.5);
  for (let k = 0; k < h; k += 4) {
    const kb = <usize>k << 2;
    const mb = <usize>(M - k - 3) << 2;
    const Ar = v128.load(zr + kb);
    const Ai = v128.load(zi + kb);
    const Rr = rev(v128.load(zr + mb));
    const Ri = rev(v128.load(zi + mb));
    const Er = f32x4.mul(half, f32x4.add(Ar, Rr));
    const Ei = f32x4.mul(half, f32x4.sub(Ai, Ri));
    const Or = f32x4.mul(half, f32x4.add(Ai, Ri));
    const Oi = f32x4.mul(half, f32x4.sub(Rr, Ar));
    const wr = v128.load(wre + kb);
    const wi = v128.load(wim + kb);
    const Tr = cmulRe(Or, Oi, wr, wi);
    const Ti = cmulIm(Or, Oi, wr, wi);
    const Xr = f32x4.add(Er, Tr);
    const Xi = f32x4.add(Ei, Ti);
    const Yr = f32x4.sub(Er, Tr); // lane j is bin M−k−j
    const Yi = f32x4.sub(Ti, Ei);
    const o = out + (kb << 1);
    v128.store(o, f32x4.shuffle(Xr, Xi, 0, 4, 1, 5));
    v128.store(o, f32x4.shuffle(Xr, Xi, 2, 6, 3, 7), 16);
    const om = out + (mb << 1);
    v128.store(om, f32x4.shuffle(Yr, Yi, 3, 7, 2, 6));
    v128.store(om, f32x4.shuffle(Yr, Yi, 1, 5, 0, 4), 16);
  }
  // bin M/2: W_n^{M/2} = −i, so X = conj(Z[M/2])
  const hb = <usize>h << 2;
  store<f32>(out + (hb << 1), load<f32>(zr + hb));
  store<f32>(out + (hb << 1) + 4, -load<f32>(zi + hb));
}

/** n real floats in, n/2+1 complex bins out, interleaved re,im (n+2 floats), unnormalised. */
export function rfftInto(plan: usize, n: i32, input: usize, out: usize, scratch: usize): void {
  postComplex(plan, n, scratch, rfftHalf(plan, n, input, 0, scratch), out);
}

/**
 * Magnitudes (power = 0) or powers (power = 1) of bins 0 … nBins−1 of the real FFT whose half
 * spectrum Z is in scratch buffer `which`; written to out. `tmp` holds 4 floats.
 */
export function postMagnitude(plan: usize, n: i32, scratch: usize, which: i32, nBins: i32, power: i32, out: usize): void {
  const M = n >> 1;
  const zr = scratchRe(scratch, M, which);
  const zi = scratchIm(scratch, M, which);
  const tmp = scratchTemp(scratch, M);
  const wre = postTwiddles(plan, M);
  const h = M >> 1;
  const wim = wre + (<usize>h << 2);
  // 2X is formed without the two halvings of E and O; the 1/2 (1/4 for power) comes at the end
  const scale = f32x4.splat(power ? 0.25 : 0.5);
  for (let k = 0; k < h; k += 4) {
    const lowNeeded = k < nBins;
    const highNeeded = M - k - 3 < nBins;
    if (!lowNeeded && !highNeeded) continue;
    const kb = <usize>k << 2;
    const mb = <usize>(M - k - 3) << 2;
    const Ar = v128.load(zr + kb);
    const Ai = v128.load(zi + kb);
    const Rr = rev(v128.load(zr + mb));
    const Ri = rev(v128.load(zi + mb));
    const Er = f32x4.add(Ar, Rr);
    const Ei = f32x4.sub(Ai, Ri);
    const Or = f32x4.add(Ai, Ri);
    const Oi = f32x4.sub(Rr, Ar);
    const wr = v128.load(wre + kb);
    const wi = v128.load(wim + kb);
    const Tr = cmulRe(Or, Oi, wr, wi);
    const Ti = cmulIm(Or, Oi, wr, wi);
    const Xr = f32x4.add(Er, Tr);
    const Xi = f32x4.add(Ei, Ti);
    const Yr = f32x4.sub(Er, Tr);
    const Yi = f32x4.sub(Ti, Ei);
    let lo = f32x4.add(f32x4.mul(Xr, Xr), f32x4.mul(Xi, Xi));
    let hi = rev(f32x4.add(f32x4.mul(Yr, Yr), f32x4.mul(Yi, Yi)));
    if (!power) {
      lo = f32x4.sqrt(lo);
      hi = f32x4.sqrt(hi);
    }
    lo = f32x4.mul(lo, scale);
    hi = f32x4.mul(hi, scale);
    if (k + 4 <= nBins) v128.store(out + kb, lo);
    else if (lowNeeded) storePartial(out, k, nBins, lo, tmp);
    if (M - k < nBins) v128.store(out + mb, hi);
    else if (highNeeded) storePartial(out, M - k - 3, nBins, hi, tmp);
  }
  if (h < nBins) {
    const hb = <usize>h << 2;
    const re = load<f32>(zr + hb);
    const im = load<f32>(zi + hb);
    const p = re * re + im * im;
    store<f32>(out + hb, power ? p : Mathf.sqrt(p));
  }
}

/** Store the lanes of v that fall below index `limit`, starting at index `start`. */
@inline function storePartial(out: usize, start: i32, limit: i32, v: v128, tmp: usize): void {
  v128.store(tmp, v);
  for (let j = 0; j < 4 && start + j < limit; j++) {
    store<f32>(out + (<usize>(start + j) << 2), load<f32>(tmp + (<usize>j << 2)));
  }
}

/** Inverse of rfft: n/2+1 interleaved bins in (n+2 floats), n real floats out, scaled by 1/n. */
export function irfftInto(plan: usize, n: i32, input: usize, out: usize, scratch: usize): void {
  const M = n >> 1;
  // Z' = (X[k] + conj X[M−k]) + i·W^{−k}(X[k] − conj X[M−k]) goes in swapped (re ↔ im) so the
  // forward FFT computes the inverse.
  const sr = scratchIm(scratch, M, 0); // receives Re Z'
  const si = scratchRe(scratch, M, 0); // receives Im Z'
  const wre = postTwiddles(plan, M);
  const h = M >> 1;
  const wim = wre + (<usize>h << 2);
  for (let k = 0; k < h; k += 4) {
    const kb = <usize>k << 2;
    const mb = <usize>(M - k - 3) << 2;
    const v0 = v128.load(input + (kb << 1));
    const v1 = v128.load(input + (kb << 1), 16);
    const u0 = v128.load(input + (mb << 1));
    const u1 = v128.load(input + (mb << 1), 16);
    const Xr = f32x4.shuffle(v0, v1, 0, 2, 4, 6);
    const Xi = f32x4.shuffle(v0, v1, 1, 3, 5, 7);
    const Yr = f32x4.shuffle(u0, u1, 6, 4, 2, 0); // lane j is bin M−k−j
    const Yi = f32x4.shuffle(u0, u1, 7, 5, 3, 1);
    const Pr = f32x4.add(Xr, Yr);
    const Pi = f32x4.sub(Xi, Yi);
    const Qr = f32x4.sub(Xr, Yr);
    const Qi = f32x4.add(Xi, Yi);
    const wr = v128.load(wre + kb);
    const wi = v128.load(wim + kb);
    const Ur = f32x4.sub(f32x4.mul(wi, Qr), f32x4.mul(wr, Qi));
    const Ui = f32x4.add(f32x4.mul(wr, Qr), f32x4.mul(wi, Qi));
    v128.store(sr + kb, f32x4.add(Pr, Ur));
    v128.store(si + kb, f32x4.add(Pi, Ui));
    // Z'[M−k] = conj(P − U); for k = 0 lane 0 lands in the pad at index M
    v128.store(sr + mb, rev(f32x4.sub(Pr, Ur)));
    v128.store(si + mb, rev(f32x4.sub(Ui, Pi)));
  }
  const a = load<f32>(input);
  const c = load<f32>(input + (<usize>M << 3));
  store<f32>(sr, a + c);
  store<f32>(si, a - c);
  const hb = <usize>h << 2;
  store<f32>(sr + hb, 2 * load<f32>(input + (hb << 1)));
  store<f32>(si + hb, -2 * load<f32>(input + (hb << 1) + 4));
  const which = cfftSplit(plan, M, scratchRe(scratch, M, 0), scratchIm(scratch, M, 0), scratchRe(scratch, M, 1), scratchIm(scratch, M, 1));
  // swap back: Re z = result's im array, Im z = result's re array
  const rr = scratchIm(scratch, M, which);
  const ri = scratchRe(scratch, M, which);
  const scale = f32x4.splat(<f32>(1.0 / <f64>n));
  const end = <usize>M << 2;
  for (let j: usize = 0; j < end; j += 16) {
    const re = f32x4.mul(v128.load(rr + j), scale);
    const im = f32x4.mul(v128.load(ri + j), scale);
    v128.store(out + (j << 1), f32x4.shuffle(re, im, 0, 4, 1, 5));
    v128.store(out + (j << 1), f32x4.shuffle(re, im, 2, 6, 3, 7), 16);
  }
}
