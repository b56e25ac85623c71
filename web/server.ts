// Vite configuration of the demo app (Node side), shared by vite.config.ts, the browser tests and the
// browser benchmark: root web/, the priors folder served at /models/ with a generated index.json, and
// COOP/COEP headers so the page is cross-origin isolated (SharedArrayBuffer, hence multi-threaded
// wasm). onnxruntime-web finds its .wasm next to its own module (new URL(..., import.meta.url)): Vite
// serves it from node_modules in dev and emits it as an asset in a build.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type InlineConfig, type Plugin, type ViteDevServer } from 'vite';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { cachedDataset } from '../src/node/datasets.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..');

export interface WebServerOptions {
  /** Folder of prior bundles (`<name>/manifest.json`); default $STRAINER_MODELS_DIR or models/. */
  modelsDir?: string;
  port?: number;
  host?: string;
  /** Watch files and reload the page on edits (default true; tests and benchmarks turn it off so an
   *  edit elsewhere in the tree cannot reload a page mid-measurement). */
  watch?: boolean;
}

// Cross-origin isolation (COOP same-origin + COEP require-corp) enables SharedArrayBuffer, which
// onnxruntime-web needs for wasm threads (https://web.dev/articles/coop-coep).
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

const TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

export interface PriorIndexEntry {
  name: string;
  kind: string;
  config: unknown;
  description?: string;
  bytes: number;
}

/** Bundles in `dir` that hold a manifest.json, for the page's prior selector. */
export function priorIndex(dir: string): PriorIndexEntry[] {
  if (!existsSync(dir)) return [];
  const out: PriorIndexEntry[] = [];
  for (const name of readdirSync(dir).sort()) {
    const mf = join(dir, name, 'manifest.json');
    if (!existsSync(mf)) continue;
    try {
      const m = JSON.parse(readFileSync(mf, 'utf8')) as {
        kind?: string;
        config?: unknown;
        data?: { description?: string };
        files?: Record<string, { bytes: number }>;
      };
      const bytes = Object.values(m.files ?? {}).reduce((a, f) => a + (f.bytes ?? 0), 0);
      out.push({
        name,
        kind: String(m.kind),
        config: m.config,
        ...(m.data?.description ? { description: m.data.description } : {}),
        bytes,
      });
    } catch {
      out.push({ name, kind: 'unreadable', config: null, bytes: 0 }); // listed, so the page can show why it fails
    }
  }
  return out.filter((e) => e.kind === 'prior' || e.kind === 'unreadable');
}

export interface SampleEntry {
  file: string;
  label: string;
}

/** Held-out clips of the speech prior (models/speech-10 was trained on digits/0..9), offered as audio
 *  samples when the speech dataset is fetched (scripts/fetch-data.sh). CC BY-SA 3.0 and fetched, like
 *  every dataset, so they are served from the cache and copied into a built app, never committed. */
const SPEECH_SAMPLES = [
  { from: 'digits/10.wav', file: 'speech-ten.wav', label: 'speech: "ten" (8 kHz, held out of speech-10)' },
  { from: 'letters/a.wav', file: 'speech-a.wav', label: 'speech: "a" (8 kHz, held out of speech-10)' },
  { from: 'letters/b.wav', file: 'speech-b.wav', label: 'speech: "b" (8 kHz, held out of speech-10)' },
];

/** The speech samples present in the cache, with the file each is read from. */
function speechSamples(): (SampleEntry & { path: string })[] {
  const dir = cachedDataset('speech');
  if (!dir) return [];
  return SPEECH_SAMPLES.map((x) => ({ file: x.file, label: x.label, path: join(dir, x.from) })).filter((x) =>
    existsSync(x.path),
  );
}

/** The page's sample list: the committed images (web/samples.json, scripts/web-samples.ts) and the speech clips. */
export function sampleIndex(): SampleEntry[] {
  const images = JSON.parse(readFileSync(join(here, 'samples.json'), 'utf8')) as SampleEntry[];
  return [...images, ...speechSamples().map(({ file, label }) => ({ file, label }))];
}

function send(res: ServerResponse, status: number, body: Uint8Array | string, type: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-cache', ...ISOLATION });
  res.end(body);
}

/** Serves files under `root` at URL prefix `prefix`, refusing paths that escape it. */
function serveFolder(prefix: string, root: () => string, index?: () => string) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (!url.startsWith(prefix)) return next();
    const rel = url.slice(prefix.length);
    if (index && rel === 'index.json') return send(res, 200, index(), 'application/json');
    const base = resolve(root());
    const file = normalize(join(base, rel));
    if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile())
      return send(res, 404, `not found: ${url}`, 'text/plain');
    const ext = file.slice(file.lastIndexOf('.'));
    send(res, 200, readFileSync(file), TYPES[ext] ?? 'application/octet-stream');
  };
}

function strainerAssets(modelsDir: string): Plugin {
  // The index is read per request, so priors written while the server runs appear.
  const models = serveFolder(
    '/models/',
    () => modelsDir,
    () => JSON.stringify(priorIndex(modelsDir)),
  );
  // The sample list, and the speech clips from the cache (the images are public/samples files).
  const sampleFiles = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = (req.url ?? '').split('?')[0];
    if (url === '/samples/index.json') return send(res, 200, JSON.stringify(sampleIndex()), 'application/json');
    const clip = url.startsWith('/samples/speech-')
      ? speechSamples().find((x) => url === `/samples/${x.file}`)
      : undefined;
    if (clip) return send(res, 200, readFileSync(clip.path), TYPES['.wav']);
    next();
  };
  return {
    name: 'strainer-assets',
    configureServer(server) {
      server.middlewares.use(sampleFiles);
      server.middlewares.use(models);
    },
    configurePreviewServer(server) {
      server.middlewares.use(sampleFiles);
      server.middlewares.use(models);
    },
    generateBundle(_options, bundle) {
      // A built app carries the priors next to it (vite build -> demo-dist/).
      const index = priorIndex(modelsDir);
      this.emitFile({ type: 'asset', fileName: 'models/index.json', source: JSON.stringify(index) });
      for (const e of index) {
        for (const f of readdirSync(join(modelsDir, e.name)))
          this.emitFile({
            type: 'asset',
            fileName: `models/${e.name}/${f}`,
            source: readFileSync(join(modelsDir, e.name, f)),
          });
      }
      this.emitFile({ type: 'asset', fileName: 'samples/index.json', source: JSON.stringify(sampleIndex()) });
      for (const x of speechSamples())
        this.emitFile({ type: 'asset', fileName: `samples/${x.file}`, source: readFileSync(x.path) });
      // The service worker precaches the page and everything it loads (not the prior bundles: the
      // library caches those once verified), so the page works offline after one visit (web/sw.js).
      const samples = existsSync(join(here, 'public', 'samples'))
        ? readdirSync(join(here, 'public', 'samples')).map((f) => `samples/${f}`)
        : [];
      const files = [
        ...Object.keys(bundle).filter((f) => !f.startsWith('models/') || f === 'models/index.json'),
        ...samples,
        'models/index.json',
      ];
      const precache = ['./', ...new Set(files.filter((f) => f !== 'index.html' && !f.endsWith('.map')))].map((f) =>
        f === './' ? f : `./${f}`,
      );
      const build = createHash('sha256').update(precache.join('\n')).digest('hex').slice(0, 12);
      const sw = readFileSync(join(here, 'sw.js'), 'utf8')
        .replace('self.__STRAINER_PRECACHE__', JSON.stringify(precache))
        .replace('self.__STRAINER_BUILD__', JSON.stringify(build));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: sw });
    },
  };
}

export function webConfig(o: WebServerOptions = {}): InlineConfig {
  const modelsDir = resolve(o.modelsDir ?? process.env.STRAINER_MODELS_DIR ?? join(REPO_ROOT, 'models'));
  // A git worktree may link node_modules to another checkout's: Vite serves files by their real path.
  const modules = join(REPO_ROOT, 'node_modules');
  const realModules = existsSync(modules) ? realpathSync(modules) : modules;
  return {
    configFile: false,
    root: here,
    publicDir: join(here, 'public'),
    logLevel: 'warn',
    server: {
      port: o.port ?? Number(process.env.PORT ?? 5173),
      host: o.host ?? 'localhost',
      strictPort: true,
      headers: ISOLATION,
      fs: { allow: [...new Set([REPO_ROOT, modelsDir, realModules])] },
      ...(o.watch === false ? { hmr: false, watch: null } : {}),
    },
    preview: { headers: ISOLATION },
    // Vite 7 must not pre-bundle onnxruntime-web: the optimizer breaks its wasm loader (REFERENCE.md).
    // protobufjs is pre-bundled at startup, so no dependency is discovered later (that would reload
    // the page in the middle of a test).
    optimizeDeps: { exclude: ['onnxruntime-web'], include: ['protobufjs'], entries: ['index.html', 'worker.ts'] },
    worker: { format: 'es' },
    // Not under dist/: that is the package's compiled library (dist/web is the strainer/web entry).
    build: { outDir: join(REPO_ROOT, 'demo-dist'), emptyOutDir: true, target: 'es2022' },
    plugins: [strainerAssets(modelsDir)],
  };
}

export interface WebServer {
  url: string;
  server: ViteDevServer;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, 'localhost', () => {
      const a = s.address();
      s.close(() => (a && typeof a !== 'string' ? resolve(a.port) : reject(new Error('no free port'))));
    });
  });
}

/** Starts the dev server; port 0 picks a free port. Unwatched unless `watch` is true. */
export async function startWebServer(o: WebServerOptions = {}): Promise<WebServer> {
  const port = o.port === 0 ? await freePort() : o.port;
  const server = await createServer(webConfig({ watch: false, ...o, ...(port !== undefined ? { port } : {}) }));
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('vite dev server has no TCP address');
  const url = `http://localhost:${addr.port}/`;
  return { url, server, close: () => server.close() };
}
