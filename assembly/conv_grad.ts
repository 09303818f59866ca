// Gradients of a 2-D convolution (NHWC input, HWIO filter), for training the singing-voice CNN
// (methods.md §2) on the TF.js wasm backend, which lacks Conv2DBackpropFilter (tfjs issue 8474)
// and whose Conv2DBackpropInput is a naive loop. The forward convolution these invert is
//   y[b,oh,ow,co] = Σ_kh,kw,ci x[b, oh·sH + kh·dH − padTop, ow·sW + kw·dW − padLeft, ci] · w[kh,kw,ci,co]
// (positions outside the input read zero), exactly TF's conv2d with explicit padding.
//
// Both kernels walk one output row at a time so the rows they touch stay in cache, vectorise
// over the contiguous channel axis (f32x4) and keep a register block of accumulators over the
// whole output row before touching the result once. No allocation: the host passes every buffer.

// ---------------------------------------------------------------------------------------------
// Filter gradient: dw[kh,kw,ci,co] = Σ_b,oh,ow x[b, oh·sH + kh·dH − padTop, ow·sW + kw·dW − padLeft, ci] · dy[b,oh,ow,co]

/** First ow whose input column ow·s + off is ≥ 0. */
@inline function firstValid(off: i32, s: i32): i32 {
  // smallest ow with ow·s + off ≥ 0
  if (off >= 0) return 0;
  return (-off + s - 1) / s;
}

/** One past the last ow whose input column ow·s + off is < n (clamped to [lo, outN]). */
@inline function endValid(off: i32, s: i32, n: i32, outN: i32): i32 {
  // largest ow with ow·s + off ≤ n − 1 is floor((n − 1 − off) / s)
  const top = n - 1 - off;
  if (top < 0) return 0;
  const e = top / s + 1;
  return e < outN ? e : outN;
}

// 4 input channels × 8 output channels held in 8 f32x4 registers over one output row.
@inline function filterBlock4x8(xp: usize, xStep: usize, dyp: usize, dyStep: usize, n: i32, dwp: usize, dwRow: usize): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0);
  let a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  for (let i = 0; i < n; i++) {
    const xv = v128.load(xp);
    const d0 = v128.load(dyp);
    const d1 = v128.load(dyp, 16);
    const x0 = v128.shuffle<f32>(xv, xv, 0, 0, 0, 0);
    const x1 = v128.shuffle<f32>(xv, xv, 1, 1, 1, 1);
    const x2 = v128.shuffle<f32>(xv, xv, 2, 2, 2, 2);
    const x3 = v128.shuffle<f32>(xv, xv, 3, 3, 3, 3);
    a00 = f32x4.add(a00, f32x4.mul(x0, d0));
    a01 = f32x4.add(a01, f32x4.mul(x0, d1));
    a10 = f32x4.add(a10, f32x4.mul(x1, d0));
    a11 = f32x4.add(a11, f32x4.mul(x1, d1));
    a20 = f32x4.add(a20, f32x4.mul(x2, d0));
    a21 = f32x4.add(a21, f32x4.mul(x2, d1));
    a30 = f32x4.add(a30, f32x4.mul(x3, d0));
    a31 = f32x4.add(a31, f32x4.mul(x3, d1));
    xp += xStep;
    dyp += dyStep;
  }
  v128.store(dwp, f32x4.add(v128.load(dwp), a00));
  v128.store(dwp, f32x4.add(v128.load(dwp, 16), a01), 16);
  dwp += dwRow;
  v128.store(dwp, f32x4.add(v128.load(dwp), a10));
  v128.store(dwp, f32x4.add(v128.load(dwp, 16), a11), 16);
  dwp += dwRow;
  v128.store(dwp, f32x4.add(v128.load(dwp), a20));
  v128.store(dwp, f32x4.add(v128.load(dwp, 16), a21), 16);
  dwp += dwRow;
  v128.store(dwp, f32x4.add(v128.load(dwp), a30));
  v128.store(dwp, f32x4.add(v128.load(dwp, 16), a31), 16);
}

// 1 input channel × 16 output channels (the first layer has a single input channel).
@inline function filterBlock1x16(xp: usize, xStep: usize, dyp: usize, dyStep: usize, n: i32, dwp: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let i = 0; i < n; i++) {
    const xs = v128.load32_splat(xp);
    a0 = f32x4.add(a0, f32x4.mul(xs, v128.load(dyp)));
    a1 = f32x4.add(a1, f32x4.mul(xs, v128.load(dyp, 16)));
    a2 = f32x4.add(a2, f32x4.mul(xs, v128.load(dyp, 32)));
    a3 = f32x4.add(a3, f32x4.mul(xs, v128.load(dyp, 48)));
    xp += xStep;
    dyp += dyStep;
  }
  v128.store(dwp, f32x4.add(v128.load(dwp), a0));
  v128.store(dwp, f32x4.add(v128.load(dwp, 16), a1), 16);
  v128.store(dwp, f32x4.add(v128.load(dwp, 32), a2), 32);
  v128.store(dwp, f32x4.add(v128.load(dwp, 48), a3), 48);
}

@inline function filterBlock1x4(xp: usize, xStep: usize, dyp: usize, dyStep: usize, n: i32, dwp: usize): void {
  let a0 = f32x4.splat(0);
  for (let i = 0; i < n; i++) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), v128.load(dyp)));
    xp += xStep;
    dyp += dyStep;
  }
  v128.store(dwp, f32x4.add(v128.load(dwp), a0));
}

@inline function filterBlock1x1(xp: usize, xStep: usize, dyp: usize, dyStep: usize, n: i32, dwp: usize): void {
  let a: f32 = 0;
  for (let i = 0; i < n; i++) {
    a += load<f32>(xp) * load<f32>(dyp);
    xp += xStep;
    dyp += dyStep;
  }
  store<f32>(dwp, load<f32>(dwp) + a);
}

/**
 * dw (kH×kW×inC×outC, overwritten) = gradient of Σ dy·conv2d(x, w) w.r.t. w.
 * x: batch×inH×inW×inC, dy: batch×outH×outW×outC, all f32 NHWC / HWIO, row-major.
 */
export function conv2dBackpropFilter(
  x: usize, dy: usize, dw: usize,
  batch: i32, inH: i32, inW: i32, inC: i32,
  outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32,
  padTop: i32, padLeft: i32,
): void {
  memory.fill(dw, 0, <usize>(kH * kW * inC * outC) << 2);
  const xRow = <usize>(inW * inC) << 2;
  const xImg = <usize>inH * xRow;
  const dyRow = <usize>(outW * outC) << 2;
  const dyImg = <usize>outH * dyRow;
  const xStep = <usize>(strideW * inC) << 2;
  const dyStep = <usize>outC << 2;
  const dwRow = <usize>outC << 2; // one ci step in dw
  const dwTap = <usize>(inC * outC) << 2; // one (kh,kw) step in dw
  const co16 = outC & ~15;
  const co8 = outC & ~7;
  const co4 = outC & ~3;
  const ci4 = inC & ~3;
  for (let b = 0; b < batch; b++) {
    const xb = x + <usize>b * xImg;
    const dyb = dy + <usize>b * dyImg;
    for (let oh = 0; oh < outH; oh++) {
      const dyr = dyb + <usize>oh * dyRow;
      for (let kh = 0; kh < kH; kh++) {
        const ih = oh * strideH + kh * dilH - padTop;
        if (ih < 0 || ih >= inH) continue;
        const xr = xb + <usize>ih * xRow;
        for (let kw = 0; kw < kW; kw++) {
          const off = kw * dilW - padLeft;
          const lo = firstValid(off, strideW);
          const hi = endValid(off, strideW, inW, outW);
          const n = hi - lo;
          if (n <= 0) continue;
          const xs = xr + (<usize>(lo * strideW + off) * <usize>inC << 2);
          const dys = dyr + (<usize>lo * dyStep);
          const dwk = dw + <usize>(kh * kW + kw) * dwTap;
          if (inC == 1) {
            let co = 0;
            for (; co < co16; co += 16) filterBlock1x16(xs, xStep, dys + (<usize>co << 2), dyStep, n, dwk + (<usize>co << 2));
            for (; co < co4; co += 4) filterBlock1x4(xs, xStep, dys + (<usize>co << 2), dyStep, n, dwk + (<usize>co << 2));
            for (; co < outC; co++) filterBlock1x1(xs, xStep, dys + (<usize>co << 2), dyStep, n, dwk + (<usize>co << 2));
            continue;
          }
          let co = 0;
          for (; co < co8; co += 8) {
            const dyc = dys + (<usize>co << 2);
            let ci = 0;
            for (; ci < ci4; ci += 4) {
              filterBlock4x8(xs + (<usize>ci << 2), xStep, dyc, dyStep, n, dwk + <usize>ci * dwRow + (<usize>co << 2), dwRow);
            }
            for (; ci < inC; ci++) {
              const dwp = dwk + <usize>ci * dwRow + (<usize>co << 2);
              filterBlock1x4(xs + (<usize>ci << 2), xStep, dyc, dyStep, n, dwp);
              filterBlock1x4(xs + (<usize>ci << 2), xStep, dyc + 16, dyStep, n, dwp + 16);
            }
          }
          for (; co < co4; co += 4) {
            for (let ci = 0; ci < inC; ci++) {
              filterBlock1x4(xs + (<usize>ci << 2), xStep, dys + (<usize>co << 2), dyStep, n, dwk + <usize>ci * dwRow + (<usize>co << 2));
            }
          }
          for (; co < outC; co++) {
            for (let ci = 0; ci < inC; ci++) {
              filterBlock1x1(xs + (<usize>ci << 2), xStep, dys + (<usize>co << 2), dyStep, n, dwk + <usize>ci * dwRow + (<usize>co << 2));
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Input gradient: dx[b,ih,iw,ci] = Σ over taps (kh,kw) and positions (oh,ow) with
// oh·sH + kh·dH − padTop = ih and ow·sW + kw·dW − padLeft = iw of dy[b,oh,ow,co] · w[kh,kw,ci,co].
// Scatter form: each dy row adds its contribution to the dx rows it touches, vectorised over ci
// with the filter transposed to wt[kh,kw,co,ci] so a dy scalar multiplies a contiguous ci run.

/**
 * wt[kh,kw,co,ci] = w[kh,kw,ci,co] (the layout the input gradient reads).
 */
export function conv2dTransposeFilter(w: usize, wt: usize, kH: i32, kW: i32, inC: i32, outC: i32): void {
  const taps = kH * kW;
  for (let t = 0; t < taps; t++) {
    const src = w + (<usize>(t * inC * outC) << 2);
    const dst = wt + (<usize>(t * inC * outC) << 2);
    for (let ci = 0; ci < inC; ci++) {
      for (let co = 0; co < outC; co++) {
        store<f32>(dst + (<usize>(co * inC + ci) << 2), load<f32>(src + (<usize>(ci * outC + co) << 2)));
      }
    }
  }
}

// dx[ci .. ci+8) += Σ_co dy[co] · wt[co, ci .. ci+8) for `n` output columns, 4 columns at a time
// sharing each filter load.
@inline function inputRow8(dxp: usize, dxStep: usize, dyp: usize, dyStep: usize, n: i32, wtp: usize, outC: i32, inCBytes: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const dx0 = dxp, dx1 = dxp + dxStep, dx2 = dxp + 2 * dxStep, dx3 = dxp + 3 * dxStep;
    let a00 = v128.load(dx0), a01 = v128.load(dx0, 16);
    let a10 = v128.load(dx1), a11 = v128.load(dx1, 16);
    let a20 = v128.load(dx2), a21 = v128.load(dx2, 16);
    let a30 = v128.load(dx3), a31 = v128.load(dx3, 16);
    let d0 = dyp, d1 = dyp + dyStep, d2 = dyp + 2 * dyStep, d3 = dyp + 3 * dyStep;
    let wp = wtp;
    for (let co = 0; co < outC; co++) {
      const w0 = v128.load(wp);
      const w1 = v128.load(wp, 16);
      const s0 = v128.load32_splat(d0);
      const s1 = v128.load32_splat(d1);
      const s2 = v128.load32_splat(d2);
      const s3 = v128.load32_splat(d3);
      a00 = f32x4.add(a00, f32x4.mul(s0, w0));
      a01 = f32x4.add(a01, f32x4.mul(s0, w1));
      a10 = f32x4.add(a10, f32x4.mul(s1, w0));
      a11 = f32x4.add(a11, f32x4.mul(s1, w1));
      a20 = f32x4.add(a20, f32x4.mul(s2, w0));
      a21 = f32x4.add(a21, f32x4.mul(s2, w1));
      a30 = f32x4.add(a30, f32x4.mul(s3, w0));
      a31 = f32x4.add(a31, f32x4.mul(s3, w1));
      wp += inCBytes;
      d0 += 4; d1 += 4; d2 += 4; d3 += 4;
    }
    v128.store(dx0, a00); v128.store(dx0, a01, 16);
    v128.store(dx1, a10); v128.store(dx1, a11, 16);
    v128.store(dx2, a20); v128.store(dx2, a21, 16);
    v128.store(dx3, a30); v128.store(dx3, a31, 16);
    dxp += 4 * dxStep;
    dyp += 4 * dyStep;
  }
  for (; i < n; i++) {
    let a0 = v128.load(dxp), a1 = v128.load(dxp, 16);
    let wp = wtp;
    let d = dyp;
    for (let co = 0; co < outC; co++) {
      const s = v128.load32_splat(d);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(wp, 16)));
      wp += inCBytes;
      d += 4;
    }
    v128.store(dxp, a0);
    v128.store(dxp, a1, 16);
    dxp += dxStep;
    dyp += dyStep;
  }
}

@inline function inputRow4(dxp: usize, dxStep: usize, dyp: usize, dyStep: usize, n: i32, wtp: usize, outC: i32, inCBytes: usize): void {
  for (let i = 0; i < n; i++) {
    let a0 = v128.load(dxp);
    let wp = wtp;
    let d = dyp;
    for (let co = 0; co < outC; co++) {
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(d), v128.load(wp)));
      wp += inCBytes;
      d += 4;
    }
    v128.store(dxp, a0);
    dxp += dxStep;
    dyp += dyStep;
  }
}

@inline function inputRow1(dxp: usize, dxStep: usize, dyp: usize, dyStep: usize, n: i32, wtp: usize, outC: i32, inCBytes: usize): void {
  for (let i = 0; i < n; i++) {
    let a: f32 = load<f32>(dxp);
    let wp = wtp;
    let d = dyp;
    for (let co = 0; co < outC; co++) {
      a += load<f32>(d) * load<f32>(wp);
      wp += inCBytes;
      d += 4;
    }
    store<f32>(dxp, a);
    dxp += dxStep;
    dyp += dyStep;
  }
}

/**
 * dx (batch×inH×inW×inC, overwritten) = gradient of Σ dy·conv2d(x, w) w.r.t. x.
 * wt is the filter transposed by conv2dTransposeFilter (kH×kW×outC×inC).
 */
export function conv2dBackpropInput(
  dy: usize, wt: usize, dx: usize,
  batch: i32, inH: i32, inW: i32, inC: i32,
  outH: i32, outW: i32, outC: i32,
  kH: i32, kW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32,
  padTop: i32, padLeft: i32,
): void {
  memory.fill(dx, 0, <usize>(batch * inH * inW * inC) << 2);
  const xRow = <usize>(inW * inC) << 2;
  const xImg = <usize>inH * xRow;
  const dyRow = <usize>(outW * outC) << 2;
  const dyImg = <usize>outH * dyRow;
  const dxStep = <usize>(strideW * inC) << 2;
  const dyStep = <usize>outC << 2;
  const inCBytes = <usize>inC << 2;
  const wtTap = <usize>(inC * outC) << 2;
  const ci8 = inC & ~7;
  const ci4 = inC & ~3;
  for (let b = 0; b < batch; b++) {
    const dxb = dx + <usize>b * xImg;
    const dyb = dy + <usize>b * dyImg;
    for (let oh = 0; oh < outH; oh++) {
      const dyr = dyb + <usize>oh * dyRow;
      for (let kh = 0; kh < kH; kh++) {
        const ih = oh * strideH + kh * dilH - padTop;
        if (ih < 0 || ih >= inH) continue;
        const dxr = dxb + <usize>ih * xRow;
        for (let kw = 0; kw < kW; kw++) {
          const off = kw * dilW - padLeft;
          const lo = firstValid(off, strideW);
          const hi = endValid(off, strideW, inW, outW);
          const n = hi - lo;
          if (n <= 0) continue;
          const dxs = dxr + (<usize>(lo * strideW + off) * inCBytes);
          const dys = dyr + <usize>lo * dyStep;
          const wtk = wt + <usize>(kh * kW + kw) * wtTap;
          let ci = 0;
          for (; ci < ci8; ci += 8) inputRow8(dxs + (<usize>ci << 2), dxStep, dys, dyStep, n, wtk + (<usize>ci << 2), outC, inCBytes);
          for (; ci < ci4; ci += 4) inputRow4(dxs + (<usize>ci << 2), dxStep, dys, dyStep, n, wtk + (<usize>ci << 2), outC, inCBytes);
          for (; ci < inC; ci++) inputRow1(dxs + (<usize>ci << 2), dxStep, dys, dyStep, n, wtk + (<usize>ci << 2), outC, inCBytes);
        }
      }
    }
  }
}
