#!/usr/bin/env node
// `npm run web`: serve the web app (dist/web, built by `npm run build`) on localhost and print
// its URL. Cross-origin isolated (COOP same-origin + COEP require-corp), so SharedArrayBuffer and
// the wasm threads of TF.js and onnxruntime-web work. /assets/ maps to the repository's assets/
// (the example clips and the bundled model, read at request time so a retrained model is served
// as the CLI sees it). Usage: node scripts/serve.mjs [--port N] [--host H]   (--port 0: any free port)
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.wav': 'audio/wav',
  '.bin': 'application/octet-stream',
};

/** The file behind a URL path, or null (never outside the served directories). */
function fileFor(urlPath, webDir, assetsDir) {
  let p;
  try {
    p = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (p.endsWith('/')) p += 'index.html';
  const [dir, rel] = p.startsWith('/assets/') ? [assetsDir, p.slice('/assets/'.length)] : [webDir, p.slice(1)];
  const f = normalize(join(dir, rel));
  if (f !== dir && !f.startsWith(dir + sep)) return null;
  if (!existsSync(f) || !statSync(f).isFile()) return null;
  return f;
}

/** Start the server; resolves to { server, url }. */
export function startServer({ port = 8080, host = '127.0.0.1', webDir = join(root, 'dist', 'web'), assetsDir = join(root, 'assets') } = {}) {
  if (!existsSync(join(webDir, 'index.html'))) {
    return Promise.reject(new Error(`${webDir}/index.html is missing: run \`npm run build\` first`));
  }
  const server = createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end();
      return;
    }
    const f = fileFor(req.url ?? '/', webDir, assetsDir);
    if (!f) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(f)] ?? 'application/octet-stream', 'Content-Length': statSync(f).size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(f).pipe(res);
  });
  return new Promise((resolveP, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address();
      resolveP({ server, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${a.port}/` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (n, d) => (process.argv.includes(n) ? process.argv[process.argv.indexOf(n) + 1] : d);
  const port = Number(arg('--port', process.env.PORT ?? '8080'));
  const host = arg('--host', '127.0.0.1');
  startServer({ port, host })
    .then(({ url }) => {
      console.log(`earshot web app: ${url}`);
      console.log(`  example run: ${url}?example=1&at=1.5&autorun=1`);
      console.log('  (Ctrl-C to stop)');
    })
    .catch((e) => {
      console.error(`earshot web: ${e.message}`);
      process.exitCode = 1;
    });
}
