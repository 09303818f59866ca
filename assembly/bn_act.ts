// Fused training-mode batch norm + leaky ReLU over channels-last data x[rows][channels]
// (Ioffe & Szegedy 2015; the closed-form backward pass, see src/model/fused.ts), f32x4 SIMD over
// channels with float64 accumulators for every sum. Per-channel vectors (f32 unless noted) are
// computed by the host (bindings/bn_act.ts); kernels never allocate. All sums are over rows.

@inline function lrelu4(z: v128, a: v128): v128 {
  return v128.bitselect(z, f32x4.mul(z, a), f32x4.gt(z, f32x4.splat(0)));
}

@inline function hi2(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 0, 1);
}

/** Shifted sums over rows: s1[c] = Σ (x − shift[c]), s2[c] = Σ (x − shift[c])² (s1, s2 f64). */
export function bnActStats(x: usize, rows: i32, channels: i32, shift: usize, s1: usize, s2: usize): void {
  for (let c = 0; c < channels; c++) {
    store<f64>(s1 + (<usize>c << 3), 0);
    store<f64>(s2 + (<usize>c << 3), 0);
  }
  const c4 = channels & ~3;
  const rowBytes = <usize>channels << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    for (let c = 0; c < c4; c += 4) {
      const o4 = <usize>c << 2;
      const o8 = <usize>c << 3;
      const d = f32x4.sub(v128.load(xr + o4), v128.load(shift + o4));
      const lo = f64x2.promote_low_f32x4(d);
      const hi = f64x2.promote_low_f32x4(hi2(d));
      v128.store(s1 + o8, f64x2.add(v128.load(s1 + o8), lo));
      v128.store(s1 + o8 + 16, f64x2.add(v128.load(s1 + o8 + 16), hi));
      v128.store(s2 + o8, f64x2.add(v128.load(s2 + o8), f64x2.mul(lo, lo)));
      v128.store(s2 + o8 + 16, f64x2.add(v128.load(s2 + o8 + 16), f64x2.mul(hi, hi)));
    }
    for (let c = c4; c < channels; c++) {
      const d = <f64>(load<f32>(xr + (<usize>c << 2)) - load<f32>(shift + (<usize>c << 2)));
      store<f64>(s1 + (<usize>c << 3), load<f64>(s1 + (<usize>c << 3)) + d);
      store<f64>(s2 + (<usize>c << 3), load<f64>(s2 + (<usize>c << 3)) + d * d);
    }
  }
}

/** y = lrelu((x − center[c])·scale[c] + beta[c]); y may alias x. */
export function bnActForward(x: usize, y: usize, rows: i32, channels: i32, center: usize, scale: usize, beta: usize, alpha: f32): void {
  const c4 = channels & ~3;
  const rowBytes = <usize>channels << 2;
  const av = f32x4.splat(alpha);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    for (let c = 0; c < c4; c += 4) {
      const o = <usize>c << 2;
      const z = f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + off + o), v128.load(center + o)), v128.load(scale + o)), v128.load(beta + o));
      v128.store(y + off + o, lrelu4(z, av));
    }
    for (let c = c4; c < channels; c++) {
      const o = <usize>c << 2;
      const z = (load<f32>(x + off + o) - load<f32>(center + o)) * load<f32>(scale + o) + load<f32>(beta + o);
      store<f32>(y + off + o, z > 0 ? z : alpha * z);
    }
  }
}

/**
 * With ĥ = (x − center)·invStd, z = γ ĥ + β, g = z > 0 ? dy : α·dy:
 * sg[c] = Σ g, sgh[c] = Σ g·ĥ (f64).
 */
export function bnActBackwardSums(dy: usize, x: usize, rows: i32, channels: i32, center: usize, invStd: usize, gamma: usize, beta: usize, alpha: f32, sg: usize, sgh: usize): void {
  for (let c = 0; c < channels; c++) {
    store<f64>(sg + (<usize>c << 3), 0);
    store<f64>(sgh + (<usize>c << 3), 0);
  }
  const c4 = channels & ~3;
  const rowBytes = <usize>channels << 2;
  const av = f32x4.splat(alpha);
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    for (let c = 0; c < c4; c += 4) {
      const o4 = <usize>c << 2;
      const o8 = <usize>c << 3;
      const h = f32x4.mul(f32x4.sub(v128.load(x + off + o4), v128.load(center + o4)), v128.load(invStd + o4));
      const z = f32x4.add(f32x4.mul(v128.load(gamma + o4), h), v128.load(beta + o4));
      const d = v128.load(dy + off + o4);
      const g = v128.bitselect(d, f32x4.mul(d, av), f32x4.gt(z, zero));
      const gh = f32x4.mul(g, h);
      v128.store(sg + o8, f64x2.add(v128.load(sg + o8), f64x2.promote_low_f32x4(g)));
      v128.store(sg + o8 + 16, f64x2.add(v128.load(sg + o8 + 16), f64x2.promote_low_f32x4(hi2(g))));
      v128.store(sgh + o8, f64x2.add(v128.load(sgh + o8), f64x2.promote_low_f32x4(gh)));
      v128.store(sgh + o8 + 16, f64x2.add(v128.load(sgh + o8 + 16), f64x2.promote_low_f32x4(hi2(gh))));
    }
    for (let c = c4; c < channels; c++) {
      const o4 = <usize>c << 2;
      const o8 = <usize>c << 3;
      const h = (load<f32>(x + off + o4) - load<f32>(center + o4)) * load<f32>(invStd + o4);
      const z = load<f32>(gamma + o4) * h + load<f32>(beta + o4);
      const d = load<f32>(dy + off + o4);
      const g = z > 0 ? d : alpha * d;
      store<f64>(sg + o8, load<f64>(sg + o8) + <f64>g);
      store<f64>(sgh + o8, load<f64>(sgh + o8) + <f64>(g * h));
    }
  }
}

/**
 * dx = k[c]·g − u[c] − w[c]·ĥ (ĥ, g as in bnActBackwardSums), sdx[c] = Σ dx (f64); dx may
 * alias dy or x.
 */
export function bnActBackwardDx(
  dy: usize, x: usize, dx: usize, rows: i32, channels: i32,
  center: usize, invStd: usize, gamma: usize, beta: usize, alpha: f32,
  k: usize, u: usize, w: usize, sdx: usize,
): void {
  for (let c = 0; c < channels; c++) store<f64>(sdx + (<usize>c << 3), 0);
  const c4 = channels & ~3;
  const rowBytes = <usize>channels << 2;
  const av = f32x4.splat(alpha);
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    for (let c = 0; c < c4; c += 4) {
      const o4 = <usize>c << 2;
      const o8 = <usize>c << 3;
      const h = f32x4.mul(f32x4.sub(v128.load(x + off + o4), v128.load(center + o4)), v128.load(invStd + o4));
      const z = f32x4.add(f32x4.mul(v128.load(gamma + o4), h), v128.load(beta + o4));
      const d = v128.load(dy + off + o4);
      const g = v128.bitselect(d, f32x4.mul(d, av), f32x4.gt(z, zero));
      const out = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(k + o4), g), v128.load(u + o4)), f32x4.mul(v128.load(w + o4), h));
      v128.store(dx + off + o4, out);
      v128.store(sdx + o8, f64x2.add(v128.load(sdx + o8), f64x2.promote_low_f32x4(out)));
      v128.store(sdx + o8 + 16, f64x2.add(v128.load(sdx + o8 + 16), f64x2.promote_low_f32x4(hi2(out))));
    }
    for (let c = c4; c < channels; c++) {
      const o4 = <usize>c << 2;
      const o8 = <usize>c << 3;
      const h = (load<f32>(x + off + o4) - load<f32>(center + o4)) * load<f32>(invStd + o4);
      const z = load<f32>(gamma + o4) * h + load<f32>(beta + o4);
      const d = load<f32>(dy + off + o4);
      const g = z > 0 ? d : alpha * d;
      const out = load<f32>(k + o4) * g - load<f32>(u + o4) - load<f32>(w + o4) * h;
      store<f32>(dx + off + o4, out);
      store<f64>(sdx + o8, load<f64>(sdx + o8) + <f64>out);
    }
  }
}

/**
 * Gradient of a max pool with non-overlapping windows (window = stride = sh × sw, 'valid') over
 * NHWC x [n, H, W, C] → y [n, Ho, Wo, C]: dy of each window goes to the window's FIRST maximum in
 * row-major window order (ties: the earliest position; runs of identical padded frames make
 * ties common), zeros elsewhere (including rows/columns beyond Ho·sh, Wo·sw). dx is n×H×W×C.
 */
export function maxPoolBlocksGrad(x: usize, dy: usize, dx: usize, n: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, sh: i32, sw: i32): void {
  memory.fill(dx, 0, <usize>n * <usize>H * <usize>W * (<usize>C << 2));
  const c4 = C & ~3;
  const rowB = <usize>W * (<usize>C << 2);
  const pixB = <usize>C << 2;
  for (let b = 0; b < n; b++) {
    const xb = x + <usize>b * <usize>H * rowB;
    const dxb = dx + <usize>b * <usize>H * rowB;
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        const base = <usize>(oh * sh) * rowB + <usize>(ow * sw) * pixB;
        const dyp = dy + ((<usize>b * <usize>Ho + <usize>oh) * <usize>Wo + <usize>ow) * pixB;
        for (let c = 0; c < c4; c += 4) {
          const o = <usize>c << 2;
          let best = v128.load(xb + base + o);
          let idx = i32x4.splat(0);
          for (let i = 0; i < sh; i++) {
            for (let j = 0; j < sw; j++) {
              if (i === 0 && j === 0) continue;
              const v = v128.load(xb + base + <usize>i * rowB + <usize>j * pixB + o);
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              idx = v128.bitselect(i32x4.splat(i * sw + j), idx, gt);
            }
          }
          const d = v128.load(dyp + o);
          for (let i = 0; i < sh; i++) {
            for (let j = 0; j < sw; j++) {
              v128.store(dxb + base + <usize>i * rowB + <usize>j * pixB + o, v128.and(d, i32x4.eq(idx, i32x4.splat(i * sw + j))));
            }
          }
        }
        for (let c = c4; c < C; c++) {
          const o = <usize>c << 2;
          let best = load<f32>(xb + base + o);
          let bi = 0;
          let bj = 0;
          for (let i = 0; i < sh; i++) {
            for (let j = 0; j < sw; j++) {
              const v = load<f32>(xb + base + <usize>i * rowB + <usize>j * pixB + o);
              if (v > best) {
                best = v;
                bi = i;
                bj = j;
              }
            }
          }
          store<f32>(dxb + base + <usize>bi * rowB + <usize>bj * pixB + o, load<f32>(dyp + o));
        }
      }
    }
  }
}
