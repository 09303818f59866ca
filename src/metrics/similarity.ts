/**
 * How alike two attribution maps are, for the cascading model-randomisation sanity check
 * (Adebayo et al. 2018, "Sanity checks for saliency maps"; L-MAC §3.4 uses SSIM): the
 * structural similarity index (SSIM; Wang et al. 2004) with scikit-image's defaults and the
 * Spearman rank correlation (Adebayo et al. compare absolute values).
 */
import { EarshotError, checkInt, checkNumber } from '../../bindings/errors.ts';

export interface SsimOptions {
  /** Side of the square uniform window (odd, ≥ 3; default 7 as skimage). */
  winSize?: number;
  /** The range of the data (default 1: masks in [0, 1]). */
  dataRange?: number;
}

/**
 * Mean SSIM of two H × W maps exactly as skimage.metrics.structural_similarity(x, y,
 * data_range=R) computes it with its defaults: uniform 7 × 7 windows, sample covariance
 * (N/(N−1)), K1 = 0.01, K2 = 0.03, averaged over the pixels whose window lies inside the map.
 */
export function ssim(x: ArrayLike<number>, y: ArrayLike<number>, h: number, w: number, options: SsimOptions = {}): number {
  checkInt(h, 'ssim: height', 1);
  checkInt(w, 'ssim: width', 1);
  const win = checkInt(options.winSize ?? 7, 'ssim: winSize', 3);
  if (win % 2 === 0) throw new EarshotError('BAD_ARGUMENT', `ssim: winSize must be odd, got ${win}`);
  if (win > h || win > w) throw new EarshotError('BAD_SHAPE', `ssim: winSize ${win} is larger than the ${h}×${w} map`);
  const R = checkNumber(options.dataRange ?? 1, 'ssim: dataRange', Number.MIN_VALUE);
  if (x.length !== h * w || y.length !== h * w) throw new EarshotError('BAD_SHAPE', `ssim: maps must hold ${h}×${w} = ${h * w} values, got ${x.length} and ${y.length}`);
  // integral images of x, y, x², y², xy ((h+1) × (w+1))
  const W1 = w + 1;
  const I = Array.from({ length: 5 }, () => new Float64Array((h + 1) * W1));
  for (let i = 0; i < h; i++) {
    const r = [0, 0, 0, 0, 0];
    for (let j = 0; j < w; j++) {
      const a = x[i * w + j]!;
      const b = y[i * w + j]!;
      if (!Number.isFinite(a) || !Number.isFinite(b)) throw new EarshotError('NOT_FINITE', `ssim: value at (${i}, ${j}) is not finite`);
      r[0] += a;
      r[1] += b;
      r[2] += a * a;
      r[3] += b * b;
      r[4] += a * b;
      for (let k = 0; k < 5; k++) I[k]![(i + 1) * W1 + j + 1] = I[k]![i * W1 + j + 1]! + r[k]!;
    }
  }
  const pad = (win - 1) >> 1;
  const np = win * win;
  const covNorm = np / (np - 1);
  const C1 = (0.01 * R) ** 2;
  const C2 = (0.03 * R) ** 2;
  let sum = 0;
  let count = 0;
  const box = (k: number, i0: number, j0: number) => {
    const t = I[k]!;
    return (t[(i0 + win) * W1 + j0 + win]! - t[i0 * W1 + j0 + win]! - t[(i0 + win) * W1 + j0]! + t[i0 * W1 + j0]!) / np;
  };
  for (let i = pad; i < h - pad; i++) {
    for (let j = pad; j < w - pad; j++) {
      const ux = box(0, i - pad, j - pad);
      const uy = box(1, i - pad, j - pad);
      const vx = covNorm * (box(2, i - pad, j - pad) - ux * ux);
      const vy = covNorm * (box(3, i - pad, j - pad) - uy * uy);
      const vxy = covNorm * (box(4, i - pad, j - pad) - ux * uy);
      sum += ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
      count++;
    }
  }
  return sum / count;
}

/** Average ranks (1-based), ties sharing their mean rank (scipy.stats.rankdata 'average'). */
export function rankdata(a: ArrayLike<number>): Float64Array {
  const n = a.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((p, q) => a[p]! - a[q]!);
  const r = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && a[idx[j + 1]!] === a[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]!] = rank;
    i = j + 1;
  }
  return r;
}

/** Pearson correlation; NaN when either side is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n || n < 2) throw new EarshotError('BAD_SHAPE', `pearson: needs two arrays of the same length ≥ 2, got ${n} and ${b.length}`);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Spearman's rank correlation (scipy.stats.spearmanr): Pearson of the average ranks. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (!a || !b || a.length !== b.length) throw new EarshotError('BAD_SHAPE', `spearman: needs two arrays of the same length, got ${a?.length} and ${b?.length}`);
  return pearson(rankdata(a), rankdata(b));
}
