// fit() for web apps: the core's fit (src/train/fit.ts: one plan, one step loop, one FitResult) on
// onnxruntime-web (WebGPU or wasm), of an image or any signal (a clip, a volume), optionally from a
// prior. What the browser adds: the runtime chosen by name, inputs checked as a page hands them over,
// a yield to the event loop between steps (a Stop click, an abort, is seen), and a last preview of the
// final output. Runs on whichever thread calls it (the demo: a Worker, ./worker.ts).
import type { Backend } from '../runtime/session.ts';
import { autoBackend, type ProviderChoice } from '../runtime/ort-web.ts';
import { fit as coreFit, shaped, type FitOptions, type FitResult } from '../train/fit.ts';
import { UserError } from '../util/errors.ts';
import { checkImage, type Image } from './image.ts';
import { isImage, sampleCount, type Signal } from '../data/signal.ts';

/** What fit() takes: an Image (HWC), or any Signal (a clip [n], a volume [d, h, w]). */
export type FitTarget = Image | Signal;

/** The core's fit options, with the runtime also by name. */
export interface WebFitOptions<T extends FitTarget = FitTarget> extends Omit<FitOptions<T>, 'backend'> {
  /** 'auto' (WebGPU, else wasm), 'webgpu', 'wasm', or any Backend. */
  backend?: ProviderChoice | Backend;
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

export async function fit<T extends FitTarget>(target: T, o: WebFitOptions<T> = {}): Promise<FitResult<T>> {
  if (isImage(target)) checkImage(target);
  else checkSignal(target);
  const backend = await resolveBackend(o.backend);
  const pause = eventLoopYielder();
  try {
    const r = await coreFit(target, {
      ...o,
      backend,
      onStep: async (e) => {
        const go = await o.onStep?.(e);
        await pause.yield();
        return go;
      },
    });
    // A copy: the callback may keep or transfer it (the worker does), the result keeps the original.
    if (o.onPreview) await o.onPreview(shaped(target, r.output.data.slice()), r.iters);
    return r;
  } finally {
    pause.close();
  }
}
