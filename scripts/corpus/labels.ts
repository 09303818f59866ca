// Frame-level voice labels from an isolated vocal stem, on the front end's frame grid
// (methods.md §1: frame i covers samples [315·i, 315·i + 1024) of the mix, no centring;
// frame count (n − 1024) // 315 + 1, none if n < 1024). A frame is "voice" when the mean
// square of the vocal stem over the frame reaches `thresholdDb` below the stem's active level
// (the median mean square of the frames that contain any vocal energy), so quiet consonants
// and phrase ends count and reverb tails fade out of the label. Gaps of at most `fillGapFrames`
// between voiced frames are closed, as annotators of sung phrases do (the Jamendo labels that
// the reference detector was trained on mark whole phrases, not syllables).

export const FRAME_LENGTH = 1024;
export const HOP = 315;

export interface LabelOptions {
  /** Frame length in samples (default 1024). */
  frameLength?: number;
  /** Hop in samples (default 315). */
  hop?: number;
  /** Threshold relative to the active level, in dB (default −25). */
  thresholdDb?: number;
  /** Close unvoiced runs of at most this many frames between voiced frames (default 7 ≈ 0.1 s). */
  fillGapFrames?: number;
  /** Frames whose mean square is below this absolute floor never count as active (default 1e-10). */
  floor?: number;
}

export function frameCount(n: number, frameLength = FRAME_LENGTH, hop = HOP): number {
  return n < frameLength ? 0 : Math.floor((n - frameLength) / hop) + 1;
}

/** Mean square of each frame, by a running sum of squares (f64). */
export function frameEnergies(x: Float32Array, frameLength = FRAME_LENGTH, hop = HOP): Float64Array {
  const nf = frameCount(x.length, frameLength, hop);
  const cum = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) cum[i + 1] = cum[i]! + x[i]! * x[i]!;
  const e = new Float64Array(nf);
  for (let f = 0; f < nf; f++) {
    const a = f * hop;
    e[f] = Math.max(0, cum[a + frameLength]! - cum[a]!) / frameLength;
  }
  return e;
}

/** 0/1 voice label per frame of a vocal stem; see the module comment for the rule. */
export function frameLabels(vocal: Float32Array, opts: LabelOptions = {}): Uint8Array {
  const frameLength = opts.frameLength ?? FRAME_LENGTH;
  const hop = opts.hop ?? HOP;
  const thresholdDb = opts.thresholdDb ?? -25;
  const fill = opts.fillGapFrames ?? 7;
  const floor = opts.floor ?? 1e-10;
  const e = frameEnergies(vocal, frameLength, hop);
  const labels = new Uint8Array(e.length);
  const active = Array.from(e).filter((v) => v > floor).sort((a, b) => a - b);
  if (active.length === 0) return labels;
  const mid = active.length >> 1;
  const level = active.length % 2 === 1 ? active[mid]! : 0.5 * (active[mid - 1]! + active[mid]!);
  const thr = Math.max(floor, level * 10 ** (thresholdDb / 10));
  for (let f = 0; f < e.length; f++) labels[f] = e[f]! >= thr ? 1 : 0;
  if (fill > 0) {
    let last = -1;
    for (let f = 0; f < labels.length; f++) {
      if (labels[f] !== 1) continue;
      if (last >= 0 && f - last - 1 > 0 && f - last - 1 <= fill) labels.fill(1, last + 1, f);
      last = f;
    }
  }
  return labels;
}

/** Runs of 1s as [start, end) frame index pairs. */
export function labelRuns(labels: Uint8Array): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = -1;
  for (let f = 0; f <= labels.length; f++) {
    const on = f < labels.length && labels[f] === 1;
    if (on && start < 0) start = f;
    if (!on && start >= 0) {
      runs.push([start, f]);
      start = -1;
    }
  }
  return runs;
}
