/** audioLIME (methods.md §5): components, the fast spectral path, the explainer and its outputs. */
export { SourceComponents, temporalSegments, checkSources, MAX_DEFAULT_SEGMENTS } from './components.ts';
export type { SourceSet, SegmentationSpec, TemporalSegmentation } from './components.ts';
export { SpectralComposer, frameMap } from './spectral.ts';
export { explainAudioLime, frameTargets, DEFAULT_AUDIOLIME_SAMPLES } from './explain.ts';
export type { AudioLimeOptions, AudioLimeExplanation } from './explain.ts';
