// Polyphase FIR resampling by a rational factor up/down: the inner loop of
// scipy.signal.resample_poly (upsample by `up`, low-pass FIR, keep every `down`-th sample) done
// without ever forming the upsampled signal (Crochiere & Rabiner, "Multirate Digital Signal
// Processing", 1983, §3.3). The host designs the filter and lays it out per phase
// (bindings/resample.ts); this kernel only runs the dot products, four taps at a time (f32x4).

/**
 * Output k (k = 0 … nOut−1) is the dot product of phase table r_k (tapsPerPhase taps, a multiple
 * of 4, zero-padded) with x[i_k … i_k + tapsPerPhase). Phase and start advance by `down` on the
 * upsampled grid per output: r += down; i += r / up; r %= up (done incrementally: no overflow
 * for any signal length).
 *
 * @param x            input window (f32), at least i_last + tapsPerPhase samples
 * @param taps         phase tables (f32), `up` rows of tapsPerPhase taps, row r = phase r
 * @param tapsPerPhase taps per row, a positive multiple of 4
 * @param up           interpolation factor (number of phases), ≥ 1
 * @param down         decimation factor, ≥ 1
 * @param phase0       phase of the first output, in [0, up)
 * @param nOut         number of outputs
 * @param out          output (f32), nOut samples
 */
export function resamplePoly(
  x: usize,
  taps: usize,
  tapsPerPhase: i32,
  up: i32,
  down: i32,
  phase0: i32,
  nOut: i32,
  out: usize,
): void {
  const stepWhole = down / up;
  const stepFrac = down % up;
  const rowBytes = (<usize>tapsPerPhase) << 2;
  let r = phase0;
  let start: usize = x;
  for (let k = 0; k < nOut; k++) {
    let h = taps + (<usize>r) * rowBytes;
    let p = start;
    const end = h + rowBytes;
    let acc = f32x4.splat(0);
    while (h < end) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(h), v128.load(p)));
      h += 16;
      p += 16;
    }
    const s =
      f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    store<f32>(out + ((<usize>k) << 2), s);
    r += stepFrac;
    let adv = stepWhole;
    if (r >= up) {
      r -= up;
      adv++;
    }
    start += (<usize>adv) << 2;
  }
}
