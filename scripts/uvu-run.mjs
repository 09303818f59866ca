// Run every uvu suite under tests/ (files *.test.ts) in one process, with tsx loaded by the
// caller (`node --import tsx scripts/uvu-run.mjs [filter]`). uvu prints Total/Passed/Skipped.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'assembly' && name !== 'fixtures') walk(p, out);
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const files = walk(join(root, 'tests'), []).filter((f) => !filter || filter.test(relative(root, f)));
globalThis.UVU_DEFER = 1;
const { exec } = await import('uvu');
for (let i = 0; i < files.length; i++) {
  globalThis.UVU_INDEX = i;
  globalThis.UVU_QUEUE.push([relative(root, files[i])]);
  await import(pathToFileURL(files[i]).href);
}
await exec(false);
