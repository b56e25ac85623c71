// Compact priors in the browser: int8 and float16 copies of a small prior (made in setup from one MRI
// training slice, then `quantizePrior`), served over HTTP, dequantize in Chromium to exactly the
// float32 values Node loads, and fit a held-out slice on wasm like the float32 prior does — and like
// Node's fit from the same prior.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startEnv, tempModelsDir, makeTestPrior, mriSlice, callHarness, PRIOR_CONFIG, type BrowserEnv } from './env.ts';
import type { FitSummary, PlainImage } from './harness.ts';
import { REPO_ROOT } from '../../web/server.ts';
import { loadBundle } from '../../src/export/bundle.ts';
import { loadPrior } from '../../src/export/prior.ts';
import { quantizePrior } from '../../src/export/quantize.ts';
import { dirSource, writeBundleDir } from '../../src/node/fs.ts';
import { fit } from '../../src/train/fit.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';

const ITERS = 20;
const LR = 1e-3; // as tests/browser/fit.test.ts: width 32 tolerates 10x the paper's rate
const PAGE_MODULE = `/@fs${REPO_ROOT}/tests/browser/quantize-page.ts`;
const FORMS = ['test-mri', 'test-mri-int8', 'test-mri-f16'] as const;

describe('compact priors in the browser', () => {
  let env: BrowserEnv;
  let page: Page;
  let image: PlainImage;
  let dir: string;

  beforeAll(async () => {
    dir = tempModelsDir();
    await makeTestPrior(dir, 'test-mri');
    const b = await loadBundle(dirSource(join(dir, 'test-mri')));
    for (const to of ['int8', 'f16'] as const)
      writeBundleDir(join(dir, `test-mri-${to}`), await quantizePrior(b, to), false);
    env = await startEnv(dir);
    page = await env.page();
    const img = mriSlice('test', 0);
    image = { width: img.width, height: img.height, channels: img.channels, data: Array.from(img.data) };
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });

  it('Chromium dequantizes int8 and float16 to the same float32 values as Node', async () => {
    for (const name of FORMS) {
      const got = await page.evaluate<{ name: string; encoder: Record<string, number[]> }>(
        `import(${JSON.stringify(PAGE_MODULE)}).then((m) => m.priorWeights('/models/${name}/'))`,
      );
      const want = await loadPrior(dirSource(join(dir, name)));
      expect(got.name).toBe(name);
      expect(Object.keys(got.encoder).sort()).toEqual(Object.keys(want.encoder).sort());
      for (const [k, v] of Object.entries(want.encoder)) expect(got.encoder[k], `${name} ${k}`).toEqual(Array.from(v));
    }
  }, 60_000);

  it('wasm: int8 and float16 priors fit like the float32 prior, and like Node', async () => {
    const curves: Record<string, number[]> = {};
    for (const name of FORMS) {
      const r = await callHarness<FitSummary>(page, 'fitImage', image, `/models/${name}/`, ITERS, LR, 'wasm');
      expect(r.prior).toBe(name);
      expect(r.psnr[ITERS - 1]).toBeGreaterThan(r.psnr[0] + 5);
      curves[name] = r.psnr;
    }
    const worst = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    const f32 = curves['test-mri'];
    // The same fit in Node from the int8 prior (harness fitImage uses seed 5).
    const q = await loadPrior(dirSource(join(dir, 'test-mri-int8')));
    const node = (
      await fit(
        { ...mriSlice('test', 0) },
        {
          model: PRIOR_CONFIG,
          iters: ITERS,
          lr: LR,
          seed: 5,
          recipe: 'paper', // as harness fitImage fits
          backend: ortNodeBackend({ threads: 1 }),
          prior: q,
        },
      )
    ).psnr;
    console.log(
      `wasm PSNR after ${ITERS} steps: float32 ${f32[ITERS - 1].toFixed(2)}, int8 ${curves['test-mri-int8'][ITERS - 1].toFixed(2)}, f16 ${curves['test-mri-f16'][ITERS - 1].toFixed(2)}; ` +
        `max |diff| vs float32: int8 ${worst(curves['test-mri-int8'], f32).toFixed(3)}, f16 ${worst(curves['test-mri-f16'], f32).toFixed(4)} dB; int8 wasm vs Node ${worst(curves['test-mri-int8'], node).toFixed(4)} dB`,
    );
    expect(worst(curves['test-mri-int8'], f32)).toBeLessThan(0.5);
    expect(worst(curves['test-mri-f16'], f32)).toBeLessThan(0.05);
    expect(worst(curves['test-mri-int8'], node)).toBeLessThan(0.05);
  }, 240_000);
});
