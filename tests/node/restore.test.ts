// Inverse problems end to end on onnxruntime-node: short restores of a real 32x32 MRI test slice
// (4x and 2x super-resolution, denoising at sigma 0.1) with a small SIREN must beat the naive answer
// (nearest upsampling / the noisy image itself) and stay consistent with the observation; the CLI
// writes its outputs, prints fit-style JSON, and refuses bad arguments with exit code 2 and one line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreImage } from '../../src/restore/restore.ts';
import { downsample, addNoise, upsampleNearest } from '../../src/restore/degrade.ts';
import { psnr } from '../../src/restore/ssim.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { loadNifti } from '../../src/node/read.ts';
import { referenceSplit, mriSliceImage } from '../../src/data/mri.ts';
import { encodePng, decodeImage } from '../../src/data/image.ts';
import type { InrConfig } from '../../src/model/config.ts';

const vol = loadNifti('data/ch2bet.nii.gz');
const truth = mriSliceImage(vol, referenceSplit(vol).test[0], 32);
// Small but deep enough to fit 32x32 in 200 steps at the paper's lr 1e-4 (measured: ~1 s per restore).
const config: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 64, depth: 6, omega: 30 };
const backend = ortNodeBackend({ threads: 1 });

describe('restore a real image (32x32 MRI test slice)', () => {
  for (const scale of [4, 2]) {
    it(`${scale}x super-resolution beats nearest upsampling and matches the observation`, async () => {
      const obs = downsample(truth, scale);
      const r = await restoreImage(obs, {
        task: 'superres',
        scale,
        model: config,
        iters: 200,
        lr: 1e-4,
        seed: 0,
        backend,
        truth,
        recordAt: [0, 10, 50, 100],
      });
      expect([r.image.width, r.image.height]).toEqual([32, 32]);
      expect(r.points.map((p) => p.iter)).toEqual([0, 10, 50, 100, 200]);
      const nearest = psnr(upsampleNearest(obs, scale), truth);
      expect(r.final!.psnr, `nearest upsampling ${nearest.toFixed(2)} dB`).toBeGreaterThan(nearest + 1);
      expect(r.final!.psnr).toBeGreaterThan(r.points[0].psnr + 5);
      expect(r.final!.ssim).toBeGreaterThan(r.points[0].ssim);
      expect(psnr(downsample(r.image, scale), obs)).toBeGreaterThan(25); // data consistency
    });
  }

  it('denoising (sigma 0.1) beats the noisy observation', async () => {
    const obs = addNoise(truth, 0.1, 1);
    const r = await restoreImage(obs, {
      task: 'denoise',
      model: config,
      iters: 200,
      lr: 1e-4,
      seed: 0,
      backend,
      truth,
      recordAt: [0, 100],
    });
    const noisy = psnr(obs, truth);
    expect(r.final!.psnr, `noisy ${noisy.toFixed(2)} dB`).toBeGreaterThan(noisy);
    expect(r.points.map((p) => p.iter)).toEqual([0, 100, 200]);
    expect(r.points[2].ms).toBeGreaterThan(r.points[1].ms);
  });
});

describe('restore from a prior with its encoder frozen (mri-64, held-out slice z073 at 64x64)', () => {
  it("4x super-resolution: only the decoder moves, and it beats SIREN by far on a slice the prior's neighbours cover", async () => {
    const { loadPrior } = await import('../../src/export/prior.ts');
    const { dirSource } = await import('../../src/node/fs.ts');
    const prior = await loadPrior(dirSource('models/mri-64'));
    const t64 = mriSliceImage(vol, referenceSplit(vol).test[0], 64);
    const obs = downsample(t64, 4);
    const common = {
      task: 'superres' as const,
      scale: 4,
      model: prior.config,
      iters: 50,
      seed: 0,
      backend: ortNodeBackend({}),
      truth: t64,
    };
    const frozen = await restoreImage(obs, { ...common, prior, lr: 1e-2, encoderLr: 0 });
    const siren = await restoreImage(obs, { ...common, lr: 1e-4 });
    expect(frozen.encoderLr).toBe(0);
    // bench/restore.json, z073 at iteration 50: 30.88 vs 22.46 dB; far from the prior's training slices it loses instead
    expect(frozen.final!.psnr, `SIREN ${siren.final!.psnr.toFixed(2)} dB`).toBeGreaterThan(siren.final!.psnr + 3);
  }, 60_000);
});

describe('strainer restore (CLI)', () => {
  let dir = '';
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/strainer.js', 'restore', ...args], { encoding: 'utf8', timeout: 60_000 });
  const expectUsageError = (res: ReturnType<typeof run>, pattern: RegExp): void => {
    expect(res.status, res.stderr).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^strainer: /);
    expect(lines[0]).toMatch(pattern);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strainer-restore-'));
    writeFileSync(join(dir, 'truth.png'), encodePng(truth));
    writeFileSync(join(dir, 'lr.png'), encodePng(downsample(truth, 4)));
    writeFileSync(join(dir, 'odd.png'), encodePng(mriSliceImage(vol, referenceSplit(vol).test[0], 30)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the restored image and prints fit-style JSON as the last stdout line', () => {
    const out = join(dir, 'out');
    const res = run(
      join(dir, 'lr.png'),
      '--task',
      'superres',
      '--scale',
      '4',
      '--truth',
      join(dir, 'truth.png'),
      '--iters',
      '12',
      '--width',
      '16',
      '--out',
      out,
      '--json',
    );
    expect(res.status, res.stderr).toBe(0);
    const j = JSON.parse(res.stdout.trim().split('\n').at(-1)!);
    expect(Object.keys(j.psnr)).toEqual(['0', '10']);
    expect(Object.keys(j.ssim)).toEqual(['0', '10']);
    expect(j).toMatchObject({ iters: 12, task: 'superres', scale: 4, prior: null });
    for (const k of ['final_psnr', 'final_ssim', 'step_ms_median']) expect(typeof j[k]).toBe('number');
    expect(j.backend).toMatch(/onnxruntime-node/);
    const img = decodeImage(new Uint8Array(readFileSync(join(out, 'restored.png'))), 'restored.png');
    expect([img.width, img.height]).toEqual([32, 32]);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
    // the same --out again without --force is refused
    expectUsageError(
      run(join(dir, 'lr.png'), '--task', 'superres', '--iters', '1', '--width', '4', '--out', out),
      /not empty.*--force/,
    );
  });

  it('--encoder-lr 0 with a prior keeps its encoder and says so in the JSON', () => {
    const res = run(
      join(dir, 'lr.png'),
      '--task',
      'superres',
      '--truth',
      join(dir, 'truth.png'),
      '--prior',
      'models/mri-64',
      '--encoder-lr',
      '0',
      '--lr',
      '1e-2',
      '--iters',
      '3',
      '--out',
      join(dir, 'frozen'),
      '--json',
    );
    expect(res.status, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      prior: 'mri-64',
      encoder_lr: 0,
      iters: 3,
    });
  });

  it('refuses bad arguments with one line and exit code 2', () => {
    const o = ['--iters', '1', '--width', '4', '--out', join(dir, 'never')];
    expectUsageError(
      run(join(dir, 'lr.png'), '--task', 'superres', '--scale', '4', '--truth', join(dir, 'odd.png'), ...o),
      /scale 4 does not divide the truth size 30x30/,
    );
    expectUsageError(
      run(join(dir, 'lr.png'), '--task', 'superres', '--scale', '2', '--truth', join(dir, 'truth.png'), ...o),
      /truth is 32x32 but the restored image is 16x16/,
    );
    expectUsageError(
      run(join(dir, 'lr.png'), '--task', 'inpaint', ...o),
      /--task must be one of superres, denoise, got 'inpaint'/,
    );
    expectUsageError(run(join(dir, 'missing.png'), '--task', 'denoise', ...o), /missing\.png: no such file/);
    expectUsageError(
      run(join(dir, 'lr.png'), '--task', 'superres', '--sigma', '0.1', ...o),
      /--sigma applies to --task denoise only/,
    );
    expectUsageError(run(join(dir, 'lr.png'), ...o), /required option '--task/);
    expectUsageError(
      run(join(dir, 'lr.png'), '--task', 'superres', '--encoder-lr', '-1', ...o),
      /--encoder-lr must be at least 0/,
    );
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
