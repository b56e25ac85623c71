// Browser benchmark: iterations per second of the same fit (a 64x64 MRI slice, SIREN width 256,
// depth 6, full image per step) in Node (onnxruntime-node) and in headless Chromium on wasm and on
// WebGPU, run in a dedicated Worker as the demo runs its fits; then where the wasm step's time goes
// (its MatMuls alone, its Sin/Cos, the rest) in Node and Chromium, round by round. One run; writes
// bench/web.md with the machine it ran on.
//   npm run bench:web [-- --iters 20 --gpu-iters 8 --rounds 15 --out bench/web.md --force]
// The first WARMUP steps (graph compile, shader compile) are reported apart, not in it/s. WebGPU on a
// software adapter takes seconds per step, hence its own, smaller step count.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { fit } from '../src/train/fit.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import type { InrConfig } from '../src/model/config.ts';
import { programToOnnx } from '../src/onnx/write.ts';
import { trainStepProgram } from '../src/train/programs.ts';
import type { Session } from '../src/runtime/session.ts';
import { writeFileAtomic } from '../src/node/fs.ts';
import { startWebServer, REPO_ROOT } from '../web/server.ts';
import { mriSlice, LAUNCH_ARGS, CHROMIUM } from '../tests/browser/env.ts';
import { median } from '../src/util/stats.ts';
import { matmulsOnly, trigAsNeg, feedsFor } from './bench-graphs.ts';
import type { Tasks, Where } from './bench-web-tasks.ts';

const CONFIG: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 256, depth: 6, omega: 30 }; // the paper's (REFERENCE.md)
const RES = 64;
const LR = 1e-4;
const WARMUP = 2;
const TASKS = `/@fs${REPO_ROOT}/scripts/bench-web-tasks.ts`;

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const iters = Number(arg('iters', '20'));
const gpuIters = Number(arg('gpu-iters', '8'));
const rounds = Number(arg('rounds', '15'));
const out = arg('out', join(REPO_ROOT, 'bench', 'web.md'));
for (const [k, v] of [
  ['iters', iters],
  ['gpu-iters', gpuIters],
  ['rounds', rounds],
] as const) {
  if (!Number.isInteger(v) || v <= WARMUP) {
    console.error(`strainer: --${k} must be an integer > ${WARMUP}`);
    process.exit(2);
  }
}
if (existsSync(out) && !process.argv.includes('--force')) {
  console.error(`strainer: ${out} exists (pass --force to overwrite)`);
  process.exit(2);
}

/** Calls a task of scripts/bench-web-tasks.ts in the page's benchmark Worker (arguments as JSON). */
async function task<K extends keyof Tasks>(
  page: Page,
  name: K,
  ...args: Parameters<Tasks[K]>
): Promise<Awaited<ReturnType<Tasks[K]>>> {
  return page.evaluate<Awaited<ReturnType<Tasks[K]>>>(
    `import(${JSON.stringify(TASKS)}).then((m) => m.inWorker(${JSON.stringify(name)}, ...${JSON.stringify(args)}))`,
  );
}

interface Row {
  runtime: string;
  backend: string;
  stepMs: number[];
  psnr: number;
}
const loadAtStart = loadavg()[0];
const img = mriSlice('test', 0, RES);
const rows: Row[] = [];
const threads = availableParallelism();

console.log(`node: ${iters} steps...`);
const n = await fit(img, { model: CONFIG, iters, lr: LR, seed: 0, backend: ortNodeBackend({ threads }) });
rows.push({ runtime: 'Node (onnxruntime-node)', backend: n.backend, stepMs: n.stepMs, psnr: n.psnr[iters - 1] });

// Node's side of the breakdown: the same three graphs on onnxruntime-node.
const step = trainStepProgram({ config: CONFIG, batch: RES * RES });
const nodeGraphs: { name: string; s: Session; feeds: Record<string, unknown> }[] = [];
const { prog: mmProg, flops: mmFlops } = matmulsOnly(step);
for (const [name, p] of [
  ['step', step],
  ['matmuls', mmProg],
  ['noTrig', trigAsNeg(step)],
] as const) {
  const s = await ortNodeBackend({ threads }).load(programToOnnx(p));
  nodeGraphs.push({
    name,
    s,
    feeds: Object.fromEntries(Object.entries(feedsFor(p, CONFIG, RES)).map(([k, v]) => [k, s.upload(v)])),
  });
}
const nodeMs: Record<string, number[]> = { step: [], matmuls: [], noTrig: [] };
const webMs: Record<string, number[]> = { step: [], matmuls: [], noTrig: [] };
const moreMs: Record<string, number[]> = { step: [], matmuls: [], noTrig: [] };

const web = await startWebServer({ port: 0, modelsDir: join(REPO_ROOT, 'models') });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
let adapter: string;
let wasmWhere: Where | null, moreWhere: Where | null;
const chromiumVersion = browser.version();
try {
  // Page A: the library's defaults. Page B: wasm with the other thread count (1, or one per core when
  // the default is 1), in its own Worker, so its own onnxruntime-web instance; for the breakdown only.
  const [page, pageB] = await Promise.all(
    [0, 1].map(async () => {
      const p = await (await browser.newContext()).newPage();
      await p.goto(`${web.url}harness.html`);
      return p;
    }),
  );
  adapter = await page.evaluate(async () => {
    const a = await (
      navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }
    ).gpu?.requestAdapter();
    const i = a?.info ?? {};
    return a
      ? [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' / ') || 'unknown adapter'
      : 'none';
  });
  const plain = { width: img.width, height: img.height, channels: img.channels, data: Array.from(img.data) };
  console.log(`chromium wasm (worker): ${iters} steps...`);
  const rw = await task(page, 'fit', plain, CONFIG, iters, LR, 'wasm');
  wasmWhere = rw;
  rows.push({
    runtime: `Chromium ${chromiumVersion} (onnxruntime-web, worker)`,
    backend: rw.backend,
    stepMs: rw.stepMs,
    psnr: rw.psnr[rw.psnr.length - 1],
  });

  console.log(
    `breakdown: ${rounds} rounds; Node, Chromium wasm (default threads), Chromium wasm (other thread count) in turn...`,
  );
  await task(page, 'loadBreakdown', CONFIG, RES);
  moreWhere = await task(pageB, 'loadBreakdown', CONFIG, RES, wasmWhere.wasmThreads > 1 ? 1 : threads);
  // A pause before each runtime's turn: onnxruntime-web's wasm threads busy-wait for a while after a
  // run, which would otherwise steal the cores from the next runtime's run.
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < rounds; i++) {
    await settle();
    for (const g of nodeGraphs) {
      const t0 = performance.now();
      await g.s.run(g.feeds);
      nodeMs[g.name].push(performance.now() - t0);
    }
    await settle();
    const w = await task(page, 'round');
    for (const k of Object.keys(webMs)) webMs[k].push(w[k]);
    await settle();
    const w2 = await task(pageB, 'round');
    for (const k of Object.keys(moreMs)) moreMs[k].push(w2[k]);
  }
  await task(page, 'release');
  await task(pageB, 'release');
  await pageB.close();

  // WebGPU last: on a software adapter its shader work keeps the cores busy for a while.
  console.log(`chromium webgpu (worker): ${gpuIters} steps...`);
  const rg = await task(page, 'fit', plain, CONFIG, gpuIters, LR, 'webgpu');
  rows.push({
    runtime: `Chromium ${chromiumVersion} (onnxruntime-web, worker)`,
    backend: rg.backend,
    stepMs: rg.stepMs,
    psnr: rg.psnr[rg.psnr.length - 1],
  });
} finally {
  await browser.close();
  await web.close();
  for (const g of nodeGraphs) await g.s.release();
}
const loadAtEnd = loadavg()[0];

// Medians after the first round (session warm-up); Sin/Cos and "the rest" from per-round differences.
const tail = (xs: number[]): number[] => xs.slice(1);
const parts = (m: Record<string, number[]>) => {
  const s = tail(m.step),
    mm = tail(m.matmuls),
    nt = tail(m.noTrig);
  return {
    step: median(s),
    matmuls: median(mm),
    trig: median(s.map((x, i) => x - nt[i])),
    rest: median(nt.map((x, i) => x - mm[i])),
  };
};
const pn = parts(nodeMs),
  pw = parts(webMs),
  p2 = parts(moreMs);
const it = (r: Row): number => median(r.stepMs.slice(WARMUP));
const gap = it(rows[1]) / it(rows[0]);
const cpu = (() => {
  try {
    return /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1].trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
const pkg = (p: string): string =>
  (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
const ms = (x: number): string => x.toFixed(1);
const lines = [
  '# Browser benchmark: iterations per second of one fit',
  '',
  `Fit: ${RES}x${RES} MRI slice (ch2bet, held-out test slice), SIREN width ${CONFIG.width} depth ${CONFIG.depth}, full image (${RES * RES} coordinates) per step, Adam lr ${LR}, ${iters} steps (WebGPU: ${gpuIters}), all in one run of \`npm run bench:web\` (${new Date().toISOString().slice(0, 10)}). In Chromium the fit runs in a dedicated Worker, as the demo page runs it.`,
  `it/s = 1000 / median step time over the steps after the first ${WARMUP}; those ${WARMUP} steps (session creation, shader compilation) are listed apart. A step includes downloading the loss.`,
  '',
  '| runtime | backend | steps | first step (ms) | median step (ms) | it/s | PSNR before last step (dB) |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.runtime} | ${r.backend} | ${r.stepMs.length} | ${r.stepMs[0].toFixed(0)} | ${it(r).toFixed(1)} | ${(1000 / it(r)).toFixed(2)} | ${r.psnr.toFixed(2)} |`,
  ),
  '',
  `Chromium wasm / Node: **${gap.toFixed(2)}x** the step time (goal, issue 11: at most 2.5x).`,
  '',
  "## Where the wasm step's time goes",
  '',
  `The same ${RES}x${RES} train step as a bare session run (no fit loop), its matrix products alone, and the step with its Sin/Cos`,
  `replaced by Neg (timing only); Node and Chromium (worker, wasm) take turns, ${rounds} rounds, medians after the first; Sin/Cos and`,
  '"the rest" are medians of per-round differences.',
  '',
  `| part of the step | Node, onnxruntime-node, ${threads} threads (ms) | Chromium wasm, ${wasmWhere?.wasmThreads ?? '?'} thread(s), the default (ms) | Chromium / Node | Chromium wasm, ${moreWhere?.wasmThreads ?? '?'} thread(s) (ms) |`,
  '|---|---:|---:|---:|---:|',
  ...(
    [
      ['whole train step', 'step'],
      ['its MatMul/Gemm alone', 'matmuls'],
      ['Sin/Cos (step minus step with Sin/Cos as Neg)', 'trig'],
      ['the rest (element-wise, Adam, copies in and out)', 'rest'],
    ] as const
  ).map(([label, k]) => `| ${label} | ${ms(pn[k])} | ${ms(pw[k])} | ${(pw[k] / pn[k]).toFixed(2)}x | ${ms(p2[k])} |`),
  '',
  `MatMul throughput: Node ${(mmFlops / pn.matmuls / 1e6).toFixed(1)} GFLOP/s, Chromium wasm ${(mmFlops / pw.matmuls / 1e6).toFixed(1)} GFLOP/s (default threads), ${(mmFlops / p2.matmuls / 1e6).toFixed(1)} GFLOP/s (${moreWhere?.wasmThreads ?? '?'} thread(s)); ${(mmFlops / 1e9).toFixed(2)} GFLOP per step.`,
  '',
  `The gap by part: the matrix products alone ${(pw.matmuls / pn.matmuls).toFixed(2)}x (onnxruntime's native kernels use AVX-512 where the CPU has it, its wasm build 128-bit SIMD), Sin/Cos ${(pw.trig / pn.trig).toFixed(2)}x (one thread in both), the bare step ${(pw.step / pn.step).toFixed(2)}x. ` +
    'Measured and not kept (issue 11): the session option intra_op.allow_spinning=0 (no effect: the wasm thread pool is global), the plain `onnxruntime-web/wasm` build instead of the `onnxruntime-web/webgpu` one (0-4 % faster on wasm, not worth a second 14 MB wasm binary), 1 wasm thread instead of one per core (the last column; faster only when other work holds the cores). Kept: the fit runs in a Worker with one wasm thread per core, the page cross-origin isolated, graph optimisation "all".',
  '',
  '## Machine',
  '',
  `- CPU: ${cpu}, ${threads} cores available; ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; no GPU; load average ${loadAtStart.toFixed(1)} at the start, ${loadAtEnd.toFixed(1)} at the end (other work shares the machine: compare rows of one run, not runs)`,
  `- WebGPU adapter: ${adapter} (Chromium's software adapter when the machine has no GPU: correct, slow)`,
  `- Node ${process.versions.node}, onnxruntime-node ${pkg('onnxruntime-node')} (${threads} threads), onnxruntime-web ${pkg('onnxruntime-web')} (onnxruntime-web/webgpu build, SIMD; wasm: ${wasmWhere?.wasmThreads ?? '?'} thread(s) in use, page ${wasmWhere?.isolated ? 'cross-origin isolated' : 'NOT cross-origin isolated'}), Chromium ${chromiumVersion} headless with --enable-unsafe-webgpu`,
  '',
  'Regenerate: `npm run bench:web -- --force` (takes a few minutes on 2 cores; run it alone).',
  '',
];
writeFileAtomic(out, lines.join('\n'));
console.log(lines.join('\n'));
