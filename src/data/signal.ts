// Signals: samples on a regular grid of any rank with C channels, the one type the fitting pipeline
// works on (fitSignal, pretraining, transfer, rendering): a clip is [n], an image [height, width], a
// volume [depth, height, width]. Data is row-major with the channel last (an Image's HWC is the 2-D
// case, so an Image converts without a copy), values on the pipeline's [0, 1] scale (audio maps a
// sample y in [-1, 1] to (y + 1) / 2, src/data/wav.ts). Codec-free; N-D area resampling and padding.
import { check } from '../util/errors.ts';
import { areaTaps, makeImage, type Image } from './pixels.ts';

export interface Signal {
  /** Samples per axis, slowest first: [n] a clip, [height, width] an image, [depth, height, width] a volume. */
  dims: number[];
  channels: number;
  /** Row-major, channel last: sample (i0, ..., ik) channel c is at (((i0 * d1 + i1) * d2 + ...) + ik) * channels + c. */
  data: Float32Array;
}

/** Samples on the grid (the product of dims). */
export function sampleCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Allocate a signal, checking that every size is a positive integer. */
export function makeSignal(dims: readonly number[], channels: number, data?: Float32Array): Signal {
  check(dims.length >= 1 && dims.every((d) => Number.isInteger(d) && d > 0), `signal size must be positive integers, got ${dims.join('x')}`);
  check(Number.isInteger(channels) && channels > 0, `signal channels must be a positive integer, got ${channels}`);
  const n = sampleCount(dims) * channels;
  if (data !== undefined && data.length !== n) throw new Error(`signal data has ${data.length} values, expected ${n}`);
  return { dims: [...dims], channels, data: data ?? new Float32Array(n) };
}

export function isImage(x: Image | Signal): x is Image {
  return (x as Image).width !== undefined && (x as Signal).dims === undefined;
}

/** An image as a 2-D signal [height, width]; shares the image's data (no copy). */
export function imageSignal(img: Image): Signal {
  return { dims: [img.height, img.width], channels: img.channels, data: img.data };
}

/** Either form as a Signal (an Image without a copy). */
export function asSignal(x: Image | Signal): Signal {
  return isImage(x) ? imageSignal(x) : x;
}

/** A 2-D signal of 1 or 3 channels as an Image; shares the data. */
export function signalImage(s: Signal): Image {
  check(s.dims.length === 2 && (s.channels === 1 || s.channels === 3), `an image needs a 2-D signal of 1 or 3 channels, got ${s.dims.join('x')} with ${s.channels}`);
  return { height: s.dims[0], width: s.dims[1], channels: s.channels, data: s.data };
}

/** "7290 samples", "64x64", "64x64x64", with ", 2 channels" when there is more than one. */
export function describeSignal(s: Pick<Signal, 'dims' | 'channels'>): string {
  const size = s.dims.length === 1 ? `${s.dims[0]} samples` : s.dims.join('x');
  return s.channels === 1 ? size : `${size}, ${s.channels} channels`;
}

/** Size of the block after axis k (the stride of axis k in values, channels included). */
function inner(dims: readonly number[], k: number, channels: number): number {
  return sampleCount(dims.slice(k + 1)) * channels;
}

/**
 * Exact area-averaging resample to `dims` (the N-D box filter of src/data/pixels.ts resizeArea: each
 * output sample is the mean of the source over its footprint, fractional coverage included). Separable,
 * one axis at a time from the last, in double precision until the final store.
 */
export function resampleArea(s: Signal, dims: readonly number[]): Signal {
  check(dims.length === s.dims.length, `resample: ${dims.length} sizes for a ${s.dims.length}-D signal`);
  const out = makeSignal(dims, s.channels);
  let cur: Float64Array | Float32Array = s.data;
  const shape = [...s.dims];
  for (let k = shape.length - 1; k >= 0; k--) {
    if (shape[k] === dims[k]) continue;
    const taps = areaTaps(shape[k], dims[k]);
    const outer = sampleCount(shape.slice(0, k)), blk = inner(shape, k, s.channels);
    const next = new Float64Array(outer * dims[k] * blk);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < dims[k]; j++) {
        const { first, weights } = taps[j];
        const to = (o * dims[k] + j) * blk;
        for (let t = 0; t < weights.length; t++) {
          const from = (o * shape[k] + first + t) * blk, w = weights[t];
          for (let i = 0; i < blk; i++) next[to + i] += w * cur[from + i];
        }
      }
    }
    cur = next;
    shape[k] = dims[k];
  }
  out.data.set(cur);
  return out;
}

/** Zero-pad to `dims` (each >= the signal's), centred; an odd excess puts the extra sample at the END
 *  of the axis (offset floor(excess / 2)), as padToSquare does for images. */
export function padCentered(s: Signal, dims: readonly number[]): Signal {
  check(dims.length === s.dims.length && dims.every((d, k) => d >= s.dims[k]), `pad: cannot pad ${s.dims.join('x')} to ${dims.join('x')}`);
  const out = makeSignal(dims, s.channels);
  const off = dims.map((d, k) => Math.floor((d - s.dims[k]) / 2));
  const rank = dims.length, row = s.dims[rank - 1] * s.channels;
  const rows = sampleCount(s.dims.slice(0, rank - 1));
  const idx = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let to = 0;
    for (let k = 0; k < rank - 1; k++) to = to * dims[k] + idx[k] + off[k];
    to = (to * dims[rank - 1] + off[rank - 1]) * s.channels;
    out.data.set(s.data.subarray(r * row, (r + 1) * row), to);
    for (let k = rank - 2; k >= 0 && ++idx[k] === s.dims[k]; k--) idx[k] = 0;
  }
  return out;
}

/** Pad at the end of axis 0 to `n` samples with the value `fill` (clips brought to one length for
 *  pretraining: silence, y = 0, is wav.ts SILENCE = 0.5 on the [0, 1] scale). */
export function padEnd(s: Signal, n: number, fill: number): Signal {
  check(n >= s.dims[0], `pad: cannot pad ${s.dims[0]} samples to ${n}`);
  const out = makeSignal([n, ...s.dims.slice(1)], s.channels);
  out.data.fill(fill);
  out.data.set(s.data);
  return out;
}

/** The same signal with every value clamped to [0, 1] (what a file writer stores). */
export function clampSignal(s: Signal): Signal {
  return { ...s, dims: [...s.dims], data: s.data.map((v) => Math.min(1, Math.max(0, v))) };
}

/**
 * The three middle planes of a 1-channel volume [D, H, W] side by side as one gray image: the plane at
 * the middle of axis 0 (H x W), of axis 1 (D x W) and of axis 2 (D x H), on a black canvas as tall as
 * the tallest. Each plane is drawn with its higher row index at the TOP (in a NIfTI volume of an RAS
 * scan, read as [z, y, x]: anterior up in the axial plane, superior up in the other two).
 */
export function middleSlices(s: Signal): Image {
  check(s.dims.length === 3 && s.channels === 1, `middle slices need a 1-channel 3-D signal, got ${describeSignal(s)}`);
  const [d, h, w] = s.dims;
  const at = (z: number, y: number, x: number): number => s.data[(z * h + y) * w + x];
  const planes: { rows: number; cols: number; get: (r: number, c: number) => number }[] = [
    { rows: h, cols: w, get: (r, c) => at(d >> 1, r, c) },
    { rows: d, cols: w, get: (r, c) => at(r, h >> 1, c) },
    { rows: d, cols: h, get: (r, c) => at(r, c, w >> 1) },
  ];
  const gap = 2, height = Math.max(...planes.map((p) => p.rows));
  const img = makeImage(planes.reduce((a, p) => a + p.cols, 0) + gap * (planes.length - 1), height, 1);
  let x0 = 0;
  for (const p of planes) {
    for (let r = 0; r < p.rows; r++) {
      for (let c = 0; c < p.cols; c++) img.data[(height - 1 - r) * img.width + x0 + c] = Math.min(1, Math.max(0, p.get(r, c)));
    }
    x0 += p.cols + gap;
  }
  return img;
}
