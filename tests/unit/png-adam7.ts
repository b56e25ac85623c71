// Test helper: a small PNG writer that can interlace (pngjs writes only non-interlaced files), used by
// tests/unit/png-interlace.test.ts and tests/unit/fuzz.test.ts. It writes any colour type and bit depth
// with filter type 0 in each scanline (PNG spec sections 7.2, 8.2 Adam7, 11.2.2 IHDR), and builds an
// interlaced "deflate bomb": a valid header over an IDAT stream that inflates to many times what the
// header allows, assembled from independently compressed pieces so the test never holds the whole output.
import { crc32, deflateRawSync, deflateSync, constants } from 'node:zlib';

export interface PngSpec {
  width: number;
  height: number;
  /** 1, 2, 4, 8 or 16 (the combinations PNG spec table 11.1 allows for the colour type). */
  depth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA (PNG spec section 11.2.2). */
  colorType: 0 | 2 | 3 | 4 | 6;
  interlace: boolean;
  /** RGB triples of a palette image (PLTE). */
  palette?: number[];
}

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** PNG spec section 8.2: pass p holds columns x0 + k dx of rows y0 + k dy. */
export const ADAM7_PASSES: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Pack one scanline (filter byte 0, then the samples MSB first; 16-bit big-endian). */
function packRow(values: number[], depth: number): number[] {
  const row = [0];
  if (depth === 16) {
    for (const v of values) row.push(v >> 8, v & 255);
    return row;
  }
  if (depth === 8) return row.concat(values);
  let acc = 0,
    bits = 0;
  for (const v of values) {
    acc = (acc << depth) | v;
    bits += depth;
    if (bits === 8) {
      row.push(acc);
      acc = 0;
      bits = 0;
    }
  }
  if (bits > 0) row.push(acc << (8 - bits));
  return row;
}

/** The filtered scanlines (what IDAT inflates to) of `samples` (row-major, channel last, integers). */
export function scanlines(spec: PngSpec, samples: ArrayLike<number>): Uint8Array {
  const c = SAMPLES[spec.colorType],
    { width, height } = spec;
  const passes = spec.interlace ? ADAM7_PASSES : [[0, 0, 1, 1] as const];
  const out: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    for (let y = y0; y < height; y += dy) {
      const values: number[] = [];
      for (let x = x0; x < width; x += dx) for (let k = 0; k < c; k++) values.push(samples[(y * width + x) * c + k]);
      if (values.length > 0) out.push(...packRow(values, spec.depth)); // an empty pass has no scanlines
    }
  }
  return Uint8Array.from(out);
}

function ihdr(spec: PngSpec): Uint8Array {
  const h = new Uint8Array(13);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, spec.width);
  dv.setUint32(4, spec.height);
  h.set([spec.depth, spec.colorType, 0, 0, spec.interlace ? 1 : 0], 8);
  return h;
}

/** A whole PNG file around a zlib stream of image data (split into IDAT chunks of `idatSize`). */
export function pngFile(spec: PngSpec, zlibData: Uint8Array, idatSize = 8192): Uint8Array {
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr(spec))];
  if (spec.palette) parts.push(chunk('PLTE', Uint8Array.from(spec.palette)));
  for (let at = 0; at < zlibData.length; at += idatSize)
    parts.push(chunk('IDAT', zlibData.subarray(at, at + idatSize)));
  parts.push(chunk('IEND', new Uint8Array(0)));
  return concat(parts);
}

/** `samples` as a PNG file (interlaced or not); `extra` raw bytes appended to the scanlines. */
export function encodePngFile(spec: PngSpec, samples: ArrayLike<number>, extra = 0): Uint8Array {
  const raw = scanlines(spec, samples);
  return pngFile(spec, deflateSync(concat([raw, new Uint8Array(extra)])));
}

// RFC 1950 section 9: Adler-32 of n zero bytes is A = 1, B = n (mod 65521).
const ADLER_MOD = 65521;

/**
 * An interlaced 8-bit gray PNG of width x height whose IDAT stream inflates to `ratio` times its Adam7
 * scanline size, all zero bytes: pieces of 1 MiB zeros compressed on their own and ended with a sync
 * flush (non-final, byte-aligned blocks that may be concatenated, RFC 1951 section 3.2.3) and an empty
 * final block, in a zlib wrapper (RFC 1950). About 1 KB of file per MiB of output.
 */
export function interlacedBomb(width: number, height: number, ratio: number, rawBytes: number): Uint8Array {
  const total = Math.ceil(ratio * rawBytes),
    piece = 2 ** 20;
  const block = deflateRawSync(new Uint8Array(piece), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const parts: Uint8Array[] = [Uint8Array.from([0x78, 0xda])]; // CMF/FLG: deflate, 32 K window, level 9
  let n = 0;
  for (; n + piece <= total; n += piece) parts.push(block);
  if (total > n)
    parts.push(deflateRawSync(new Uint8Array(total - n), { level: 9, finishFlush: constants.Z_SYNC_FLUSH }));
  parts.push(deflateRawSync(new Uint8Array(0))); // the final (empty) block
  const adler = new Uint8Array(4);
  new DataView(adler.buffer).setUint32(0, (((total % ADLER_MOD) << 16) | 1) >>> 0);
  parts.push(adler);
  return pngFile({ width, height, depth: 8, colorType: 0, interlace: true }, concat(parts), 65536);
}
