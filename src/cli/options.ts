/**
 * Option parsing for the `earshot` subcommands: `node:util` parseArgs plus one set of validators
 * for its string values, so every command refuses a bad value the same way. Every refusal is an
 * EarshotError('BAD_USAGE') whose message names the option and the value given, states what
 * was expected (`--seed must be an integer in [0, 4294967295], got '1.5'`) and ends with
 * "(see `earshot <command> --help`)".
 *
 * Conventions shared by all validators:
 * - an option that was not given yields the default (`def`), or undefined without one;
 * - surrounding white space is ignored; an empty value ('--seed=') is refused;
 * - a boolean where a value is needed (a flag declared as a string option elsewhere) is refused
 *   as "got no value";
 * - integers are written in decimal digits only (no 1e3, 0x10, 2.0): a count or a seed that is
 *   not written as one is more likely a mistake than a shorthand;
 * - numbers must be finite (NaN, Infinity refused); bounds may be inclusive or exclusive.
 */
import { parseArgs } from 'node:util';
import { EarshotError } from '../../bindings/errors.ts';

/** The `options` of parseArgs as the commands declare them. */
export type OptionSpecs = Record<string, { type: 'string' | 'boolean'; short?: string }>;
/** What parseArgs returns for such options. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** Throw the usage error of `earshot <command>`: `message (see \`earshot <command> --help\`)`. */
export function usageError(command: string, message: string): never {
  throw new EarshotError('BAD_USAGE', `${message} (see \`earshot ${command} --help\`)`);
}

/**
 * parseArgs (strict) with its errors (unknown option, missing value, …) turned into a usage error
 * naming the command. `positionals: false` refuses positional arguments in parseArgs itself.
 */
export function parseCommandArgs(
  command: string,
  args: string[],
  options: OptionSpecs,
  { positionals = true }: { positionals?: boolean } = {},
): { values: OptionValues; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: positionals, strict: true });
    return { values: r.values as OptionValues, positionals: r.positionals };
  } catch (e) {
    return usageError(command, (e as Error).message);
  }
}

/** Bounds of an integer option; `max` omitted means unbounded (up to 2^53 − 1). */
export interface IntBounds {
  min: number;
  max?: number;
}

/** Bounds of a number option; each bound is inclusive unless `exclusiveMin` / `exclusiveMax`. */
export interface NumBounds {
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  /** A typical value, shown in the message: "…, e.g. 0.999, got '1.5'". */
  example?: string;
}

// Recorded command lines are quoted by one function, shared with the browser-safe explain core.
export { shellQuote } from './shell.ts';

/** "a or b" for two choices, "one of a, b, c" for more. */
export function choices(allowed: readonly string[]): string {
  return allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `one of ${allowed.join(', ')}`;
}

function shown(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : 'no value';
}

function intRange({ min, max }: IntBounds): string {
  return max === undefined ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
}

function numRange({ min, max, exclusiveMin, exclusiveMax }: NumBounds): string {
  const lo = min !== undefined && min !== -Infinity;
  const hi = max !== undefined && max !== Infinity;
  if (lo && hi) return `a number in ${exclusiveMin ? '(' : '['}${min}, ${max}${exclusiveMax ? ')' : ']'}`;
  if (lo) return `a number ${exclusiveMin ? '>' : '≥'} ${min}`;
  if (hi) return `a number ${exclusiveMax ? '<' : '≤'} ${max}`;
  return 'a number';
}

/** The integer written in `s` within the bounds, or null. */
function parseInt10(s: string, { min, max = Number.MAX_SAFE_INTEGER }: IntBounds): number | null {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/** The finite number written in `s` within the bounds, or null. */
function parseNum(s: string, b: NumBounds): number | null {
  const t = s.trim();
  const x = Number(t);
  if (t === '' || !Number.isFinite(x)) return null;
  const { min = -Infinity, max = Infinity } = b;
  if (x < min || (b.exclusiveMin && x === min) || x > max || (b.exclusiveMax && x === max)) return null;
  return x;
}

/**
 * The option values of one command with validators that name the option in their errors.
 * `name` is the long option without its dashes ('kernel-width').
 */
export class Options {
  constructor(
    /** The command as typed after `earshot` ('explain --method lmac'), for the --help hint. */
    readonly command: string,
    readonly values: Readonly<Record<string, unknown>>,
    readonly positionals: readonly string[] = [],
  ) {}

  /** parseArgs `args` with `specs` (see parseCommandArgs) and wrap the result. */
  static parse(command: string, args: string[], specs: OptionSpecs, opts?: { positionals?: boolean }): Options {
    const r = parseCommandArgs(command, args, specs, opts);
    return new Options(command, r.values, r.positionals);
  }

  /** Throw a usage error of this command. */
  fail(message: string): never {
    return usageError(this.command, message);
  }

  /** Whether the option was given. */
  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  /** A boolean flag: true when given. */
  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** A string value as given (no check beyond "has a value"; `nonEmpty` also refuses ''). */
  string(name: string, def: string, opts?: { nonEmpty?: boolean }): string;
  string(name: string, def?: undefined, opts?: { nonEmpty?: boolean }): string | undefined;
  string(name: string, def?: string, { nonEmpty = false }: { nonEmpty?: boolean } = {}): string | undefined {
    const v = this.values[name];
    if (v === undefined) return def;
    if (typeof v !== 'string') this.fail(`--${name} needs a value`);
    if (nonEmpty && v === '') this.fail(`--${name} must not be empty`);
    return v;
  }

  /** A string option that must be given and not be empty; `message` says what is missing. */
  required(name: string, message: string): string {
    const v = this.values[name];
    if (typeof v !== 'string' || v === '') this.fail(message);
    return v;
  }

  /** An integer option within [min, max]. */
  int(name: string, b: IntBounds & { def: number }): number;
  int(name: string, b: IntBounds & { def?: undefined }): number | undefined;
  int(name: string, b: IntBounds & { def?: number }): number | undefined {
    const v = this.values[name];
    if (v === undefined) return b.def;
    const n = typeof v === 'string' ? parseInt10(v, b) : null;
    if (n === null) this.fail(`--${name} must be ${intRange(b)}, got ${shown(v)}`);
    return n;
  }

  /** A finite number option within its bounds. */
  num(name: string, b: NumBounds & { def: number }): number;
  num(name: string, b?: NumBounds & { def?: undefined }): number | undefined;
  num(name: string, b: NumBounds & { def?: number } = {}): number | undefined {
    const v = this.values[name];
    if (v === undefined) return b.def;
    const x = typeof v === 'string' ? parseNum(v, b) : null;
    if (x === null) this.fail(`--${name} must be ${numRange(b)}${b.example ? `, e.g. ${b.example}` : ''}, got ${shown(v)}`);
    return x;
  }

  /** One of `allowed`; `def` when not given, or refused as required when `def` is omitted. */
  oneOf<T extends string>(name: string, allowed: readonly T[], def?: T): T {
    const v = this.values[name];
    if (v === undefined) {
      if (def === undefined) this.fail(`--${name} is required: ${choices(allowed)}`);
      return def;
    }
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) this.fail(`--${name} must be ${choices(allowed)}, got ${shown(v)}`);
    return v as T;
  }

  /** A comma-separated list (items trimmed, empty items dropped); refused when it lists nothing. */
  list(name: string): string[] | undefined {
    const v = this.values[name];
    if (v === undefined) return undefined;
    const items = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
    if (items.length === 0) this.fail(`--${name} must be a comma-separated list, got ${shown(v)}`);
    return items;
  }

  /**
   * A comma-separated list of members of `allowed`, each at most once (`what` names them in the
   * message: "--methods: unknown method 'foo' (known: …)").
   */
  members<T extends string>(name: string, allowed: readonly T[], def: readonly T[], what = 'value'): T[] {
    const items = this.list(name);
    if (!items) return [...def];
    for (const m of items) if (!(allowed as readonly string[]).includes(m)) this.fail(`--${name}: unknown ${what} '${m}' (known: ${allowed.join(', ')})`);
    this.distinct(name, items);
    return items as T[];
  }

  /** A comma-separated list of distinct integers within [min, max]; digits may be grouped with _ (70_000). */
  intList(name: string, b: IntBounds & { def: number[] }): number[] {
    const items = this.list(name);
    if (!items) return b.def;
    const out = items.map((s) => {
      const n = parseInt10(s.replace(/(\d)_(?=\d)/g, '$1'), b);
      if (n === null) this.fail(`--${name}: each value must be ${intRange(b)}, got '${s}'`);
      return n;
    });
    this.distinct(name, out);
    return out;
  }

  /** A comma-separated list of finite numbers within the bounds (order and repeats kept). */
  numList(name: string, b: NumBounds & { def: number[] }): number[];
  numList(name: string, b?: NumBounds): number[] | undefined;
  numList(name: string, b: NumBounds & { def?: number[] } = {}): number[] | undefined {
    const v = this.values[name];
    if (v === undefined) return b.def;
    if (typeof v !== 'string') this.fail(`--${name} must be a comma-separated list of numbers, got no value`);
    return v.split(',').map((s, i) => {
      const x = parseNum(s, b);
      if (x === null) this.fail(`--${name}: each value must be ${numRange(b)}; item ${i + 1} is '${s}'`);
      return x;
    });
  }

  /** Refuse a list that names one item twice. */
  private distinct(name: string, items: ReadonlyArray<string | number>): void {
    const twice = items.find((x, i) => items.indexOf(x) !== i);
    if (twice !== undefined) this.fail(`--${name} has repeated values: '${twice}' is listed twice`);
  }

  /** Refuse any positional argument (`hint` adds what to do instead). */
  noPositionals(hint?: string): void {
    const p = this.positionals[0];
    if (p !== undefined) this.fail(`unexpected argument '${p}'${hint ? ` (${hint})` : ''}`);
  }

  /** The one positional argument: "<cmd> needs exactly one <what>, got 2 (a.wav b.wav)". */
  onePositional(what: string): string {
    const p = this.positionals;
    if (p.length !== 1) this.fail(`${this.command.split(' ')[0]} needs exactly one ${what}, got ${p.length}${p.length ? ` (${p.join(' ')})` : ''}`);
    return p[0]!;
  }
}

/**
 * Take the repeatable `--<name> key=value` option (parseArgs is used without `multiple`) out of
 * `args`: the pairs, and the other arguments for parseArgs.
 */
export function takeKeyValues(command: string, args: string[], name: string, valueHint = 'file.wav'): { pairs: Record<string, string>; rest: string[] } {
  const pairs: Record<string, string> = {};
  const rest: string[] = [];
  const flag = `--${name}`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === flag || a.startsWith(`${flag}=`)) {
      const v = a === flag ? args[++i] : a.slice(flag.length + 1);
      if (v === undefined) usageError(command, `${flag} needs name=${valueHint}`);
      const eq = v.indexOf('=');
      if (eq <= 0 || eq === v.length - 1) usageError(command, `${flag} must be name=${valueHint}, got '${v}'`);
      const key = v.slice(0, eq);
      if (key in pairs) usageError(command, `${flag}: '${key}' is given twice`);
      pairs[key] = v.slice(eq + 1);
    } else rest.push(a);
  }
  return { pairs, rest };
}
