/**
 * Spectrogram components of a T×F excerpt (methods.md §4; SLIME, Mishra et al. 2017/2020; the
 * 5 × 4 grid of Praher et al. 2021): temporal, spectral and time-frequency grids, or user
 * rectangles. Grid convention: hop = L // blocks, the remainder goes to the LAST block; for a
 * grid, component index = F_blocks·t + f. Names: "t3" (temporal), "f7" (spectral), "t2f1"
 * (time-frequency), "r4" (rectangles).
 *
 * `compose` writes perturbed excerpts with the wasm occlusion kernel (bindings/lime.ts,
 * prepareOcclusion): the excerpt, label map and content stay in the core's arena for all batches.
 */
import { EarshotError, checkArray, checkInt } from '../../bindings/errors.ts';
import { gridLabels, prepareOcclusion, rectsToLabels, type PreparedOcclusion, type Rect } from '../../bindings/lime.ts';
import type { Components, ComponentLayout } from './types.ts';

/** SoundLIME 2017: 6 time × 4 frequency blocks (19,19,19,19,19,20 frames × 20 bands on 115 × 80). */
export const SOUNDLIME_GRID = Object.freeze({ time: 6, freq: 4 });
/** Praher et al. (001): 5 × 4 = 20 segments (23 frames × 20 bands on 115 × 80). */
export const VERACITY_GRID = Object.freeze({ time: 5, freq: 4 });

export type SpectrogramSegmentation =
  | { kind: 'temporal'; d?: number }
  | { kind: 'spectral'; d?: number }
  | { kind: 'tf'; time?: number; freq?: number }
  | { kind: 'rects'; rects: readonly Rect[] };

/** Components over a spectrogram excerpt, plus a zero-copy `composeView` for the explain loop. */
export interface SpectrogramComponents extends Components {
  layout: Extract<ComponentLayout, { kind: 'spectrogram' }>;
  /**
   * Perturb into the arena and return a view of it (no copy): valid until the next compose, the
   * next earshot arena allocation or dispose. `dispose()` frees the arena memory; a later
   * compose prepares it again.
   */
  composeView(bits: Uint8Array, n: number): Float32Array;
}

/** The label map, component count, names and layout of a segmentation (no excerpt needed). */
export function segmentationLayout(T: number, F: number, seg: SpectrogramSegmentation): { labels: Int32Array; d: number; names: string[]; layout: Extract<ComponentLayout, { kind: 'spectrogram' }> } {
  checkInt(T, 'T (frames)');
  checkInt(F, 'F (bands)');
  if (seg === null || typeof seg !== 'object') throw new EarshotError('BAD_ARGUMENT', `segmentation must be an object with a kind, got ${String(seg)}`);
  const shape: [number, number] = [T, F];
  switch (seg.kind) {
    case 'temporal': {
      const d = checkInt(seg.d ?? 10, 'numComponents (temporal segments)', 1, T);
      const labels = gridLabels(T, F, { time: d, freq: 1 });
      return { labels, d, names: Array.from({ length: d }, (_, i) => `t${i}`), layout: { kind: 'spectrogram', shape, labels, segmentation: 'temporal', grid: { time: d, freq: 1 } } };
    }
    case 'spectral': {
      const d = checkInt(seg.d ?? 10, 'numComponents (spectral segments)', 1, F);
      const labels = gridLabels(T, F, { time: 1, freq: d });
      return { labels, d, names: Array.from({ length: d }, (_, i) => `f${i}`), layout: { kind: 'spectrogram', shape, labels, segmentation: 'spectral', grid: { time: 1, freq: d } } };
    }
    case 'tf': {
      const nT = checkInt(seg.time ?? VERACITY_GRID.time, 'grid.time (time blocks)', 1, T);
      const nF = checkInt(seg.freq ?? VERACITY_GRID.freq, 'grid.freq (frequency blocks)', 1, F);
      const labels = gridLabels(T, F, { time: nT, freq: nF });
      const names: string[] = [];
      for (let t = 0; t < nT; t++) for (let f = 0; f < nF; f++) names.push(`t${t}f${f}`);
      return { labels, d: nT * nF, names, layout: { kind: 'spectrogram', shape, labels, segmentation: 'time-frequency', grid: { time: nT, freq: nF } } };
    }
    case 'rects': {
      const labels = rectsToLabels(T, F, seg.rects);
      const d = seg.rects.length;
      return { labels, d, names: Array.from({ length: d }, (_, i) => `r${i}`), layout: { kind: 'spectrogram', shape, labels, segmentation: 'custom' } };
    }
    default:
      throw new EarshotError('BAD_ARGUMENT', `segmentation must be 'temporal', 'spectral', 'tf' or { rects }, got ${JSON.stringify((seg as { kind?: unknown }).kind)}`);
  }
}

/**
 * d components over the excerpt x (T·F f32, rows = time) with replacement content R (a scalar or
 * a T·F array, content.ts).
 */
export function spectrogramComponents(x: Float32Array, shape: readonly [number, number], seg: SpectrogramSegmentation, content: number | Float32Array): SpectrogramComponents {
  const [T, F] = shape;
  const { labels, d, names, layout } = segmentationLayout(T, F, seg);
  checkArray(x, Float32Array, `excerpt (T·F = ${T}·${F})`, T * F);
  const xs = x.slice();
  const R = typeof content === 'number' ? content : content.slice();
  // prepared lazily and re-prepared after dispose: an Explanation keeps its components (for
  // renderers) without holding arena memory
  let prepared: PreparedOcclusion | null = prepareOcclusion(xs, [T, F], { labels, d }, R);
  const alive = (): PreparedOcclusion => (prepared ??= prepareOcclusion(xs, [T, F], { labels, d }, R));
  return {
    d,
    names,
    layout,
    inputSize: T * F,
    compose(bits, n, out) {
      alive().run(bits, n, out);
    },
    composeView(bits, n) {
      return alive().runView(bits, n);
    },
    dispose() {
      prepared?.dispose();
      prepared = null;
    },
  };
}
