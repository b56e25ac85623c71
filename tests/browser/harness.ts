// Page side of the browser tests: loaded into web/harness.html through the Vite dev server and called
// with page.evaluate. Everything here runs in Chromium; results go back as plain JSON.
import type { InrConfig } from '../../src/model/config.ts';
import { programToOnnx } from '../../src/onnx/write.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import { trainStepProgram, stateKeys, stateNames } from '../../src/train/programs.ts';
import {
  ortWebBackend,
  decideProvider,
  webgpuAdapter,
  type WebProvider,
  type ProviderChoice,
} from '../../src/runtime/ort-web.ts';
import { stepFeeds, countingBackend, metered } from './fixtures.ts';
import { fit } from '../../src/web/fit.ts';
import { loadPriorFromUrl } from '../../src/web/prior.ts';
import type { Image } from '../../src/data/image.ts';

import type { Transfer } from '../../src/train/trainer.ts';
import { FitWorker } from '../../src/web/client.ts';
import type { FitRequest, RunSummary } from '../../src/web/protocol.ts';

export interface StepResult {
  backend: string;
  modelSha: string;
  outputs: Record<string, number[]>;
  onDevice: string[];
}

/** One train step built in the browser and run on `provider`; every output downloaded. */
export async function runStep(
  c: InrConfig,
  h: number,
  w: number,
  seed: number,
  provider: WebProvider,
): Promise<StepResult> {
  const model = programToOnnx(trainStepProgram({ config: c, batch: h * w }));
  const be = ortWebBackend(provider);
  const onDevice = stateKeys(c).map(stateNames.next);
  const s = await be.load(model, { outputsOnDevice: onDevice });
  const feeds = Object.fromEntries(Object.entries(stepFeeds(c, h, w, seed)).map(([k, v]) => [k, s.upload(v)]));
  const out = await s.run(feeds);
  const outputs: Record<string, number[]> = {};
  const located: string[] = [];
  for (const k of s.outputNames) {
    const v = out[k] as { location?: string };
    if (v.location === 'gpu-buffer') located.push(k);
    outputs[k] = Array.from((await s.download(out[k])).data);
    s.dispose(out[k]);
  }
  for (const v of Object.values(feeds)) s.dispose(v);
  await s.release();
  return { backend: s.backend, modelSha: await sha256Hex(model), outputs, onDevice: located };
}

export interface PlainImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: number[];
}
export interface FitSummary {
  backend: string;
  psnr: number[];
  finalPsnr: number;
  prior: string | null;
  fromCache: string[];
}

/** The library's fit() on an image, from the prior at `priorUrl` (or a random SIREN of the same size),
 *  by the paper's recipe (the whole image every step: the curves these tests compare). */
export async function fitImage(
  img: PlainImage,
  priorUrl: string | null,
  iters: number,
  lr: number,
  provider: ProviderChoice,
  config?: Partial<InrConfig>,
  optimizer?: 'adam' | 'sgd',
): Promise<FitSummary> {
  const prior = priorUrl ? await loadPriorFromUrl(priorUrl) : null;
  const image: Image = { ...img, data: Float32Array.from(img.data) };
  const r = await fit(image, {
    prior,
    iters,
    lr,
    backend: provider,
    seed: 5,
    model: config,
    optimizer,
    recipe: 'paper',
  });
  return {
    backend: r.backend,
    psnr: r.psnr,
    finalPsnr: r.finalPsnr,
    prior: r.plan.prior,
    fromCache: prior?.fromCache ?? [],
  };
}

/** A meta-learned prior as the web loader reads it: method, recipe and the decoder's values. */
export async function metaPriorOf(url: string): Promise<{ method?: string; meta?: unknown; decoder: number[] }> {
  const p = await loadPriorFromUrl(url);
  return {
    method: p.method,
    meta: p.meta,
    decoder: Array.from(p.decoder?.['decoder.weight'] ?? []),
  };
}

/** Loads a prior; returns its name and cached files, or the error message. */
export async function tryLoadPrior(url: string): Promise<{ name?: string; fromCache?: string[]; error?: string }> {
  try {
    const p = await loadPriorFromUrl(url);
    return { name: p.name, fromCache: p.fromCache };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Per-step wall times of a fit (no previews), for scripts/bench-web.ts. */
export async function benchFit(
  img: PlainImage,
  config: Partial<InrConfig>,
  iters: number,
  lr: number,
  provider: WebProvider,
): Promise<{ backend: string; stepMs: number[]; psnr: number[] }> {
  const stepMs: number[] = [];
  const r = await fit(
    { ...img, data: Float32Array.from(img.data) },
    {
      iters,
      lr,
      recipe: 'paper', // the full image every step: the step these benchmarks time
      backend: provider,
      seed: 0,
      model: config,
      onStep: (s) => {
        stepMs.push(s.ms);
      },
    },
  );
  return { backend: r.backend, stepMs, psnr: r.psnr };
}

/** Per-step wall times and bytes moved of the shared step loop on one provider, for scripts/bench-backends.ts. */
export async function benchSteps(
  img: PlainImage,
  config: InrConfig,
  iters: number,
  lr: number,
  provider: WebProvider,
): Promise<{
  backend: string;
  stepMs: number[];
  psnr: number[];
  steps: Transfer[];
  setup: Transfer;
  adapter: string;
  software: boolean | null;
}> {
  const steps: Transfer[] = [];
  const m: Transfer = { uploaded: 0, downloaded: 0 };
  let setup: Transfer = { uploaded: 0, downloaded: 0 },
    seen: Transfer = { ...m };
  const r = await fit(
    { ...img, data: Float32Array.from(img.data) },
    {
      model: config,
      iters,
      lr,
      recipe: 'paper',
      seed: 0,
      backend: metered(ortWebBackend(provider), m),
      onStart: () => {
        setup = { ...m };
        seen = { ...m };
      },
      onStep: () => {
        steps.push({ uploaded: m.uploaded - seen.uploaded, downloaded: m.downloaded - seen.downloaded });
        seen = { ...m };
      },
    },
  );
  const a = provider === 'webgpu' ? await webgpuAdapter() : null;
  return {
    backend: r.backend,
    stepMs: r.stepMs,
    psnr: r.psnr,
    steps,
    setup,
    adapter: a?.label ?? `CPU (wasm, ${navigator.hardwareConcurrency} logical cores)`,
    software: a ? a.software : null,
  };
}

/** The library's provider decision for a Backend menu value, or its error message. */
export async function providerDecision(
  choice: ProviderChoice,
): Promise<{ provider?: string; reason?: string; software?: boolean; error?: string }> {
  try {
    const d = await decideProvider(choice);
    return { provider: d.provider, reason: d.reason, ...(d.adapter ? { software: d.adapter.software } : {}) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** What WebGPU adapter this browser exposes (SwiftShader on a machine without a GPU). */
export async function adapterInfo(): Promise<string> {
  const gpu = (
    navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }
  ).gpu;
  const a = await gpu?.requestAdapter();
  if (!a) return 'none';
  const i = a.info ?? {};
  return [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' / ') || 'unknown adapter';
}

/** Counts the runtime values a fit creates (uploads, run outputs) and disposes, to show memory stays
 *  flat: the peak must not grow with the step count and nothing may be left at the end. */
export async function liveValues(
  img: PlainImage,
  iters: number,
  provider: WebProvider,
  config: Partial<InrConfig>,
): Promise<{ peak: number; left: number; created: number }> {
  const stats = { live: 0, peak: 0, created: 0 };
  const bump = (d: number): void => {
    stats.live += d;
    if (d > 0) stats.created += d;
    stats.peak = Math.max(stats.peak, stats.live);
  };
  const counting = countingBackend(ortWebBackend(provider), bump);
  await fit(
    { ...img, data: Float32Array.from(img.data) },
    { iters, lr: 1e-3, backend: counting, model: config, previewEvery: 2, onPreview: () => {} },
  );
  return { peak: stats.peak, left: stats.live, created: stats.created };
}

/** The README's clip example through the strainer/web entry: a WAV fetched as a Blob, decoded, brought to
 *  the prior's rate, fitted, and made a Web Audio buffer; plus the clip resampled to twice its rate. */
export async function fitClipFromUrl(
  clipUrl: string,
  priorUrl: string,
  iters: number,
): Promise<{
  frames: number;
  rate: number;
  finalPsnr: number;
  backend: string;
  bufferSeconds: number;
  upFrames: number;
  outputDims: number[];
}> {
  const web = await import('../../src/web/index.ts');
  const blob = await (await fetch(clipUrl)).blob();
  const prior = await web.loadPriorFromUrl(priorUrl);
  const clip = await web.resampleClip(await web.decodeWav(blob, clipUrl), prior.rate ?? 8000);
  // The paper recipe: `iters` full-clip steps (the fast recipe's steps are cheaper and do less each).
  const r = await web.fit(clip.signal, { prior, rate: clip.rate, recipe: 'paper', iters, backend: 'wasm' });
  const buf = web.toAudioBuffer(new OfflineAudioContext(1, 1, clip.rate), r.output, clip.rate);
  const up = await web.resampleClip(clip, 2 * clip.rate);
  return {
    frames: clip.signal.dims[0],
    rate: clip.rate,
    finalPsnr: r.finalPsnr,
    backend: r.backend,
    bufferSeconds: buf.duration,
    upFrames: up.signal.dims[0],
    outputDims: r.output.dims,
  };
}

/** One fit through the library's fit worker (web/worker.ts, as the demo runs it), for
 *  scripts/bench-ttq-web.ts: the step events that carry a whole-signal PSNR, the step count, the
 *  summary, and the wall time from the request to its end. One worker per page, reused. */
export async function fitInWorker(
  img: PlainImage,
  req: Omit<FitRequest, 'image' | 'signal' | 'label'>,
): Promise<{
  wholes: { it: number; whole: number; seconds: number }[];
  steps: number;
  lastSeconds: number;
  summary: RunSummary;
  wallSeconds: number;
  isolated: boolean;
}> {
  fitWorker ??= new FitWorker(
    new Worker(new URL('../../web/worker.ts', import.meta.url), { type: 'module', name: 'strainer-fit' }),
  );
  const wholes: { it: number; whole: number; seconds: number }[] = [];
  let steps = 0,
    lastSeconds = 0;
  const t0 = performance.now();
  const job = fitWorker.fit(
    { ...req, image: { ...img, data: Float32Array.from(img.data) }, label: 'bench' },
    {
      onStep: (e) => {
        steps++;
        lastSeconds = e.seconds;
        if (e.whole !== undefined) wholes.push({ it: e.it, whole: e.whole, seconds: e.seconds });
      },
    },
  );
  const summary = await job.done;
  return {
    wholes,
    steps,
    lastSeconds,
    summary,
    wallSeconds: (performance.now() - t0) / 1000,
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  };
}
let fitWorker: FitWorker | null = null;
