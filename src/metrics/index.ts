/** Faithfulness metrics of mask explanations (methods.md §8) and map similarities for the sanity checks. */
export * from './faithfulness.ts';
export * from './similarity.ts';
