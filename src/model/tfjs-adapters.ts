/**
 * TF.js layers and graph models as earshot classifiers (issue 4 item 3; architecture.md, "The
 * interfaces"). Browser-safe: works on in-memory model artifacts (`tf.io.ModelArtifacts`:
 * `{ modelTopology, weightSpecs, weightData }`, what `model.save(tf.io.withSaveHandler(…))`
 * produces and what `tf.io.fromMemory` takes) or on any `tf.io.IOHandler`; reading a
 * `model.json` and its shards from disk is in `tfjs-adapters-node.ts` (platform.md: without
 * tfjs-node there is no `file://` handler, so Node reads the files with fs and loads from memory).
 *
 * - layers models (`format: 'layers-model'`, @tensorflow/tfjs-layers): `model.predict` is a
 *   tfjs-core function, so the result is a `DifferentiableClassifier`; every layer's output is a
 *   named activation (a sub-model with all layer outputs, built once).
 * - graph models (`format: 'graph-model'`, @tensorflow/tfjs-converter): `model.execute` runs the
 *   graph op by op with tfjs-core kernels, so gradients flow through it as through any tfjs-core
 *   code (given gradient rules for its ops: earshot's `registerGradients` covers the common ones);
 *   every op node is a named activation. Graphs with control flow / dynamic ops need
 *   `executeAsync`: those become a plain `Classifier` (predict only, no `apply`).
 *
 * The two TF.js packages are imported on first use, so importing earshot does not load them,
 * and without side effects on the registered gradients (see importKeepingGradients).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tflTypes from '@tensorflow/tfjs-layers';
import type * as tfcTypes from '@tensorflow/tfjs-converter';
import { EarshotError, checkInt } from '../../bindings/errors.ts';
import { fromFunction, fromTensorFunction } from './adapters.ts';
import { exampleSize, type Classifier, type DifferentiableClassifier } from './classifier.ts';

export type TfjsModelFormat = 'layers-model' | 'graph-model';

export interface TfjsModelOptions {
  /**
   * Shape of ONE example as the explainers see it (e.g. [115, 80]); it may differ from the
   * model's own input shape by a reshape (e.g. [115, 80, 1]) but must hold as many values.
   * Default: the model's input shape without the batch dimension (required when that shape has
   * unknown dimensions).
   */
  inputShape?: number[];
  /** One per output column (default ['positive'] for one column, ['class0', …] otherwise). */
  labels?: string[];
  /**
   * What the model outputs: probabilities ('probs', default; checked to lie in [0, 1]) or
   * pre-activation scores ('logits': one column → sigmoid, several → softmax; `logits()` then
   * returns the raw scores).
   */
  output?: 'probs' | 'logits';
  /** Identifier recorded in explanations (default 'tfjs-layers-model' / 'tfjs-graph-model'). */
  id?: string;
  /** Examples per forward pass in `predict` (default 32). */
  batchSize?: number;
  /** Graph models: the output node to read (default the model's first output). */
  outputNode?: string;
}

/** A loaded TF.js model behind the Classifier interface. */
export interface TfjsClassifier extends Classifier {
  format: TfjsModelFormat;
  /** True when `apply`, `activations` (and, with output 'logits', `logits`) are available. */
  differentiable: boolean;
  /** The underlying tfjs LayersModel or GraphModel (disposed with the classifier). */
  model: tflTypes.LayersModel | tfcTypes.GraphModel;
  apply?: DifferentiableClassifier['apply'];
  logits?: DifferentiableClassifier['logits'];
  activations?: DifferentiableClassifier['activations'];
  activationNames?: readonly string[];
}

/** Narrow a TfjsClassifier (or any Classifier) to a DifferentiableClassifier. */
export function isDifferentiable(c: Classifier): c is DifferentiableClassifier {
  return typeof (c as Partial<DifferentiableClassifier>).apply === 'function' && typeof (c as Partial<DifferentiableClassifier>).activations === 'function';
}

const bad = (msg: string): never => {
  throw new EarshotError('MODEL_CORRUPT', msg);
};

/** Which kind of TF.js model artifacts describe: the `format` field, else the topology's shape. */
export function detectTfjsFormat(artifacts: tf.io.ModelArtifacts, where = 'model artifacts'): TfjsModelFormat {
  const f = artifacts.format;
  if (f === 'layers-model' || f === 'graph-model') return f;
  if (f !== undefined && f !== null && f !== '') bad(`${where}: format '${String(f)}' is neither 'layers-model' nor 'graph-model'`);
  const topo = artifacts.modelTopology as Record<string, unknown> | undefined;
  if (!topo || typeof topo !== 'object' || topo instanceof ArrayBuffer) bad(`${where}: modelTopology is missing or not a JSON object`);
  if (Array.isArray(topo!.node)) return 'graph-model';
  if (typeof topo!.class_name === 'string' || typeof topo!.model_config === 'object') return 'layers-model';
  return bad(`${where}: cannot tell a layers model from a graph model (no 'format', the topology has neither 'class_name' nor 'node')`);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

/** Bytes the weight specs need (undefined when a string tensor makes it data-dependent). */
export function weightSpecBytes(specs: readonly tf.io.WeightsManifestEntry[], where = 'weightSpecs'): number | undefined {
  let total = 0;
  for (const s of specs) {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.shape)) bad(`${where}: every entry needs a name and a shape, got ${JSON.stringify(s)}`);
    if (!s.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`${where}: weight '${s.name}' has an invalid shape [${s.shape.join(', ')}]`);
    const dt = s.quantization?.dtype ?? s.dtype;
    if (dt === 'string') return undefined;
    const b = BYTES[dt as string];
    if (b === undefined) bad(`${where}: weight '${s.name}' has an unknown dtype '${String(dt)}'`);
    total += b! * s.shape.reduce((p, d) => p * d, 1);
  }
  return total;
}

function weightBytes(w: tf.io.ModelArtifacts['weightData']): number {
  if (w === undefined) return 0;
  if (Array.isArray(w)) return w.reduce((s, b) => s + b.byteLength, 0);
  return w.byteLength;
}

/** Validate artifacts before tfjs sees them: topology, specs, and byte count. */
function checkArtifacts(a: tf.io.ModelArtifacts, where: string): TfjsModelFormat {
  if (!a || typeof a !== 'object') bad(`${where}: expected { modelTopology, weightSpecs, weightData }`);
  const format = detectTfjsFormat(a, where);
  const specs = a.weightSpecs ?? [];
  if (!Array.isArray(specs)) bad(`${where}: weightSpecs must be an array`);
  const need = weightSpecBytes(specs, `${where}: weightSpecs`);
  const have = weightBytes(a.weightData);
  if (need !== undefined && need !== have) {
    bad(`${where}: the weight data holds ${have} bytes, the weight specs (${specs.length} tensors) need ${need}`);
  }
  return format;
}

/**
 * The gradient registry is global and shared by every copy of tfjs-core's code, and the Node
 * bundle of @tensorflow/tfjs-layers 4.22 registers ALL of tfjs-core's gradient rules when it is
 * loaded, replacing any registered before — earshot's included (gradients.ts: e.g. its MaxPool
 * rule, needed because tfjs-backend-wasm's MaxPoolGrad is wrong; measured in docs/model.md). So
 * the TF.js packages are imported with the registry saved before and restored after: loading a
 * model has no effect on gradients. (Import @tensorflow/tfjs-layers yourself if you want its
 * rules.)
 */
async function importKeepingGradients<T>(load: () => Promise<T>): Promise<T> {
  const registry = gradientRegistry();
  const snapshot = registry ? new Map(registry) : null;
  const names = registry ? [] : kernelNameCandidates();
  const before = new Map(names.map((n) => [n, tf.getGradient(n)]));
  try {
    return await load();
  } finally {
    if (registry && snapshot) {
      registry.clear();
      for (const [k, v] of snapshot) registry.set(k, v);
    } else {
      for (const n of names) {
        const was = before.get(n);
        const now = tf.getGradient(n);
        if (now === was) continue;
        if (was) tf.registerGradient(was);
        else tf.unregisterGradient(n);
      }
    }
  }
}

/** tfjs-core's global gradient Map (`getGlobal('gradRegistry')`), when its internals are as in 4.x. */
function gradientRegistry(): Map<string, tf.GradConfig> | null {
  const g = globalThis as unknown as { _tfGlobals?: Map<string, unknown> };
  const p = (typeof process !== 'undefined' ? process : undefined) as unknown as { _tfGlobals?: Map<string, unknown> } | undefined;
  for (const ns of [g, p]) {
    const reg = ns?._tfGlobals instanceof Map ? ns._tfGlobals.get('gradRegistry') : undefined;
    if (reg instanceof Map) return reg as Map<string, tf.GradConfig>;
  }
  return null;
}

/** Every kernel name tfjs-core exports (its kernel-name constants are string exports). */
function kernelNameCandidates(): string[] {
  return [...new Set(Object.values(tf as unknown as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && /^[A-Z_][A-Za-z0-9_]*$/.test(v)))];
}

let layersModule: Promise<typeof tflTypes> | null = null;
let converterModule: Promise<typeof tfcTypes> | null = null;
/** @tensorflow/tfjs-layers, imported once, without touching the registered gradients. */
export const loadTfjsLayers = (): Promise<typeof tflTypes> => (layersModule ??= importKeepingGradients(() => import('@tensorflow/tfjs-layers')));
/** @tensorflow/tfjs-converter, imported once, without touching the registered gradients. */
export const loadTfjsConverter = (): Promise<typeof tfcTypes> => (converterModule ??= importKeepingGradients(() => import('@tensorflow/tfjs-converter')));
const loadLayersPkg = loadTfjsLayers;
const loadConverterPkg = loadTfjsConverter;

const isIOHandler = (s: unknown): s is tf.io.IOHandler => !!s && typeof (s as tf.io.IOHandler).load === 'function';

function defaultLabels(k: number): string[] {
  return k === 1 ? ['positive'] : Array.from({ length: k }, (_, i) => `class${i}`);
}

/** The example shape: the option (checked against the model's) or the model's own. */
function resolveInputShape(modelShape: ReadonlyArray<number | null> | undefined, opt: number[] | undefined, id: string): { example: number[]; model: number[] } {
  let inner: Array<number | null> | null = modelShape && modelShape.length > 0 ? modelShape.slice(1) : null;
  if (opt !== undefined) {
    if (!Array.isArray(opt) || opt.length === 0) throw new EarshotError('BAD_ARGUMENT', `${id}: inputShape must be a non-empty array of positive integers`);
    opt.forEach((d, i) => checkInt(d, `${id}: inputShape[${i}]`, 1));
    if (!inner || inner.some((d) => d === null || d < 0)) {
      // unknown model dimensions: feed the example shape as is (a graph placeholder of unknown rank or size)
      return { example: opt.slice(), model: opt.slice() };
    }
    const want = exampleSize(inner as number[]);
    if (exampleSize(opt) !== want) {
      throw new EarshotError('BAD_SHAPE', `${id}: inputShape [${opt.join(', ')}] holds ${exampleSize(opt)} values per example, the model's input [${inner.join(', ')}] holds ${want}`);
    }
    return { example: opt.slice(), model: inner as number[] };
  }
  if (!inner || inner.length === 0 || inner.some((d) => d === null || d < 0)) {
    throw new EarshotError('BAD_SHAPE', `${id}: the model's input shape [${(modelShape ?? []).map((d) => (d === null || d < 0 ? '?' : d)).join(', ')}] has unknown dimensions; pass inputShape`);
  }
  return { example: inner as number[], model: inner as number[] };
}

/** Probabilities from logits: sigmoid for one column, softmax over columns otherwise. */
function squash(z: tf.Tensor): tf.Tensor {
  const k = z.shape[z.shape.length - 1]!;
  return k === 1 ? tf.sigmoid(z) : tf.softmax(z);
}

/**
 * A TF.js layers or graph model from memory (`tf.io.ModelArtifacts`) or an IOHandler, as a
 * classifier. Call `initBackend` first: the weights go to the current backend.
 */
export async function tfjsModelFromArtifacts(source: tf.io.ModelArtifacts | tf.io.IOHandler, options: TfjsModelOptions = {}, where = 'model artifacts'): Promise<TfjsClassifier> {
  const output = options.output ?? 'probs';
  if (output !== 'probs' && output !== 'logits') throw new EarshotError('BAD_ARGUMENT', `loadTfjsModel: output must be 'probs' or 'logits', got '${String(output)}'`);
  if (options.batchSize !== undefined) checkInt(options.batchSize, 'loadTfjsModel: batchSize', 1);
  let handler: tf.io.IOHandler;
  let format: TfjsModelFormat;
  if (isIOHandler(source)) {
    const a = await source.load!();
    format = checkArtifacts(a, where);
    handler = tf.io.fromMemory(a);
  } else {
    format = checkArtifacts(source, where);
    handler = tf.io.fromMemory(source);
  }
  return format === 'layers-model' ? layersClassifier(handler, options, output, where) : graphClassifier(handler, options, output, where);
}

async function layersClassifier(handler: tf.io.IOHandler, options: TfjsModelOptions, output: 'probs' | 'logits', where: string): Promise<TfjsClassifier> {
  const tfl = await loadLayersPkg();
  let model: tflTypes.LayersModel;
  try {
    model = await tfl.loadLayersModel(handler);
  } catch (e) {
    throw new EarshotError('MODEL_CORRUPT', `${where}: tfjs-layers cannot build the model: ${(e as Error).message}`);
  }
  const id = options.id ?? `tfjs-layers-model/${model.name}`;
  try {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new EarshotError('UNSUPPORTED', `${id}: only models with one input and one output are supported, this one has ${model.inputs.length} inputs and ${model.outputs.length} outputs`);
    }
    const shapes = resolveInputShape(model.inputs[0]!.shape, options.inputShape, id);
    const outShape = model.outputs[0]!.shape;
    if (outShape.length !== 2 || outShape[1] === null) {
      throw new EarshotError('UNSUPPORTED', `${id}: the output must be [batch, classes], got [${outShape.map((d) => d ?? '?').join(', ')}]`);
    }
    const k = outShape[1]!;
    const labels = options.labels ?? defaultLabels(k);
    if (labels.length !== k) throw new EarshotError('BAD_ARGUMENT', `${id}: ${labels.length} labels for ${k} output columns`);
    const toModel = (x: tf.Tensor) => tf.reshape(x, [x.shape[0]!, ...shapes.model]);
    const raw = (x: tf.Tensor) => model.predict(toModel(x)) as tf.Tensor;
    // every layer's output, from one extra model sharing the weights (built once, on first use)
    const layerNames = model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name);
    let probe: tflTypes.LayersModel | null = null;
    const acts = (x: tf.Tensor): Record<string, tf.Tensor> => {
      probe ??= tfl.model({ inputs: model.inputs, outputs: model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.output as tflTypes.SymbolicTensor) });
      const ys = probe.predict(toModel(x));
      const arr = Array.isArray(ys) ? ys : [ys];
      const out: Record<string, tf.Tensor> = {};
      layerNames.forEach((n, i) => (out[n] = arr[i]!));
      return out;
    };
    const c = fromTensorFunction(
      output === 'logits' ? (x) => tf.tidy(() => squash(raw(x))) : raw,
      { id, inputShape: shapes.example, labels, batchSize: options.batchSize, dispose: () => model.dispose() },
      { logits: output === 'logits' ? raw : undefined, activations: acts },
    ) as DifferentiableClassifier & TfjsClassifier;
    c.format = 'layers-model';
    c.differentiable = true;
    c.model = model;
    c.activationNames = layerNames;
    await dryRun(c, id);
    return c;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Execution of a graph model that needs executeAsync (control flow, dynamic shapes). */
const needsAsync = (e: unknown) => /executeAsync|dynamic op/i.test(String((e as Error)?.message ?? e));

async function graphClassifier(handler: tf.io.IOHandler, options: TfjsModelOptions, output: 'probs' | 'logits', where: string): Promise<TfjsClassifier> {
  const tfc = await loadConverterPkg();
  let model: tfcTypes.GraphModel;
  try {
    model = await tfc.loadGraphModel(handler);
  } catch (e) {
    throw new EarshotError('MODEL_CORRUPT', `${where}: tfjs-converter cannot build the graph: ${(e as Error).message}`);
  }
  const id = options.id ?? 'tfjs-graph-model';
  try {
    if (model.inputs.length !== 1) throw new EarshotError('UNSUPPORTED', `${id}: only graphs with one input are supported, this one has ${model.inputs.length} (${model.inputs.map((i) => i.name).join(', ')})`);
    const inName = model.inputs[0]!.name;
    const outName = options.outputNode ?? model.outputs[0]?.name;
    if (!outName) throw new EarshotError('MODEL_CORRUPT', `${where}: the graph has no output node`);
    // the op nodes of the graph, in topological (file) order: the named activations
    const topo = ((await handler.load!()).modelTopology as { node?: Array<{ name: string; op: string }> }).node ?? [];
    const nodeNames = topo.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder').map((n) => n.name);
    if (options.outputNode !== undefined && !nodeNames.includes(outName.split(':')[0]!)) {
      throw new EarshotError('BAD_ARGUMENT', `${id}: no op node '${outName}' in the graph (outputs: ${model.outputNodes.join(', ')})`);
    }
    const shapes = resolveInputShape(model.inputs[0]!.shape, options.inputShape, id);
    const toModel = (x: tf.Tensor) => tf.reshape(x, [x.shape[0]!, ...shapes.model]);
    const raw = (x: tf.Tensor) => model.execute({ [inName]: toModel(x) }, outName) as tf.Tensor;
    const probe = tf.tidy(() => tf.zeros([1, ...shapes.example]));
    let k: number;
    let sync = true;
    try {
      const y = tf.tidy(() => raw(probe));
      k = y.size;
      y.dispose();
    } catch (e) {
      if (!needsAsync(e)) throw new EarshotError('BAD_SHAPE', `${id}: the graph does not run on input [1, ${shapes.model.join(', ')}]: ${(e as Error).message}`);
      sync = false;
      const xm = toModel(probe);
      try {
        const y = (await model.executeAsync({ [inName]: xm }, outName)) as tf.Tensor;
        k = y.size;
        y.dispose();
      } finally {
        xm.dispose();
      }
    } finally {
      probe.dispose();
    }
    const labels = options.labels ?? defaultLabels(k);
    if (labels.length !== k) throw new EarshotError('BAD_ARGUMENT', `${id}: ${labels.length} labels for ${k} output columns`);
    const info = { id, inputShape: shapes.example, labels, batchSize: options.batchSize ?? 32, dispose: () => model.dispose() };
    let c: TfjsClassifier;
    if (sync) {
      const acts = (x: tf.Tensor): Record<string, tf.Tensor> => {
        const ys = model.execute({ [inName]: toModel(x) }, nodeNames) as tf.Tensor[];
        const out: Record<string, tf.Tensor> = {};
        nodeNames.forEach((n, i) => (out[n] = ys[i]!));
        return out;
      };
      const d = fromTensorFunction(
        output === 'logits' ? (x) => tf.tidy(() => squash(raw(x))) : raw,
        info,
        { logits: output === 'logits' ? raw : undefined, activations: acts },
      ) as DifferentiableClassifier & TfjsClassifier;
      d.differentiable = true;
      d.activationNames = nodeNames;
      c = d;
    } else {
      c = fromFunction(async (batch, n) => {
        const x = tf.tensor(batch, [n, ...shapes.model], 'float32');
        try {
          const y = (await model.executeAsync({ [inName]: x }, outName)) as tf.Tensor;
          const p = output === 'logits' ? tf.tidy(() => squash(tf.reshape(y, [n, k]))) : y;
          const data = (await p.data()) as Float32Array;
          tf.dispose([y, p]);
          if (data.length !== n * k) throw new EarshotError('MODEL_OUTPUT', `${id}: the graph returned ${data.length} values for ${n} examples × ${k}`);
          return data;
        } finally {
          x.dispose();
        }
      }, info) as TfjsClassifier;
      c.differentiable = false;
    }
    c.format = 'graph-model';
    c.model = model;
    await dryRun(c, id);
    return c;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** One prediction on zeros: the output width, range and shape problems surface at load time. */
async function dryRun(c: Classifier, id: string): Promise<void> {
  try {
    await c.predict(new Float32Array(exampleSize(c.inputShape)), 1);
  } catch (e) {
    if (e instanceof EarshotError) throw e;
    throw new EarshotError('BAD_SHAPE', `${id}: the model does not run on one example of shape [${c.inputShape.join(', ')}]: ${(e as Error).message}`);
  }
}
