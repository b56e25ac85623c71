// 'auto' picks the fast backend and the demo opens ready to show what a prior does: on a machine
// whose only WebGPU adapter is SwiftShader (a software fallback, ~40x slower than wasm here:
// bench/web.md) the library and the page take wasm and say why; 'webgpu' stays available on
// request; and the page opens with the prior that best matches its first sample (same domain, the
// fitting size, float32 over a quantized copy), follows the size until the user picks one, then
// keeps the user's choice.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEnv, tempModelsDir, makeTestPrior, mriSlice, callHarness, type BrowserEnv } from './env.ts';
import type { FitSummary } from './harness.ts';

/** A copy of a prior whose manifest claims another domain and size (the page reads only that). */
function variant(dir: string, from: string, name: string, description: string, res: number, quantized = false): void {
  cpSync(join(dir, from), join(dir, name), { recursive: true });
  const file = join(dir, name, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  Object.assign(m, {
    name,
    signal: { height: res, width: res, channels: 1 },
    data: { ...(m.data as object), description },
  });
  if (quantized) m.quantization = { scheme: 'int8', note: 'test copy: only the page reads it' };
  writeFileSync(file, JSON.stringify(m));
}

describe('auto backend and prior preselection', () => {
  let env: BrowserEnv;
  let page: Page;

  beforeAll(async () => {
    const dir = tempModelsDir();
    await makeTestPrior(dir, 'base');
    variant(dir, 'base', 'faces-64', 'LFW faces, 64x64', 64);
    variant(dir, 'base', 'mri-32', 'NIfTI ch2bet.nii.gz slices at 32x32', 32);
    variant(dir, 'base', 'mri-64', 'NIfTI ch2bet.nii.gz slices at 64x64', 64);
    variant(dir, 'base', 'mri-64-int8', 'NIfTI ch2bet.nii.gz slices at 64x64', 64, true);
    variant(dir, 'base', 'mri-128', 'NIfTI ch2bet.nii.gz slices at 128x128', 128);
    env = await startEnv(dir);
    page = await env.page();
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });

  it('the library: auto takes wasm on a software adapter and says why; webgpu on request', async () => {
    const auto = await callHarness<{ provider: string; reason: string; software: boolean }>(
      page,
      'providerDecision',
      'auto',
    );
    expect(auto.provider).toBe('wasm');
    expect(auto.software).toBe(true);
    expect(auto.reason).toMatch(/^wasm: the WebGPU adapter \(google \/ swiftshader\) is a software fallback/);
    const gpu = await callHarness<{ provider: string; reason: string }>(page, 'providerDecision', 'webgpu');
    expect(gpu).toMatchObject({
      provider: 'webgpu',
      reason: expect.stringMatching(/requested .*software adapter: slow/),
    });
    const img = mriSlice('test', 0, 16);
    const r = await callHarness<FitSummary>(
      page,
      'fitImage',
      { width: img.width, height: img.height, channels: img.channels, data: Array.from(img.data) },
      null,
      3,
      1e-3,
      'auto',
      { width: 16, depth: 3 },
    );
    expect(r.backend).toBe('onnxruntime-web (wasm)');
  }, 120_000);

  it('the page: opens with the best matching prior, auto resolved to wasm with its reason', async () => {
    const demo = await env.page('');
    await demo.waitForFunction(() => document.body.dataset.state === 'idle', undefined, { timeout: 60_000 });
    const prior = async (): Promise<string> => demo.locator('#prior').inputValue();
    expect(await demo.locator('#sample').inputValue()).toMatch(/^mri-/);
    expect(await prior()).toBe('mri-64'); // same domain, trained at the page's 64x64, float32
    await demo.waitForFunction(() => (document.getElementById('backend-reason')?.textContent ?? '') !== '', undefined, {
      timeout: 30_000,
    });
    expect(await demo.locator('#backend-reason').textContent()).toMatch(
      /^wasm: the WebGPU adapter \(google \/ swiftshader\) is a software fallback/,
    );
    await demo.selectOption('#size', '128');
    expect(await prior()).toBe('mri-128');
    await demo.selectOption('#size', '32');
    expect(await prior()).toBe('mri-32');
    // Once the user picks, the page keeps the pick.
    await demo.selectOption('#prior', 'faces-64');
    await demo.selectOption('#size', '64');
    expect(await prior()).toBe('faces-64');
    await demo.selectOption('#backend', 'webgpu');
    await demo.waitForFunction(
      () => /^WebGPU: requested/.test(document.getElementById('backend-reason')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
  }, 120_000);
});
