/**
 * The explainers (issue 5; methods.md §3–4): `explain(classifier, input, options)` runs SLIME
 * (LIME on spectrogram components) or KernelSHAP on the same components and returns an
 * `Explanation`. The pieces are exported for callers that assemble their own loop: the LIME
 * surrogate (`limeFit`), segmentations (`spectrogramComponents`), content types, samplers
 * (random, dedup, exhaustive), the seeded PRNG and the KernelSHAP solver.
 */
export type { Components, ComponentLayout, Explanation, ExplainedFeature, Sampler, SampleDesign } from './types.ts';
export { explain, DEFAULT_NUM_SAMPLES } from './explain.ts';
export type { ExplainInput, ExplainOptions, Segmentation, ProgressFn } from './explain.ts';
export { limeFit, limeDistances, limeKernel, larsLassoPath, selectFeatures, weightedGram, FEATURE_SELECTIONS } from './lime.ts';
export type { LimeOptions, LimeFit, FeatureSelection, DistanceMetric } from './lime.ts';
export { spectrogramComponents, segmentationLayout, SOUNDLIME_GRID, VERACITY_GRID } from './components.ts';
export type { SpectrogramSegmentation, SpectrogramComponents } from './components.ts';
export { contentValue, minData, noiseContent, CONTENT_TYPES, DEFAULT_NOISE_SEED } from './content.ts';
export type { ContentType, ContentSpec } from './content.ts';
export { randomSampler, dedupSampler, exhaustiveSampler, samplerByName, MAX_EXHAUSTIVE_D } from './samplers.ts';
export { Rng } from './rng.ts';
export { kernelShapFit, shapleyKernel, kernelShapDesign } from './kernelshap.ts';
export type { KernelShapFit, KernelShapDesign } from './kernelshap.ts';
