// Input gradients of the singing-voice CNN in inference form (methods.md §2: batch norm folded
// into conv / dense layers, leaky ReLU, 3×3 max-pools), for attacks and gradient explanations
// (methods.md §6). The host runs the forward pass (TF.js / XNNPACK) and hands over each layer's
// post-activation output y; these kernels run the backward pass layer by layer, channels last:
// - the leaky-ReLU derivative is read off y (y > 0 ⇔ pre-activation > 0, since α > 0);
// - a max-pool's gradient goes to the FIRST maximum of each window in row-major (time, then
//   frequency) order, as in PyTorch/TF and src/model/gradients.ts, and the conv before the pool
//   is differentiated only at those positions (≤ 1 per window and channel: 1/9 of the dense
//   input-gradient work for the strided form);
// - every conv input gradient is the scatter form dx[t + d·kh, f + kw, :] += g[t, f, c]·w[kh, kw, :, c]
//   with the filter passed transposed, wt[kh, kw, c, :], so the inner loop is a contiguous SIMD axpy.
// Outputs are ACCUMULATED into dx (the host zeroes them). Kernels never allocate.

@inline function dlrelu(y: f32, alpha: f32): f32 {
  return y > 0 ? <f32>1 : alpha;
}

/** dst[0..n) += g·src[0..n), n a multiple of 4 handled with f32x4, scalar tail. */
@inline function axpy(dst: usize, src: usize, g: f32, n: i32): void {
  const gv = f32x4.splat(g);
  const n4 = n & ~3;
  let i = 0;
  for (; i + 16 <= n4; i += 16) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(gv, v128.load(src + o))));
    v128.store(dst + o + 16, f32x4.add(v128.load(dst + o + 16), f32x4.mul(gv, v128.load(src + o + 16))));
    v128.store(dst + o + 32, f32x4.add(v128.load(dst + o + 32), f32x4.mul(gv, v128.load(src + o + 32))));
    v128.store(dst + o + 48, f32x4.add(v128.load(dst + o + 48), f32x4.mul(gv, v128.load(src + o + 48))));
  }
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(gv, v128.load(src + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + g * load<f32>(src + o));
  }
}

/** Σ a[i]·b[i] over n floats (SIMD over multiples of 4). */
@inline function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n4; i += 8) {
    const o = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o + 16), v128.load(b + o + 16)));
  }
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  const s = f32x4.add(acc0, acc1);
  let r = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; i < n; i++) r += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return r;
}

/**
 * Dense layer (or a dense layer applied as a kh × (rowLen) convolution dilated `dil` along rows,
 * the fully-convolutional form of fc1): y[r, o] = lrelu(Σ_a Σ_i x[r + dil·a, i]·w[a·rowLen + i, o] + b_o).
 * Given dy [rows, nOut] and y: g = dy ⊙ lrelu'(y) (alpha = 1: no activation), then
 * dx[r + dil·a, i] += Σ_o w[a·rowLen + i, o]·g[o]. dx has rows + dil·(kh − 1) rows of rowLen.
 * g: scratch of nOut floats.
 */
export function igDenseBackward(dy: usize, y: usize, w: usize, dx: usize, rows: i32, kh: i32, rowLen: i32, nOut: i32, dil: i32, alpha: f32, g: usize): void {
  const outB = <usize>nOut << 2;
  const rowB = <usize>rowLen << 2;
  for (let r = 0; r < rows; r++) {
    let any = false;
    for (let o = 0; o < nOut; o++) {
      const off = <usize>r * outB + (<usize>o << 2);
      const v = load<f32>(dy + off) * dlrelu(load<f32>(y + off), alpha);
      store<f32>(g + (<usize>o << 2), v);
      if (v != 0) any = true;
    }
    if (!any) continue;
    for (let a = 0; a < kh; a++) {
      const dst = dx + <usize>(r + dil * a) * rowB;
      const wa = w + <usize>a * rowB * <usize>nOut;
      for (let i = 0; i < rowLen; i++) {
        const p = dst + (<usize>i << 2);
        store<f32>(p, load<f32>(p) + dot(wa + <usize>i * outB, g, nOut));
      }
    }
  }
}

/**
 * A 3×3 conv (dilation dil along time, 1 along frequency, 'valid', stride 1) with leaky ReLU,
 * followed by a 3×3 max-pool with stride (sh, 3) and dilation (dh, 1): y [n, H, W, C] is the
 * conv's activated output, dyp [n, Ho, Wo, C] the gradient of the pool's output. For every
 * window and channel the first maximum (t*, f*) gets g = dyp·lrelu'(y), which is scattered
 * through the filter: dx[b, t* + dil·kh, f* + kw, :] += g·wt[kh, kw, c, :].
 * dx: [n, H + 2·dil, W + 2, Cin] (accumulated); wt: [3, 3, C, Cin].
 * Within a window the channels are grouped by the cell of their maximum, so each touched dx row
 * is loaded and stored once per group and tap (the sums over the group's channels stay in
 * registers). gs: scratch of 2·9·C + 9 words.
 */
export function igPoolConvBackward(
  y: usize, dyp: usize, wt: usize, dx: usize,
  n: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32, sh: i32, dh: i32,
  Cin: i32, dil: i32, alpha: f32, gs: usize,
): void {
  const pixB = <usize>C << 2;
  const rowB = <usize>W * pixB;
  const Hx = H + 2 * dil;
  const Wx = W + 2;
  const xPixB = <usize>Cin << 2;
  const xRowB = <usize>Wx * xPixB;
  const tapB = <usize>C * xPixB; // one (kh, kw) slice of wt
  // scratch: per cell q of the window, the channels (i32) and their g (f32), then 9 counts
  const chan = gs;
  const gval = gs + <usize>9 * pixB;
  const cnt = gs + <usize>18 * pixB;
  const cin16 = Cin & ~15;
  for (let b = 0; b < n; b++) {
    const yb = y + <usize>b * <usize>H * rowB;
    const dxb = dx + <usize>b * <usize>Hx * xRowB;
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const dp = dyp + ((<usize>b * <usize>Ho + <usize>i) * <usize>Wo + <usize>j) * pixB;
        const t0 = i * sh;
        const f0 = j * 3;
        for (let q = 0; q < 9; q++) store<i32>(cnt + (<usize>q << 2), 0);
        for (let c = 0; c < C; c++) {
          const d = load<f32>(dp + (<usize>c << 2));
          if (d == 0) continue;
          const cb = <usize>c << 2;
          let best = load<f32>(yb + <usize>t0 * rowB + <usize>f0 * pixB + cb);
          let bq = 0;
          for (let a = 0; a < 3; a++) {
            const t = t0 + a * dh;
            for (let e = 0; e < 3; e++) {
              if (a == 0 && e == 0) continue;
              const v = load<f32>(yb + <usize>t * rowB + <usize>(f0 + e) * pixB + cb);
              if (v > best) {
                best = v;
                bq = a * 3 + e;
              }
            }
          }
          const k = load<i32>(cnt + (<usize>bq << 2));
          const slot = (<usize>bq * <usize>C + <usize>k) << 2;
          store<i32>(chan + slot, c);
          store<f32>(gval + slot, d * dlrelu(best, alpha));
          store<i32>(cnt + (<usize>bq << 2), k + 1);
        }
        for (let q = 0; q < 9; q++) {
          const m = load<i32>(cnt + (<usize>q << 2));
          if (m == 0) continue;
          const bt = t0 + (q / 3) * dh;
          const bf = f0 + (q % 3);
          const qc = chan + ((<usize>q * <usize>C) << 2);
          const qg = gval + ((<usize>q * <usize>C) << 2);
          for (let kh = 0; kh < 3; kh++) {
            const row = dxb + <usize>(bt + dil * kh) * xRowB;
            for (let kw = 0; kw < 3; kw++) {
              const dst = row + <usize>(bf + kw) * xPixB;
              const wk = wt + <usize>(kh * 3 + kw) * tapB;
              let ci = 0;
              for (; ci < cin16; ci += 16) {
                const co = <usize>ci << 2;
                let a0 = v128.load(dst + co);
                let a1 = v128.load(dst + co + 16);
                let a2 = v128.load(dst + co + 32);
                let a3 = v128.load(dst + co + 48);
                for (let u = 0; u < m; u++) {
                  const c = load<i32>(qc + (<usize>u << 2));
                  const gv = f32x4.splat(load<f32>(qg + (<usize>u << 2)));
                  const wp = wk + <usize>c * xPixB + co;
                  a0 = f32x4.add(a0, f32x4.mul(gv, v128.load(wp)));
                  a1 = f32x4.add(a1, f32x4.mul(gv, v128.load(wp + 16)));
                  a2 = f32x4.add(a2, f32x4.mul(gv, v128.load(wp + 32)));
                  a3 = f32x4.add(a3, f32x4.mul(gv, v128.load(wp + 48)));
                }
                v128.store(dst + co, a0);
                v128.store(dst + co + 16, a1);
                v128.store(dst + co + 32, a2);
                v128.store(dst + co + 48, a3);
              }
              for (; ci < Cin; ci++) {
                let sum: f32 = 0;
                for (let u = 0; u < m; u++) {
                  const c = load<i32>(qc + (<usize>u << 2));
                  sum += load<f32>(qg + (<usize>u << 2)) * load<f32>(wk + <usize>c * xPixB + (<usize>ci << 2));
                }
                const p = dst + (<usize>ci << 2);
                store<f32>(p, load<f32>(p) + sum);
              }
            }
          }
        }
      }
    }
  }
}

/**
 * A 3×3 conv (dilation dil along time, 'valid', stride 1) with leaky ReLU, densely: y, dy
 * [n, H, W, C] (activated output and its gradient), g = dy ⊙ lrelu'(y),
 * dx[b, t + dil·kh, f + kw, :] += Σ_c g[b, t, f, c]·wt[kh, kw, c, :]; dx [n, H + 2·dil, W + 2, Cin]
 * (accumulated), wt [3, 3, C, Cin]. Cin = 1 runs as 9 dot products over C per position.
 * gs: scratch of C floats.
 */
export function igConvBackward(dy: usize, y: usize, wt: usize, dx: usize, n: i32, H: i32, W: i32, C: i32, Cin: i32, dil: i32, alpha: f32, gs: usize): void {
  const pixB = <usize>C << 2;
  const Hx = H + 2 * dil;
  const Wx = W + 2;
  const xPixB = <usize>Cin << 2;
  const xRowB = <usize>Wx * xPixB;
  const tapB = <usize>C * xPixB;
  const av = f32x4.splat(alpha);
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const c4 = C & ~3;
  const cin16 = Cin & ~15;
  for (let b = 0; b < n; b++) {
    const dxb = dx + <usize>b * <usize>Hx * xRowB;
    for (let t = 0; t < H; t++) {
      for (let f = 0; f < W; f++) {
        const off = ((<usize>b * <usize>H + <usize>t) * <usize>W + <usize>f) * pixB;
        let any = false;
        for (let c = 0; c < c4; c += 4) {
          const o = <usize>c << 2;
          const yv = v128.load(y + off + o);
          const gv = f32x4.mul(v128.load(dy + off + o), v128.bitselect(one, av, f32x4.gt(yv, zero)));
          v128.store(gs + o, gv);
          if (v128.any_true(f32x4.ne(gv, zero))) any = true;
        }
        for (let c = c4; c < C; c++) {
          const o = <usize>c << 2;
          const v = load<f32>(dy + off + o) * dlrelu(load<f32>(y + off + o), alpha);
          store<f32>(gs + o, v);
          if (v != 0) any = true;
        }
        if (!any) continue;
        for (let kh = 0; kh < 3; kh++) {
          const row = dxb + <usize>(t + dil * kh) * xRowB;
          for (let kw = 0; kw < 3; kw++) {
            const dst = row + <usize>(f + kw) * xPixB;
            const wk = wt + <usize>(kh * 3 + kw) * tapB;
            if (Cin == 1) {
              store<f32>(dst, load<f32>(dst) + dot(gs, wk, C));
              continue;
            }
            // 16 input channels in 4 registers, over all C.
            let ci = 0;
            for (; ci < cin16; ci += 16) {
              const co = <usize>ci << 2;
              let a0 = v128.load(dst + co);
              let a1 = v128.load(dst + co + 16);
              let a2 = v128.load(dst + co + 32);
              let a3 = v128.load(dst + co + 48);
              let wp = wk + co;
              for (let c = 0; c < C; c++) {
                const gc = f32x4.splat(load<f32>(gs + (<usize>c << 2)));
                a0 = f32x4.add(a0, f32x4.mul(gc, v128.load(wp)));
                a1 = f32x4.add(a1, f32x4.mul(gc, v128.load(wp + 16)));
                a2 = f32x4.add(a2, f32x4.mul(gc, v128.load(wp + 32)));
                a3 = f32x4.add(a3, f32x4.mul(gc, v128.load(wp + 48)));
                wp += xPixB;
              }
              v128.store(dst + co, a0);
              v128.store(dst + co + 16, a1);
              v128.store(dst + co + 32, a2);
              v128.store(dst + co + 48, a3);
            }
            for (; ci < Cin; ci++) {
              let s: f32 = 0;
              for (let c = 0; c < C; c++) s += load<f32>(gs + (<usize>c << 2)) * load<f32>(wk + <usize>c * xPixB + (<usize>ci << 2));
              const p = dst + (<usize>ci << 2);
              store<f32>(p, load<f32>(p) + s);
            }
          }
        }
      }
    }
  }
}
