// Source-separation kernels over magnitude spectrograms (frames × bins, row-major, f32), used by
// bindings/separate.ts (docs/separate.md):
// - HPSS (Fitzgerald 2010; librosa.decompose.hpss): median filters along time / frequency with
//   scipy.ndimage.median_filter's 'reflect' boundary (librosa's call), then soft masks.
// - REPET-SIM (Rafii & Pardo 2012): cosine frame similarity, per frame the median of its most
//   similar frames (greedy peak picking with a minimum distance) → repeating-background mask.
// - NMF with multiplicative β-divergence updates (Févotte & Idier 2011; exponent 1/(2−β) for β < 1
//   so the objective never increases), on f64 buffers.
// Kernels never allocate: the host passes every buffer (scratch sizes are stated per kernel).

// scipy.ndimage 'reflect' (half-sample symmetric: d c b a | a b c d | d c b a), any offset.
@inline function reflectIndex(i: i32, n: i32): i32 {
  const period = n << 1;
  let m = i % period;
  if (m < 0) m += period;
  return m >= n ? period - 1 - m : m;
}

// Sliding-window rank filter over one line of `n` values (stride `stride` floats), the element of
// rank k >> 1 in each window [i − k/2, i − k/2 + k) like scipy.ndimage.median_filter (origin 0).
// scratch: k floats (the sorted window).
function medianLine(src: usize, n: i32, stride: i32, k: i32, dst: usize, win: usize): void {
  const half = k >> 1;
  const rank = k >> 1;
  // initial window, insertion sort
  for (let j = 0; j < k; j++) {
    const v = load<f32>(src + ((<usize>reflectIndex(j - half, n) * <usize>stride) << 2));
    let p = j;
    while (p > 0 && load<f32>(win + (<usize>(p - 1) << 2)) > v) {
      store<f32>(win + (<usize>p << 2), load<f32>(win + (<usize>(p - 1) << 2)));
      p--;
    }
    store<f32>(win + (<usize>p << 2), v);
  }
  store<f32>(dst, load<f32>(win + (<usize>rank << 2)));
  for (let i = 1; i < n; i++) {
    const out = load<f32>(src + ((<usize>reflectIndex(i - 1 - half, n) * <usize>stride) << 2));
    const inn = load<f32>(src + ((<usize>reflectIndex(i - half + k - 1, n) * <usize>stride) << 2));
    // find the leaving value (binary search for its first occurrence)
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (load<f32>(win + (<usize>mid << 2)) < out) lo = mid + 1;
      else hi = mid;
    }
    let p = lo;
    // replace it by the entering value and bubble it into place
    if (inn > out) {
      while (p + 1 < k && load<f32>(win + (<usize>(p + 1) << 2)) < inn) {
        store<f32>(win + (<usize>p << 2), load<f32>(win + (<usize>(p + 1) << 2)));
        p++;
      }
    } else {
      while (p > 0 && load<f32>(win + (<usize>(p - 1) << 2)) > inn) {
        store<f32>(win + (<usize>p << 2), load<f32>(win + (<usize>(p - 1) << 2)));
        p--;
      }
    }
    store<f32>(win + (<usize>p << 2), inn);
    store<f32>(dst + ((<usize>i * <usize>stride) << 2), load<f32>(win + (<usize>rank << 2)));
  }
}

/**
 * Median filter of `src` (nFrames × nBins) along one axis: axis 0 = along time (each bin's
 * sequence over frames, HPSS's harmonic filter), 1 = along frequency (the percussive filter).
 * kernel ≥ 1; scratch: kernel floats. `dst` must not overlap `src`.
 */
export function medianFilterAxis(src: usize, nFrames: i32, nBins: i32, kernel: i32, axis: i32, dst: usize, scratch: usize): void {
  if (axis == 0) {
    for (let b = 0; b < nBins; b++) medianLine(src + (<usize>b << 2), nFrames, nBins, kernel, dst + (<usize>b << 2), scratch);
  } else {
    const row = <usize>nBins << 2;
    for (let t = 0; t < nFrames; t++) medianLine(src + <usize>t * row, nBins, 1, kernel, dst + <usize>t * row, scratch);
  }
}

// librosa.util.softmask's (X/Z)^p / ((X/Z)^p + (R/Z)^p) with Z = max(X, R); 0 where Z is tiny.
@inline function softmask(x: f32, r: f32, power: f32): f32 {
  const z = max(x, r);
  if (z < 1.1754944e-38) return 0;
  let a: f32, b: f32;
  if (power == 2) {
    const u = x / z;
    const v = r / z;
    a = u * u;
    b = v * v;
  } else {
    a = Mathf.pow(x / z, power);
    b = Mathf.pow(r / z, power);
  }
  const s = a + b;
  return s > 0 ? a / s : 0;
}

/**
 * HPSS soft masks from the filtered magnitudes H (harmonic) and P (percussive), n cells:
 * maskH = softmask(H, marginH·P), maskP = softmask(P, marginP·H) (librosa), and
 * maskR = 1 − maskH − maskP. With both margins 1 maskP is set to 1 − maskH and maskR to 0, so the
 * masks always sum to one (cells where H = P = 0 go to the residual, or to P without margins).
 */
export function hpssMasks(h: usize, p: usize, n: i32, power: f32, marginH: f32, marginP: f32, maskH: usize, maskP: usize, maskR: usize): void {
  const plain = marginH == 1 && marginP == 1;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const hv = load<f32>(h + o);
    const pv = load<f32>(p + o);
    const mh = softmask(hv, marginH * pv, power);
    let mp: f32;
    if (plain) mp = 1 - mh;
    else mp = softmask(pv, marginP * hv, power);
    store<f32>(maskH + o, mh);
    store<f32>(maskP + o, mp);
    store<f32>(maskR + o, plain ? 0 : max<f32>(0, 1 - mh - mp));
  }
}

/**
 * Multiply an interleaved complex spectrum (2n floats: re, im) by a real mask (n floats) into
 * `out` (2n floats). Four cells per step with SIMD.
 */
export function applyMaskComplex(spec: usize, mask: usize, n: i32, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const m = v128.load(mask + (<usize>i << 2));
    const lo = i8x16.shuffle(m, m, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7);
    const hi = i8x16.shuffle(m, m, 8, 9, 10, 11, 8, 9, 10, 11, 12, 13, 14, 15, 12, 13, 14, 15);
    const s = spec + (<usize>i << 3);
    const d = out + (<usize>i << 3);
    v128.store(d, f32x4.mul(v128.load(s), lo));
    v128.store(d + 16, f32x4.mul(v128.load(s + 16), hi));
  }
  for (; i < n; i++) {
    const m = load<f32>(mask + (<usize>i << 2));
    const s = spec + (<usize>i << 3);
    const d = out + (<usize>i << 3);
    store<f32>(d, load<f32>(s) * m);
    store<f32>(d + 4, load<f32>(s + 4) * m);
  }
}

/** |X| of an interleaved complex spectrum (2n floats) into n floats. */
export function complexMagnitude(spec: usize, n: i32, out: usize): void {
  for (let i = 0; i < n; i++) {
    const re = load<f32>(spec + (<usize>i << 3));
    const im = load<f32>(spec + (<usize>i << 3) + 4);
    store<f32>(out + (<usize>i << 2), Mathf.sqrt(re * re + im * im));
  }
}

/**
 * Cosine similarity between the frames (rows) of `mag` (nFrames × nBins) into `sim`
 * (nFrames × nFrames). scratch: nFrames floats (row norms). A zero frame has similarity 0 with
 * every frame (1 with itself).
 */
export function frameCosineSimilarity(mag: usize, nFrames: i32, nBins: i32, sim: usize, norms: usize): void {
  const row = <usize>nBins << 2;
  for (let t = 0; t < nFrames; t++) {
    const a = mag + <usize>t * row;
    let acc = f32x4.splat(0);
    let b = 0;
    for (; b + 4 <= nBins; b += 4) {
      const v = v128.load(a + (<usize>b << 2));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; b < nBins; b++) {
      const v = load<f32>(a + (<usize>b << 2));
      s += v * v;
    }
    store<f32>(norms + (<usize>t << 2), Mathf.sqrt(s));
  }
  const n = <usize>nFrames;
  for (let i = 0; i < nFrames; i++) {
    const a = mag + <usize>i * row;
    const na = load<f32>(norms + (<usize>i << 2));
    store<f32>(sim + ((<usize>i * n + <usize>i) << 2), 1);
    for (let j = i + 1; j < nFrames; j++) {
      const c = mag + <usize>j * row;
      let acc = f32x4.splat(0);
      let b = 0;
      for (; b + 4 <= nBins; b += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>b << 2)), v128.load(c + (<usize>b << 2))));
      let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
      for (; b < nBins; b++) s += load<f32>(a + (<usize>b << 2)) * load<f32>(c + (<usize>b << 2));
      const d = na * load<f32>(norms + (<usize>j << 2));
      const v: f32 = d > 0 ? s / d : 0;
      store<f32>(sim + ((<usize>i * n + <usize>j) << 2), v);
      store<f32>(sim + ((<usize>j * n + <usize>i) << 2), v);
    }
  }
}

/**
 * REPET-SIM repeating-background mask. For each frame t: pick greedily the most similar frames
 * (sim row t, the frame itself included) with similarity ≥ threshold, at least minDistance frames
 * from every frame already picked, at most k; the repeating magnitude is, per bin, the median
 * (NumPy's: mean of the two middle values for an even count) of the picked frames, capped at the
 * mixture; mask = min(R, V)/V (1 where V = 0). Returns nothing; writes `mask` (nFrames × nBins).
 * scratch: nFrames i32 (picked flags) + k i32 (picked indices) + k floats (median buffer).
 */
export function repetSimMask(mag: usize, sim: usize, nFrames: i32, nBins: i32, k: i32, minDistance: i32, threshold: f32, mask: usize, scratch: usize): void {
  const flags = scratch;
  const picked = flags + (<usize>nFrames << 2);
  const buf = picked + (<usize>k << 2);
  const row = <usize>nBins << 2;
  for (let t = 0; t < nFrames; t++) {
    const srow = sim + ((<usize>t * <usize>nFrames) << 2);
    memory.fill(flags, 0, <usize>nFrames << 2);
    let count = 0;
    while (count < k) {
      let best = -1;
      let bestV: f32 = -Infinity;
      for (let j = 0; j < nFrames; j++) {
        if (load<i32>(flags + (<usize>j << 2)) != 0) continue;
        const v = load<f32>(srow + (<usize>j << 2));
        if (v > bestV) {
          bestV = v;
          best = j;
        }
      }
      if (best < 0 || bestV < threshold) break;
      store<i32>(picked + (<usize>count << 2), best);
      count++;
      const lo = max(0, best - minDistance + 1);
      const hi = min(nFrames - 1, best + minDistance - 1);
      for (let j = lo; j <= hi; j++) store<i32>(flags + (<usize>j << 2), 1);
      store<i32>(flags + (<usize>best << 2), 1);
    }
    const vrow = mag + <usize>t * row;
    const mrow = mask + <usize>t * row;
    for (let b = 0; b < nBins; b++) {
      // insertion-sort the picked frames' values of bin b
      for (let c = 0; c < count; c++) {
        const v = load<f32>(mag + <usize>load<i32>(picked + (<usize>c << 2)) * row + (<usize>b << 2));
        let p = c;
        while (p > 0 && load<f32>(buf + (<usize>(p - 1) << 2)) > v) {
          store<f32>(buf + (<usize>p << 2), load<f32>(buf + (<usize>(p - 1) << 2)));
          p--;
        }
        store<f32>(buf + (<usize>p << 2), v);
      }
      const m = count >> 1;
      let r: f32;
      if (count == 0) r = 0;
      else if (count & 1) r = load<f32>(buf + (<usize>m << 2));
      else r = 0.5 * (load<f32>(buf + (<usize>(m - 1) << 2)) + load<f32>(buf + (<usize>m << 2)));
      const v = load<f32>(vrow + (<usize>b << 2));
      store<f32>(mrow + (<usize>b << 2), v > 0 ? min(r, v) / v : 1);
    }
  }
}

// Λ = A·B (T×k times k×F) into lam (T×F), all f64.
function nmfProduct(a: usize, b: usize, T: i32, F: i32, K: i32, lam: usize): void {
  const rowF = <usize>F << 3;
  for (let t = 0; t < T; t++) {
    const l = lam + <usize>t * rowF;
    memory.fill(l, 0, rowF);
    for (let c = 0; c < K; c++) {
      const av = load<f64>(a + ((<usize>t * <usize>K + <usize>c) << 3));
      const br = b + <usize>c * rowF;
      const s = f64x2.splat(av);
      let f = 0;
      for (; f + 2 <= F; f += 2) {
        const o = <usize>f << 3;
        v128.store(l + o, f64x2.add(v128.load(l + o), f64x2.mul(s, v128.load(br + o))));
      }
      for (; f < F; f++) {
        const o = <usize>f << 3;
        store<f64>(l + o, load<f64>(l + o) + av * load<f64>(br + o));
      }
    }
  }
}

// β-divergence D(V | Λ) summed over the cells.
function nmfObjective(v: usize, lam: usize, n: i32, beta: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const x = load<f64>(v + (<usize>i << 3));
    const y = load<f64>(lam + (<usize>i << 3));
    if (beta == 2) s += 0.5 * (x - y) * (x - y);
    else if (beta == 1) s += x * Math.log(x / y) - x + y;
    else s += x / y - Math.log(x / y) - 1;
  }
  return s;
}

/**
 * NMF V ≈ A·B by multiplicative updates for the β-divergence (β ∈ {0, 1, 2}), V: T×F (f64,
 * strictly positive: the host adds a floor), A: T×K activations, B: K×F templates (f64, both
 * initialised positive by the host). Updates A then B each iteration (scikit-learn's order) with exponent
 * γ = 1/(2 − β) for β < 1, 1 otherwise (Févotte & Idier 2011, Table 2: the objective never
 * increases). objective[i] (f64) = D_β(V | AB) after iteration i (objective[0] before any).
 * scratch: 3·T·F + 2·K·F f64 (Λ, two work arrays, the template update's sums). objective:
 * iterations + 1 f64.
 */
export function nmfBeta(v: usize, T: i32, F: i32, K: i32, beta: i32, iterations: i32, a: usize, b: usize, objective: usize, scratch: usize): void {
  const n = T * F;
  const lam = scratch;
  const w1 = lam + (<usize>n << 3); // V ⊙ Λ^(β−2)
  const w2 = w1 + (<usize>n << 3); // Λ^(β−1)
  const numB = w2 + (<usize>n << 3);
  const denB = numB + (<usize>(K * F) << 3);
  const gamma: f64 = beta < 1 ? 1.0 / (2.0 - <f64>beta) : 1.0;
  nmfProduct(a, b, T, F, K, lam);
  store<f64>(objective, nmfObjective(v, lam, n, beta));
  for (let it = 1; it <= iterations; it++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < n; i++) {
        const o = <usize>i << 3;
        const y = load<f64>(lam + o);
        const x = load<f64>(v + o);
        if (beta == 2) {
          store<f64>(w1 + o, x);
          store<f64>(w2 + o, y);
        } else if (beta == 1) {
          store<f64>(w1 + o, x / y);
          store<f64>(w2 + o, 1);
        } else {
          store<f64>(w1 + o, x / (y * y));
          store<f64>(w2 + o, 1 / y);
        }
      }
      if (pass == 1) {
        // B[c,f] *= (Σ_t A[t,c] w1[t,f] / Σ_t A[t,c] w2[t,f])^γ, accumulated row by row of w1, w2
        // (contiguous, two f64 lanes at a time) into numB / denB (K×F each).
        memory.fill(numB, 0, <usize>(K * F) << 3);
        memory.fill(denB, 0, <usize>(K * F) << 3);
        for (let t = 0; t < T; t++) {
          const r1 = w1 + ((<usize>t * <usize>F) << 3);
          const r2 = w2 + ((<usize>t * <usize>F) << 3);
          for (let c = 0; c < K; c++) {
            const av = load<f64>(a + ((<usize>t * <usize>K + <usize>c) << 3));
            const sv = f64x2.splat(av);
            const nr = numB + ((<usize>c * <usize>F) << 3);
            const dr = denB + ((<usize>c * <usize>F) << 3);
            let f = 0;
            for (; f + 2 <= F; f += 2) {
              const o = <usize>f << 3;
              v128.store(nr + o, f64x2.add(v128.load(nr + o), f64x2.mul(sv, v128.load(r1 + o))));
              v128.store(dr + o, f64x2.add(v128.load(dr + o), f64x2.mul(sv, v128.load(r2 + o))));
            }
            for (; f < F; f++) {
              const o = <usize>f << 3;
              store<f64>(nr + o, load<f64>(nr + o) + av * load<f64>(r1 + o));
              store<f64>(dr + o, load<f64>(dr + o) + av * load<f64>(r2 + o));
            }
          }
        }
        for (let i = 0; i < K * F; i++) {
          const o = <usize>i << 3;
          const den = load<f64>(denB + o);
          if (den > 0) {
            const r = load<f64>(numB + o) / den;
            store<f64>(b + o, load<f64>(b + o) * (gamma == 1 ? r : Math.pow(r, gamma)));
          }
        }
      } else {
        // A[t,c] *= (Σ_f w1[t,f] B[c,f] / Σ_f w2[t,f] B[c,f])^γ
        for (let t = 0; t < T; t++) {
          const r1 = w1 + ((<usize>t * <usize>F) << 3);
          const r2 = w2 + ((<usize>t * <usize>F) << 3);
          for (let c = 0; c < K; c++) {
            const br = b + ((<usize>c * <usize>F) << 3);
            let num = f64x2.splat(0);
            let den = f64x2.splat(0);
            let f = 0;
            for (; f + 2 <= F; f += 2) {
              const o = <usize>f << 3;
              const bv = v128.load(br + o);
              num = f64x2.add(num, f64x2.mul(v128.load(r1 + o), bv));
              den = f64x2.add(den, f64x2.mul(v128.load(r2 + o), bv));
            }
            let ns = f64x2.extract_lane(num, 0) + f64x2.extract_lane(num, 1);
            let ds = f64x2.extract_lane(den, 0) + f64x2.extract_lane(den, 1);
            for (; f < F; f++) {
              const o = <usize>f << 3;
              ns += load<f64>(r1 + o) * load<f64>(br + o);
              ds += load<f64>(r2 + o) * load<f64>(br + o);
            }
            const p = a + ((<usize>t * <usize>K + <usize>c) << 3);
            if (ds > 0) {
              const r = ns / ds;
              store<f64>(p, load<f64>(p) * (gamma == 1 ? r : Math.pow(r, gamma)));
            }
          }
        }
      }
      nmfProduct(a, b, T, F, K, lam);
    }
    store<f64>(objective + (<usize>it << 3), nmfObjective(v, lam, n, beta));
  }
}

/**
 * Soft mask of NMF component c: A[:,c]·B[c,:] / Σ_j A[:,j]·B[j,:] (T×F f32 out); components are
 * written for c < K − 1 and the last one is 1 − the others' sum, so the masks sum to one.
 * Call in order c = 0…K−1 with the same `acc` (T·F f32 scratch, zeroed by the host).
 */
export function nmfMask(a: usize, b: usize, T: i32, F: i32, K: i32, c: i32, mask: usize, acc: usize): void {
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) {
      const cell = <usize>t * <usize>F + <usize>f;
      const ac = acc + (cell << 2);
      let m: f32;
      if (c == K - 1) m = max<f32>(0, 1 - load<f32>(ac));
      else {
        let tot: f64 = 0;
        for (let j = 0; j < K; j++) tot += load<f64>(a + ((<usize>t * <usize>K + <usize>j) << 3)) * load<f64>(b + ((<usize>j * <usize>F + <usize>f) << 3));
        const own = load<f64>(a + ((<usize>t * <usize>K + <usize>c) << 3)) * load<f64>(b + ((<usize>c * <usize>F + <usize>f) << 3));
        m = tot > 0 ? <f32>(own / tot) : 1 / <f32>K;
        store<f32>(ac, load<f32>(ac) + m);
      }
      store<f32>(mask + (cell << 2), m);
    }
  }
}
