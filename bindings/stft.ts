/**
 * Windows, real FFT, STFT and inverse STFT over the SIMD kernels of assembly/fft.ts and
 * assembly/stft.ts, with librosa's conventions (librosa/core/spectrum.py) stated as options.
 *
 * Conventions (docs/stft.md):
 * - `rfft` is numpy.fft.rfft: unnormalised, n/2 + 1 bins interleaved re,im (n + 2 floats);
 *   `irfft` is numpy.fft.irfft: scaled by 1/n, imaginary parts of DC and Nyquist ignored.
 * - Windows: `periodic: true` (default, like librosa / scipy.signal.get_window) is the first n of a
 *   symmetric window of n + 1; `periodic: false` is NumPy's symmetric np.hanning / np.hamming
 *   (the singing-voice front end of methods.md §1 uses the symmetric Hann of 1024).
 * - Frames: frame t covers samples [t·hop, t·hop + nFft) of the (padded) signal. A window shorter
 *   than nFft is zero-padded on both sides, centred (librosa.util.pad_center). With
 *   `center: true` (default) the signal is padded by nFft/2 on both sides ('constant' zeros, the
 *   default as in librosa ≥ 0.10, or 'reflect' like numpy.pad) and there are 1 + ⌊n / hop⌋
 *   frames; with `center: false` there are ⌊(n − nFft) / hop⌋ + 1 frames, none if n < nFft
 *   (exactly the singing-voice front end: `SINGING_VOICE_STFT`).
 * - Output: frames × bins, row-major (time is the slow axis; librosa's is the transpose).
 *   'magnitude' |X|, 'power' |X|², 'complex' interleaved re,im (2·nBins floats per frame). The
 *   default output is 'complex' (librosa.stft returns the complex STFT). No normalisation.
 * - `istft` is librosa.istft: overlap-add of irfft(frame)·window divided by the overlap-added
 *   window² (where that sum is above the smallest normal f32), then nFft/2 trimmed from both ends
 *   when `center`, or cut / zero-padded to `length` when given.
 * Plans and scratch are cached per nFft in the core's arena (a few tens of KiB each).
 */
import { EarshotError, check, checkArray, checkEnum, checkFinite, checkInt } from './errors.ts';
import { core, type Block } from './wasm.ts';

export type WindowName = 'hann' | 'hamming' | 'rect';
export type StftOutput = 'magnitude' | 'power' | 'complex';
export type PadMode = 'constant' | 'reflect';

export const FFT_MIN_SIZE = 64;
export const FFT_MAX_SIZE = 16384;

const WINDOWS: readonly WindowName[] = ['hann', 'hamming', 'rect'];
const OUTPUTS: readonly StftOutput[] = ['magnitude', 'power', 'complex'];
const PAD_MODES: readonly PadMode[] = ['constant', 'reflect'];
const WINDOW_CODE: Record<WindowName, number> = { hann: 0, hamming: 1, rect: 2 };
const MODE_CODE: Record<StftOutput, number> = { magnitude: 0, power: 1, complex: 2 };

export interface WindowOptions {
  /** Periodic (DFT-even, scipy get_window / librosa) instead of symmetric (np.hanning); default true. */
  periodic?: boolean;
}

export interface StftOptions {
  /** FFT size, a power of two in 64…16384. Default 2048 (librosa). */
  nFft?: number;
  /** Samples between frame starts, ≥ 1. Default ⌊winLength / 4⌋ (librosa). */
  hopLength?: number;
  /** Window length ≤ nFft (zero-padded, centred, to nFft). Default nFft. */
  winLength?: number;
  /** 'hann' (default), 'hamming', 'rect', or the winLength window samples themselves. */
  window?: WindowName | Float32Array;
  /** Periodic window (default true, librosa); false = symmetric (np.hanning). Ignored for arrays. */
  periodic?: boolean;
  /** Pad nFft/2 on both sides so frame t is centred on sample t·hop. Default true (librosa). */
  center?: boolean;
  /** Padding when centring: 'constant' zeros (default) or 'reflect' (numpy.pad). */
  padMode?: PadMode;
  /** 'complex' (default), 'magnitude' or 'power'. */
  output?: StftOutput;
  /** Keep bins 0…nBins−1 only (1 ≤ nBins ≤ nFft/2 + 1); default all nFft/2 + 1. */
  nBins?: number;
}

export interface IstftOptions {
  nFft?: number;
  hopLength?: number;
  winLength?: number;
  window?: WindowName | Float32Array;
  periodic?: boolean;
  center?: boolean;
  /** Exact output length (cut or zero-padded, like librosa's `length`). */
  length?: number;
}

export interface StftResult {
  /** nFrames × nBins (× 2 for 'complex', interleaved re,im), row-major. */
  data: Float32Array;
  nFrames: number;
  nBins: number;
}

/** The singing-voice front end's STFT (methods.md §1): symmetric Hann 1024, hop 315, no centring, |X|. */
export const SINGING_VOICE_STFT: Readonly<StftOptions> = Object.freeze({
  nFft: 1024,
  hopLength: 315,
  winLength: 1024,
  window: 'hann',
  periodic: false,
  center: false,
  output: 'magnitude',
});

type Fn = (...a: number[]) => void;
type Ex = {
  fftPlanBytes(n: number): number;
  fftPlanInit(n: number, plan: number): void;
  fftScratchBytes(n: number): number;
  rfft: Fn;
  irfft: Fn;
  windowFill: Fn;
  stftFrames: Fn;
  istftFrames: Fn;
};

const ex = () => core().exports as unknown as Ex;

interface Plan {
  plan: Block;
  scratch: Block;
}
const plans = new Map<number, Plan>();

/** The cached plan and scratch for size n (allocated once per size, kept for the process). */
function planFor(n: number): Plan {
  const c = core();
  let p = plans.get(n);
  if (p && p.plan.arena === c.arena) return p;
  const e = ex();
  const plan = c.arena.alloc(e.fftPlanBytes(n));
  e.fftPlanInit(n, plan.ptr);
  p = { plan, scratch: c.arena.alloc(e.fftScratchBytes(n)) };
  plans.set(n, p);
  return p;
}

function checkFftSize(n: unknown, name: string): number {
  checkInt(n, name, FFT_MIN_SIZE, FFT_MAX_SIZE);
  const v = n as number;
  check((v & (v - 1)) === 0, `${name} must be a power of two in [${FFT_MIN_SIZE}, ${FFT_MAX_SIZE}], got ${v}`);
  return v;
}

function checkOptions(opts: unknown, name: string, allowed: readonly string[]): Record<string, unknown> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || ArrayBuffer.isView(opts)) {
    throw new EarshotError('BAD_ARGUMENT', `${name} must be an options object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'array' : typeof opts}`);
  }
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw new EarshotError('BAD_ARGUMENT', `unknown option ${name}.${k}; allowed: ${allowed.join(', ')}`);
    }
  }
  return opts as Record<string, unknown>;
}

function checkBool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new EarshotError('BAD_ARGUMENT', `${name} must be true or false, got ${String(v)}`);
  return v;
}

/**
 * n samples of a window. `periodic: true` (default) gives scipy.signal.get_window(kind, n) /
 * librosa's window; `periodic: false` gives np.hanning(n) / np.hamming(n). Hamming is
 * 0.54 − 0.46·cos; 'rect' is all ones; n = 1 gives [1].
 */
export function windowFunction(kind: WindowName, n: number, options?: WindowOptions): Float32Array {
  checkEnum(kind, 'window kind', WINDOWS);
  checkInt(n, 'window length n', 1, 1 << 24);
  const o = checkOptions(options, 'windowFunction options', ['periodic']);
  const periodic = checkBool(o.periodic, 'periodic', true);
  const c = core();
  return c.arena.scope((s) => {
    const b = s.f32(n);
    ex().windowFill(WINDOW_CODE[kind], periodic ? 1 : 0, n, b.ptr);
    return b.f32(n).slice();
  });
}

/**
 * Real FFT like numpy.fft.rfft: x.length (a power of two in 64…16384) samples in, x.length/2 + 1
 * bins out interleaved re,im, unnormalised.
 */
export function rfft(x: Float32Array): Float32Array {
  checkArray(x, Float32Array, 'x');
  const n = checkFftSize(x.length, 'x.length');
  checkFinite(x, 'x');
  const p = planFor(n);
  return core().arena.scope((s) => {
    const inp = s.copyIn(x);
    const out = s.f32(n + 2);
    ex().rfft(p.plan.ptr, n, inp.ptr, out.ptr, p.scratch.ptr);
    return out.f32(n + 2).slice();
  });
}

/**
 * Inverse real FFT like numpy.fft.irfft(spec, n): n/2 + 1 interleaved bins (n + 2 floats) in,
 * n samples out, scaled by 1/n; the imaginary parts of the DC and Nyquist bins are ignored.
 */
export function irfft(spec: Float32Array, n: number): Float32Array {
  checkArray(spec, Float32Array, 'spec');
  checkFftSize(n, 'n');
  checkArray(spec, Float32Array, 'spec', n + 2);
  checkFinite(spec, 'spec');
  const p = planFor(n);
  return core().arena.scope((s) => {
    const inp = s.copyIn(spec);
    const out = s.f32(n);
    ex().irfft(p.plan.ptr, n, inp.ptr, out.ptr, p.scratch.ptr);
    return out.f32(n).slice();
  });
}

interface Framing {
  nFft: number;
  hop: number;
  winLength: number;
  window: Float32Array | WindowName;
  periodic: boolean;
  center: boolean;
}

function checkFraming(o: Record<string, unknown>): Framing {
  const nFft = o.nFft === undefined ? 2048 : checkFftSize(o.nFft, 'nFft');
  let winLength: number;
  const w = o.window ?? 'hann';
  if (w instanceof Float32Array) {
    winLength = o.winLength === undefined ? w.length : checkInt(o.winLength, 'winLength', 1, nFft);
    check(w.length === winLength, `window must have winLength = ${winLength} samples, got ${w.length}`, 'BAD_SHAPE');
    check(w.length <= nFft, `window has ${w.length} samples, more than nFft = ${nFft}`, 'BAD_SHAPE');
    checkFinite(w, 'window');
  } else {
    if (typeof w !== 'string') {
      const got = w === null ? 'null' : typeof w === 'object' ? (w as object).constructor?.name ?? 'object' : typeof w;
      throw new EarshotError('BAD_ARGUMENT', `window must be 'hann', 'hamming', 'rect' or a Float32Array, got ${got}`);
    }
    checkEnum(w, 'window', WINDOWS);
    winLength = o.winLength === undefined ? nFft : checkInt(o.winLength, 'winLength', 1, nFft);
  }
  const hop = o.hopLength === undefined ? Math.max(1, Math.floor(winLength / 4)) : checkInt(o.hopLength, 'hopLength', 1);
  return {
    nFft,
    hop,
    winLength,
    window: w as Float32Array | WindowName,
    periodic: checkBool(o.periodic, 'periodic', true),
    center: checkBool(o.center, 'center', true),
  };
}

/** Number of STFT frames for a signal of n samples under these options. */
export function stftFrameCount(n: number, options?: StftOptions): number {
  checkInt(n, 'n', 0);
  const o = checkOptions(options, 'stft options', STFT_KEYS);
  const f = checkFraming(o);
  if (f.center) return 1 + Math.floor(n / f.hop);
  return n < f.nFft ? 0 : Math.floor((n - f.nFft) / f.hop) + 1;
}

const STFT_KEYS = ['nFft', 'hopLength', 'winLength', 'window', 'periodic', 'center', 'padMode', 'output', 'nBins'];
const ISTFT_KEYS = ['nFft', 'hopLength', 'winLength', 'window', 'periodic', 'center', 'length'];

/** Write the window of the framing into a fresh scope block. */
function windowBlock(s: { f32(n: number): Block; copyIn(a: Float32Array): Block }, f: Framing): Block {
  if (f.window instanceof Float32Array) return s.copyIn(f.window);
  const b = s.f32(f.winLength);
  ex().windowFill(WINDOW_CODE[f.window], f.periodic ? 1 : 0, f.winLength, b.ptr);
  return b;
}

/**
 * Short-time Fourier transform (librosa.stft's conventions; see the module comment). Returns
 * frames × bins row-major: magnitude/power nFrames·nBins floats, complex 2·nFrames·nBins.
 */
export function stft(x: Float32Array, options?: StftOptions): StftResult {
  checkArray(x, Float32Array, 'x');
  const o = checkOptions(options, 'stft options', STFT_KEYS);
  const f = checkFraming(o);
  const padMode = o.padMode === undefined ? 'constant' : checkEnum(o.padMode, 'padMode', PAD_MODES);
  const output = o.output === undefined ? 'complex' : checkEnum(o.output, 'output', OUTPUTS);
  const full = f.nFft / 2 + 1;
  const nBins = o.nBins === undefined ? full : checkInt(o.nBins, 'nBins', 1, full);
  checkFinite(x, 'x');
  const n = x.length;
  const half = f.nFft / 2;
  if (f.center && padMode === 'reflect') {
    check(n > half, `padMode 'reflect' needs more than nFft/2 = ${half} samples, got ${n}; use padMode 'constant'`, 'BAD_SHAPE');
  }
  const nFrames = f.center ? 1 + Math.floor(n / f.hop) : n < f.nFft ? 0 : Math.floor((n - f.nFft) / f.hop) + 1;
  const per = output === 'complex' ? 2 * nBins : nBins;
  if (nFrames === 0) return { data: new Float32Array(0), nFrames: 0, nBins };
  const p = planFor(f.nFft);
  const c = core();
  return c.arena.scope((s) => {
    let sig: Block;
    if (!f.center) sig = s.copyIn(x);
    else {
      sig = s.f32(n + 2 * half);
      const v = sig.f32(n + 2 * half);
      v.set(x, half);
      if (padMode === 'constant') {
        v.fill(0, 0, half);
        v.fill(0, half + n);
      } else {
        for (let j = 1; j <= half; j++) {
          v[half - j] = reflectAt(x, j);
          v[half + n - 1 + j] = reflectAt(x, n - 1 - j);
        }
      }
    }
    const win = windowBlock(s, f);
    const out = s.f32(nFrames * per);
    ex().stftFrames(sig.ptr, nFrames, f.hop, win.ptr, f.winLength, f.nFft, MODE_CODE[output], nBins, out.ptr, p.plan.ptr, p.scratch.ptr);
    return { data: out.f32(nFrames * per).slice(), nFrames, nBins };
  });
}

/** numpy.pad 'reflect' index (edge not repeated), folding back and forth for long pads. */
function reflectAt(x: Float32Array, i: number): number {
  const n = x.length;
  if (n === 1) return x[0]!;
  const period = 2 * (n - 1);
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - k;
  return x[k]!;
}

/**
 * Inverse STFT (librosa.istft): `spec` is the complex output of `stft` with all nFft/2 + 1 bins
 * (an StftResult or its interleaved frames × bins data). Frame options must match the forward
 * call. Returns the signal: nFft + hop·(nFrames − 1) samples, minus nFft/2 at both ends when
 * `center`, or exactly `length` samples when given (zero-padded if the frames cover fewer).
 */
export function istft(spec: Float32Array | StftResult, options?: IstftOptions): Float32Array {
  const o = checkOptions(options, 'istft options', ISTFT_KEYS);
  const f = checkFraming(o);
  const full = f.nFft / 2 + 1;
  let data: Float32Array;
  let nFrames: number;
  if (spec instanceof Float32Array) {
    data = spec;
    check(data.length % (2 * full) === 0, `spec must hold whole frames of nFft/2 + 1 = ${full} complex bins (${2 * full} floats each), got ${data.length} floats`, 'BAD_SHAPE');
    nFrames = data.length / (2 * full);
  } else {
    check(spec !== null && typeof spec === 'object', `spec must be a Float32Array or an stft result, got ${spec === null ? 'null' : typeof spec}`);
    data = checkArray((spec as StftResult).data, Float32Array, 'spec.data');
    check((spec as StftResult).nBins === full, `spec.nBins must be nFft/2 + 1 = ${full} (the complex STFT with all bins), got ${String((spec as StftResult).nBins)}`, 'BAD_SHAPE');
    nFrames = checkInt((spec as StftResult).nFrames, 'spec.nFrames', 0);
    checkArray(data, Float32Array, 'spec.data', nFrames * 2 * full);
  }
  const length = o.length === undefined ? undefined : checkInt(o.length, 'length', 0);
  checkFinite(data, 'spec');
  const total = nFrames === 0 ? 0 : f.nFft + f.hop * (nFrames - 1);
  const start = f.center ? f.nFft / 2 : 0;
  const outLen = length ?? Math.max(0, f.center ? total - f.nFft : total);
  const result = new Float32Array(outLen);
  if (nFrames === 0 || outLen === 0) return result;
  const p = planFor(f.nFft);
  const c = core();
  return c.arena.scope((s) => {
    const sp = s.copyIn(data);
    const win = windowBlock(s, f);
    const out = s.f32(total);
    const wsum = s.f32(total);
    ex().istftFrames(sp.ptr, nFrames, f.hop, win.ptr, f.winLength, f.nFft, out.ptr, total, wsum.ptr, p.plan.ptr, p.scratch.ptr);
    const y = out.f32(total);
    const take = Math.min(outLen, total - start);
    if (take > 0) result.set(y.subarray(start, start + take));
    return result;
  });
}
