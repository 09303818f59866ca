// esbuild options for earshot's browser outputs, shared by scripts/build.mjs and the bundle test
// (tests/bundle.test.ts builds the same options in memory and reads the metafile):
//   dist/earshot.browser.mjs   the ESM library (src/index.ts), no Node built-ins
//   dist/web/                  the web app: index.html, style.css, app.js (page), worker.js,
//                              chunks, tfjs/*.wasm (TF.js backend), ort/ (onnxruntime-web ESM + wasm)
// The core's wasm is embedded in the bundles (bindings/wasm-bytes.generated.ts); TF.js finds its
// .wasm files through setWasmPaths('<page>/tfjs/') and onnxruntime-web through env.wasm.wasmPaths.
import { builtinModules } from 'node:module';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Node built-ins on the browser path: a static import is a build error naming the importer; a
 * dynamic `import('node:…')` (only inside functions that need Node: a directory path, a worker
 * pool) resolves to a module that throws NODE_ONLY when that function is called in a browser.
 * The metafile then lists these under the namespace `earshot-node-only` (tests/bundle.test.ts).
 */
export const nodeOnlyPlugin = {
  name: 'earshot-node-only',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      if (!BUILTINS.has(args.path)) return undefined;
      // dependencies guard their require('fs') by environment and map it to false in their
      // package.json "browser" field: esbuild's own resolution handles them (an empty module)
      if (/[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
      if (args.kind !== 'dynamic-import') {
        return { errors: [{ text: `${args.importer} imports the Node built-in '${args.path}' statically: the browser bundle must not reach it (move the Node-only code to a *node.ts file)` }] };
      }
      return { path: args.path, namespace: 'earshot-node-only' };
    });
    build.onLoad({ filter: /.*/, namespace: 'earshot-node-only' }, (args) => ({
      contents: `const e = new Error(${JSON.stringify(`'${args.path}' is not available in a browser: this function needs Node.js (in a browser pass data in memory instead of file paths)`)}); e.code = 'NODE_ONLY'; e.name = 'EarshotError'; throw e;`,
      loader: 'js',
    }));
  },
};

const common = (root) => ({ bundle: true, sourcemap: true, target: 'es2022', logLevel: 'warning', absWorkingDir: root, platform: 'browser', format: 'esm', plugins: [nodeOnlyPlugin] });

export function browserLibraryOptions(root) {
  return {
    ...common(root),
    entryPoints: { 'earshot.browser': 'src/index.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    // onnxruntime packages are imported by name at run time through an injectable importer
    external: ['onnxruntime-node', 'onnxruntime-web'],
  };
}

export function webAppOptions(root) {
  return {
    ...common(root),
    entryPoints: { app: 'src/browser/app.ts', worker: 'src/browser/worker.ts', bench: 'bench/browser-page.ts' },
    outdir: 'dist/web',
    splitting: true,
    minify: true,
    chunkNames: 'chunks/[name]-[hash]',
    external: ['onnxruntime-node', 'onnxruntime-web'],
  };
}

/** Static files of the app, the library bundle, TF.js's wasm binaries and onnxruntime-web's ESM build + wasm. */
export function copyWebAssets(root) {
  const out = join(root, 'dist', 'web');
  for (const d of ['', 'tfjs', 'ort', 'lib']) mkdirSync(join(out, d), { recursive: true });
  for (const f of ['index.html', 'style.css', 'bench.html', 'library.html']) copyFileSync(join(root, 'web', f), join(out, f));
  // the library bundle itself, for library.html (an example of using it in a page)
  copyFileSync(join(root, 'dist', 'earshot.browser.mjs'), join(out, 'lib', 'earshot.browser.mjs'));
  const tfjs = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) copyFileSync(join(tfjs, f), join(out, 'tfjs', f));
  const ort = join(root, 'node_modules', 'onnxruntime-web', 'dist');
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copyFileSync(join(ort, f), join(out, 'ort', f));
}

/** Size of an output file; with a metafile, also of everything it loads statically (its chunks). */
export function reportSize(root, rel, metafile) {
  const n = statSync(join(root, rel)).size;
  let total = '';
  if (metafile) {
    const seen = new Set();
    const walk = (f) => {
      if (seen.has(f) || !metafile.outputs[f]) return;
      seen.add(f);
      for (const i of metafile.outputs[f].imports) if (i.kind === 'import-statement') walk(i.path);
    };
    walk(rel.replace(/^\.\//, ''));
    const sum = [...seen].reduce((s, f) => s + statSync(join(root, f)).size, 0);
    total = `, ${(sum / 1024).toFixed(0)} KiB with the chunks it loads`;
  }
  console.error(`[build] ${rel}: ${(n / 1024).toFixed(0)} KiB${total}`);
}
