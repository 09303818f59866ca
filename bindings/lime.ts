/**
 * The two hot kernels of the LIME loop (methods.md §3–4), typed and validated:
 *
 * - occlusion: n bit rows z ∈ {0,1}^d × a component map × a replacement content R → n perturbed
 *   excerpts, written once by the wasm kernel (assembly/occlude.ts). `gridLabels` builds the
 *   temporal / spectral / time-frequency segmentations of SLIME (methods.md §4).
 * - weighted ridge + weighted R²: scikit-learn's Ridge(alpha, fit_intercept) with sample_weight
 *   and its default dense solver (Cholesky, pseudo-inverse fallback), in f64
 *   (assembly/ridge.ts).
 *
 * Every size, shape and value is checked here before anything reaches wasm (docs/lime-kernels.md).
 */
import { EarshotError, check, checkArray, checkFinite, checkInt, checkNumber } from './errors.ts';
import { Block, core, type Scope } from './wasm.ts';

type OccludeFn = (
  x: number,
  content: number,
  contentIsScalar: number,
  scalar: number,
  runStart: number,
  runComp: number,
  nRuns: number,
  bits: number,
  n: number,
  d: number,
  out: number,
  size: number,
) => void;
type RidgeFn = (x: number, y: number, w: number, n: number, d: number, alpha: number, fitIntercept: number, coefOut: number, scratch: number) => number;
type R2Fn = (x: number, y: number, w: number, n: number, d: number, coef: number, intercept: number) => number;
type ScratchFn = (n: number, d: number) => number;

const MAX_BYTES = 2 ** 32 - 2 ** 16; // what a wasm32 memory can hold at most
/**
 * Staging size for perturbing into a JS Float32Array: chunks stay in L2 between the kernel and
 * the copy out (64 KiB … 1 MiB measured within noise of each other; 7 excerpts of 115×80).
 */
const STAGE_BYTES = 256 * 1024;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return `${typeof v} ${String(v)}`;
}

/**
 * An input that lives in the core's own memory (e.g. a view of an arena block) is copied out
 * first: any allocation may grow the memory, which detaches such views (a detached view reads
 * as empty).
 */
function own<A extends Float32Array | Float64Array | Uint8Array | Int32Array>(a: A): A {
  return a.buffer === core().memory.buffer ? (a.slice() as A) : a;
}

function checkOptions(opts: unknown, name: string, allowed: readonly string[]): Record<string, unknown> {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new EarshotError('BAD_ARGUMENT', `${name} must be an options object, got ${describe(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw new EarshotError('BAD_ARGUMENT', `${name}: unknown option '${k}' (allowed: ${allowed.join(', ')})`);
    }
  }
  return opts as Record<string, unknown>;
}

// ───────────────────────────── components ─────────────────────────────

/** A rectangle of bins, half-open: frames [t0, t1) × bands [f0, f1). */
export type Rect = readonly [t0: number, t1: number, f0: number, f1: number];

/**
 * The d components of an excerpt: a label map (T·F i32, row-major with rows = time, each bin's
 * component in [0, d), −1 = never occluded), or one rectangle per component (component i =
 * rects[i]; rectangles must not overlap; bins outside all of them are never occluded).
 */
export type OcclusionComponents = { labels: Int32Array; d: number } | { rects: readonly Rect[]; d?: number };

function checkShape(shape: unknown): [number, number] {
  if (!Array.isArray(shape) || shape.length !== 2) {
    throw new EarshotError('BAD_SHAPE', `shape must be [T, F] (frames, bands), got ${describe(shape)}`);
  }
  const T = checkInt(shape[0], 'shape[0] (T, frames)');
  const F = checkInt(shape[1], 'shape[1] (F, bands)');
  check(T * F * 4 <= MAX_BYTES, `shape ${T}×${F} is too large for the earshot core`, 'BAD_SHAPE');
  return [T, F];
}

/**
 * The regular grids of SLIME (methods.md §4) as a label map over a T×F excerpt: `time` blocks
 * of hop = T // time frames (the remainder goes to the LAST block) × `freq` blocks of
 * F // freq bands (likewise); component index = freq · t + f. Temporal d = 10 on 115 frames:
 * { time: 10, freq: 1 } (11×9 + 16 frames); spectral d = 10 on 80 bands: { time: 1, freq: 10 }
 * (8 bands each); SoundLIME's 6 × 4: 19,19,19,19,19,20 frames × 20 bands.
 */
export function gridLabels(T: number, F: number, grid: { time?: number; freq?: number }): Int32Array {
  checkInt(T, 'T (frames)');
  checkInt(F, 'F (bands)');
  const g = checkOptions(grid, 'grid', ['time', 'freq']);
  const nT = checkInt(g.time ?? 1, 'grid.time (number of time blocks)', 1, T);
  const nF = checkInt(g.freq ?? 1, 'grid.freq (number of frequency blocks)', 1, F);
  const hopT = Math.floor(T / nT);
  const hopF = Math.floor(F / nF);
  const labels = new Int32Array(T * F);
  for (let t = 0; t < T; t++) {
    const bt = Math.min(Math.floor(t / hopT), nT - 1);
    for (let f = 0; f < F; f++) {
      const bf = Math.min(Math.floor(f / hopF), nF - 1);
      labels[t * F + f] = nF * bt + bf;
    }
  }
  return labels;
}

/** Rectangles (component i = rects[i]) → a label map; checks bounds and overlaps. */
export function rectsToLabels(T: number, F: number, rects: readonly Rect[], d?: number): Int32Array {
  checkInt(T, 'T (frames)');
  checkInt(F, 'F (bands)');
  if (!Array.isArray(rects) || rects.length === 0) {
    throw new EarshotError('BAD_ARGUMENT', `components.rects must be a non-empty array of [t0, t1, f0, f1], got ${describe(rects)}`);
  }
  if (d !== undefined) {
    checkInt(d, 'components.d');
    check(d === rects.length, `components.d (${d}) must equal the number of rectangles (${rects.length})`, 'BAD_SHAPE');
  }
  const labels = new Int32Array(T * F).fill(-1);
  rects.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== 4) {
      throw new EarshotError('BAD_ARGUMENT', `components.rects[${i}] must be [t0, t1, f0, f1], got ${describe(r)}`);
    }
    const [t0, t1, f0, f1] = r;
    checkInt(t0, `components.rects[${i}].t0`, 0, T - 1);
    checkInt(t1, `components.rects[${i}].t1`, t0 + 1, T);
    checkInt(f0, `components.rects[${i}].f0`, 0, F - 1);
    checkInt(f1, `components.rects[${i}].f1`, f0 + 1, F);
    for (let t = t0; t < t1; t++) {
      for (let f = f0; f < f1; f++) {
        const prev = labels[t * F + f]!;
        if (prev >= 0) {
          throw new EarshotError('BAD_ARGUMENT', `components.rects[${i}] overlaps components.rects[${prev}] at frame ${t}, band ${f}`);
        }
        labels[t * F + f] = i;
      }
    }
  });
  return labels;
}

function resolveLabels(T: number, F: number, components: unknown): { labels: Int32Array; d: number } {
  if (components === null || typeof components !== 'object' || Array.isArray(components)) {
    throw new EarshotError('BAD_ARGUMENT', `components must be { labels, d } or { rects, d? }, got ${describe(components)}`);
  }
  const c = components as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (k !== 'labels' && k !== 'rects' && k !== 'd') {
      throw new EarshotError('BAD_ARGUMENT', `components: unknown option '${k}' (allowed: labels, rects, d)`);
    }
  }
  if (c.labels !== undefined && c.rects !== undefined) {
    throw new EarshotError('BAD_ARGUMENT', 'components: give either labels or rects, not both');
  }
  if (c.rects !== undefined) {
    const labels = rectsToLabels(T, F, c.rects as Rect[], c.d as number | undefined);
    return { labels, d: (c.rects as Rect[]).length };
  }
  if (c.labels === undefined) throw new EarshotError('BAD_ARGUMENT', 'components must have labels (with d) or rects');
  const labels = checkArray(c.labels, Int32Array, 'components.labels', T * F);
  const d = checkInt(c.d, 'components.d (number of components)', 1, 1 << 24);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < -1 || l >= d) {
      throw new EarshotError('BAD_ARGUMENT', `components.labels[${i}] (frame ${Math.floor(i / F)}, band ${i % F}) is ${l}; labels must be in [-1, ${d})`);
    }
  }
  return { labels, d };
}

/** The run-length form of a label map: maximal runs of one label over the flattened index. */
export function labelRuns(labels: Int32Array): { start: Int32Array; comp: Int32Array } {
  checkArray(labels, Int32Array, 'labels');
  check(labels.length > 0, 'labels must not be empty', 'BAD_SHAPE');
  let nRuns = labels.length > 0 ? 1 : 0;
  for (let i = 1; i < labels.length; i++) if (labels[i] !== labels[i - 1]) nRuns++;
  const start = new Int32Array(nRuns);
  const comp = new Int32Array(nRuns);
  let r = 0;
  for (let i = 0; i < labels.length; i++) {
    if (i === 0 || labels[i] !== labels[i - 1]) {
      start[r] = i;
      comp[r] = labels[i]!;
      r++;
    }
  }
  return { start, comp };
}

// ───────────────────────────── occlusion ─────────────────────────────

/** Where `run` writes: a Float32Array (filled by one copy out of the arena) or an arena Block (written in place). */
export type OcclusionOut = Float32Array | Block;

/** An excerpt, its components and a content kept in the core's arena for many batches. */
export interface PreparedOcclusion {
  readonly shape: readonly [number, number];
  /** Number of components. */
  readonly d: number;
  /** Number of runs the kernel walks per sample. */
  readonly nRuns: number;
  /**
   * Perturb x for n bit rows (n·d u8, 0/1). Returns the n·T·F batch: `out` itself when it is a
   * Float32Array of exactly n·T·F, a fresh view of the block when `out` is an arena Block (the
   * kernel writes straight into it: no copy at all), or a new Float32Array.
   */
  run(bits: Uint8Array, n: number, out?: OcclusionOut): Float32Array;
  /**
   * Perturb into the prepared object's own arena block and return a view of it (no copy out):
   * hand it straight to the model (e.g. `tf.tensor(view, [n, T, F])`, which copies once).
   * The view is valid until the next run / runView / dispose or any other arena allocation.
   */
  runView(bits: Uint8Array, n: number): Float32Array;
  /** Free the arena blocks; the object cannot be used afterwards. */
  dispose(): void;
}

function checkContent(content: unknown, size: number, T: number, F: number): number | Float32Array {
  if (typeof content === 'number') return checkNumber(content, 'content (replacement value R)');
  if (!(content instanceof Float32Array)) {
    throw new EarshotError('BAD_ARGUMENT', `content must be a finite number or a Float32Array of T·F = ${T}·${F} = ${size}, got ${describe(content)}`);
  }
  checkArray(content, Float32Array, `content (T·F = ${T}·${F})`, size);
  checkFinite(content, 'content');
  return content;
}

function checkBits(bits: unknown, n: number, d: number): Uint8Array {
  const b = checkArray(bits, Uint8Array, `bits (n·d = ${n}·${d})`, n * d);
  for (let i = 0; i < b.length; i++) {
    if (b[i]! > 1) {
      throw new EarshotError('BAD_ARGUMENT', `bits[${i}] (row ${Math.floor(i / d)}, component ${i % d}) is ${b[i]}; bits must be 0 or 1`);
    }
  }
  return b;
}

/**
 * Keep x (T·F f32, rows = time), the components and the content R in the arena, for many
 * batches of bit rows on the same excerpt (SLIME evaluates thousands of rows per excerpt).
 */
export function prepareOcclusion(
  x: Float32Array,
  shape: readonly [number, number],
  components: OcclusionComponents,
  content: number | Float32Array,
): PreparedOcclusion {
  const [T, F] = checkShape(shape);
  const size = T * F;
  checkArray(x, Float32Array, `x (T·F = ${T}·${F})`, size);
  checkFinite(x, 'x');
  const { labels, d } = resolveLabels(T, F, components);
  const R = checkContent(content, size, T, F);
  const runs = labelRuns(labels);
  const xs = own(x);
  const Rs = typeof R === 'number' ? R : own(R);
  const c = core();
  const arena = c.arena;
  const kernel = c.exports.occludeRuns as OccludeFn;
  const owned: Block[] = [];
  // reusable blocks, grown on demand: bits rows, runView's output, the staging area
  const held: { bits: Block | null; out: Block | null; stage: Block | null } = { bits: null, out: null, stage: null };
  let disposed = false;
  try {
    owned.push(arena.copyIn(xs));
    owned.push(typeof Rs === 'number' ? arena.alloc(16) : arena.copyIn(Rs));
    owned.push(arena.copyIn(runs.start));
    owned.push(arena.copyIn(runs.comp));
  } catch (e) {
    for (const b of owned) b.free();
    throw e;
  }
  const [xB, rB, startB, compB] = owned as [Block, Block, Block, Block];
  const nRuns = runs.start.length;

  function ensure(key: keyof typeof held, bytes: number): Block {
    const block = held[key];
    if (block && block.bytes >= bytes) return block;
    if (block) {
      held[key] = null; // before allocating: a failed allocation must not leave a freed block here
      block.free();
    }
    return (held[key] = arena.alloc(bytes));
  }

  function perturb(bits: Uint8Array, n: number, out: OcclusionOut | undefined, asView: boolean): Float32Array {
    if (disposed) throw new EarshotError('DISPOSED', 'this prepared occlusion was disposed');
    checkInt(n, 'n (number of bit rows)', 1, 1 << 30);
    checkBits(bits, n, d);
    const total = n * size;
    check(total * 4 <= MAX_BYTES, `n·T·F = ${n}·${T}·${F} floats do not fit the earshot core (4 GiB); use smaller batches`, 'OUT_OF_MEMORY');
    if (out instanceof Block) {
      check(out.arena === arena, 'out is a Block of another arena than the earshot core\'s');
      check(out.bytes >= total * 4, `out block must hold n·T·F = ${total} floats (${total * 4} bytes), got ${out.bytes} bytes`, 'BAD_SHAPE');
    } else if (out !== undefined) {
      checkArray(out, Float32Array, `out (n·T·F = ${n}·${T}·${F})`, total);
      check(
        out.buffer !== c.memory.buffer,
        'out is a view of the earshot core\'s memory, which allocating may detach: pass the arena Block itself, or use runView',
      );
    }
    const b = own(bits);
    const bitsBlock = ensure('bits', n * d);
    bitsBlock.u8(n * d).set(b);
    const isScalar = typeof R === 'number' ? 1 : 0;
    const scalar = typeof R === 'number' ? R : 0;
    if (out instanceof Block || asView) {
      // straight into arena memory: every float is stored once, by the kernel
      const target = out instanceof Block ? out : ensure('out', total * 4);
      kernel(xB.ptr, rB.ptr, isScalar, scalar, startB.ptr, compB.ptr, nRuns, bitsBlock.ptr, n, d, target.ptr, size);
      return target.f32(total);
    }
    // A JS array cannot be written from wasm: perturb a few samples at a time into a
    // cache-sized staging block and move each chunk out while it is still in cache.
    const result = out ?? new Float32Array(total);
    const chunk = Math.max(1, Math.min(n, Math.floor(STAGE_BYTES / (size * 4))));
    const stageBlock = ensure('stage', chunk * size * 4);
    const stage = stageBlock.f32(chunk * size); // no allocation below: the view stays attached
    for (let s0 = 0; s0 < n; s0 += chunk) {
      const m = Math.min(chunk, n - s0);
      kernel(xB.ptr, rB.ptr, isScalar, scalar, startB.ptr, compB.ptr, nRuns, bitsBlock.ptr + s0 * d, m, d, stageBlock.ptr, size);
      result.set(m === chunk ? stage : stage.subarray(0, m * size), s0 * size);
    }
    return result;
  }

  return {
    shape: [T, F],
    d,
    nRuns,
    run(bits: Uint8Array, n: number, out?: OcclusionOut): Float32Array {
      return perturb(bits, n, out, false);
    },
    runView(bits: Uint8Array, n: number): Float32Array {
      return perturb(bits, n, undefined, true);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      for (const b of owned) b.free();
      for (const key of ['bits', 'out', 'stage'] as const) {
        held[key]?.free();
        held[key] = null;
      }
    },
  };
}

/**
 * Perturb x (T·F f32, rows = time) for n bit rows (n·d u8, 0/1): for each row and bin,
 * bits[label] ? x : R, with −1-labelled bins always x (methods.md §3). One-shot form of
 * `prepareOcclusion(...).run(...)`.
 */
export function occlude(
  x: Float32Array,
  shape: readonly [number, number],
  components: OcclusionComponents,
  content: number | Float32Array,
  bits: Uint8Array,
  n: number,
  out?: OcclusionOut,
): Float32Array {
  const p = prepareOcclusion(x, shape, components, content);
  try {
    return p.run(bits, n, out);
  } finally {
    p.dispose();
  }
}

// ───────────────────────────── weighted ridge ─────────────────────────────

/** Design matrix rows: f64, f32 or the LIME 0/1 bit matrix (u8), n·d row-major. */
export type DesignMatrix = Float64Array | Float32Array | Uint8Array;

export interface RidgeOptions {
  /** Number of samples (rows). */
  n: number;
  /** Number of features (columns). */
  d: number;
  /** Ridge penalty α ≥ 0 (LIME's surrogate: 1). */
  alpha?: number;
  /** Fit an intercept (weighted centring), as LIME does. */
  fitIntercept?: boolean;
}

export interface RidgeFit {
  /** β, one per feature. */
  coef: Float64Array;
  intercept: number;
  /** Weighted R² on the same samples (LIME's `score`). */
  score: number;
  /** 'cholesky', or 'eigen' when the system was not positive definite (pseudo-inverse). */
  solver: 'cholesky' | 'eigen';
  /** Eigenvalues kept by the 'eigen' fallback (d after Cholesky). */
  rank: number;
}

function checkDesign(X: unknown, n: number, d: number): DesignMatrix {
  if (!(X instanceof Float64Array || X instanceof Float32Array || X instanceof Uint8Array)) {
    throw new EarshotError('BAD_ARGUMENT', `X must be a Float64Array, Float32Array or Uint8Array (bit rows), got ${describe(X)}`);
  }
  if (X.length !== n * d) throw new EarshotError('BAD_SHAPE', `X must have n·d = ${n}·${d} = ${n * d} elements, got ${X.length}`);
  return X; // finiteness is checked in wasm after the copy (firstNonFiniteF64), see copyDesign
}

type FirstNonFiniteFn = (ptr: number, count: number) => number;

/** X into the arena as f64, then checked for NaN / ±Infinity at memory speed. */
function copyDesign(s: Scope, X: DesignMatrix): Block {
  const b = copyF64(s, X);
  if (!(X instanceof Uint8Array)) {
    const bad = (core().exports.firstNonFiniteF64 as FirstNonFiniteFn)(b.ptr, X.length);
    if (bad >= 0) throw new EarshotError('NOT_FINITE', `X[${bad}] is ${X[bad]}; inputs must be finite`);
  }
  return b;
}

function checkTarget(y: unknown, n: number): Float64Array | Float32Array {
  if (!(y instanceof Float64Array || y instanceof Float32Array)) {
    throw new EarshotError('BAD_ARGUMENT', `y must be a Float64Array or Float32Array, got ${describe(y)}`);
  }
  if (y.length !== n) throw new EarshotError('BAD_SHAPE', `y must have n = ${n} elements, got ${y.length}`);
  checkFinite(y, 'y');
  return y;
}

function checkWeights(w: unknown, n: number): Float64Array {
  const ww = checkArray(w, Float64Array, `w (sample weights, n = ${n})`, n);
  let any = false;
  for (let i = 0; i < n; i++) {
    const v = ww[i]!;
    if (!Number.isFinite(v)) throw new EarshotError('NOT_FINITE', `w[${i}] is ${v}; sample weights must be finite`);
    if (v < 0) throw new EarshotError('BAD_ARGUMENT', `w[${i}] is ${v}; sample weights must be ≥ 0`);
    if (v > 0) any = true;
  }
  if (!any) throw new EarshotError('BAD_ARGUMENT', 'w: all sample weights are zero; at least one must be positive');
  return ww;
}

function checkSizes(opts: { n?: unknown; d?: unknown }): { n: number; d: number } {
  const n = checkInt(opts.n, 'n (number of samples)', 1, 1 << 28);
  const d = checkInt(opts.d, 'd (number of features)', 1, 4096);
  check(n * d * 8 <= MAX_BYTES / 2, `n·d = ${n}·${d} f64 do not fit the earshot core`, 'OUT_OF_MEMORY');
  return { n, d };
}

function copyF64(s: Scope, src: DesignMatrix | Float64Array | Float32Array): Block {
  if (src instanceof Float64Array) return s.copyIn(src);
  const b = s.f64(src.length);
  if (src instanceof Uint8Array) {
    // bits: copy the bytes in (8× smaller) and widen them in wasm
    const u8 = s.copyIn(src);
    (core().exports.u8ToF64 as (src: number, dst: number, count: number) => void)(u8.ptr, b.ptr, src.length);
  } else b.f64(src.length).set(src); // f32 → f64
  return b;
}

/**
 * Weighted ridge regression exactly as scikit-learn's
 * `Ridge(alpha, fit_intercept).fit(X, y, sample_weight=w)` with the dense default solver
 * (Cholesky; pseudo-inverse through an eigen-decomposition of X̃ᵀX̃ when the system is not
 * positive definite), plus the weighted R² score on the same samples.
 */
export function weightedRidge(X: DesignMatrix, y: Float64Array | Float32Array, w: Float64Array, options: RidgeOptions): RidgeFit {
  const o = checkOptions(options, 'weightedRidge options', ['n', 'd', 'alpha', 'fitIntercept']);
  const { n, d } = checkSizes(o);
  const alpha = checkNumber(o.alpha ?? 1, 'alpha (ridge penalty)', 0);
  if (o.fitIntercept !== undefined && typeof o.fitIntercept !== 'boolean') {
    throw new EarshotError('BAD_ARGUMENT', `fitIntercept must be a boolean, got ${describe(o.fitIntercept)}`);
  }
  const fitIntercept = o.fitIntercept ?? true;
  const Xs = own(checkDesign(X, n, d));
  const ys = own(checkTarget(y, n));
  const ws = own(checkWeights(w, n));
  const c = core();
  const ridge = c.exports.weightedRidge as RidgeFn;
  const r2 = c.exports.weightedR2 as R2Fn;
  const scratchBytes = (c.exports.ridgeScratchBytes as ScratchFn)(n, d);
  return c.arena.scope((s) => {
    const xB = copyDesign(s, Xs);
    const yB = copyF64(s, ys);
    const wB = s.copyIn(ws);
    const coefB = s.f64(d);
    const scratch = s.alloc(scratchBytes);
    const intercept = ridge(xB.ptr, yB.ptr, wB.ptr, n, d, alpha, fitIntercept ? 1 : 0, coefB.ptr, scratch.ptr);
    const head = scratch.f64(4);
    const solver = head[0] === 0 ? 'cholesky' : 'eigen';
    const rank = head[3]!;
    const coef = new Float64Array(coefB.f64(d));
    const score = r2(xB.ptr, yB.ptr, wB.ptr, n, d, coefB.ptr, intercept);
    checkFinite(coef, 'weightedRidge: coef (the system is too ill-conditioned)');
    check(Number.isFinite(intercept) && Number.isFinite(score), 'weightedRidge: the fit produced a non-finite intercept or score', 'NOT_FINITE');
    return { coef, intercept, score, solver, rank };
  });
}

/**
 * Weighted R² of a linear model on (X, y, w): 1 − Σw(y−ŷ)² / Σw(y−ȳ_w)², as sklearn's
 * r2_score(sample_weight=w) (numerator 0 → 1; otherwise denominator 0 → 0).
 */
export function weightedR2(
  X: DesignMatrix,
  y: Float64Array | Float32Array,
  w: Float64Array,
  coef: Float64Array,
  intercept: number,
  options: { n: number; d: number },
): number {
  const o = checkOptions(options, 'weightedR2 options', ['n', 'd']);
  const { n, d } = checkSizes(o);
  const Xs = own(checkDesign(X, n, d));
  const ys = own(checkTarget(y, n));
  const ws = own(checkWeights(w, n));
  const cs = own(checkArray(coef, Float64Array, `coef (d = ${d})`, d));
  checkFinite(cs, 'coef');
  checkNumber(intercept, 'intercept');
  const c = core();
  const r2 = c.exports.weightedR2 as R2Fn;
  return c.arena.scope((s) => {
    const xB = copyDesign(s, Xs);
    const yB = copyF64(s, ys);
    const wB = s.copyIn(ws);
    const coefB = s.copyIn(cs);
    return r2(xB.ptr, yB.ptr, wB.ptr, n, d, coefB.ptr, intercept);
  });
}

/** The linear model's prediction for one row (e.g. LIME's local prediction at the all-ones row). */
export function ridgePredict(coef: Float64Array, intercept: number, row: ArrayLike<number>): number {
  checkArray(coef, Float64Array, 'coef');
  checkNumber(intercept, 'intercept');
  if (row === null || typeof row !== 'object' || typeof (row as { length?: unknown }).length !== 'number') {
    throw new EarshotError('BAD_ARGUMENT', `row must be an array of ${coef.length} numbers, got ${describe(row)}`);
  }
  if (row.length !== coef.length) throw new EarshotError('BAD_SHAPE', `row must have d = ${coef.length} elements, got ${row.length}`);
  checkFinite(row, 'row');
  let dot = 0;
  for (let j = 0; j < coef.length; j++) dot += row[j]! * coef[j]!;
  return dot + intercept;
}
