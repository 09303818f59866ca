// audioLIME's fast spectral path (Haunschmid et al. 2020; methods.md §5): a perturbed input is
// the sum of its "on" components in the waveform domain, and the STFT is linear, so the spectrum
// of every frame of that sum is the sum of the components' precomputed complex spectra for that
// frame. This kernel adds, per frame, the spectra of the selected components that touch it and
// takes the magnitude (or power); the mel filterbank, log and z-score of ./mel finish the front
// end. Allocation-free: the host passes every buffer.
//
// Layout: frame f has entries e in [start[f], start[f + 1]); entry e belongs to component
// comp[e] and its spectrum is nBins real parts followed by nBins imaginary parts at float offset
// off[e] of `spec`. bits holds one byte per component (non-zero = on).

/**
 * For frames f0 … f1 − 1: acc = Σ_{e of f, bits[comp[e]] ≠ 0} spec_e, then
 * out[(f − f0)·outStride + k] = |acc_k| (power = 0) or |acc_k|² (power = 1) for k < nBins.
 * acc is scratch of 2·nBins floats. A frame with no selected entry gets zeros.
 */
export function audiolimeSumMagnitude(
  bits: usize, f0: i32, f1: i32, start: usize, comp: usize, off: usize, spec: usize, nBins: i32, power: i32,
  out: usize, outStride: i32, acc: usize,
): void {
  const n2 = nBins << 1;
  const zero = f32x4.splat(0);
  for (let f = f0; f < f1; f++) {
    const e0 = load<i32>(start + (<usize>f << 2));
    const e1 = load<i32>(start + (<usize>(f + 1) << 2));
    let k = 0;
    for (; k + 4 <= n2; k += 4) v128.store(acc + (<usize>k << 2), zero);
    for (; k < n2; k++) store<f32>(acc + (<usize>k << 2), 0);
    for (let e = e0; e < e1; e++) {
      const c = load<i32>(comp + (<usize>e << 2));
      if (load<u8>(bits + <usize>c) == 0) continue;
      const src = spec + (<usize>load<i32>(off + (<usize>e << 2)) << 2);
      let j = 0;
      for (; j + 8 <= n2; j += 8) {
        const a = acc + (<usize>j << 2);
        const s = src + (<usize>j << 2);
        v128.store(a, f32x4.add(v128.load(a), v128.load(s)));
        v128.store(a, f32x4.add(v128.load(a, 16), v128.load(s, 16)), 16);
      }
      for (; j < n2; j++) {
        const a = acc + (<usize>j << 2);
        store<f32>(a, load<f32>(a) + load<f32>(src + (<usize>j << 2)));
      }
    }
    const o = out + (<usize>(f - f0) * <usize>outStride << 2);
    const im = acc + (<usize>nBins << 2);
    let b = 0;
    for (; b + 4 <= nBins; b += 4) {
      const r = v128.load(acc + (<usize>b << 2));
      const i = v128.load(im + (<usize>b << 2));
      const p = f32x4.add(f32x4.mul(r, r), f32x4.mul(i, i));
      v128.store(o + (<usize>b << 2), power != 0 ? p : f32x4.sqrt(p));
    }
    for (; b < nBins; b++) {
      const r = load<f32>(acc + (<usize>b << 2));
      const i = load<f32>(im + (<usize>b << 2));
      const p = r * r + i * i;
      store<f32>(o + (<usize>b << 2), power != 0 ? p : Mathf.sqrt(p));
    }
  }
}
