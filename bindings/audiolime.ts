/**
 * Sums of precomputed complex spectra → log-mel, over the kernel of assembly/audiolime.ts and the
 * sparse mel / log / z-score kernels of assembly/mel.ts. This is the fast path of audioLIME
 * (methods.md §5): a perturbed input is a sum of waveform components, the STFT is linear, so each
 * frame's spectrum is the sum of the components' spectra for that frame; summing them costs a
 * fraction of re-running the STFT on the summed waveform.
 *
 * `SpectraSum` keeps the spectra, the frame → entry table and the sparse filterbank in the arena
 * until `dispose()`; `logMel(bits, f0, f1)` computes frames f0 … f1 − 1 for one on/off row.
 */
import { EarshotError, check, checkArray, checkInt, checkNumber } from './errors.ts';
import { core, type Block } from './wasm.ts';

type Fn = (...a: number[]) => number;
const fn = (name: string): Fn => {
  const f = core().exports[name];
  if (typeof f !== 'function') throw new EarshotError('CORE_INCOMPLETE', `the earshot core has no export '${name}': rebuild it with \`npm run build:wasm\``);
  return f as Fn;
};

export interface SpectraSumOptions {
  /** d: number of components (length of every bit row). */
  components: number;
  /** Frames of the signal. */
  nFrames: number;
  /** Bins per spectrum (the bins the filterbank reads, e.g. nBinsUsed = 372). */
  nBins: number;
  /** Entries of frame f are frameStart[f] … frameStart[f + 1] − 1 (nFrames + 1 non-decreasing values, first 0). */
  frameStart: Int32Array;
  /** Component of each entry (values in [0, components)). */
  entryComponent: Int32Array;
  /** Each entry's spectrum: nBins real parts then nBins imaginary parts (entries × 2·nBins floats). */
  spectra: Float32Array;
  /** Dense filterbank, nMels × nBins row-major (melFilterbank with nBinsUsed = nBins). */
  filterbank: Float32Array;
  nMels: number;
  /** 'magnitude' |X| (default) or 'power' |X|² before the filterbank. */
  spectrum?: 'magnitude' | 'power';
  /** ln(max(mel, logFloor)); default 1e-7. */
  logFloor?: number;
  /** Per-band z-score after the log (both or neither). */
  mean?: Float32Array;
  std?: Float32Array;
}

const KEYS = ['components', 'nFrames', 'nBins', 'frameStart', 'entryComponent', 'spectra', 'filterbank', 'nMels', 'spectrum', 'logFloor', 'mean', 'std'];

export class SpectraSum {
  readonly d: number;
  readonly nFrames: number;
  readonly nBins: number;
  readonly nMels: number;
  private readonly power: number;
  private readonly floor: number;
  private blocks: Block[] = [];
  private start!: Block;
  private comp!: Block;
  private off!: Block;
  private spec!: Block;
  private spans!: Block;
  private weights!: Block;
  private mean: Block | null = null;
  private std: Block | null = null;
  private bits!: Block;
  private acc!: Block;
  private mag: Block | null = null;
  private mel: Block | null = null;
  private capacity = 0;
  private disposed = false;

  constructor(o: SpectraSumOptions) {
    if (o === null || typeof o !== 'object') throw new EarshotError('BAD_ARGUMENT', 'SpectraSum: options must be an object');
    for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw new EarshotError('BAD_ARGUMENT', `SpectraSum: unknown option '${k}' (known: ${KEYS.join(', ')})`);
    this.d = checkInt(o.components, 'SpectraSum.components', 1, 1 << 16);
    this.nFrames = checkInt(o.nFrames, 'SpectraSum.nFrames', 1, 1 << 24);
    this.nBins = checkInt(o.nBins, 'SpectraSum.nBins', 1, 1 << 16);
    this.nMels = checkInt(o.nMels, 'SpectraSum.nMels', 1, 4096);
    checkArray(o.frameStart, Int32Array, 'SpectraSum.frameStart', this.nFrames + 1);
    const E = o.frameStart[this.nFrames]!;
    check(o.frameStart[0] === 0, `SpectraSum.frameStart[0] must be 0, got ${o.frameStart[0]}`);
    for (let f = 0; f < this.nFrames; f++) {
      if (o.frameStart[f + 1]! < o.frameStart[f]!) throw new EarshotError('BAD_ARGUMENT', `SpectraSum.frameStart must be non-decreasing, frameStart[${f + 1}] = ${o.frameStart[f + 1]} < frameStart[${f}] = ${o.frameStart[f]}`);
    }
    checkArray(o.entryComponent, Int32Array, 'SpectraSum.entryComponent', E);
    for (let e = 0; e < E; e++) {
      const c = o.entryComponent[e]!;
      if (!(c >= 0 && c < this.d)) throw new EarshotError('BAD_ARGUMENT', `SpectraSum.entryComponent[${e}] = ${c} is not a component in [0, ${this.d})`);
    }
    checkArray(o.spectra, Float32Array, 'SpectraSum.spectra (entries × 2·nBins)', E * 2 * this.nBins);
    for (let i = 0; i < o.spectra.length; i++) {
      const v = o.spectra[i]!;
      if (v - v !== 0) throw new EarshotError('NOT_FINITE', `SpectraSum.spectra[${i}] is ${v}; spectra must be finite`);
    }
    checkArray(o.filterbank, Float32Array, 'SpectraSum.filterbank (nMels × nBins)', this.nMels * this.nBins);
    const spectrum = o.spectrum ?? 'magnitude';
    if (spectrum !== 'magnitude' && spectrum !== 'power') throw new EarshotError('BAD_ARGUMENT', `SpectraSum.spectrum must be 'magnitude' or 'power', got ${JSON.stringify(spectrum)}`);
    this.power = spectrum === 'power' ? 1 : 0;
    this.floor = checkNumber(o.logFloor ?? 1e-7, 'SpectraSum.logFloor', 1.1754943508222875e-38, 1);
    if ((o.mean === undefined) !== (o.std === undefined)) throw new EarshotError('BAD_ARGUMENT', 'SpectraSum: give both mean and std (per-band z-score) or neither');
    if (o.mean !== undefined) {
      checkArray(o.mean, Float32Array, 'SpectraSum.mean', this.nMels);
      checkArray(o.std!, Float32Array, 'SpectraSum.std', this.nMels);
      for (let b = 0; b < this.nMels; b++) {
        if (!Number.isFinite(o.mean[b]!) || !(o.std![b]! > 0)) throw new EarshotError('BAD_ARGUMENT', `SpectraSum: band ${b} needs a finite mean and std > 0, got ${o.mean[b]}, ${o.std![b]}`);
      }
    }
    const a = core().arena;
    const keep = (b: Block) => (this.blocks.push(b), b);
    try {
      this.start = keep(a.copyIn(o.frameStart));
      this.comp = keep(a.copyIn(E ? o.entryComponent : new Int32Array(1)));
      const off = new Int32Array(Math.max(1, E));
      for (let e = 0; e < E; e++) off[e] = e * 2 * this.nBins;
      this.off = keep(a.copyIn(off));
      this.spec = keep(a.copyIn(E ? o.spectra : new Float32Array(1)));
      const fb = a.copyIn(o.filterbank);
      try {
        const nnz = fn('melSparseCount')(fb.ptr, this.nMels, this.nBins, this.nBins);
        this.spans = keep(a.allocI32(3 * this.nMels));
        this.weights = keep(a.allocF32(Math.max(1, nnz)));
        fn('melSparsify')(fb.ptr, this.nMels, this.nBins, this.nBins, this.spans.ptr, this.weights.ptr);
      } finally {
        fb.free();
      }
      if (o.mean) {
        this.mean = keep(a.copyIn(o.mean));
        this.std = keep(a.copyIn(o.std!));
      }
      this.bits = keep(a.alloc(this.d));
      this.acc = keep(a.allocF32(2 * this.nBins + 8));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  private ensure(frames: number): void {
    if (frames <= this.capacity) return;
    const a = core().arena;
    if (this.mag) this.mag.free();
    if (this.mel) this.mel.free();
    this.mag = null;
    this.mel = null;
    this.mag = a.allocF32(frames * this.nBins);
    this.mel = a.allocF32(frames * this.nMels);
    this.capacity = frames;
  }

  /**
   * Log-mel (z-scored when mean/std were given) of frames f0 … f1 − 1 of the sum of the
   * components whose bit is non-zero: (f1 − f0) × nMels floats, into `out` when given.
   */
  logMel(bits: Uint8Array, f0: number, f1: number, out?: Float32Array): Float32Array {
    if (this.disposed) throw new EarshotError('DISPOSED', 'SpectraSum: this instance was disposed');
    checkArray(bits, Uint8Array, 'SpectraSum.logMel: bits', this.d);
    checkInt(f0, 'SpectraSum.logMel: f0', 0, this.nFrames - 1);
    checkInt(f1, 'SpectraSum.logMel: f1', f0 + 1, this.nFrames);
    const n = f1 - f0;
    const size = n * this.nMels;
    if (out !== undefined) {
      checkArray(out, Float32Array, 'SpectraSum.logMel: out');
      if (out.length < size) throw new EarshotError('BAD_SHAPE', `SpectraSum.logMel: out must hold (f1 − f0) × nMels = ${size} floats, got ${out.length}`);
    }
    this.ensure(n);
    this.bits.u8(this.d).set(bits);
    const mag = this.mag!;
    const mel = this.mel!;
    fn('audiolimeSumMagnitude')(this.bits.ptr, f0, f1, this.start.ptr, this.comp.ptr, this.off.ptr, this.spec.ptr, this.nBins, this.power, mag.ptr, this.nBins, this.acc.ptr);
    fn('melApplySparse')(mag.ptr, n, this.nBins, this.nMels, this.spans.ptr, this.weights.ptr, mel.ptr);
    fn('melLogFloor')(mel.ptr, mel.ptr, size, this.floor);
    if (this.mean) fn('melZScore')(mel.ptr, mel.ptr, n, this.nMels, this.mean.ptr, this.std!.ptr);
    const dst = out ? out.subarray(0, size) : new Float32Array(size);
    dst.set(mel.f32(size));
    return dst;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.mag) this.mag.free();
    if (this.mel) this.mel.free();
    this.mag = this.mel = null;
    for (let i = this.blocks.length - 1; i >= 0; i--) this.blocks[i]!.free();
    this.blocks = [];
  }
}
