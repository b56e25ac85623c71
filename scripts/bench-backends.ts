// `npm run bench:backends`: one fit step (SIREN width 256, depth 6, full image, Adam; the paper's
// recipe) at 64x64 and 178x178 on every backend in one run: Node on onnxruntime-node's CPU and WebGPU
// providers, Chromium on onnxruntime-web's wasm and WebGPU. Step time, it/s, the adapter each used
// (software adapters labelled: SwiftShader stands in where the machine has no GPU) and the bytes a
// step moves between host and runtime. Writes bench/backends.md and its JSON twin bench/backends.json.
//   npm run bench:backends [-- --steps 12 --software-steps 1 --res 64,178 --out bench/backends.md --force]
// Warm-up steps (session creation, shader compilation) are reported apart. A software adapter takes
// tens of seconds per step at 178x178, so it runs `--software-steps` timed steps after one warm-up.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';
import { fit } from '../src/train/fit.ts';
import { metered } from '../tests/browser/fixtures.ts';
import { ortNodeBackend, type NodeEp } from '../src/runtime/ort-node.ts';
import { adapterKind, hostFacts } from '../src/node/backend.ts';
import type { InrConfig } from '../src/model/config.ts';
import type { Transfer } from '../src/train/trainer.ts';
import { writeFileAtomic } from '../src/node/fs.ts';
import { median } from '../src/util/stats.ts';
import { startWebServer, REPO_ROOT } from '../web/server.ts';
import { mriSlice, LAUNCH_ARGS, CHROMIUM, callHarness, tempModelsDir } from '../tests/browser/env.ts';
import { webgpuEnv } from '../tests/webgpu/env.ts';

const CONFIG: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 256, depth: 6, omega: 30 }; // the paper's (REFERENCE.md)
const LR = 1e-4;

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const fail = (m: string): never => {
  console.error(`strainer: ${m}`);
  process.exit(2);
};
const steps = Number(arg('steps', '12'));
const softwareSteps = Number(arg('software-steps', '1'));
const resList = arg('res', '64,178').split(',').map(Number);
const out = arg('out', join(REPO_ROOT, 'bench', 'backends.md'));
if (!Number.isInteger(steps) || steps < 3) fail('--steps must be an integer >= 3 (2 warm-up steps + at least 1 timed)');
if (!Number.isInteger(softwareSteps) || softwareSteps < 1) fail('--software-steps must be an integer >= 1');
if (resList.some((r) => !Number.isInteger(r) || r < 2 || r > 1024))
  fail('--res must be a comma-separated list of sizes between 2 and 1024');
if (existsSync(out) && !process.argv.includes('--force')) fail(`${out} exists (pass --force to overwrite)`);
const jsonOut = out.replace(/\.md$/, '') + '.json';

interface Row {
  runtime: string;
  backend: string;
  adapter: string;
  software: boolean | null;
  res: number;
  warmup: number;
  stepMs: number[];
  /** PSNR before update 1, i.e. after one step: the same on every backend */ psnr1: number;
  perStep: Transfer;
  setup: Transfer;
}
/** Warm-up steps and the total: two warm-ups normally, one on a software adapter (slow). */
const plan = (software: boolean): { warmup: number; iters: number } =>
  software ? { warmup: 1, iters: 1 + softwareSteps } : { warmup: 2, iters: steps };
const timed = (r: Row): number[] => r.stepMs.slice(r.warmup);
/** The largest per-step transfer over the timed steps (they are all equal when the state stays put). */
const worst = (ts: Transfer[]): Transfer => ({
  uploaded: Math.max(...ts.map((t) => t.uploaded)),
  downloaded: Math.max(...ts.map((t) => t.downloaded)),
});

const T0 = performance.now();
const loadAtStart = loadavg()[0];
const threads = availableParallelism();
const cpu = (() => {
  try {
    return /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1].trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
const rows: Row[] = [];

// ---- Node ----
const machineGpu = adapterKind(hostFacts()); // before webgpuEnv() points this process at SwiftShader
const gpuEnv = await webgpuEnv();
const nodeAdapter = adapterKind(hostFacts());
const nodeEps: NodeEp[] = gpuEnv.ready ? ['cpu', 'webgpu'] : ['cpu'];
if (!gpuEnv.ready) console.warn(`Node webgpu skipped: ${gpuEnv.why}`);
for (const ep of nodeEps) {
  for (const res of resList) {
    const software = ep === 'webgpu' ? !nodeAdapter.hardware : false;
    const { warmup, iters } = plan(software);
    console.log(`node ${ep} ${res}x${res}: ${iters} steps...`);
    const img = mriSlice('test', 0, res);
    const perStep: Transfer[] = [];
    const m: Transfer = { uploaded: 0, downloaded: 0 };
    let setup: Transfer = { uploaded: 0, downloaded: 0 },
      seen: Transfer = { ...m };
    const r = await fit(img, {
      model: CONFIG,
      iters,
      lr: LR,
      seed: 0,
      backend: metered(ortNodeBackend({ executionProvider: ep, threads }), m),
      onStart: () => {
        setup = { ...m };
        seen = { ...m };
      },
      onStep: () => {
        perStep.push({ uploaded: m.uploaded - seen.uploaded, downloaded: m.downloaded - seen.downloaded });
        seen = { ...m };
      },
    });
    rows.push({
      runtime: 'Node',
      backend: r.backend,
      res,
      warmup,
      stepMs: r.stepMs,
      psnr1: r.psnr[1],
      perStep: worst(perStep.slice(warmup)),
      setup,
      adapter:
        ep === 'cpu'
          ? `CPU (${cpu}, ${threads} threads)`
          : software
            ? `Vulkan driver ${basename(gpuEnv.icd ?? 'unknown')} (Dawn)`
            : nodeAdapter.detail,
      software: ep === 'cpu' ? null : software,
    });
  }
}

// ---- Chromium ----
const modelsDir = tempModelsDir();
const web = await startWebServer({ port: 0, modelsDir });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
const chromiumVersion = browser.version();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${web.url}harness.html`);
  const decision = await callHarness<{ software?: boolean; error?: string }>(page, 'providerDecision', 'webgpu');
  const providers = decision.error ? (['wasm'] as const) : (['wasm', 'webgpu'] as const);
  if (decision.error) console.warn(`Chromium webgpu skipped: ${decision.error}`);
  for (const provider of providers) {
    for (const res of resList) {
      const { warmup, iters } = plan(provider === 'webgpu' && decision.software === true);
      console.log(`chromium ${provider} ${res}x${res}: ${iters} steps...`);
      const img = mriSlice('test', 0, res);
      const plain = { width: img.width, height: img.height, channels: img.channels, data: Array.from(img.data) };
      const r = await callHarness<{
        backend: string;
        stepMs: number[];
        psnr: number[];
        steps: Transfer[];
        setup: Transfer;
        adapter: string;
        software: boolean | null;
      }>(page, 'benchSteps', plain, CONFIG, iters, LR, provider);
      rows.push({
        runtime: `Chromium ${chromiumVersion}`,
        backend: r.backend,
        adapter: r.adapter,
        software: r.software,
        res,
        warmup,
        stepMs: r.stepMs,
        psnr1: r.psnr[1],
        perStep: worst(r.steps.slice(warmup)),
        setup: r.setup,
      });
    }
  }
} finally {
  await browser.close();
  await web.close();
  rmSync(modelsDir, { recursive: true, force: true });
}

// ---- Report ----
const pkg = (p: string): string =>
  (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
const date = new Date().toISOString().slice(0, 10);
const fmtBytes = (t: Transfer): string => `${t.uploaded} / ${t.downloaded}`;
const label = (r: Row): string => (r.software === true ? `${r.adapter} — **software**` : r.adapter);
const med = (r: Row): number => median(timed(r));
const lines = [
  '# Every backend: one fit step',
  '',
  `Step: SIREN width ${CONFIG.width}, depth ${CONFIG.depth}, omega ${CONFIG.omega}, full image per step, Adam lr ${LR} (the paper's recipe), on a held-out slice of the bundled MRI volume; all rows from one run of \`npm run bench:backends\` (${date}).`,
  'it/s = 1000 / median step time over the timed steps; the warm-up steps (session creation, shader compilation) are apart. A step includes downloading its loss. A software adapter runs one warm-up and one timed step (`--software-steps`).',
  'bytes/step: bytes the step loop moved host -> runtime / runtime -> host in each timed step (Trainer.lastStep); the state (weights, Adam moments) stays in the runtime, so only the loss (4 bytes) comes back. On a CPU runtime the "runtime" is host memory.',
  '',
  '| size | runtime | backend | adapter | warm-up + timed steps | first step (ms) | median step (ms) | it/s | bytes/step up / down | PSNR after step 1 (dB) |',
  '|---|---|---|---|---:|---:|---:|---:|---:|---:|',
  ...resList.flatMap((res) =>
    rows
      .filter((r) => r.res === res)
      .map(
        (r) =>
          `| ${res}x${res} | ${r.runtime} | ${r.backend} | ${label(r)} | ${r.warmup} + ${timed(r).length} | ${r.stepMs[0].toFixed(0)} | ${med(r).toFixed(1)} | ${(1000 / med(r)).toFixed(r.software ? 3 : 2)} | ${fmtBytes(r.perStep)} | ${r.psnr1.toFixed(3)} |`,
      ),
  ),
  '',
  `Before the first step each run uploads its state, learning rate and batch once (${resList.map((res) => `${res}x${res}: ${(rows.find((r) => r.res === res)?.setup.uploaded ?? 0).toLocaleString('en-US')} bytes`).join('; ')}).`,
  '',
  '## Machine',
  '',
  `- CPU: ${cpu}, ${threads} cores available; ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; ${machineGpu.hardware ? machineGpu.detail : `no GPU (${machineGpu.detail})`}; load average ${loadAtStart.toFixed(1)} at the start (other work may share the machine: compare rows of one run)`,
  `- Node ${process.versions.node}, onnxruntime-node ${pkg('onnxruntime-node')} (${threads} threads; WebGPU through its bundled Dawn${gpuEnv.icd ? `, Vulkan ICD ${gpuEnv.icd}` : ''}), onnxruntime-web ${pkg('onnxruntime-web')}, Chromium ${chromiumVersion} headless with --enable-unsafe-webgpu (page cross-origin isolated)`,
  '',
  `Regenerate: \`npm run bench:backends -- --force\` (run it alone; without a GPU the software adapters make it long: ${((performance.now() - T0) / 60_000).toFixed(0)} minutes for this table). On a GPU machine: \`bash scripts/gpu-check.sh\`.`,
  '',
];
const json = {
  date,
  machine: {
    cpu,
    threads,
    ram_gib: +(totalmem() / 2 ** 30).toFixed(1),
    load_at_start: +loadAtStart.toFixed(2),
    gpu: machineGpu,
  },
  versions: {
    node: process.versions.node,
    onnxruntime_node: pkg('onnxruntime-node'),
    onnxruntime_web: pkg('onnxruntime-web'),
    chromium: chromiumVersion,
  },
  config: CONFIG,
  lr: LR,
  rows: rows.map((r) => ({
    res: r.res,
    runtime: r.runtime,
    backend: r.backend,
    adapter: r.adapter,
    software: r.software,
    warmup: r.warmup,
    step_ms: r.stepMs.map((x) => +x.toFixed(2)),
    median_ms: +med(r).toFixed(2),
    it_per_s: +(1000 / med(r)).toFixed(4),
    bytes_per_step: r.perStep,
    setup_bytes: r.setup,
    psnr_after_step_1: +r.psnr1.toFixed(4),
  })),
};
writeFileAtomic(out, lines.join('\n'));
writeFileAtomic(jsonOut, JSON.stringify(json, null, 1) + '\n');
console.log(lines.join('\n'));
console.log(`wrote ${out} and ${jsonOut}`);
