/**
 * A small, dependency-free writer (and a minimal reader) for the ONNX protobuf messages earshot
 * needs to export its models: ModelProto → GraphProto → NodeProto / TensorProto /
 * ValueInfoProto. Field numbers and enum values are those of onnx/onnx.proto (ONNX 1.x, IR
 * version 8 = opsets 15–18); the wire format is protobuf's (varints, length-delimited fields,
 * fixed32 floats; https://protobuf.dev/programming-guides/encoding/).
 *
 * Only what earshot writes is modelled: float tensors stored as raw_data (little-endian),
 * int64 tensors (Reshape shapes), attributes of type FLOAT/INT/INTS/STRING, string metadata.
 * Browser-safe (bytes only).
 */
import { EarshotError } from '../../../bindings/errors.ts';

/** onnx.proto: ModelProto.ir_version for opsets 15–18. */
export const IR_VERSION = 8;
/** The default-domain opset earshot exports with. */
export const OPSET = 17;

/** onnx.proto TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** onnx.proto AttributeProto.AttributeType values used here. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

// ------------------------------------------------------------------ wire format

/** Growable byte buffer with protobuf wire-format primitives. */
class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** Unsigned varint of a non-negative integer (int64 values here stay below 2^53). */
  varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new EarshotError('BAD_ARGUMENT', `onnx writer: varint ${v} is not a safe integer`);
    if (v < 0) {
      // int64 negative values are sign-extended to 10 bytes (two's complement).
      let big = BigInt.asUintN(64, BigInt(v));
      this.reserve(10);
      while (big >= 0x80n) {
        this.buf[this.len++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      this.buf[this.len++] = Number(big);
      return;
    }
    this.reserve(8);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** Field key: (field number << 3) | wire type (0 varint, 2 length-delimited, 5 fixed32). */
  tag(field: number, wire: 0 | 2 | 5): void {
    this.varint(field * 8 + wire);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  /** Packed repeated int64 (proto3 default for repeated scalars). */
  packedInts(field: number, vs: readonly number[]): void {
    const inner = new Writer();
    for (const v of vs) inner.varint(v);
    this.bytes(field, inner.finish());
  }

  message(field: number, m: Writer): void {
    this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

// ------------------------------------------------------------------ ONNX messages

export type AttrValue = number | number[] | string | { float: number };

/** One node: op, inputs, outputs, attributes (integers → INT/INTS, {float} or non-integers → FLOAT). */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
}

export interface TensorSpecOnnx {
  name: string;
  dims: number[];
  /** float32 data (raw_data) or int64 values. */
  data: Float32Array | { int64: number[] };
}

/** A graph input/output: float tensor with fixed sizes or named symbolic dimensions. */
export interface ValueSpec {
  name: string;
  dims: Array<number | string>;
  elemType?: number;
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: TensorSpecOnnx[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

export interface ModelSpec {
  graph: GraphSpec;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** ModelProto.metadata_props (string → string). */
  metadata?: Record<string, string>;
  opset?: number;
  irVersion?: number;
}

// AttributeProto: name 1, f 2, i 3, s 4, ints 8, type 20.
function attribute(name: string, v: AttrValue): Writer {
  const w = new Writer();
  w.string(1, name);
  if (typeof v === 'string') {
    w.bytes(4, new TextEncoder().encode(v));
    w.int(20, AttrType.STRING);
  } else if (Array.isArray(v)) {
    w.packedInts(8, v);
    w.int(20, AttrType.INTS);
  } else if (typeof v === 'object' || !Number.isInteger(v)) {
    w.float(2, typeof v === 'object' ? v.float : v);
    w.int(20, AttrType.FLOAT);
  } else {
    w.int(3, v);
    w.int(20, AttrType.INT);
  }
  return w;
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
function node(n: NodeSpec): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, attribute(k, v));
  return w;
}

// TensorProto: dims 1, data_type 2, int64_data 7, name 8, raw_data 9.
function tensor(t: TensorSpecOnnx): Writer {
  const w = new Writer();
  w.packedInts(1, t.dims);
  const size = t.dims.reduce((p, d) => p * d, 1);
  if (t.data instanceof Float32Array) {
    if (t.data.length !== size) throw new EarshotError('BAD_SHAPE', `onnx writer: tensor '${t.name}' has ${t.data.length} values, dims [${t.dims.join(', ')}] need ${size}`);
    w.int(2, DataType.FLOAT);
    w.string(8, t.name);
    // raw_data is little-endian; copy so a view into a bigger buffer writes only its own bytes.
    const raw = new Uint8Array(t.data.length * 4);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < t.data.length; i++) dv.setFloat32(i * 4, t.data[i]!, true);
    w.bytes(9, raw);
  } else {
    if (t.data.int64.length !== size) throw new EarshotError('BAD_SHAPE', `onnx writer: tensor '${t.name}' has ${t.data.int64.length} values, dims [${t.dims.join(', ')}] need ${size}`);
    w.int(2, DataType.INT64);
    w.packedInts(7, t.data.int64);
    w.string(8, t.name);
  }
  return w;
}

// ValueInfoProto: name 1, type 2 → TypeProto.tensor_type 1 → { elem_type 1, shape 2 →
// TensorShapeProto.dim 1 → Dimension { dim_value 1 | dim_param 2 } }.
function valueInfo(v: ValueSpec): Writer {
  const shape = new Writer();
  for (const d of v.dims) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tt = new Writer();
  tt.int(1, v.elemType ?? DataType.FLOAT);
  tt.message(2, shape);
  const type = new Writer();
  type.message(1, tt);
  const w = new Writer();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

// GraphProto: node 1, name 2, initializer 5, input 11, output 12.
function graph(g: GraphSpec): Writer {
  const w = new Writer();
  for (const n of g.nodes) w.message(1, node(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensor(t));
  for (const i of g.inputs) w.message(11, valueInfo(i));
  for (const o of g.outputs) w.message(12, valueInfo(o));
  return w;
}

/**
 * Serialise a model. ModelProto: ir_version 1, producer_name 2, producer_version 3, doc_string 6,
 * graph 7, opset_import 8 (OperatorSetIdProto: domain 1, version 2), metadata_props 14
 * (StringStringEntryProto: key 1, value 2).
 */
export function encodeModel(m: ModelSpec): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion ?? IR_VERSION);
  w.string(2, m.producerName ?? 'earshot');
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, graph(m.graph));
  const opset = new Writer();
  opset.string(1, '');
  opset.int(2, m.opset ?? OPSET);
  w.message(8, opset);
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    const e = new Writer();
    e.string(1, k);
    e.string(2, v);
    w.message(14, e);
  }
  return w.finish();
}

// ------------------------------------------------------------------ minimal reader

/**
 * Read ModelProto.metadata_props (field 14) from a serialised model, skipping every other field
 * by its wire type. Throws ONNX_CORRUPT when the bytes are not well-formed protobuf at the top
 * level (a truncated file usually is not). Used for labels/normalisation of earshot's exports;
 * ONNX Runtime itself validates the graph.
 */
export function readMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  const fields = scan(bytes, 0, bytes.length);
  for (const f of fields) {
    if (f.field !== 14 || f.wire !== 2) continue;
    let key = '';
    let value = '';
    for (const g of scan(bytes, f.start, f.end)) {
      if (g.wire !== 2) continue;
      if (g.field === 1) key = dec.decode(bytes.subarray(g.start, g.end));
      if (g.field === 2) value = dec.decode(bytes.subarray(g.start, g.end));
    }
    out[key] = value;
  }
  return out;
}

interface RawField {
  field: number;
  wire: number;
  start: number;
  end: number;
}

function scan(b: Uint8Array, start: number, end: number): RawField[] {
  const out: RawField[] = [];
  let p = start;
  const bad = (why: string) => new EarshotError('ONNX_CORRUPT', `not a valid ONNX (protobuf) file: ${why} at byte ${p}`);
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw bad('truncated varint');
      const c = b[p++]!;
      v += (c & 0x7f) * mul;
      mul *= 128;
      if (c < 0x80) return v;
    }
    throw bad('varint longer than 10 bytes');
  };
  while (p < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw bad('field number 0');
    if (wire === 0) {
      const s = p;
      varint();
      out.push({ field, wire, start: s, end: p });
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (p + n > end) throw bad('truncated fixed-size field');
      out.push({ field, wire, start: p, end: p + n });
      p += n;
    } else if (wire === 2) {
      const n = varint();
      if (p + n > end) throw bad(`length-delimited field ${field} of ${n} bytes runs past the end (${end - p} left)`);
      out.push({ field, wire, start: p, end: p + n });
      p += n;
    } else {
      throw bad(`unsupported wire type ${wire}`);
    }
  }
  return out;
}
