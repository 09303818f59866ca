/**
 * Attacks spread over the machine's cores (src/parallel/pool.ts): the task 'veracity-attack'
 * loads the model once per worker (its own TF.js wasm backend and earshot core) and attacks a
 * batch of equally long inputs per call with `attackBatch` (one batched forward and backward
 * pass per iteration). `attackMany` splits a list of inputs into such batches and runs them on
 * a pool, or inline when workers = 1 or worker threads are not available.
 */
import { registerTask, WorkerPool, workersSupported } from '../parallel/pool.ts';
import { initBackend } from '../model/backend.ts';
import { SvdCnn } from '../model/svdcnn.ts';
import type { WeightSet } from '../model/weights.ts';
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { attackBatch, resolveAttackOptions, type AttackOptions, type AttackResult } from './attack.ts';
import { releaseInputGradients } from './grad.ts';

export const ATTACK_TASK = 'veracity-attack';

/** AttackOptions that cross a thread boundary (no callback). */
export type PortableAttackOptions = Omit<AttackOptions, 'onIteration'>;

interface Job {
  inputs: Float32Array[];
  options: PortableAttackOptions;
}

interface WorkerState {
  model: SvdCnn;
}

registerTask<Job, AttackResult[], WorkerState, WeightSet>(ATTACK_TASK, {
  async init(weights) {
    await initBackend('wasm');
    return { model: new SvdCnn(weights) };
  },
  run(job, state) {
    return attackBatch(state.model, job.inputs, job.options);
  },
  async dispose(state) {
    await releaseInputGradients(state.model);
    state.model.dispose();
  },
});

export interface AttackManyOptions {
  /** Worker threads (default 1 = inline on the calling thread with `model`). */
  workers?: number;
  /** Inputs per batched attack (default 8). */
  batch?: number;
  /** After each finished input: (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Attack every input (all of one length) with the same options: batches of `batch` inputs, on
 * `workers` threads (each loads `weights`) or inline with `model`. Results in input order.
 */
export async function attackMany(model: SvdCnn, weights: WeightSet, inputs: Float32Array[], options: PortableAttackOptions, opts: AttackManyOptions = {}): Promise<AttackResult[]> {
  const workers = checkInt(opts.workers ?? 1, 'workers', 1, 256);
  const batch = checkInt(opts.batch ?? 8, 'batch', 1, 4096);
  if ('onIteration' in (options as object)) throw new EarshotError('BAD_ARGUMENT', 'attackMany: onIteration cannot cross threads; use onProgress');
  resolveAttackOptions(options);
  const jobs: Job[] = [];
  for (let s = 0; s < inputs.length; s += batch) jobs.push({ inputs: inputs.slice(s, s + batch), options });
  const out: AttackResult[] = new Array(inputs.length);
  let done = 0;
  const collect = (j: number, r: AttackResult[]) => {
    r.forEach((x, i) => (out[j * batch + i] = x));
    done += r.length;
    opts.onProgress?.(done, inputs.length);
  };
  if (workers === 1 || jobs.length === 1 || !workersSupported(import.meta.url)) {
    for (let j = 0; j < jobs.length; j++) collect(j, await attackBatch(model, jobs[j]!.inputs, options));
    return out;
  }
  const pool = await WorkerPool.create<Job, AttackResult[], WeightSet>({ taskModule: import.meta.url, task: ATTACK_TASK, workers: Math.min(workers, jobs.length), initData: weights });
  try {
    await Promise.all(jobs.map((job, j) => pool.run(job).then((r) => collect(j, r))));
  } finally {
    await pool.dispose();
  }
  return out;
}
