/**
 * Mel filterbanks and the log-mel front end (methods.md §1), over the kernels of assembly/mel.ts.
 *
 * Conventions (librosa-style: every convention is an explicit option):
 * - A filterbank is **nMels × nBins**, row-major Float32Array (one filter per row, like
 *   librosa's `filters.mel`), nBins = nFft/2 + 1 (or nBinsUsed when given).
 * - `construction: 'svd'` is the singing-voice detector's construction (Schlüter & Lehner, as
 *   methods.md §1 states it: peak bins by a left searchsorted over linspace(0, sr/2, nBins), slopes
 *   that divide a distance in Hz by a distance in bins); `'librosa'` evaluates the triangles at the
 *   bin frequencies in Hz (librosa.filters.mel). `scale: 'htk'` is 1127·ln(1 + f/700), `'slaney'`
 *   librosa's htk=False scale. `norm: 'sum'` divides each filter by its sum, `'area'` multiplies
 *   it by 2 / (f_{b+2} − f_b) (librosa's norm='slaney'), `'none'` leaves the triangles.
 * - Spectrograms are frames × bins (or frames × nMels), row-major: time is the slow axis.
 * - Frames: frame t covers samples [hop·t, hop·t + nFft), no centring or padding; the number
 *   of frames is ⌊(n − nFft) / hop⌋ + 1, none if n < nFft.
 */
import { EarshotError, check, checkArray, checkEnum, checkInt, checkNumber, checkFinite } from './errors.ts';
import { core, type Scope } from './wasm.ts';

export type MelScale = 'htk' | 'slaney';
export type MelConstruction = 'svd' | 'librosa';
export type MelNorm = 'sum' | 'area' | 'none';
export type WindowKind = 'hann' | 'hamming' | 'rect';

export interface MelFilterbankOptions {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fMin: number;
  fMax: number;
  /** Default 'htk'. */
  scale?: MelScale;
  /** Default 'svd'. */
  construction?: MelConstruction;
  /** Default 'sum'. */
  norm?: MelNorm;
  /** Keep only the first nBinsUsed bins (columns); default nFft/2 + 1. */
  nBinsUsed?: number;
}

/** Everything the fused front end needs; the defaults are the SVD front end's (methods.md §1). */
export interface MelSpectrogramOptions extends MelFilterbankOptions {
  hop: number;
  /** Default 'hann'. */
  window?: WindowKind;
  /** Periodic (DFT-even) window instead of the symmetric one (np.hanning); default false. */
  periodic?: boolean;
  /** 'magnitude' |X| (default) or 'power' |X|². */
  spectrum?: 'magnitude' | 'power';
  /** ln(max(mel, logFloor)); default 1e-7. */
  logFloor?: number;
  /** Per-band z-score after the log (both or neither). */
  mean?: Float32Array;
  std?: Float32Array;
}

export interface MelSpectrogram {
  /** nFrames × nMels, row-major. */
  data: Float32Array;
  nFrames: number;
  nMels: number;
}

type Fn = (...a: number[]) => number;
const fn = (name: string): Fn => {
  const f = core().exports[name];
  if (typeof f !== 'function') {
    throw new EarshotError('CORE_INCOMPLETE', `the earshot core has no export '${name}': rebuild it with \`npm run build:wasm\``);
  }
  return f as Fn;
};

const SCALES = ['htk', 'slaney'] as const;
const CONSTRUCTIONS = ['svd', 'librosa'] as const;
const NORMS = ['sum', 'area', 'none'] as const;
const WINDOWS = ['hann', 'hamming', 'rect'] as const;

function checkOptionsObject(o: unknown, name: string): asserts o is Record<string, unknown> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    throw new EarshotError('BAD_ARGUMENT', `${name} must be an options object, got ${o === null ? 'null' : typeof o}`);
  }
}

function checkKnownKeys(o: Record<string, unknown>, allowed: readonly string[], name: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new EarshotError('BAD_ARGUMENT', `${name}: unknown option '${k}' (known: ${allowed.join(', ')})`);
  }
}

const FB_KEYS = ['sampleRate', 'nFft', 'nMels', 'fMin', 'fMax', 'scale', 'construction', 'norm', 'nBinsUsed'] as const;

interface FbResolved {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fMin: number;
  fMax: number;
  scale: MelScale;
  construction: MelConstruction;
  norm: MelNorm;
  nBins: number;
  nBinsUsed: number;
}

function resolveFb(o: Record<string, unknown>, where: string): FbResolved {
  const sampleRate = checkNumber(o.sampleRate, `${where}.sampleRate`, 1, 1e7);
  const nFft = checkInt(o.nFft, `${where}.nFft`, 2, 1 << 20);
  check(nFft % 2 === 0, `${where}.nFft must be even, got ${nFft}`);
  const nMels = checkInt(o.nMels, `${where}.nMels`, 1, 4096);
  const fMin = checkNumber(o.fMin, `${where}.fMin`, 0);
  const fMax = checkNumber(o.fMax, `${where}.fMax`, 0, sampleRate / 2);
  check(fMin < fMax, `${where}.fMin (${fMin}) must be < fMax (${fMax})`);
  const scale = checkEnum(o.scale ?? 'htk', `${where}.scale`, SCALES);
  const construction = checkEnum(o.construction ?? 'svd', `${where}.construction`, CONSTRUCTIONS);
  const norm = checkEnum(o.norm ?? 'sum', `${where}.norm`, NORMS);
  const nBins = nFft / 2 + 1;
  const nBinsUsed = o.nBinsUsed === undefined ? nBins : checkInt(o.nBinsUsed, `${where}.nBinsUsed`, 1, nBins);
  if (nMels * nBins > 1 << 26) {
    throw new EarshotError('BAD_ARGUMENT', `${where}: nMels × (nFft/2 + 1) = ${nMels} × ${nBins} filter weights is too large (limit ${1 << 26})`);
  }
  return { sampleRate, nFft, nMels, fMin, fMax, scale, construction, norm, nBins, nBinsUsed };
}

function buildDense(s: Scope, r: FbResolved) {
  const fb = s.f32(r.nMels * r.nBins);
  fn('melFilterbankBuild')(
    r.sampleRate, r.nFft, r.nMels, r.fMin, r.fMax,
    r.scale === 'htk' ? 0 : 1, r.construction === 'svd' ? 0 : 1, r.norm === 'none' ? 0 : r.norm === 'sum' ? 1 : 2,
    fb.ptr,
  );
  return fb;
}

/**
 * A triangular mel filterbank, nMels × nBinsUsed (row b = filter b), float32.
 * With the defaults and { sampleRate: 22050, nFft: 1024, nMels: 80, fMin: 27.5, fMax: 8000,
 * nBinsUsed: 372 } it is the transpose of methods.md §1's FB[:372, :].
 */
export function melFilterbank(options: MelFilterbankOptions): Float32Array {
  checkOptionsObject(options, 'melFilterbank options');
  checkKnownKeys(options as unknown as Record<string, unknown>, FB_KEYS, 'melFilterbank');
  const r = resolveFb(options as unknown as Record<string, unknown>, 'melFilterbank');
  return core().arena.scope((s) => {
    const fb = buildDense(s, r);
    const full = fb.f32(r.nMels * r.nBins);
    if (r.nBinsUsed === r.nBins) return full.slice();
    const out = new Float32Array(r.nMels * r.nBinsUsed);
    for (let b = 0; b < r.nMels; b++) out.set(full.subarray(b * r.nBins, b * r.nBins + r.nBinsUsed), b * r.nBinsUsed);
    return out;
  });
}

/** NaN/∞ scan of a block already copied into the arena (one SIMD pass in wasm). */
function checkFiniteInCore(_s: Scope, block: { ptr: number }, n: number, name: string): void {
  const at = fn('melFirstNonFinite')(block.ptr, n);
  if (at >= 0) {
    const v = new Float32Array(core().memory.buffer, block.ptr, n)[at];
    throw new EarshotError('NOT_FINITE', `${name}[${at}] is ${v}; inputs must be finite`);
  }
}

/** Sparse form of fb's first nBinsUsed columns, in the arena (lives as long as the scope). */
function sparsify(s: Scope, fbPtr: number, nMels: number, nBins: number, nBinsUsed: number) {
  const nnz = fn('melSparseCount')(fbPtr, nMels, nBins, nBinsUsed);
  const spans = s.i32(3 * nMels);
  const weights = s.f32(Math.max(1, nnz));
  fn('melSparsify')(fbPtr, nMels, nBins, nBinsUsed, spans.ptr, weights.ptr);
  return { spans, weights, nnz };
}

export interface ApplyMelOptions {
  nMels: number;
  /** Use only the first nBinsUsed bins of every row; default: all (then mag and fb must have the same bin count). */
  nBinsUsed?: number;
}

/**
 * mel = mag · fbᵀ over the first nBinsUsed bins: `mag` is nFrames × nBinsMag, `fb` nMels × nBinsFb
 * (as returned by melFilterbank); the result is nFrames × nMels. Zero weights are skipped (the
 * filterbank is stored sparsely), so a filterbank's sparsity pays.
 */
export function applyMel(mag: Float32Array, nFrames: number, fb: Float32Array, options: ApplyMelOptions): Float32Array {
  checkArray(mag, Float32Array, 'applyMel: mag');
  checkInt(nFrames, 'applyMel: nFrames', 1);
  checkArray(fb, Float32Array, 'applyMel: fb');
  checkOptionsObject(options, 'applyMel options');
  checkKnownKeys(options as unknown as Record<string, unknown>, ['nMels', 'nBinsUsed'], 'applyMel');
  const nMels = checkInt(options.nMels, 'applyMel: options.nMels', 1, 4096);
  if (mag.length % nFrames !== 0 || mag.length === 0) {
    throw new EarshotError('BAD_SHAPE', `applyMel: mag has ${mag.length} values, not a multiple of nFrames = ${nFrames}`);
  }
  if (fb.length % nMels !== 0 || fb.length === 0) {
    throw new EarshotError('BAD_SHAPE', `applyMel: fb has ${fb.length} values, not a multiple of nMels = ${nMels}`);
  }
  const nBinsMag = mag.length / nFrames;
  const nBinsFb = fb.length / nMels;
  let nBinsUsed: number;
  if (options.nBinsUsed === undefined) {
    if (nBinsMag !== nBinsFb) {
      throw new EarshotError('BAD_SHAPE', `applyMel: mag rows have ${nBinsMag} bins but fb rows ${nBinsFb}; pass options.nBinsUsed to use a common prefix`);
    }
    nBinsUsed = nBinsMag;
  } else nBinsUsed = checkInt(options.nBinsUsed, 'applyMel: options.nBinsUsed', 1, Math.min(nBinsMag, nBinsFb));
  checkFinite(fb, 'applyMel: fb');
  return core().arena.scope((s) => {
    const m = s.copyIn(mag);
    checkFiniteInCore(s, m, mag.length, 'applyMel: mag');
    const f = s.copyIn(fb);
    const sp = sparsify(s, f.ptr, nMels, nBinsFb, nBinsUsed);
    const out = s.f32(nFrames * nMels);
    fn('melApplySparse')(m.ptr, nFrames, nBinsMag, nMels, sp.spans.ptr, sp.weights.ptr, out.ptr);
    return out.f32(nFrames * nMels).slice();
  });
}

function checkFloor(floor: unknown, name: string): number {
  const f = checkNumber(floor, name, 1.1754943508222875e-38, 3.4e38);
  return f;
}

/** ln(max(x, floor)) elementwise (floor a positive normal float32, e.g. 1e-7). */
export function logFloor(x: Float32Array, floor: number): Float32Array {
  checkArray(x, Float32Array, 'logFloor: x');
  const f = checkFloor(floor, 'logFloor: floor');
  if (x.length === 0) return new Float32Array(0);
  return core().arena.scope((s) => {
    const b = s.copyIn(x);
    checkFiniteInCore(s, b, x.length, 'logFloor: x');
    fn('melLogFloor')(b.ptr, b.ptr, x.length, f);
    return b.f32(x.length).slice();
  });
}

function checkStats(mean: unknown, std: unknown, nMels: number, where: string): void {
  checkArray(mean as Float32Array, Float32Array, `${where}: mean`, nMels);
  checkArray(std as Float32Array, Float32Array, `${where}: std`, nMels);
  checkFinite(mean as Float32Array, `${where}: mean`);
  const sd = std as Float32Array;
  for (let i = 0; i < nMels; i++) {
    if (!(Number.isFinite(sd[i]) && sd[i]! > 0)) {
      throw new EarshotError('BAD_ARGUMENT', `${where}: std[${i}] is ${sd[i]}; every std must be finite and > 0`);
    }
  }
}

/** (x[t, b] − mean[b]) / std[b] over an nFrames × nMels spectrogram (per-band z-score). */
export function zscore(x: Float32Array, nFrames: number, mean: Float32Array, std: Float32Array): Float32Array {
  checkArray(x, Float32Array, 'zscore: x');
  checkInt(nFrames, 'zscore: nFrames', 1);
  checkArray(mean, Float32Array, 'zscore: mean');
  const nMels = mean.length;
  check(nMels > 0, 'zscore: mean must not be empty');
  if (x.length !== nFrames * nMels) {
    throw new EarshotError('BAD_SHAPE', `zscore: x must have nFrames × nMels = ${nFrames} × ${nMels} = ${nFrames * nMels} values, got ${x.length}`);
  }
  checkStats(mean, std, nMels, 'zscore');
  return core().arena.scope((s) => {
    const b = s.copyIn(x);
    checkFiniteInCore(s, b, x.length, 'zscore: x');
    const m = s.copyIn(mean);
    const d = s.copyIn(std);
    fn('melZScore')(b.ptr, b.ptr, nFrames, nMels, m.ptr, d.ptr);
    return b.f32(x.length).slice();
  });
}

/** Number of frames of a signal of n samples (frames of frameLength, hop apart, no centring). */
export function frameCount(n: number, frameLength: number, hop: number): number {
  checkInt(n, 'frameCount: n', 0);
  checkInt(frameLength, 'frameCount: frameLength', 1);
  checkInt(hop, 'frameCount: hop', 1);
  return n < frameLength ? 0 : Math.floor((n - frameLength) / hop) + 1;
}

const SPEC_KEYS = [...FB_KEYS, 'hop', 'window', 'periodic', 'spectrum', 'logFloor', 'mean', 'std'] as const;

interface SpecResolved extends FbResolved {
  hop: number;
  window: WindowKind;
  periodic: boolean;
  spectrum: 'magnitude' | 'power';
  logFloor: number;
  mean?: Float32Array;
  std?: Float32Array;
}

function resolveSpec(options: unknown, where: string): SpecResolved {
  checkOptionsObject(options, `${where} options`);
  checkKnownKeys(options, SPEC_KEYS, where);
  const fb = resolveFb(options, where);
  const hop = checkInt(options.hop, `${where}.hop`, 1, 1 << 24);
  const window = checkEnum(options.window ?? 'hann', `${where}.window`, WINDOWS);
  if (options.periodic !== undefined && typeof options.periodic !== 'boolean') {
    throw new EarshotError('BAD_ARGUMENT', `${where}.periodic must be a boolean, got ${typeof options.periodic}`);
  }
  const spectrum = checkEnum(options.spectrum ?? 'magnitude', `${where}.spectrum`, ['magnitude', 'power'] as const);
  const floor = checkFloor(options.logFloor ?? 1e-7, `${where}.logFloor`);
  if ((options.mean === undefined) !== (options.std === undefined)) {
    throw new EarshotError('BAD_ARGUMENT', `${where}: give both mean and std (per-band z-score) or neither`);
  }
  if (options.mean !== undefined) checkStats(options.mean, options.std, fb.nMels, where);
  return {
    ...fb, hop, window, periodic: options.periodic === true, spectrum, logFloor: floor,
    mean: options.mean as Float32Array | undefined, std: options.std as Float32Array | undefined,
  };
}

/**
 * The prepared state of one front-end configuration (filterbank in sparse form, window, FFT plan),
 * kept in the arena so repeated calls pay only for the signal. Free it with `dispose()`.
 */
export class MelFrontEndKernel {
  readonly nMels: number;
  readonly nFft: number;
  readonly hop: number;
  private readonly r: SpecResolved;
  private blocks: Array<{ free(): void }> = [];
  private spans = 0;
  private weights = 0;
  private win = 0;
  private plan = 0;
  private scratch = 0;
  private row = 0;
  private mean = 0;
  private std = 0;
  private disposed = false;

  constructor(options: MelSpectrogramOptions) {
    const r = resolveSpec(options, 'melSpectrogram');
    this.r = r;
    this.nMels = r.nMels;
    this.nFft = r.nFft;
    this.hop = r.hop;
    for (const name of ['melFrontEnd', 'fftPlanBytes', 'fftPlanInit', 'fftScratchBytes', 'windowFill']) fn(name);
    if (fn('fftPlanBytes')(r.nFft) === 0) {
      throw new EarshotError('BAD_ARGUMENT', `melSpectrogram.nFft must be a power of two in [64, 16384] for the FFT, got ${r.nFft}`);
    }
    const a = core().arena;
    const keep = <T extends { free(): void }>(b: T): T => {
      this.blocks.push(b);
      return b;
    };
    try {
      a.scope((s) => {
        const fb = buildDense(s, r);
        const nnz = fn('melSparseCount')(fb.ptr, r.nMels, r.nBins, r.nBinsUsed);
        const spans = keep(a.allocI32(3 * r.nMels));
        const weights = keep(a.allocF32(Math.max(1, nnz)));
        fn('melSparsify')(fb.ptr, r.nMels, r.nBins, r.nBinsUsed, spans.ptr, weights.ptr);
        this.spans = spans.ptr;
        this.weights = weights.ptr;
      });
      const win = keep(a.allocF32(r.nFft));
      fn('windowFill')(r.window === 'hann' ? 0 : r.window === 'hamming' ? 1 : 2, r.periodic ? 1 : 0, r.nFft, win.ptr);
      this.win = win.ptr;
      const plan = keep(a.alloc(fn('fftPlanBytes')(r.nFft)));
      fn('fftPlanInit')(r.nFft, plan.ptr);
      this.plan = plan.ptr;
      this.scratch = keep(a.alloc(fn('fftScratchBytes')(r.nFft))).ptr;
      this.row = keep(a.alloc(fn('melRowScratchBytes')(r.nBinsUsed))).ptr;
      if (r.mean && r.std) {
        this.mean = keep(a.copyIn(r.mean)).ptr;
        this.std = keep(a.copyIn(r.std)).ptr;
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Frames for a signal of n samples. */
  frames(n: number): number {
    return n < this.nFft ? 0 : Math.floor((n - this.nFft) / this.hop) + 1;
  }

  /**
   * Log-mel (z-scored if the options had mean/std) of `signal`, nFrames × nMels. When `out` is
   * given it must hold at least nFrames × nMels floats and is filled in place (no allocation).
   */
  run(signal: Float32Array, out?: Float32Array): MelSpectrogram {
    if (this.disposed) throw new EarshotError('DISPOSED', 'melSpectrogram: this front end was disposed');
    checkArray(signal, Float32Array, 'melSpectrogram: signal');
    const nFrames = this.frames(signal.length);
    if (nFrames === 0) {
      throw new EarshotError('TOO_SHORT', `melSpectrogram: the signal has ${signal.length} samples, fewer than one frame of nFft = ${this.nFft}`);
    }
    const size = nFrames * this.nMels;
    if (out !== undefined) {
      checkArray(out, Float32Array, 'melSpectrogram: out');
      if (out.length < size) throw new EarshotError('BAD_SHAPE', `melSpectrogram: out must hold nFrames × nMels = ${size} floats, got ${out.length}`);
    }
    const r = this.r;
    return core().arena.scope((s) => {
      const sig = s.copyIn(signal);
      checkFiniteInCore(s, sig, signal.length, 'melSpectrogram: signal');
      const o = s.f32(size);
      fn('melFrontEnd')(
        sig.ptr, signal.length, r.hop, this.win, r.nFft, r.nFft, r.nBinsUsed, r.spectrum === 'power' ? 1 : 0,
        r.nMels, this.spans, this.weights, r.logFloor, this.mean, this.std,
        o.ptr, this.row, this.plan, this.scratch,
      );
      const view = o.f32(size);
      const data = out ? out.subarray(0, size) : new Float32Array(size);
      data.set(view);
      return { data, nFrames, nMels: this.nMels };
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let i = this.blocks.length - 1; i >= 0; i--) this.blocks[i]!.free();
    this.blocks = [];
  }
}

// A few prepared configurations, so repeated melSpectrogram calls skip the setup.
const cache = new Map<string, MelFrontEndKernel>();
const CACHE_SIZE = 4;

function cacheKey(o: MelSpectrogramOptions): string {
  const { mean, std, ...rest } = o;
  const values = (a: unknown) => (a instanceof Float32Array ? Array.from(a).join(',') : a === undefined ? 'none' : '?');
  const stats = `|${values(mean)}|${values(std)}`;
  if (stats.includes('?')) throw new Error('not cacheable'); // invalid: let the constructor say why
  return JSON.stringify(rest, Object.keys(rest).sort()) + stats;
}

/** Free the prepared configurations melSpectrogram keeps (≤ 4, each ≈ 20 KB of arena). */
export function releaseMelCache(): void {
  for (const k of cache.values()) k.dispose();
  cache.clear();
}

/**
 * The fused log-mel front end in one wasm pass per frame: frame (no centring) → window →
 * real FFT → |X| over the first nBinsUsed bins → sparse mel → ln(max(·, logFloor)) → optional
 * per-band z-score. Returns nFrames × nMels. With SVD_FRONTEND's options this is methods.md §1.
 * The prepared state of the last few configurations stays in the arena (releaseMelCache frees
 * it); for many calls with one configuration, a MelFrontEndKernel with a reused `out` is cheaper.
 */
export function melSpectrogram(signal: Float32Array, options: MelSpectrogramOptions): MelSpectrogram {
  checkArray(signal, Float32Array, 'melSpectrogram: signal');
  checkOptionsObject(options, 'melSpectrogram options');
  let key: string;
  try {
    key = cacheKey(options);
  } catch {
    key = '';
  }
  let k = key ? cache.get(key) : undefined;
  if (!k) {
    k = new MelFrontEndKernel(options);
    if (!key) {
      try {
        return k.run(signal);
      } finally {
        k.dispose();
      }
    } else {
      if (cache.size >= CACHE_SIZE) {
        const first = cache.keys().next().value as string;
        cache.get(first)!.dispose();
        cache.delete(first);
      }
      cache.set(key, k);
    }
  }
  return k.run(signal);
}
