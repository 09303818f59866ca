/**
 * Node side of the TF.js model adapters (tfjs-adapters.ts): read a `model.json` and its weight
 * shards from local files with fs and load them from memory (platform.md, "Loading TF.js models
 * from local files in Node": tfjs's `file://` handler lives in tfjs-node, which earshot does not
 * use; no network is ever touched). Node-only: browser code imports tfjs-adapters.ts.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { EarshotError } from '../../bindings/errors.ts';
import { tfjsModelFromArtifacts, type TfjsClassifier, type TfjsModelOptions } from './tfjs-adapters.ts';

/** `dir/model.json` for a directory, the path itself for a file. */
export async function resolveModelJson(source: string): Promise<string> {
  let st;
  try {
    st = await stat(source);
  } catch {
    throw new EarshotError('MODEL_MISSING', `TF.js model: ${source} does not exist`);
  }
  const path = st.isDirectory() ? join(source, 'model.json') : source;
  if (st.isDirectory()) {
    try {
      await stat(path);
    } catch {
      throw new EarshotError('MODEL_MISSING', `TF.js model: ${source} has no model.json`);
    }
  }
  return path;
}

/** Is this file a TF.js model.json (has modelTopology and a layers/graph format or weightsManifest)? */
export function isTfjsModelJson(json: unknown): boolean {
  if (!json || typeof json !== 'object') return false;
  const j = json as Record<string, unknown>;
  return 'modelTopology' in j && (j.format === 'layers-model' || j.format === 'graph-model' || Array.isArray(j.weightsManifest));
}

/**
 * Read a TF.js `model.json` (directory or file path) and its shards into `tf.io.ModelArtifacts`.
 * Shard paths are relative to the model.json and must stay inside its directory.
 */
export async function readTfjsArtifacts(source: string): Promise<tf.io.ModelArtifacts> {
  const path = await resolveModelJson(source);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new EarshotError('MODEL_MISSING', `TF.js model: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new EarshotError('MODEL_CORRUPT', `TF.js model: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new EarshotError('MODEL_CORRUPT', `TF.js model: ${path} must hold a JSON object`);
  if (!json.modelTopology || typeof json.modelTopology !== 'object') throw new EarshotError('MODEL_CORRUPT', `TF.js model: ${path} has no modelTopology`);
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new EarshotError('MODEL_CORRUPT', `TF.js model: ${path}: weightsManifest must be an array of { paths, weights }`);
  const dir = dirname(resolve(path));
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const [g, group] of (manifest as Array<{ paths?: unknown; weights?: unknown }>).entries()) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new EarshotError('MODEL_CORRUPT', `TF.js model: ${path}: weightsManifest[${g}] needs 'paths' and 'weights' arrays`);
    }
    weightSpecs.push(...(group.weights as tf.io.WeightsManifestEntry[]));
    for (const p of group.paths as unknown[]) {
      if (typeof p !== 'string' || p === '' || isAbsolute(p)) throw new EarshotError('MODEL_CORRUPT', `TF.js model: ${path}: weightsManifest[${g}] has an invalid shard path ${JSON.stringify(p)}`);
      const file = resolve(dir, p);
      if (dirname(file) !== dir && !file.startsWith(dir + '/')) throw new EarshotError('MODEL_CORRUPT', `TF.js model: ${path}: shard '${p}' lies outside the model directory`);
      try {
        buffers.push(new Uint8Array(await readFile(file)));
      } catch (e) {
        throw new EarshotError('MODEL_MISSING', `TF.js model: weight shard '${p}' of ${basename(path)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
  }
  const total = buffers.reduce((s, b) => s + b.length, 0);
  const weightData = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    weightData.set(b, o);
    o += b.length;
  }
  const a: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs,
    weightData: weightData.buffer,
  };
  if (typeof json.format === 'string') a.format = json.format;
  if (typeof json.generatedBy === 'string') a.generatedBy = json.generatedBy;
  if (typeof json.convertedBy === 'string' || json.convertedBy === null) a.convertedBy = json.convertedBy as string | null;
  if (json.signature) a.signature = json.signature as object;
  if (json.userDefinedMetadata) a.userDefinedMetadata = json.userDefinedMetadata as Record<string, object>;
  if (json.modelInitializer) a.modelInitializer = json.modelInitializer as object;
  if (json.trainingConfig) a.trainingConfig = json.trainingConfig as tf.io.TrainingConfig;
  return a;
}

/**
 * A TF.js layers or graph model as a classifier, from a directory or `model.json` path (read with
 * fs) or from in-memory artifacts / an IOHandler. See tfjs-adapters.ts for the options and what
 * each model kind supports. Call `initBackend` first.
 */
export async function loadTfjsModel(source: string | tf.io.ModelArtifacts | tf.io.IOHandler, options: TfjsModelOptions = {}): Promise<TfjsClassifier> {
  if (typeof source === 'string') {
    const path = await resolveModelJson(source);
    return tfjsModelFromArtifacts(await readTfjsArtifacts(path), options, path);
  }
  return tfjsModelFromArtifacts(source, options);
}
