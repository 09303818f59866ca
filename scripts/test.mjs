#!/usr/bin/env node
// `npm test`: type-check, the as-pect specs of the wasm core, and the uvu tests of bindings/ and
// src/, then ONE closing line `N passed, N failed` counting every test that ran (the type-check
// counts as one test). Options: --only ts|as, --grep REGEX (uvu files).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : '';
const bin = (n) => join(root, 'node_modules', '.bin', n);

function run(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, FORCE_COLOR: '0', ...env } });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

let passed = 0;
let failed = 0;
const t0 = Date.now();

if (!only) {
  const r = await run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  if (r.code === 0) passed++;
  else failed++;
  console.log(`[typecheck] ${r.code === 0 ? 'ok' : 'FAILED'}`);
}

if (!only || only === 'as') {
  const r = await run(bin('asp'), ['--config', 'as-pect.config.js', '--as-config', 'as-pect.asconfig.json']);
  const m = strip(r.out).match(/\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/);
  if (m) {
    passed += Number(m[1]);
    failed += Number(m[2]) - Number(m[1]);
    if (r.code !== 0 && Number(m[1]) === Number(m[2])) failed++; // crashed after counting
  } else failed++; // as-pect did not get as far as running tests (compile error)
}

if (!only || only === 'ts') {
  // The hosts some tests drive come from the project's own install scripts (idempotent, quick
  // when already installed): Debian's chromium for the real-browser tests, a Python venv with
  // wasmtime for the ABI example. A browser that cannot be installed makes the browser tests
  // fail loudly (EARSHOT_SKIP_BROWSER=1 skips them knowingly); a missing Python host skips its test.
  if (!process.env.EARSHOT_SKIP_BROWSER && (!grep || /browser/.test(grep))) await run('bash', [join(root, 'scripts', 'install-chromium.sh')]);
  if (!grep || /abi/.test(grep)) {
    const py = await run('bash', ['-c', `bash "${join(root, 'examples', 'python', 'install.sh')}" >/dev/null 2>&1 || echo "[earshot tests] the Python ABI host is not installed; its test will skip"`]);
    void py;
  }
  const r = await run(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'uvu-run.mjs'), grep]);
  const out = strip(r.out);
  const total = out.match(/Total:\s*(\d+)/);
  const ok = out.match(/Passed:\s*(\d+)/);
  const skipped = out.match(/Skipped:\s*(\d+)/);
  if (total && ok) {
    passed += Number(ok[1]);
    failed += Number(total[1]) - Number(ok[1]) - Number(skipped?.[1] ?? 0);
    if (r.code !== 0 && Number(total[1]) === Number(ok[1])) failed++; // a suite crashed outside a test
  } else failed++;
}

console.log(`\n[earshot tests] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
