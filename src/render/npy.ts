/**
 * NumPy's .npy format, version 1.0 (numpy/lib/format.py, NEP 1): the magic "\x93NUMPY", version
 * 1.0, a little-endian u16 header length, then an ASCII dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (…), } padded with spaces and ended by '\n'
 * so the data starts on a multiple of 64 bytes, then the raw little-endian C-order data.
 * Pure (no fs), so browsers can offer the same download.
 */
import { EarshotError, checkArray, checkInt } from '../../bindings/errors.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A float32 array of the given shape (C order) as .npy bytes. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  checkArray(data, Float32Array, 'encodeNpy: data');
  if (!Array.isArray(shape) || shape.length === 0) throw new EarshotError('BAD_ARGUMENT', 'encodeNpy: shape must be a non-empty array of sizes');
  let n = 1;
  shape.forEach((s, i) => {
    n *= checkInt(s, `encodeNpy: shape[${i}]`, 0);
  });
  if (n !== data.length) throw new EarshotError('BAD_SHAPE', `encodeNpy: shape (${shape.join(', ')}) holds ${n} values, data has ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  if (header.length > 65535) throw new EarshotError('BAD_SHAPE', 'encodeNpy: header too long for .npy v1.0');
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >>> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = 10 + header.length;
  if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), body);
  else {
    const dv = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) dv.setFloat32(body + 4 * i, data[i]!, true);
  }
  return out;
}
