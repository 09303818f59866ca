/**
 * The browser bundles import no Node built-in: esbuild's metafile of the library
 * (dist/earshot.browser.mjs from src/index.ts) and of the web app (page, worker, bench page),
 * built in memory with the options scripts/build.mjs uses (web/build.mjs). A static import of a
 * built-in fails the build itself; the lazy `import('node:…')` inside Node-only functions
 * (a directory path, a worker_threads pool) become a module that throws NODE_ONLY, and this test
 * pins where they are so a new one is a decision, not an accident.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { builtinModules } from 'node:module';
import * as esbuild from 'esbuild';
import { ROOT } from './helpers.ts';
// @ts-expect-error plain ESM build script without types
import { browserLibraryOptions, webAppOptions } from '../web/build.mjs';

const BUILTINS = new Set(builtinModules.flatMap((m: string) => [m, `node:${m}`]));
/** Node-only functions that import a built-in lazily (and the reason they are Node-only). */
const LAZY_NODE_ONLY: Record<string, string> = {
  'src/model/weights.ts': 'loadWeights(dir) / saveWeights(dir) read and write files',
  'src/model/onnx/runtime.ts': 'cpuCount() falls back to node:os where navigator.hardwareConcurrency is missing',
  'src/model/engines.ts': 'the TF.js worker_threads pool (workers > 1)',
  'src/parallel/pool.ts': 'WorkerPool runs tasks in worker_threads (experiments, engines with workers > 1)',
  'src/explain/lmac/weights.ts': 'loadDecoderFile(dir) / saveDecoderFile(dir) read and write files (the { json, bin } form needs none)',
};

type Meta = esbuild.Metafile;

async function build(opts: esbuild.BuildOptions): Promise<Meta> {
  const r = await esbuild.build({ ...opts, write: false, metafile: true, sourcemap: false, logLevel: 'silent' });
  return r.metafile!;
}

function nodeImports(meta: Meta): { external: string[]; lazy: Array<{ from: string; path: string; kind: string }> } {
  const external: string[] = [];
  const lazy: Array<{ from: string; path: string; kind: string }> = [];
  for (const [file, input] of Object.entries(meta.inputs)) {
    for (const imp of input.imports) {
      if (imp.external && BUILTINS.has(imp.path)) external.push(`${file} → ${imp.path}`);
      if (imp.path.startsWith('earshot-node-only:')) lazy.push({ from: file, path: imp.path, kind: imp.kind });
    }
  }
  for (const [out, o] of Object.entries(meta.outputs)) {
    for (const imp of o.imports) if (imp.external && BUILTINS.has(imp.path)) external.push(`${out} (output) → ${imp.path}`);
  }
  return { external, lazy };
}

test('the browser library bundle (src/index.ts) imports no Node built-in', async () => {
  const meta = await build(browserLibraryOptions(ROOT));
  const { external, lazy } = nodeImports(meta);
  assert.equal(external, [], 'external Node built-ins');
  for (const l of lazy) {
    assert.is(l.kind, 'dynamic-import', `${l.from} imports ${l.path} statically`);
    assert.ok(l.from in LAZY_NODE_ONLY, `${l.from} reaches ${l.path.replace('earshot-node-only:', '')} from the browser entry; move it to a *node.ts file or add it to LAZY_NODE_ONLY with the reason`);
  }
  // no file of the Node-only modules made it in
  for (const f of Object.keys(meta.inputs)) {
    assert.not.match(f, /src\/(audio\/node|model\/node|model\/tfjs-adapters-node|cli\/|render\/png-node)/, `${f} is Node-only`);
  }
  const out = Object.values(meta.outputs).find((o) => o.entryPoint === 'src/index.ts')!;
  console.log(`  dist/earshot.browser.mjs: ${(out.bytes / 1024).toFixed(0)} KiB (unminified, TF.js core + wasm backend + the embedded earshot core)`);
  assert.ok(out.bytes > 0);
});

test('the web app bundles (page, worker, bench page) import no Node built-in and the page stays small', async () => {
  const meta = await build(webAppOptions(ROOT));
  const { external, lazy } = nodeImports(meta);
  assert.equal(external, [], 'external Node built-ins');
  for (const l of lazy) assert.ok(l.from in LAZY_NODE_ONLY && l.kind === 'dynamic-import', `${l.from} → ${l.path} (${l.kind})`);
  const app = Object.values(meta.outputs).find((o) => o.entryPoint === 'src/browser/app.ts')!;
  // the page itself must not pull TF.js: all computing is in the worker
  const appInputs = Object.keys(app.inputs);
  assert.ok(!appInputs.some((f) => f.includes('@tensorflow')), `the page bundle includes TF.js: ${appInputs.filter((f) => f.includes('@tensorflow')).slice(0, 3).join(', ')}`);
  for (const imp of app.imports) assert.ok(!imp.path.includes('tfjs'), `the page imports ${imp.path}`);
});

test.run();
