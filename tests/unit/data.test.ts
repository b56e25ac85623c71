// Unit tests of the data layer (src/data): codecs, exact area resize, padding/cropping, NIfTI and .npy
// parsing, the reference MRI split on the bundled ch2bet volume, and data sources. Tests that need the
// fetched datasets (scripts/fetch-data.sh) are skipped with a printed reason when the cache is absent.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, crc32 } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedDataset, loadDataSource, missingDatasetMessage } from '../../src/node/datasets.ts';
import {
  type Image,
  cropCenterSquare,
  decodeImage,
  encodePng,
  makeImage,
  padToSquare,
  resizeArea,
} from '../../src/data/image.ts';
import { loadImage, loadNifti } from '../../src/node/read.ts';
import { mriSliceImage, referenceSplit, splitUsableSlices } from '../../src/data/mri.ts';
import { axialSlice, parseNifti, usableSlices, volumeMax } from '../../src/data/nifti.ts';
import { npyImages, parseNpy } from '../../src/data/npy.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import { UserError } from '../../src/util/errors.ts';

const CH2BET = 'data/ch2bet.nii.gz';
const CH2BET_SHA256 = '592a2d20abdf36eefcb540ca8958428040edffc1bc1a18ba1dcfbabac77c5dd1'; // data/README.md
const tmp = mkdtempSync(join(tmpdir(), 'strainer-data-'));
const vol = loadNifti(CH2BET);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function img(width: number, height: number, channels: 1 | 3, values: number[]): Image {
  return makeImage(width, height, channels, Float32Array.from(values));
}
function writeTmp(name: string, bytes: Uint8Array | string): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}
/** Expect a UserError whose message names `what`. */
function expectUserError(fn: () => unknown, what: string, problem: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toContain(what);
  expect((err as Error).message).toMatch(problem);
  expect((err as Error).message).not.toContain('\n');
}
/** A PNG written by pngjs from 8- or 16-bit samples in the given colour type. */
function pngBytes(
  width: number,
  height: number,
  colorType: 0 | 2 | 6,
  samples: number[],
  bitDepth: 8 | 16 = 8,
): Uint8Array {
  const png = new PNG({ width, height });
  png.data = bitDepth === 16 ? Buffer.from(Uint16Array.from(samples).buffer) : Buffer.from(samples);
  return new Uint8Array(
    PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: colorType === 6, bitDepth }),
  );
}

describe('image codecs', () => {
  it('round-trips RGB and gray PNGs and picks channels by content', () => {
    const rgb = img(
      2,
      2,
      3,
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255].map((v) => v / 255),
    );
    const back = decodeImage(encodePng(rgb), 'rgb.png');
    expect(back.channels).toBe(3);
    expect(Array.from(back.data)).toEqual(Array.from(rgb.data));
    const gray = img(3, 1, 1, [0, 128 / 255, 1]);
    expect(decodeImage(encodePng(gray), 'g.png')).toEqual(gray);
    expect(decodeImage(encodePng(gray), 'g.png', { channels: 3 }).data).toEqual(
      Float32Array.from([0, 0, 0, 128 / 255, 128 / 255, 128 / 255, 1, 1, 1]),
    );
    const grayAsRgb = pngBytes(2, 1, 2, [7, 7, 7, 200, 200, 200]);
    expect(decodeImage(grayAsRgb, 'x.png').channels).toBe(1); // R = G = B everywhere
    expect(decodeImage(grayAsRgb, 'x.png', { channels: 3 }).channels).toBe(3);
    expect(decodeImage(encodePng(img(1, 1, 1, [-0.5])), 'c.png').data[0]).toBe(0); // clamped
  });

  it('keeps 16-bit precision and composites alpha onto white', () => {
    const deep = decodeImage(pngBytes(2, 1, 0, [1, 65535], 16), 'deep.png');
    expect(deep.data).toEqual(Float32Array.from([1 / 65535, 1]));
    const rgba = decodeImage(pngBytes(2, 1, 6, [0, 0, 0, 0, 255, 0, 0, 51]), 'a.png');
    const a = 51 / 255;
    expect(Array.from(rgba.data)).toEqual(Array.from(Float32Array.from([1, 1, 1, 1, 1 - a, 1 - a])));
  });

  it('detects JPEG by magic bytes, not by name', () => {
    const raw = Buffer.alloc(16 * 16 * 4, 0);
    for (let p = 0; p < 256; p++) raw.set([200, 40, 40, 255], p * 4);
    const bytes = new Uint8Array(jpeg.encode({ width: 16, height: 16, data: raw }, 95).data);
    const im = decodeImage(bytes, 'misnamed.png');
    expect([im.width, im.height, im.channels]).toEqual([16, 16, 3]);
    expect(Math.abs(im.data[0] - 200 / 255)).toBeLessThan(0.03);
  });

  it('turns missing, empty, non-image, truncated, corrupt and zero-size files into UserErrors', () => {
    const good = encodePng(
      img(
        8,
        8,
        1,
        Array.from({ length: 64 }, (_, i) => i / 63),
      ),
    );
    expectUserError(() => loadImage(join(tmp, 'nope.png')), 'nope.png', /not found/);
    expectUserError(() => loadImage(writeTmp('empty.png', '')), 'empty.png', /empty/);
    expectUserError(() => loadImage(writeTmp('text.png', 'hello, not an image')), 'text.png', /not a PNG or JPEG/);
    expectUserError(() => loadImage(writeTmp('half.png', good.subarray(0, 40))), 'half.png', /truncated|corrupt/);
    const flipped = good.slice();
    flipped[45] ^= 0xff; // inside IDAT: the chunk CRC no longer matches
    expectUserError(() => loadImage(writeTmp('flip.png', flipped)), 'flip.png', /corrupt/);
    const jpg = new Uint8Array(jpeg.encode({ width: 32, height: 32, data: Buffer.alloc(32 * 32 * 4, 99) }, 90).data);
    expectUserError(
      () => loadImage(writeTmp('cut.jpg', jpg.subarray(0, jpg.length >> 1))),
      'cut.jpg',
      /corrupt or truncated JPEG/,
    );
    // A well-formed PNG with width 0 (IHDR crafted with a valid CRC).
    const ihdr = Buffer.from([0x49, 0x48, 0x44, 0x52, 0, 0, 0, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(ihdr));
    const zero = Buffer.concat([Buffer.from(good.subarray(0, 8)), Buffer.from([0, 0, 0, 13]), ihdr, crc]);
    expectUserError(() => loadImage(writeTmp('zero.png', zero)), 'zero.png', /zero|corrupt/);
  });
});

describe('geometry', () => {
  it('resizeArea: 2x downscale is 2x2 averaging', () => {
    const src = img(4, 2, 1, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(resizeArea(src, 2, 1).data)).toEqual([(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4]);
  });

  it('resizeArea: fractional coverage, up and down, per channel', () => {
    // 3 -> 2: output 0 covers source [0, 1.5) = all of pixel 0 and half of pixel 1.
    const down = resizeArea(img(3, 1, 1, [3, 6, 9]), 2, 1);
    expect(Array.from(down.data)).toEqual(Array.from(Float32Array.from([(3 + 0.5 * 6) / 1.5, (0.5 * 6 + 9) / 1.5])));
    // 2 -> 3: output 1 covers source [2/3, 4/3), half of each pixel.
    const up = resizeArea(img(1, 2, 3, [0, 0.5, 1, 1, 0.5, 0]), 1, 3);
    expect(Array.from(up.data)).toEqual([0, 0.5, 1, 0.5, 0.5, 0.5, 1, 0.5, 0]);
    const same = img(3, 2, 1, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(resizeArea(same, 3, 2)).toEqual(same);
    // Any ratio preserves the mean.
    const rnd = img(
      7,
      5,
      1,
      Array.from({ length: 35 }, (_, i) => ((i * 37) % 11) / 10),
    );
    const mean = (im: Image) => im.data.reduce((a, b) => a + b, 0) / im.data.length;
    expect(mean(resizeArea(rnd, 3, 4))).toBeCloseTo(mean(rnd), 6);
  });

  it('padToSquare centres with the odd pixel right/bottom; cropCenterSquare mirrors it', () => {
    const wide = padToSquare(img(3, 2, 1, [1, 2, 3, 4, 5, 6]));
    expect(Array.from(wide.data)).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 0]);
    const tall = padToSquare(img(1, 4, 1, [1, 2, 3, 4]));
    expect(tall.width).toBe(4);
    expect(Array.from(tall.data.subarray(0, 4))).toEqual([0, 1, 0, 0]);
    const crop = cropCenterSquare(img(5, 2, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(Array.from(crop.data)).toEqual([2, 3, 7, 8]);
  });
});

/** A v1 (or v2) .npy file holding `values` with dtype `descr`. */
function npyBytes(
  descr: string,
  shape: number[],
  values: number[],
  opts: { version?: 1 | 2; fortran?: boolean } = {},
): Uint8Array {
  const version = opts.version ?? 1;
  const dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pre = version === 1 ? 10 : 12;
  const header = dict.padEnd(Math.ceil((pre + dict.length + 1) / 64) * 64 - pre - 1, ' ') + '\n';
  const size = Number(descr.slice(2));
  const out = new Uint8Array(pre + header.length + values.length * size);
  const v = new DataView(out.buffer);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) v.setUint16(8, header.length, true);
  else v.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  const le = descr[0] !== '>';
  const put: Record<string, (at: number, x: number) => void> = {
    f8: (at, x) => v.setFloat64(at, x, le),
    f4: (at, x) => v.setFloat32(at, x, le),
    u1: (at, x) => v.setUint8(at, x),
    i2: (at, x) => v.setInt16(at, x, le),
    u2: (at, x) => v.setUint16(at, x, le),
    i4: (at, x) => v.setInt32(at, x, le),
    i8: (at, x) => v.setBigInt64(at, BigInt(x), le),
    b1: (at, x) => v.setUint8(at, x),
  };
  values.forEach((x, i) => put[descr.slice(1)](pre + header.length + i * size, x));
  return out;
}

describe('npy', () => {
  it.each(['<f8', '<f4', '>f4', '|u1', '<i2', '>i2', '<u2', '<i4', '<i8', '|b1'])('parses dtype %s', (descr) => {
    const values = descr === '|b1' ? [0, 1, 1, 0, 1, 0] : [0, 1, 2, 3, 4, 100];
    const arr = parseNpy(npyBytes(descr, [2, 3], values), 'a.npy');
    expect(arr.shape).toEqual([2, 3]);
    expect(Array.from(arr.data)).toEqual(values);
  });

  it('reads v2 headers, rejects Fortran order and bad files', () => {
    expect(parseNpy(npyBytes('<f4', [3], [0.5, 1, 2], { version: 2 }), 'v2.npy').data).toEqual(
      Float32Array.from([0.5, 1, 2]),
    );
    expectUserError(
      () => parseNpy(npyBytes('<f4', [2, 2], [1, 2, 3, 4], { fortran: true }), 'f.npy'),
      'f.npy',
      /Fortran/,
    );
    expectUserError(() => parseNpy(new TextEncoder().encode('not numpy at all'), 'x.npy'), 'x.npy', /not a \.npy/);
    expectUserError(() => parseNpy(npyBytes('<f8', [4], [1, 2, 3, 4]).subarray(0, 80), 't.npy'), 't.npy', /truncated/);
    expectUserError(() => parseNpy(npyBytes('<f8', [1], [1]).fill(0x20, 20, 30), 'c.npy'), 'c.npy', /malformed/);
  });

  it('npyImages: (N,H,W) and (N,H,W,3) stacks, 0..255 data scaled, ranges checked', () => {
    const gray = npyImages(parseNpy(npyBytes('|u1', [3, 1, 2], [0, 255, 51, 102, 0, 0]), 'g.npy'), [1, 3]);
    expect(gray.map((g) => [g.width, g.height, g.channels])).toEqual([
      [2, 1, 1],
      [2, 1, 1],
    ]);
    expect(Array.from(gray[0].data)).toEqual(Array.from(Float32Array.from([0.2, 0.4])));
    const rgb = npyImages(parseNpy(npyBytes('<f4', [1, 1, 1, 3], [0.25, 0.5, 1]), 'c.npy'));
    expect([rgb[0].channels, ...rgb[0].data]).toEqual([3, 0.25, 0.5, 1]);
    expect(() => npyImages(parseNpy(npyBytes('<f4', [1, 2], [0, 1]), 'bad.npy'))).toThrow(UserError);
    expect(() => npyImages(parseNpy(npyBytes('<f4', [2, 1, 1], [0, 1]), 'r.npy'), [1, 3])).toThrow(/out of bounds/);
  });
});

/** A tiny single-file NIfTI-1 volume (int16, big- or little-endian, with scl_slope/scl_inter). */
function niftiBytes(dims: [number, number, number], values: number[], le: boolean, slope = 0, inter = 0): Uint8Array {
  const out = new Uint8Array(352 + values.length * 2);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, le);
  [3, ...dims, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
  v.setInt16(70, 4, le); // DT_INT16
  v.setInt16(72, 16, le);
  v.setFloat32(108, 352, le);
  v.setFloat32(112, slope, le);
  v.setFloat32(116, inter, le);
  out.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  values.forEach((x, i) => v.setInt16(352 + 2 * i, x, le));
  return out;
}

describe('nifti', () => {
  it('parses the bundled ch2bet volume', async () => {
    expect(vol.dims).toEqual([181, 217, 181]);
    expect(vol.data.length).toBe(181 * 217 * 181);
    expect(await sha256Hex(readFileSync(CH2BET))).toBe(CH2BET_SHA256);
    expect(volumeMax(vol)).toBe(133);
    const usable = usableSlices(vol);
    expect([usable.length, usable[0], usable[usable.length - 1]]).toEqual([113, 26, 138]);
  });

  it('handles endianness, scaling, gzip and orientation on a synthetic volume', () => {
    const values = [0, 1, 2, 3, 4, 5, 6, 7]; // 2 x 2 x 2, x fastest
    for (const le of [true, false]) {
      const v = parseNifti(gzipSync(niftiBytes([2, 2, 2], values, le, 2, 1)), 'v.nii.gz');
      expect(v.dims).toEqual([2, 2, 2]);
      expect(Array.from(v.data)).toEqual(values.map((x) => 2 * x + 1));
    }
    const v = parseNifti(niftiBytes([2, 2, 2], values, true), 'v.nii');
    // z = 1 holds 4 5 / 6 7 (rows y = 0, 1); the image shows y = 1 on top.
    expect(axialSlice(v, 1).data).toEqual(Float32Array.from([6 / 7, 1, 4 / 7, 5 / 7]));
    expect(() => axialSlice(v, 2)).toThrow(UserError);
  });

  it('reports bad NIfTI files as UserErrors naming the file', () => {
    const good = niftiBytes([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7], true);
    expectUserError(() => loadNifti(join(tmp, 'missing.nii')), 'missing.nii', /not found/);
    expectUserError(() => parseNifti(good.subarray(0, 360), 'short.nii'), 'short.nii', /truncated/);
    expectUserError(() => parseNifti(gzipSync(good).subarray(0, 30), 'cut.nii.gz'), 'cut.nii.gz', /gzip/);
    expectUserError(() => parseNifti(new Uint8Array(400), 'zeros.nii'), 'zeros.nii', /not a NIfTI-1/);
    const badType = good.slice();
    new DataView(badType.buffer).setInt16(70, 32, true);
    expectUserError(() => parseNifti(badType, 'cplx.nii'), 'cplx.nii', /unsupported NIfTI datatype 32/);
  });
});

describe('reference MRI split', () => {
  it('gives train z072..z090 (step 2) and test z073..z081 on ch2bet', () => {
    const split = referenceSplit(vol);
    expect(split.train).toEqual([72, 74, 76, 78, 80, 82, 84, 86, 88, 90]);
    expect(split.test).toEqual([73, 75, 77, 79, 81]);
  });

  it('centres the window on the usable list and needs 20 slices', () => {
    const usable = Array.from({ length: 25 }, (_, i) => 100 + i); // start = floor(25/2) - 10 = 2
    expect(splitUsableSlices(usable)).toEqual({
      train: [102, 104, 106, 108, 110, 112, 114, 116, 118, 120],
      test: [103, 105, 107, 109, 111],
    });
    expect(() => splitUsableSlices(usable.slice(0, 19))).toThrow(UserError);
  });

  it('mriSliceImage pads to square, resizes and stays in [0, 1]', () => {
    const im = mriSliceImage(vol, 80, 64);
    expect([im.width, im.height, im.channels]).toEqual([64, 64, 1]);
    const max = im.data.reduce((a, b) => Math.max(a, b), 0);
    expect(im.data.every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(max).toBeGreaterThan(0.5);
    // The padded columns (181 -> 217: 18 on the left) are background.
    expect(im.data.filter((_, i) => i % 64 === 0).every((x) => x === 0)).toBe(true);
  });
});

const lfw = cachedDataset('lfw');
const skimage = cachedDataset('skimage');
for (const [name, path] of [
  ['lfw', lfw],
  ['skimage', skimage],
] as const) {
  if (path === null) console.warn(`skipping ${name} tests: ${missingDatasetMessage(name)}`);
}

describe('loadDataSource', () => {
  it('loads the usable slices of the bundled volume, optionally a z range', async () => {
    const all = await loadDataSource(CH2BET, { res: 32 });
    expect(all.kind).toBe('nifti');
    expect(all.images.length).toBe(113);
    expect([all.images[0].id, all.images[112].id]).toEqual(['z026', 'z138']);
    expect(all.files).toEqual([{ path: CH2BET, sha256: CH2BET_SHA256 }]);
    const some = await loadDataSource(CH2BET, { res: 16, range: [72, 91], channels: 3 });
    expect(some.images.map((s) => s.id)).toEqual(Array.from({ length: 19 }, (_, i) => `z0${72 + i}`));
    expect(some.images[0].image.channels).toBe(3);
    await expect(loadDataSource(CH2BET, { res: 16, range: [0, 999] })).rejects.toThrow(/out of bounds/);
  });

  it('loads a folder sorted by name, cropped and resized, and rejects bad specs', async () => {
    const dir = join(tmp, 'folder');
    mkdirSync(dir);
    writeFileSync(join(dir, 'b.png'), encodePng(img(4, 2, 1, [1, 1, 0, 0, 1, 1, 0, 0])));
    writeFileSync(
      join(dir, 'a.png'),
      encodePng(
        img(
          2,
          2,
          3,
          Array.from({ length: 12 }, (_, i) => i / 11),
        ),
      ),
    );
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const src = await loadDataSource(dir, { res: 1 });
    expect(src.images.map((s) => [s.id, s.image.channels])).toEqual([
      ['a', 3],
      ['b', 3],
    ]); // 'auto' unifies
    expect(src.images[1].image.data[0]).toBe(0.5); // centre 2x2 of b is [1, 0; 1, 0]
    expect(src.files[0].sha256).toBe(
      await sha256Hex(
        encodePng(
          img(
            2,
            2,
            3,
            Array.from({ length: 12 }, (_, i) => i / 11),
          ),
        ),
      ),
    );
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    await expect(loadDataSource(empty, { res: 8 })).rejects.toThrow(/no PNG or JPEG/);
    await expect(loadDataSource(join(tmp, 'missing'), { res: 8 })).rejects.toThrow(/not found/);
    await expect(loadDataSource(writeTmp('x.tiff', 'x'), { res: 8 })).rejects.toThrow(
      /unknown data source type '.tiff'/,
    );
    await expect(loadDataSource(dir, { res: 8, range: [1, 5] })).rejects.toBeInstanceOf(UserError);
  });

  it.skipIf(lfw === null)('loads the LFW subset .npy (needs scripts/fetch-data.sh)', async () => {
    const src = await loadDataSource(lfw ?? '', { res: 25, range: [0, 10] });
    expect(src.kind).toBe('npy');
    expect(src.images.map((s) => s.id).slice(0, 2)).toEqual(['i000', 'i001']);
    expect(src.images.map((s) => [s.image.width, s.image.channels])[9]).toEqual([25, 1]);
    expect(src.files[0].sha256).toBe('9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c');
  });

  it.skipIf(skimage === null)('loads the skimage images folder (needs scripts/fetch-data.sh)', async () => {
    const src = await loadDataSource(skimage ?? '', { res: 32 });
    expect(src.images.length).toBe(23);
    expect(src.images.every((s) => s.image.width === 32 && s.image.channels === 3)).toBe(true);
    const camera = loadImage(join(skimage ?? '', 'camera.png'));
    expect([camera.width, camera.height, camera.channels]).toEqual([512, 512, 1]);
    const logo = loadImage(join(skimage ?? '', 'logo.png')); // RGBA: transparent corner -> white
    expect(Array.from(logo.data.subarray(0, 3))).toEqual([1, 1, 1]);
  });
});
