/**
 * A small progress bar for long CLI jobs, on stderr (stdout stays for results): label, bar,
 * done/total, rate and ETA, redrawn in place at most every `intervalMs` when the stream is a
 * TTY; otherwise plain lines, one per `lineEvery` fraction of the work (default every 25 %) and at
 * the end, so logs and CI output stay readable.
 */

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Override the stream's TTY detection. */
  tty?: boolean;
  /** Minimum time between redraws on a TTY (default 100 ms). */
  intervalMs?: number;
  /** Plain mode: print a line each time this fraction of the total is passed (default 0.25). */
  lineEvery?: number;
  /** Unit shown with the rate (default 'it'). */
  unit?: string;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Seconds as "12s", "3m04s", "1h02m". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly lineEvery: number;
  private readonly unit: string;
  private readonly now: () => number;
  private readonly t0: number;
  private lastDraw = -Infinity;
  private nextLine: number;
  private drawnWidth = 0;
  private finished = false;
  done = 0;

  constructor(
    readonly label: string,
    public total: number,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.intervalMs = opts.intervalMs ?? 100;
    this.lineEvery = opts.lineEvery ?? 0.25;
    this.unit = opts.unit ?? 'it';
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
    this.nextLine = this.lineEvery;
  }

  /** "done/total (pct) rate ETA" without the bar. */
  status(): string {
    const el = (this.now() - this.t0) / 1000;
    const rate = el > 0 ? this.done / el : 0;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    const r = rate >= 100 ? Math.round(rate).toString() : rate.toFixed(1);
    return `${this.done}/${this.total} (${Math.floor(frac * 100)}%) ${r} ${this.unit}/s ${this.finished ? `in ${formatDuration(el)}` : `ETA ${formatDuration(eta)}`}`;
  }

  /** Set the amount done (and optionally a new total). */
  update(done: number, total?: number): void {
    if (total !== undefined) this.total = total;
    this.done = done;
    if (this.finished) return;
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw < this.intervalMs && done < this.total) return;
      this.lastDraw = t;
      this.draw();
    } else {
      const frac = this.total > 0 ? done / this.total : 0;
      if (frac >= this.nextLine && done < this.total) {
        while (this.nextLine <= frac) this.nextLine += this.lineEvery;
        this.stream.write(`${this.label}: ${this.status()}\n`);
      }
    }
  }

  private draw(): void {
    const cols = Math.max(40, Math.min(this.stream.columns ?? 80, 120));
    const status = this.status();
    const barW = Math.max(10, cols - this.label.length - status.length - 6);
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const full = Math.round(frac * barW);
    const line = `${this.label} [${'#'.repeat(full)}${'.'.repeat(barW - full)}] ${status}`;
    const pad = Math.max(0, this.drawnWidth - line.length);
    this.stream.write(`\r${line}${' '.repeat(pad)}`);
    this.drawnWidth = line.length;
  }

  /** Finish: a final line (the bar at its last state on a TTY, a summary line otherwise). */
  finish(message?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.tty) {
      this.draw();
      this.stream.write(message ? ` ${message}\n` : '\n');
    } else this.stream.write(`${this.label}: ${this.status()}${message ? ` ${message}` : ''}\n`);
  }
}
