/**
 * CRC-32 (IEEE 802.3, as zlib and PNG use it): the checksum of weight files and PNG chunks.
 * Import-free so the browser bundle and the node-only modules share one table.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of bytes[start, end) as an unsigned 32-bit number. */
export function crc32Of(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of the bytes as 8 lower-case hex digits (the form model.json files record). */
export function crc32(bytes: Uint8Array): string {
  return crc32Of(bytes).toString(16).padStart(8, '0');
}
