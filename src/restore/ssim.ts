// Structural similarity (SSIM) of Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from
// error visibility to structural similarity", IEEE TIP 13(4), 2004, with the paper's constants: an
// 11x11 circular-symmetric Gaussian window of sigma 1.5 (normalised to sum 1), K1 = 0.01, K2 = 0.03,
// data range L = 1 (images in [0, 1]). Statistics are taken over every window that fits inside the
// image ("valid" filtering, as the authors' ssim_index.m) and the SSIM map is averaged; colour images
// average the per-channel means. Also PSNR on the same [0, 1] scale. Platform-neutral.
import type { Image } from '../data/pixels.ts';
import { UserError } from '../util/errors.ts';
import { psnrBetween } from '../util/stats.ts';

// Wang et al. 2004, section III-C: window 11x11, sigma 1.5; section III-B: K1 = 0.01, K2 = 0.03.
export const SSIM_PARAMS = { size: 11, sigma: 1.5, k1: 0.01, k2: 0.03, range: 1 } as const;

/** The normalised 1-D Gaussian; the 2-D window is its outer product (exp is separable). */
export function gaussianWindow1d(size: number = SSIM_PARAMS.size, sigma: number = SSIM_PARAMS.sigma): Float64Array {
  const r = (size - 1) / 2;
  const g = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
}

function checkPair(a: Image, b: Image): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new UserError(
      `images differ in size: ${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels}`,
    );
  }
}

/** Separable "valid" filtering of one channel (plane of h x w) with window g: (h-k+1) x (w-k+1). */
function filterValid(plane: Float64Array, h: number, w: number, g: Float64Array): Float64Array {
  const k = g.length,
    oh = h - k + 1,
    ow = w - k + 1;
  const rows = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += g[t] * plane[y * w + x + t];
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += g[t] * rows[(y + t) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** The SSIM map of one channel: one value per valid window position. */
export function ssimMap(a: Image, b: Image, channel = 0): Float64Array {
  checkPair(a, b);
  const { size, k1, k2, range } = SSIM_PARAMS;
  const h = a.height,
    w = a.width,
    c = a.channels;
  if (h < size || w < size) throw new UserError(`SSIM needs images of at least ${size}x${size} pixels, got ${w}x${h}`);
  const n = h * w;
  const x = new Float64Array(n),
    y = new Float64Array(n),
    xx = new Float64Array(n),
    yy = new Float64Array(n),
    xy = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const u = a.data[p * c + channel],
      v = b.data[p * c + channel];
    x[p] = u;
    y[p] = v;
    xx[p] = u * u;
    yy[p] = v * v;
    xy[p] = u * v;
  }
  const g = gaussianWindow1d();
  const [mx, my, exx, eyy, exy] = [x, y, xx, yy, xy].map((plane) => filterValid(plane, h, w, g));
  const c1 = (k1 * range) ** 2,
    c2 = (k2 * range) ** 2;
  const out = new Float64Array(mx.length);
  for (let i = 0; i < out.length; i++) {
    const vx = exx[i] - mx[i] * mx[i],
      vy = eyy[i] - my[i] * my[i],
      cxy = exy[i] - mx[i] * my[i];
    out[i] = ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
  }
  return out;
}

/** Mean SSIM (MSSIM in the paper), averaged over channels. 1 for identical images. */
export function ssim(a: Image, b: Image): number {
  checkPair(a, b);
  let total = 0;
  for (let ch = 0; ch < a.channels; ch++) {
    const m = ssimMap(a, b, ch);
    total += m.reduce((s, v) => s + v, 0) / m.length;
  }
  return total / a.channels;
}

/** PSNR in dB for images in [0, 1] (data range 1): -10 log10(MSE). */
export function psnr(a: Image, b: Image): number {
  checkPair(a, b);
  return psnrBetween(a.data, b.data);
}
