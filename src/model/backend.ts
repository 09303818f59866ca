/**
 * One place that brings up TF.js for earshot's classifiers: @tensorflow/tfjs-core on the
 * @tensorflow/tfjs-backend-wasm backend (XNNPACK, SIMD) or, for tests and as a reference, the
 * pure-JS tfjs-backend-cpu. Everything offline: in Node the wasm backend's CommonJS entry finds
 * its own .wasm files next to it; browsers and bundles must say where they are (`wasmPaths`,
 * forwarded to `setWasmPaths`). Node gets SIMD but no wasm threads (the backend hard-wires
 * WASM_HAS_MULTITHREAD_SUPPORT to false there; platform.md): parallelism in Node comes from
 * worker_threads, one backend per worker.
 *
 * tfjs-core registers no gradients by itself and its `register_all_gradients` module is ESM with
 * extension-less imports that Node cannot load, so `initBackend` registers earshot's own
 * gradient set (./gradients.ts) for the kernels the model, its training and the explainers use.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { EarshotError, checkEnum } from '../../bindings/errors.ts';
import { registerGradients } from './gradients.ts';

export type BackendName = 'wasm' | 'cpu';

/** What is actually running after `initBackend`. */
export interface BackendInfo {
  backend: BackendName;
  /** wasm SIMD in use (always false for 'cpu'). */
  simd: boolean;
  /** wasm threads in use (false in Node: the backend disables them there). */
  threads: boolean;
  /** Worker threads of the wasm backend (1 without threads). */
  numThreads: number;
  /** Kernels whose gradients earshot registered (those tfjs-core had none for). */
  gradients: string[];
}

export interface BackendOptions {
  /** Browsers / bundles: a URL prefix or file map for the backend's .wasm files (see setWasmPaths). */
  wasmPaths?: string | Record<string, string>;
  /** Threads for the wasm backend where the runtime supports them (browsers, cross-origin isolated). */
  numThreads?: number;
}

let current: Promise<BackendInfo> | null = null;
let currentName: BackendName | null = null;

/**
 * Select and initialise a TF.js backend once per process (or worker). Calling it again with the
 * same name returns the same promise; switching names re-selects the backend (both stay
 * registered with TF.js, so tensors made before the switch must not be reused after it).
 */
export function initBackend(name: BackendName = 'wasm', opts: BackendOptions = {}): Promise<BackendInfo> {
  checkEnum(name, 'backend', ['wasm', 'cpu'] as const);
  if (current && currentName === name) return current;
  currentName = name;
  current = start(name, opts).catch((e) => {
    current = null;
    currentName = null;
    throw e instanceof EarshotError ? e : new EarshotError('BACKEND_INIT', `TF.js backend '${name}' failed to start: ${(e as Error).message}`);
  });
  return current;
}

async function start(name: BackendName, opts: BackendOptions): Promise<BackendInfo> {
  const gradients = registerGradients();
  if (name === 'cpu') {
    // A devDependency: the library never needs it, tests and references do.
    await import('@tensorflow/tfjs-backend-cpu');
  } else {
    if (opts.wasmPaths !== undefined) setWasmPaths(opts.wasmPaths as string);
    if (opts.numThreads !== undefined) {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setThreadsCount(opts.numThreads);
    }
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new EarshotError('BACKEND_INIT', `TF.js could not initialise the '${name}' backend`);
  await tf.ready();
  // tfjs-cpu greets Node users with an advert for tfjs-node on its first tensor; earshot chose cpu on purpose.
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  let simd = false;
  let threads = false;
  let numThreads = 1;
  if (name === 'wasm') {
    simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    if (threads) {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      numThreads = wasm.getThreadsCount();
    }
  }
  return { backend: name, simd, threads, numThreads, gradients };
}

/** The backend `initBackend` selected, or throws if none was initialised yet. */
export function activeBackend(): BackendName {
  if (!currentName) throw new EarshotError('BACKEND_INIT', 'no TF.js backend initialised: await initBackend() first');
  return currentName;
}


