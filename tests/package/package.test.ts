// The package as its users get it: `npm pack`, then the tarball installed into fresh projects outside
// this repository — (a) a plain .mjs Node script fits a real image with a shipped prior through
// 'strainer/node'; (b) `npx strainer fit` from the installed package; (c) a TypeScript consumer
// type-checks with moduleResolution bundler and nodenext; (d) a Vite app importing 'strainer/web' (with
// onnxruntime-web only: no onnxruntime-node installed) is built, served cross-origin isolated and fits in
// headless Chromium through the fit worker. publint and arethetypeswrong check the tarball itself.
// Installs use the exact versions this checkout has, so npm serves them from its cache.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { parseWav, wavSignal, SILENCE, type Wav } from '../../src/data/wav.ts';
import { psnrBetween } from '../../src/util/stats.ts';
import { cachedDataset, dataCacheDir } from '../../src/node/datasets.ts';

const REPO = resolve(__dirname, '../..');
/** A real speech clip of the fetched dataset (scripts/fetch-data.sh); the clip cases skip without it. */
const CLIP = join(cachedDataset('speech') ?? join(dataCacheDir(), 'speech'), 'letters', 'a.wav');
/** PSNR of silence (every sample 0) against a clip: the trivial baseline a fit must beat. */
const silencePsnr = (w: Wav): number => psnrBetween(new Float32Array(w.frames).fill(SILENCE), wavSignal(w).data);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const version = (pkg: string): string =>
  (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
const ENV = {
  ...process.env,
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (vitest's worker must keep answering its RPC). */
function run(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<Ran> {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { cwd, env: ENV, timeout });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (status) => resolveRun({ status, stdout, stderr }));
  });
}

async function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<string> {
  const r = await run(cmd, args, cwd, timeout);
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`.slice(0, 6000),
    );
  return r.stdout;
}

async function project(root: string, name: string, deps: string[]): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 2));
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...deps], dir);
  return dir;
}

let root: string;
let tarball: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'strainer-package-'));
  // Packed from a staging copy holding what `files` ships: the build that `prepare` runs (tsc -p
  // tsconfig.build.json) writes a fresh dist/ there, not into the checkout's dist/, which the CLI tests
  // running beside this file are reading (rewriting it under them broke their imports).
  const stage = join(root, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'THIRD_PARTY_LICENSES.md'])
    copyFileSync(join(REPO, f), join(stage, f));
  for (const d of ['bin', 'models']) cpSync(join(REPO, d), join(stage, d), { recursive: true });
  await sh('npx', ['tsc', '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], REPO);
  const out = await sh('npm', ['pack', '--ignore-scripts', '--pack-destination', root, '--json'], stage);
  const info = JSON.parse(out.slice(out.indexOf('['))) as {
    filename: string;
    size: number;
    files: { path: string }[];
  }[];
  tarball = join(root, info[0].filename);
  process.stdout.write(
    `package: ${info[0].filename}, ${(info[0].size / 1e6).toFixed(2)} MB packed, ${info[0].files.length} files\n`,
  );
}, 300_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships dist/, the bin, the shipped priors and the licences, nothing else', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    const top = [...new Set(files.map((f) => f.split('/')[0]))].sort();
    expect(top).toEqual(['LICENSE', 'README.md', 'THIRD_PARTY_LICENSES.md', 'bin', 'dist', 'models', 'package.json']);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/node/index.d.ts');
    expect(files).toContain('models/mri-64/manifest.json');
    expect(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
    expect(files.filter((f) => /\.(wasm|png|onnx|bin)$/.test(f) && !f.startsWith('models/'))).toEqual([]); // no build of the demo page, no stray assets
  });

  it('passes publint and arethetypeswrong', async () => {
    expect(await sh('npx', ['publint', 'run', tarball, '--strict'], REPO)).toMatch(/All good/);
    // ESM-only by design: CommonJS consumers use import(); attw's esm-only profile checks everything else.
    await sh('npx', ['attw', tarball, '--profile', 'esm-only'], REPO);
  }, 120_000);
});

describe('a Node project', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await project(root, 'node-app', [
      tarball,
      `onnxruntime-node@${version('onnxruntime-node')}`,
      `typescript@${version('typescript')}`,
      `@types/node@${version('@types/node')}`,
    ]);
    copyFileSync(join(REPO, 'tests/fixtures/slice-z073.png'), join(dir, 'slice.png'));
  }, 300_000);

  it('(a) a plain .mjs script fits a real image with a shipped prior through strainer/node', async () => {
    writeFileSync(
      join(dir, 'fit.mjs'),
      [
        "import { readImage, fit, psnrAt } from 'strainer/node';",
        "const r = await fit(readImage('slice.png', { res: 32 }), { prior: 'mri-64', recipe: 'paper', iters: 11 });",
        'console.log(JSON.stringify({ psnr: psnrAt(r), finalPsnr: r.finalPsnr, backend: r.backend }));',
      ].join('\n'),
    );
    const j = JSON.parse((await sh('node', ['fit.mjs'], dir)).trim().split('\n').pop()!) as {
      psnr: Record<string, number>;
      finalPsnr: number;
      backend: string;
    };
    expect(Object.keys(j.psnr)).toEqual(['0', '10']);
    expect(j.finalPsnr).toBeGreaterThan(j.psnr['0'] + 5);
    expect(j.backend).toMatch(/^onnxruntime-node/);
  }, 120_000);

  it.skipIf(!existsSync(CLIP))(
    '(a) ... and a real clip with the shipped speech prior: readAudio, fit, writeAudio',
    async () => {
      copyFileSync(CLIP, join(dir, 'a.wav'));
      writeFileSync(
        join(dir, 'clip.mjs'),
        [
          "import { readAudio, writeAudio, fit } from 'strainer/node';",
          "const a = readAudio('a.wav');",
          "const r = await fit(a.signal, { prior: 'speech-10', rate: a.rate, untilPsnr: 40 });",
          "writeAudio('a-fit.wav', r.output, a.rate);",
          'console.log(JSON.stringify({ finalPsnr: r.finalPsnr }));',
        ].join('\n'),
      );
      const j = JSON.parse((await sh('node', ['clip.mjs'], dir)).trim().split('\n').pop()!) as { finalPsnr: number };
      expect(j.finalPsnr).toBeGreaterThanOrEqual(40); // the default (fast) recipe, stopped at a target
      const w = parseWav(new Uint8Array(readFileSync(CLIP)), 'a.wav'),
        back = parseWav(new Uint8Array(readFileSync(join(dir, 'a-fit.wav'))), 'a-fit.wav');
      expect([back.rate, back.frames, back.channels]).toEqual([w.rate, w.frames, 1]);
      expect(j.finalPsnr).toBeGreaterThan(silencePsnr(w) + 3);
    },
    120_000,
  );

  it('(b) npx strainer fit runs from the installed package, prior by shipped name', async () => {
    const out = await sh(
      'npx',
      ['strainer', 'fit', 'slice.png', '--prior', 'mri-64', '--res', '32', '--iters', '11', '--json'],
      dir,
    );
    const j = JSON.parse(out.trim().split('\n').pop()!) as {
      psnr: Record<string, number>;
      prior: string;
      backend: string;
    };
    expect(Object.keys(j.psnr)).toEqual(['0', '10']);
    expect(j.prior).toBe('mri-64');
    expect(await sh('npx', ['strainer', '--help'], dir)).toMatch(/Usage: strainer/);
  }, 120_000);

  it('(c) a TypeScript consumer type-checks with moduleResolution bundler and nodenext', async () => {
    writeFileSync(
      join(dir, 'node-app.ts'),
      [
        "import { readImage, loadPrior, fit, psnrAt, type FitResult, type Image } from 'strainer/node';",
        "import { PAPER_CONFIG, planFit, type InrConfig, type StepEvent } from 'strainer';",
        'const c: InrConfig = PAPER_CONFIG;',
        'const log = (e: StepEvent): void => console.log(e.it, e.psnr, e.seconds);',
        "const r: FitResult<Image> = await fit(readImage('slice.png', { res: 64 }), { prior: await loadPrior('mri-64'), iters: 10, onStep: log });",
        "const p: number = r.finalPsnr, b: string = r.backend, k: number | undefined = psnrAt(r)['0'], l: number = r.finalLoss;",
        'console.log(c, p, b, k, l, planFit({ dims: [64, 64], channels: 1 }).config.width);',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'web-app.ts'),
      [
        "import { fit, loadPriorFromUrl, decodeBlob, toImage, decodeWav, resampleClip, toAudioBuffer, PROJECT_KEY, type FitResult, type Image, type Signal } from 'strainer/web';",
        'export async function run(file: File): Promise<number> {',
        "  const prior = await loadPriorFromUrl('/models/mri-64/', { publicKey: PROJECT_KEY });",
        '  const image = toImage(await decodeBlob(file, file.name), 64);',
        '  const r: FitResult<Image> = await fit(image, { prior, iters: 30, onStep: (e) => console.log(e.it, e.psnr.toFixed(2)) });',
        '  return r.finalPsnr;',
        '}',
        // The README's clip example, typed.
        'export async function clip(wavFile: File): Promise<number> {',
        "  const speech = await loadPriorFromUrl('/models/speech-10/');",
        '  const clip = await resampleClip(await decodeWav(wavFile, wavFile.name), speech.rate);',
        '  const c: FitResult<Signal> = await fit(clip.signal, { prior: speech, rate: clip.rate, iters: 100 });',
        '  const ctx = new AudioContext();',
        '  const src = Object.assign(ctx.createBufferSource(), { buffer: toAudioBuffer(ctx, c.output, clip.rate) });',
        '  src.connect(ctx.destination); src.start();',
        '  return c.output.dims[0];',
        '}',
      ].join('\n'),
    );
    // A deliberate type error proves the checks look at strainer's declarations at all.
    writeFileSync(
      join(dir, 'wrong.ts'),
      "import { fit } from 'strainer/node';\nexport const x: string = (await fit(null as never)).finalPsnr;\n",
    );
    for (const resolution of ['bundler', 'nodenext']) {
      const module = resolution === 'bundler' ? 'ESNext' : 'NodeNext';
      // skipLibCheck off: strainer's own .d.ts files are checked too.
      const compilerOptions = {
        target: 'ES2022',
        module,
        moduleResolution: resolution,
        strict: true,
        noEmit: true,
        lib: ['ES2022', 'DOM'],
        types: ['node'],
        skipLibCheck: false,
      };
      writeFileSync(
        join(dir, `tsconfig.${resolution}.json`),
        JSON.stringify({ compilerOptions, files: ['node-app.ts', 'web-app.ts', 'wrong.ts'] }),
      );
      const r = await run('npx', ['tsc', '-p', `tsconfig.${resolution}.json`], dir);
      const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
      expect(errors.length, r.stdout).toBe(1);
      expect(errors[0]).toMatch(/^wrong\.ts.*Type 'number' is not assignable to type 'string'/);
    }
  }, 120_000);

  it('a shipped prior edited in node_modules, its sha256 recomputed in the manifest, is refused by loadPrior and the CLI', async () => {
    const prior = join(dir, 'node_modules', 'strainer', 'models', 'mri-64');
    const weights = join(prior, 'weights.bin'),
      manifest = join(prior, 'manifest.json');
    const original = { weights: readFileSync(weights), manifest: readFileSync(manifest) };
    try {
      // One weight byte changed, and the manifest made to agree with it: only the signature can tell.
      const bytes = Buffer.from(original.weights);
      bytes[1000] ^= 0x40;
      writeFileSync(weights, bytes);
      const m = JSON.parse(original.manifest.toString('utf8')) as { files: Record<string, { sha256: string }> };
      m.files['weights.bin'].sha256 = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(manifest, JSON.stringify(m, null, 2) + '\n');
      writeFileSync(
        join(dir, 'tampered.mjs'),
        [
          "import { loadPrior, fit, makeImage } from 'strainer/node';",
          'let fitted = false;',
          "try { await fit(makeImage(8, 8, 1), { prior: await loadPrior('mri-64'), iters: 1 }); fitted = true; }",
          'catch (e) { console.log(`${e.name}: ${e.message}`); }',
          "if (fitted) console.log('fitted');",
        ].join('\n'),
      );
      const lib = (await sh('node', ['tampered.mjs'], dir)).trim().split('\n');
      expect(lib, lib.join('\n')).toHaveLength(1);
      expect(lib[0]).toMatch(
        /^UserError: .*mri-64: manifest\.json does not match its signature by key 1916fca460a90d76/,
      );
      const cli = await run(
        'npx',
        ['strainer', 'fit', 'slice.png', '--prior', 'mri-64', '--res', '16', '--iters', '1', '--out', 'never'],
        dir,
      );
      expect(cli.status).toBe(2);
      // npx itself may warn about npm settings on stderr; strainer's own output is the rest.
      const lines = cli.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('npm warn'));
      expect(lines, cli.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^strainer: .*does not match its signature/);
      expect(existsSync(join(dir, 'never'))).toBe(false);
    } finally {
      writeFileSync(weights, original.weights);
      writeFileSync(manifest, original.manifest);
    }
  }, 120_000);
});

describe('a Vite web app (onnxruntime-web only)', () => {
  let dir: string;
  let server: Server;
  beforeAll(async () => {
    dir = await project(root, 'web-app', [
      tarball,
      `onnxruntime-web@${version('onnxruntime-web')}`,
      `vite@${version('vite')}`,
    ]);
  }, 300_000);
  afterAll(() => {
    server?.close();
  });

  it('installs without onnxruntime-node', () => {
    expect(existsSync(join(dir, 'node_modules/strainer/package.json'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/onnxruntime-node'))).toBe(false);
  });

  it('strainer/node without onnxruntime-node installed names the package to install, in one line', async () => {
    writeFileSync(
      join(dir, 'node-fit.mjs'),
      [
        "import { fit, makeImage } from 'strainer/node';",
        'try { await fit(makeImage(8, 8, 1), { iters: 1, model: { width: 8, depth: 2 } }); console.log("fitted"); }',
        'catch (e) { console.log(`${e.name}: ${e.message}`); }',
      ].join('\n'),
    );
    const out = (await sh('node', ['node-fit.mjs'], dir)).trim();
    expect(out).toBe('UserError: onnxruntime-node is not installed: npm install onnxruntime-node');
  }, 60_000);

  it('(d) builds with vite build, and fits an image and a real clip (from the shipped speech prior) in headless Chromium through strainer/web/worker', async () => {
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><html><body><p id="out">loading</p><script type="module" src="./main.js"></script></body></html>\n',
    );
    writeFileSync(join(dir, 'fit-worker.js'), "import 'strainer/web/worker';\n");
    // A real clip and the package's own speech prior, served as an app would serve them (README).
    const clip = CLIP,
      withClip = existsSync(clip);
    if (withClip) {
      mkdirSync(join(dir, 'public', 'models'), { recursive: true });
      copyFileSync(clip, join(dir, 'public', 'a.wav'));
      cpSync(join(dir, 'node_modules', 'strainer', 'models', 'speech-10'), join(dir, 'public', 'models', 'speech-10'), {
        recursive: true,
      });
    } else
      console.warn('tests/package: the clip part of (d) is skipped: speech dataset not fetched (npm run fetch-data)');
    writeFileSync(
      join(dir, 'main.js'),
      [
        "import { FitWorker, makeImage, decodeWav, toAudioBuffer } from 'strainer/web';",
        'const n = 16, data = new Float32Array(n * n);',
        'for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) data[y * n + x] = 0.5 + 0.4 * Math.sin(x / 2) * Math.cos(y / 3);',
        "const worker = new FitWorker(new Worker(new URL('./fit-worker.js', import.meta.url), { type: 'module' }));",
        'const out = {};',
        'try {',
        "  const s = await worker.fit({ image: makeImage(n, n, 1, data), priorUrl: null, model: { width: 32, depth: 3 }, iters: 20, lr: 1e-3, provider: 'wasm', label: 'package-test' }).done;",
        '  Object.assign(out, { finalPsnr: s.finalPsnr, backend: s.backend, isolated: crossOriginIsolated });',
        `  if (${withClip}) {`,
        "    const c = await decodeWav(await (await fetch('./a.wav')).blob(), 'a.wav');",
        '    let last = null;',
        "    const a = await worker.fit({ signal: c.signal, rate: c.rate, priorUrl: './models/speech-10/', recipe: 'paper', iters: 10, lr: 1e-4, provider: 'wasm', label: 'clip' }, { onSignal: (x) => { last = x; } }).done;",
        '    const buf = toAudioBuffer(new OfflineAudioContext(1, 1, c.rate), last, c.rate);',
        '    Object.assign(out, { clip: { frames: c.signal.dims[0], psnr: a.finalPsnr, omega0: a.config.omega0, seconds: buf.duration } });',
        '  }',
        "  document.getElementById('out').textContent = JSON.stringify(out); document.body.dataset.state = 'done';",
        "} catch (e) { document.getElementById('out').textContent = String(e.message); document.body.dataset.state = 'error'; }",
      ].join('\n'),
    );
    await sh('npx', ['vite', 'build'], dir);
    const dist = join(dir, 'dist');
    const missing: string[] = [];
    const types: Record<string, string> = {
      '.html': 'text/html',
      '.js': 'text/javascript',
      '.mjs': 'text/javascript',
      '.wasm': 'application/wasm',
    };
    // Cross-origin isolated (COOP + COEP), as a page that wants multi-threaded wasm must be served.
    server = createServer((req, res) => {
      let p = join(dist, decodeURIComponent((req.url ?? '/').split('?')[0]));
      if (existsSync(p) && statSync(p).isDirectory()) p = join(p, 'index.html');
      if (!existsSync(p)) {
        if (!req.url?.endsWith('favicon.ico')) missing.push(req.url ?? '');
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, {
        'Content-Type': types[extname(p)] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      });
      res.end(readFileSync(p));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => document.body.dataset.state, undefined, { timeout: 120_000 });
      const text = (await page.locator('#out').textContent()) ?? '';
      expect(await page.evaluate(() => document.body.dataset.state), text).toBe('done');
      const j = JSON.parse(text) as {
        finalPsnr: number;
        backend: string;
        isolated: boolean;
        clip?: { frames: number; psnr: number; omega0: number; seconds: number };
      };
      expect(j.backend).toBe('onnxruntime-web (wasm)');
      expect(j.isolated).toBe(true);
      expect(j.finalPsnr).toBeGreaterThan(10);
      if (withClip) {
        const w = parseWav(new Uint8Array(readFileSync(clip)), 'a.wav');
        expect(j.clip).toMatchObject({ frames: w.frames, omega0: 3000 });
        expect(j.clip!.seconds).toBeCloseTo(w.frames / 8000, 6);
        // Beats the trivial baseline, silence (0.5 on the [0, 1] scale), after 10 steps from the prior.
        expect(j.clip!.psnr).toBeGreaterThan(silencePsnr(w) + 3);
      }
      expect(missing).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
