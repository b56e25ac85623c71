// Degradations that make observations for the inverse problems, and small image helpers for showing
// them: box (area) downsampling by an integer factor — the same forward model as the train step's
// boxDownsample (src/train/measure.ts), computed by src/data/pixels.ts resizeArea —
// seeded additive Gaussian noise, nearest-neighbour upsampling, clamping. Platform-neutral (no node:*).
import { resizeArea, type Image } from '../data/pixels.ts';
import { rng } from '../util/random.ts';
import { UserError } from '../util/errors.ts';
import { checkScale } from '../train/measure.ts';

export { checkScale };

/** Mean of each factor x factor block: (W/f) x (H/f) (an exact area resize by an integer factor). */
export function downsample(img: Image, factor: number): Image {
  checkScale(img.width, img.height, factor);
  return resizeArea(img, img.width / factor, img.height / factor);
}

/**
 * Add i.i.d. N(0, sigma^2) noise (seeded, reproducible) and clip to [0, 1], so the observation is a
 * valid image that a PNG file can hold.
 */
export function addNoise(img: Image, sigma: number, seed: number): Image {
  if (!(Number.isFinite(sigma) && sigma >= 0))
    throw new UserError(`noise sigma must be a non-negative number, got ${sigma}`);
  const r = rng(seed);
  const data = img.data.map((v) => Math.min(1, Math.max(0, v + sigma * r.normal())));
  return { ...img, data };
}

/** Each pixel repeated factor x factor times (for showing a low-resolution observation at full size). */
export function upsampleNearest(img: Image, factor: number): Image {
  const c = img.channels,
    w = img.width * factor,
    h = img.height * factor;
  const out = new Float32Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * c;
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = img.data[s + k];
    }
  }
  return { width: w, height: h, channels: c, data: out };
}

export function clamp01(img: Image): Image {
  return { ...img, data: img.data.map((v) => Math.min(1, Math.max(0, v))) };
}
