// fit() for web apps: fits an INR to an image on onnxruntime-web (WebGPU or wasm), optionally
// starting from a STRAINER prior (encoder <- prior, decoder <- fresh init, all parameters trained:
// the paper's test-time protocol). Builds its graphs in the page with the shared core and runs the
// shared step loop (fitSignal); renders live previews through the render graph whose weights are
// inputs, so no new graph is compiled per preview. Runs on whichever thread calls it (the demo: a Worker).
import type { Backend } from '../runtime/session.ts';
import { autoBackend, type ProviderChoice } from '../runtime/ort-web.ts';
import type { InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import { fitSignal } from '../train/fit.ts';
import type { State } from '../train/trainer.ts';
import type { Prior } from '../train/prior.ts';
import { resolveFit, type ModelOverrides, type ResolvedFit } from '../train/fit-config.ts';
import type { TargetRange } from '../train/grid.ts';
import { UserError } from '../util/errors.ts';
import { checkImage, type Image } from './image.ts';

export interface StepInfo { it: number; iters: number; psnr: number; loss: number; ms: number; itPerSec: number }

export interface WebFitOptions {
  /** Start from this prior's encoder; null/undefined = a randomly initialised SIREN. */
  prior?: Prior | null;
  /** Model when there is no prior (default: the paper's SIREN, width 256, depth 6, omega 30). */
  config?: ModelOverrides;
  /** Iterations (default 300). */
  iters?: number;
  /** Adam learning rate (default 1e-4, the paper's; REFERENCE.md). */
  lr?: number;
  /** Adam learning rate of the encoder layers (default `lr`); 0 keeps a prior's features fixed. */
  encoderLr?: number;
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
  /** Also return the whole train state (params and Adam moments), e.g. to download the fitted bundle. */
  keepState?: boolean;
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
  /** With keepState: the whole final train state. */
  state?: State;
}

/** Lets queued messages (a Stop click) run between steps; MessageChannel avoids setTimeout's clamping.
 *  One channel serves a whole fit; close() it at the end. */
function eventLoopYielder(): { yield(): Promise<void>; close(): void } {
  const ch = new MessageChannel();
  let wake: (() => void) | null = null;
  ch.port1.onmessage = () => { wake?.(); wake = null; };
  return {
    yield: () => new Promise<void>((resolve) => { wake = resolve; ch.port2.postMessage(0); }),
    close: () => { ch.port1.close(); ch.port2.close(); },
  };
}

async function resolveBackend(b: WebFitOptions['backend']): Promise<Backend> {
  if (b !== undefined && typeof b === 'object') return b;
  return (await autoBackend({ provider: b ?? 'auto' })).backend;
}

/** The model config for `image` given the options (prior's architecture, or the requested SIREN). */
export function fitConfig(image: Image, o: WebFitOptions): ResolvedFit {
  return resolveFit({ prior: o.prior, model: o.config, channels: image.channels, iters: o.iters, lr: o.lr, encoderLr: o.encoderLr, range: o.range });
}

export async function fit(image: Image, o: WebFitOptions = {}): Promise<WebFitResult> {
  checkImage(image);
  const { config: c, iters, lr, encoderLr, range, init } = fitConfig(image, o);
  const backend = await resolveBackend(o.backend);
  const asImage = (data: Float32Array): Image => ({ width: image.width, height: image.height, channels: image.channels, data });
  const pause = eventLoopYielder();
  try {
    let stopped = false, t0 = 0;
    const r = await fitSignal(image, {
      config: c, iters, lr, seed: o.seed ?? 0, backend, range, ...(init ? { init } : {}),
      ...(encoderLr !== undefined ? { encoderLr } : {}),
      keepState: o.keepState ?? false,
      onStart: (name) => {
        o.onStart?.({ backend: name, config: c });
        t0 = performance.now();
      },
      ...(o.onPreview && o.previewEvery ? { renderAt: (k: number) => k > 0 && k % o.previewEvery! === 0, onRender: (out: Float32Array, k: number) => o.onPreview!(asImage(out), k) } : {}),
      onStep: async (it, psnr, loss, ms) => {
        const info: StepInfo = { it, iters, psnr, loss, ms, itPerSec: (it + 1) / ((performance.now() - t0) / 1000) };
        if (o.onStep && (await o.onStep(info)) === false) { stopped = it + 1 < iters; return false; }
        await pause.yield();
        if (o.signal?.aborted && it + 1 < iters) { stopped = true; return false; }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const output = asImage(r.output);
    // A copy: the callback may keep or transfer it (the worker does), the result keeps the original.
    if (o.onPreview) await o.onPreview({ ...output, data: output.data.slice() }, r.psnr.length);
    return {
      config: c, range, params: r.params, psnr: r.psnr, finalPsnr: r.finalPsnr, output,
      backend: r.backend, iters: r.psnr.length, lr, itPerSec: r.psnr.length / Math.max(seconds, 1e-9), stopped,
      prior: o.prior?.name ?? null,
      ...(r.state ? { state: r.state } : {}),
    };
  } finally {
    pause.close();
  }
}
