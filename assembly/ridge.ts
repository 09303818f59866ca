// Weighted ridge regression and weighted R²: the LIME surrogate fit (methods.md §3).
//
// Reproduces scikit-learn's Ridge(alpha, fit_intercept).fit(X, y, sample_weight=w) with the
// default solver for dense X ('cholesky', sklearn/linear_model/_ridge.py), in f64 throughout
// (LIME weights span 1 … 1e-35):
//   x̄ = Σ w x / Σ w, ȳ = Σ w y / Σ w (only with an intercept; two passes: means, then centring);
//   X̃ = √w (X − x̄), ỹ = √w (y − ȳ); solve (X̃ᵀX̃ + αI) β = X̃ᵀỹ by Cholesky;
//   intercept = ȳ − x̄·β.
// When X̃ᵀX̃ + αI is not positive definite (α = 0 with a singular Gram matrix) sklearn falls back
// to an SVD of X̃; here the fallback is the same pseudo-inverse computed from a cyclic Jacobi
// eigen-decomposition of the d×d Gram matrix G = X̃ᵀX̃ = V Λ Vᵀ (Λ = the squared singular values
// of X̃): β = Σ_{λ_i > cut} v_i (v_iᵀ X̃ᵀỹ) / (λ_i + α), cut = d·ε·λ_max (eigenvalues of G below
// the rounding level of G count as zero).
// The Gram matrix is accumulated from blocks of 4 centred, scaled rows with f64x2 rank-4
// updates of its upper triangle, so X is read once and never copied (n can be 70 000).

const EPS: f64 = 2.220446049250313e-16;
const MAX_SWEEPS: i32 = 64;

// scratch header (f64 slots)
const H_STATUS: i32 = 0; // 0 = Cholesky, 1 = eigen-decomposition fallback
const H_SUMW: i32 = 1;
const H_YBAR: i32 = 2;
const H_RANK: i32 = 3; // eigenvalues kept by the fallback (d after Cholesky)
const HEADER: i32 = 4;

@inline
function padded(d: i32): i32 {
  return (d + 1) & ~1;
}

@inline
function at(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}

/** Bytes of scratch weightedRidge needs for d features (n does not matter: X is never copied). */
export function ridgeScratchBytes(n: i32, d: i32): i32 {
  const d2 = padded(d);
  // header, x̄, X̃ᵀỹ, 4 row buffers, eigenvalues (d2 each); G, A (factor), V (d × d2 each)
  return (HEADER + 7 * d2 + 3 * d * d2) << 3;
}

// Cholesky factorisation A = L Lᵀ in place (lower triangle, row stride d2). False when a pivot
// is not positive (LAPACK dpotrf's criterion, which makes sklearn switch solvers).
function cholesky(a: usize, d: i32, d2: i32): bool {
  for (let j = 0; j < d; j++) {
    const rj = a + (<usize>(j * d2) << 3);
    let s = load<f64>(at(rj, j));
    for (let k = 0; k < j; k++) {
      const l = load<f64>(at(rj, k));
      s -= l * l;
    }
    if (!(s > 0.0)) return false;
    const ljj = Math.sqrt(s);
    store<f64>(at(rj, j), ljj);
    for (let i = j + 1; i < d; i++) {
      const ri = a + (<usize>(i * d2) << 3);
      let t = load<f64>(at(ri, j));
      for (let k = 0; k < j; k++) t -= load<f64>(at(ri, k)) * load<f64>(at(rj, k));
      store<f64>(at(ri, j), t / ljj);
    }
  }
  return true;
}

// Solve L Lᵀ x = b (b overwritten by x).
function choleskySolve(l: usize, d: i32, d2: i32, b: usize): void {
  for (let i = 0; i < d; i++) {
    const ri = l + (<usize>(i * d2) << 3);
    let t = load<f64>(at(b, i));
    for (let k = 0; k < i; k++) t -= load<f64>(at(ri, k)) * load<f64>(at(b, k));
    store<f64>(at(b, i), t / load<f64>(at(ri, i)));
  }
  for (let i = d - 1; i >= 0; i--) {
    let t = load<f64>(at(b, i));
    for (let k = i + 1; k < d; k++) t -= load<f64>(l + (<usize>(k * d2 + i) << 3)) * load<f64>(at(b, k));
    store<f64>(at(b, i), t / load<f64>(l + (<usize>(i * d2 + i) << 3)));
  }
}

// Cyclic Jacobi eigen-decomposition of the symmetric d×d matrix a (destroyed; its diagonal ends
// up holding the eigenvalues, copied to eig) with eigenvectors in the columns of v.
function jacobiEigen(a: usize, v: usize, eig: usize, d: i32, d2: i32): void {
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) store<f64>(v + (<usize>(i * d2 + k) << 3), i == k ? 1.0 : 0.0);
  }
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off: f64 = 0;
    let diag: f64 = 0;
    for (let p = 0; p < d; p++) {
      const app = load<f64>(a + (<usize>(p * d2 + p) << 3));
      diag += app * app;
      for (let q = p + 1; q < d; q++) {
        const apq = load<f64>(a + (<usize>(p * d2 + q) << 3));
        off += apq * apq;
      }
    }
    if (off <= EPS * EPS * 1e-4 * diag || off == 0.0) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = load<f64>(a + (<usize>(p * d2 + q) << 3));
        if (apq == 0.0) continue;
        const app = load<f64>(a + (<usize>(p * d2 + p) << 3));
        const aqq = load<f64>(a + (<usize>(q * d2 + q) << 3));
        const theta = (aqq - app) / (2.0 * apq);
        // t = tan of the rotation angle, the smaller root of t² + 2θt − 1 = 0
        let t: f64;
        if (Math.abs(theta) > 1e150) t = 0.5 / theta;
        else t = (theta >= 0 ? 1.0 : -1.0) / (Math.abs(theta) + Math.sqrt(theta * theta + 1.0));
        const c = 1.0 / Math.sqrt(t * t + 1.0);
        const s = t * c;
        // A ← Jᵀ A J with J the rotation in the (p, q) plane: columns, then rows
        for (let k = 0; k < d; k++) {
          const pk = a + (<usize>(k * d2 + p) << 3);
          const qk = a + (<usize>(k * d2 + q) << 3);
          const akp = load<f64>(pk);
          const akq = load<f64>(qk);
          store<f64>(pk, c * akp - s * akq);
          store<f64>(qk, s * akp + c * akq);
        }
        for (let k = 0; k < d; k++) {
          const pk = a + (<usize>(p * d2 + k) << 3);
          const qk = a + (<usize>(q * d2 + k) << 3);
          const apk = load<f64>(pk);
          const aqk = load<f64>(qk);
          store<f64>(pk, c * apk - s * aqk);
          store<f64>(qk, s * apk + c * aqk);
        }
        // exact zero for the annihilated pair (rounding leaves ~ε·|a_pq| otherwise)
        store<f64>(a + (<usize>(p * d2 + q) << 3), 0.0);
        store<f64>(a + (<usize>(q * d2 + p) << 3), 0.0);
        for (let k = 0; k < d; k++) {
          const pk = v + (<usize>(k * d2 + p) << 3);
          const qk = v + (<usize>(k * d2 + q) << 3);
          const vkp = load<f64>(pk);
          const vkq = load<f64>(qk);
          store<f64>(pk, c * vkp - s * vkq);
          store<f64>(qk, s * vkp + c * vkq);
        }
      }
    }
  }
  for (let i = 0; i < d; i++) store<f64>(at(eig, i), load<f64>(a + (<usize>(i * d2 + i) << 3)));
}

// One centred, √w-scaled row into r (padded with zeros to d2); returns √w (y − ȳ).
@inline
function centredRow(x: usize, y: usize, w: usize, i: i32, d: i32, d2: i32, xbar: usize, ybar: f64, r: usize): f64 {
  const sw = Math.sqrt(load<f64>(at(w, i)));
  const xi = x + (<usize>i * <usize>d << 3);
  for (let j = 0; j < d; j++) store<f64>(at(r, j), sw * (load<f64>(at(xi, j)) - load<f64>(at(xbar, j))));
  if (d2 > d) store<f64>(at(r, d), 0.0);
  return sw * (load<f64>(at(y, i)) - ybar);
}

/**
 * Fit weighted ridge; writes β (d f64) to coefOut and returns the intercept (0 without one).
 * X: n·d f64 row-major; y, w: n f64 (w ≥ 0, Σw > 0: the host checks). scratch: ridgeScratchBytes,
 * 16-byte aligned; afterwards scratch f64[0] = 0 (Cholesky) or 1 (eigen fallback), f64[3] = rank
 * used by the fallback (d after Cholesky).
 */
export function weightedRidge(
  x: usize,
  y: usize,
  w: usize,
  n: i32,
  d: i32,
  alpha: f64,
  fitIntercept: i32,
  coefOut: usize,
  scratch: usize,
): f64 {
  const d2 = padded(d);
  const xbar = scratch + (<usize>HEADER << 3);
  const rhs = xbar + (<usize>d2 << 3);
  const rows = rhs + (<usize>d2 << 3);
  const g = rows + (<usize>(4 * d2) << 3);
  const a = g + (<usize>(d * d2) << 3);
  const v = a + (<usize>(d * d2) << 3);
  const eig = v + (<usize>(d * d2) << 3);
  const rowBytes = <usize>d2 << 3;

  // pass 1: weighted means (as np.average: Σ w x / Σ w)
  let sumW: f64 = 0;
  let sumWY: f64 = 0;
  for (let j = 0; j < d2; j++) store<f64>(at(xbar, j), 0.0);
  if (fitIntercept != 0) {
    for (let i = 0; i < n; i++) {
      const wi = load<f64>(at(w, i));
      sumW += wi;
      sumWY += wi * load<f64>(at(y, i));
      const xi = x + (<usize>i * <usize>d << 3);
      const wv = f64x2.splat(wi);
      let j = 0;
      for (; j + 2 <= d; j += 2) {
        const p = at(xbar, j);
        v128.store(p, f64x2.add(v128.load(p), f64x2.mul(wv, v128.load(at(xi, j)))));
      }
      if (j < d) store<f64>(at(xbar, j), load<f64>(at(xbar, j)) + wi * load<f64>(at(xi, j)));
    }
    for (let j = 0; j < d; j++) store<f64>(at(xbar, j), load<f64>(at(xbar, j)) / sumW);
  } else {
    for (let i = 0; i < n; i++) sumW += load<f64>(at(w, i));
  }
  const ybar = fitIntercept != 0 ? sumWY / sumW : 0.0;
  store<f64>(at(scratch, H_SUMW), sumW);
  store<f64>(at(scratch, H_YBAR), ybar);

  // pass 2: G = X̃ᵀX̃ (upper triangle, from column j & ~1 on) and X̃ᵀỹ, four rows at a time
  for (let j = 0; j < d2; j++) store<f64>(at(rhs, j), 0.0);
  const gBytes = <usize>(d * d2) << 3;
  for (let o: usize = 0; o < gBytes; o += 8) store<f64>(g + o, 0.0);
  const r0 = rows;
  const r1 = rows + rowBytes;
  const r2 = rows + 2 * rowBytes;
  const r3 = rows + 3 * rowBytes;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const t0 = centredRow(x, y, w, i, d, d2, xbar, ybar, r0);
    const t1 = centredRow(x, y, w, i + 1, d, d2, xbar, ybar, r1);
    const t2 = centredRow(x, y, w, i + 2, d, d2, xbar, ybar, r2);
    const t3 = centredRow(x, y, w, i + 3, d, d2, xbar, ybar, r3);
    for (let j = 0; j < d; j++) {
      const e0 = load<f64>(at(r0, j));
      const e1 = load<f64>(at(r1, j));
      const e2 = load<f64>(at(r2, j));
      const e3 = load<f64>(at(r3, j));
      store<f64>(at(rhs, j), load<f64>(at(rhs, j)) + (e0 * t0 + e1 * t1 + e2 * t2 + e3 * t3));
      const a0 = f64x2.splat(e0);
      const a1 = f64x2.splat(e1);
      const a2 = f64x2.splat(e2);
      const a3 = f64x2.splat(e3);
      const gj = g + (<usize>(j * d2) << 3);
      for (let k = j & ~1; k < d2; k += 2) {
        const off = <usize>k << 3;
        let s = f64x2.add(f64x2.mul(a0, v128.load(r0 + off)), f64x2.mul(a1, v128.load(r1 + off)));
        s = f64x2.add(s, f64x2.add(f64x2.mul(a2, v128.load(r2 + off)), f64x2.mul(a3, v128.load(r3 + off))));
        v128.store(gj + off, f64x2.add(v128.load(gj + off), s));
      }
    }
  }
  for (; i < n; i++) {
    const t0 = centredRow(x, y, w, i, d, d2, xbar, ybar, r0);
    for (let j = 0; j < d; j++) {
      const e0 = load<f64>(at(r0, j));
      store<f64>(at(rhs, j), load<f64>(at(rhs, j)) + e0 * t0);
      const a0 = f64x2.splat(e0);
      const gj = g + (<usize>(j * d2) << 3);
      for (let k = j & ~1; k < d2; k += 2) {
        const off = <usize>k << 3;
        v128.store(gj + off, f64x2.add(v128.load(gj + off), f64x2.mul(a0, v128.load(r0 + off))));
      }
    }
  }
  // mirror the upper triangle into the lower one
  for (let j = 1; j < d; j++) {
    for (let k = 0; k < j; k++) store<f64>(g + (<usize>(j * d2 + k) << 3), load<f64>(g + (<usize>(k * d2 + j) << 3)));
  }

  // A = G + αI, Cholesky
  memory.copy(a, g, gBytes);
  for (let j = 0; j < d; j++) {
    const p = a + (<usize>(j * d2 + j) << 3);
    store<f64>(p, load<f64>(p) + alpha);
  }
  for (let j = 0; j < d; j++) store<f64>(at(coefOut, j), load<f64>(at(rhs, j)));
  if (cholesky(a, d, d2)) {
    choleskySolve(a, d, d2, coefOut);
    store<f64>(at(scratch, H_STATUS), 0.0);
    store<f64>(at(scratch, H_RANK), <f64>d);
  } else {
    // pseudo-inverse through G = V Λ Vᵀ
    memory.copy(a, g, gBytes);
    jacobiEigen(a, v, eig, d, d2);
    let lmax: f64 = 0;
    for (let k = 0; k < d; k++) lmax = Math.max(lmax, load<f64>(at(eig, k)));
    const cut = Math.max(<f64>d * EPS * lmax, 1e-30);
    const proj = rows; // reuse: d2 f64
    let rank = 0;
    for (let k = 0; k < d; k++) {
      const lk = load<f64>(at(eig, k));
      let p: f64 = 0;
      if (lk > cut) {
        for (let m = 0; m < d; m++) p += load<f64>(v + (<usize>(m * d2 + k) << 3)) * load<f64>(at(rhs, m));
        p /= lk + alpha;
        rank++;
      }
      store<f64>(at(proj, k), p);
    }
    for (let m = 0; m < d; m++) {
      let s: f64 = 0;
      for (let k = 0; k < d; k++) s += load<f64>(v + (<usize>(m * d2 + k) << 3)) * load<f64>(at(proj, k));
      store<f64>(at(coefOut, m), s);
    }
    store<f64>(at(scratch, H_STATUS), 1.0);
    store<f64>(at(scratch, H_RANK), <f64>rank);
  }

  if (fitIntercept == 0) return 0.0;
  let dot: f64 = 0;
  for (let j = 0; j < d; j++) dot += load<f64>(at(xbar, j)) * load<f64>(at(coefOut, j));
  return ybar - dot;
}

/**
 * Weighted R² of the linear model (coef, intercept) on (X, y, w), as sklearn's r2_score with
 * sample_weight: 1 − Σw(y−ŷ)² / Σw(y−ȳ_w)²; a zero numerator gives 1, else a zero denominator 0.
 */
export function weightedR2(x: usize, y: usize, w: usize, n: i32, d: i32, coef: usize, intercept: f64): f64 {
  let sumW: f64 = 0;
  let sumWY: f64 = 0;
  for (let i = 0; i < n; i++) {
    const wi = load<f64>(at(w, i));
    sumW += wi;
    sumWY += wi * load<f64>(at(y, i));
  }
  const ybar = sumWY / sumW;
  let num: f64 = 0;
  let den: f64 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x + (<usize>i * <usize>d << 3);
    let p: f64 = 0;
    for (let j = 0; j < d; j++) p += load<f64>(at(xi, j)) * load<f64>(at(coef, j));
    p += intercept;
    const wi = load<f64>(at(w, i));
    const yi = load<f64>(at(y, i));
    num += wi * (yi - p) * (yi - p);
    den += wi * (yi - ybar) * (yi - ybar);
  }
  if (num == 0.0) return 1.0;
  if (den == 0.0) return 0.0;
  return 1.0 - num / den;
}

/**
 * Index of the first non-finite value (NaN, ±Infinity) among count f64 at ptr, or −1: lets the
 * host validate a large design matrix after copying it in, at memory speed.
 */
export function firstNonFiniteF64(ptr: usize, count: i32): i32 {
  const zero = f64x2.splat(0.0);
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const p = at(ptr, i);
    // v·0 is 0 for every finite v and NaN for NaN and ±Infinity
    const s = f64x2.add(
      f64x2.add(f64x2.mul(v128.load(p), zero), f64x2.mul(v128.load(p + 16), zero)),
      f64x2.add(f64x2.mul(v128.load(p + 32), zero), f64x2.mul(v128.load(p + 48), zero)),
    );
    if (v128.any_true(f64x2.ne(s, s))) break;
  }
  for (; i < count; i++) {
    const v = load<f64>(at(ptr, i));
    if (v * 0.0 != 0.0) return i;
  }
  return -1;
}

/** Widen count u8 at src (LIME's 0/1 rows) to f64 at dst (the design matrix weightedRidge reads). */
export function u8ToF64(src: usize, dst: usize, count: i32): void {
  for (let i = 0; i < count; i++) store<f64>(at(dst, i), <f64>load<u8>(src + <usize>i));
}
