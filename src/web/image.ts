// Images in the browser: decode a File/Blob with the browser's own codecs (createImageBitmap), crop the
// centre square and resample it to size x size on a 2D canvas, giving the project's Image (HWC float
// in [0,1], gray when R = G = B everywhere); and back to ImageData for drawing. No Node codecs here.
import { compositeOnWhite, toChannels, type Image } from '../data/pixels.ts';
import { UserError } from '../util/errors.ts';

export type { Image };

/** Decodes image bytes; anything the browser cannot decode is a UserError naming the file. */
export async function decodeBlob(blob: Blob, name: string): Promise<ImageBitmap> {
  if (blob.size === 0) throw new UserError(`${name}: empty file`);
  try {
    return await createImageBitmap(blob);
  } catch {
    throw new UserError(`${name} is not an image this browser can decode (${blob.type || 'unknown type'})`);
  }
}

type Drawable = ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

function sizeOf(src: Drawable): { w: number; h: number } {
  if ('naturalWidth' in src) return { w: src.naturalWidth, h: src.naturalHeight };
  return { w: src.width, h: src.height };
}

/** Centre square of `src`, resampled to size x size; channels 'auto' keeps one channel for gray images. */
export function toImage(src: Drawable, size: number, channels: 'auto' | 1 | 3 = 'auto'): Image {
  if (!Number.isInteger(size) || size < 2 || size > 1024)
    throw new UserError(`image size must be an integer in [2, 1024], got ${size}`);
  const { w, h } = sizeOf(src);
  if (w < 1 || h < 1) throw new UserError('the image has no pixels');
  const side = Math.min(w, h);
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('2D canvas unavailable');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, (w - side) / 2, (h - side) / 2, side, side, 0, 0, size, size);
  // Alpha composited over white and gray kept exact, as the Node decoder does (src/data/pixels.ts).
  return toChannels(compositeOnWhite(ctx.getImageData(0, 0, size, size).data, size, size, 4, 255), channels);
}

/** Image (values clamped to [0,1]) as RGBA ImageData for a 2D canvas. */
export function toImageData(img: Image): ImageData {
  const out = new ImageData(img.width, img.height);
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) {
      const v = img.data[p * img.channels + (img.channels === 1 ? 0 : k)];
      out.data[4 * p + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    out.data[4 * p + 3] = 255;
  }
  return out;
}

/** Checks an Image handed to fit() by a web app. */
export function checkImage(img: Image): Image {
  const ok =
    img &&
    Number.isInteger(img.width) &&
    Number.isInteger(img.height) &&
    img.width > 0 &&
    img.height > 0 &&
    (img.channels === 1 || img.channels === 3) &&
    img.data instanceof Float32Array &&
    img.data.length === img.width * img.height * img.channels;
  if (!ok)
    throw new UserError(
      'fit() needs an Image {width, height, channels: 1 | 3, data: Float32Array HWC in [0,1]}; use toImage() to make one from a bitmap',
    );
  return img;
}
