// The size limit of src/data/limits.ts as a user meets it: files whose headers claim more pixels, voxels
// or elements than the limit (or than their bytes can hold) are refused from the header at once, with one
// line naming the file, the size and how to raise the limit; the limit follows STRAINER_MAX_PIXELS and
// the decoders' `maxPixels` option; legitimate large, highly compressible images still decode.
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { gzipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/data/image.ts';
import { parseNifti } from '../../src/data/nifti.ts';
import { parseNpy } from '../../src/data/npy.ts';
import { MAX_PIXELS, MAX_PIXELS_ENV, maxPixels } from '../../src/data/limits.ts';
import { UserError } from '../../src/util/errors.ts';

const fixture = new Uint8Array(readFileSync('tests/fixtures/slice-z073.png')); // 64x64 gray, 1.9 KB

/** The fixture with its IHDR claiming width x height (CRC recomputed, so only the size lies). */
function lyingPng(width: number, height: number): Uint8Array {
  const b = fixture.slice();
  const dv = new DataView(b.buffer);
  dv.setUint32(16, width);
  dv.setUint32(20, height);
  dv.setUint32(29, crc32(b.subarray(12, 29)));
  return b;
}

/** A real JPEG (jpeg-js, baseline) whose SOF0 claims height x width. */
function lyingJpeg(width: number, height: number): Uint8Array {
  const b = new Uint8Array(jpeg.encode({ width: 32, height: 32, data: Buffer.alloc(32 * 32 * 4, 120) }, 90).data);
  for (let at = 2; ; at += 2 + ((b[at + 2] << 8) | b[at + 3])) {
    if (b[at + 1] === 0xc0) {
      new DataView(b.buffer).setUint16(at + 5, height);
      new DataView(b.buffer).setUint16(at + 7, width);
      return b;
    }
  }
}

/** A NIfTI-1 file of uint8 voxels whose header claims `dims` (little-endian, vox_offset 352). */
function niftiHeader(dims: [number, number, number], voxels: number): Uint8Array {
  const b = new Uint8Array(352 + voxels);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, 348, true);
  [3, ...dims].forEach((d, i) => dv.setInt16(40 + 2 * i, d, true));
  dv.setInt16(70, 2, true);
  dv.setInt16(72, 8, true);
  dv.setFloat32(108, 352, true);
  b.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  return b;
}

/** Throws a one-line UserError matching `re`, within `ms` milliseconds (decoding the lie took 5-250 s). */
function refusedFast(f: () => unknown, re: RegExp, ms = 1000): void {
  const t0 = performance.now();
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  const took = performance.now() - t0;
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
  expect(took).toBeLessThan(ms);
}

afterEach(() => {
  delete process.env[MAX_PIXELS_ENV];
});

describe('pixel/voxel limit, checked from the header', () => {
  it('refuses a 1.9 KB PNG whose IHDR claims 60000x60000 at once, naming size and limit', () => {
    refusedFast(
      () => decodeImage(lyingPng(60000, 60000), 'huge.png'),
      /^huge\.png: image is 60000x60000 \(3\.6e9 pixels\), above the limit of 1e8 \(set STRAINER_MAX_PIXELS to raise it\)$/,
    );
  });

  it('refuses a PNG or JPEG whose header claims more than its bytes can hold, below the limit too', () => {
    refusedFast(
      () => decodeImage(lyingPng(9000, 9000), 'lie.png'),
      /^lie\.png: truncated or corrupt PNG \(\d+ bytes of image data cannot hold a 9000x9000 image\)$/,
    );
    refusedFast(
      () => decodeImage(lyingJpeg(60000, 60000), 'huge.jpg'),
      /^huge\.jpg: image is 60000x60000 \(3\.6e9 pixels\), above the limit/,
    );
    refusedFast(
      () => decodeImage(lyingJpeg(9000, 9000), 'lie.jpg'),
      /^lie\.jpg: truncated or corrupt JPEG \(\d+ bytes cannot hold a 9000x9000 image\)$/,
    );
  });

  it('still decodes large images that compress extremely well', () => {
    // 1 MP of one gray level: deflate's ratio near its maximum, the edge of the IDAT-size check.
    const png = new PNG({ width: 1000, height: 1000 });
    png.data = Buffer.alloc(1000 * 1000 * 4, 200);
    const flat = new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 6 }));
    expect(flat.length).toBeLessThan(5_000);
    expect(decodeImage(flat, 'flat.png').width).toBe(1000);
    const jpg = new Uint8Array(
      jpeg.encode({ width: 512, height: 512, data: Buffer.alloc(512 * 512 * 4, 90) }, 50).data,
    );
    expect(decodeImage(jpg, 'flat.jpg').height).toBe(512);
  });

  it('refuses a NIfTI header that claims 10^9 voxels, raw or gzipped, before allocating them', () => {
    refusedFast(
      () => parseNifti(niftiHeader([1000, 1000, 1000], 64), 'big.nii'),
      /^big\.nii: volume is 1000x1000x1000 \(1e9 voxels\), above the limit of 1e8/,
    );
    refusedFast(
      () => parseNifti(gzipSync(niftiHeader([1000, 1000, 1000], 64)), 'big.nii.gz'),
      /^big\.nii\.gz: volume is 1000x1000x1000/,
    );
  });

  it('refuses a gzip stream whose trailer claims more than the limit allows, or more than its bytes can expand to', () => {
    const gz = gzipSync(niftiHeader([4, 4, 4], 64));
    const claim = (isize: number) => {
      const b = gz.slice();
      new DataView(b.buffer).setUint32(b.length - 4, isize, true);
      return b;
    };
    refusedFast(
      () => parseNifti(claim(0xffffffff), 'bomb.nii.gz'),
      /^bomb\.nii\.gz: gzip data claims 4\.3e9 bytes, more than a volume within the limit of 1e8 voxels needs/,
    );
    refusedFast(
      () => parseNifti(claim(500_000_000), 'lie.nii.gz'),
      /^lie\.nii\.gz: corrupt or truncated gzip data \(\d+ bytes cannot expand to the 500000000 its trailer claims\)$/,
    );
    // A real bomb: 12 MB of zeros in 12 KB, refused under a 10^6-voxel limit without inflating it.
    const bomb = gzipSync(new Uint8Array(12 << 20), { level: 1 });
    expect(bomb.length).toBeLessThan(100_000);
    refusedFast(
      () => parseNifti(bomb, 'zeros.nii.gz', { maxPixels: 1e6 }),
      /^zeros\.nii\.gz: gzip data claims 1\.3e7 bytes/,
    );
  });

  it('refuses a .npy shape over the limit before comparing it with the file', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }";
    const b = new Uint8Array(10 + header.length + 16);
    b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(b.buffer).setUint16(8, header.length, true);
    b.set(new TextEncoder().encode(header), 10);
    refusedFast(
      () => parseNpy(b, 'big.npy'),
      /^big\.npy: array is of shape \(1000000000, 1000000000\) \(1e18 elements\), above the limit of 1e8/,
    );
  });

  it('follows STRAINER_MAX_PIXELS, and a decoder option over it', () => {
    expect(maxPixels()).toBe(MAX_PIXELS);
    process.env[MAX_PIXELS_ENV] = '1000';
    refusedFast(
      () => decodeImage(fixture, 'slice.png'),
      /^slice\.png: image is 64x64 \(4096 pixels\), above the limit of 1000 \(set STRAINER_MAX_PIXELS/,
    );
    expect(decodeImage(fixture, 'slice.png', { maxPixels: 4096 }).width).toBe(64);
    process.env[MAX_PIXELS_ENV] = '4e9';
    expect(maxPixels()).toBe(4e9);
    process.env[MAX_PIXELS_ENV] = 'lots';
    refusedFast(() => decodeImage(fixture, 'slice.png'), /^STRAINER_MAX_PIXELS must be a positive number, got 'lots'$/);
    expect(() => maxPixels({ maxPixels: -1 })).toThrow(UserError);
  });
});
