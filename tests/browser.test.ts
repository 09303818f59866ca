/**
 * The web app in a real browser: Debian's chromium (scripts/install-chromium.sh) driven headless
 * by playwright-core, the app served cross-origin isolated by scripts/serve.mjs. The page runs
 * the bundled example with URL parameters, and its explanation JSON must equal, bit for bit
 * (weights compared as float64 with Object.is), what `earshot explain` writes in Node for the
 * same clip, options and seed on the same engine (TF.js wasm; docs/browser.md says why that is
 * enough for exact equality). Timings are the only fields allowed to differ.
 *
 * Without chromium the suite FAILS, naming the fix, unless EARSHOT_SKIP_BROWSER=1 says to skip
 * it knowingly (then it prints a banner). It needs the build (dist/web, dist/earshot.mjs).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, launch, serve } from '../bench/browser-launch.ts';
import { ROOT } from './helpers.ts';

const skip = process.env.EARSHOT_SKIP_BROWSER === '1';
const missing = browserMissing(ROOT);
const AT = 1.5;
// d = 6 exhaustive: 64 forward passes a side keeps the suite to seconds
const CLI_OPTS = ['--at', String(AT), '--sampler', 'exhaustive', '--components', '6', '--seed', '0'];
const PAGE_QUERY = `?example=1&at=${AT}&sampler=exhaustive&components=6&seed=0&autorun=1`;

let browser: Browser | null = null;
let server: { url: string; close(): Promise<void> } | null = null;
let tmp = '';
let cliJson: Promise<string> | null = null;

/** `earshot explain` (the built CLI) on the example, in a scratch directory with assets/ linked in. */
function runCli(): Promise<string> {
  tmp = mkdtempSync(join(tmpdir(), 'earshot-browser-'));
  symlinkSync(join(ROOT, 'assets'), join(tmp, 'assets'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'earshot.mjs'), 'explain', 'assets/lena-sung.wav', ...CLI_OPTS, '--engine', 'tfjs', '--out', 'explanation'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(readFileSync(join(tmp, 'explanation', 'explanation.json'), 'utf8')) : reject(new Error(`earshot explain exited ${code}: ${err.slice(-800)}`))));
  });
}

interface Watched {
  page: Page;
  errors: string[];
}

async function open(query: string): Promise<Watched> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // count every sound the page starts: nothing may play before a play button is pressed
  await page.addInitScript(() => {
    const w = window as unknown as { __starts: number; __media: number };
    w.__starts = 0;
    w.__media = 0;
    // AudioBufferSourceNode overrides start(), so both prototypes are wrapped
    for (const proto of [AudioScheduledSourceNode.prototype, AudioBufferSourceNode.prototype]) {
      const start = proto.start;
      proto.start = function (this: AudioScheduledSourceNode, ...a: unknown[]) {
        w.__starts++;
        return (start as (...x: unknown[]) => void).apply(this, a);
      } as typeof start;
    }
    const play = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function () {
      w.__media++;
      return play.call(this);
    };
  });
  await page.goto(server!.url + query);
  return { page, errors };
}

async function waitExplained(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const e = (window as unknown as { earshot?: { lastExplanation: unknown; errors: string[] } }).earshot;
    return !!e && (e.lastExplanation !== null || e.errors.length > 0);
  }, null, { timeout: 120_000 });
  const errs = await page.evaluate(() => (window as unknown as { earshot: { errors: string[] } }).earshot.errors);
  assert.equal(errs, [], 'the page reported errors');
}

// A string, not a function: tsx's name-keeping helper (__name) does not exist inside the page.
const PIXEL_STATS = `(() => {
  const stat = (id) => {
    const cv = document.getElementById(id);
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let red = 0, blue = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], g = d[i + 1], b = d[i + 2];
      colours.add((r << 16) | (g << 8) | b);
      if (r > g + 60 && r > b + 60) red++;
      if (b > r + 60 && b > g + 30) blue++;
    }
    return { w: cv.width, h: cv.height, red, blue, colours: colours.size };
  };
  return { overview: stat('overview'), heatmap: stat('heatmap') };
})()`;

function withoutTimings(doc: Record<string, unknown>): Record<string, unknown> {
  const c = structuredClone(doc);
  delete c.timings;
  delete (c.params as Record<string, unknown>).timings;
  return c;
}

test.before(async () => {
  if (skip || missing) return;
  cliJson = runCli();
  cliJson.catch(() => undefined);
  server = await serve();
  browser = await launch();
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

if (skip) {
  console.log('\n' + '!'.repeat(78) + '\n!! EARSHOT_SKIP_BROWSER=1: the real-browser tests (tests/browser.test.ts) are SKIPPED\n' + '!'.repeat(78) + '\n');
} else {
  test('chromium and the built web app are available', () => {
    assert.is(missing, null, missing ?? '');
  });
}

if (!skip && !missing) {
  test('the example page runs with no console error, draws the spectrogram and heatmap, plays nothing unasked, and its JSON is bit-identical to `earshot explain --engine tfjs`', async () => {
    const { page, errors } = await open(`${PAGE_QUERY}&threads=1`);
    await waitExplained(page);
    assert.ok(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated (COOP/COEP headers)');

    // pixels: the overview has a spread of colours and the P(voice) curve; the heatmap is tinted
    const px = (await page.evaluate(PIXEL_STATS)) as Record<'overview' | 'heatmap', { w: number; h: number; red: number; blue: number; colours: number }>;
    assert.ok(px.overview.colours > 100, `overview spectrogram has ${px.overview.colours} colours`);
    assert.ok(px.overview.red > 200, `the P(voice) curve is drawn (${px.overview.red} red pixels)`);
    assert.ok(px.heatmap.w > 100 && px.heatmap.h > 100, `heatmap ${px.heatmap.w}×${px.heatmap.h}`);
    assert.ok(px.heatmap.red > 500, `positive weights are tinted red (${px.heatmap.red} pixels)`);

    // nothing played by itself; a play button does play (so the counter works)
    const before = await page.evaluate(() => (window as unknown as { __starts: number; __media: number }).__starts + (window as unknown as { __media: number }).__media);
    assert.is(before, 0, 'no sound started without a click');
    await page.click('#play-top');
    assert.is(await page.evaluate(() => (window as unknown as { __starts: number }).__starts), 1, 'the play button starts one sound');
    await page.click('#stop');

    // bit-identical to the CLI (timings aside)
    const pageText = await page.evaluate(() => (window as unknown as { earshot: { lastExplanationJSON: string } }).earshot.lastExplanationJSON);
    const pageDoc = JSON.parse(pageText) as Record<string, unknown>;
    const cliDoc = JSON.parse(await cliJson!) as Record<string, unknown>;
    const pw = pageDoc.weights as number[];
    const cw = cliDoc.weights as number[];
    assert.is(pw.length, cw.length);
    for (let j = 0; j < pw.length; j++) assert.ok(Object.is(pw[j], cw[j]), `weights[${j}]: page ${pw[j]} vs CLI ${cw[j]}`);
    for (const k of ['intercept', 'score', 'localPrediction', 'prediction']) assert.ok(Object.is(pageDoc[k], cliDoc[k]), `${k}: page ${pageDoc[k]} vs CLI ${cliDoc[k]}`);
    assert.equal(withoutTimings(pageDoc), withoutTimings(cliDoc));
    assert.is(pageDoc.forwardPasses, 64);

    // accessible: every control has a label; the overview works from the keyboard
    const unlabelled = await page.evaluate(`[...document.querySelectorAll('input, select')].filter((e) => e.labels.length === 0).map((e) => e.id)`);
    assert.equal(unlabelled, [], 'controls without a label');
    await page.focus('#overview');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.waitForFunction((prev) => (window as unknown as { earshot: { lastExplanationJSON: string; busy: boolean } }).earshot.lastExplanationJSON !== prev, pageText, { timeout: 120_000 });
    const moved = JSON.parse(await page.evaluate(() => (window as unknown as { earshot: { lastExplanationJSON: string } }).earshot.lastExplanationJSON)) as { params: { input: { atSeconds: number } } };
    const was = (pageDoc.params as { input: { atSeconds: number } }).input.atSeconds;
    assert.ok(Math.abs(moved.params.input.atSeconds - (was + 0.5)) < 0.03, `→ ×5 then Enter explains 0.5 s later (${was} → ${moved.params.input.atSeconds})`);
    assert.equal(errors, [], 'console errors');
    await page.close();
  });

  test('TF.js wasm on 2 threads (XNNPACK thread pool) gives the same bits as 1 thread', async () => {
    const { page, errors } = await open(`${PAGE_QUERY}&threads=2`);
    await waitExplained(page);
    const info = await page.evaluate(() => (window as unknown as { earshot: { engine: { detail: string; threads: number } } }).earshot.engine);
    assert.is(info.threads, 2, info.detail);
    const doc = JSON.parse(await page.evaluate(() => (window as unknown as { earshot: { lastExplanationJSON: string } }).earshot.lastExplanationJSON)) as Record<string, unknown>;
    assert.equal(withoutTimings(doc), withoutTimings(JSON.parse(await cliJson!) as Record<string, unknown>));
    assert.equal(errors, []);
    await page.close();
  });

  test('the library bundle dist/earshot.browser.mjs works in a page by itself (web/library.html: core, TF.js wasm, model, WAV, explain)', async () => {
    const { page, errors } = await open('library.html');
    await page.waitForFunction(() => (window as unknown as { earshotLibraryResult?: unknown }).earshotLibraryResult, null, { timeout: 120_000 });
    const r = (await page.evaluate(() => (window as unknown as { earshotLibraryResult: unknown }).earshotLibraryResult)) as { error?: string; forwardPasses: number; components: { d: number }; weights: number[] };
    assert.is(r.error, undefined, r.error);
    assert.is(r.forwardPasses, 16);
    assert.is(r.weights.length, 4);
    assert.ok(r.weights.every((w) => Number.isFinite(w)));
    assert.equal(errors, []);
    await page.close();
  });

  test('clear messages for a bad URL parameter, a non-audio file and a broken WAV; an Ogg file is decoded by the browser', async () => {
    const { page, errors } = await open('?sampler=bogus');
    await page.waitForFunction(() => !(document.getElementById('alert') as HTMLElement).hidden);
    const msg1 = await page.textContent('#alert');
    assert.match(msg1 ?? '', /sampler must be one of random, dedup, exhaustive, got "bogus"/);
    assert.is(await page.getAttribute('#alert', 'role'), 'alert');
    await page.waitForFunction(() => (window as unknown as { earshot: { ready: boolean } }).earshot.ready, null, { timeout: 60_000 });
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('this is not audio at all, just words\n'.repeat(20)) });
    await page.waitForFunction(() => /notes\.txt/.test(document.getElementById('alert')!.textContent ?? ''), null, { timeout: 30_000 });
    assert.match((await page.textContent('#alert')) ?? '', /cannot be read: notes\.txt is not a WAV file and this browser could not decode it/);
    // a broken WAV goes through earshot's reader and its code
    await page.setInputFiles('#file', { name: 'broken.wav', mimeType: 'audio/wav', buffer: Buffer.concat([Buffer.from('RIFF'), Buffer.from([36, 0, 0, 0]), Buffer.from('WAVEfmt ')]) });
    await page.waitForFunction(() => /broken\.wav/.test(document.getElementById('alert')!.textContent ?? ''), null, { timeout: 30_000 });
    assert.match((await page.textContent('#alert')) ?? '', /broken\.wav/);
    // a format earshot does not read itself goes through the browser's decodeAudioData
    await page.setInputFiles('#file', join(ROOT, 'node_modules', 'audio-lena', 'lena.ogg'));
    await page.waitForFunction(() => (window as unknown as { earshot: { clip: { name: string } | null } }).earshot.clip?.name === 'lena.ogg', null, { timeout: 60_000 });
    const clip = await page.evaluate(() => (window as unknown as { earshot: { clip: { seconds: number; frames: number } } }).earshot.clip);
    assert.ok(clip.seconds > 10 && clip.seconds < 14 && clip.frames > 600, `lena.ogg decoded: ${JSON.stringify(clip)}`);
    assert.equal(errors, []);
    await page.close();
  });
}

test.run();
