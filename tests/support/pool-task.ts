/** A task module for tests/pool.test.ts: squares numbers in a worker, fails on request. */
import { registerTask } from '../../src/parallel/pool.ts';
import { isMainThread, threadId } from 'node:worker_threads';

registerTask('test-square', {
  init: (d: { offset: number }) => ({ offset: d.offset, calls: 0 }),
  run: (x: number, s: { offset: number; calls: number }) => {
    if (x < 0) throw Object.assign(new Error(`negative input ${x}`), { code: 'NEGATIVE' });
    s.calls++;
    return { value: x * x + s.offset, worker: isMainThread ? 0 : threadId, data: new Float32Array([x]) };
  },
});
export const TASK_URL = import.meta.url;
