// Image codecs and files: PNG/JPEG decoding (pngjs, jpeg-js; format sniffed from magic bytes, never
// from the file name) and 8-bit PNG encoding, plus a re-export of the pixel operations of
// ./pixels.ts (area resize, crop, pad, gray), so the data pipeline imports one module.
// Every decode failure becomes a one-line UserError naming the file. `loadImage` is Node-only.

import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError, check } from '../util/errors.ts';
import { readDataFile } from './files.ts';
import { makeImage, compositeOnWhite, toChannels, type Image, type ChannelMode } from './pixels.ts';

export { makeImage, compositeOnWhite, isGrayscale, toGray, toChannels, resizeArea, padToSquare, cropCenterSquare, type Image, type ChannelMode } from './pixels.ts';

export interface DecodeOptions {
  channels?: ChannelMode;
}

export type ImageFormat = 'png' | 'jpeg';

// Signatures: PNG spec section 5.2 (89 50 4E 47 0D 0A 1A 0A); JPEG SOI marker FF D8 followed by the
// FF of the next marker (ITU-T T.81, Annex B).
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/** Which codec the leading bytes belong to, or null for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  const starts = (magic: number[]) => bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
  if (starts(PNG_MAGIC)) return 'png';
  if (starts(JPEG_MAGIC)) return 'jpeg';
  return null;
}

/** Decode PNG or JPEG bytes; `name` only labels error messages. */
export function decodeImage(bytes: Uint8Array, name: string, opts: DecodeOptions = {}): Image {
  check(bytes.length > 0, `${name}: empty file`);
  const format = sniffImageFormat(bytes);
  check(format !== null, `${name}: not a PNG or JPEG image (unrecognised leading bytes)`);
  const rgb = format === 'png' ? decodePng(bytes, name) : decodeJpeg(bytes, name);
  return toChannels(rgb, opts.channels ?? 'auto');
}

/** Read and decode an image file (Node only). */
export function loadImage(path: string, opts: DecodeOptions = {}): Image {
  return decodeImage(readDataFile(path), path, opts);
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
}

function decodePng(bytes: Uint8Array, name: string): Image {
  let png;
  try {
    // skipRescale keeps 16-bit (and 1/2/4-bit) samples at their native depth, so we divide by the
    // true maximum below instead of losing precision in pngjs's rescale to 8 bits.
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (e) {
    throw new UserError(`${name}: corrupt or truncated PNG (${oneLine(e)})`);
  }
  const { width, height } = png;
  check(width > 0 && height > 0, `${name}: PNG has zero size (${width}x${height})`);
  // pngjs always returns RGBA. Palette entries are 8-bit; otherwise samples span 0..2^depth-1
  // (PNG spec section 11.2.2), including the alpha it fills in for images without an alpha channel.
  const max = png.palette ? 255 : 2 ** png.depth - 1;
  const raw: ArrayLike<number> = png.data;
  check(raw.length === width * height * 4, `${name}: truncated PNG pixel data`);
  return compositeOnWhite(raw, width, height, 4, max);
}

function decodeJpeg(bytes: Uint8Array, name: string): Image {
  let decoded;
  try {
    // tolerantDecoding (jpeg-js's default) silently fills missing blocks of a truncated file with
    // gray; turning it off makes truncation an error. It decodes every bundled/fetched JPEG fine.
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
  } catch (e) {
    throw new UserError(`${name}: corrupt or truncated JPEG (${oneLine(e)})`);
  }
  const { width, height, data } = decoded;
  check(width > 0 && height > 0, `${name}: JPEG has zero size (${width}x${height})`);
  check(data.length === width * height * 3, `${name}: truncated JPEG pixel data`);
  return compositeOnWhite(data, width, height, 3, 255);
}

/** 8-bit PNG (gray or RGB, no alpha); values are clamped to [0, 1] and rounded to the nearest level. */
export function encodePng(img: Image): Uint8Array {
  const bytes = new Uint8Array(img.data.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, img.data[i])) * 255);
  const colorType = img.channels === 1 ? 0 : 2; // PNG spec section 11.2.2: 0 gray, 2 truecolour
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(bytes.buffer);
  return new Uint8Array(PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false }));
}
