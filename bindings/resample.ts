/**
 * Band-limited resampling by a rational factor: the filter design and edge convention of
 * scipy.signal.resample_poly (SciPy 1.x), with the polyphase dot products in the wasm core
 * (assembly/resample.ts, f32x4).
 *
 * Filter (scipy `firwin(2·H+1, 1/max(up, down), window=('kaiser', β))`, then × up):
 *   H = zeroCrossings · max(up, down)  (default 10, so the sinc keeps 10 zero crossings a side
 *   at the lower of the two rates), h[n] = sinc((n−H)/M)/M · kaiser_β(n), normalised to unit DC
 *   gain and multiplied by `up` (the gain lost to zero-stuffing), M = max(up, down), β = 5.
 * Output y[k] = Σ_i h[k·down + H − i·up] · x[i] for k = 0 … ceil(n·up/down) − 1, x = 0 outside
 * [0, n): exactly resample_poly's zero-padded ('constant') edges, so y[0] is centred on x[0].
 * The taps are computed in float64 and rounded to float32; the dot products run in float32.
 */
import { EarshotError, checkArray, checkInt, checkNumber } from './errors.ts';
import { core } from './wasm.ts';

export interface ResampleOptions {
  /** Kaiser window β of the anti-alias filter (scipy's window=('kaiser', β)); default 5.0. */
  kaiserBeta?: number;
  /** Half-length of the filter in zero crossings of the sinc at the lower rate; default 10 (scipy's 10·max(up, down)). */
  zeroCrossings?: number;
}

const OPTION_NAMES = ['kaiserBeta', 'zeroCrossings'] as const;
/** Largest reduced up or down factor accepted: the filter has 2·zeroCrossings·max(up, down)+1 taps. */
export const MAX_RESAMPLE_FACTOR = 100_000;

type ResampleKernel = (x: number, taps: number, tapsPerPhase: number, up: number, down: number, phase0: number, nOut: number, out: number) => void;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for the β of audio filters). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function checkOptions(opts: unknown): Required<ResampleOptions> {
  if (opts === undefined) return { kaiserBeta: 5.0, zeroCrossings: 10 };
  if (opts === null || typeof opts !== 'object') throw new EarshotError('BAD_ARGUMENT', `resample options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  for (const k of Object.keys(opts)) {
    if (!(OPTION_NAMES as readonly string[]).includes(k)) {
      throw new EarshotError('BAD_ARGUMENT', `unknown resample option ${JSON.stringify(k)} (known: ${OPTION_NAMES.join(', ')})`);
    }
  }
  const o = opts as ResampleOptions;
  return {
    kaiserBeta: o.kaiserBeta === undefined ? 5.0 : checkNumber(o.kaiserBeta, 'kaiserBeta', 0, 50),
    zeroCrossings: o.zeroCrossings === undefined ? 10 : checkInt(o.zeroCrossings, 'zeroCrossings', 1, 1000),
  };
}

/**
 * The anti-alias filter of resample_poly for a reduced ratio up/down: 2·H+1 taps (float64),
 * already multiplied by `up`.
 */
export function resampleFilter(up: number, down: number, opts?: ResampleOptions): Float64Array {
  checkInt(up, 'up', 1, MAX_RESAMPLE_FACTOR);
  checkInt(down, 'down', 1, MAX_RESAMPLE_FACTOR);
  const { kaiserBeta, zeroCrossings } = checkOptions(opts);
  const g = gcd(up, down);
  up /= g;
  down /= g;
  const m = Math.max(up, down);
  const half = zeroCrossings * m;
  const n = 2 * half + 1;
  const h = new Float64Array(n);
  const i0b = besselI0(kaiserBeta);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = (i - half) / m; // firwin: cutoff·sinc(cutoff·(i − α)), cutoff = 1/m, α = half
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
    const r = (2 * i) / (n - 1) - 1; // symmetric Kaiser window (numpy.kaiser)
    const w = besselI0(kaiserBeta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    h[i] = (sinc / m) * w;
    sum += h[i]!;
  }
  const scale = up / sum; // firwin's scale=True (unit gain at DC), then resample_poly's × up
  for (let i = 0; i < n; i++) h[i] = h[i]! * scale;
  return h;
}

interface Polyphase {
  up: number;
  down: number;
  half: number;
  /** Taps a phase really needs (before padding to a multiple of 4). */
  taps: number;
  /** Row length in the table: taps rounded up to a multiple of 4. */
  stride: number;
  table: Float32Array;
}

const cache = new Map<string, Polyphase>();

/** Phase tables: row r holds h[r + (L−1−q)·up] at q, so each output is one contiguous dot product. */
function polyphase(up: number, down: number, o: Required<ResampleOptions>): Polyphase {
  const key = `${up}/${down}/${o.kaiserBeta}/${o.zeroCrossings}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // keep the most recently used last
    cache.set(key, hit);
    return hit;
  }
  const h = resampleFilter(up, down, o);
  const half = (h.length - 1) / 2;
  const taps = Math.floor((2 * half) / up) + 1;
  const stride = Math.ceil(taps / 4) * 4;
  const table = new Float32Array(up * stride);
  for (let r = 0; r < up; r++) {
    for (let q = 0; q < taps; q++) {
      const idx = r + (taps - 1 - q) * up;
      if (idx < h.length) table[r * stride + q] = h[idx]!;
    }
  }
  const p = { up, down, half, taps, stride, table };
  cache.set(key, p);
  if (cache.size > 8) cache.delete(cache.keys().next().value!);
  return p;
}

/** NaN/±Infinity anywhere makes Σ x·0 NaN: one multiply-add per sample, then find the culprit only on failure. */
function checkFiniteFast(x: Float32Array, name: string): void {
  let a = 0;
  let b = 0;
  const n2 = x.length & ~1;
  for (let i = 0; i < n2; i += 2) {
    a += x[i]! * 0;
    b += x[i + 1]! * 0;
  }
  if (n2 < x.length) a += x[n2]! * 0;
  if (a + b === 0) return;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new EarshotError('NOT_FINITE', `${name}[${i}] is ${x[i]}; resample needs finite samples`);
  }
}

/** Outputs per wasm call: bounds the arena footprint for long signals. */
const CHUNK = 1 << 16;

/**
 * Resample `x` by the rational factor up/down (reduced by their gcd), like
 * `scipy.signal.resample_poly(x, up, down)`: ceil(n·up/down) samples.
 */
export function resamplePoly(x: Float32Array, up: number, down: number, opts?: ResampleOptions): Float32Array {
  checkArray(x, Float32Array, 'x');
  checkInt(up, 'up', 1, MAX_RESAMPLE_FACTOR);
  checkInt(down, 'down', 1, MAX_RESAMPLE_FACTOR);
  const o = checkOptions(opts);
  checkFiniteFast(x, 'x');
  const g = gcd(up, down);
  up /= g;
  down /= g;
  const n = x.length;
  if (up === 1 && down === 1) return x.slice();
  const nOut = Math.ceil((n * up) / down);
  const y = new Float32Array(nOut);
  if (n === 0) return y;
  const pp = polyphase(up, down, o);
  const L = pp.taps;
  const c = core();
  const kernel = c.exports.resamplePoly as ResampleKernel;
  c.arena.scope((s) => {
    const tapsB = s.copyIn(pp.table);
    const chunkOut = Math.min(CHUNK, nOut);
    const span = Math.floor(((chunkOut - 1) * down) / up) + 2 + pp.stride;
    const xb = s.f32(span);
    const ob = s.f32(chunkOut);
    for (let k0 = 0; k0 < nOut; k0 += CHUNK) {
      const k1 = Math.min(nOut, k0 + CHUNK);
      const m0 = k0 * down + pp.half;
      const phase0 = m0 % up;
      const first = (m0 - phase0) / up; // index into the zero-padded input xp, xp[i] = x[i − (L−1)]
      const last = Math.floor(((k1 - 1) * down + pp.half) / up) + pp.stride;
      // Copy xp[first, last) into the chunk buffer, zeros where it falls outside x.
      const win = xb.f32(last - first);
      const a = Math.min(Math.max(first, L - 1), last);
      const b = Math.max(Math.min(last, n + L - 1), a);
      win.fill(0, 0, a - first);
      win.set(x.subarray(a - (L - 1), b - (L - 1)), a - first);
      win.fill(0, b - first);
      kernel(xb.ptr, tapsB.ptr, pp.stride, up, down, phase0, k1 - k0, ob.ptr);
      y.set(ob.f32(k1 - k0), k0);
    }
  });
  return y;
}

/**
 * Resample `x` from `fromRate` to `toRate` (positive integer rates in Hz): resample_poly with
 * up/down = toRate/fromRate reduced by their gcd (44 100 → 22 050 is 1/2, 48 000 → 22 050 is
 * 147/320). Equal rates return a copy.
 */
export function resampleRate(x: Float32Array, fromRate: number, toRate: number, opts?: ResampleOptions): Float32Array {
  checkArray(x, Float32Array, 'x');
  checkInt(fromRate, 'fromRate', 1, 0xffffffff);
  checkInt(toRate, 'toRate', 1, 0xffffffff);
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  if (up > MAX_RESAMPLE_FACTOR || down > MAX_RESAMPLE_FACTOR) {
    throw new EarshotError(
      'BAD_ARGUMENT',
      `resampling ${fromRate} Hz → ${toRate} Hz needs the ratio ${up}/${down}, beyond the supported ${MAX_RESAMPLE_FACTOR}; resample in two steps or to a rate with a larger common divisor`,
    );
  }
  return resamplePoly(x, up, down, opts);
}
