// fit() for web apps: fits an INR to an image on onnxruntime-web (WebGPU or wasm), optionally
// starting from a STRAINER prior (encoder <- prior, decoder <- fresh init, all parameters trained:
// the paper's test-time protocol). Builds its graphs in the page with the shared core; drives them
// with the shared Trainer; renders live previews through a forward graph whose weights are inputs,
// so no new graph is compiled per preview. Runs on whichever thread calls it (the demo: a Worker).
import type { Backend } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import { autoBackend, type ProviderChoice } from '../runtime/ort-web.ts';
import { PAPER_CONFIG, validateConfig, type InrConfig } from '../model/config.ts';
import { forward, paramSpecs, type Params } from '../model/inr.ts';
import * as B from '../graph/builder.ts';
import type { Node, Program } from '../graph/ir.ts';
import { programToOnnx } from '../export/onnx-write.ts';
import { trainStepProgram } from '../train/programs.ts';
import { Trainer, initialState } from '../train/trainer.ts';
import { startParams } from '../train/fit.ts';
import { priorInit, type Prior } from '../train/prior.ts';
import { gridCoords, psnrFromMse, toTargetRange, fromTargetRange, type TargetRange } from '../train/grid.ts';
import { UserError } from '../util/errors.ts';
import { psnrBetween } from '../util/stats.ts';
import { checkImage, type Image } from './image.ts';

export interface StepInfo { it: number; iters: number; psnr: number; loss: number; ms: number; itPerSec: number }

export interface WebFitOptions {
  /** Start from this prior's encoder; null/undefined = a randomly initialised SIREN. */
  prior?: Prior | null;
  /** Model when there is no prior (default: the paper's SIREN, width 256, depth 6, omega 30). */
  config?: Partial<Omit<InrConfig, 'outDim'>>;
  /** Iterations (default 300). */
  iters?: number;
  /** Adam learning rate (default 1e-4, the paper's; REFERENCE.md). */
  lr?: number;
  seed?: number;
  /** 'auto' (WebGPU, else wasm), 'webgpu', 'wasm', or any Backend. */
  backend?: ProviderChoice | Backend;
  /** Target range; default the prior's, else [0,1]. */
  range?: TargetRange;
  /** Once the model is compiled and loaded, before the first step. */
  onStart?: (info: { backend: string; config: InrConfig }) => void;
  /** After every step; return false to stop early. */
  onStep?: (s: StepInfo) => void | boolean | Promise<void | boolean>;
  /** Render the current model every this many steps (and at the end) into onPreview. */
  previewEvery?: number;
  onPreview?: (img: Image, it: number) => void | Promise<void>;
  /** Aborting stops after the current step; the result holds what was reached. */
  signal?: AbortSignal;
}

export interface WebFitResult {
  config: InrConfig;
  range: TargetRange;
  params: Params;
  /** PSNR (dB, [0,1] scale) measured before update i. */
  psnr: number[];
  /** PSNR of the final rendered reconstruction. */
  finalPsnr: number;
  output: Image;
  backend: string;
  iters: number;
  lr: number;
  itPerSec: number;
  stopped: boolean;
  prior: string | null;
}

/** coords [rows, inDim] + every parameter as an input -> output [rows, outDim]. */
export function forwardProgram(c: InrConfig, rows: number): Program {
  const params: Record<string, Node> = {};
  for (const s of paramSpecs(c)) params[s.name] = B.input(s.name, s.shape);
  const coords = B.input('coords', [rows, c.inDim]);
  return {
    name: 'forward',
    inputs: [...paramSpecs(c).map((s) => params[s.name] as Node<'input'>), coords as Node<'input'>],
    outputs: { output: forward(c, params, coords) },
    doc: `strainer ${c.kind} forward with weights as inputs (live previews)`,
  };
}

/** Lets queued messages (a Stop click) run between steps; MessageChannel avoids setTimeout's clamping. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(0);
  });
}

export async function resolveBackend(b: WebFitOptions['backend']): Promise<Backend> {
  if (b !== undefined && typeof b === 'object') return b;
  return (await autoBackend({ provider: b ?? 'auto' })).backend;
}

/** The model config for `image` given the options (prior's architecture, or the requested SIREN). */
export function fitConfig(image: Image, o: WebFitOptions): InrConfig {
  const base = o.prior ? o.prior.config : { ...PAPER_CONFIG, ...o.config };
  return validateConfig({ ...base, outDim: image.channels } as InrConfig);
}

export async function fit(image: Image, o: WebFitOptions = {}): Promise<WebFitResult> {
  checkImage(image);
  const iters = o.iters ?? 300;
  const lr = o.lr ?? 1e-4;
  if (!Number.isInteger(iters) || iters < 1) throw new UserError(`iterations must be a positive integer, got ${iters}`);
  if (!(lr > 0 && lr < 1)) throw new UserError(`learning rate must be in (0, 1), got ${lr}`);
  const c = fitConfig(image, o);
  const range = o.range ?? o.prior?.range ?? 'unit';
  const rows = image.width * image.height;
  const backend = await resolveBackend(o.backend);
  const init = o.prior ? priorInit(o.prior, c) : undefined;
  const stepModel = programToOnnx(trainStepProgram({ config: c, batch: rows }));
  const trainer = await Trainer.create(backend, stepModel, c, initialState(c, startParams(c, o.seed ?? 0, init)), lr);
  const fwd = await backend.load(programToOnnx(forwardProgram(c, rows))).catch(async (e: unknown) => {
    await trainer.release();
    throw e;
  });
  const coords = hostTensor([rows, c.inDim], gridCoords(image.height, image.width));
  const coordsValue = fwd.upload(coords);
  const render = async (): Promise<{ img: Image; params: Params }> => {
    const params = await trainer.params(c);
    const feeds: Record<string, unknown> = { coords: coordsValue };
    for (const s of paramSpecs(c)) feeds[s.name] = fwd.upload(hostTensor(s.shape, params[s.name]));
    const out = await fwd.run(feeds);
    const data = fromTargetRange(Float32Array.from((await fwd.download(out.output)).data), range);
    fwd.dispose(out.output);
    for (const s of paramSpecs(c)) fwd.dispose(feeds[s.name]);
    return { img: { width: image.width, height: image.height, channels: image.channels, data }, params };
  };
  try {
    o.onStart?.({ backend: trainer.backend, config: c });
    trainer.setBatch(coords, hostTensor([rows, c.outDim], toTargetRange(image.data, range)));
    const psnr: number[] = [];
    let stopped = false;
    const t0 = performance.now();
    for (let it = 0; it < iters; it++) {
      if (o.signal?.aborted) { stopped = true; break; }
      const ts = performance.now();
      const { loss } = await trainer.step();
      const now = performance.now();
      psnr.push(psnrFromMse(loss, range));
      const info: StepInfo = { it, iters, psnr: psnr[it], loss, ms: now - ts, itPerSec: (it + 1) / ((now - t0) / 1000) };
      if (o.onStep && (await o.onStep(info)) === false) { stopped = it + 1 < iters; break; }
      if (o.onPreview && o.previewEvery && (it + 1) % o.previewEvery === 0 && it + 1 < iters) await o.onPreview((await render()).img, it + 1);
      await yieldToEventLoop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const { img, params } = await render();
    // A copy: the callback may keep or transfer it (the worker does), the result keeps the original.
    if (o.onPreview) await o.onPreview({ ...img, data: img.data.slice() }, psnr.length);
    return {
      config: c, range, params, psnr, finalPsnr: psnrBetween(img.data, image.data), output: img,
      backend: trainer.backend, iters: psnr.length, lr, itPerSec: psnr.length / Math.max(seconds, 1e-9), stopped,
      prior: o.prior?.name ?? null,
    };
  } finally {
    // Releasing cannot fail in a way the caller could act on (e.g. on a lost device); the error that
    // ended the fit, if any, is the one to report.
    fwd.dispose(coordsValue);
    await fwd.release().catch(() => {});
    await trainer.release().catch(() => {});
  }
}
