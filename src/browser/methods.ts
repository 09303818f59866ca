/**
 * The hook for more explainers in the web app. SLIME and KernelSHAP (src/explain) are built in;
 * audioLIME (stems / separation) and L-MAC (a trained decoder) are not browser-ready this session.
 * When one is, its module calls `registerWebMethod('audiolime', { explain })` and is imported by
 * src/browser/worker.ts: the worker then accepts `method: 'audiolime'`, reports it in the init
 * result (`methods`), and the page adds it to its method list. `explain` gets everything the
 * built-in path has and returns an Explanation that the page renders and serialises exactly like
 * SLIME's (explanationToJSON, heatmapPixels, listenable).
 */
import type { Explanation } from '../explain/types.ts';
import type { FrontEndConfig } from '../frontend/config.ts';
import type { BandStats } from '../frontend/stats.ts';
import type { EngineClassifier } from '../model/engines.ts';

export interface WebMethodInput {
  classifier: EngineClassifier;
  /** The normalised excerpt (T × F) centred on `centreFrame`, as SLIME sees it. */
  excerpt: Float32Array;
  /** The whole clip, mono at frontEnd.sampleRate (for methods that work on audio, e.g. audioLIME). */
  signal: Float32Array;
  centreFrame: number;
  frontEnd: FrontEndConfig;
  stats: BandStats;
  /** The page's settings (seed, samples, sampler, top, …). */
  settings: { seed: number; samples?: number; sampler: string; top: number; batch: number };
  onProgress?: (done: number, total: number) => void;
}

export interface WebMethod {
  explain(input: WebMethodInput): Promise<Explanation>;
}

const registry = new Map<string, WebMethod>();

/** Make an explainer available to the web app's worker under `name`. */
export function registerWebMethod(name: string, method: WebMethod): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || name === 'slime' || name === 'kernelshap') throw new Error(`registerWebMethod: bad or built-in name '${name}'`);
  registry.set(name, method);
}

export function webMethod(name: string): WebMethod | undefined {
  return registry.get(name);
}

/** Registered method names (after the built-in slime and kernelshap). */
export function registeredWebMethods(): string[] {
  return [...registry.keys()];
}
