// Page side of the fit worker: one FitWorker wraps a Worker running src/web/worker.ts, turns its
// messages into callbacks and promises, and can stop a run or fetch the fitted bundle as a zip.
import type { FitRequest, FromWorker, RunSummary, ToWorker, ErrorKind } from './protocol.ts';
import type { Image } from './image.ts';
import type { Signal } from '../data/signal.ts';
import type { InrConfig } from '../model/config.ts';
import type { StepEvent } from '../train/events.ts';

export class FitError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'FitError';
  }
}

export interface FitHandlers {
  onStart?: (info: { backend: string; config: InrConfig; prior: { name: string; fromCache: string[] } | null }) => void;
  /** After every step (the worker's StepEvent: it, iters, psnr, loss, ms, seconds). */
  onStep?: (e: StepEvent) => void;
  /** `truth`: quality against the truth, for a restoration. */
  onPreview?: (img: Image, it: number, truth?: { psnr: number; ssim: number }) => void;
  /** The current reconstruction of a signal request (a clip, a volume). */
  onSignal?: (s: Signal, it: number) => void;
  /** The degraded image a restoration starts from. */
  onObservation?: (img: Image) => void;
}

/** A URL relative to the page, absolute: the worker would resolve it against its own script's URL
 *  (a bundler puts that under assets/), not the page's. */
function pageUrl(url: string | null): string | null {
  return url === null || typeof location === 'undefined' ? url : new URL(url, location.href).href;
}

interface Pending {
  handlers: FitHandlers;
  resolve(s: RunSummary): void;
  reject(e: Error): void;
}

export class FitWorker {
  private nextId = 1;
  private runs = new Map<number, Pending>();
  private bundles = new Map<
    number,
    { resolve(z: { zip: Uint8Array; fileName: string }): void; reject(e: Error): void }
  >();

  constructor(readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    worker.onerror = (e) =>
      this.failAll(new FitError('internal', `fit worker crashed: ${e.message || 'unknown error'}`));
  }

  /** Starts a fit; resolves with its summary (also when stopped), rejects with a FitError. */
  fit(req: FitRequest, handlers: FitHandlers = {}): { id: number; done: Promise<RunSummary> } {
    const id = this.nextId++;
    const done = new Promise<RunSummary>((resolve, reject) => this.runs.set(id, { handlers, resolve, reject }));
    const data = (req.signal ?? req.image)?.data;
    this.post(
      {
        type: 'fit',
        id,
        req: {
          ...req,
          priorUrl: pageUrl(req.priorUrl),
          ...(req.wasmPaths ? { wasmPaths: pageUrl(req.wasmPaths)! } : {}),
        },
      },
      data ? [data.buffer] : [],
    );
    return { id, done };
  }

  stop(id: number): void {
    this.post({ type: 'stop', id });
  }

  /** The finished fit `id` as a zipped bundle. */
  bundle(id: number): Promise<{ zip: Uint8Array; fileName: string }> {
    return new Promise((resolve, reject) => {
      this.bundles.set(id, { resolve, reject });
      this.post({ type: 'bundle', id });
    });
  }

  loseDeviceForTesting(): void {
    this.post({ type: 'lose-device' });
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new FitError('internal', 'fit worker terminated'));
  }

  private post(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private failAll(e: Error): void {
    for (const p of this.runs.values()) p.reject(e);
    for (const p of this.bundles.values()) p.reject(e);
    this.runs.clear();
    this.bundles.clear();
  }

  private receive(m: FromWorker): void {
    if (m.type === 'bundle') {
      this.bundles.get(m.id)?.resolve({ zip: m.zip, fileName: m.fileName });
      this.bundles.delete(m.id);
      return;
    }
    if (m.type === 'error' && this.bundles.has(m.id) && !this.runs.has(m.id)) {
      this.bundles.get(m.id)?.reject(new FitError(m.kind, m.message));
      this.bundles.delete(m.id);
      return;
    }
    const run = this.runs.get(m.id);
    if (!run) return;
    switch (m.type) {
      case 'started':
        run.handlers.onStart?.({ backend: m.backend, config: m.config, prior: m.prior });
        return;
      case 'step':
        run.handlers.onStep?.(m.event);
        return;
      case 'preview':
        if (m.signal) run.handlers.onSignal?.(m.signal, m.it);
        if (m.image) run.handlers.onPreview?.(m.image, m.it, m.truth);
        return;
      case 'observation':
        run.handlers.onObservation?.(m.image);
        return;
      case 'done':
        this.runs.delete(m.id);
        run.resolve(m.summary);
        return;
      case 'error':
        this.runs.delete(m.id);
        run.reject(new FitError(m.kind, m.message));
        return;
      default:
        m satisfies never;
    }
  }
}
