/**
 * What the web app's worker computes, without the worker: one model on one engine, one loaded
 * clip, and explanations of excerpts of it. The front end and the explanation run through the
 * same platform-neutral core as `earshot explain` (src/explain/run.ts: prepareSignal,
 * explainExcerpt), so the page's explanation JSON is the CLI's, bit for bit, when both run the
 * same engine (docs/browser.md, tests/browser.test.ts). Only the I/O differs: bytes come from
 * fetch / the page instead of the file system, results go back as worker messages.
 *
 * DOM-free and browser-safe; tests drive it in Node (tests/browser-protocol.test.ts).
 */
import { EarshotError } from '../../bindings/errors.ts';
import { initCore } from '../../bindings/wasm.ts';
import { decodeWav } from '../audio/wav.ts';
import { mixdown, resample } from '../audio/index.ts';
import { explainExcerpt, frameToSeconds, prepareSignal, secondsToFrame, type PreparedSignal } from '../explain/run.ts';
import type { Explanation } from '../explain/types.ts';
import { SVD_FRONTEND, type FrontEndConfig } from '../frontend/config.ts';
import type { BandStats } from '../frontend/stats.ts';
import { initBackend } from '../model/backend.ts';
import { createClassifier, type EngineClassifier } from '../model/engines.ts';
import type { ModuleImporter } from '../model/onnx/runtime.ts';
import { inputPipelineOf, parseWeights, MANIFEST_FILE, WEIGHTS_FILE, type WeightSet } from '../model/weights.ts';
import { heatmapPixels } from '../render/heatmap.ts';
import { listenable } from '../render/listen.ts';
import { simdSupported } from './features.ts';
import { registeredWebMethods, webMethod } from './methods.ts';
import { WEB_METHODS } from './protocol.ts';
import type { BenchResult, ClipResult, ExplainResultMsg, InitResult, WebEngine, WebSettings } from './protocol.ts';

/** How the session reads bytes (fetch in a browser; tests pass a file reader). */
export type FetchBytes = (url: string) => Promise<Uint8Array>;

export const fetchBytes: FetchBytes = async (url) => {
  const r = await fetch(url);
  if (!r.ok) throw new EarshotError('MODEL_MISSING', `${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
};

export interface SessionInit {
  engine: WebEngine;
  threads: number;
  /** Directory URL of model.json + weights.bin (ending in '/'). */
  modelUrl: string;
  /** 'default' for the bundled model (what the CLI records without --model), else the URL. */
  modelSpec?: string;
  /** URL prefix of TF.js's .wasm files (setWasmPaths); Node finds them itself. */
  tfjsWasmPaths?: string;
  /** URL of onnxruntime-web's ESM build (its .wasm next to it). */
  ortUrl?: string;
  fetch?: FetchBytes;
  /** Overrides how onnxruntime-web is imported (Node tests). */
  importer?: ModuleImporter;
}

export { frameToSeconds, secondsToFrame } from '../explain/run.ts';

/**
 * TF.js 4.22's wasm backend gives XNNPACK fewer threads than setThreadsCount asks for when
 * navigator.hardwareConcurrency is small (measured in Chromium: 2 logical cores and
 * setThreadsCount(2) → 1 thread; 4 reported cores → 2). In a worker scope (only there: the page
 * keeps the true value) the reported core count is raised to 2 × threads so the thread count
 * asked for is the one used; the caller chose it knowing the machine.
 */
function allowTfjsThreads(threads: number): void {
  const g = globalThis as { WorkerGlobalScope?: unknown; navigator?: { hardwareConcurrency?: number } };
  if (!g.WorkerGlobalScope || !g.navigator) return;
  const want = 2 * threads;
  if ((g.navigator.hardwareConcurrency ?? 0) >= want) return;
  Object.defineProperty(Object.getPrototypeOf(g.navigator) as object, 'hardwareConcurrency', { configurable: true, get: () => want });
}

export type OnProgress = (stage: string, done: number, total: number) => void;

export class Session {
  private classifier: EngineClassifier | null = null;
  private weights: WeightSet | null = null;
  private stats: BandStats | null = null;
  private frontEnd: FrontEndConfig = SVD_FRONTEND;
  private modelSpec = 'default';
  private clip: PreparedSignal | null = null;
  private engineInfo: { engine: WebEngine; threads: number; detail: string } | null = null;

  /** Load the core, the TF.js backend and the model on the engine; measures a forward pass. */
  async init(o: SessionInit): Promise<InitResult> {
    if (typeof WebAssembly !== 'object') throw new EarshotError('NO_WASM', 'WebAssembly is not available');
    if (!simdSupported()) throw new EarshotError('NO_SIMD', 'WebAssembly SIMD is not supported');
    await initCore();
    const get = o.fetch ?? fetchBytes;
    const base = o.modelUrl.endsWith('/') ? o.modelUrl : `${o.modelUrl}/`;
    const [json, bin] = await Promise.all([get(base + MANIFEST_FILE), get(base + WEIGHTS_FILE)]);
    const w = parseWeights(new TextDecoder().decode(json), bin);
    if (o.engine === 'tfjs' && o.threads > 1) allowTfjsThreads(o.threads);
    // The CLI's loadModel: TF.js wasm first (the front-end gradient and tfjs engine need it).
    const info = await initBackend('wasm', { wasmPaths: o.tfjsWasmPaths, numThreads: o.engine === 'tfjs' ? o.threads : 1 });
    let importer = o.importer;
    const inNode = !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    // in a browser onnxruntime-web is not bundled: the page says where its ESM build is served
    // (Node imports the package by name through the engine's default importer)
    if (o.engine === 'ort-web' && !importer && !inNode) {
      const url = o.ortUrl;
      if (!url) throw new EarshotError('ENGINE_UNAVAILABLE', 'onnxruntime-web: the page gave no URL for its ESM build');
      importer = async () => {
        const ort = (await import(/* @vite-ignore */ url)) as { env: { wasm: { wasmPaths?: string } } };
        ort.env.wasm.wasmPaths = new URL('.', url).href;
        return ort;
      };
    }
    this.classifier?.dispose();
    const c = await createClassifier(w, { engine: o.engine, threads: o.threads, importer });
    this.classifier = c;
    this.weights = w;
    ({ stats: this.stats, frontEnd: this.frontEnd } = inputPipelineOf(w));
    this.modelSpec = o.modelSpec ?? o.modelUrl;
    const threads = o.engine === 'tfjs' ? info.numThreads : c.threads;
    const detail =
      o.engine === 'tfjs'
        ? `TF.js wasm (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads ? `multithreaded build, ${info.numThreads} thread${info.numThreads === 1 ? '' : 's'}` : 'single-threaded build'})`
        : `onnxruntime-web ${(c as unknown as { version?: string }).version ?? ''} wasm, ${c.threads} thread${c.threads === 1 ? '' : 's'}`;
    this.engineInfo = { engine: o.engine, threads, detail };
    const ms = await this.measure(16, 1);
    // a clip loaded before a switch of engine is re-prepared with the new model's statistics
    if (this.clip) this.clip = prepareSignal(this.clip.name, this.clip.signal, this.frontEnd, this.stats);
    return { engine: o.engine, threads, detail, modelId: c.id, labels: c.labels.slice(), methods: [...WEB_METHODS, ...registeredWebMethods()], msPerExcerpt: ms[0]! };
  }

  /** ms per excerpt of `repeats` forward passes of `n` excerpts (after one warm-up pass). */
  async measure(n: number, repeats: number): Promise<number[]> {
    const c = this.need();
    const [T, F] = c.inputShape as [number, number];
    const batch = new Float32Array(n * T * F);
    // a deterministic, non-trivial input: a smooth ripple in the normalised domain
    for (let i = 0; i < batch.length; i++) batch[i] = Math.sin(i * 0.0137) * 1.5;
    await c.predict(batch, n);
    const out: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await c.predict(batch, n);
      out.push((performance.now() - t0) / n);
    }
    return out;
  }

  async bench(excerpts: number, repeats: number): Promise<BenchResult> {
    const s = await this.measure(excerpts, repeats);
    const sorted = s.slice().sort((a, b) => a - b);
    const g = globalThis as { crossOriginIsolated?: boolean };
    return { engine: this.engineInfo!.engine, threads: this.engineInfo!.threads, detail: this.engineInfo!.detail, msPerExcerpt: sorted[Math.floor(sorted.length / 2)]!, samples: s, crossOriginIsolated: !!g.crossOriginIsolated };
  }

  private need(): EngineClassifier {
    if (!this.classifier) throw new EarshotError('ENGINE_UNAVAILABLE', 'no model loaded yet (init first)');
    return this.classifier;
  }

  /** A WAV file's bytes, read with earshot's reader (the CLI's loadMono: mixdown, resample). */
  loadWav(name: string, bytes: Uint8Array, onProgress?: OnProgress): Promise<ClipResult> {
    const audio = decodeWav(bytes, name);
    return this.loadPcm(name, audio.sampleRate, audio.channels, onProgress, audio.warnings);
  }

  /** Channels decoded elsewhere (the page's decodeAudioData for MP3/Ogg/FLAC …). */
  async loadPcm(name: string, sampleRate: number, channels: Float32Array[], onProgress?: OnProgress, warnings: string[] = []): Promise<ClipResult> {
    const c = this.need();
    const sr = this.frontEnd.sampleRate;
    const mono = mixdown(channels);
    if (mono.length === 0) throw new EarshotError('TOO_SHORT', `${name} holds no samples`);
    onProgress?.('front end', 0, 2);
    const signal = sampleRate === sr ? mono : resample(mono, sampleRate, sr);
    const clip = prepareSignal(name, signal, this.frontEnd, this.stats);
    const lm = clip.fe.logMel(signal);
    onProgress?.('P(voice)', 1, 2);
    const rows = clip.padded.length / clip.fe.nMels;
    const pVoice = await c.predictFrames(clip.padded, rows, { padded: true });
    onProgress?.('P(voice)', 2, 2);
    this.clip = clip;
    const fe = clip.fe.config;
    return {
      name,
      sampleRate: sr,
      samples: signal.length,
      seconds: signal.length / sr,
      logMel: lm.data,
      frames: lm.nFrames,
      bands: lm.nMels,
      pVoice,
      threshold: this.weights!.info.threshold,
      frameSeconds: fe.hop / fe.sampleRate,
      firstFrameSeconds: frameToSeconds(fe, 0),
      warnings,
    };
  }

  /** Explain the excerpt centred at `at` seconds, as `earshot explain --at` does. */
  async explainAt(at: number, s: WebSettings, onProgress?: OnProgress): Promise<ExplainResultMsg & { explanation: Explanation }> {
    const model = this.need();
    const clip = this.clip;
    if (!clip) throw new EarshotError('NO_CLIP', 'no clip loaded');
    const fe = clip.fe;
    const dur = clip.signal.length / fe.config.sampleRate;
    if (at > dur) throw new EarshotError('BAD_ARGUMENT', `at = ${at} s is past the end of ${clip.name} (${dur.toFixed(3)} s)`);
    const t0 = performance.now();
    const c = secondsToFrame(fe.config, at, clip.nFrames);
    const progress = onProgress ? (d: number, t: number) => onProgress('forward passes', d, t) : undefined;
    const hook = webMethod(s.method);
    const modelOption = this.modelSpec === 'default' ? undefined : this.modelSpec;
    const { explanation: e, excerpt: x, ctx, json } = await explainExcerpt({
      classifier: model,
      engine: this.engineInfo!.engine,
      clip,
      centreFrame: c,
      settings: s,
      modelSpec: this.modelSpec,
      modelOption,
      out: 'explanation',
      onProgress: progress,
      explainer: hook ? (x) => hook.explain({ classifier: model, excerpt: x, signal: clip.signal, centreFrame: c, frontEnd: fe.config, stats: clip.stats, settings: s, onProgress: progress }) : undefined,
    });
    const img = heatmapPixels(e, x, { topK: s.top });
    const rgba = new Uint8ClampedArray(img.width * img.height * 4);
    const ch = img.pixels.length / (img.width * img.height);
    for (let i = 0, j = 0; i < img.width * img.height; i++, j += ch) {
      rgba[4 * i] = img.pixels[j]!;
      rgba[4 * i + 1] = img.pixels[j + 1]!;
      rgba[4 * i + 2] = img.pixels[j + 2]!;
      rgba[4 * i + 3] = ch === 4 ? img.pixels[j + 3]! : 255;
    }
    const audio = listenable(e, clip.signal, ctx, { topK: s.top });
    const modelMs = (e.params.timings as { modelMs?: number } | undefined)?.modelMs ?? 0;
    return {
      explanation: e,
      json,
      heatmap: { pixels: rgba, width: img.width, height: img.height, spectrogram: img.geometry.spectrogram },
      audio: { excerpt: audio.excerpt, kept: audio.kept, rest: audio.rest, sampleRate: fe.config.sampleRate, mode: audio.mode },
      msPerExcerpt: e.forwardPasses ? modelMs / e.forwardPasses : 0,
      totalMs: performance.now() - t0,
    };
  }

  dispose(): void {
    this.classifier?.dispose();
    this.classifier = null;
    this.clip = null;
  }
}
