/**
 * The Node side of the PNG encoder: zlib compression from node:zlib, so src/render/png.ts stays
 * free of Node imports (a browser bundle passes its own deflate or none).
 */
import { deflateSync } from 'node:zlib';
import type { Deflate } from './png.ts';

export const nodeDeflate: Deflate = (data) => new Uint8Array(deflateSync(data, { level: 9 }));
