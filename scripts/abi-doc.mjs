#!/usr/bin/env node
// Regenerate docs/abi.md's export table from the doc comments of the kernel family files
// re-exported by assembly/index.ts. Usage: node scripts/abi-doc.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const index = readFileSync(join(root, 'assembly', 'index.ts'), 'utf8');
const families = [...index.matchAll(/export \* from '\.\/(\w+)'/g)].map((m) => m[1]);
const rows = [
  '| `heapBase` | `(): usize` | first byte the host may use |',
  '| `abiVersion` | `(): i32` | the ABI version (1) |',
];
for (const f of families) {
  const src = readFileSync(join(root, 'assembly', `${f}.ts`), 'utf8');
  for (const m of src.matchAll(/((?:\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?)export function (\w+)\(([^)]*)\)\s*:\s*(\w+)/g)) {
    const doc = m[1].replace('/**', '').replace('*/', '').split('\n').map((l) => l.replace(/^\s*\*\s?/, '')).join(' ').replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
    const args = m[3].replace(/\s+/g, ' ').trim().replace(/,$/, '');
    rows.push(`| \`${m[2]}\` | \`(${args}): ${m[4]}\` | ${doc} |`);
  }
}
const path = join(root, 'docs', 'abi.md');
const doc = readFileSync(path, 'utf8');
const start = doc.indexOf('| export | signature | what it does |');
const end = doc.indexOf('\n\n', start);
writeFileSync(path, doc.slice(0, start) + '| export | signature | what it does |\n|---|---|---|\n' + rows.join('\n') + doc.slice(end));
console.error(`docs/abi.md: ${rows.length} exports from ${families.length} kernel families`);
