/**
 * Quoting for the command lines earshot records with its results (explanations, experiments,
 * model metadata), so a recorded command can be pasted back into a POSIX shell. No imports: the
 * platform-neutral explanation core (src/explain/run.ts, also bundled for browsers) uses it as
 * well as the CLI's option parsing (./options.ts).
 */

/** Quote `s` for a POSIX shell unless it needs none. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
