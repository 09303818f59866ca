/**
 * Gradient and masking baselines on the linear STFT magnitude (L-MAC's domain, methods.md §7–8):
 * saliency, SmoothGrad, Integrated Gradients, Guided Backprop, Grad-CAM, GradientSHAP, SLIME and
 * KernelSHAP as masks, behind one `MaskExplainer` interface (docs/attribution.md).
 */
export * from './target.ts';
export * from './gradients.ts';
export * from './explainers.ts';
