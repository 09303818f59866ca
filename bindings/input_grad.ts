/**
 * Typed bindings of the CNN input-gradient kernels (assembly/input_grad.ts): the backward pass of
 * the singing-voice CNN in inference form (methods.md §2) layer by layer — dense (or dilated
 * row-convolution) layers, a 3×3 conv followed by a 3×3 max-pool (gradient only at each window's
 * first maximum), and a dense 3×3 conv — each reading the leaky-ReLU derivative off the layer's
 * activated output. src/veracity/grad.ts chains them (with arena blocks kept between calls) for
 * attacks; these array-in / array-out forms validate every size and serve tests and other hosts.
 * Each returns a fresh dx (zeros plus the accumulated gradient) unless `out` is given, in which
 * case the gradient is ADDED to `out`.
 */
import { EarshotError, checkArray, checkInt, checkNumber } from './errors.ts';
import { core } from './wasm.ts';

type Fn = (...a: number[]) => void;
const fn = (name: string): Fn => {
  const f = core().exports[name];
  if (typeof f !== 'function') throw new EarshotError('CORE_INCOMPLETE', `the earshot core has no export '${name}': rebuild it with \`npm run build:wasm\``);
  return f as Fn;
};

function checkOptions(o: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new EarshotError('BAD_ARGUMENT', `options must be an object, got ${o === null ? 'null' : typeof o}`);
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new EarshotError('BAD_ARGUMENT', `unknown option '${k}' (expected ${allowed.join(', ')})`);
  return o as Record<string, unknown>;
}

function run(inputs: Float32Array[], outLen: number, out: Float32Array | undefined, call: (ptrs: number[], dx: number) => void, scratch = 0): Float32Array {
  const arena = core().arena;
  return arena.scope((s) => {
    const ptrs = inputs.map((a) => s.copyIn(a).ptr);
    const dx = s.f32(outLen);
    const view = dx.f32(outLen);
    if (out) view.set(out);
    else view.fill(0);
    const g = s.f32(Math.max(scratch, 1));
    call([...ptrs, g.ptr], dx.ptr);
    const res = out ?? new Float32Array(outLen);
    res.set(dx.f32(outLen));
    return res;
  });
}

export interface DenseBackwardShape {
  /** Rows of y / dy (examples, or output frames of the row convolution). */
  rows: number;
  /** Units of the layer. */
  nOut: number;
  /** Inputs per row tap (the dense layer's fan-in when kh = 1). */
  rowLen: number;
  /** Row taps (kh > 1: the layer is a kh-row convolution over input rows, dilated `dil`). */
  kh?: number;
  dil?: number;
}

/**
 * Dense layer y = lrelu(x·w + b) (or its kh-row convolution form): dx (rows + dil·(kh − 1)) ×
 * rowLen from dy, y (rows × nOut) and w ((kh·rowLen) × nOut). `alpha` = leaky-ReLU slope (1 = no
 * activation).
 */
export function denseInputGrad(dy: Float32Array, y: Float32Array, w: Float32Array, shape: DenseBackwardShape, alpha: number, out?: Float32Array): Float32Array {
  const rows = checkInt(shape?.rows, 'shape.rows', 1);
  const nOut = checkInt(shape.nOut, 'shape.nOut', 1);
  const rowLen = checkInt(shape.rowLen, 'shape.rowLen', 1);
  const kh = checkInt(shape.kh ?? 1, 'shape.kh', 1);
  const dil = checkInt(shape.dil ?? 1, 'shape.dil', 1);
  const a = checkNumber(alpha, 'alpha', 0, 1);
  checkArray(dy, Float32Array, 'dy', rows * nOut);
  checkArray(y, Float32Array, 'y', rows * nOut);
  checkArray(w, Float32Array, 'w', kh * rowLen * nOut);
  const outLen = (rows + dil * (kh - 1)) * rowLen;
  if (out !== undefined) checkArray(out, Float32Array, 'out', outLen);
  const k = fn('igDenseBackward');
  return run([dy, y, w], outLen, out, ([pdy, py, pw, g], dx) => k(pdy!, py!, pw!, dx, rows, kh, rowLen, nOut, dil, a, g!), nOut);
}

export interface ConvBackwardShape {
  /** Batch, height (time), width (frequency) and channels of the conv's output y. */
  n: number;
  H: number;
  W: number;
  C: number;
  /** Input channels of the conv. */
  Cin: number;
  /** Dilation along time (default 1). */
  dil?: number;
}

/** [3, 3, Cin, C] (HWIO) → [3, 3, C, Cin], the layout the kernels read. */
export function transposeConvFilter(w: Float32Array, Cin: number, C: number): Float32Array {
  checkInt(Cin, 'Cin', 1);
  checkInt(C, 'C', 1);
  checkArray(w, Float32Array, 'w', 9 * Cin * C);
  const wt = new Float32Array(w.length);
  for (let k = 0; k < 9; k++) {
    for (let ci = 0; ci < Cin; ci++) for (let c = 0; c < C; c++) wt[(k * C + c) * Cin + ci] = w[(k * Cin + ci) * C + c]!;
  }
  return wt;
}

function convShape(shape: ConvBackwardShape) {
  const n = checkInt(shape?.n, 'shape.n', 1);
  const H = checkInt(shape.H, 'shape.H', 1);
  const W = checkInt(shape.W, 'shape.W', 1);
  const C = checkInt(shape.C, 'shape.C', 1);
  const Cin = checkInt(shape.Cin, 'shape.Cin', 1);
  const dil = checkInt(shape.dil ?? 1, 'shape.dil', 1);
  return { n, H, W, C, Cin, dil, dxLen: n * (H + 2 * dil) * (W + 2) * Cin };
}

/**
 * Dense 3×3 'valid' conv (HWIO filter w, dilation dil along time) with leaky ReLU: the gradient
 * of its input, [n, H + 2·dil, W + 2, Cin], from dy and y ([n, H, W, C]).
 */
export function convInputGrad(dy: Float32Array, y: Float32Array, w: Float32Array, shape: ConvBackwardShape, alpha: number, out?: Float32Array): Float32Array {
  const s = convShape(shape);
  const a = checkNumber(alpha, 'alpha', 0, 1);
  const len = s.n * s.H * s.W * s.C;
  checkArray(dy, Float32Array, 'dy', len);
  checkArray(y, Float32Array, 'y', len);
  const wt = transposeConvFilter(w, s.Cin, s.C);
  if (out !== undefined) checkArray(out, Float32Array, 'out', s.dxLen);
  const k = fn('igConvBackward');
  return run([dy, y, wt], s.dxLen, out, ([pdy, py, pw, g], dx) => k(pdy!, py!, pw!, dx, s.n, s.H, s.W, s.C, s.Cin, s.dil, a, g!), s.C);
}

export interface PoolOptions {
  /** Pool stride along time (3 in the strided form, 1 in the fully-convolutional one). */
  strideT?: number;
  /** Pool dilation along time (1, or 3 for the second pool of the fully-convolutional form). */
  dilationT?: number;
}

/**
 * 3×3 conv + leaky ReLU + 3×3 max-pool (stride (strideT, 3), dilation (dilationT, 1)): the
 * gradient of the conv's input from the pool's output gradient dyp ([n, Ho, Wo, C]) and the
 * conv's activated output y ([n, H, W, C]).
 */
export function poolConvInputGrad(dyp: Float32Array, y: Float32Array, w: Float32Array, shape: ConvBackwardShape, alpha: number, options?: PoolOptions, out?: Float32Array): Float32Array {
  const s = convShape(shape);
  const a = checkNumber(alpha, 'alpha', 0, 1);
  const o = checkOptions(options, ['strideT', 'dilationT']);
  const sh = checkInt(o.strideT ?? 3, 'strideT', 1);
  const dh = checkInt(o.dilationT ?? 1, 'dilationT', 1);
  const Ho = Math.floor((s.H - 2 * dh - 1) / sh) + 1;
  const Wo = Math.floor((s.W - 3) / 3) + 1;
  if (Ho < 1 || Wo < 1) throw new EarshotError('BAD_SHAPE', `poolConvInputGrad: y of ${s.H}×${s.W} is smaller than one 3×3 pool window (dilation ${dh})`);
  checkArray(y, Float32Array, 'y', s.n * s.H * s.W * s.C);
  checkArray(dyp, Float32Array, 'dyp', s.n * Ho * Wo * s.C);
  const wt = transposeConvFilter(w, s.Cin, s.C);
  if (out !== undefined) checkArray(out, Float32Array, 'out', s.dxLen);
  const k = fn('igPoolConvBackward');
  return run([y, dyp, wt], s.dxLen, out, ([py, pd, pw, g], dx) => k(py!, pd!, pw!, dx, s.n, s.H, s.W, s.C, Ho, Wo, sh, dh, s.Cin, s.dil, a, g!), 18 * s.C + 9);
}
