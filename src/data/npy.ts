// NumPy .npy arrays (format versions 1.0, 2.0, 3.0) decoded to Float32, and image stacks
// (N, H, W) / (N, H, W, 3) turned into Images. Layout from the NumPy format spec,
// numpy/lib/format.py ("NEP 1"): magic "\x93NUMPY", major, minor, header length (uint16 LE for v1,
// uint32 LE for v2+), then a Python dict literal, then the C-order data. The shape is checked against
// the element limit (./limits.ts) and the file's length before anything is allocated.

import { UserError, check } from '../util/errors.ts';
import { type Image, makeImage } from './pixels.ts';
import { checkPixels, type SizeLimit } from './limits.ts';

export interface NpyArray {
  shape: number[];
  /** C order (last axis fastest), converted to Float32. */
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

type Reader = (v: DataView, at: number, le: boolean) => number;
// descr kind + item size -> reader. int64/uint64 go through BigInt and lose precision beyond 2^53,
// which does not matter once converted to float32.
const READERS: Record<string, Reader> = {
  b1: (v, at) => v.getUint8(at),
  u1: (v, at) => v.getUint8(at),
  i1: (v, at) => v.getInt8(at),
  u2: (v, at, le) => v.getUint16(at, le),
  i2: (v, at, le) => v.getInt16(at, le),
  u4: (v, at, le) => v.getUint32(at, le),
  i4: (v, at, le) => v.getInt32(at, le),
  u8: (v, at, le) => Number(v.getBigUint64(at, le)),
  i8: (v, at, le) => Number(v.getBigInt64(at, le)),
  f4: (v, at, le) => v.getFloat32(at, le),
  f8: (v, at, le) => v.getFloat64(at, le),
};

/** Parse .npy bytes; `name` only labels error messages. */
export function parseNpy(bytes: Uint8Array, name: string, opts: SizeLimit = {}): NpyArray {
  check(bytes.length > 0, `${name}: empty file`);
  check(bytes.length >= 10 && MAGIC.every((b, i) => bytes[i] === b), `${name}: not a .npy file (bad magic)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  check(major >= 1 && major <= 3, `${name}: unsupported .npy format version ${major}.${bytes[7]}`);
  const lenBytes = major === 1 ? 2 : 4;
  check(bytes.length >= 8 + lenBytes, `${name}: truncated .npy header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  check(bytes.length >= dataStart, `${name}: truncated .npy header`);
  const header = new TextDecoder().decode(bytes.subarray(8 + lenBytes, dataStart));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  check(descr !== undefined && fortran !== undefined && shapeText !== undefined, `${name}: malformed .npy header ${JSON.stringify(header.trim())}`);
  check(fortran === 'False', `${name}: Fortran-ordered .npy arrays are not supported (save with np.ascontiguousarray)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  check(shape.every((d) => Number.isInteger(d) && d >= 0), `${name}: bad shape (${shapeText})`);

  // descr: byte order ('<' little, '>' big, '|' not applicable, '=' native = little on every platform
  // Node runs on), then kind and item size, e.g. '<f8'.
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const read = m ? READERS[m[2] + m[3]] : undefined;
  check(m !== null && read !== undefined, `${name}: unsupported dtype '${descr}' (supported: bool, int/uint 8-64, float32, float64)`);
  const le = m[1] !== '>';
  const itemSize = Number(m[3]);

  checkPixels(name, 'array', shape, opts);
  const n = shape.reduce((a, b) => a * b, 1);
  const need = dataStart + n * itemSize;
  check(bytes.length >= need, `${name}: truncated .npy data (${bytes.length} bytes, need ${need})`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = read(view, dataStart + i * itemSize, le);
  return { shape, data };
}

/**
 * Images of an (N, H, W), (N, H, W, 1) or (N, H, W, 3) stack, optionally only indices
 * start <= i < end of `range` (half-open, like a Python slice). Values are kept as stored, except
 * that a stack whose maximum exceeds 1 is taken to be 0..255 and scaled by 1/255; anything still
 * outside [0, 1] is clamped.
 */
export function npyImages(arr: NpyArray, range?: [number, number]): Image[] {
  const [n, h, w, c = 1] = arr.shape;
  const okShape = (arr.shape.length === 3 || (arr.shape.length === 4 && (c === 1 || c === 3))) && h > 0 && w > 0;
  check(okShape, `expected an image stack of shape (N, H, W) or (N, H, W, 3), got (${arr.shape.join(', ')})`);
  const [start, end] = range ?? [0, n];
  checkRange(start, end, n, 'image index');
  let max = -Infinity;
  for (let i = 0; i < arr.data.length; i++) if (arr.data[i] > max) max = arr.data[i];
  const scale = max > 1 ? 1 / 255 : 1;
  const per = h * w * c;
  const images: Image[] = [];
  for (let i = start; i < end; i++) {
    const img = makeImage(w, h, c === 3 ? 3 : 1);
    const src = arr.data.subarray(i * per, (i + 1) * per);
    for (let k = 0; k < per; k++) img.data[k] = Math.min(1, Math.max(0, src[k] * scale));
    images.push(img);
  }
  return images;
}

/** Half-open [start, end) must be non-empty integers within [0, n]. */
export function checkRange(start: number, end: number, n: number, what: string): void {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start >= end) {
    throw new UserError(`${what} range [${start}, ${end}) is out of bounds or empty (valid: 0 <= start < end <= ${n})`);
  }
}
