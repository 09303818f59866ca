/**
 * The worker-thread side of data-parallel L-MAC training (./train.ts, `workers > 1`): each
 * worker loads the frozen classifier once, receives the decoder's current tensors with its
 * share of a batch, and returns the gradients and loss sums of that share (the decoder is small,
 * ~42 k floats, so shipping it every step costs little next to the classifier passes).
 */
import { registerTask } from '../../parallel/pool.ts';
import type { LmacGradState, LmacWorkerInit, LmacWorkerInput, LmacWorkerOutput } from './train.ts';

registerTask<LmacWorkerInput, LmacWorkerOutput, LmacGradState, LmacWorkerInit>('lmac-grad', {
  async init(d) {
    const { initBackend } = await import('../../model/backend.ts');
    const { registerWasmTrainingKernels } = await import('../../model/wasm_kernels.ts');
    const { loadWeights } = await import('../../model/weights.ts');
    const { initDecoderTensors } = await import('./decoder.ts');
    const { lmacGradState } = await import('./train.ts');
    await initBackend('wasm');
    registerWasmTrainingKernels();
    const w = await loadWeights(d.classifierDir);
    const melT = new Float32Array(d.arch.nMels * d.arch.bins);
    return lmacGradState(w, d.arch, initDecoderTensors(d.arch, melT, 0));
  },
  async run(input, st) {
    const { lmacBatch } = await import('./train.ts');
    st.decoder.setTensors(input.tensors);
    const r = await lmacBatch(st, input.loss, input.mags, input.vocs, input.n, true, input.ft);
    return { grads: r.grads!, sums: r.sums };
  },
  dispose(st) {
    st.dispose();
  },
});
