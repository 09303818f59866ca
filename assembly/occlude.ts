// Batched occlusion: the perturbation step of LIME / SLIME (methods.md §3–4).
//
// A sample is a row z ∈ {0,1}^d; the perturbed input keeps x where the bin's component has
// z_j = 1 and takes the replacement content R (a scalar or a T×F array, e.g. SLIME's `noise`)
// where z_j = 0; bins labelled −1 always keep x. The host turns the component label map into
// runs: the flattened T×F index space split into maximal stretches of one label, in order,
// covering [0, size) without gaps. Per sample the kernel walks the runs, merges neighbours that
// take the same source (x, R or the scalar: both x and R share the output's index space, so
// such neighbours are contiguous in source and destination alike) and writes each output
// float exactly once — no copy-then-overwrite — straight into the host's batch buffer.

// Spans shorter than this many bytes are moved with v128 loads/stores; longer ones with
// memory.copy (a host memmove: fast per byte, but with a fixed call cost per span).
const SMALL_SPAN_BYTES: usize = 256;

@inline
function copySpan(dst: usize, src: usize, bytes: usize): void {
  if (bytes >= SMALL_SPAN_BYTES) {
    memory.copy(dst, src, bytes);
    return;
  }
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < bytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
}

@inline
function fillSpan(dst: usize, splat: v128, value: f32, bytes: usize): void {
  let i: usize = 0;
  for (; i + 64 <= bytes; i += 64) {
    v128.store(dst + i, splat);
    v128.store(dst + i + 16, splat);
    v128.store(dst + i + 32, splat);
    v128.store(dst + i + 48, splat);
  }
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, splat);
  for (; i < bytes; i += 4) store<f32>(dst + i, value);
}

// source codes of a span
const SRC_X: i32 = 0;
const SRC_R: i32 = 1;

@inline
function writeSpan(o: usize, x: usize, content: usize, isScalar: bool, splat: v128, scalar: f32, src: i32, start: i32, end: i32): void {
  const off = <usize>start << 2;
  const bytes = <usize>(end - start) << 2;
  if (src == SRC_X) copySpan(o + off, x + off, bytes);
  else if (isScalar) fillSpan(o + off, splat, scalar, bytes);
  else copySpan(o + off, content + off, bytes);
}

/**
 * Write n perturbed copies of x (each `size` f32) to `out` (n·size f32, row-major).
 *
 * x: size f32. content: size f32 (ignored when contentIsScalar ≠ 0, then `scalar` is R).
 * runStart: nRuns i32, ascending, runStart[0] = 0; run r covers [runStart[r], runStart[r+1])
 * (the last one ends at size). runComp: nRuns i32, the run's component in [−1, d).
 * bits: n·d u8 (0 or 1), row-major. Inputs are trusted: bindings/lime.ts validates them.
 */
export function occludeRuns(
  x: usize,
  content: usize,
  contentIsScalar: i32,
  scalar: f32,
  runStart: usize,
  runComp: usize,
  nRuns: i32,
  bits: usize,
  n: i32,
  d: i32,
  out: usize,
  size: i32,
): void {
  const isScalar = contentIsScalar != 0;
  const splat = f32x4.splat(scalar);
  const rowBytes = <usize>size << 2;
  for (let s = 0; s < n; s++) {
    const o = out + <usize>s * rowBytes;
    const b = bits + <usize>s * <usize>d;
    let spanSrc: i32 = -1;
    let spanStart: i32 = 0;
    for (let r = 0; r < nRuns; r++) {
      const c = load<i32>(runComp + (<usize>r << 2));
      const src = c < 0 || load<u8>(b + <usize>c) != 0 ? SRC_X : SRC_R;
      if (src != spanSrc) {
        const start = load<i32>(runStart + (<usize>r << 2));
        if (spanSrc >= 0) writeSpan(o, x, content, isScalar, splat, scalar, spanSrc, spanStart, start);
        spanSrc = src;
        spanStart = start;
      }
    }
    if (spanSrc >= 0) writeSpan(o, x, content, isScalar, splat, scalar, spanSrc, spanStart, size);
  }
}
