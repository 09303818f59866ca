/**
 * A pool of Node worker threads that run named tasks: the one way earshot spreads long work
 * (experiments, attacks, batches of explanations) over the machine's cores, one TF.js backend
 * per worker.
 *
 * A task is a function registered under a name by the module that defines it
 * (`registerTask('stability', fn)` at module level). The pool starts each worker with a tiny
 * eval'd bootstrap that imports that module (`taskModule`, normally the defining module's
 * `import.meta.url`): from the TypeScript sources the worker registers tsx first, since workers
 * do not inherit the parent's module hooks; inside a bundle such as dist/earshot.mjs the module
 * is the bundle itself, which registers every task and whose CLI entry does nothing in a worker
 * thread. Each worker calls the task's `init(initData)` once (load the model, build kernels),
 * then answers `run(input)` calls one at a time; the pool hands a new input to whichever worker
 * is free, so jobs of uneven cost balance themselves.
 */
import { EarshotError } from '../../bindings/errors.ts';

/** What a task module registers. `S` is the per-worker state made by `init`. */
export interface TaskDef<I, O, S = unknown, D = unknown> {
  /** Once per worker, before any `run` (default: no state). */
  init?: (initData: D) => Promise<S> | S;
  run: (input: I, state: S) => Promise<O> | O;
  /** Once per worker when the pool is disposed (free tensors, models). */
  dispose?: (state: S) => Promise<void> | void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTask = TaskDef<any, any, any, any>;
const REGISTRY_KEY = Symbol.for('earshot.tasks');
const g = globalThis as unknown as Record<symbol, Map<string, AnyTask> | undefined>;
// One registry per thread, shared even if this module is loaded twice (sources and bundle).
const registry: Map<string, AnyTask> = (g[REGISTRY_KEY] ??= new Map());

/** Make `def` runnable by name in pool workers. Call at a task module's top level. */
export function registerTask<I, O, S, D>(name: string, def: TaskDef<I, O, S, D>): void {
  registry.set(name, def as AnyTask);
}

/** Built in: the names of the tasks registered in a worker (checks what a bundle provides). */
export const LIST_TASKS = 'earshot.list-tasks';
registry.set(LIST_TASKS, { run: () => [...registry.keys()] });

/** The registered task (for running a task inline, without workers). */
export function getTask<I, O, S, D>(name: string): TaskDef<I, O, S, D> {
  const t = registry.get(name);
  if (!t) throw new EarshotError('UNKNOWN_TASK', `no task named '${name}' is registered (known: ${[...registry.keys()].join(', ') || 'none'})`);
  return t as TaskDef<I, O, S, D>;
}

interface WorkerLike {
  postMessage(m: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(ev: 'message', f: (m: Reply) => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  on(ev: 'exit', f: (code: number) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

interface Reply {
  ready?: boolean;
  id?: number;
  output?: unknown;
  error?: { message: string; code?: string; stack?: string };
}

export interface PoolOptions<D> {
  /** URL of the module that registers the task (its `import.meta.url`). */
  taskModule: string;
  task: string;
  /** Number of workers (≥ 1). */
  workers: number;
  /** Passed to the task's `init` in every worker (structured-cloned). */
  initData?: D;
  /** Error code when a worker cannot start (default 'WORKER_FAILED'). */
  startCode?: string;
}

/** Whether worker threads can run here (Node, with a file: module to start them from). */
export function workersSupported(taskModule: string): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return Boolean(proc?.versions?.node) && taskModule.startsWith('file:');
}

export class WorkerPool<I, O> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: O) => void; reject: (e: Error) => void }>();
  private readonly idle: WorkerLike[] = [];
  private readonly queue: Array<{ id: number; input: I; transfer?: ArrayBuffer[] }> = [];
  private readonly busy = new Map<WorkerLike, number>();
  private disposed = false;
  private failure: Error | null = null;

  private constructor(
    readonly task: string,
    private readonly workers: WorkerLike[],
  ) {
    this.idle.push(...workers);
  }

  get size(): number {
    return this.workers.length;
  }

  static async create<I, O, D = unknown>(opts: PoolOptions<D>): Promise<WorkerPool<I, O>> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 256) {
      throw new EarshotError('BAD_OPTION', `workers must be an integer in 1…256, got ${opts.workers}`);
    }
    if (!workersSupported(opts.taskModule)) {
      throw new EarshotError('UNSUPPORTED', `worker threads need Node and a task module on disk, got '${opts.taskModule.slice(0, 80)}'; run with workers: 1 (inline)`);
    }
    const { Worker } = await import('node:worker_threads');
    const load = `import(${JSON.stringify(opts.taskModule)})`;
    const poolUrl = import.meta.url;
    // After the task module loaded, start the worker loop of *this* module instance (in a
    // bundle the task module is the bundle and already contains it).
    const start = `.then(() => globalThis[Symbol.for('earshot.poolWorkerMain')]())`;
    const boot = new URL(opts.taskModule).pathname.endsWith('.ts') ? `import('tsx/esm/api').then((t) => { t.register(); return ${load}; })${start}` : `${load}${start}`;
    const started: WorkerLike[] = [];
    try {
      for (let i = 0; i < opts.workers; i++) {
        started.push(new Worker(boot, { eval: true, workerData: { earshotPool: true, task: opts.task, initData: opts.initData, poolUrl } }) as unknown as WorkerLike);
      }
      await Promise.all(
        started.map(
          (wk, i) =>
            new Promise<void>((resolve, reject) => {
              const code = opts.startCode ?? 'WORKER_FAILED';
              wk.on('message', (m) => (m.ready ? resolve() : m.error && m.id === 0 ? reject(new EarshotError(m.error.code ?? code, `task '${opts.task}' (worker ${i}) failed to start: ${m.error.message}`)) : undefined));
              wk.on('error', (e) => reject(new EarshotError(code, `worker ${i} of task '${opts.task}' failed to start: ${e.message}`)));
              wk.on('exit', (c) => reject(new EarshotError(code, `worker ${i} of task '${opts.task}' exited (code ${c}) before it was ready`)));
            }),
        ),
      );
    } catch (e) {
      await Promise.all(started.map((wk) => wk.terminate()));
      throw e;
    }
    const pool = new WorkerPool<I, O>(opts.task, started);
    started.forEach((wk, i) => {
      // Idle workers must not keep the process alive (a CLI that forgot dispose() still exits);
      // a worker with a job is ref'd until it answers.
      wk.unref();
      wk.on('message', (m) => pool.settle(wk, m));
      wk.on('error', (e) => pool.failAll(new EarshotError('WORKER_FAILED', `worker ${i} of task '${opts.task}': ${e.message}`)));
      wk.on('exit', (code) => {
        if (!pool.disposed) pool.failAll(new EarshotError('WORKER_FAILED', `worker ${i} of task '${opts.task}' exited (code ${code})`));
      });
    });
    return pool;
  }

  /** Run the task on one input in the next free worker. `transfer` moves buffers instead of copying. */
  run(input: I, transfer?: ArrayBuffer[]): Promise<O> {
    if (this.disposed) return Promise.reject(new EarshotError('DISPOSED', `the '${this.task}' pool was disposed`));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const p = new Promise<O>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.queue.push({ id, input, transfer });
    this.pump();
    return p;
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const wk = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(wk, job.id);
      wk.ref();
      wk.postMessage({ id: job.id, input: job.input }, job.transfer);
    }
  }

  private settle(wk: WorkerLike, m: Reply): void {
    if (m.ready || !m.id || m.id < 0) return;
    const p = this.pending.get(m.id);
    this.busy.delete(wk);
    this.idle.push(wk);
    wk.unref();
    if (p) {
      this.pending.delete(m.id);
      if (m.error) p.reject(workerError(this.task, this.workers.indexOf(wk), m.error));
      else p.resolve(m.output as O);
    }
    this.pump();
  }

  private failAll(e: Error): void {
    this.failure ??= e;
    for (const wk of this.workers) wk.unref();
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.queue.length = 0;
  }

  /** Let each worker run the task's `dispose`, then stop the threads. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(
      this.workers.map(
        (wk) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 2000);
            wk.on('message', (m) => {
              if (m.id === -1) {
                clearTimeout(t);
                resolve();
              }
            });
            wk.postMessage({ id: -1, dispose: true });
          }),
      ),
    );
    await Promise.all(this.workers.map((wk) => wk.terminate()));
  }
}

function workerError(task: string, i: number, e: { message: string; code?: string }): EarshotError {
  return new EarshotError(e.code ?? 'WORKER_FAILED', `task '${task}' (worker ${i}): ${e.message}`);
}

function serialError(e: unknown): { message: string; code?: string; stack?: string } {
  if (e instanceof Error) return { message: e.message, code: (e as { code?: string }).code, stack: e.stack };
  return { message: String(e) };
}

/** Worker side: started by the bootstrap once the task module has registered its task. */
async function poolWorkerMain(): Promise<void> {
  const wt = await import('node:worker_threads');
  const data = wt.workerData as { earshotPool?: boolean; task: string; initData: unknown } | null;
  if (wt.isMainThread || !data?.earshotPool || !wt.parentPort) return;
  const port = wt.parentPort;
  let def: AnyTask;
  let state: unknown;
  try {
    def = getTask(data.task);
    state = def.init ? await def.init(data.initData) : undefined;
  } catch (e) {
    port.postMessage({ id: 0, error: serialError(e) });
    return;
  }
  // Jobs run one at a time even if the pool posted several: the chain keeps order and memory flat.
  let chain = Promise.resolve();
  port.on('message', (m: { id: number; input?: unknown; dispose?: boolean }) => {
    chain = chain.then(async () => {
      if (m.dispose) {
        try {
          await def.dispose?.(state);
        } finally {
          port.postMessage({ id: -1 });
        }
        return;
      }
      try {
        const output = await def.run(m.input, state);
        port.postMessage({ id: m.id, output }, transferables(output));
      } catch (e) {
        port.postMessage({ id: m.id, error: serialError(e) });
      }
    });
  });
  port.postMessage({ ready: true });
}

/** The ArrayBuffers of typed arrays found at the top level of a result (moved, not copied). */
function transferables(o: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown): void => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
  };
  if (o && typeof o === 'object') {
    visit(o);
    for (const v of Object.values(o as Record<string, unknown>)) visit(v);
  }
  return [...out];
}

(globalThis as unknown as Record<symbol, unknown>)[Symbol.for('earshot.poolWorkerMain')] ??= poolWorkerMain;
