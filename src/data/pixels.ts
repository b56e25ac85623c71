// Images as flat Float32 arrays (HWC interleaved, values in [0, 1]) and the pixel operations that need
// no codec or file system, so browser code (src/web, src/restore) can use them too: allocation,
// alpha onto white, gray/RGB conversion, exact area resize, centre crop, zero pad. src/data/image.ts
// adds the PNG/JPEG codecs and file loading and re-exports everything here.
import { check } from '../util/errors.ts';

export interface Image {
  width: number;
  height: number;
  channels: 1 | 3;
  /** HWC interleaved: pixel (x, y) channel c is at (y * width + x) * channels + c. */
  data: Float32Array;
}

/** 'auto' keeps one channel when every pixel has R = G = B, else three. */
export type ChannelMode = 'auto' | 1 | 3;

/** Allocate an image, checking that the sizes are positive integers. */
export function makeImage(width: number, height: number, channels: 1 | 3, data?: Float32Array): Image {
  check(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0,
    `image size must be positive integers, got ${width}x${height}`);
  const n = width * height * channels;
  if (data !== undefined && data.length !== n) throw new Error(`image data has ${data.length} values, expected ${n}`);
  return { width, height, channels, data: data ?? new Float32Array(n) };
}

/**
 * Scale integer samples to [0, 1] RGB. With 4 samples per pixel the alpha is composited onto a
 * WHITE background (out = a * c + (1 - a) * 1): transparent areas of logos and cut-outs become white,
 * as a viewer shows them, rather than an arbitrary hidden colour.
 */
export function compositeOnWhite(raw: ArrayLike<number>, width: number, height: number, stride: 3 | 4, max: number): Image {
  const n = width * height;
  const out = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) {
    const a = stride === 4 ? raw[p * 4 + 3] / max : 1;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = a * (raw[p * stride + c] / max) + (1 - a);
  }
  return makeImage(width, height, 3, out);
}

/** True when the image has one channel, or every pixel has R = G = B exactly. */
export function isGrayscale(img: Image): boolean {
  if (img.channels === 1) return true;
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
  return true;
}

/**
 * Luma of an RGB image with the ITU-R BT.601 weights 0.299, 0.587, 0.114 (the weights of PIL's
 * convert('L')). An image that is already gray is copied. An RGB image with R = G = B keeps its
 * value exactly (we take R instead of a weighted sum that could round differently).
 */
export function toGray(img: Image): Image {
  if (img.channels === 1) return makeImage(img.width, img.height, 1, img.data.slice());
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let p = 0; p < n; p++) {
    const r = d[p * 3], g = d[p * 3 + 1], b = d[p * 3 + 2];
    out[p] = r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
  }
  return makeImage(img.width, img.height, 1, out);
}

/** Convert to the requested channel count ('auto': see ChannelMode). Gray -> RGB replicates. */
export function toChannels(img: Image, mode: ChannelMode): Image {
  const want = mode === 'auto' ? (isGrayscale(img) ? 1 : 3) : mode;
  if (want === 1) return toGray(img);
  if (img.channels === 3) return makeImage(img.width, img.height, 3, img.data.slice());
  const n = img.width * img.height;
  const out = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = img.data[p];
  return makeImage(img.width, img.height, 3, out);
}

export interface Taps {
  first: number; // first source index
  weights: number[]; // fraction of the output pixel covered by source first, first + 1, ...
}

/**
 * 1-D area taps from `src` to `dst` samples. Output j covers source [j*src/dst, (j+1)*src/dst);
 * scaling every coordinate by dst keeps the arithmetic in integers: output j spans
 * [j*src, (j+1)*src) and source i spans [i*dst, (i+1)*dst), so overlaps are exact.
 */
export function areaTaps(src: number, dst: number): Taps[] {
  const taps: Taps[] = [];
  for (let j = 0; j < dst; j++) {
    const lo = j * src, hi = lo + src;
    const first = Math.floor(lo / dst), last = Math.ceil(hi / dst) - 1;
    const weights: number[] = [];
    for (let i = first; i <= last; i++) weights.push((Math.min(hi, (i + 1) * dst) - Math.max(lo, i * dst)) / src);
    taps.push({ first, weights });
  }
  return taps;
}

/**
 * Exact area-averaging resize (a box filter with fractional pixel coverage): each output pixel is the
 * mean of the source over its footprint. A 2x downscale is plain 2x2 averaging; any ratio works, up
 * or down. Separable because a rectangle's overlap area is the product of its 1-D overlaps.
 */
export function resizeArea(img: Image, width: number, height: number): Image {
  const out = makeImage(width, height, img.channels);
  const c = img.channels, tx = areaTaps(img.width, width), ty = areaTaps(img.height, height);
  const rows = new Float64Array(img.height * width * c); // horizontal pass, kept in double
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      const { first, weights } = tx[x];
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let t = 0; t < weights.length; t++) s += weights[t] * img.data[(y * img.width + first + t) * c + k];
        rows[(y * width + x) * c + k] = s;
      }
    }
  }
  for (let y = 0; y < height; y++) {
    const { first, weights } = ty[y];
    for (let i = 0; i < width * c; i++) {
      let s = 0;
      for (let t = 0; t < weights.length; t++) s += weights[t] * rows[(first + t) * width * c + i];
      out.data[y * width * c + i] = s;
    }
  }
  return out;
}

/** Copy the w x h window at (x0, y0) of `src` into `dst` at (x1, y1). */
function blit(src: Image, x0: number, y0: number, w: number, h: number, dst: Image, x1: number, y1: number): void {
  const c = src.channels;
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * src.width + x0) * c;
    dst.data.set(src.data.subarray(from, from + w * c), ((y1 + y) * dst.width + x1) * c);
  }
}

/**
 * Zero-pad to a centred square of side max(width, height). When the padding is odd the extra
 * column/row goes on the RIGHT/BOTTOM (the image sits at offset floor(pad / 2)).
 */
export function padToSquare(img: Image): Image {
  const side = Math.max(img.width, img.height);
  const out = makeImage(side, side, img.channels);
  blit(img, 0, 0, img.width, img.height, out, Math.floor((side - img.width) / 2), Math.floor((side - img.height) / 2));
  return out;
}

/**
 * Centre square crop of side min(width, height). When the excess is odd the extra column/row is
 * trimmed from the RIGHT/BOTTOM (the crop starts at floor(excess / 2)), mirroring padToSquare.
 */
export function cropCenterSquare(img: Image): Image {
  const side = Math.min(img.width, img.height);
  const out = makeImage(side, side, img.channels);
  blit(img, Math.floor((img.width - side) / 2), Math.floor((img.height - side) / 2), side, side, out, 0, 0);
  return out;
}
