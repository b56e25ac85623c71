// Image codecs: PNG/JPEG decoding (pngjs, jpeg-js; format sniffed from magic bytes, never
// from the file name) and 8-bit PNG encoding, plus a re-export of the pixel operations of
// ./pixels.ts (area resize, crop, pad, gray), so the data pipeline imports one module.
// Every decode failure becomes a one-line UserError naming the file; sizes are checked from the header
// against ./limits.ts before either codec allocates anything, and an interlaced PNG's image data is
// stream-inflated and counted before pngjs (which caps only non-interlaced output) inflates it. Files: src/node/read.ts.

import { Unzlib } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError, check } from '../util/errors.ts';
import { compositeOnWhite, toChannels, type Image, type ChannelMode } from './pixels.ts';
import { checkPixels, maxPixels, DEFLATE_MAX_RATIO, type SizeLimit } from './limits.ts';

export { makeImage, compositeOnWhite, isGrayscale, toGray, toChannels, resizeArea, padToSquare, cropCenterSquare, type Image, type ChannelMode } from './pixels.ts';

export interface DecodeOptions extends SizeLimit {
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
  const rgb = format === 'png' ? decodePng(bytes, name, opts) : decodeJpeg(bytes, name, opts);
  return toChannels(rgb, opts.channels ?? 'auto');
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
}

// PNG spec sections 5.3 and 11.2.2: chunks are length (uint32 BE), type, data, CRC; IHDR comes first and
// holds width, height (uint32 BE), bit depth and colour type; samples per pixel by colour type.
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

// PNG spec section 8.2, Adam7: pass p holds the pixels at columns x0 + k dx and rows y0 + k dy.
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
];

/**
 * Bytes of an interlaced (Adam7) image's filtered scanlines, what its IDAT stream inflates to: each
 * non-empty pass holds rows x (1 filter byte + ceil(cols x bitsPerPixel / 8)) bytes (PNG spec sections
 * 7.2 and 8.2; an image under 5 columns or rows has empty passes, which hold no bytes at all).
 */
export function adam7RawBytes(width: number, height: number, bitsPerPixel: number): number {
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const cols = Math.max(0, Math.ceil((width - x0) / dx)), rows = Math.max(0, Math.ceil((height - y0) / dy));
    if (cols > 0 && rows > 0) total += rows * (1 + Math.ceil((cols * bitsPerPixel) / 8));
  }
  return total;
}

/** Input slice per streamed push: at deflate's maximum ratio one push yields at most ~1 MB. */
const INFLATE_PUSH_BYTES = 1024;

/**
 * Stream-inflate an interlaced PNG's IDAT data (one zlib stream over the chunks in order, PNG spec
 * section 10.1), counting output and stopping as soon as it passes `expected`: pngjs inflates an
 * interlaced image with no cap, so a deflate bomb would otherwise allocate up to 1032x the file.
 */
function checkInterlacedInflate(idat: Uint8Array[], expected: number, name: string): void {
  let out = 0;
  const z = new Unzlib((chunk) => { out += chunk.length; });
  try {
    for (let c = 0; c < idat.length && out <= expected; c++) {
      for (let at = 0; at < idat[c].length && out <= expected; at += INFLATE_PUSH_BYTES) {
        z.push(idat[c].subarray(at, at + INFLATE_PUSH_BYTES), false);
      }
    }
    if (out <= expected) z.push(new Uint8Array(0), true);
  } catch (e) {
    throw new UserError(`${name}: corrupt or truncated PNG (image data: ${oneLine(e)})`);
  }
  if (out > expected) {
    throw new UserError(`${name}: corrupt PNG (interlaced image data inflates to more than the ${expected} bytes its header allows)`);
  }
}

/**
 * Refuse a PNG whose IHDR claims more pixels than the limit, or more than its IDAT chunks can hold at
 * deflate's maximum ratio (a lying header), before pngjs allocates the claimed size; for an interlaced
 * PNG also one whose IDAT stream inflates to more than its Adam7 scanlines hold.
 */
function checkPngHeader(bytes: Uint8Array, name: string, opts: SizeLimit): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 8 + 8 + 13 || type(12) !== 'IHDR') throw new UserError(`${name}: truncated or corrupt PNG (no IHDR chunk)`);
  const width = view.getUint32(16), height = view.getUint32(20), depth = bytes[24], channels = PNG_CHANNELS[bytes[25]];
  const interlaced = bytes[28] === 1; // PNG spec section 11.2.2: interlace method 0 none, 1 Adam7
  checkPixels(name, 'image', [width, height], opts);
  let idat = 0;
  const parts: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const len = view.getUint32(at), t = type(at + 4);
    if (t === 'IDAT') {
      idat += Math.min(len, bytes.length - at - 8);
      parts.push(bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + len)));
    }
    if (t === 'IEND') break;
    at += 12 + len;
  }
  if (channels === undefined) return; // an invalid colour type: pngjs names it
  const minRaw = Math.ceil((width * height * channels * depth) / 8);
  if (minRaw > DEFLATE_MAX_RATIO * (idat + 1)) {
    throw new UserError(`${name}: truncated or corrupt PNG (${idat} bytes of image data cannot hold a ${width}x${height} image)`);
  }
  if (interlaced) checkInterlacedInflate(parts, adam7RawBytes(width, height, channels * depth), name);
}

function decodePng(bytes: Uint8Array, name: string, opts: SizeLimit): Image {
  checkPngHeader(bytes, name, opts);
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

// ITU-T T.81 Annex B: after SOI, marker segments FF xx with a uint16 BE length that counts itself
// (standalone markers 01 and D0..D8 have none); a start-of-frame SOFn (C0..CF except C4 DHT, C8 JPG,
// CC DAC) holds precision, height, width, and per component an id and its sampling factors h, v.
interface JpegFrame { width: number; height: number; blockShare: number }
function jpegFrame(bytes: Uint8Array): JpegFrame | null {
  for (let at = 2; at + 4 <= bytes.length;) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { at += 2; continue; }
    if (marker === 0xda || marker === 0xd9) return null; // start of scan / end of image before any frame
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 10 > bytes.length) return null;
      const n = bytes[at + 9], hv: number[][] = [];
      for (let c = 0; c < n && at + 12 + 3 * c <= bytes.length; c++) hv.push([bytes[at + 11 + 3 * c] >> 4, bytes[at + 11 + 3 * c] & 15]);
      const maxH = Math.max(1, ...hv.map(([h]) => h)), maxV = Math.max(1, ...hv.map(([, v]) => v));
      // The least-sampled component's share of the frame's blocks (1 when none is subsampled).
      const share = Math.min(1, ...hv.map(([h, v]) => Math.max(1, h * v) / (maxH * maxV)));
      return { height: (bytes[at + 5] << 8) | bytes[at + 6], width: (bytes[at + 7] << 8) | bytes[at + 8], blockShare: share };
    }
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
  }
  return null;
}

// Huffman-coded JPEG data (the only kind jpeg-js decodes) spends at least one bit on every 8x8 block
// of a scan's component (T.81 F.1.2.1: a DC difference code is at least one bit), so a file of N bytes
// holds at most 8 * 64 * N blocks' worth of pixels of its least-sampled component.
const JPEG_PIXELS_PER_BIT = 64;
// jpeg-js counts 256 bytes for each 64-sample block of up to 4 components plus its output (decoder.js
// requestMemoryAllocation): 32 bytes a pixel covers that, so the pixel limit is the one that binds.
const JPEG_BYTES_PER_PIXEL = 32;

function decodeJpeg(bytes: Uint8Array, name: string, opts: SizeLimit): Image {
  const frame = jpegFrame(bytes);
  if (frame) {
    const { width, height, blockShare } = frame;
    checkPixels(name, 'image', [width, height], opts);
    if (width * height * blockShare > JPEG_PIXELS_PER_BIT * 8 * bytes.length) {
      throw new UserError(`${name}: truncated or corrupt JPEG (${bytes.length} bytes cannot hold a ${width}x${height} image)`);
    }
  }
  const limit = maxPixels(opts);
  let decoded;
  try {
    // tolerantDecoding (jpeg-js's default) silently fills missing blocks of a truncated file with
    // gray; turning it off makes truncation an error. It decodes every bundled/fetched JPEG fine.
    decoded = jpeg.decode(bytes, {
      useTArray: true, formatAsRGBA: false, tolerantDecoding: false,
      maxResolutionInMP: limit / 1e6, maxMemoryUsageInMB: Math.ceil((limit * JPEG_BYTES_PER_PIXEL) / 2 ** 20),
    });
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
