// Interlaced (Adam7) PNGs: real images written interlaced by tests/unit/png-adam7.ts decode equal to
// their non-interlaced twins in every colour type and bit depth, at sizes with partial and empty passes;
// the image data must inflate to exactly the Adam7 scanline size (src/data/image.ts adam7RawBytes), so a
// byte more is refused; and a deflate bomb (a small file whose IDAT inflates to 100x what its header
// allows) is refused at once without the allocation pngjs would make for it. The bomb runs first, so
// the process's peak RSS still measures it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { adam7RawBytes, decodeImage } from '../../src/data/image.ts';
import { UserError } from '../../src/util/errors.ts';
import { encodePngFile, interlacedBomb, scanlines, type PngSpec } from './png-adam7.ts';

/** Peak RSS growth allowed for refusing the bomb; it would inflate to ~420 MB. */
const BOMB_RSS_MB = 64;
const BOMB_MS = 500;

function refusal(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError, got a result');
}

describe('interlaced PNG: deflate bomb', () => {
  it('refuses a 400 KB file whose IDAT inflates to 100x its 2048x2048 header, fast and without the allocation', () => {
    const w = 2048,
      h = 2048,
      raw = adam7RawBytes(w, h, 8);
    const bomb = interlacedBomb(w, h, 100, raw);
    expect(bomb.length).toBeLessThan(600_000);
    const rss0 = process.resourceUsage().maxRSS / 1024,
      t0 = performance.now();
    const e = refusal(() => decodeImage(bomb, 'bomb.png'));
    const ms = performance.now() - t0,
      grew = process.resourceUsage().maxRSS / 1024 - rss0;
    console.log(
      `bomb: ${bomb.length} bytes inflating to ${((100 * raw) / 2 ** 20).toFixed(0)} MiB (header allows ${raw}); refused in ${ms.toFixed(1)} ms, peak RSS +${grew.toFixed(1)} MB: ${e.message}`,
    );
    expect(e.message).toMatch(/^bomb\.png: corrupt PNG \(interlaced image data inflates to more than the \d+ bytes/);
    expect(e.message).not.toContain('\n');
    expect(ms).toBeLessThan(BOMB_MS);
    expect(grew).toBeLessThan(BOMB_RSS_MB);
  });
});

/** The raw samples of a real PNG (pngjs, native depth): gray from a gray file, RGB from a colour one. */
function realSamples(path: string): { width: number; height: number; channels: number; data: number[] } {
  const png = PNG.sync.read(readFileSync(path), { skipRescale: true });
  const channels = png.colorType === 0 ? 1 : 3;
  const data: number[] = [];
  for (let i = 0; i < png.width * png.height; i++) for (let k = 0; k < channels; k++) data.push(png.data[4 * i + k]);
  return { width: png.width, height: png.height, channels, data };
}

const slice = realSamples('tests/fixtures/slice-z073.png'); // 64x64 MRI slice, gray 8-bit
const cat = realSamples('web/public/samples/skimage-chelsea.png'); // 128x128 photo, RGB 8-bit

/** A w x h window at (x0, y0), each sample mapped by `f` (to another bit depth). */
function crop(
  src: typeof slice,
  x0: number,
  y0: number,
  w: number,
  h: number,
  f: (v: number) => number = (v) => v,
): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < src.channels; k++) out.push(f(src.data[((y0 + y) * src.width + x0 + x) * src.channels + k]));
  return out;
}

interface Case {
  name: string;
  spec: Omit<PngSpec, 'interlace'>;
  samples: number[];
}

function cases(): Case[] {
  const out: Case[] = [];
  // Sizes: whole slice, odd sizes (partial passes), and images under 5 columns/rows (empty passes).
  const sizes: [number, number][] = [
    [64, 64],
    [61, 37],
    [9, 9],
    [5, 3],
    [3, 2],
    [1, 1],
    [1, 7],
  ];
  for (const [w, h] of sizes) {
    for (const depth of [1, 2, 4, 8, 16]) {
      const samples = crop(slice, (64 - w) >> 1, (64 - h) >> 1, w, h, (v) =>
        depth === 16 ? v * 257 : v >> (8 - depth),
      );
      out.push({ name: `gray ${depth}-bit ${w}x${h}`, spec: { width: w, height: h, depth, colorType: 0 }, samples });
    }
  }
  const [w, h] = [61, 37];
  out.push({
    name: `RGB 8-bit ${w}x${h}`,
    spec: { width: w, height: h, depth: 8, colorType: 2 },
    samples: crop(cat, 20, 30, w, h),
  });
  out.push({
    name: `RGB 16-bit ${w}x${h}`,
    spec: { width: w, height: h, depth: 16, colorType: 2 },
    samples: crop(cat, 20, 30, w, h, (v) => v * 257 + 3),
  });
  // Alpha from the photo's red channel over the MRI slice, and from the slice over the photo.
  const rgb = crop(cat, 5, 5, w, h),
    gray = crop(slice, 1, 2, w, h);
  out.push({
    name: `gray+alpha 8-bit ${w}x${h}`,
    spec: { width: w, height: h, depth: 8, colorType: 4 },
    samples: gray.flatMap((v, i) => [v, rgb[3 * i]]),
  });
  const rgba = gray.flatMap((a, i) => [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], a]);
  out.push({ name: `RGBA 8-bit ${w}x${h}`, spec: { width: w, height: h, depth: 8, colorType: 6 }, samples: rgba });
  // Palette of 16 gray levels, 4-bit indices.
  const palette = Array.from({ length: 16 }, (_, i) => [i * 17, i * 17, 255 - i * 17]).flat();
  out.push({
    name: `palette 4-bit ${w}x${h}`,
    spec: { width: w, height: h, depth: 4, colorType: 3, palette },
    samples: crop(slice, 1, 2, w, h, (v) => v >> 4),
  });
  return out;
}

describe('interlaced PNG: real images decode like their non-interlaced twins', () => {
  it.each(cases())('$name', ({ spec, samples }) => {
    const plain = decodeImage(encodePngFile({ ...spec, interlace: false }, samples), 'plain.png');
    const adam7 = decodeImage(encodePngFile({ ...spec, interlace: true }, samples), 'adam7.png');
    expect(adam7.width).toBe(spec.width);
    expect(adam7.channels).toBe(plain.channels);
    expect(Array.from(adam7.data)).toEqual(Array.from(plain.data));
    // The helper's scanlines and the decoder's expected size agree: the check is exact, not loose.
    const bpp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[spec.colorType] * spec.depth;
    expect(scanlines({ ...spec, interlace: true }, samples).length).toBe(adam7RawBytes(spec.width, spec.height, bpp));
  });

  it('the non-interlaced twin written by pngjs decodes the same as the interlaced file', () => {
    const spec = { width: 64, height: 64, depth: 8, colorType: 0 } as const;
    const png = new PNG({ width: 64, height: 64 });
    png.data = Buffer.from(slice.data.flatMap((v) => [v, v, v, 255]));
    const byPngjs = new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 6 }));
    expect(byPngjs[28]).toBe(0);
    expect(decodeImage(encodePngFile({ ...spec, interlace: true }, slice.data), 'adam7.png')).toEqual(
      decodeImage(byPngjs, 'pngjs.png'),
    );
  });

  // libpng's own interlaced test image (91x69 RGBA, written by libpng/zlib; tests/fixtures/README.md).
  const PNGTEST = join(import.meta.dirname, '..', 'fixtures', 'libpng-pngtest.png');
  it('libpng pngtest.png (interlaced RGBA) decodes like its pngjs-written twin', () => {
    const bytes = new Uint8Array(readFileSync(PNGTEST));
    expect(bytes[28]).toBe(1);
    const png = PNG.sync.read(Buffer.from(bytes));
    const twin = new Uint8Array(PNG.sync.write(png, { colorType: 6, inputColorType: 6, inputHasAlpha: true }));
    expect(twin[28]).toBe(0);
    const a = decodeImage(bytes, 'pngtest.png'),
      b = decodeImage(twin, 'twin.png');
    expect([a.width, a.height]).toEqual([91, 69]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('interlaced PNG: the inflated size must be exact', () => {
  it.each([
    [61, 37, 8, 0],
    [64, 64, 1, 0],
    [3, 2, 16, 0],
    [1, 1, 8, 2],
  ] as const)(
    '%ix%i %i-bit type %i: one byte over the Adam7 size is refused, the exact size decodes',
    (w, h, depth, colorType) => {
      const spec: PngSpec = { width: w, height: h, depth, colorType, interlace: true };
      const samples = crop(colorType === 2 ? cat : slice, 0, 0, w, h, (v) =>
        depth === 16 ? v * 257 : v >> (8 - depth),
      );
      expect(decodeImage(encodePngFile(spec, samples), 'exact.png').width).toBe(w);
      const e = refusal(() => decodeImage(encodePngFile(spec, samples, 1), 'over.png'));
      expect(e.message).toBe(
        `over.png: corrupt PNG (interlaced image data inflates to more than the ${scanlines(spec, samples).length} bytes its header allows)`,
      );
    },
  );

  it('a corrupt interlaced stream is one line naming the file', () => {
    const good = encodePngFile(
      { width: 16, height: 16, depth: 8, colorType: 0, interlace: true },
      crop(slice, 0, 0, 16, 16),
    );
    const bad = Uint8Array.from(good);
    bad[41] = 0xff;
    bad[42] = 0xff; // the first IDAT's zlib header (signature 8 + IHDR 25 + length and type 8)
    let err: unknown;
    try {
      decodeImage(bad, 'bad.png');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^bad\.png: corrupt/);
    expect((err as Error).message).not.toContain('\n');
  });
});
