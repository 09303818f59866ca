/**
 * The bench page (web/bench.html → dist/web/bench.js): in one Web Worker (src/browser/worker.ts)
 * it loads the model on the engine of the URL (?engine=tfjs|ort-web&threads=N), times forward
 * passes (ms per excerpt, median of `repeats` batches of `excerpts`), and with slime=1 runs one
 * SLIME explanation of the bundled example end to end (d = 10, dedup sampler, default N_s).
 * Results land in window.earshotBench for bench/browser.ts.
 */
import type { BenchResult, ClipResult, ExplainResultMsg, InitResult, Reply } from '../src/browser/protocol.ts';
import { DEFAULT_SETTINGS } from '../src/browser/protocol.ts';

const q = new URLSearchParams(location.search);
const engine = q.get('engine') ?? 'tfjs';
const threads = Number(q.get('threads') ?? '1');
const excerpts = Number(q.get('excerpts') ?? '16');
const repeats = Number(q.get('repeats') ?? '5');
const slime = q.get('slime') === '1';
const base = new URL('.', location.href).href;
const out = document.getElementById('out')!;
const g = window as unknown as { earshotBench: unknown };

const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
w.onmessage = (ev: MessageEvent<Reply>) => {
  const m = ev.data;
  const p = waiting.get(m.id);
  if (!p || m.type === 'progress') return;
  waiting.delete(m.id);
  if (m.type === 'result') p.resolve(m.result);
  else p.reject(new Error(`${m.code}: ${m.message}`));
};
function call<T>(msg: Record<string, unknown>): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    w.postMessage({ ...msg, id });
  });
}

async function main(): Promise<void> {
  const init = await call<InitResult>({ type: 'init', engine, threads, modelUrl: new URL('assets/models/svd-default/', base).href, tfjsWasmPaths: new URL('tfjs/', base).href, ortUrl: new URL('ort/ort.wasm.min.mjs', base).href });
  const bench = await call<BenchResult>({ type: 'bench', engine, threads, excerpts, repeats });
  let explanation: null | { ms: number; forwardPasses: number; msPerExcerpt: number; loadMs: number } = null;
  if (slime) {
    const bytes = await (await fetch(new URL('assets/lena-sung.wav', base))).arrayBuffer();
    const t0 = performance.now();
    await call<ClipResult>({ type: 'load-wav', name: 'assets/lena-sung.wav', bytes });
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    const r = await call<ExplainResultMsg>({ type: 'explain', at: 1.5, settings: { ...DEFAULT_SETTINGS, components: 10, sampler: 'dedup' } });
    const ms = performance.now() - t1;
    explanation = { ms, forwardPasses: (JSON.parse(r.json) as { forwardPasses: number }).forwardPasses, msPerExcerpt: r.msPerExcerpt, loadMs };
  }
  const res = { init, bench, explanation, userAgent: navigator.userAgent, crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true };
  g.earshotBench = res;
  out.textContent = JSON.stringify(res, null, 2);
}

main().catch((e: Error) => {
  g.earshotBench = { error: e.message };
  out.textContent = `failed: ${e.message}`;
});
