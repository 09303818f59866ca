/**
 * earshot for Node.js: the whole public API of ./index.ts plus what needs the file system
 * (reading/writing WAV files, TF.js model directories). `import … from 'earshot'` in Node
 * resolves here (package.json "exports"); browsers get ./index.ts.
 */
export * from './index.ts';
export { readWavFile, writeWavFile, loadMono } from './audio/node.ts';
export type { LoadMonoOptions } from './audio/node.ts';
export { loadTfjsModel, readTfjsArtifacts, resolveModelJson, isTfjsModelJson } from './model/tfjs-adapters-node.ts';
export { loadStems } from './separate/stems.ts';
export { saveWeights } from './model/node.ts';
export * from './veracity/index.ts';
export { trainLmac, loadLmacSongs, resolveLmacOptions } from './explain/lmac/train.ts';
export { WorkerPool, registerTask, getTask, workersSupported } from './parallel/pool.ts';
export type { TaskDef, PoolOptions } from './parallel/pool.ts';
export { Journal, runJobs } from './experiments/journal.ts';
export type { RunJobsOptions } from './experiments/journal.ts';
