#!/usr/bin/env node
// Generate docs/abi.md, the reference of the compute core's exports for other hosts, from
//  - build/earshot.wasm itself: every export, its wasm function type (read from the binary's
//    type/function/export sections) and the module's imports;
//  - the kernel family files re-exported by assembly/index.ts: each export's AssemblyScript
//    signature and doc comment, and for each pointer argument the element type the kernel reads
//    or writes there (its typed load/store);
//  - the stability of each family (STABILITY below).
// Usage: node scripts/abi-doc.mjs [--check]   (--check: exit 1 if docs/abi.md is not up to date)
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

/** Stable: meaning and signature change only with an abiVersion bump and a note here; other hosts may build on them. */
const STABILITY = {
  index: 'stable',
  fft: 'stable',
  stft: 'stable',
  mel: 'stable',
  resample: 'stable',
  occlude: 'stable',
  ridge: 'stable',
  separate: 'internal',
  audiolime: 'internal',
  conv_grad: 'internal',
  bn_act: 'internal',
  frontend_grad: 'internal',
  input_grad: 'internal',
};
const STABILITY_TEXT = {
  stable: 'stable — kept within ABI version 1; a change of signature or meaning bumps `abiVersion()`',
  internal: "internal — serves earshot's own bindings (training, gradients, separation); may change in any release (and then bumps `abiVersion()`)",
};

// ------------------------------------------------------------------ the binary

function readWasm(bytes) {
  let p = 8;
  const u32 = () => {
    let r = 0;
    let s = 0;
    for (;;) {
      const b = bytes[p++];
      r |= (b & 0x7f) << s;
      if (!(b & 0x80)) return r >>> 0;
      s += 7;
    }
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const VT = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };
  const types = [];
  const funcs = [];
  const imports = [];
  const exports = [];
  let importedFuncs = 0;
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      for (let i = 0, n = u32(); i < n; i++) {
        p++; // 0x60
        const params = Array.from({ length: u32() }, () => VT[bytes[p++]]);
        const results = Array.from({ length: u32() }, () => VT[bytes[p++]]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let i = 0, n = u32(); i < n; i++) {
        const mod = name();
        const nm = name();
        const kind = bytes[p++];
        if (kind === 0) {
          imports.push({ name: `${mod}.${nm}`, type: types[u32()] });
          importedFuncs++;
        } else {
          imports.push({ name: `${mod}.${nm}`, kind });
          p = end; // earshot imports functions only; anything else is reported and parsing stops here
          break;
        }
      }
    } else if (id === 3) {
      for (let i = 0, n = u32(); i < n; i++) funcs.push(u32());
    } else if (id === 7) {
      for (let i = 0, n = u32(); i < n; i++) {
        const nm = name();
        const kind = bytes[p++];
        const index = u32();
        exports.push({ name: nm, kind: ['function', 'table', 'memory', 'global'][kind], index });
      }
    }
    p = end;
  }
  for (const e of exports) if (e.kind === 'function') e.type = types[funcs[e.index - importedFuncs]];
  return { imports, exports };
}

// ------------------------------------------------------------------ the sources

function docOf(raw) {
  return raw.replace('/**', '').replace('*/', '').split('\n').map((l) => l.replace(/^\s*\*\s?/, '')).join(' ').replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
}

/** The body of the function starting at `from` (brace matching). */
function bodyAt(src, from) {
  let i = src.indexOf('{', src.indexOf(')', from));
  const start = i;
  let depth = 0;
  for (; i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return src.slice(start, i + 1);
  }
  return src.slice(start);
}

/** Element type a kernel reads/writes through pointer `name`: its typed loads and stores, SIMD ones as v128. */
function elementType(body, name) {
  const found = new Set();
  for (const m of body.matchAll(new RegExp(`(?:load|store)<(\\w+)>\\(\\s*\\(?\\s*${name}\\b`, 'g'))) found.add(m[1]);
  if (new RegExp(`v128\\.(?:load|store)\\(\\s*\\(?\\s*${name}\\b`).test(body)) found.add('v128');
  // a pointer advanced by (i << 2) / (i << 3) before use names its element size
  const shift = new RegExp(`${name}\\s*\\+\\s*\\(?<usize>[^;]*?<<\\s*([23])\\)`).exec(body);
  if (!found.size && shift) found.add(shift[1] === '2' ? '4-byte' : '8-byte');
  return [...found].filter((t) => t !== 'v128' || found.size === 1).join('/') || null;
}

const index = readFileSync(join(root, 'assembly', 'index.ts'), 'utf8');
const families = [...index.matchAll(/export \* from '\.\/(\w+)'/g)].map((m) => m[1]);
const sources = { index };
for (const f of families) sources[f] = readFileSync(join(root, 'assembly', `${f}.ts`), 'utf8');

const fromSource = new Map();
for (const f of ['index', ...families]) {
  const src = sources[f];
  for (const m of src.matchAll(/((?:\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?)export function (\w+)\(([^)]*)\)\s*:\s*(\w+)/g)) {
    const params = m[3].split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
      const [n, t] = s.split(':').map((x) => x.trim());
      return { name: n, type: t };
    });
    const body = bodyAt(src, m.index + m[1].length);
    const pointers = params.filter((q) => q.type === 'usize').map((q) => ({ name: q.name, element: elementType(body, q.name) }));
    fromSource.set(m[2], { family: f, doc: docOf(m[1]), params, result: m[4], pointers });
  }
}

// ------------------------------------------------------------------ the document

const wasm = readFileSync(join(root, 'build', 'earshot.wasm'));
const { imports, exports } = readWasm(new Uint8Array(wasm));
const problems = [];
const byFamily = new Map();
for (const e of exports) {
  if (e.kind === 'memory') continue;
  if (e.kind !== 'function') {
    problems.push(`export ${e.name} is a ${e.kind}: only functions and the memory may be exported`);
    continue;
  }
  const s = fromSource.get(e.name);
  if (!s) {
    problems.push(`export ${e.name} has no source in the families of assembly/index.ts`);
    continue;
  }
  if (!STABILITY[s.family]) problems.push(`family ${s.family} has no entry in STABILITY (scripts/abi-doc.mjs)`);
  if (!s.doc) problems.push(`export ${e.name} (assembly/${s.family}.ts) has no doc comment`);
  if (!byFamily.has(s.family)) byFamily.set(s.family, []);
  byFamily.get(s.family).push({ ...s, name: e.name, wasmType: e.type });
}
const fnCount = exports.filter((e) => e.kind === 'function').length;

const sig = (s) => `(${s.params.map((q) => `${q.name}: ${q.type}`).join(', ')}): ${s.result}`;
const wsig = (t) => `(${t.params.join(', ')}) → ${t.results.length ? t.results.join(', ') : '()'}`;
const ptrs = (s) => (s.pointers.length ? s.pointers.map((q) => `\`${q.name}\`${q.element ? ` ${q.element}` : ''}`).join(', ') : '—');

let out = `# The compute core's ABI (build/earshot.wasm)

<!-- Generated by \`node scripts/abi-doc.mjs\` from build/earshot.wasm and the doc comments of the
kernel families in assembly/ (the source is the reference). Do not edit by hand: run the script
after adding or changing an export; tests/abi.test.ts fails when this file is stale. -->

\`build/earshot.wasm\` is an AssemblyScript module (\`--runtime stub\`, SIMD) that any wasm host can
call: numbers and pointers in, numbers out, no strings or managed objects across the boundary.
It exports ${fnCount} functions and its \`memory\`, and imports ${imports.map((i) => `\`${i.name}\`${i.type ? ` ${wsig(i.type)}` : ''}`).join(', ') || 'nothing'} —
called only when an internal assertion fails (the release build is compiled with \`noAssert\`, so
in practice never; a host should make it throw). The same bytes are embedded in the JavaScript
bundles (\`bindings/wasm-bytes.generated.ts\`); other hosts load the file.

A wasm host needs SIMD (the kernels use \`v128\`): browsers since 2021, Node ≥ 16, wasmtime,
Wasmer and WAMR with SIMD enabled.

## Memory contract

- **Who allocates and frees: the host, always.** No kernel allocates, frees or grows memory
  (there is no allocator export; the stub runtime never collects). The host places every input,
  output and scratch buffer at or above \`heapBase()\` and grows \`memory\` itself
  (\`memory.grow\`, pages of 64 KiB). Memory starts at the module's initial size; the data
  segment below \`heapBase()\` (FFT tables, constants) must not be written.
  In TypeScript this is the arena of \`bindings/wasm.ts\`; another host can use a bump allocator
  from \`heapBase()\` (examples/python/logmel.py does).
- **Pointers** are byte offsets into \`memory\` (\`usize\` = \`i32\` in wasm32; values ≥ 2³¹ arrive
  as negative i32 in some hosts — reinterpret as unsigned). **Lengths** are element counts, not
  bytes, unless an export's name says \`Bytes\`. Matrices are row-major; \`x[t·F + f]\` for
  frames × bands.
- **Alignment:** wasm loads never trap on misalignment, so any address works, but every f32/f64
  buffer should start at a multiple of 16 bytes (the SIMD loads are fastest there; the bindings
  always align to 16). Element type per pointer argument is listed below where the kernel reads
  or writes it directly (\`f32\`, \`f64\`, \`i32\`, \`u8\`; \`v128\` = read with SIMD loads, the
  description says the element type).
- **Aliasing:** inputs and outputs must not overlap unless the description says in-place is
  allowed (e.g. \`rfft\`, \`melLogFloor\`).
- **Sizes are not checked** inside the kernels: \`bindings/*.ts\` validate every shape, size and
  option before a call (and name the offending argument). A host calling the kernels directly
  must do the same; out-of-range pointers trap (\`RuntimeError: memory access out of bounds\`),
  wrong lengths silently compute garbage.
- Kernels are pure functions of their arguments and the memory they are given: no global state
  between calls (plans and filterbanks live in host memory), so one instance serves any number of
  independent callers in sequence; it is not re-entrant across threads sharing one memory.
- \`abiVersion()\` is bumped when a signature or meaning changes; the bindings refuse a mismatch.

## Stability

${Object.entries(STABILITY_TEXT).map(([k, v]) => `- **${k}**: ${v.replace(/^\w+ — /, '')}. Families: ${Object.entries(STABILITY).filter(([, s]) => s === k).map(([f]) => (f === 'index' ? '`heapBase`/`abiVersion`' : `\`${f}\``)).join(', ')}.`).join('\n')}

## Exports

Types: \`i32\` integer, \`f32\`/\`f64\` float, \`usize\` a pointer (i32 in wasm32). Pointers: the
element type the kernel reads or writes there (its typed loads/stores); buffer lengths are in the
description.
`;
for (const fam of ['index', ...families]) {
  const rows = byFamily.get(fam);
  if (!rows?.length) continue;
  out += `\n### ${fam === 'index' ? 'module' : `${fam}`} (assembly/${fam}.ts) — ${STABILITY[fam] ?? 'unclassified'}\n\n`;
  out += '| export | signature | wasm type | pointers | what it does |\n|---|---|---|---|---|\n';
  for (const r of rows) out += `| \`${r.name}\` | \`${sig(r)}\` | \`${wsig(r.wasmType)}\` | ${ptrs(r)} | ${r.doc} |\n`;
}
out += `
## Example (any host)

A real FFT of 1024 samples, in JavaScript without the bindings:

\`\`\`js
const { instance } = await WebAssembly.instantiate(bytes, { env: { abort() { throw new Error('abort'); } } });
const k = instance.exports;
let top = (k.heapBase() + 15) & ~15;
const alloc = (b) => { const p = top; top = (top + b + 15) & ~15; const need = top - k.memory.buffer.byteLength; if (need > 0) k.memory.grow(Math.ceil(need / 65536)); return p; };
const plan = alloc(k.fftPlanBytes(1024)); k.fftPlanInit(1024, plan);
const scratch = alloc(k.fftScratchBytes(1024)), x = alloc(4 * 1024), X = alloc(4 * 1026);
new Float32Array(k.memory.buffer, x, 1024).set(signal);
k.rfft(plan, 1024, x, X, scratch); // X: 513 complex bins, interleaved re, im
\`\`\`

## Example: Python (wasmtime)

\`examples/python/logmel.py\` loads the same \`build/earshot.wasm\` with the \`wasmtime\` package and
computes the singing-voice front end's log-mel spectrogram of a WAV file (melFilterbankBuild →
melSparseCount / melSparsify → windowFill → fftPlanInit → melFrontEnd), equal to earshot's in
Node bit for bit (tests/abi-example.test.ts):

\`\`\`sh
PY=$(bash examples/python/install.sh)        # venv on Debian's python3 (numpy) + pip install wasmtime
$PY examples/python/logmel.py assets/lena-sung.wav --out logmel.f32
\`\`\`
`;

if (problems.length) {
  console.error(`docs/abi.md: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
}
const path = join(root, 'docs', 'abi.md');
if (check) {
  const now = readFileSync(path, 'utf8');
  if (now !== out) {
    console.error('docs/abi.md is stale: run `node scripts/abi-doc.mjs`');
    process.exitCode = 1;
  } else console.error(`docs/abi.md is up to date (${fnCount} exports)`);
} else {
  writeFileSync(path, out);
  console.error(`docs/abi.md: ${fnCount} exports from ${families.length} kernel families`);
}
