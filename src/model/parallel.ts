/**
 * Data-parallel training steps for the singing-voice CNN on several cores (Node worker_threads).
 *
 * Why: tfjs-backend-wasm has no threads in Node (platform.md), so one training process uses one
 * core. Here a step splits the mini-batch into `parts` interleaved parts (part k takes examples
 * k, k + parts, k + 2·parts, …): part 0 runs on the calling thread's model, parts 1 … parts−1 on
 * workers, each a TF.js wasm backend with a replica
 * of the model (earshot's training kernels registered). Before a step the caller's weights (all
 * variables, including the batch-norm moving statistics) are sent to the workers; each part
 * returns its loss gradient, loss, accuracy and updated moving statistics; the caller combines
 * them weighted by part size, in part order (so a run is deterministic for a seed and a worker
 * count), and applies Adam once.
 *
 * Why interleaved: the sampler puts the voiced half of a batch first (./dataset.ts); contiguous
 * parts were then each of one class, and per-part batch norm removed exactly the class
 * difference (a checkpoint at loss 0.30 on a full batch gave 1.3–1.6 on its two halves, and a
 * `--workers 2 --resume` run restarted at loss ≈ 1.3). Interleaved parts keep the class mix of
 * the batch in every part.
 *
 * What differs from one process on the whole batch (documented in docs/training.md):
 * - batch norm normalises each part with that part's own batch statistics (as PyTorch's
 *   DataParallel does without SyncBatchNorm); the gradient is the size-weighted mean of the
 *   parts' gradients, which is exact for everything but that coupling;
 * - the moving mean is the weighted mean of the parts' updates — exactly the full-batch update;
 *   the moving variance averages the parts' unbiased variances (it lacks the between-part spread
 *   of the means);
 * - dropout masks of part k > 0 come from a seed derived from the step seed and k; with one part
 *   the step is exactly `trainStep` of ./train.ts.
 *
 * The workers are a src/parallel/pool.ts pool running the task 'train-part' registered below.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { deriveSeed } from './augment.ts';
import { initBackend } from './backend.ts';
import { SvdCnn } from './svdcnn.ts';
import type { Adam, TrainableModel } from './train.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';
import type { WeightSet } from './weights.ts';
import { registerTask, WorkerPool, workersSupported } from '../parallel/pool.ts';


/** What a data-parallel step needs from the model (SvdCnn provides it). */
export interface ReplicableModel extends TrainableModel {
  readonly vars: Record<string, tf.Variable>;
  trainableVariables(): tf.Variable[];
}

interface PartResult {
  grads: Float32Array;
  stats: Float32Array;
  loss: number;
  accuracy: number;
}

const isStat = (name: string) => name.endsWith('.bn.mean') || name.endsWith('.bn.variance');

/** Variables in a fixed order: all (for the weights), trainable, moving statistics. */
function layout(model: ReplicableModel) {
  const names = Object.keys(model.vars);
  const trainable = model.trainableVariables();
  const stats = names.filter(isStat).map((k) => model.vars[k]!);
  return { all: names.map((k) => model.vars[k]!), trainable, stats };
}

function flatten(vars: tf.Variable[]): Float32Array {
  const out = new Float32Array(vars.reduce((a, v) => a + v.size, 0));
  let off = 0;
  for (const v of vars) {
    out.set(v.dataSync() as Float32Array, off);
    off += v.size;
  }
  return out;
}

function assignFlat(vars: tf.Variable[], flat: Float32Array): void {
  let off = 0;
  for (const v of vars) {
    const t = tf.tensor(flat.subarray(off, off + v.size), v.shape, 'float32');
    v.assign(t);
    t.dispose();
    off += v.size;
  }
  if (off !== flat.length) throw new EarshotError('INTERNAL', `parallel training: ${flat.length} values for variables of ${off}`);
}

/**
 * Gradients of the mean BCE over one part (x [n, T, F], y [n]) at the model's current weights;
 * the model's moving statistics are updated by the forward pass (training mode).
 */
function partGradients(model: ReplicableModel, x: Float32Array, y: Float32Array, n: number, seed: number): PartResult {
  const L = layout(model);
  const a = model.info.architecture;
  const xt = tf.tensor3d(x, [n, a.frames, a.bands]);
  const yt = tf.tensor2d(y, [n, 1]);
  let logits: tf.Tensor | null = null;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const z = model.forward(xt, { training: true, seed });
      logits = tf.keep(z);
      return tf.losses.sigmoidCrossEntropy(yt, z) as tf.Scalar;
    }, L.trainable);
    try {
      const g = new Float32Array(L.trainable.reduce((a, v) => a + v.size, 0));
      let off = 0;
      for (const p of L.trainable) {
        const gp = grads[p.name];
        if (!gp) throw new EarshotError('INTERNAL', `no gradient for parameter ${p.name}`);
        g.set(gp.dataSync() as Float32Array, off);
        off += p.size;
      }
      const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.greater(logits!, 0), tf.greater(yt, 0.5)), 'float32')).dataSync()[0]!);
      return { grads: g, stats: flatten(L.stats), loss: value.dataSync()[0]!, accuracy };
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  } finally {
    tf.dispose([xt, yt, ...(logits ? [logits] : [])]);
  }
}

/** Dropout seed of part k (part 0 keeps the step seed: one part = the single-process step). */
export function partSeed(seed: number, k: number): number {
  return k === 0 ? seed : deriveSeed(seed, 0x9e37 + k);
}

/** Part sizes of a batch of n over `parts` parts (the first ones one larger): part k holds examples k, k + p, … */
export function partSizes(n: number, parts: number): number[] {
  const p = Math.min(parts, n);
  return Array.from({ length: p }, (_, k) => Math.floor(n / p) + (k < n % p ? 1 : 0));
}

/**
 * Part k of `parts` of a batch x [n, …] (flat), y [n]: examples k, k + parts, k + 2·parts, … (so
 * a batch sorted by class, as the sampler makes it, gives every part both classes).
 */
export function interleavedPart(x: Float32Array, y: Float32Array, n: number, parts: number, k: number): { x: Float32Array; y: Float32Array; n: number } {
  const per = x.length / n;
  const m = Math.ceil((n - k) / parts);
  const xs = new Float32Array(m * per);
  const ys = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const i = k + j * parts;
    xs.set(x.subarray(i * per, (i + 1) * per), j * per);
    ys[j] = y[i]!;
  }
  return { x: xs, y: ys, n: m };
}

/** Whether worker threads can be started here (Node, with this code in a module file). */
export function parallelTrainingSupported(): boolean {
  // From the sources the worker imports this file; from a bundle (dist/earshot.mjs) it imports
  // the bundle, whose CLI entry stays idle in worker threads (src/cli/main.ts).
  return workersSupported(import.meta.url);
}

type PartJob = { weights: Float32Array; x: Float32Array; y: Float32Array; n: number; seed: number };
type PartState = { model: SvdCnn; all: tf.Variable[] };

// The worker side: a replica of the model on its own TF.js backend; each job carries the
// current weights, so replicas never drift.
registerTask<PartJob, PartResult, PartState, { weights: WeightSet; backend: 'wasm' | 'cpu' }>('train-part', {
  async init(d) {
    await initBackend(d.backend);
    if (d.backend === 'wasm') registerWasmTrainingKernels();
    const model = new SvdCnn(d.weights);
    return { model, all: layout(model).all };
  },
  run(job, s) {
    assignFlat(s.all, job.weights);
    return partGradients(s.model, job.x, job.y, job.n, job.seed);
  },
  dispose(s) {
    s.model.dispose();
  },
});

/** Workers that compute the gradients of parts 1 … of each batch (on src/parallel/pool.ts). */
export class TrainWorkers {
  private disposed = false;

  private constructor(private readonly pool: WorkerPool<PartJob, PartResult>) {}

  /** Number of parts a step uses (workers + the calling thread). */
  get parts(): number {
    return this.pool.size + 1;
  }

  /**
   * Start `count` workers (≥ 1), each with a replica of `weights` (architecture and info) on the
   * TF.js backend `backend` (default: the active one; 'wasm' gets earshot's training kernels).
   */
  static async create(weights: WeightSet, count: number, backend: string = tf.getBackend()): Promise<TrainWorkers> {
    checkInt(count, 'workers', 1, 64);
    if (backend !== 'wasm' && backend !== 'cpu') throw new EarshotError('BAD_ARGUMENT', `training workers run on 'wasm' or 'cpu', got backend '${backend}'`);
    if (!parallelTrainingSupported()) {
      throw new EarshotError('UNSUPPORTED', `data-parallel training needs Node and a module file to start its workers from, got ${import.meta.url.slice(0, 80)}; use workers: 1`);
    }
    const pool = await WorkerPool.create<PartJob, PartResult, { weights: WeightSet; backend: 'wasm' | 'cpu' }>({
      taskModule: import.meta.url,
      task: 'train-part',
      workers: count,
      initData: { weights, backend },
      startCode: 'BACKEND_INIT',
    });
    return new TrainWorkers(pool);
  }

  private run(job: PartJob): Promise<PartResult> {
    if (this.disposed) return Promise.reject(new EarshotError('DISPOSED', 'the training workers were disposed'));
    return this.pool.run(job, [job.weights.buffer as ArrayBuffer, job.x.buffer as ArrayBuffer, job.y.buffer as ArrayBuffer]).catch((e: Error & { code?: string }) => {
      throw new EarshotError(e.code ?? 'TRAINING_FAILED', `training worker: ${e.message}`);
    });
  }

  /**
   * One data-parallel optimisation step on x [n, T, F] (normalised, flat), y [n]: the same
   * contract as `trainStep` of ./train.ts. Updates the model's weights (Adam) and moving
   * statistics; returns the batch loss and accuracy (size-weighted means over the parts).
   */
  async step(model: ReplicableModel, adam: Adam, x: Float32Array, y: Float32Array, n: number, seed: number): Promise<{ loss: number; accuracy: number }> {
    const sizes = partSizes(n, this.parts);
    const L = layout(model);
    const weights = flatten(L.all);
    // Copies are made before any await (the caller may reuse its buffers).
    const split = sizes.map((_, k) => interleavedPart(x, y, n, sizes.length, k));
    const remote = split.slice(1).map((p, j) => this.run({ weights: j === sizes.length - 2 ? weights : weights.slice(), x: p.x, y: p.y, n: p.n, seed: partSeed(seed, j + 1) }));
    const local = partGradients(model, split[0]!.x, split[0]!.y, split[0]!.n, partSeed(seed, 0));
    const parts = [local, ...(await Promise.all(remote))];
    const g = new Float32Array(local.grads.length);
    const st = new Float32Array(local.stats.length);
    let loss = 0;
    let accuracy = 0;
    parts.forEach((p, k) => {
      const w = sizes[k]! / n;
      for (let i = 0; i < g.length; i++) g[i]! += w * p.grads[i]!;
      for (let i = 0; i < st.length; i++) st[i]! += w * p.stats[i]!;
      loss += w * p.loss;
      accuracy += w * p.accuracy;
    });
    assignFlat(L.stats, st);
    const gt: tf.Tensor[] = [];
    let off = 0;
    for (const p of L.trainable) {
      gt.push(tf.tensor(g.subarray(off, off + p.size), p.shape, 'float32'));
      off += p.size;
    }
    try {
      adam.step(gt);
    } finally {
      tf.dispose(gt);
    }
    return { loss, accuracy };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.pool.dispose();
  }
}
