/**
 * The L-MAC decoder's weight file (docs/lmac.md), modelled on the classifier's (src/model/
 * weights.ts): `decoder.json` — format name and version, the decoder architecture, **the
 * classifier it belongs to** (id, a CRC-32 fingerprint of the classifier's float32 tensors,
 * its decision threshold), the loss weights, training metadata and the tensor index
 * {name, shape, dtype, byteOffset} — plus one little-endian float32 `decoder.bin` with its
 * byte length and CRC-32 in the manifest.
 *
 * Loading checks everything and names the culprit: a missing tensor (LMAC_MISSING), a wrong
 * shape (LMAC_SHAPE), unknown tensors, truncated or damaged binary, bad JSON, non-finite values
 * (LMAC_CORRUPT), another format version (LMAC_VERSION); `checkClassifier` refuses a decoder
 * trained for another classifier (LMAC_MISMATCH), naming both fingerprints.
 * Parsing and serialising work on bytes (browser-safe); `loadDecoderFile(dir)` /
 * `saveDecoderFile(dir)` import node:fs lazily and write atomically (temp + rename).
 */
import { EarshotError } from '../../../bindings/errors.ts';
import { crc32, weightsFingerprint, type WeightSet } from '../../model/weights.ts';
import { checkLmacArchitecture, lmacTensorSpecs, type LmacArchitecture } from './decoder.ts';

export const LMAC_FORMAT = 'earshot-lmac-decoder';
export const LMAC_FORMAT_VERSION = 1;
export const LMAC_MANIFEST_FILE = 'decoder.json';
export const LMAC_WEIGHTS_FILE = 'decoder.bin';

/** Which classifier a decoder explains. */
export interface ClassifierRef {
  id: string;
  /** CRC-32 of the classifier's tensors as float32 in file order (`classifierFingerprint`). */
  fingerprint: string;
  /** The decision threshold that defined the predicted class c during training. */
  threshold: number;
  labels: string[];
}

export interface DecoderInfo {
  architecture: LmacArchitecture;
  classifier: ClassifierRef;
  /** λ_in, λ_out, λ_s (and λ_g when fine-tuned) the decoder was trained with. */
  loss: Record<string, number>;
  training: Record<string, unknown>;
}

export interface DecoderFile {
  info: DecoderInfo;
  tensors: Record<string, Float32Array>;
}

/** A classifier's identity for decoder files: its weightsFingerprint (src/model/weights.ts). */
export const classifierFingerprint = weightsFingerprint;

export function classifierRef(w: WeightSet): ClassifierRef {
  return { id: w.info.id ?? w.info.architecture.name, fingerprint: classifierFingerprint(w), threshold: w.info.threshold, labels: w.info.labels.slice() };
}

const corrupt = (m: string): never => {
  throw new EarshotError('LMAC_CORRUPT', `decoder file: ${m}`);
};

/** Serialise to { json (decoder.json text), bin (decoder.bin bytes) }. */
export function serializeDecoder(d: DecoderFile): { json: string; bin: Uint8Array } {
  const arch = checkLmacArchitecture(d.info.architecture);
  const specs = lmacTensorSpecs(arch);
  let offset = 0;
  const entries = specs.map((s) => {
    const t = d.tensors[s.name];
    const n = s.shape.reduce((p, x) => p * x, 1);
    if (!t) throw new EarshotError('LMAC_MISSING', `decoder: tensor '${s.name}' is missing`);
    if (t.length !== n) throw new EarshotError('LMAC_SHAPE', `decoder: tensor '${s.name}' has ${t.length} values, shape [${s.shape.join(', ')}] needs ${n}`);
    const e = { name: s.name, shape: s.shape.slice(), dtype: 'float32' as const, byteOffset: offset };
    offset += 4 * n;
    return e;
  });
  const bin = new Uint8Array(offset);
  const dv = new DataView(bin.buffer);
  for (const e of entries) {
    const t = d.tensors[e.name]!;
    for (let i = 0; i < t.length; i++) dv.setFloat32(e.byteOffset + 4 * i, t[i]!, true);
  }
  const manifest = {
    format: LMAC_FORMAT,
    formatVersion: LMAC_FORMAT_VERSION,
    architecture: arch,
    classifier: d.info.classifier,
    loss: d.info.loss,
    training: d.info.training,
    weights: { file: LMAC_WEIGHTS_FILE, byteLength: bin.length, crc32: crc32(bin), tensors: entries },
  };
  return { json: JSON.stringify(manifest, null, 1) + '\n', bin };
}

/** Parse and validate decoder.json + decoder.bin. */
export function parseDecoder(json: string | object, bin: ArrayBuffer | Uint8Array): DecoderFile {
  let m: Record<string, unknown>;
  if (typeof json === 'string') {
    try {
      m = JSON.parse(json) as Record<string, unknown>;
    } catch (e) {
      return corrupt(`${LMAC_MANIFEST_FILE} is not valid JSON: ${(e as Error).message}`);
    }
  } else m = json as Record<string, unknown>;
  if (!m || typeof m !== 'object' || Array.isArray(m)) corrupt(`${LMAC_MANIFEST_FILE} must hold a JSON object`);
  if (m.format !== LMAC_FORMAT) corrupt(`format must be '${LMAC_FORMAT}', got ${JSON.stringify(m.format)} (is this a classifier's model.json?)`);
  if (m.formatVersion !== LMAC_FORMAT_VERSION) {
    throw new EarshotError('LMAC_VERSION', `decoder file: formatVersion ${JSON.stringify(m.formatVersion)} is not supported (this earshot reads version ${LMAC_FORMAT_VERSION})`);
  }
  const architecture = checkLmacArchitecture(m.architecture);
  const c = m.classifier as Partial<ClassifierRef> | undefined;
  if (!c || typeof c.id !== 'string' || typeof c.fingerprint !== 'string' || typeof c.threshold !== 'number' || !Array.isArray(c.labels)) {
    corrupt('classifier must be { id, fingerprint, threshold, labels } (the classifier the decoder belongs to)');
  }
  const loss = (m.loss ?? {}) as Record<string, number>;
  const training = (m.training ?? {}) as Record<string, unknown>;
  const w = m.weights as { byteLength?: unknown; crc32?: unknown; tensors?: unknown } | undefined;
  if (!w || !Array.isArray(w.tensors)) corrupt('weights.tensors (the tensor index) is missing');
  const bytes = bin instanceof Uint8Array ? bin : new Uint8Array(bin);
  if (typeof w!.byteLength === 'number' && w!.byteLength !== bytes.length) corrupt(`${LMAC_WEIGHTS_FILE} has ${bytes.length} bytes, ${LMAC_MANIFEST_FILE} says ${w!.byteLength} (truncated or the wrong file)`);
  if (typeof w!.crc32 === 'string' && crc32(bytes) !== w!.crc32.toLowerCase()) {
    corrupt(`${LMAC_WEIGHTS_FILE} fails its checksum (CRC-32 ${crc32(bytes)}, ${LMAC_MANIFEST_FILE} says ${w!.crc32}): damaged or from another decoder`);
  }
  const specs = lmacTensorSpecs(architecture);
  const byName = new Map<string, { name: string; shape: number[]; dtype: string; byteOffset: number }>();
  for (const e of w!.tensors as Array<{ name: string; shape: number[]; dtype: string; byteOffset: number }>) {
    if (!e || typeof e.name !== 'string') corrupt('a tensor entry has no name');
    if (byName.has(e.name)) corrupt(`tensor '${e.name}' is listed twice`);
    byName.set(e.name, e);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const n of byName.keys()) if (!known.has(n)) corrupt(`tensor '${n}' is not part of decoder architecture '${architecture.name}'`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, Float32Array> = {};
  for (const s of specs) {
    const e = byName.get(s.name);
    if (!e) throw new EarshotError('LMAC_MISSING', `decoder file: tensor '${s.name}' (shape [${s.shape.join(', ')}]) is missing from ${LMAC_MANIFEST_FILE}`);
    if (!Array.isArray(e.shape) || e.shape.length !== s.shape.length || e.shape.some((d, i) => d !== s.shape[i])) {
      throw new EarshotError('LMAC_SHAPE', `decoder file: tensor '${s.name}' has shape [${Array.isArray(e.shape) ? e.shape.join(', ') : String(e.shape)}], the architecture needs [${s.shape.join(', ')}]`);
    }
    if (e.dtype !== 'float32') corrupt(`tensor '${s.name}' has dtype ${JSON.stringify(e.dtype)} (float32 expected)`);
    const n = s.shape.reduce((p, x) => p * x, 1);
    if (!Number.isInteger(e.byteOffset) || e.byteOffset < 0 || e.byteOffset + 4 * n > bytes.length) {
      corrupt(`tensor '${s.name}' needs bytes [${e.byteOffset}, ${e.byteOffset + 4 * n}) of ${LMAC_WEIGHTS_FILE}, which has ${bytes.length} (truncated?)`);
    }
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = dv.getFloat32(e.byteOffset + 4 * i, true);
      if (!Number.isFinite(v)) corrupt(`tensor '${s.name}' holds a non-finite value (${v}) at index ${i}`);
      d[i] = v;
    }
    tensors[s.name] = d;
  }
  return { info: { architecture, classifier: c as ClassifierRef, loss, training }, tensors };
}

/** Refuse a decoder trained for another classifier. */
export function checkClassifier(d: DecoderFile, ref: ClassifierRef, where = 'decoder'): void {
  if (d.info.classifier.fingerprint !== ref.fingerprint) {
    throw new EarshotError(
      'LMAC_MISMATCH',
      `${where} was trained for classifier '${d.info.classifier.id}' (fingerprint ${d.info.classifier.fingerprint}), ` +
        `but the classifier given is '${ref.id}' (fingerprint ${ref.fingerprint}); retrain it with \`earshot train-lmac\` for this classifier`,
    );
  }
}

export type DecoderSource = string | { json: string | object; bin: ArrayBuffer | Uint8Array };

/** Read decoder.json + decoder.bin from a directory (Node) or from memory. */
export async function loadDecoderFile(source: DecoderSource): Promise<DecoderFile> {
  if (typeof source !== 'string') {
    if (!source || typeof source !== 'object' || !('json' in source) || !('bin' in source)) {
      throw new EarshotError('BAD_ARGUMENT', 'loadLmac: the decoder must be a directory path or { json, bin }');
    }
    return parseDecoder(source.json, source.bin);
  }
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const read = async (f: string, enc?: 'utf8') => {
    try {
      return await fs.readFile(path.join(source, f), enc as 'utf8');
    } catch (e) {
      throw new EarshotError('LMAC_MISSING', `cannot read the L-MAC decoder ${path.join(source, f)}: ${(e as Error).message}. Train one with \`earshot train-lmac\` (docs/lmac.md)`);
    }
  };
  const json = (await read(LMAC_MANIFEST_FILE, 'utf8')) as string;
  const bin = new Uint8Array((await read(LMAC_WEIGHTS_FILE)) as unknown as Uint8Array);
  return parseDecoder(json, bin);
}

/** Write decoder.json + decoder.bin atomically (binary first). */
export async function saveDecoderFile(dir: string, d: DecoderFile): Promise<void> {
  const { json, bin } = serializeDecoder(d);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  await fs.mkdir(dir, { recursive: true });
  const tmp = `.tmp-${process.pid}-${Date.now().toString(36)}`;
  await fs.writeFile(path.join(dir, LMAC_WEIGHTS_FILE) + tmp, bin);
  await fs.writeFile(path.join(dir, LMAC_MANIFEST_FILE) + tmp, json);
  await fs.rename(path.join(dir, LMAC_WEIGHTS_FILE) + tmp, path.join(dir, LMAC_WEIGHTS_FILE));
  await fs.rename(path.join(dir, LMAC_MANIFEST_FILE) + tmp, path.join(dir, LMAC_MANIFEST_FILE));
}
