// SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, range 1) checked
// against properties with known answers — identity, symmetry, the closed form for constant images, a
// single window computed directly from the paper's formula with 2-D weights, monotonicity in noise —
// plus PSNR and the degradation helpers (seeded noise, nearest upsampling).
import { describe, it, expect } from 'vitest';
import { ssim, ssimMap, psnr, gaussianWindow1d, SSIM_PARAMS } from '../../src/restore/ssim.ts';
import { addNoise, downsample, upsampleNearest } from '../../src/restore/degrade.ts';
import { loadNifti } from '../../src/node/read.ts';
import { referenceSplit, mriSliceImage } from '../../src/data/mri.ts';
import type { Image } from '../../src/data/image.ts';
import { UserError } from '../../src/util/errors.ts';
import { rng } from '../../src/util/random.ts';

const C1 = (0.01 * 1) ** 2,
  C2 = (0.03 * 1) ** 2;

function randomImage(w: number, h: number, channels: 1 | 3, seed: number): Image {
  const r = rng(seed);
  return { width: w, height: h, channels, data: Float32Array.from({ length: w * h * channels }, () => r.next()) };
}
const constant = (w: number, h: number, v: number): Image => ({
  width: w,
  height: h,
  channels: 1,
  data: new Float32Array(w * h).fill(v),
});

const vol = loadNifti('data/ch2bet.nii.gz');
const mri = mriSliceImage(vol, referenceSplit(vol).test[0], 64);

describe('SSIM', () => {
  it('uses the paper window: 11 taps, sigma 1.5, sums to 1, symmetric', () => {
    const g = gaussianWindow1d();
    expect(g.length).toBe(SSIM_PARAMS.size);
    expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(g[0]).toBeCloseTo(g[10], 15);
    expect(g[5] / g[4]).toBeCloseTo(Math.exp(1 / (2 * 1.5 * 1.5)), 12);
  });

  it('is 1 for identical images (gray and RGB) and symmetric', () => {
    expect(ssim(mri, mri)).toBeCloseTo(1, 12);
    const rgb = randomImage(20, 16, 3, 1);
    expect(ssim(rgb, rgb)).toBeCloseTo(1, 12);
    const a = randomImage(24, 24, 1, 2),
      b = randomImage(24, 24, 1, 3);
    expect(ssim(a, b)).toBeCloseTo(ssim(b, a), 14);
  });

  it('equals (2ab + C1) / (a^2 + b^2 + C1) for constant images a and b', () => {
    for (const [a0, b0] of [
      [0.2, 0.7],
      [0.5, 0.5],
      [0, 1],
      [0.9, 0.1],
    ]) {
      const a = Math.fround(a0),
        b = Math.fround(b0); // the images hold float32
      expect(ssim(constant(13, 17, a0), constant(13, 17, b0))).toBeCloseTo((2 * a * b + C1) / (a * a + b * b + C1), 10);
    }
  });

  it('matches the paper formula with explicit 2-D weights on a single 11x11 window', () => {
    const x = randomImage(11, 11, 1, 4),
      y = randomImage(11, 11, 1, 5);
    let wsum = 0;
    const wts: number[] = [];
    for (let i = 0; i < 11; i++)
      for (let j = 0; j < 11; j++) {
        const v = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * 1.5 ** 2));
        wts.push(v);
        wsum += v;
      }
    const E = (f: (p: number) => number): number => wts.reduce((s, w, p) => s + (w / wsum) * f(p), 0);
    const mx = E((p) => x.data[p]),
      my = E((p) => y.data[p]);
    const vx = E((p) => (x.data[p] - mx) ** 2),
      vy = E((p) => (y.data[p] - my) ** 2),
      cxy = E((p) => (x.data[p] - mx) * (y.data[p] - my));
    const want = ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
    expect(ssimMap(x, y).length).toBe(1);
    expect(ssim(x, y)).toBeCloseTo(want, 12);
  });

  it('averages over the valid windows only: map is (H-10) x (W-10)', () => {
    expect(ssimMap(randomImage(30, 20, 1, 6), randomImage(30, 20, 1, 7)).length).toBe(20 * 10);
  });

  it('falls as noise grows, lies in [-1, 1], and is negative for an inverted texture', () => {
    const values = [0.02, 0.05, 0.1, 0.2].map((s) => ssim(mri, addNoise(mri, s, 9)));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1]);
    expect(values[0]).toBeLessThan(1);
    const tex = randomImage(32, 32, 1, 8);
    const inv: Image = { ...tex, data: tex.data.map((v) => 1 - v) };
    const s = ssim(tex, inv);
    expect(s).toBeLessThan(0);
    expect(s).toBeGreaterThanOrEqual(-1);
  });

  it('refuses images smaller than the window or of different sizes', () => {
    expect(() => ssim(constant(10, 12, 0), constant(10, 12, 0))).toThrow(/at least 11x11/);
    expect(() => ssim(constant(12, 12, 0), constant(11, 12, 0))).toThrow(UserError);
  });
});

describe('PSNR and degradations', () => {
  it('PSNR of a uniform 0.1 error is 20 dB', () => {
    expect(psnr(constant(5, 5, 0.3), constant(5, 5, 0.4))).toBeCloseTo(20, 5);
  });

  it('noise is seeded, has the requested sigma and is clipped to [0, 1]', () => {
    const gray = constant(64, 64, 0.5);
    const a = addNoise(gray, 0.05, 1),
      b = addNoise(gray, 0.05, 1),
      c = addNoise(gray, 0.05, 2);
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    const sd = Math.sqrt(a.data.reduce((s, v) => s + (v - 0.5) ** 2, 0) / a.data.length);
    expect(sd).toBeGreaterThan(0.045);
    expect(sd).toBeLessThan(0.055);
    const loud = addNoise(gray, 1, 3).data;
    expect(Math.min(...loud)).toBe(0);
    expect(Math.max(...loud)).toBe(1);
  });

  it('nearest upsampling is undone exactly by box downsampling', () => {
    const small = randomImage(5, 4, 3, 10);
    const up = upsampleNearest(small, 3);
    expect([up.width, up.height]).toEqual([15, 12]);
    const back = downsample(up, 3).data;
    for (let i = 0; i < back.length; i++) expect(back[i]).toBeCloseTo(small.data[i], 6);
  });
});
