/**
 * The web app's Web Worker: receives the requests of ./protocol.ts, runs them on one Session
 * (./session.ts) and posts progress and one result or error per request. Typed arrays in the
 * results are transferred, not copied. Bundled by scripts/build.mjs as dist/web/worker.js.
 */
import { EarshotError } from '../../bindings/errors.ts';
import { checkRequest, type Reply, type Request } from './protocol.ts';
import { Session } from './session.ts';

interface WorkerScope {
  onmessage: ((ev: { data: unknown }) => void) | null;
  postMessage(m: Reply, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;
const session = new Session();
let queue: Promise<void> = Promise.resolve();

function transferables(v: unknown, out: Transferable[] = [], depth = 0): Transferable[] {
  if (depth > 4 || v === null || typeof v !== 'object') return out;
  if (ArrayBuffer.isView(v)) {
    if (!out.includes(v.buffer as ArrayBuffer) && v.buffer instanceof ArrayBuffer) out.push(v.buffer);
    return out;
  }
  for (const x of Object.values(v)) transferables(x, out, depth + 1);
  return out;
}

async function run(req: Request): Promise<unknown> {
  const progress = (stage: string, done: number, total: number) => scope.postMessage({ id: req.id, type: 'progress', stage, done, total });
  switch (req.type) {
    case 'init':
      return session.init({ engine: req.engine, threads: req.threads, modelUrl: req.modelUrl, modelSpec: /\/assets\/models\/svd-default\/?$/.test(req.modelUrl) ? 'default' : req.modelUrl, tfjsWasmPaths: req.tfjsWasmPaths, ortUrl: req.ortUrl });
    case 'load-wav':
      return session.loadWav(req.name, new Uint8Array(req.bytes), progress);
    case 'load-pcm':
      return session.loadPcm(req.name, req.sampleRate, req.channels, progress);
    case 'explain': {
      const { explanation: _e, ...r } = await session.explainAt(req.at, req.settings, progress);
      return r;
    }
    case 'bench':
      return session.bench(req.excerpts, req.repeats);
  }
}

scope.onmessage = (ev) => {
  // one request at a time, in order: the model and the core's arena are not re-entrant
  queue = queue.then(async () => {
    let id = 0;
    try {
      const d = ev.data as { id?: unknown };
      id = typeof d?.id === 'number' ? d.id : 0;
      const req = checkRequest(ev.data);
      const result = await run(req);
      scope.postMessage({ id, type: 'result', result }, transferables(result));
    } catch (e) {
      const code = e instanceof EarshotError ? e.code : 'INTERNAL';
      scope.postMessage({ id, type: 'error', code, message: (e as Error)?.message ?? String(e) });
    }
  });
};
