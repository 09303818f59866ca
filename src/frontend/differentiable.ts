/**
 * The front end (methods.md §1: waveform → |STFT| → mel → log → z-score) as one differentiable
 * TF.js op, for waveform-domain attacks and input gradients (methods.md §6). TF.js on wasm has no
 * Complex/FFT kernels (platform.md), so `tf.signal.stft` cannot be used: the op is a
 * `tf.customGrad` whose forward is the fused wasm front end (bindings/mel.ts's melFrontEnd kernel)
 * and whose backward is its adjoint in the wasm core (assembly/frontend_grad.ts). Works on any
 * TF.js backend (data moves through dataSync), tested on wasm and cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EarshotError, checkArray } from '../../bindings/errors.ts';
import { FrontEndGradKernel } from '../../bindings/frontend_grad.ts';
import { SVD_FRONTEND, melOptionsOf, validateFrontEndConfig, type FrontEndConfig } from './config.ts';
import type { BandStats } from './stats.ts';

/** signal (n samples) → frames × nMels; `dispose()` frees the kernel's arena state. */
export interface DifferentiableFrontEnd {
  (signal: tf.Tensor1D): tf.Tensor2D;
  /** A batch of equally long signals (batch × n) → batch × frames × nMels. */
  batch(signals: tf.Tensor2D): tf.Tensor3D;
  /** Frames for a signal of n samples. */
  frames(n: number): number;
  readonly nMels: number;
  dispose(): void;
}

function checkTensor(x: unknown, rank: number, where: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw new EarshotError('BAD_ARGUMENT', `${where} must be a tf.Tensor, got ${x === null ? 'null' : typeof x}`);
  }
  if (x.rank !== rank) throw new EarshotError('BAD_SHAPE', `${where} must have rank ${rank}, got shape [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new EarshotError('BAD_ARGUMENT', `${where} must be float32, got ${x.dtype}`);
}

/**
 * The differentiable front end of `config` (default SVD_FRONTEND), z-scored with `stats` (per-band
 * mean/std of length nMels) or, without stats, the log-mel itself. Only `spectrum: 'magnitude'`
 * is supported. Gradients: below the log floor (mel < logFloor) the gradient is 0; at exactly
 * the floor it passes (torch.clamp's convention); bins where |X| = 0 pass no gradient.
 */
export function differentiableFrontEnd(config: FrontEndConfig = SVD_FRONTEND, stats?: BandStats): DifferentiableFrontEnd {
  const c = validateFrontEndConfig(config);
  if (c.spectrum !== 'magnitude') {
    throw new EarshotError('BAD_CONFIG', `differentiableFrontEnd: only spectrum 'magnitude' is differentiated, got '${c.spectrum}'`);
  }
  const opts = melOptionsOf(c);
  if (stats !== undefined) {
    if (stats === null || typeof stats !== 'object') throw new EarshotError('BAD_ARGUMENT', 'differentiableFrontEnd: stats must be { mean, std }');
    checkArray(stats.mean, Float32Array, 'differentiableFrontEnd: stats.mean', c.nMels);
    checkArray(stats.std, Float32Array, 'differentiableFrontEnd: stats.std', c.nMels);
    opts.mean = stats.mean;
    opts.std = stats.std;
  }
  const kernel = new FrontEndGradKernel(opts);
  const B = c.nMels;

  const frameCount = (n: number, where: string): number => {
    const f = kernel.frames(n);
    if (f === 0) throw new EarshotError('TOO_SHORT', `${where}: the signal has ${n} samples, fewer than one frame of nFft = ${c.nFft}`);
    return f;
  };

  const single = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const sig = x.dataSync() as Float32Array;
    const F = frameCount(sig.length, 'differentiableFrontEnd: signal');
    const y = tf.tensor2d(kernel.forward(sig), [F, B]);
    save([x]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const s = saved[0]!.dataSync() as Float32Array;
        return [tf.tensor1d(kernel.backward(s, dy.dataSync() as Float32Array))];
      },
    };
  });

  const batched = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const [nb, n] = x.shape as [number, number];
    const all = x.dataSync() as Float32Array;
    const F = frameCount(n, 'differentiableFrontEnd.batch: signals');
    const out = new Float32Array(nb * F * B);
    for (let i = 0; i < nb; i++) out.set(kernel.forward(all.subarray(i * n, (i + 1) * n)), i * F * B);
    save([x]);
    return {
      value: tf.tensor3d(out, [nb, F, B]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const s = saved[0]!.dataSync() as Float32Array;
        const g = dy.dataSync() as Float32Array;
        const dx = new Float32Array(nb * n);
        for (let i = 0; i < nb; i++) {
          dx.set(kernel.backward(s.subarray(i * n, (i + 1) * n), g.subarray(i * F * B, (i + 1) * F * B)), i * n);
        }
        return [tf.tensor2d(dx, [nb, n])];
      },
    };
  });

  const fe = ((signal: tf.Tensor1D): tf.Tensor2D => {
    checkTensor(signal, 1, 'differentiableFrontEnd: signal');
    return single(signal) as tf.Tensor2D;
  }) as DifferentiableFrontEnd;
  fe.batch = (signals: tf.Tensor2D): tf.Tensor3D => {
    checkTensor(signals, 2, 'differentiableFrontEnd.batch: signals');
    if (signals.shape[0] === 0) throw new EarshotError('BAD_SHAPE', 'differentiableFrontEnd.batch: the batch is empty');
    return batched(signals) as tf.Tensor3D;
  };
  fe.frames = (n: number) => kernel.frames(n);
  Object.defineProperty(fe, 'nMels', { value: B, enumerable: true });
  fe.dispose = () => kernel.dispose();
  return fe;
}
