/**
 * Forward and backward (adjoint) of the fused log-mel front end (methods.md §1) over the kernels
 * of assembly/mel.ts (`melFrontEnd`, forward) and assembly/frontend_grad.ts (`frontEndBackward`,
 * backward), for waveform-domain gradients (methods.md §6 attacks) and the differentiable TF.js
 * op of src/frontend/differentiable.ts. The math of the adjoint is in docs/frontend-grad.md.
 *
 * Only the magnitude spectrum with a window of nFft samples is differentiated (the SVD front end);
 * the backward pass recomputes the forward FFT, so a kernel holds no per-signal state.
 */
import { EarshotError, check, checkArray, checkEnum, checkInt, checkNumber } from './errors.ts';
import { melFilterbank, type MelSpectrogramOptions } from './mel.ts';
import { core, type Block } from './wasm.ts';

type Fn = (...a: number[]) => number;
const fn = (name: string): Fn => {
  const f = core().exports[name];
  if (typeof f !== 'function') {
    throw new EarshotError('CORE_INCOMPLETE', `the earshot core has no export '${name}': rebuild it with \`npm run build:wasm\``);
  }
  return f as Fn;
};

const KEYS = ['sampleRate', 'nFft', 'nMels', 'fMin', 'fMax', 'scale', 'construction', 'norm', 'nBinsUsed',
  'hop', 'window', 'periodic', 'spectrum', 'logFloor', 'mean', 'std'] as const;

/** NaN/∞ scan of a block in the arena. */
function checkFiniteBlock(b: Block, n: number, name: string): void {
  const at = fn('melFirstNonFinite')(b.ptr, n);
  if (at >= 0) {
    const v = new Float32Array(core().memory.buffer, b.ptr, n)[at];
    throw new EarshotError('NOT_FINITE', `${name}[${at}] is ${v}; inputs must be finite`);
  }
}

/**
 * The prepared state (sparse filterbank, window, FFT plan, stats, scratch) of one front end, kept
 * in the arena; `forward` gives melSpectrogram's values, `backward` the gradient of Σ dY ⊙ Y with
 * respect to the signal. Free it with `dispose()`.
 */
export class FrontEndGradKernel {
  readonly nMels: number;
  readonly nFft: number;
  readonly hop: number;
  readonly nBinsUsed: number;
  readonly logFloor: number;
  private blocks: Block[] = [];
  private spans = 0;
  private weights = 0;
  private win = 0;
  private plan = 0;
  private scratch = 0;
  private row = 0;
  private work = 0;
  private mean = 0;
  private std = 0;
  private disposed = false;

  constructor(options: MelSpectrogramOptions) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new EarshotError('BAD_ARGUMENT', `FrontEndGradKernel options must be an options object, got ${options === null ? 'null' : typeof options}`);
    }
    const o = options as unknown as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!(KEYS as readonly string[]).includes(k)) throw new EarshotError('BAD_ARGUMENT', `FrontEndGradKernel: unknown option '${k}' (known: ${KEYS.join(', ')})`);
    }
    const spectrum = checkEnum(o.spectrum ?? 'magnitude', 'FrontEndGradKernel.spectrum', ['magnitude'] as const);
    void spectrum;
    const window = checkEnum(o.window ?? 'hann', 'FrontEndGradKernel.window', ['hann', 'hamming', 'rect'] as const);
    if (o.periodic !== undefined && typeof o.periodic !== 'boolean') {
      throw new EarshotError('BAD_ARGUMENT', `FrontEndGradKernel.periodic must be a boolean, got ${typeof o.periodic}`);
    }
    this.hop = checkInt(o.hop, 'FrontEndGradKernel.hop', 1, 1 << 24);
    this.logFloor = checkNumber(o.logFloor ?? 1e-7, 'FrontEndGradKernel.logFloor', 1.1754943508222875e-38, 3.4e38);
    // melFilterbank validates every filterbank option and returns nMels × nBinsUsed
    const fb = melFilterbank({
      sampleRate: o.sampleRate as number, nFft: o.nFft as number, nMels: o.nMels as number, fMin: o.fMin as number,
      fMax: o.fMax as number, scale: o.scale as never, construction: o.construction as never, norm: o.norm as never,
      nBinsUsed: o.nBinsUsed as number | undefined,
    });
    this.nFft = o.nFft as number;
    this.nMels = o.nMels as number;
    this.nBinsUsed = fb.length / this.nMels;
    if (fn('fftPlanBytes')(this.nFft) === 0) {
      throw new EarshotError('BAD_ARGUMENT', `FrontEndGradKernel.nFft must be a power of two in [64, 16384] for the FFT, got ${this.nFft}`);
    }
    if ((o.mean === undefined) !== (o.std === undefined)) {
      throw new EarshotError('BAD_ARGUMENT', 'FrontEndGradKernel: give both mean and std (per-band z-score) or neither');
    }
    if (o.mean !== undefined) checkStats(o.mean, o.std, this.nMels, 'FrontEndGradKernel');
    for (const name of ['melFrontEnd', 'frontEndBackward', 'frontEndGradWorkFloats', 'melSparsify', 'windowFill']) fn(name);
    const a = core().arena;
    const keep = (b: Block): Block => {
      this.blocks.push(b);
      return b;
    };
    try {
      a.scope((s) => {
        const dense = s.copyIn(fb);
        const nnz = fn('melSparseCount')(dense.ptr, this.nMels, this.nBinsUsed, this.nBinsUsed);
        this.spans = keep(a.allocI32(3 * this.nMels)).ptr;
        this.weights = keep(a.allocF32(Math.max(1, nnz))).ptr;
        fn('melSparsify')(dense.ptr, this.nMels, this.nBinsUsed, this.nBinsUsed, this.spans, this.weights);
      });
      this.win = keep(a.allocF32(this.nFft)).ptr;
      fn('windowFill')(window === 'hann' ? 0 : window === 'hamming' ? 1 : 2, o.periodic === true ? 1 : 0, this.nFft, this.win);
      this.plan = keep(a.alloc(fn('fftPlanBytes')(this.nFft))).ptr;
      fn('fftPlanInit')(this.nFft, this.plan);
      this.scratch = keep(a.alloc(fn('fftScratchBytes')(this.nFft))).ptr;
      this.row = keep(a.alloc(fn('melRowScratchBytes')(this.nBinsUsed))).ptr;
      this.work = keep(a.allocF32(fn('frontEndGradWorkFloats')(this.nFft, this.nBinsUsed, this.nMels))).ptr;
      if (o.mean !== undefined) {
        this.mean = keep(a.copyIn(o.mean as Float32Array)).ptr;
        this.std = keep(a.copyIn(o.std as Float32Array)).ptr;
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Frames of a signal of n samples (none if n < nFft). */
  frames(n: number): number {
    return n < this.nFft ? 0 : Math.floor((n - this.nFft) / this.hop) + 1;
  }

  private checkSignal(signal: unknown, where: string): number {
    if (this.disposed) throw new EarshotError('DISPOSED', `${where}: this front end was disposed`);
    const sig = checkArray(signal, Float32Array, `${where}: signal`);
    const nFrames = this.frames(sig.length);
    if (nFrames === 0) {
      throw new EarshotError('TOO_SHORT', `${where}: the signal has ${sig.length} samples, fewer than one frame of nFft = ${this.nFft}`);
    }
    return nFrames;
  }

  /** Y = the (z-scored, if mean/std were given) log-mel of `signal`, nFrames × nMels row-major. */
  forward(signal: Float32Array): Float32Array {
    const nFrames = this.checkSignal(signal, 'FrontEndGradKernel.forward');
    const size = nFrames * this.nMels;
    return core().arena.scope((s) => {
      const sig = s.copyIn(signal);
      checkFiniteBlock(sig, signal.length, 'FrontEndGradKernel.forward: signal');
      const out = s.f32(size);
      fn('melFrontEnd')(
        sig.ptr, signal.length, this.hop, this.win, this.nFft, this.nFft, this.nBinsUsed, 0,
        this.nMels, this.spans, this.weights, this.logFloor, this.mean, this.std,
        out.ptr, this.row, this.plan, this.scratch,
      );
      return out.f32(size).slice();
    });
  }

  /** dL/dsignal (signal.length floats) given dL/dY (nFrames × nMels). */
  backward(signal: Float32Array, dY: Float32Array): Float32Array {
    const nFrames = this.checkSignal(signal, 'FrontEndGradKernel.backward');
    checkArray(dY, Float32Array, 'FrontEndGradKernel.backward: dY', nFrames * this.nMels);
    return core().arena.scope((s) => {
      const sig = s.copyIn(signal);
      checkFiniteBlock(sig, signal.length, 'FrontEndGradKernel.backward: signal');
      const g = s.copyIn(dY);
      checkFiniteBlock(g, dY.length, 'FrontEndGradKernel.backward: dY');
      const out = s.f32(signal.length);
      fn('frontEndBackward')(
        sig.ptr, signal.length, this.hop, this.win, this.nFft, this.nBinsUsed,
        this.nMels, this.spans, this.weights, this.logFloor, this.std,
        g.ptr, out.ptr, this.work, this.plan, this.scratch,
      );
      return out.f32(signal.length).slice();
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let i = this.blocks.length - 1; i >= 0; i--) this.blocks[i]!.free();
    this.blocks = [];
  }
}

function checkStats(meanV: unknown, stdV: unknown, nMels: number, where: string): void {
  const mean = checkArray(meanV, Float32Array, `${where}: mean`, nMels);
  const std = checkArray(stdV, Float32Array, `${where}: std`, nMels);
  for (let i = 0; i < nMels; i++) {
    if (!Number.isFinite(mean[i])) throw new EarshotError('NOT_FINITE', `${where}: mean[${i}] is ${mean[i]}; inputs must be finite`);
    if (!(Number.isFinite(std[i]) && std[i]! > 0)) {
      throw new EarshotError('BAD_ARGUMENT', `${where}: std[${i}] is ${std[i]}; every std must be finite and > 0`);
    }
  }
}

/**
 * The adjoint of the real FFT of n samples restricted to its first nBins bins: `grad` holds nBins
 * interleaved (re, im) cotangents of X = rfft(x); returns ∂⟨X, G⟩/∂x (n floats), so that
 * ⟨rfft(x)[:nBins], G⟩ = ⟨x, rfftAdjoint(G, n)⟩ for every real x.
 */
export function rfftAdjoint(grad: Float32Array, n: number): Float32Array {
  checkArray(grad, Float32Array, 'rfftAdjoint: grad');
  checkInt(n, 'rfftAdjoint: n', 64, 16384);
  check(fn('fftPlanBytes')(n) !== 0, `rfftAdjoint: n must be a power of two in [64, 16384], got ${n}`);
  check(grad.length % 2 === 0 && grad.length >= 2 && grad.length <= n + 2,
    `rfftAdjoint: grad must hold 1 … n/2 + 1 = ${n / 2 + 1} interleaved (re, im) bins, got ${grad.length} floats`, 'BAD_SHAPE');
  return core().arena.scope((s) => {
    const g = s.copyIn(grad);
    checkFiniteBlock(g, grad.length, 'rfftAdjoint: grad');
    const plan = s.alloc(fn('fftPlanBytes')(n));
    fn('fftPlanInit')(n, plan.ptr);
    const scratch = s.alloc(fn('fftScratchBytes')(n));
    const spec = s.f32(n + 2);
    const out = s.f32(n);
    fn('rfftAdjoint')(plan.ptr, n, g.ptr, grad.length / 2, out.ptr, spec.ptr, scratch.ptr);
    return out.f32(n).slice();
  });
}
