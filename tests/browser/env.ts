// Shared setup of the browser tier: the demo's Vite dev server on a free port, Debian's headless
// Chromium with WebGPU enabled (SwiftShader software adapter here), and a small STRAINER prior made
// on the fly from one real MRI slice (the shipped priors are trained separately).
import { chromium, type Browser, type Page } from 'playwright-core';
import { unzipSync } from 'fflate';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWebServer, REPO_ROOT, type WebServer } from '../../web/server.ts';
import { loadNifti } from '../../src/node/read.ts';
import { mriSliceImage, referenceSplit } from '../../src/data/mri.ts';
import type { Image } from '../../src/data/image.ts';
import { fit } from '../../src/train/fit.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { buildBundle, loadBundle, type LoadedBundle } from '../../src/export/bundle.ts';
import { writeBundleDir } from '../../src/node/fs.ts';
import { isEncoderParam, paramSpecs } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { ADAM_DEFAULTS } from '../../src/train/adam.ts';
import type { HostTensor } from '../../src/runtime/session.ts';
import { buildPriorBundle } from '../../src/export/prior.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** --enable-unsafe-webgpu exposes WebGPU headless (REFERENCE.md); the rest keeps Chromium offline and quiet. */
export const LAUNCH_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--no-first-run',
];
export const HARNESS = `/@fs${REPO_ROOT}/tests/browser/harness.ts`;
export const TEST_RES = 32;
const TEMP_PREFIX = 'strainer-web-models-';
/** The test prior's architecture: small enough for SwiftShader on 2 cores. */
export const PRIOR_CONFIG: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 32, depth: 4, omega: 30 };

export interface BrowserEnv {
  url: string;
  web: WebServer;
  browser: Browser;
  modelsDir: string;
  page(path?: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startEnv(modelsDir: string): Promise<BrowserEnv> {
  const web = await startWebServer({ port: 0, modelsDir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  return {
    url: web.url,
    web,
    browser,
    modelsDir,
    async page(path = 'harness.html') {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const p = await ctx.newPage();
      p.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) console.error(`[page] ${m.text()}`);
      });
      p.on('pageerror', (e) => console.error(`[pageerror] ${e.message}`));
      await p.goto(web.url + path);
      return p;
    },
    async close() {
      await browser.close();
      await web.close();
      if (modelsDir.startsWith(join(tmpdir(), TEMP_PREFIX))) rmSync(modelsDir, { recursive: true, force: true }); // only our temp folders
    },
  };
}

let volume: ReturnType<typeof loadNifti> | null = null;
/** A held-out or training MRI slice of the bundled volume at TEST_RES. */
export function mriSlice(which: 'train' | 'test', k = 0, res = TEST_RES): Image {
  volume ??= loadNifti(join(REPO_ROOT, 'data', 'ch2bet.nii.gz'));
  return mriSliceImage(volume, referenceSplit(volume)[which][k], res);
}

/** A STRAINER-1-style prior: a SIREN fitted in Node to one training slice, keeping its encoder. */
export async function makeTestPrior(modelsDir: string, name = 'test-mri'): Promise<string> {
  const img = mriSlice('train', 0);
  const r = await fit(img, {
    model: PRIOR_CONFIG,
    iters: 300,
    lr: 1e-3,
    seed: 1,
    backend: ortNodeBackend({ threads: 1 }),
  });
  const tensors: Record<string, HostTensor> = {};
  for (const s of paramSpecs(PRIOR_CONFIG).filter((p) => isEncoderParam(p.name)))
    tensors[s.name] = { shape: s.shape, data: r.params[s.name] };
  const bundle = await buildBundle(
    {
      kind: 'prior',
      name,
      config: PRIOR_CONFIG,
      range: 'unit',
      train: {
        lr: 1e-3,
        iters: 300,
        adam: ADAM_DEFAULTS,
        batch: img.width * img.height,
        signals: 1,
        engine: 'onnxruntime-node (cpu)',
      },
      data: { description: 'test prior: one ch2bet training slice at 32x32', files: [], train: ['z072'], test: [] },
      graphs: {},
    },
    tensors,
    {},
  );
  const dir = join(modelsDir, name);
  writeBundleDir(dir, bundle, false);
  return dir;
}

/** A meta-learned prior's bundle (format version 3: decoder, method, meta) around the weights of a SIREN
 *  fitted in Node to one training slice: what the web loader must read, not a meta-trained init. */
export async function makeMetaTestPrior(modelsDir: string, name = 'test-maml'): Promise<string> {
  const r = await fit(mriSlice('train', 0), {
    model: PRIOR_CONFIG,
    iters: 50,
    lr: 1e-3,
    seed: 1,
    backend: ortNodeBackend({ threads: 1 }),
  });
  const part = (enc: boolean) =>
    Object.fromEntries(Object.entries(r.params).filter(([k]) => isEncoderParam(k) === enc));
  const bundle = await buildPriorBundle({
    name,
    config: PRIOR_CONFIG,
    range: 'unit',
    encoder: part(true),
    decoder: part(false),
    method: 'maml',
    meta: { innerSteps: 2, innerLr: 1e-2, innerOptimizer: 'sgd', metaBatch: 3, outerLr: 1e-4, outerSteps: 50 },
    res: TEST_RES,
    lr: 1e-4,
    iters: 50,
    signals: 1,
    engine: 'onnxruntime-node (cpu)',
  });
  const dir = join(modelsDir, name);
  writeBundleDir(dir, bundle, false);
  return dir;
}

/** A copy of a bundle with one byte of its weights flipped (the manifest still lists the old sha256). */
export function tamperedCopy(modelsDir: string, from: string, name = 'tampered'): void {
  const dir = join(modelsDir, name);
  cpSync(join(modelsDir, from), dir, { recursive: true });
  const w = readFileSync(join(dir, 'weights.bin'));
  w[10] ^= 0xff;
  writeFileSync(join(dir, 'weights.bin'), w);
}

/** A copy whose manifest claims a future format version. */
export function futureVersionCopy(modelsDir: string, from: string, name = 'future'): void {
  const dir = join(modelsDir, name);
  cpSync(join(modelsDir, from), dir, { recursive: true });
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { version: number };
  m.version = 99;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
}

export function tempModelsDir(): string {
  return mkdtempSync(join(tmpdir(), TEMP_PREFIX));
}

/** Calls harness.ts's export `fn` in the page. A string expression, so Vitest's transform of import()
 *  cannot leak into the page; arguments and results travel as JSON. */
export async function callHarness<T>(page: Page, fn: string, ...args: unknown[]): Promise<T> {
  return await page.evaluate(
    `import(${JSON.stringify(HARNESS)}).then((m) => m[${JSON.stringify(fn)}](...${JSON.stringify(args)}))`,
  );
}

/** Waits until the demo page's run ends (body data-state 'done' or 'error') and returns which. */
export async function settle(page: Page, timeout = 240_000): Promise<string> {
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), undefined, {
    timeout,
    polling: 250,
  });
  return page.evaluate(() => document.body.dataset.state ?? '');
}

/** Clicks the demo page's "Download weights", keeps the zip in `dir` and loads the bundle inside it. */
export async function downloadBundle(page: Page, dir: string): Promise<LoadedBundle> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  mkdirSync(dir, { recursive: true });
  const zipPath = join(dir, download.suggestedFilename());
  await download.saveAs(zipPath);
  const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
  const folder = Object.keys(files)[0].split('/')[0];
  return loadBundle({
    where: zipPath,
    read: async (n) => {
      const f = files[`${folder}/${n}`];
      if (!f) throw new Error(`${n} is not in the zip`);
      return f;
    },
  });
}
