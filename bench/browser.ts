/**
 * Browser bench (issue 12): forward-pass ms per excerpt of the singing-voice CNN in headless
 * Chromium (Debian's chromium via playwright-core) on TF.js wasm with 1 and 2 threads and on
 * onnxruntime-web with 1 and 2 threads, and one SLIME explanation of the bundled example end to
 * end (temporal d = 10, dedup sampler, default N_s = 50 000 → ≤ 1 024 distinct forward passes).
 * Each configuration runs in a fresh page of web/bench.html (bench/browser-page.ts) whose Web
 * Worker is the web app's own (src/browser/worker.ts). The same Session runs in Node too, for
 * the figures beside them (TF.js wasm, 1 thread — no wasm threads in Node; onnxruntime-web).
 *
 * Usage: node --import tsx bench/browser.ts [--append] [--repeats 5] [--excerpts 16] [--no-slime]
 * (`npm run bench:browser`; needs `npm run build` and scripts/install-chromium.sh).
 * --append adds the table as a new numbered section at the end of bench/RESULTS.md.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { browserMissing, launch, serve } from './browser-launch.ts';
import { Session } from '../src/browser/session.ts';
import { DEFAULT_SETTINGS } from '../src/browser/protocol.ts';

const ROOT = join(import.meta.dirname, '..');
const arg = (n: string, d: string) => (process.argv.includes(n) ? process.argv[process.argv.indexOf(n) + 1]! : d);
const repeats = Number(arg('--repeats', '5'));
const excerpts = Number(arg('--excerpts', '16'));
const slime = !process.argv.includes('--no-slime');
const append = process.argv.includes('--append');

interface Row {
  where: string;
  engine: string;
  threads: number;
  detail: string;
  msPerExcerpt: number;
  samples: number[];
  slime: null | { ms: number; forwardPasses: number; msPerExcerpt: number };
}

const CONFIGS: Array<{ engine: 'tfjs' | 'ort-web'; threads: number }> = [
  { engine: 'tfjs', threads: 1 },
  { engine: 'tfjs', threads: 2 },
  { engine: 'ort-web', threads: 1 },
  { engine: 'ort-web', threads: 2 },
];

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const missing = browserMissing(ROOT);
  if (missing) throw new Error(missing);
  const server = await serve();
  const browser = await launch();
  const rows: Row[] = [];
  let ua = '';
  try {
    for (const c of CONFIGS) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}bench.html?engine=${c.engine}&threads=${c.threads}&excerpts=${excerpts}&repeats=${repeats}&slime=${slime ? 1 : 0}`);
      await page.waitForFunction(() => (window as unknown as { earshotBench?: unknown }).earshotBench, null, { timeout: 600_000 });
      const r = (await page.evaluate(() => (window as unknown as { earshotBench: unknown }).earshotBench)) as {
        error?: string;
        bench: { detail: string; threads: number; msPerExcerpt: number; samples: number[] };
        explanation: Row['slime'];
        userAgent: string;
      };
      await page.close();
      if (r.error) throw new Error(`${c.engine} × ${c.threads}: ${r.error}`);
      ua = r.userAgent;
      rows.push({ where: 'Chromium', engine: c.engine, threads: r.bench.threads, detail: r.bench.detail, msPerExcerpt: r.bench.msPerExcerpt, samples: r.bench.samples, slime: r.explanation });
      console.error(`[bench:browser] Chromium ${r.bench.detail}: ${r.bench.msPerExcerpt.toFixed(1)} ms/excerpt${r.explanation ? `, SLIME ${(r.explanation.ms / 1000).toFixed(2)} s (${r.explanation.forwardPasses} passes)` : ''}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  // Node, the same Session code
  const wav = new Uint8Array(readFileSync(join(ROOT, 'assets', 'lena-sung.wav')));
  for (const c of [{ engine: 'tfjs' as const, threads: 1 }, { engine: 'ort-web' as const, threads: 2 }]) {
    const s = new Session();
    // the model read from disk (the page fetched the same files over HTTP)
    const fromDisk = async (url: string) => new Uint8Array(readFileSync(join(ROOT, 'assets', 'models', 'svd-default', url.split('/').pop()!)));
    const init = await s.init({ engine: c.engine, threads: c.threads, modelUrl: 'assets/models/svd-default/', modelSpec: 'default', fetch: fromDisk });
    const b = await s.bench(excerpts, repeats);
    let sl: Row['slime'] = null;
    if (slime) {
      await s.loadWav('assets/lena-sung.wav', wav);
      const t0 = performance.now();
      const e = await s.explainAt(1.5, { ...DEFAULT_SETTINGS, components: 10, sampler: 'dedup' });
      sl = { ms: performance.now() - t0, forwardPasses: e.explanation.forwardPasses, msPerExcerpt: e.msPerExcerpt };
    }
    s.dispose();
    rows.push({ where: `Node ${process.version}`, engine: c.engine, threads: b.threads, detail: init.detail, msPerExcerpt: b.msPerExcerpt, samples: b.samples, slime: sl });
    console.error(`[bench:browser] Node ${init.detail}: ${b.msPerExcerpt.toFixed(1)} ms/excerpt${sl ? `, SLIME ${(sl.ms / 1000).toFixed(2)} s` : ''}`);
  }

  const chromium = /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? '?';
  const table = [
    '| where | engine | threads | forward pass, ms per excerpt (median of ' + repeats + ' × batch ' + excerpts + ') | SLIME d = 10, dedup, end to end | its forward passes | model ms per pass inside SLIME |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.where} | ${r.detail} | ${r.threads} | ${r.msPerExcerpt.toFixed(1)} (${r.samples.map((x) => x.toFixed(1)).join(', ')}) | ${r.slime ? `${(r.slime.ms / 1000).toFixed(2)} s` : '—'} | ${r.slime?.forwardPasses ?? '—'} | ${r.slime ? r.slime.msPerExcerpt.toFixed(1) : '—'} |`),
  ].join('\n');
  const when = new Date().toISOString();
  const body =
    `Produced by \`npm run bench:browser -- --append\` (\`node --import tsx bench/browser.ts\`) on ${when}: headless Chromium ${chromium} (Debian), ` +
    `${cpus().length} logical cores (${cpus()[0]?.model ?? '?'}), the page served cross-origin isolated by scripts/serve.mjs, every figure measured inside ` +
    `the web app's Web Worker (src/browser/worker.ts). Machine load (1-min average) ${loadBefore.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end${Math.max(loadBefore, loadavg()[0]!) > 2.5 ? ': other jobs shared the cores, so compare rows with each other rather than with other sections' : ' (the machine was otherwise idle)'}. Model: assets/models/svd-default. SLIME: assets/lena-sung.wav at 1.5 s, temporal d = 10, ` +
    `content mean_inp, dedup sampler with the default N_s = 50 000 (so ≤ 2^10 distinct forward passes), batch 64; time from the request to the ` +
    `explanation JSON, heatmap pixels and listenable audio.\n\n${table}\n`;
  console.log(body);
  if (append) {
    const res = readFileSync(join(ROOT, 'bench', 'RESULTS.md'), 'utf8');
    const n = Math.max(0, ...[...res.matchAll(/^## (\d+)\./gm)].map((m) => Number(m[1]))) + 1;
    appendFileSync(join(ROOT, 'bench', 'RESULTS.md'), `\n## ${n}. Browsers: the CNN and one SLIME explanation in Chromium (TF.js wasm 1 / 2 threads, onnxruntime-web)\n\n${body}`);
    console.error(`[bench:browser] appended section ${n} to bench/RESULTS.md`);
  }
}

main().catch((e) => {
  console.error(`bench/browser: ${(e as Error).message}`);
  process.exitCode = 1;
});
