// How one tensor's values are stored in a bundle's tensor file: float32 (the default), float16, or
// int8 with one float32 scale per output channel (the last axis: weights are [fan_in, fan_out], so a
// column). Encoding and decoding are exact inverses up to each format's rounding; every reader
// dequantizes to float32, so the train step and the runtimes only ever see float32.
import { UserError } from '../util/errors.ts';

export const TENSOR_DTYPES = ['float32', 'float16', 'int8'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/** Where a tensor's values sit in the tensor file. `dtype` absent means float32 (bundles written
 *  before dtypes existed). int8 tensors also point at their scales: `shape[last]` float32 values. */
export interface StoredTensor {
  name: string;
  shape: number[];
  offset: number;
  length: number;
  dtype?: TensorDtype;
  scaleOffset?: number;
}

/** What a quantized bundle records about its origin (manifest field `quantization`). */
export interface QuantizationInfo {
  /** Storage of the encoder's weight matrices; biases stay float32 under int8. */
  dtype: 'float16' | 'int8';
  /** The float32 bundle it was made from. */
  from: { name: string; weights_sha256: string };
  /** Largest |stored - float32| over every tensor (after dequantization). */
  max_abs_error: number;
}

const BYTES: Record<TensorDtype, number> = { float32: 4, float16: 2, int8: 1 };

/** Channels that carry their own int8 scale: the last axis (a 1-D tensor: each value its own). */
export function scaleCount(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[shape.length - 1];
}

/** Bytes of the values alone (int8 scales are stored separately, at `scaleOffset`). */
export function valueBytes(dtype: TensorDtype, length: number): number {
  return BYTES[dtype] * length;
}

// ---- float16 (IEEE 754 binary16) ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** binary16 bits of the float32 nearest to x, rounded to nearest even; overflow gives infinity,
 *  NaN stays NaN. Works on float32 bits, so the one rounding is float32 -> float16. */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, or a quiet NaN
  const e = exp - 127 + 15; // binary16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // beyond 65504 + half an ulp: infinity
  if (e <= 0) {
    // A binary16 subnormal (m * 2^-24) or zero: m = (1.mant) * 2^(exp-126) shifted right.
    if (e < -10) return sign; // below 2^-25: rounds to zero
    const full = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(full, shift);
  }
  // Normal: keep 10 mantissa bits; a carry out of the mantissa bumps the exponent (up to infinity).
  return sign | ((e << 10) + roundShift(mant, 13));
}

/** v >> shift rounded to nearest, ties to even. */
function roundShift(v: number, shift: number): number {
  const q = v >>> shift;
  const rem = v & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}

/** The value of binary16 bits h (exact in float32). */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

// ---- int8, symmetric, one scale per output channel ----

/** q = round(w / s) in [-127, 127] with s = max |w| of the channel / 127 (stored as float32), so
 *  |w - q s| <= s / 2. A channel of zeros gets s = 0. */
export function quantizeInt8(data: Float32Array, shape: readonly number[]): { q: Int8Array; scales: Float32Array } {
  const cols = scaleCount(shape);
  const scales = new Float32Array(cols);
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    if (!Number.isFinite(a)) throw new UserError(`cannot store a non-finite value (${data[i]}) as int8`);
    if (a > scales[i % cols]) scales[i % cols] = a;
  }
  for (let j = 0; j < cols; j++) scales[j] = scales[j] / 127;
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const s = scales[i % cols];
    q[i] = s === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(data[i] / s)));
  }
  return { q, scales };
}

export function dequantizeInt8(q: Int8Array, scales: Float32Array): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scales[i % scales.length];
  return out;
}

// ---- tensor file entries ----

/** The bytes stored for a tensor: values, and for int8 the scales after them at a 4-byte boundary.
 *  `scaleAt` is the scales' position relative to the start of the returned bytes. */
export function encodeTensor(
  dtype: TensorDtype,
  data: Float32Array,
  shape: readonly number[],
): { bytes: Uint8Array; scaleAt?: number } {
  const n = data.length;
  switch (dtype) {
    case 'float32': {
      const bytes = new Uint8Array(4 * n);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < n; i++) dv.setFloat32(4 * i, data[i], true);
      return { bytes };
    }
    case 'float16': {
      const bytes = new Uint8Array(2 * n);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, float16Bits(data[i]), true);
      return { bytes };
    }
    case 'int8': {
      const { q, scales } = quantizeInt8(data, shape);
      const scaleAt = align4(n);
      const bytes = new Uint8Array(scaleAt + 4 * scales.length);
      bytes.set(new Uint8Array(q.buffer), 0);
      const dv = new DataView(bytes.buffer);
      for (let j = 0; j < scales.length; j++) dv.setFloat32(scaleAt + 4 * j, scales[j], true);
      return { bytes, scaleAt };
    }
    default:
      return dtype satisfies never;
  }
}

export function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** A tensor's float32 values from the tensor file, checking that its entry fits the file. */
export function decodeTensor(bin: Uint8Array, e: StoredTensor): Float32Array {
  const dtype = e.dtype ?? 'float32';
  if (!(TENSOR_DTYPES as readonly string[]).includes(dtype))
    throw new UserError(
      `tensor '${e.name}' has unknown dtype '${String(dtype)}' (this strainer reads ${TENSOR_DTYPES.join(', ')})`,
    );
  const corrupt = (): UserError => new UserError(`tensor '${e.name}' does not fit the tensor file (corrupt bundle)`);
  const n = e.length;
  const inFile = (at: unknown, bytes: number): boolean =>
    Number.isSafeInteger(at) && (at as number) >= 0 && (at as number) + bytes <= bin.byteLength;
  if (!Number.isSafeInteger(n) || n < 0 || !inFile(e.offset, valueBytes(dtype, n))) throw corrupt();
  const dv = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(e.offset + 4 * i, true);
      return out;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = float16Value(dv.getUint16(e.offset + 2 * i, true));
      return out;
    case 'int8': {
      const cols = scaleCount(e.shape);
      if (!inFile(e.scaleOffset, 4 * cols) || n % cols !== 0) throw corrupt();
      const scales = new Float32Array(cols);
      for (let j = 0; j < cols; j++) scales[j] = dv.getFloat32(e.scaleOffset! + 4 * j, true);
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(e.offset + i) * scales[i % cols];
      return out;
    }
    default:
      return dtype satisfies never;
  }
}
