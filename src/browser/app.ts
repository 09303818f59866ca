/**
 * The web app's page (web/index.html): picks or drops an audio file, hands all computing to the
 * worker (./worker.ts, protocol in ./protocol.ts), draws the clip's log-mel spectrogram with
 * its per-frame P(voice) curve, and on a click explains the excerpt at that time: heatmap of the
 * weights (the CLI's heatmap.png, drawn to a canvas), the settings and the surrogate's score,
 * and Web Audio play buttons for the top-k components, the rest and the original.
 *
 * For automated checks: URL parameters (./params.ts) and `window.earshot` (lastExplanation =
 * the explanation JSON `earshot explain` writes, parsed; lastExplanationJSON = its text).
 */
import { VIRIDIS } from '../render/colormap.ts';
import { parsePageParams, type PageParams } from './params.ts';
import { DEFAULT_SETTINGS, checkSettings, userMessage, type ClipResult, type ExplainResultMsg, type InitResult, type Reply, type WebEngine, type WebSettings } from './protocol.ts';
import { simdSupported } from './features.ts';

interface EarshotPageState {
  ready: boolean;
  busy: boolean;
  engine: InitResult | null;
  clip: { name: string; seconds: number; frames: number } | null;
  lastExplanation: unknown;
  lastExplanationJSON: string | null;
  lastExplainMs: number | null;
  errors: string[];
  /** Plays started by the page (a check that nothing plays unasked). */
  plays: number;
}

const EXAMPLE = 'assets/lena-sung.wav';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: EarshotPageState = { ready: false, busy: false, engine: null, clip: null, lastExplanation: null, lastExplanationJSON: null, lastExplainMs: null, errors: [], plays: 0 };
(window as unknown as { earshot: EarshotPageState }).earshot = state;

// ------------------------------------------------------------------ worker plumbing

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: { code: string; message: string }) => void; onProgress?: (stage: string, done: number, total: number) => void }>();

function startWorker(): Worker {
  worker?.terminate();
  for (const p of pending.values()) p.reject({ code: 'CANCELLED', message: 'the engine was restarted' });
  pending.clear();
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  w.onmessage = (ev: MessageEvent<Reply>) => {
    const m = ev.data;
    const p = pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') p.onProgress?.(m.stage, m.done, m.total);
    else {
      pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.result);
      else p.reject({ code: m.code, message: m.message });
    }
  };
  w.onerror = (ev) => {
    ev.preventDefault();
    for (const p of pending.values()) p.reject({ code: 'WORKER', message: ev.message || 'the worker failed to start' });
    pending.clear();
  };
  worker = w;
  return w;
}

function call<T>(msg: Record<string, unknown>, onProgress?: (stage: string, done: number, total: number) => void, transfer: Transferable[] = []): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
    worker!.postMessage({ ...msg, id }, transfer);
  });
}

// ------------------------------------------------------------------ messages, progress

function showError(e: unknown): void {
  const { code, message } = (e && typeof e === 'object' && 'code' in e ? e : { code: 'INTERNAL', message: String((e as Error)?.message ?? e) }) as { code: string; message: string };
  const text = userMessage(code, message);
  state.errors.push(text);
  const a = $<HTMLDivElement>('alert');
  a.textContent = text;
  a.hidden = false;
  setProgress('failed', 0, 1);
}

function clearError(): void {
  $<HTMLDivElement>('alert').hidden = true;
}

function setProgress(stage: string, done: number, total: number): void {
  const p = $<HTMLProgressElement>('progress');
  p.max = Math.max(1, total);
  p.value = done;
  $('progress-label').textContent = total > 1 ? `${stage}: ${done} / ${total}` : stage;
}

// ------------------------------------------------------------------ engine

const base = new URL('.', location.href).href;
const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
const cores = navigator.hardwareConcurrency || 1;

async function startEngine(engine: WebEngine, threads: number): Promise<void> {
  state.ready = false;
  setControls(false);
  startWorker();
  $('engine-info').textContent = `starting ${engine}…`;
  setProgress('loading the model', 0, 1);
  const info = await call<InitResult>({
    type: 'init',
    engine,
    threads,
    modelUrl: new URL('assets/models/svd-default/', base).href,
    tfjsWasmPaths: new URL('tfjs/', base).href,
    ortUrl: new URL('ort/ort.wasm.min.mjs', base).href,
  });
  state.engine = info;
  const sel = $<HTMLSelectElement>('method');
  for (const m of info.methods) if (!Array.from(sel.options).some((o) => o.value === m)) sel.add(new Option(m, m));
  $('engine-info').textContent = `${info.detail}: ${info.msPerExcerpt.toFixed(1)} ms per excerpt (forward pass, batch 16)`;
  setProgress('ready', 1, 1);
  state.ready = true;
  setControls(true);
  if (clipSource) await loadClip(clipSource);
}

function setControls(on: boolean): void {
  for (const id of ['file', 'example', 'engine', 'threads']) ($(id) as HTMLInputElement).disabled = !on;
  ($('explain') as HTMLButtonElement).disabled = !on || !state.clip;
}

// ------------------------------------------------------------------ audio in

type ClipSource = { name: string; bytes: ArrayBuffer };
let clipSource: ClipSource | null = null;
let clip: ClipResult | null = null;
let cursor: number | null = null;

function isWav(b: ArrayBuffer): boolean {
  if (b.byteLength < 12) return false;
  const s = String.fromCharCode(...new Uint8Array(b, 0, 4)) + String.fromCharCode(...new Uint8Array(b, 8, 4));
  return (s.startsWith('RIFF') || s.startsWith('RF64')) && s.endsWith('WAVE');
}

async function loadClip(src: ClipSource): Promise<void> {
  clearError();
  clipSource = src;
  state.busy = true;
  try {
    const onP = (stage: string, d: number, t: number) => setProgress(stage, d, t);
    if (isWav(src.bytes)) {
      clip = await call<ClipResult>({ type: 'load-wav', name: src.name, bytes: src.bytes.slice(0) }, onP);
    } else {
      let decoded: AudioBuffer;
      try {
        decoded = await new OfflineAudioContext(1, 1, 44100).decodeAudioData(src.bytes.slice(0));
      } catch (e) {
        throw { code: 'UNSUPPORTED_FILE', message: `${src.name} is not a WAV file and this browser could not decode it (${(e as Error)?.message || 'unknown format'})` };
      }
      const channels = Array.from({ length: decoded.numberOfChannels }, (_, c) => decoded.getChannelData(c).slice());
      clip = await call<ClipResult>({ type: 'load-pcm', name: src.name, sampleRate: decoded.sampleRate, channels }, onP, channels.map((c) => c.buffer));
    }
    state.clip = { name: clip.name, seconds: clip.seconds, frames: clip.frames };
    setProgress('ready', 1, 1);
    cursor = null;
    drawOverview();
    $('cursor-text').textContent = `${clip.name}: ${clip.seconds.toFixed(2)} s. Click a time (or use ← → and Enter) to explain it.${clip.warnings.length ? ` Note: ${clip.warnings.join('; ')}` : ''}`;
    setControls(true);
  } catch (e) {
    showError(e);
  } finally {
    state.busy = false;
  }
}

async function loadFile(f: File): Promise<void> {
  await loadClip({ name: f.name, bytes: await f.arrayBuffer() });
}

async function loadExample(): Promise<void> {
  const r = await fetch(new URL(EXAMPLE, base));
  if (!r.ok) throw { code: 'MODEL_MISSING', message: `the example ${EXAMPLE} could not be fetched (HTTP ${r.status})` };
  await loadClip({ name: EXAMPLE, bytes: await r.arrayBuffer() });
}

// ------------------------------------------------------------------ drawing

const STRIP = 70;

function drawOverview(): void {
  const cv = $<HTMLCanvasElement>('overview');
  const g = cv.getContext('2d')!;
  g.clearRect(0, 0, cv.width, cv.height);
  if (!clip) return;
  const { frames: T, bands: F, logMel } = clip;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of logMel) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  lo = Math.max(lo, hi - 4 * Math.LN10); // the top 80 dB (the log-mel is ln of a magnitude: 20 dB per ln(10))
  const img = new ImageData(T, F);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < F; b++) {
      const v = Math.min(1, Math.max(0, (logMel[t * F + b]! - lo) / (hi - lo || 1)));
      const k = Math.round(v * 255) * 3;
      const o = ((F - 1 - b) * T + t) * 4;
      img.data[o] = VIRIDIS[k]!;
      img.data[o + 1] = VIRIDIS[k + 1]!;
      img.data[o + 2] = VIRIDIS[k + 2]!;
      img.data[o + 3] = 255;
    }
  }
  const off = document.createElement('canvas');
  off.width = T;
  off.height = F;
  off.getContext('2d')!.putImageData(img, 0, 0);
  g.imageSmoothingEnabled = false;
  const H = cv.height - STRIP;
  g.drawImage(off, 0, 0, cv.width, H);
  // P(voice) strip: threshold line and the curve
  g.fillStyle = '#fafafa';
  g.fillRect(0, H, cv.width, STRIP);
  const y = (p: number) => H + 4 + (1 - p) * (STRIP - 8);
  g.strokeStyle = '#bbb';
  g.setLineDash([4, 4]);
  g.beginPath();
  g.moveTo(0, y(clip.threshold));
  g.lineTo(cv.width, y(clip.threshold));
  g.stroke();
  g.setLineDash([]);
  g.strokeStyle = '#c0392b';
  g.lineWidth = 1.5;
  g.beginPath();
  const P = clip.pVoice;
  for (let i = 0; i < P.length; i++) {
    const x = ((i + 0.5) / P.length) * cv.width;
    if (i === 0) g.moveTo(x, y(P[i]!));
    else g.lineTo(x, y(P[i]!));
  }
  g.stroke();
  g.fillStyle = '#333';
  g.font = '11px system-ui';
  g.fillText('P(voice)', 4, H + 12);
  // time ticks: 1, 2, 5, 10 … s apart, at least 60 px between labels
  const pxPerS = cv.width / (clip.frames * clip.frameSeconds);
  const step = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300].find((s) => s * pxPerS >= 60) ?? 600;
  for (let t = step; t < clip.seconds; t += step) {
    const x = (t - clip.firstFrameSeconds + clip.frameSeconds / 2) * pxPerS;
    if (x + 30 > cv.width) break;
    g.fillRect(x, cv.height - 6, 1, 6);
    g.fillText(`${t} s`, x + 3, cv.height - 2);
  }
  if (cursor !== null) {
    const x = ((cursor - clip.firstFrameSeconds) / clip.frameSeconds / clip.frames) * cv.width;
    g.strokeStyle = '#e67e22';
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(x, 0);
    g.lineTo(x, cv.height);
    g.stroke();
  }
}

function timeAt(xCss: number, widthCss: number): number {
  const c = clip!;
  const frame = Math.min(c.frames - 1, Math.max(0, Math.floor((xCss / widthCss) * c.frames)));
  return c.firstFrameSeconds + frame * c.frameSeconds;
}

function setCursor(t: number): void {
  if (!clip) return;
  cursor = Math.min(clip.seconds, Math.max(0, t));
  const frame = Math.round((cursor - clip.firstFrameSeconds) / clip.frameSeconds);
  const p = clip.pVoice[Math.min(clip.pVoice.length - 1, Math.max(0, frame))]!;
  $('cursor-text').textContent = `${cursor.toFixed(2)} s: P(voice) = ${p.toFixed(3)}. Press Enter or “Explain the selected time”.`;
  drawOverview();
}

// ------------------------------------------------------------------ explanations

function readSettings(): WebSettings {
  const v = (id: string) => ($(id) as HTMLInputElement).value;
  const raw: Record<string, unknown> = {
    ...DEFAULT_SETTINGS,
    method: v('method'),
    segmentation: v('segmentation'),
    content: v('content'),
    sampler: v('sampler'),
    seed: Number(v('seed')),
    top: Number(v('top')),
  };
  if (v('segmentation') !== 'tf') raw.components = Number(v('components'));
  if (v('samples') !== '') raw.samples = Number(v('samples'));
  return checkSettings(raw);
}

function writeSettings(s: WebSettings): void {
  const set = (id: string, x: unknown) => (($(id) as HTMLInputElement).value = x === undefined ? '' : String(x));
  set('method', s.method);
  set('segmentation', s.segmentation);
  set('content', s.content);
  set('sampler', s.sampler);
  set('seed', s.seed);
  set('top', s.top);
  set('samples', s.samples);
  if (s.components !== undefined) set('components', s.components);
}

let lastAudio: ExplainResultMsg['audio'] | null = null;
let extraSettings: Partial<WebSettings> = {};

async function explainAt(t: number): Promise<void> {
  if (!clip || !state.ready) return showError({ code: 'NO_CLIP', message: 'no clip' });
  clearError();
  setCursor(t);
  let settings: WebSettings;
  try {
    settings = checkSettings({ ...readSettings(), ...extraSettings });
  } catch (e) {
    return showError(e);
  }
  state.busy = true;
  ($('explain') as HTMLButtonElement).disabled = true;
  try {
    const r = await call<ExplainResultMsg>({ type: 'explain', at: t, settings }, (stage, d, n) => setProgress(stage, d, n));
    showExplanation(r, settings);
  } catch (e) {
    showError(e);
  } finally {
    state.busy = false;
    ($('explain') as HTMLButtonElement).disabled = false;
  }
}

function showExplanation(r: ExplainResultMsg, s: WebSettings): void {
  const doc = JSON.parse(r.json) as { score: number; prediction: number; forwardPasses: number; topPositive: number[]; components: { d: number; names: string[] }; params: Record<string, unknown>; excerpt: { seconds: [number, number] } | null };
  const cv = $<HTMLCanvasElement>('heatmap');
  cv.width = r.heatmap.width;
  cv.height = r.heatmap.height;
  cv.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(r.heatmap.pixels), r.heatmap.width, r.heatmap.height), 0, 0);
  const rows: Array<[string, string]> = [
    ['excerpt', doc.excerpt ? `${doc.excerpt.seconds[0].toFixed(2)}–${doc.excerpt.seconds[1].toFixed(2)} s` : '—'],
    ['P(voice)', doc.prediction.toFixed(3)],
    ['method', s.method],
    ['segmentation', `${s.segmentation}, d = ${doc.components.d}`],
    ['content type', s.content],
    ['sampler', `${s.sampler}, N_s = ${String(doc.params.numSamples ?? '—')}`],
    ['forward passes', String(doc.forwardPasses)],
    ['seed', String(s.seed)],
    ['surrogate score (R²)', doc.score.toFixed(4)],
    [`top-${s.top} positive`, doc.topPositive.map((j) => doc.components.names[j]).join(', ') || 'none'],
    ['engine', `${state.engine?.detail ?? ''}: ${r.msPerExcerpt.toFixed(1)} ms per excerpt, ${(r.totalMs / 1000).toFixed(2)} s in all`],
    ['reproduce in Node', String(doc.params.command ?? '')],
  ];
  const dl = $('summary');
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
  $('result').hidden = false;
  lastAudio = r.audio;
  const a = $<HTMLAnchorElement>('download');
  if (a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([r.json], { type: 'application/json' }));
  state.lastExplainMs = r.totalMs;
  state.lastExplanationJSON = r.json;
  state.lastExplanation = JSON.parse(r.json);
  setProgress(`explained in ${(r.totalMs / 1000).toFixed(2)} s`, 1, 1);
}

// ------------------------------------------------------------------ playing

let ctx: AudioContext | null = null;
let playing: AudioBufferSourceNode | null = null;

function play(which: 'kept' | 'rest' | 'excerpt'): void {
  if (!lastAudio) return;
  ctx ??= new AudioContext();
  stop();
  const x = lastAudio[which];
  const buf = ctx.createBuffer(1, x.length, lastAudio.sampleRate);
  buf.copyToChannel(new Float32Array(x), 0);
  const src = ctx.createBufferSource();
  src.buffer = buf;
  src.connect(ctx.destination);
  src.start();
  state.plays++;
  playing = src;
}

function stop(): void {
  try {
    playing?.stop();
  } catch {
    // already ended
  }
  playing = null;
}

// ------------------------------------------------------------------ wiring

function wire(): void {
  const file = $<HTMLInputElement>('file');
  file.addEventListener('change', () => void (file.files?.[0] && loadFile(file.files[0])));
  $('example').addEventListener('click', () => void loadExample().catch(showError));
  const drop = $('drop');
  drop.addEventListener('click', () => file.click());
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      file.click();
    }
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files?.[0];
    if (f) void loadFile(f);
  });
  const ov = $<HTMLCanvasElement>('overview');
  ov.addEventListener('click', (e) => {
    if (!clip) return;
    const r = ov.getBoundingClientRect();
    void explainAt(timeAt(e.clientX - r.left, r.width));
  });
  ov.addEventListener('keydown', (e) => {
    if (!clip) return;
    const step = e.shiftKey ? 1 : 0.1;
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      setCursor((cursor ?? clip.firstFrameSeconds) + (e.key === 'ArrowRight' ? step : -step));
    } else if (e.key === 'Enter' && cursor !== null) {
      e.preventDefault();
      void explainAt(cursor);
    }
  });
  $('explain').addEventListener('click', () => cursor !== null && void explainAt(cursor));
  $('play-top').addEventListener('click', () => play('kept'));
  $('play-rest').addEventListener('click', () => play('rest'));
  $('play-orig').addEventListener('click', () => play('excerpt'));
  $('stop').addEventListener('click', stop);
  const eng = $<HTMLSelectElement>('engine');
  const thr = $<HTMLSelectElement>('threads');
  const restart = () => void startEngine(eng.value as WebEngine, Number(thr.value)).catch(showError);
  eng.addEventListener('change', restart);
  thr.addEventListener('change', restart);
}

async function main(): Promise<void> {
  wire();
  const thr = $<HTMLSelectElement>('threads');
  const maxThreads = isolated ? Math.max(2, Math.min(8, cores)) : 1;
  for (let t = 1; t <= maxThreads; t++) thr.add(new Option(String(t), String(t)));
  if (!isolated) thr.title = 'threads need a cross-origin isolated page (COOP/COEP headers); `npm run web` sends them';
  if (typeof WebAssembly !== 'object') return showError({ code: 'NO_WASM', message: '' });
  if (!simdSupported()) return showError({ code: 'NO_SIMD', message: '' });
  let params: PageParams;
  try {
    params = parsePageParams(location.search);
  } catch (e) {
    showError(e);
    params = parsePageParams('');
  }
  writeSettings(params.settings);
  // settings the form has no control for (batch, distance, kernel width, grid) ride along
  extraSettings = { batch: params.settings.batch, distance: params.settings.distance, kernelWidth: params.settings.kernelWidth, grid: params.settings.grid };
  if (params.settings.segmentation === 'tf') extraSettings.components = undefined;
  const threads = Math.min(maxThreads, params.threads ?? Math.min(2, maxThreads));
  thr.value = String(threads);
  ($('engine') as HTMLSelectElement).value = params.engine;
  try {
    await startEngine(params.engine, threads);
    if (params.example) await loadExample();
    if (params.at !== undefined && clip) {
      setCursor(params.at);
      if (params.autorun) await explainAt(params.at);
    }
  } catch (e) {
    showError(e);
  }
}

void main();
