/**
 * Timing for bench/: warm up, then repeat until a time budget is spent, and report the median
 * (robust to the odd GC pause or a busy neighbour). Ratios are only meaningful within one run.
 */
export interface Timing {
  name: string;
  ms: number;
  reps: number;
  error?: string;
}

export function time(name: string, fn: () => unknown, { warmup = 3, budgetMs = 1500, minReps = 5, maxReps = 200 } = {}): Timing {
  try {
    for (let i = 0; i < warmup; i++) fn();
    const samples: number[] = [];
    const start = performance.now();
    while (samples.length < minReps || (performance.now() - start < budgetMs && samples.length < maxReps)) {
      const t0 = performance.now();
      fn();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return { name, ms: samples[samples.length >> 1]!, reps: samples.length };
  } catch (e) {
    return { name, ms: NaN, reps: 0, error: (e as Error).message.split('\n')[0] };
  }
}

export async function timeAsync(name: string, fn: () => Promise<unknown>, { warmup = 2, budgetMs = 2000, minReps = 3, maxReps = 100 } = {}): Promise<Timing> {
  try {
    for (let i = 0; i < warmup; i++) await fn();
    const samples: number[] = [];
    const start = performance.now();
    while (samples.length < minReps || (performance.now() - start < budgetMs && samples.length < maxReps)) {
      const t0 = performance.now();
      await fn();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return { name, ms: samples[samples.length >> 1]!, reps: samples.length };
  } catch (e) {
    return { name, ms: NaN, reps: 0, error: (e as Error).message.split('\n')[0] };
  }
}

export const fmt = (ms: number) => (Number.isNaN(ms) ? '—' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
