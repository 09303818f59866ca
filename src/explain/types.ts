/**
 * The shapes that hold the explainers together (architecture.md, "The interfaces"). SLIME,
 * audioLIME and KernelSHAP produce an `Explanation`; renderers (PNG, WAV, HTML, JSON) and the
 * evaluations (stability U_n, agreement N_ce, veracity) consume it.
 */

/** How the d components of an input are laid out. */
export type ComponentLayout =
  /** A T×F label map over a spectrogram excerpt (component index per bin, −1 = never occluded). */
  | { kind: 'spectrogram'; shape: [number, number]; labels: Int32Array; segmentation: 'temporal' | 'spectral' | 'time-frequency' | 'custom'; grid?: { time: number; freq: number } }
  /** Separated sources × temporal segments of a waveform (audioLIME). */
  | { kind: 'sources'; sources: string[]; segments: Array<[number, number]>; sampleRate: number };

/**
 * d interpretable components over one input, and how to write the perturbed input for a bit row
 * (bit j = 1 keeps component j, 0 replaces it by the content).
 */
export interface Components {
  d: number;
  /** Human-readable names, e.g. "t3" / "f7" / "t2f1" / "vocals3". */
  names: string[];
  layout: ComponentLayout;
  /** Size of one perturbed input (what the classifier consumes), in floats. */
  inputSize: number;
  /** Write n perturbed inputs for the n × d bit rows into `out` (n × inputSize floats). */
  compose(bits: Uint8Array, n: number, out: Float32Array): void;
  /** Release arena memory held for fast composition. */
  dispose(): void;
}

/** A batch of bit rows plus, for each, how many of the N_s samples it stands for. */
export interface SampleDesign {
  /** n × d bits, row 0 is all ones (the original). */
  rows: Uint8Array;
  n: number;
  d: number;
  /** Multiplicity of each row in the regression (1 for plain random sampling). */
  multiplicity: Float64Array;
  /** N_s: the number of samples the design stands for (Σ multiplicity). */
  numSamples: number;
}

export interface Sampler {
  name: 'random' | 'dedup' | 'exhaustive';
  design(d: number, numSamples: number, seed: number): SampleDesign;
}

export interface ExplainedFeature {
  /** Component index. */
  index: number;
  name: string;
  weight: number;
}

/** Everything needed to render, compare and reproduce one explanation. */
export interface Explanation {
  method: 'slime' | 'audiolime' | 'kernelshap' | string;
  /** The label explained and its column in the classifier's output. */
  label: string;
  labelIndex: number;
  /** The model's prediction for the original input (probability of `label`). */
  prediction: number;
  /** Features sorted by |weight| descending (signed-weight order when the method says so). */
  features: ExplainedFeature[];
  /** Weight per component, by component index (length d). */
  weights: Float64Array;
  intercept: number;
  /** Weighted R² of the surrogate on its own samples ("fidelity"). */
  score: number;
  /** The surrogate's prediction at the all-ones row. */
  localPrediction: number;
  /** The top-k positively weighted components (k as requested; may be fewer). */
  topPositive(k: number): number[];
  components: Components;
  /** Method, content type, sampler, N_s, kernel width, distance, seed, model id, timings … */
  params: Record<string, unknown>;
  /** Forward passes actually run (≤ N_s with deduplication). */
  forwardPasses: number;
}
