// The demo page end to end in headless Chromium: it loads with its samples and priors, fits a sample
// from a prior (then a random SIREN for comparison) on the automatically chosen backend (wasm here:
// the only WebGPU adapter is SwiftShader, a software fallback), shows PSNR, it/s, backend and why,
// saves a screenshot (test-results/demo.png) and offers the fitted bundle as a zip that verifies;
// 4x super-resolution shows PSNR and SSIM against the truth; a tampered prior, a non-image file and
// a lost WebGPU device each end as a message on the page. A fit takes the fast recipe by default and
// fills the time-to-quality table from its whole-signal evaluations; the Recipe menu sends 'paper'.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startEnv,
  tempModelsDir,
  makeTestPrior,
  tamperedCopy,
  settle,
  downloadBundle,
  type BrowserEnv,
} from './env.ts';
import { REPO_ROOT } from '../../web/server.ts';

const SHOTS = join(REPO_ROOT, 'test-results');

describe('demo page', () => {
  let env: BrowserEnv;
  let page: Page;

  beforeAll(async () => {
    const dir = tempModelsDir();
    await makeTestPrior(dir, 'test-mri');
    tamperedCopy(dir, 'test-mri', 'tampered');
    env = await startEnv(dir);
    page = await env.page('');
    await page.waitForFunction(() => document.body.dataset.state === 'idle', undefined, { timeout: 60_000 });
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });

  /** Records what the page asks of its fit worker (every 'fit' request, without its pixels). */
  async function watchRequests(): Promise<void> {
    await page.evaluate(`(() => {
      if (window.__fits) return;
      window.__fits = [];
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (m, ...rest) {
        if (m && m.type === 'fit') {
          const { image, signal, ...req } = m.req;
          window.__fits.push(req);
        }
        return post.call(this, m, ...rest);
      };
    })()`);
  }
  const requests = (): Promise<{ recipe?: string; untilPsnr?: number; milestones?: number[] }[]> =>
    page.evaluate('window.__fits.splice(0)');

  it('lists the samples and priors', async () => {
    const samples = await page.locator('#sample option').count();
    expect(samples).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#prior option').allTextContents()).toEqual([
      'none (random SIREN)',
      'tampered (width 32, depth 4)',
      'test-mri (width 32, depth 4)',
    ]);
  });

  it('fits a sample from a prior and a random SIREN, shows PSNR, saves a screenshot', async () => {
    await page.selectOption('#prior', 'test-mri');
    await page.selectOption('#size', '32');
    await page.fill('#iters', '30');
    await page.fill('#lr', '0.001');
    await page.check('#compare');
    await page.click('#fit');
    expect(await settle(page), (await page.locator('#error').textContent()) ?? '').toBe('done');
    const psnr = await page.locator('#psnr').textContent();
    expect(psnr).toMatch(/^\d+\.\d\d dB$/);
    expect(Number.parseFloat(psnr ?? '0')).toBeGreaterThan(12);
    expect(await page.locator('#backend-used').textContent()).toBe('onnxruntime-web (wasm)');
    expect(await page.locator('#backend-reason').textContent()).toMatch(
      /^wasm: the WebGPU adapter \(.*swiftshader.*\) is a software fallback/,
    );
    expect(await page.locator('#speed').textContent()).toMatch(/^\d+\.\d it\/s$/);
    expect(await page.locator('#caption-prior').textContent()).toMatch(
      /prior test-mri: \d+\.\d\d dB after 30 iterations/,
    );
    expect(await page.locator('#caption-siren').textContent()).toMatch(
      /random SIREN: \d+\.\d\d dB after 30 iterations/,
    );
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'demo.png'), fullPage: true });

    const b = await downloadBundle(page, SHOTS);
    expect(b.manifest.kind).toBe('fit');
    expect(b.manifest.config.width).toBe(32);
    // The same contents as `strainer fit --out` writes (one fit-bundle writer): train state and train step too.
    expect(Object.keys(b.tensors)).toEqual(
      expect.arrayContaining(['decoder.weight', 'adam_m.decoder.weight', 'adam_v.encoder.0.weight', 'step']),
    );
    expect(Object.keys(b.manifest.graphs).sort()).toEqual(['inference', 'train_step']);
    expect((await b.graph('inference')).byteLength).toBeGreaterThan(1000);
    expect((await b.graph('train_step')).byteLength).toBeGreaterThan(1000);
  }, 300_000);

  it('refuses a tampered prior with a message', async () => {
    await page.selectOption('#prior', 'tampered');
    await page.click('#fit');
    expect(await settle(page)).toBe('error');
    expect(await page.locator('#error').textContent()).toMatch(/weights\.bin fails its integrity check/);
  }, 120_000);

  it('stops a running fit', async () => {
    await page.selectOption('#prior', '');
    await page.selectOption('#backend', 'wasm');
    await page.fill('#width', '32');
    await page.fill('#depth', '3');
    await page.fill('#iters', '100000');
    await page.click('#fit');
    await page.waitForFunction(
      () => /iteration \d+/.test(document.getElementById('caption-siren')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    await page.click('#stop');
    expect(await settle(page, 60_000)).toBe('done');
    expect(await page.locator('#caption-siren').textContent()).toMatch(/\(stopped\)$/);
    await page.selectOption('#backend', 'auto');
  }, 120_000);

  it('takes a dropped image', async () => {
    const png = readFileSync(join(REPO_ROOT, 'web', 'public', 'samples', 'skimage-camera.png')).toString('base64');
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(png)}), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })()`);
    await page.waitForFunction(
      () => /dropped\.png/.test(document.getElementById('status')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('idle');
  }, 60_000);

  it('says so when the file is not an image', async () => {
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not pixels') });
    await page.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 30_000 });
    expect(await page.locator('#error').textContent()).toMatch(/notes\.txt is not an image/);
    await page.selectOption('#sample', { index: 0 });
    await page.waitForFunction(() => document.body.dataset.state === 'idle', undefined, { timeout: 30_000 });
  }, 60_000);

  it('reports a lost WebGPU device, then fits again on a fresh worker', async () => {
    await page.selectOption('#prior', 'test-mri');
    await page.selectOption('#backend', 'webgpu');
    await page.uncheck('#compare');
    await page.fill('#iters', '100000');
    await page.click('#fit');
    await page.waitForFunction(
      () => /iteration \d+/.test(document.getElementById('caption-prior')?.textContent ?? ''),
      undefined,
      { timeout: 120_000 },
    );
    await page.evaluate('window.strainerDemo.loseDevice()');
    expect(await settle(page, 60_000)).toBe('error');
    expect(await page.locator('#error').textContent()).toMatch(/WebGPU device was lost/);
    await page.selectOption('#backend', 'wasm');
    await page.fill('#iters', '5');
    await page.click('#fit');
    expect(await settle(page)).toBe('done');
    expect(await page.locator('#backend-used').textContent()).toBe('onnxruntime-web (wasm)');
  }, 300_000);

  it('restores a 4x downsampled sample and reports PSNR and SSIM against the truth', async () => {
    await page.selectOption('#task', 'superres');
    await page.selectOption('#prior', '');
    await page.selectOption('#backend', 'wasm');
    await page.selectOption('#size', '32');
    await page.fill('#width', '32');
    await page.fill('#depth', '3');
    await page.fill('#iters', '10');
    await page.fill('#lr', '0.001');
    await page.click('#fit');
    expect(await settle(page), (await page.locator('#error').textContent()) ?? '').toBe('done');
    expect(await page.locator('#psnr-label').textContent()).toBe('PSNR vs truth');
    expect(await page.locator('#psnr').textContent()).toMatch(/^\d+\.\d\d dB$/);
    expect(await page.locator('#ssim').textContent()).toMatch(/^-?\d\.\d{3}$/);
    expect(await page.locator('#caption-siren').textContent()).toMatch(
      /random SIREN: \d+\.\d\d dB, SSIM -?\d\.\d{3} vs truth after 10 iterations/,
    );
    expect(await page.evaluate(() => (document.getElementById('observation') as HTMLCanvasElement).width)).toBe(8);
    expect(await page.locator('#download').isDisabled()).toBe(true);
    await page.selectOption('#task', 'fit');
  }, 180_000);

  it('restores from a prior with its encoder kept fixed', async () => {
    await page.selectOption('#task', 'superres');
    await page.selectOption('#prior', 'test-mri');
    await page.selectOption('#backend', 'wasm');
    await page.selectOption('#size', '32');
    await page.uncheck('#compare');
    await page.check('#freeze');
    await page.fill('#iters', '10');
    await page.click('#fit');
    expect(await settle(page), (await page.locator('#error').textContent()) ?? '').toBe('done');
    expect(await page.locator('#caption-prior').textContent()).toMatch(
      /prior test-mri \(encoder fixed\): \d+\.\d\d dB, SSIM -?\d\.\d{3} vs truth after 10 iterations/,
    );
    await page.uncheck('#freeze');
    await page.selectOption('#task', 'fit');
  }, 180_000);

  it('fits by the fast recipe by default and shows the time to 30 dB', async () => {
    await watchRequests();
    await page.selectOption('#task', 'fit');
    await page.selectOption('#prior', 'test-mri');
    await page.selectOption('#backend', 'wasm');
    await page.selectOption('#size', '32');
    await page.uncheck('#compare');
    await page.uncheck('#freeze');
    expect(await page.locator('#recipe').inputValue()).toBe('fast');
    await page.fill('#iters', '3000');
    await page.fill('#lr', '0.0001');
    await page.fill('#until', '35');
    await page.click('#fit');
    expect(await settle(page), (await page.locator('#error').textContent()) ?? '').toBe('done');
    const [req] = await requests();
    expect(req).toMatchObject({ recipe: 'fast', untilPsnr: 35, milestones: [30, 35, 40] });
    expect(await page.locator('#ttq').getAttribute('data-recipe')).toBe('fast');
    const cell = page.locator('#ttq-prior-30');
    const seconds = Number(await cell.getAttribute('data-seconds'));
    expect(seconds).toBeGreaterThan(0);
    expect(Number(await cell.getAttribute('data-psnr'))).toBeGreaterThanOrEqual(30);
    expect(await cell.textContent()).toBe(`${seconds.toFixed(2)} s`);
    const at35 = page.locator('#ttq-prior-35');
    expect(Number(await at35.getAttribute('data-psnr'))).toBeGreaterThanOrEqual(35);
    expect(Number(await at35.getAttribute('data-seconds'))).toBeGreaterThanOrEqual(seconds);
    expect(await page.locator('#ttq-prior-40').textContent()).toBe('—'); // stopped at 35 dB
    expect(await page.locator('#ttq-siren-30').isHidden()).toBe(true); // no SIREN run
    expect(await page.locator('#caption-prior').textContent()).toMatch(
      /prior test-mri: \d+\.\d\d dB after \d+ iterations/,
    );
  }, 180_000);

  it('sends the paper recipe when chosen', async () => {
    await page.selectOption('#recipe', 'paper');
    await page.fill('#iters', '3');
    await page.fill('#until', '');
    await page.click('#fit');
    expect(await settle(page), (await page.locator('#error').textContent()) ?? '').toBe('done');
    const [req] = await requests();
    expect(req.recipe).toBe('paper');
    expect(req.untilPsnr).toBeUndefined();
    expect(await page.locator('#ttq').getAttribute('data-recipe')).toBe('paper');
    expect(await page.locator('#ttq-recipe').textContent()).toBe('Recipe: paper');
    await page.selectOption('#recipe', 'fast');
  }, 120_000);
});
