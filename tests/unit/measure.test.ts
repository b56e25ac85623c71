// Measurement operators (src/train/measure.ts): gradients against central finite differences on the
// reference interpreter (as tests/unit/gradcheck.test.ts does for every op), the box operator equal to
// resizeArea on a real image (the bundled MRI; an RGB photo when fetched), and the CPU degradation
// helper equal to both.
import { describe, it, expect } from 'vitest';
import * as B from '../../src/graph/builder.ts';
import { finiteDiffCheck } from './fd.ts';
import { evaluate } from '../../src/graph/interp.ts';
import { tensor, type Tensor } from '../../src/graph/tensor.ts';
import type { Measurement } from '../../src/train/programs.ts';
import { boxDownsample, pixelMask } from '../../src/train/measure.ts';
import { IDENTITY as identity } from '../../src/train/programs.ts';
import { downsample } from '../../src/restore/degrade.ts';
import { loadNifti, loadImage } from '../../src/node/read.ts';
import { referenceSplit, mriSliceImage } from '../../src/data/mri.ts';
import { cropCenterSquare, resizeArea, type Image } from '../../src/data/image.ts';
import { cachedDataset } from '../../src/node/datasets.ts';
import { UserError } from '../../src/util/errors.ts';
import { rng } from '../../src/util/random.ts';

/** Max relative error of d/dy sum(wts * m(y)) vs central differences, and the first mismatches. */
function gradCheck(m: Measurement, rows: number, channels: number, seed: number): { maxErr: number; report: string } {
  const r = rng(seed);
  const y = B.input('y', [rows, channels]);
  const out = m.apply(y, rows);
  expect(out.shape).toEqual([m.observedRows(rows), channels]);
  const wts = Array.from({ length: m.observedRows(rows) * channels }, () => r.uniform(-1, 1));
  const loss = B.sumAll(B.mul(out, B.constant(wts, [m.observedRows(rows), channels])));
  const x = tensor(
    [rows, channels],
    Array.from({ length: rows * channels }, () => r.uniform(-1, 1)),
  );
  return finiteDiffCheck(loss, [y], new Map<string, Tensor>([['y', x]]));
}

/** The operator run on the reference interpreter over an image's HWC data. */
function applyToImage(m: Measurement, img: Image): Float64Array {
  const rows = img.width * img.height;
  const y = B.input('y', [rows, img.channels]);
  return evaluate([m.apply(y, rows)], { y: tensor([rows, img.channels], img.data) })[0].data;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('measurement gradients vs central finite differences (float64)', () => {
  const cases: [string, Measurement, number, number][] = [
    ['box 2x, 4x6, 2 channels', boxDownsample(4, 6, 2, 2), 24, 2],
    ['box 3x, 6x3, 3 channels', boxDownsample(6, 3, 3, 3), 18, 3],
    ['box 1x (identity), 2x2', boxDownsample(2, 2, 1, 1), 4, 1],
    ['mask 3x4', pixelMask(3, 4, [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0]), 12, 2],
    ['identity', identity, 5, 3],
  ];
  cases.forEach(([name, m, rows, ch], k) => {
    it(name, () => {
      const { maxErr, report } = gradCheck(m, rows, ch, 50 + k);
      expect(report, `max rel err ${maxErr}`).toBe('');
      expect(maxErr).toBeLessThan(1e-6);
    });
  });
});

describe('box downsampling equals area resizing', () => {
  const vol = loadNifti('data/ch2bet.nii.gz');
  const mri = mriSliceImage(vol, referenceSplit(vol).test[0], 64);

  it('on a 64x64 MRI slice, 4x and 2x (graph operator and CPU helper)', () => {
    for (const s of [4, 2]) {
      const want = resizeArea(mri, 64 / s, 64 / s).data;
      expect(maxAbsDiff(applyToImage(boxDownsample(64, 64, 1, s), mri), want)).toBeLessThan(1e-6);
      expect(maxAbsDiff(downsample(mri, s).data, want)).toBeLessThan(1e-6);
    }
  });

  it('on a non-square RGB image (a skimage photo when fetched, else a seeded random image)', () => {
    const dir = cachedDataset('skimage');
    let img: Image;
    if (dir) {
      const sq = cropCenterSquare(loadImage(`${dir}/astronaut.png`, { channels: 3 }));
      img = resizeArea(sq, 48, 36);
    } else {
      const r = rng(3);
      img = { width: 48, height: 36, channels: 3, data: Float32Array.from({ length: 48 * 36 * 3 }, () => r.next()) };
    }
    const want = resizeArea(img, 16, 12).data;
    expect(maxAbsDiff(applyToImage(boxDownsample(36, 48, 3, 3), img), want)).toBeLessThan(1e-6);
    expect(maxAbsDiff(downsample(img, 3).data, want)).toBeLessThan(1e-6);
  });

  it('mask zeroes exactly the unobserved pixels', () => {
    const img: Image = { width: 2, height: 2, channels: 1, data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) };
    expect(Array.from(applyToImage(pixelMask(2, 2, [1, 0, 0, 1]), img)).map((v) => +v.toFixed(6))).toEqual([
      0.1, 0, 0, 0.4,
    ]);
  });
});

describe('measurement argument checks', () => {
  it('a scale that does not divide the size is a UserError', () => {
    expect(() => boxDownsample(64, 60, 1, 8)).toThrow(UserError);
    expect(() => boxDownsample(64, 64, 1, 8)).not.toThrow();
    expect(() => boxDownsample(64, 64, 1, 0)).toThrow(/positive integer/);
    expect(() => downsample(mriLike(10), 4)).toThrow(/does not divide the image size 10x10/);
  });
  it('applying to the wrong number of rows is refused', () => {
    const m = boxDownsample(4, 4, 1, 2);
    expect(() => m.observedRows(15)).toThrow(/built for 16 rows/);
  });
  it('a mask of the wrong size is a UserError', () => {
    expect(() => pixelMask(2, 2, [1, 0, 1])).toThrow(UserError);
  });
});

function mriLike(n: number): Image {
  return { width: n, height: n, channels: 1, data: new Float32Array(n * n) };
}
