/**
 * The web app's URL parameters (for links and automated checks), e.g.
 * `?example=1&at=1.5&sampler=exhaustive&components=6&seed=0&autorun=1&engine=tfjs&threads=1`.
 * Names follow `earshot explain`'s options (kernel-width, segmentation, …). Unknown or invalid
 * parameters are an error the page shows, never silently ignored.
 */
import { EarshotError } from '../../bindings/errors.ts';
import { DEFAULT_SETTINGS, ENGINE_CHOICES, checkSettings, type WebEngine, type WebSettings } from './protocol.ts';

export interface PageParams {
  /** Load the bundled example (assets/lena-sung.wav). */
  example: boolean;
  /** Explain the excerpt at this time once the clip is loaded. */
  at?: number;
  /** Run `at` without a click (requires example or a loaded clip). */
  autorun: boolean;
  engine: WebEngine;
  /** Threads for the engine (default: min(2, cores) when cross-origin isolated, else 1). */
  threads?: number;
  settings: WebSettings;
}

const KEYS = ['example', 'at', 'autorun', 'engine', 'threads', 'method', 'segmentation', 'components', 'grid', 'content', 'sampler', 'samples', 'distance', 'kernel-width', 'seed', 'top', 'batch'];

function bad(msg: string): never {
  throw new EarshotError('BAD_USAGE', `URL parameter ${msg}`);
}

function int(q: URLSearchParams, k: string, min: number, max: number): number | undefined {
  const v = q.get(k);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) bad(`${k} must be an integer in [${min}, ${max}], got '${v}'`);
  return Number(v);
}

function flag(q: URLSearchParams, k: string): boolean {
  const v = q.get(k);
  if (v === null) return false;
  if (v === '' || v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return bad(`${k} must be 1 or 0, got '${v}'`);
}

/** Parse `location.search`. BAD_USAGE names the parameter. */
export function parsePageParams(search: string): PageParams {
  const q = new URLSearchParams(search);
  for (const k of q.keys()) if (!KEYS.includes(k)) bad(`'${k}' is unknown (known: ${KEYS.join(', ')})`);
  const engine = (q.get('engine') ?? 'tfjs') as WebEngine;
  if (!(ENGINE_CHOICES as readonly string[]).includes(engine)) bad(`engine must be one of ${ENGINE_CHOICES.join(', ')}, got '${engine}'`);
  let at: number | undefined;
  const atS = q.get('at');
  if (atS !== null) {
    at = Number(atS);
    if (atS.trim() === '' || !Number.isFinite(at) || at < 0) bad(`at must be a time in seconds ≥ 0, got '${atS}'`);
  }
  const raw: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const k of ['method', 'segmentation', 'content', 'sampler', 'distance'] as const) {
    const v = q.get(k);
    if (v !== null) raw[k] = v;
  }
  for (const [k, min, max] of [['components', 1, 9200], ['samples', 1, 1 << 26], ['seed', 0, 0xffffffff], ['top', 1, 1000], ['batch', 1, 1 << 16]] as const) {
    const v = int(q, k, min, max);
    if (v !== undefined) raw[k] = v;
  }
  const g = q.get('grid');
  if (g !== null) {
    const m = /^(\d+)x(\d+)$/.exec(g);
    if (!m) bad(`grid must be <time>x<freq>, e.g. 5x4, got '${g}'`);
    raw.grid = { time: Number(m[1]), freq: Number(m[2]) };
  }
  const kw = q.get('kernel-width');
  if (kw !== null) raw.kernelWidth = Number(kw);
  let settings: WebSettings;
  try {
    settings = checkSettings(raw);
  } catch (e) {
    bad((e as Error).message.replace(/^worker request: /, ''));
  }
  const autorun = flag(q, 'autorun');
  const example = flag(q, 'example');
  if (autorun && at === undefined) bad('autorun needs at=<seconds>');
  if (autorun && !example) bad('autorun needs example=1 (a dropped file cannot be given by URL)');
  return { example, at, autorun, engine, threads: int(q, 'threads', 1, 64), settings };
}
