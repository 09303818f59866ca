/**
 * Typed bindings of the convolution-gradient kernels (assembly/conv_grad.ts): the gradients of a
 * 2-D convolution (NHWC input, HWIO filter, strides, dilations, explicit padding) with respect
 * to its filter and to its input. They let the singing-voice CNN (methods.md §2) be trained on
 * the TF.js wasm backend (src/model/wasm_kernels.ts registers them as TF.js kernels).
 *
 * Every size is validated here, before anything reaches wasm; results are fresh Float32Arrays
 * unless an `out` array is given.
 */
import { checkArray, checkFinite, checkInt, EarshotError } from './errors.ts';
import { core } from './wasm.ts';

/**
 * The geometry of one convolution y = conv2d(x, w): x is batch×inH×inW×inC, w is kH×kW×inC×outC,
 * y is batch×outH×outW×outC, and
 *   y[b,oh,ow,co] = Σ x[b, oh·strideH + kh·dilH − padTop, ow·strideW + kw·dilW − padLeft, ci] · w[kh,kw,ci,co]
 * with zeros outside x.
 */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  padTop: number;
  padLeft: number;
}

export interface ConvGradOptions {
  /** Reject NaN/±Infinity in the inputs (default true; costs one pass over them). */
  checkFinite?: boolean;
}

const GEOMETRY_KEYS: readonly (keyof ConvGeometry)[] = [
  'batch', 'inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'kH', 'kW', 'strideH', 'strideW', 'dilH', 'dilW', 'padTop', 'padLeft',
];

/** Output extent of one spatial axis for a given bottom/right padding. */
function outExtent(inN: number, k: number, s: number, d: number, padLo: number, padHi: number): number {
  return Math.floor((inN + padLo + padHi - d * (k - 1) - 1) / s) + 1;
}

/**
 * Check a geometry: positive integer sizes, padding before the input no larger than the dilated
 * filter extent, and an output size that some padding after the input (0 … dilated extent)
 * produces, so every output position's window overlaps the input.
 */
export function checkConvGeometry(g: unknown, name = 'geometry'): ConvGeometry {
  if (typeof g !== 'object' || g === null) throw new EarshotError('BAD_ARGUMENT', `${name} must be an object with ${GEOMETRY_KEYS.join(', ')}`);
  const o = g as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(GEOMETRY_KEYS as readonly string[]).includes(k)) throw new EarshotError('BAD_ARGUMENT', `${name}.${k} is not a convolution geometry field (expected ${GEOMETRY_KEYS.join(', ')})`);
  }
  const big = 1 << 20;
  const v = {} as ConvGeometry;
  for (const k of GEOMETRY_KEYS) {
    const min = k === 'padTop' || k === 'padLeft' ? 0 : 1;
    v[k] = checkInt(o[k], `${name}.${k}`, min, big);
  }
  const axes: Array<['H' | 'W', 'padTop' | 'padLeft']> = [['H', 'padTop'], ['W', 'padLeft']];
  for (const [ax, padKey] of axes) {
    const inN = v[`in${ax}`], outN = v[`out${ax}`], k = v[`k${ax}`], s = v[`stride${ax}`], d = v[`dil${ax}`], pad = v[padKey];
    const ext = d * (k - 1);
    if (pad > ext) {
      throw new EarshotError('BAD_SHAPE', `${name}.${padKey} must be at most the dilated filter extent dil${ax}·(k${ax}−1) = ${ext}, got ${pad}`);
    }
    const lo = outExtent(inN, k, s, d, pad, 0);
    const hi = outExtent(inN, k, s, d, pad, ext);
    if (outN < Math.max(1, lo) || outN > hi) {
      throw new EarshotError(
        'BAD_SHAPE',
        `${name}.out${ax} = ${outN} does not match in${ax} = ${inN}, k${ax} = ${k}, stride${ax} = ${s}, dil${ax} = ${d}, ${padKey} = ${pad} (expected ${lo < 1 ? 'an input at least as large as the dilated filter' : lo === hi ? String(lo) : `${lo} … ${hi}`})`,
      );
    }
  }
  const maxElems = 2 ** 31 / 4;
  const sizes: Array<[string, number]> = [
    ['x', v.batch * v.inH * v.inW * v.inC],
    ['dy', v.batch * v.outH * v.outW * v.outC],
    ['filter', v.kH * v.kW * v.inC * v.outC],
  ];
  for (const [t, n] of sizes) {
    if (n > maxElems) throw new EarshotError('BAD_SHAPE', `${t} would have ${n} elements; the core handles at most ${maxElems} per tensor (use a smaller batch)`);
  }
  return v;
}

type FilterGradKernel = (x: number, dy: number, dw: number, ...dims: number[]) => void;
type InputGradKernel = (dy: number, wt: number, dx: number, ...dims: number[]) => void;
type TransposeKernel = (w: number, wt: number, kH: number, kW: number, inC: number, outC: number) => void;

function dims(g: ConvGeometry): number[] {
  return [g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.dilH, g.dilW, g.padTop, g.padLeft];
}

function checkOut(out: unknown, n: number, name: string): Float32Array | undefined {
  if (out === undefined) return undefined;
  return checkArray(out, Float32Array, name, n);
}

/**
 * Gradient of Σ dy·conv2d(x, w) with respect to the filter w: a kH×kW×inC×outC array,
 * dw[kh,kw,ci,co] = Σ_b,oh,ow x[b, oh·strideH + kh·dilH − padTop, ow·strideW + kw·dilW − padLeft, ci] · dy[b,oh,ow,co].
 */
export function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, geometry: ConvGeometry, out?: Float32Array, options: ConvGradOptions = {}): Float32Array {
  const g = checkConvGeometry(geometry);
  const nx = g.batch * g.inH * g.inW * g.inC;
  const ndy = g.batch * g.outH * g.outW * g.outC;
  const nw = g.kH * g.kW * g.inC * g.outC;
  checkArray(x, Float32Array, 'x', nx);
  checkArray(dy, Float32Array, 'dy', ndy);
  const dst = checkOut(out, nw, 'out') ?? new Float32Array(nw);
  checkOptions(options);
  if (options.checkFinite !== false) {
    checkFinite(x, 'x');
    checkFinite(dy, 'dy');
  }
  const c = core();
  const kernel = c.exports.conv2dBackpropFilter as FilterGradKernel;
  c.arena.scope((s) => {
    const bx = s.copyIn(x);
    const bdy = s.copyIn(dy);
    const bdw = s.f32(nw);
    kernel(bx.ptr, bdy.ptr, bdw.ptr, ...dims(g));
    dst.set(bdw.f32(nw));
  });
  return dst;
}

/**
 * Gradient of Σ dy·conv2d(x, w) with respect to the input x: a batch×inH×inW×inC array,
 * dx[b,ih,iw,ci] = Σ dy[b,oh,ow,co] · w[kh,kw,ci,co] over the (oh,ow,kh,kw) that read x[b,ih,iw,·].
 */
export function conv2dBackpropInput(dy: Float32Array, filter: Float32Array, geometry: ConvGeometry, out?: Float32Array, options: ConvGradOptions = {}): Float32Array {
  const g = checkConvGeometry(geometry);
  const nx = g.batch * g.inH * g.inW * g.inC;
  const ndy = g.batch * g.outH * g.outW * g.outC;
  const nw = g.kH * g.kW * g.inC * g.outC;
  checkArray(dy, Float32Array, 'dy', ndy);
  checkArray(filter, Float32Array, 'filter', nw);
  const dst = checkOut(out, nx, 'out') ?? new Float32Array(nx);
  checkOptions(options);
  if (options.checkFinite !== false) {
    checkFinite(dy, 'dy');
    checkFinite(filter, 'filter');
  }
  const c = core();
  const transpose = c.exports.conv2dTransposeFilter as TransposeKernel;
  const kernel = c.exports.conv2dBackpropInput as InputGradKernel;
  c.arena.scope((s) => {
    const bdy = s.copyIn(dy);
    const bw = s.copyIn(filter);
    const bwt = s.f32(nw);
    const bdx = s.f32(nx);
    transpose(bw.ptr, bwt.ptr, g.kH, g.kW, g.inC, g.outC);
    kernel(bdy.ptr, bwt.ptr, bdx.ptr, ...dims(g));
    dst.set(bdx.f32(nx));
  });
  return dst;
}

function checkOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new EarshotError('BAD_ARGUMENT', `options must be an object, got ${String(options)}`);
  for (const [k, v] of Object.entries(options)) {
    if (k !== 'checkFinite') throw new EarshotError('BAD_ARGUMENT', `unknown option '${k}' (expected checkFinite)`);
    if (typeof v !== 'boolean' && v !== undefined) throw new EarshotError('BAD_ARGUMENT', `options.checkFinite must be a boolean, got ${String(v)}`);
  }
}
