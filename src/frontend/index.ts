/**
 * The front end (methods.md §1): configs (SVD_FRONTEND), log-mel → z-score → padding →
 * excerpts (FrontEnd), and normalisation statistics over a corpus (NormStats).
 */
export { SVD_FRONTEND, validateFrontEndConfig, melOptionsOf } from './config.ts';
export type { FrontEndConfig } from './config.ts';
export { FrontEnd } from './frontend.ts';
export type { LogMel, Prepared } from './frontend.ts';
export { NormStats, statsToJSON, statsFromJSON, statsFromBatchNorm } from './stats.ts';
export type { BandStats } from './stats.ts';
