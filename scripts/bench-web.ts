// Browser benchmark: iterations per second of the same fit (a 64x64 MRI slice, SIREN width 256,
// depth 6, full image per step) in Node (onnxruntime-node), in headless Chromium on wasm and on WebGPU,
// measured in one run; writes the table with the machine it ran on to bench/web.md.
//   npm run bench:web [-- --iters 20 --gpu-iters 8 --out bench/web.md --force]
// The first WARMUP steps (graph compile, shader compile) are reported apart, not in it/s. WebGPU on a
// software adapter takes seconds per step, hence its own, smaller step count.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { fitSignal } from '../src/train/fit.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import type { InrConfig } from '../src/model/config.ts';
import { writeFileAtomic } from '../src/node/fs.ts';
import { startWebServer, REPO_ROOT } from '../web/server.ts';
import { mriSlice, LAUNCH_ARGS, CHROMIUM, callHarness, tempModelsDir } from '../tests/browser/env.ts';
import { median } from '../src/util/stats.ts';

const CONFIG: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 256, depth: 6, omega: 30 }; // the paper's (REFERENCE.md)
const RES = 64;
const LR = 1e-4;
const WARMUP = 2;

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const iters = Number(arg('iters', '20'));
const gpuIters = Number(arg('gpu-iters', '8'));
const out = arg('out', join(REPO_ROOT, 'bench', 'web.md'));
for (const [k, v] of [['iters', iters], ['gpu-iters', gpuIters]] as const) {
  if (!Number.isInteger(v) || v <= WARMUP) { console.error(`strainer: --${k} must be an integer > ${WARMUP}`); process.exit(2); }
}
if (existsSync(out) && !process.argv.includes('--force')) { console.error(`strainer: ${out} exists (pass --force to overwrite)`); process.exit(2); }

interface Row { runtime: string; backend: string; stepMs: number[]; psnr: number }
const stepsOf = (provider: string): number => (provider === 'webgpu' ? gpuIters : iters);


const loadAtStart = loadavg()[0];
const img = mriSlice('test', 0, RES);
const rows: Row[] = [];
const threads = availableParallelism();

console.log(`node: ${iters} steps...`);
const n = await fitSignal(img, { config: CONFIG, iters, lr: LR, seed: 0, backend: ortNodeBackend({ threads }) });
rows.push({ runtime: 'Node (onnxruntime-node)', backend: n.backend, stepMs: n.stepMs, psnr: n.psnr[iters - 1] });

const modelsDir = tempModelsDir();
const web = await startWebServer({ port: 0, modelsDir });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
let adapter = 'none';
const chromiumVersion = browser.version();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${web.url}harness.html`);
  adapter = await callHarness<string>(page, 'adapterInfo');
  const plain = { width: img.width, height: img.height, channels: img.channels, data: Array.from(img.data) };
  for (const provider of ['wasm', 'webgpu'] as const) {
    console.log(`chromium ${provider}: ${stepsOf(provider)} steps...`);
    const r = await callHarness<{ backend: string; stepMs: number[]; psnr: number[] }>(page, 'benchFit', plain, CONFIG, stepsOf(provider), LR, provider);
    rows.push({ runtime: `Chromium ${chromiumVersion} (onnxruntime-web)`, backend: r.backend, stepMs: r.stepMs, psnr: r.psnr[r.psnr.length - 1] });
  }
} finally {
  await browser.close();
  await web.close();
  rmSync(modelsDir, { recursive: true, force: true });
}

const cpu = (() => { try { return /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1].trim() ?? 'unknown'; } catch { return 'unknown'; } })();
const pkg = (p: string): string => (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
const lines = [
  '# Browser benchmark: iterations per second of one fit',
  '',
  `Fit: ${RES}x${RES} MRI slice (ch2bet, held-out test slice), SIREN width ${CONFIG.width} depth ${CONFIG.depth}, full image (${RES * RES} coordinates) per step, Adam lr ${LR}, ${iters} steps (WebGPU: ${gpuIters}), all in one run of \`npm run bench:web\` (${new Date().toISOString().slice(0, 10)}).`,
  `it/s = 1000 / median step time over the steps after the first ${WARMUP}; those ${WARMUP} steps (session creation, shader compilation) are listed apart. A step includes downloading the loss.`,
  '',
  '| runtime | backend | steps | first step (ms) | median step (ms) | it/s | PSNR before last step (dB) |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.runtime} | ${r.backend} | ${r.stepMs.length} | ${r.stepMs[0].toFixed(0)} | ${median(r.stepMs.slice(WARMUP)).toFixed(1)} | ${(1000 / median(r.stepMs.slice(WARMUP))).toFixed(2)} | ${r.psnr.toFixed(2)} |`),
  '',
  '## Machine',
  '',
  `- CPU: ${cpu}, ${threads} cores available; ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; no GPU; load average ${loadAtStart.toFixed(1)} at the start (other work shares the machine: compare rows, not runs)`,
  `- WebGPU adapter: ${adapter} (Chromium's software adapter when the machine has no GPU: correct, slow)`,
  `- Node ${process.versions.node}, onnxruntime-node ${pkg('onnxruntime-node')} (${threads} threads), onnxruntime-web ${pkg('onnxruntime-web')} (wasm: ${Math.min(4, threads)} threads, page cross-origin isolated), Chromium ${chromiumVersion} headless with --enable-unsafe-webgpu`,
  '',
  'Regenerate: `npm run bench:web -- --force` (takes a few minutes on 2 cores; run it alone).',
  '',
];
writeFileAtomic(out, lines.join('\n'));
console.log(lines.join('\n'));
