/**
 * The web app's worker protocol without a browser: request validation (src/browser/protocol.ts),
 * URL parameters (src/browser/params.ts), the sentences the page shows, and the worker module
 * itself (src/browser/worker.ts) driven through its message handler in Node, with the model
 * fetched over HTTP from scripts/serve.mjs — its explanation must equal the one the CLI's own
 * functions write (src/cli/commands/explain.ts), timings aside.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EarshotError } from '../bindings/errors.ts';
import { checkRequest, checkSettings, DEFAULT_SETTINGS, userMessage, type ClipResult, type ExplainResultMsg, type InitResult, type Reply } from '../src/browser/protocol.ts';
import { parsePageParams } from '../src/browser/params.ts';
import { simdSupported } from '../src/browser/features.ts';
import { registerWebMethod } from '../src/browser/methods.ts';
import { explain } from '../src/explain/index.ts';
import { ROOT } from './helpers.ts';

function throwsMsg(fn: () => unknown, code: string, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, EarshotError);
    assert.is((e as EarshotError).code, code, (e as Error).message);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('checkRequest names the field that is wrong', () => {
  throwsMsg(() => checkRequest(null), 'BAD_MESSAGE', /must be an object/);
  throwsMsg(() => checkRequest({ id: 0, type: 'init' }), 'BAD_MESSAGE', /id must be an integer in \[1/);
  throwsMsg(() => checkRequest({ id: 1, type: 'paint' }), 'BAD_MESSAGE', /unknown type "paint"/);
  throwsMsg(() => checkRequest({ id: 1, type: 'init', engine: 'webgpu', threads: 1, modelUrl: 'x/' }), 'BAD_MESSAGE', /engine must be one of tfjs, ort-web, got "webgpu"/);
  throwsMsg(() => checkRequest({ id: 1, type: 'init', engine: 'tfjs', threads: 0, modelUrl: 'x/' }), 'BAD_MESSAGE', /threads must be an integer in \[1, 64\], got 0/);
  throwsMsg(() => checkRequest({ id: 1, type: 'load-wav', name: 'a.wav', bytes: new Uint8Array(4) }), 'BAD_MESSAGE', /bytes must be an ArrayBuffer/);
  throwsMsg(() => checkRequest({ id: 1, type: 'load-pcm', name: 'a', sampleRate: 44100, channels: [new Float64Array(3)] }), 'BAD_MESSAGE', /channels must be a non-empty array of Float32Array/);
  throwsMsg(() => checkRequest({ id: 1, type: 'explain', at: -1, settings: DEFAULT_SETTINGS }), 'BAD_MESSAGE', /at must be a time in seconds ≥ 0, got -1/);
  throwsMsg(() => checkRequest({ id: 1, type: 'explain', at: NaN, settings: DEFAULT_SETTINGS }), 'BAD_MESSAGE', /at must be a time/);
  const ok = checkRequest({ id: 7, type: 'explain', at: 1.5, settings: { ...DEFAULT_SETTINGS, components: 6, sampler: 'exhaustive' } });
  assert.is(ok.id, 7);
});

test('checkSettings: unknown keys, enum values, exhaustive beyond 2^16, grid only for tf', () => {
  throwsMsg(() => checkSettings({ ...DEFAULT_SETTINGS, colour: 'red' }), 'BAD_MESSAGE', /unknown setting 'colour'/);
  throwsMsg(() => checkSettings({ ...DEFAULT_SETTINGS, content: 'silence' }), 'BAD_MESSAGE', /content must be one of zero, min_inp, mean_inp, noise, got "silence"/);
  throwsMsg(() => checkSettings({ ...DEFAULT_SETTINGS, sampler: 'exhaustive', components: 20 }), 'BAD_MESSAGE', /exhaustive' needs at most 16 components .* has 20/);
  throwsMsg(() => checkSettings({ ...DEFAULT_SETTINGS, grid: { time: 5, freq: 4 } }), 'BAD_MESSAGE', /grid applies to segmentation 'tf', not 'temporal'/);
  throwsMsg(() => checkSettings({ ...DEFAULT_SETTINGS, segmentation: 'tf', components: 4 }), 'BAD_MESSAGE', /components applies to segmentation 'temporal' or 'spectral'/);
  throwsMsg(() => checkSettings({ ...DEFAULT_SETTINGS, kernelWidth: 0 }), 'BAD_MESSAGE', /kernelWidth must be a number > 0, got 0/);
  assert.equal(checkSettings({ ...DEFAULT_SETTINGS, segmentation: 'tf', grid: { time: 6, freq: 4 } }).grid, { time: 6, freq: 4 });
});

test('registerWebMethod: a registered method is accepted by the protocol; built-in names are refused', () => {
  throwsMsg(() => checkSettings({ ...DEFAULT_SETTINGS, method: 'hooked' }), 'BAD_MESSAGE', /method must be one of slime, kernelshap, got "hooked"/);
  registerWebMethod('hooked', { explain: (i) => explain(i.classifier, i.excerpt, { numComponents: 4, sampler: 'exhaustive', seed: i.settings.seed }).then((e) => Object.assign(e, { params: { ...e.params, hook: 'hooked' } })) });
  assert.is(checkSettings({ ...DEFAULT_SETTINGS, method: 'hooked' }).method, 'hooked');
  assert.throws(() => registerWebMethod('slime', { explain: async () => { throw new Error('no'); } }), /built-in/);
});

test('URL parameters: the automated-check query, and errors that name the parameter', () => {
  const p = parsePageParams('?example=1&at=1.5&sampler=exhaustive&seed=0&autorun=1');
  assert.is(p.example, true);
  assert.is(p.at, 1.5);
  assert.is(p.autorun, true);
  assert.is(p.engine, 'tfjs');
  assert.is(p.settings.sampler, 'exhaustive');
  assert.is(p.settings.seed, 0);
  assert.is(parsePageParams('?segmentation=tf&grid=6x4').settings.grid?.time, 6);
  assert.is(parsePageParams('?kernel-width=0.5').settings.kernelWidth, 0.5);
  throwsMsg(() => parsePageParams('?smaple=dedup'), 'BAD_USAGE', /'smaple' is unknown/);
  throwsMsg(() => parsePageParams('?at=soon'), 'BAD_USAGE', /at must be a time in seconds ≥ 0, got 'soon'/);
  throwsMsg(() => parsePageParams('?seed=-3'), 'BAD_USAGE', /seed must be an integer in \[0, 4294967295\], got '-3'/);
  throwsMsg(() => parsePageParams('?autorun=1&example=1'), 'BAD_USAGE', /autorun needs at=<seconds>/);
  throwsMsg(() => parsePageParams('?autorun=1&at=2'), 'BAD_USAGE', /autorun needs example=1/);
  throwsMsg(() => parsePageParams('?engine=webgl'), 'BAD_USAGE', /engine must be one of tfjs, ort-web, got 'webgl'/);
  throwsMsg(() => parsePageParams('?grid=5by4&segmentation=tf'), 'BAD_USAGE', /grid must be <time>x<freq>/);
});

test('user messages: unsupported files, no SIMD, and a fallback that keeps the code', () => {
  assert.match(userMessage('UNSUPPORTED_FILE', 'x.txt is not audio'), /^This file cannot be read: x\.txt is not audio\. Try a WAV, MP3, Ogg or FLAC/);
  assert.match(userMessage('WAV_TRUNCATED', 'a.wav: the data chunk is cut short'), /looks damaged: a\.wav/);
  assert.match(userMessage('NO_SIMD', ''), /lacks WebAssembly SIMD \(Chrome\/Edge 91\+, Firefox 89\+, Safari 16\.4\+/);
  assert.match(userMessage('NO_CLIP', ''), /Load an audio file/);
  assert.match(userMessage('WEIRD', 'boom'), /Something went wrong \(WEIRD\): boom/);
  assert.ok(simdSupported(), 'Node 20 has wasm SIMD: the feature test must say so');
});

test('scripts/serve.mjs: cross-origin isolation headers, wasm MIME type, nothing outside dist/web and assets/', async () => {
  // @ts-expect-error plain ESM script without types
  const { startServer } = (await import('../scripts/serve.mjs')) as { startServer(o: object): Promise<{ server: { close(): void; closeAllConnections?(): void }; url: string }> };
  const { server, url } = await startServer({ port: 0 });
  const { request } = await import('node:http');
  const get = (path: string) =>
    new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const u = new URL(url);
      const req = request({ host: u.hostname, port: u.port, path, method: 'HEAD' }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      });
      req.on('error', reject);
      req.end();
    });
  try {
    const index = await get('/');
    assert.is(index.status, 200);
    assert.is(index.headers['cross-origin-opener-policy'], 'same-origin');
    assert.is(index.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.is((await get('/tfjs/tfjs-backend-wasm-simd.wasm')).headers['content-type'], 'application/wasm');
    assert.is((await get('/assets/models/svd-default/model.json')).status, 200);
    assert.is((await get('/%2e%2e/package.json')).status, 404);
    assert.is((await get('/assets/%2e%2e/package.json')).status, 404);
    assert.is((await get('/no-such-file.js')).status, 404);
  } finally {
    server.closeAllConnections?.();
    server.close();
  }
});

test('the worker module in Node: ids, progress, errors, and the CLI’s explanation JSON (timings aside)', async () => {
  // the worker's global scope, stubbed at its boundary: postMessage collects, onmessage is the worker's
  const g = globalThis as unknown as { onmessage: ((ev: { data: unknown }) => void) | null; postMessage: (m: Reply) => void };
  const replies: Reply[] = [];
  const waiters = new Map<number, (r: Reply) => void>();
  const savedPost = g.postMessage;
  g.postMessage = (m: Reply) => {
    replies.push(m);
    if (m.type !== 'progress') waiters.get(m.id)?.(m);
  };
  // @ts-expect-error plain ESM script without types
  const { startServer } = (await import('../scripts/serve.mjs')) as { startServer(o: object): Promise<{ server: { close(): void; closeAllConnections?(): void }; url: string }> };
  const { server, url } = await startServer({ port: 0 });
  const tmp = mkdtempSync(join(tmpdir(), 'earshot-worker-'));
  try {
    await import('../src/browser/worker.ts');
    const onmessage = g.onmessage!;
    const ask = (data: Record<string, unknown>) =>
      new Promise<Reply>((resolve) => {
        waiters.set(data.id as number, resolve);
        onmessage({ data });
      });

    const bad = await ask({ id: 1, type: 'explain', at: 1 });
    assert.is(bad.type, 'error');
    assert.is((bad as { code: string }).code, 'BAD_MESSAGE');
    const early = await ask({ id: 2, type: 'explain', at: 1, settings: DEFAULT_SETTINGS });
    assert.is((early as { code: string }).code, 'ENGINE_UNAVAILABLE', JSON.stringify(early));

    const init = (await ask({ id: 3, type: 'init', engine: 'tfjs', threads: 1, modelUrl: `${url}assets/models/svd-default/` })) as { type: string; result: InitResult };
    assert.is(init.type, 'result', JSON.stringify(init));
    assert.is(init.result.engine, 'tfjs');
    assert.equal(init.result.methods, ['slime', 'kernelshap', 'hooked']);
    assert.ok(init.result.msPerExcerpt > 0);
    const noClip = await ask({ id: 4, type: 'explain', at: 1, settings: DEFAULT_SETTINGS });
    assert.is((noClip as { code: string }).code, 'NO_CLIP');

    const notWav = await ask({ id: 5, type: 'load-wav', name: 'noise.bin', bytes: new Uint8Array(64).fill(7).buffer });
    assert.is((notWav as { code: string }).code, 'WAV_NOT_RIFF');
    assert.match((notWav as { message: string }).message, /noise\.bin/);

    const bytes = readFileSync(join(ROOT, 'assets', 'lena-sung.wav'));
    const loaded = (await ask({ id: 6, type: 'load-wav', name: 'assets/lena-sung.wav', bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) })) as { type: string; result: ClipResult };
    assert.is(loaded.type, 'result', JSON.stringify(loaded).slice(0, 300));
    const clip = loaded.result;
    assert.is(clip.pVoice.length, clip.frames, 'one P(voice) per frame');
    assert.is(clip.logMel.length, clip.frames * clip.bands);
    assert.is(clip.sampleRate, 22050);
    assert.ok(replies.some((r) => r.id === 6 && r.type === 'progress'), 'progress messages while loading');

    const settings = { ...DEFAULT_SETTINGS, components: 4, sampler: 'exhaustive' as const };
    const ex = (await ask({ id: 7, type: 'explain', at: 1.5, settings })) as { type: string; result: ExplainResultMsg };
    assert.is(ex.type, 'result', JSON.stringify(ex).slice(0, 300));
    assert.ok(replies.filter((r) => r.id === 7 && r.type === 'progress').length >= 1, 'progress over forward passes');
    const r = ex.result;
    assert.is(r.heatmap.pixels.length, r.heatmap.width * r.heatmap.height * 4);
    assert.is(r.audio.excerpt.length, r.audio.kept.length);

    // the hook: a registered method runs in the worker's explain path
    const hooked = (await ask({ id: 8, type: 'explain', at: 1.5, settings: { ...DEFAULT_SETTINGS, method: 'hooked' } })) as { type: string; result: ExplainResultMsg };
    assert.is(hooked.type, 'result', JSON.stringify(hooked).slice(0, 300));
    const hj = JSON.parse(hooked.result.json) as { params: { hook: string }; components: { d: number }; forwardPasses: number };
    assert.is(hj.params.hook, 'hooked');
    assert.is(hj.components.d, 4);

    // the CLI's own functions on the same clip, options and engine
    const { loadModel } = await import('../src/cli/model-loader.ts');
    const { prepareClip, explainExcerptToDir, secondsToFrame } = await import('../src/cli/commands/explain.ts');
    const model = await loadModel(undefined, { engine: 'tfjs' });
    try {
      const prepared = await prepareClip('assets/lena-sung.wav', { ...model });
      const { resolve } = await import('node:path');
      const cwd = process.cwd();
      process.chdir(ROOT);
      let cliText: string;
      try {
        const c = secondsToFrame(prepared.fe, 1.5, prepared.nFrames);
        const res = await explainExcerptToDir(model, { ...prepared, path: 'assets/lena-sung.wav' }, c, { segmentation: 'temporal', components: 4, method: 'slime', content: 'mean_inp', sampler: 'exhaustive', distance: 'cosine', seed: 0, top: 3, batch: 64, engine: 'tfjs', embed: false }, join(tmp, 'out'), { command: (JSON.parse(r.json) as { params: { command: string } }).params.command });
        cliText = readFileSync(resolve(res.files.json), 'utf8');
      } finally {
        process.chdir(cwd);
      }
      const a = JSON.parse(r.json) as Record<string, any>;
      const b = JSON.parse(cliText) as Record<string, any>;
      for (const d of [a, b]) {
        delete d.timings;
        delete d.params.timings;
      }
      assert.equal(a, b);
    } finally {
      model.classifier.dispose();
    }
  } finally {
    g.postMessage = savedPost;
    server.closeAllConnections?.();
    server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
