// The built demo works offline after one visit: `vite build` of web/ (with a small test prior), served
// cross-origin isolated by a plain static server; a first visit registers the service worker (web/sw.js)
// and fits from the prior, which the library caches once verified; then the server is shut down AND the
// browser context is set offline, and a reload still shows the page and fits from the cached prior.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { webConfig } from '../../web/server.ts';
import { CHROMIUM, LAUNCH_ARGS, makeTestPrior, tempModelsDir } from './env.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

function serve(root: string): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    let p = join(root, decodeURIComponent((req.url ?? '/').split('?')[0]));
    if (existsSync(p) && statSync(p).isDirectory()) p = join(p, 'index.html');
    if (!existsSync(p)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(p)] ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    res.end(readFileSync(p));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, requests }),
    ),
  );
}

async function fitOnce(page: Page): Promise<string> {
  await page.waitForFunction(
    () => document.body.dataset.state === 'idle' || document.body.dataset.state === 'done',
    undefined,
    { timeout: 60_000 },
  );
  await page.selectOption('#prior', 'test-mri');
  await page.selectOption('#size', '32');
  await page.selectOption('#backend', 'wasm');
  await page.fill('#iters', '10');
  await page.fill('#lr', '0.001');
  if (await page.isChecked('#compare')) await page.uncheck('#compare');
  await page.click('#fit');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), undefined, {
    timeout: 120_000,
    polling: 250,
  });
  const state = await page.evaluate(() => document.body.dataset.state);
  expect(state, (await page.locator('#error').textContent()) ?? '').toBe('done');
  return (await page.locator('#caption-prior').textContent()) ?? '';
}

describe('offline web app', () => {
  let out: string, models: string, browser: Browser, site: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    models = tempModelsDir();
    await makeTestPrior(models);
    out = mkdtempSync(join(tmpdir(), 'strainer-offline-'));
    const cfg = webConfig({ modelsDir: models });
    await build({ ...cfg, logLevel: 'error', build: { ...cfg.build, outDir: out, emptyOutDir: true } });
    site = await serve(out);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    site?.server.close();
    for (const d of [out, models]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('the build emits a service worker that precaches the page, its scripts and the wasm', () => {
    const sw = readFileSync(join(out, 'sw.js'), 'utf8');
    const list = JSON.parse(/const PRECACHE = (\[.*?\]);/.exec(sw)![1]) as string[];
    expect(list).toContain('./');
    expect(list.some((f) => /^\.\/assets\/index-.*\.js$/.test(f))).toBe(true);
    expect(list.some((f) => /^\.\/assets\/worker-.*\.js$/.test(f))).toBe(true);
    expect(list.some((f) => f.endsWith('.wasm'))).toBe(true);
    for (const f of list) expect(existsSync(join(out, f === './' ? 'index.html' : f)), f).toBe(true);
  });

  it('after one visit, loads and fits from the cached prior with the server gone and the network off', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(site.url);
    // First visit: the service worker installs (precache) and takes control; one fit caches the prior.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
    expect(await fitOnce(page)).toMatch(/prior test-mri: \d+\.\d\d dB after 10 iterations/);

    // Gone for real: no listening socket, and Chromium's keep-alive connections cut.
    const closed = new Promise<void>((r) => site.server.close(() => r()));
    site.server.closeAllConnections();
    await closed;
    await context.setOffline(true);
    const before = site.requests.length;
    await page.reload();
    expect(await fitOnce(page)).toMatch(/prior test-mri: \d+\.\d\d dB after 10 iterations/);
    expect(await page.locator('#error').isVisible()).toBe(false);
    expect(site.requests.length).toBe(before); // nothing reached the (closed) server
    await context.close();
  }, 300_000);
});
