/**
 * Every module that registers worker-pool tasks (src/parallel/pool.ts), imported for their side
 * effect. A pool started from the bundle (dist/earshot.mjs) has its workers import the bundle;
 * esbuild evaluates lazily-loaded modules (the experiment commands are loaded on demand) only
 * when they are imported, so a worker thread imports this module first (src/cli/main.ts) and
 * finds every task registered. tests/bundle.test.ts checks the list in the built bundle.
 */
import '../model/engines.ts';
import '../model/parallel.ts';
import '../metrics/evaluate-task.ts';
import '../metrics/sanity-task.ts';
import '../explain/lmac/train.ts';
import '../veracity/attack-task.ts';
import '../veracity/experiment.ts';
import '../experiments/audiolime/tasks.ts';
import '../experiments/slime/tasks.ts';
