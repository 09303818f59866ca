/**
 * The one error class of earshot. `code` is stable and machine-readable; the message says what
 * was wrong (which option, which shape, which file) and what the caller can do about it.
 */
export class EarshotError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'EarshotError';
    this.code = code;
  }
}

/** Throw an EarshotError('BAD_ARGUMENT') unless `cond` holds. */
export function check(cond: unknown, message: string, code = 'BAD_ARGUMENT'): asserts cond {
  if (!cond) throw new EarshotError(code, message);
}

/** A positive integer (or zero when `allowZero`). */
export function checkInt(value: unknown, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new EarshotError(
      'BAD_ARGUMENT',
      `${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${String(value)}`,
    );
  }
  return value;
}

/** A finite number within [min, max]. */
export function checkNumber(value: unknown, name: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new EarshotError('BAD_ARGUMENT', `${name} must be a finite number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** One of the allowed string values. */
export function checkEnum<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new EarshotError('BAD_ARGUMENT', `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** A typed array of the given constructor with exactly `length` elements (when given). */
export function checkArray<T extends Float32Array | Float64Array | Uint8Array | Int32Array>(
  value: unknown,
  ctor: { new (n: number): T; name: string },
  name: string,
  length?: number,
): T {
  if (!(value instanceof ctor)) {
    const got = value === null ? 'null' : typeof value === 'object' ? (value as object).constructor?.name ?? 'object' : typeof value;
    throw new EarshotError('BAD_ARGUMENT', `${name} must be a ${ctor.name}, got ${got}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new EarshotError('BAD_SHAPE', `${name} must have ${length} elements, got ${value.length}`);
  }
  return value;
}

/** Every element finite (no NaN / ±Infinity): wasm would propagate them silently. */
export function checkFinite(arr: ArrayLike<number>, name: string): void {
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    if (!Number.isFinite(v)) {
      throw new EarshotError('NOT_FINITE', `${name}[${i}] is ${v}; inputs must be finite`);
    }
  }
}
