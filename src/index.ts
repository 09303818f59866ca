/**
 * earshot — fast, listenable explanations of audio classifiers.
 * The public API: everything a library user imports comes from here.
 */
export { EarshotError } from '../bindings/errors.ts';
export { initCore, core } from '../bindings/wasm.ts';
export { melFilterbank, applyMel, logFloor, zscore, frameCount, melSpectrogram, MelFrontEndKernel, releaseMelCache } from '../bindings/mel.ts';
export type { MelFilterbankOptions, MelSpectrogramOptions, MelSpectrogram, MelScale, MelConstruction, MelNorm, ApplyMelOptions } from '../bindings/mel.ts';
export { windowFunction, rfft, irfft, stft, istft, stftFrameCount, SINGING_VOICE_STFT } from '../bindings/stft.ts';
export type { WindowName, WindowOptions, StftOptions, IstftOptions, StftResult, StftOutput, PadMode } from '../bindings/stft.ts';
export * from './frontend/index.ts';
export { differentiableFrontEnd, type DifferentiableFrontEnd } from './frontend/differentiable.ts';
export * from './model/index.ts';
export { createClassifier, onnxBytesFor, ENGINES, AUTO_ORDER } from './model/engines.ts';
export type { EngineName, EngineChoice, EngineOptions, EngineClassifier } from './model/engines.ts';
export { exportSvdOnnx, foldSvdWeights } from './model/onnx/export.ts';
export type { OnnxForm, ExportOptions } from './model/onnx/export.ts';
export { loadOnnxClassifier, OnnxClassifier, loadOrt, ORT_PACKAGES } from './model/onnx/runtime.ts';
export type { OnnxClassifierOptions, OrtEngine, ModuleImporter, OutputKind } from './model/onnx/runtime.ts';
export { tfjsModelFromArtifacts, detectTfjsFormat, isDifferentiable, weightSpecBytes, loadTfjsLayers, loadTfjsConverter } from './model/tfjs-adapters.ts';
export type { TfjsClassifier, TfjsModelOptions, TfjsModelFormat } from './model/tfjs-adapters.ts';
export { probabilityPixels, renderProbability, PROBABILITY_COLOURS } from './render/probability.ts';
export type { ProbabilityImage, ProbabilityImageOptions } from './render/probability.ts';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels, wasmTrainingKernelMode } from './model/wasm_kernels.ts';
export type { WasmTrainingKernelOptions, InputGradientMode } from './model/wasm_kernels.ts';
export { conv2dBackpropFilter, conv2dBackpropInput, checkConvGeometry } from '../bindings/conv_grad.ts';
export type { ConvGeometry, ConvGradOptions } from '../bindings/conv_grad.ts';
export { encodePng, zlibStored, renderSpectrogram, spectrogramPixels } from './render/png.ts';
export type { Deflate, PngOptions, SpectrogramImageOptions } from './render/png.ts';
export { VIRIDIS, GRAY, colourAt } from './render/colormap.ts';
export { encodeNpy } from './render/npy.ts';
export { explanationToJSON, explanationToObject, loadExplanationJSON, makeView, componentExtents, bandsToHz, framesToSeconds, EXPLANATION_FORMAT } from './render/explanation.ts';
export type { ExcerptContext, ExplanationView, ExplanationJSON, LoadedExplanation, ComponentExtent } from './render/explanation.ts';
export { heatmapPixels, renderHeatmap } from './render/heatmap.ts';
export type { HeatmapOptions, HeatmapImage } from './render/heatmap.ts';
export { listenable, temporalSplit, spectralSplit, bandMaskToBinGains, excerptWaveform } from './render/listen.ts';
export type { ListenOptions, ListenableAudio, SplitAudio } from './render/listen.ts';
export { renderHtml } from './render/html.ts';
export type { HtmlOptions, HtmlFiles } from './render/html.ts';
export { decodeWav, encodeWav, mixdown, resample, resamplePoly, resampleFilter, DEFAULT_SAMPLE_RATE } from './audio/index.ts';
export type { AudioData, DecodedWav, WavSampleFormat, WavEncodeFormat, EncodeWavOptions, ResampleOptions } from './audio/index.ts';
export { occlude, prepareOcclusion, gridLabels, rectsToLabels, labelRuns, weightedRidge, weightedR2, ridgePredict } from '../bindings/lime.ts';
export type { OcclusionComponents, OcclusionOut, PreparedOcclusion, Rect, RidgeFit, RidgeOptions, DesignMatrix } from '../bindings/lime.ts';
export * from './explain/index.ts';
export { separate, separationMasks, applyMasks, SEPARATION_METHODS } from './separate/index.ts';
export type { SeparateOptions, Separation, SeparationMasks, SeparationMethod } from './separate/index.ts';
export { reconcileStems } from './separate/reconcile.ts';
export type { Stem, StemSeparation, ReconcileOptions } from './separate/reconcile.ts';
