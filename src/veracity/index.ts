/**
 * The veracity toolkit (issue 9; methods.md §6): targeted attacks on the waveform or the
 * spectrogram with earshot's fast input gradients, and the bookkeeping of the flip test,
 * localised-perturbation recovery, fidelity and the drawing experiment. Node entry only: the
 * fast forward pass of the input gradient uses onnxruntime-node when it is there.
 */
export { attack, attackBatch, resolveAttackOptions, ATTACK_DEFAULTS } from './attack.ts';
export type { AttackDomain, AttackOptions, AttackResult } from './attack.ts';
export { InputGradient, releaseInputGradients, profileInputGradient } from './grad.ts';
export type { GradForm, ForwardEngine, InputGradientOptions, LogitsAndGrad } from './grad.ts';
export { resynthesizeLogMelDelta, renderAttackPng } from './attack-render.ts';
export type { AttackPngOptions } from './attack-render.ts';
export { attackMany } from './attack-task.ts';
export * from './flip.ts';
export * from './localised.ts';
export * from './fidelity.ts';
export * from './drawing.ts';
