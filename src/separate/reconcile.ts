/**
 * User stems against their mixture (runs anywhere, no fs): checks that every stem has the
 * mixture's length (within a tolerance, then zero-padded or cut) and, when the stems do not add up
 * to the mixture (max |mixture − Σ stems| > `tolerance` × the mixture's peak), adds the difference
 * as an explicit `residual` source so that the sources always sum to the mixture (docs/separate.md).
 */
import { EarshotError, check, checkArray, checkFinite, checkInt, checkNumber } from '../../bindings/errors.ts';

export interface Stem {
  name: string;
  signal: Float32Array;
  /** Where it came from (a file path), for messages. Default: the name. */
  source?: string;
}

export interface ReconcileOptions {
  sampleRate: number;
  /** Largest accepted length difference, milliseconds. Default 5. */
  lengthToleranceMs?: number;
  /** Relative to the mixture's peak: a larger max |mixture − Σ stems| adds a residual. Default 1e-4. */
  tolerance?: number;
}

export interface StemSeparation {
  names: string[];
  sources: Float32Array[];
  /** True when a `residual` source (mixture − Σ stems) was added. */
  residualAdded: boolean;
  /** max |mixture − Σ stems| before any residual, relative to the mixture's peak. */
  maxDifference: number;
}

export const STEM_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

export function reconcileStems(mixture: Float32Array, stems: Stem[], options: ReconcileOptions): StemSeparation {
  checkArray(mixture, Float32Array, 'mixture');
  checkFinite(mixture, 'mixture');
  check(Array.isArray(stems) && stems.length > 0, 'stems must be a non-empty array of { name, signal }');
  check(options !== null && typeof options === 'object', 'reconcileStems options must be an object');
  for (const key of Object.keys(options)) {
    if (!['sampleRate', 'lengthToleranceMs', 'tolerance'].includes(key)) throw new EarshotError('BAD_ARGUMENT', `unknown stems option '${key}'`);
  }
  const sr = checkInt(options.sampleRate, 'sampleRate', 1, 10_000_000);
  const tolMs = options.lengthToleranceMs === undefined ? 5 : checkNumber(options.lengthToleranceMs, 'lengthToleranceMs', 0, 60_000);
  const tol = options.tolerance === undefined ? 1e-4 : checkNumber(options.tolerance, 'tolerance', 0, 1);
  const n = mixture.length;
  const maxDiff = Math.floor((tolMs * sr) / 1000);
  const seen = new Set<string>();
  const sources: Float32Array[] = [];
  for (const st of stems) {
    const where = st?.source ?? st?.name;
    check(typeof st?.name === 'string' && STEM_NAME.test(st.name), `stem name must start with a letter and hold only letters, digits, '_' or '-', got ${JSON.stringify(st?.name)}${where ? ` (${where})` : ''}`);
    check(st.name !== 'residual', `stem name 'residual' is reserved for the difference to the mixture (${where})`);
    check(!seen.has(st.name), `stem name '${st.name}' is given twice (${where})`);
    seen.add(st.name);
    checkArray(st.signal, Float32Array, `stem '${st.name}' signal`);
    checkFinite(st.signal, `${where}`);
    const d = st.signal.length - n;
    if (Math.abs(d) > maxDiff) {
      throw new EarshotError('BAD_SHAPE', `${where}: ${st.signal.length} samples but the mixture has ${n} at ${sr} Hz (${((1000 * d) / sr).toFixed(1)} ms ${d > 0 ? 'longer' : 'shorter'}; at most ${tolMs} ms is tolerated)`);
    }
    const s = new Float32Array(n);
    s.set(d > 0 ? st.signal.subarray(0, n) : st.signal);
    sources.push(s);
  }
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(mixture[i]!));
  const residual = new Float32Array(n);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const x of sources) s += x[i]!;
    const r = mixture[i]! - s;
    residual[i] = r;
    worst = Math.max(worst, Math.abs(r));
  }
  const rel = peak > 0 ? worst / peak : worst;
  const names = stems.map((s) => s.name);
  const residualAdded = rel > tol;
  if (residualAdded) {
    names.push('residual');
    sources.push(residual);
  }
  return { names, sources, residualAdded, maxDifference: rel };
}
