/**
 * Colour tables for spectrogram images: 256 entries × RGB bytes.
 *
 * VIRIDIS is a viridis-like perceptually uniform map (dark blue → green → yellow). The table is
 * generated from Matt Zucker's degree-6 polynomial fit to matplotlib's viridis (published as
 * CC0 on Shadertoy, "Optimized colormaps", https://www.shadertoy.com/view/WlfXRN); matplotlib's
 * viridis itself is by Nathaniel J. Smith, Stéfan van der Walt and Eric Firing (CC0). The fit is
 * within ≈ 1 % of the original table, monotonic in lightness, so low values stay dark.
 */

// c0 … c6 per channel: colour(t) = Σ c_i tⁱ, t ∈ [0, 1]
const VIRIDIS_POLY: ReadonlyArray<readonly [number, number, number]> = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

function tableFromPolynomial(poly: ReadonlyArray<readonly [number, number, number]>): Uint8Array {
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = poly.length - 1; k >= 0; k--) v = v * t + poly[k]![c]!;
      out[3 * i + c] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
  }
  return out;
}

/** 256 × RGB, index 0 = lowest value. */
export const VIRIDIS: Uint8Array = tableFromPolynomial(VIRIDIS_POLY);

/** 256 × RGB grey ramp (black → white), for masks and tests. */
export const GRAY: Uint8Array = (() => {
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) out.fill(i, 3 * i, 3 * i + 3);
  return out;
})();

/** The RGB bytes of value v ∈ [0, 1] in a table. */
export function colourAt(table: Uint8Array, v: number): [number, number, number] {
  const i = v <= 0 || !(v === v) ? 0 : v >= 1 ? 255 : Math.min(255, Math.floor(v * 256));
  return [table[3 * i]!, table[3 * i + 1]!, table[3 * i + 2]!];
}
