// fit() for web apps: fits an INR to an image or any signal (a clip, a volume) on onnxruntime-web (WebGPU or wasm), optionally
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
import { isImage, sampleCount, type Signal } from '../data/signal.ts';

export interface StepInfo {
  it: number;
  iters: number;
  psnr: number;
  loss: number;
  ms: number;
  itPerSec: number;
}

/** What fit() takes: an Image (HWC), or any Signal (a clip [n], a volume [d, h, w]). */
export type FitTarget = Image | Signal;

export interface WebFitOptions<T extends FitTarget = Image> {
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
  /** Target range; default the prior's, else [0,1] ([-1, 1] for a clip). */
  range?: TargetRange;
  /** Samples per second of a clip: an audio prior refuses another rate (resampleClip converts). */
  rate?: number;
  /** Once the model is compiled and loaded, before the first step. */
  onStart?: (info: { backend: string; config: InrConfig }) => void;
  /** After every step; return false to stop early. */
  onStep?: (s: StepInfo) => void | boolean | Promise<void | boolean>;
  /** Render the current model every this many steps (and at the end) into onPreview. */
  previewEvery?: number;
  onPreview?: (output: T, it: number) => void | Promise<void>;
  /** Aborting stops after the current step; the result holds what was reached. */
  signal?: AbortSignal;
  /** Also return the whole train state (params and Adam moments), e.g. to download the fitted bundle. */
  keepState?: boolean;
}

export interface WebFitResult<T extends FitTarget = Image> {
  config: InrConfig;
  range: TargetRange;
  params: Params;
  /** PSNR (dB, [0,1] scale) measured before update i. */
  psnr: number[];
  /** PSNR of the final rendered reconstruction. */
  finalPsnr: number;
  /** The fitted signal on the input's grid, of the input's kind. */
  output: T;
  /** A clip's rate, and the lattice its samples sit on when it is not their own count (a prior's clip length). */
  rate?: number;
  lattice?: number[];
  /** Random coordinates per step, when the grid is larger than one step takes (MAX_STEP_ROWS). */
  batch?: number;
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
  ch.port1.onmessage = () => {
    wake?.();
    wake = null;
  };
  return {
    yield: () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        ch.port2.postMessage(0);
      }),
    close: () => {
      ch.port1.close();
      ch.port2.close();
    },
  };
}

async function resolveBackend(b: WebFitOptions['backend']): Promise<Backend> {
  if (b !== undefined && typeof b === 'object') return b;
  return (await autoBackend({ provider: b ?? 'auto' })).backend;
}

/** Checks a Signal handed to fit() by a web app. */
export function checkSignal(s: Signal): Signal {
  const ok =
    s &&
    Array.isArray(s.dims) &&
    s.dims.length >= 1 &&
    s.dims.length <= 3 &&
    s.dims.every((d) => Number.isInteger(d) && d > 0) &&
    Number.isInteger(s.channels) &&
    s.channels > 0 &&
    s.data instanceof Float32Array &&
    s.data.length === sampleCount(s.dims) * s.channels;
  if (!ok)
    throw new UserError(
      'fit() needs a Signal {dims: [n] | [h, w] | [d, h, w], channels, data: Float32Array, channel last, in [0,1]}; use decodeWav() for a clip',
    );
  return s;
}

/** The model config for `target` given the options (prior's architecture, or the default SIREN for its dimension). */
export function fitConfig(target: FitTarget, o: Omit<WebFitOptions<never>, 'onPreview'>): ResolvedFit {
  const grid = isImage(target) ? {} : { dims: target.dims, ...(o.rate !== undefined ? { rate: o.rate } : {}) };
  return resolveFit({
    prior: o.prior,
    model: o.config,
    channels: target.channels,
    iters: o.iters,
    lr: o.lr,
    encoderLr: o.encoderLr,
    range: o.range,
    ...grid,
  });
}

export async function fit<T extends FitTarget = Image>(target: T, o: WebFitOptions<T> = {}): Promise<WebFitResult<T>> {
  if (isImage(target)) checkImage(target);
  else checkSignal(target);
  const { config: c, iters, lr, encoderLr, range, init, batch, lattice } = fitConfig(target, o);
  const backend = await resolveBackend(o.backend);
  const like = (data: Float32Array): T =>
    (isImage(target)
      ? { width: target.width, height: target.height, channels: target.channels, data }
      : { dims: [...target.dims], channels: target.channels, data }) as T;
  const pause = eventLoopYielder();
  try {
    let stopped = false,
      t0 = 0;
    const r = await fitSignal(target, {
      config: c,
      iters,
      lr,
      seed: o.seed ?? 0,
      backend,
      range,
      ...(init ? { init } : {}),
      ...(batch ? { batch } : {}),
      ...(lattice ? { lattice } : {}),
      ...(encoderLr !== undefined ? { encoderLr } : {}),
      keepState: o.keepState ?? false,
      onStart: (name) => {
        o.onStart?.({ backend: name, config: c });
        t0 = performance.now();
      },
      ...(o.onPreview && o.previewEvery
        ? {
            renderAt: (k: number) => k > 0 && k % o.previewEvery! === 0,
            onRender: (out: Float32Array, k: number) => o.onPreview!(like(out), k),
          }
        : {}),
      onStep: async (it, psnr, loss, ms) => {
        const info: StepInfo = { it, iters, psnr, loss, ms, itPerSec: (it + 1) / ((performance.now() - t0) / 1000) };
        if (o.onStep && (await o.onStep(info)) === false) {
          stopped = it + 1 < iters;
          return false;
        }
        await pause.yield();
        if (o.signal?.aborted && it + 1 < iters) {
          stopped = true;
          return false;
        }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const output = like(r.output);
    // A copy: the callback may keep or transfer it (the worker does), the result keeps the original.
    if (o.onPreview) await o.onPreview(like(r.output.slice()), r.psnr.length);
    return {
      config: c,
      range,
      params: r.params,
      psnr: r.psnr,
      finalPsnr: r.finalPsnr,
      output,
      ...(o.rate !== undefined && !isImage(target) ? { rate: o.rate } : {}),
      ...(lattice ? { lattice } : {}),
      ...(batch ? { batch } : {}),
      backend: r.backend,
      iters: r.psnr.length,
      lr,
      itPerSec: r.psnr.length / Math.max(seconds, 1e-9),
      stopped,
      prior: o.prior?.name ?? null,
      ...(r.state ? { state: r.state } : {}),
    };
  } finally {
    pause.close();
  }
}
