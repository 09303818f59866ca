/**
 * Renderers: PNG spectrograms and explanation heatmaps, listenable WAVs of explanations, the
 * explanation JSON and the HTML report. Pure (no Node imports) except png-node.ts, which the
 * Node entry points import directly.
 */
export { encodePng, zlibStored, renderSpectrogram, spectrogramPixels } from './png.ts';
export type { Deflate, PngOptions, SpectrogramImageOptions } from './png.ts';
export { Canvas } from './canvas.ts';
export { VIRIDIS, GRAY, colourAt } from './colormap.ts';
export { encodeNpy } from './npy.ts';
export {
  EXPLANATION_FORMAT, EXPLANATION_FORMAT_VERSION, explanationToJSON, explanationToObject, loadExplanationJSON, makeView,
  componentExtents, melPeaksHz, bandsToHz, framesToSeconds, frameStartSample,
} from './explanation.ts';
export type { ExcerptContext, ExplanationView, ExplanationJSON, LoadedExplanation, ComponentExtent, LayoutJSON } from './explanation.ts';
export { heatmapPixels, renderHeatmap, formatTick } from './heatmap.ts';
export type { HeatmapOptions, HeatmapImage } from './heatmap.ts';
export { listenable, temporalSplit, spectralSplit, bandMaskToBinGains, excerptWaveform, excerptSpan, frontEndFilterbank, isTemporalLayout } from './listen.ts';
export type { ListenOptions, ListenableAudio, SplitAudio, ExcerptSpan } from './listen.ts';
export { renderHtml, escapeHtml } from './html.ts';
export type { HtmlOptions, HtmlFiles } from './html.ts';
