/**
 * Typed bindings of the fused batch-norm + leaky-ReLU kernels (assembly/bn_act.ts): training-mode
 * batch normalisation of h = x + bias over the rows of channels-last data (batch statistics,
 * biased variance, Ioffe & Szegedy 2015), scale γ, shift β, then leaky ReLU with slope α; and the
 * closed-form gradient of that map with respect to x, bias, γ and β. src/model/fused.ts
 * registers them as TF.js kernels so the singing-voice CNN (methods.md §2) trains with two passes
 * over each activation forward and two backward instead of a dozen element-wise ops.
 *
 * Per-channel quantities are computed here in float64; every sum over rows is accumulated in
 * float64 by the core (the variance from sums shifted by each channel's first row, so no
 * catastrophic cancellation). Results go to fresh arrays unless `out` arrays are given.
 */
import { EarshotError, checkArray, checkFinite, checkInt, checkNumber } from './errors.ts';
import { core } from './wasm.ts';

export interface BnActOptions {
  /** Variance epsilon (≥ 0). */
  epsilon: number;
  /** Leaky-ReLU slope for negative inputs. */
  alpha: number;
  /** Reject NaN/±Infinity in the inputs (default true; one pass over them). */
  checkFinite?: boolean;
}

export interface BnActForwardResult {
  /** lrelu(γ (h − μ)/√(σ² + ε) + β), rows × channels. */
  y: Float32Array;
  /** Batch mean of h = x + bias per channel. */
  mean: Float32Array;
  /** Biased batch variance of h per channel. */
  variance: Float32Array;
}

export interface BnActBackwardResult {
  dx: Float32Array;
  dbias: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

type StatsKernel = (x: number, rows: number, channels: number, shift: number, s1: number, s2: number) => void;
type ForwardKernel = (x: number, y: number, rows: number, channels: number, center: number, scale: number, beta: number, alpha: number) => void;
type SumsKernel = (dy: number, x: number, rows: number, channels: number, center: number, invStd: number, gamma: number, beta: number, alpha: number, sg: number, sgh: number) => void;
type DxKernel = (dy: number, x: number, dx: number, rows: number, channels: number, center: number, invStd: number, gamma: number, beta: number, alpha: number, k: number, u: number, w: number, sdx: number) => void;

function checkOptions(o: unknown): Required<BnActOptions> {
  if (typeof o !== 'object' || o === null) throw new EarshotError('BAD_ARGUMENT', 'options must be an object with epsilon and alpha');
  for (const k of Object.keys(o)) {
    if (k !== 'epsilon' && k !== 'alpha' && k !== 'checkFinite') throw new EarshotError('BAD_ARGUMENT', `unknown option '${k}' (expected epsilon, alpha, checkFinite)`);
  }
  const r = o as BnActOptions;
  const cf = r.checkFinite ?? true;
  if (typeof cf !== 'boolean') throw new EarshotError('BAD_ARGUMENT', `checkFinite must be a boolean, got ${String(cf)}`);
  return { epsilon: checkNumber(r.epsilon, 'epsilon', 0), alpha: checkNumber(r.alpha, 'alpha'), checkFinite: cf };
}

function checkData(x: unknown, name: string, channels: number): number {
  const a = checkArray(x, Float32Array, name);
  if (a.length === 0 || a.length % channels !== 0) {
    throw new EarshotError('BAD_SHAPE', `${name} must hold a positive multiple of channels = ${channels} values, got ${a.length}`);
  }
  return a.length / channels;
}

function checkOut(out: Record<string, unknown> | undefined, key: string, n: number): Float32Array {
  const v = out?.[key];
  return v === undefined ? new Float32Array(n) : checkArray(v, Float32Array, `out.${key}`, n);
}

/**
 * Forward: x is rows × channels (row-major, channels last), bias / gamma / beta have `channels`
 * values each.
 */
export function bnLeakyReluForward(
  x: Float32Array,
  bias: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  channels: number,
  options: BnActOptions,
  out?: Partial<BnActForwardResult>,
): BnActForwardResult {
  const C = checkInt(channels, 'channels', 1);
  const R = checkData(x, 'x', C);
  const o = checkOptions(options);
  checkArray(bias, Float32Array, 'bias', C);
  checkArray(gamma, Float32Array, 'gamma', C);
  checkArray(beta, Float32Array, 'beta', C);
  if (o.checkFinite) for (const [a, n] of [[x, 'x'], [bias, 'bias'], [gamma, 'gamma'], [beta, 'beta']] as const) checkFinite(a, n);
  const res = { y: checkOut(out, 'y', R * C), mean: checkOut(out, 'mean', C), variance: checkOut(out, 'variance', C) };
  const c = core();
  const ex = c.exports as unknown as { bnActStats: StatsKernel; bnActForward: ForwardKernel };
  c.arena.scope((s) => {
    const bx = s.copyIn(x);
    const shift = s.f32(C);
    shift.f32().set(x.subarray(0, C));
    const s1 = s.f64(C);
    const s2 = s.f64(C);
    ex.bnActStats(bx.ptr, R, C, shift.ptr, s1.ptr, s2.ptr);
    const center = s.f32(C);
    const scale = s.f32(C);
    const bb = s.copyIn(beta);
    const v1 = s1.f64();
    const v2 = s2.f64();
    const vc = center.f32();
    const vs = scale.f32();
    const sh = shift.f32();
    for (let i = 0; i < C; i++) {
      const m = v1[i]! / R;
      const variance = Math.max(0, v2[i]! / R - m * m);
      const mx = sh[i]! + m; // mean of x
      vc[i] = mx;
      vs[i] = gamma[i]! / Math.sqrt(variance + o.epsilon);
      res.mean[i] = mx + bias[i]!;
      res.variance[i] = variance;
    }
    // h − μ = x − mean(x): the bias cancels inside the normalisation.
    ex.bnActForward(bx.ptr, bx.ptr, R, C, center.ptr, scale.ptr, bb.ptr, o.alpha);
    res.y.set(bx.f32(R * C));
  });
  return res;
}

/**
 * Backward: gradients of Σ dy·y with respect to x, bias, gamma and beta, given the forward's
 * inputs and its batch mean / variance (as returned by `bnLeakyReluForward`).
 */
export function bnLeakyReluBackward(
  dy: Float32Array,
  x: Float32Array,
  bias: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  channels: number,
  options: BnActOptions,
  out?: Partial<BnActBackwardResult>,
): BnActBackwardResult {
  const C = checkInt(channels, 'channels', 1);
  const R = checkData(x, 'x', C);
  checkArray(dy, Float32Array, 'dy', R * C);
  const o = checkOptions(options);
  for (const [a, n] of [[bias, 'bias'], [gamma, 'gamma'], [beta, 'beta'], [mean, 'mean'], [variance, 'variance']] as const) checkArray(a, Float32Array, n, C);
  for (let i = 0; i < C; i++) if (!(variance[i]! >= 0)) throw new EarshotError('BAD_ARGUMENT', `variance[${i}] must be ≥ 0, got ${variance[i]}`);
  if (o.checkFinite) for (const [a, n] of [[dy, 'dy'], [x, 'x'], [bias, 'bias'], [gamma, 'gamma'], [beta, 'beta'], [mean, 'mean'], [variance, 'variance']] as const) checkFinite(a, n);
  const res = { dx: checkOut(out, 'dx', R * C), dbias: checkOut(out, 'dbias', C), dgamma: checkOut(out, 'dgamma', C), dbeta: checkOut(out, 'dbeta', C) };
  const c = core();
  const ex = c.exports as unknown as { bnActBackwardSums: SumsKernel; bnActBackwardDx: DxKernel };
  c.arena.scope((s) => {
    const bdy = s.copyIn(dy);
    const bx = s.copyIn(x);
    const [center, invStd, bg, bb, k, u, w] = [0, 1, 2, 3, 4, 5, 6].map(() => s.f32(C));
    const [sg, sgh, sdx] = [0, 1, 2].map(() => s.f64(C));
    const p = new Float64Array(C);
    {
      const vc = center!.f32();
      const vi = invStd!.f32();
      for (let i = 0; i < C; i++) {
        vc[i] = mean[i]! - bias[i]!; // mean of x
        p[i] = 1 / Math.sqrt(variance[i]! + o.epsilon);
        vi[i] = p[i]!;
      }
      bg!.f32().set(gamma);
      bb!.f32().set(beta);
    }
    ex.bnActBackwardSums(bdy.ptr, bx.ptr, R, C, center!.ptr, invStd!.ptr, bg!.ptr, bb!.ptr, o.alpha, sg!.ptr, sgh!.ptr);
    {
      const vsg = sg!.f64();
      const vsgh = sgh!.f64();
      const vk = k!.f32();
      const vu = u!.f32();
      const vw = w!.f32();
      // dx = γ/σ · (g − dβ/N − ĥ·dγ/N)
      for (let i = 0; i < C; i++) {
        const ki = gamma[i]! * p[i]!;
        vk[i] = ki;
        vu[i] = (ki * vsg[i]!) / R;
        vw[i] = (ki * vsgh[i]!) / R;
        res.dbeta[i] = vsg[i]!;
        res.dgamma[i] = vsgh[i]!;
      }
    }
    ex.bnActBackwardDx(bdy.ptr, bx.ptr, bdy.ptr, R, C, center!.ptr, invStd!.ptr, bg!.ptr, bb!.ptr, o.alpha, k!.ptr, u!.ptr, w!.ptr, sdx!.ptr);
    res.dx.set(bdy.f32(R * C));
    const vdx = sdx!.f64();
    for (let i = 0; i < C; i++) res.dbias[i] = vdx[i]!;
  });
  return res;
}

type PoolGradKernel = (x: number, dy: number, dx: number, n: number, H: number, W: number, C: number, Ho: number, Wo: number, sh: number, sw: number) => void;

/**
 * Gradient of a max pool with non-overlapping windows (window = stride, 'valid') over NHWC
 * x [n, H, W, C]: each output's dy goes to its window's first maximum (row-major window order),
 * zeros elsewhere. `shape` = [n, H, W, C], `window` = [sh, sw]; dy is [n, ⌊H/sh⌋, ⌊W/sw⌋, C].
 */
export function maxPoolBlocksGrad(
  x: Float32Array,
  dy: Float32Array,
  shape: readonly [number, number, number, number],
  window: readonly [number, number],
  options: { checkFinite?: boolean } = {},
  out?: Float32Array,
): Float32Array {
  if (!Array.isArray(shape) || shape.length !== 4) throw new EarshotError('BAD_ARGUMENT', `shape must be [n, H, W, C], got ${JSON.stringify(shape)}`);
  if (!Array.isArray(window) || window.length !== 2) throw new EarshotError('BAD_ARGUMENT', `window must be [sh, sw], got ${JSON.stringify(window)}`);
  for (const k of Object.keys(options)) if (k !== 'checkFinite') throw new EarshotError('BAD_ARGUMENT', `unknown option '${k}' (expected checkFinite)`);
  const [n, H, W, C] = shape.map((v, i) => checkInt(v, `shape[${i}]`, 1)) as [number, number, number, number];
  const [sh, sw] = window.map((v, i) => checkInt(v, `window[${i}]`, 1)) as [number, number];
  const Ho = Math.floor(H / sh);
  const Wo = Math.floor(W / sw);
  if (Ho < 1 || Wo < 1) throw new EarshotError('BAD_SHAPE', `window [${sh}, ${sw}] is larger than the input's ${H} × ${W}`);
  checkArray(x, Float32Array, 'x', n * H * W * C);
  checkArray(dy, Float32Array, 'dy', n * Ho * Wo * C);
  const dst = out === undefined ? new Float32Array(n * H * W * C) : checkArray(out, Float32Array, 'out', n * H * W * C);
  if (options.checkFinite ?? true) {
    checkFinite(x, 'x');
    checkFinite(dy, 'dy');
  }
  const c = core();
  const kernel = (c.exports as unknown as { maxPoolBlocksGrad: PoolGradKernel }).maxPoolBlocksGrad;
  c.arena.scope((s) => {
    const bx = s.copyIn(x);
    const bdy = s.copyIn(dy);
    const bdx = s.f32(n * H * W * C);
    kernel(bx.ptr, bdy.ptr, bdx.ptr, n, H, W, C, Ho, Wo, sh, sw);
    dst.set(bdx.f32(n * H * W * C));
  });
  return dst;
}
