// The fit worker: runs fit() off the page's main thread so the UI never freezes (wasm inference is
// synchronous inside a step). One fit at a time; 'stop' aborts after the current step; 'bundle'
// zips the last finished fit for download. A request with a restoration task (superres, denoise)
// degrades its image and runs restoreImage instead (no bundle to download). An app makes a worker file holding
//   import 'strainer/web/worker';
// and drives it with new FitWorker(new Worker(new URL('./that-file.ts', import.meta.url), { type: 'module' })).
import { fit, type FitTarget } from './fit.ts';
import { isImage, asSignal } from '../data/signal.ts';
import { loadPriorFromUrl, type LoadedPrior } from './prior.ts';
import { zipBundle } from './bundle.ts';
import { fitBundle } from '../export/fit-bundle.ts';
import type { FitResult } from '../train/fit.ts';
import { planFit } from '../train/plan.ts';
import { autoBackend, DeviceLostError, loseDeviceForTesting, onDeviceLost } from '../runtime/ort-web.ts';
import { UserError } from '../util/errors.ts';
import { restoreImage } from '../restore/restore.ts';
import { addNoise, downsample } from '../restore/degrade.ts';
import type { InrConfig } from '../model/config.ts';
import type { Backend } from '../runtime/session.ts';
import type { ErrorKind, FitRequest, FromWorker, ToWorker } from './protocol.ts';

interface WorkerScope {
  postMessage(m: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

let running: { id: number; abort: AbortController } | null = null;
let last: { id: number; result: FitResult; label: string } | null = null;

function errorKind(e: unknown): ErrorKind {
  if (e instanceof DeviceLostError) return 'device-lost';
  return e instanceof UserError ? 'user' : 'internal';
}

/** One run: owns `running` (so 'stop' can abort it), turns a lost WebGPU device into DeviceLostError and
 *  posts any failure as an 'error' message. */
async function withRun(id: number, body: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const abort = new AbortController();
  running = { id, abort };
  let lostDevice = '';
  const unsubscribe = onDeviceLost((m) => {
    lostDevice = m;
    abort.abort();
  });
  try {
    await body(abort.signal).catch((e: unknown) => {
      throw lostDevice ? new DeviceLostError(lostDevice) : e;
    });
    if (lostDevice) throw new DeviceLostError(lostDevice);
  } catch (e) {
    postError(id, e);
  } finally {
    unsubscribe();
    if (running?.id === id) running = null;
  }
}

function postError(id: number, e: unknown): void {
  scope.postMessage({ type: 'error', id, kind: errorKind(e), message: e instanceof Error ? e.message : String(e) });
}

async function load(req: FitRequest): Promise<{ prior: LoadedPrior | null; backend: Backend }> {
  const prior = req.priorUrl ? await loadPriorFromUrl(req.priorUrl) : null;
  const { backend } = await autoBackend({
    provider: req.provider,
    wasmPaths: req.wasmPaths,
  });
  return { prior, backend };
}

const started = (id: number, backend: string, config: InrConfig, prior: LoadedPrior | null): FromWorker => ({
  type: 'started',
  id,
  backend,
  config,
  prior: prior ? { name: prior.name, fromCache: prior.fromCache } : null,
});

/** The one thing a request fits: its image or its signal. */
function requestTarget(req: FitRequest): FitTarget {
  if ((req.image === undefined) === (req.signal === undefined))
    throw new UserError('a fit request holds exactly one of image and signal');
  return (req.image ?? req.signal)!;
}

function runFit(id: number, req: FitRequest): Promise<void> {
  return withRun(id, async (signal) => {
    const target = requestTarget(req);
    const { prior, backend } = await load(req);
    const result = await fit<FitTarget>(target, {
      prior,
      model: req.model,
      iters: req.iters,
      lr: req.lr,
      optimizer: req.optimizer,
      recipe: req.recipe,
      encoderLr: req.encoderLr,
      rate: req.rate,
      untilPsnr: req.untilPsnr,
      timeLimit: req.timeLimit,
      milestones: req.milestones,
      backend,
      seed: req.seed ?? 0,
      signal,
      previewEvery: req.previewEvery ?? 25,
      onStart: ({ backend: name, plan }) => scope.postMessage(started(id, name, plan.config, prior)),
      onStep: (event) => scope.postMessage({ type: 'step', id, event }),
      onPreview: (out, it) =>
        scope.postMessage({ type: 'preview', id, it, ...(isImage(out) ? { image: out } : { signal: out }) }, [
          out.data.buffer,
        ]),
    });
    last = { id, result, label: req.label };
    scope.postMessage({
      type: 'done',
      id,
      summary: {
        psnr: result.psnr[result.psnr.length - 1] ?? NaN,
        finalPsnr: result.finalPsnr,
        iters: result.iters,
        seconds: result.seconds,
        stopped: result.stopped,
        reached: result.reached,
        ...(result.milestones ? { milestones: result.milestones } : {}),
        backend: result.backend,
        config: result.plan.config,
      },
    });
  });
}

function runRestore(id: number, req: FitRequest): Promise<void> {
  return withRun(id, async (signal) => {
    const task = req.task === 'superres' ? 'superres' : 'denoise';
    if (!req.image)
      throw new UserError(
        `${task === 'superres' ? 'super-resolution' : 'denoising'} restores images; this request holds a ${req.signal?.dims.length ?? 0}-D signal`,
      );
    const truth = req.image,
      seed = req.seed ?? 0,
      scale = req.scale ?? 4;
    const obs = task === 'superres' ? downsample(truth, scale) : addNoise(truth, req.sigma ?? 0.1, seed);
    scope.postMessage({ type: 'observation', id, image: obs });
    const { prior, backend } = await load(req);
    const { config } = planFit(asSignal(truth), { prior, model: req.model, iters: req.iters, lr: req.lr });
    scope.postMessage(started(id, backend.name, config, prior));
    const r = await restoreImage(obs, {
      task,
      scale: task === 'superres' ? scale : undefined,
      model: req.model,
      prior,
      iters: req.iters,
      lr: req.lr,
      seed,
      backend,
      truth,
      encoderLr: req.encoderLr,
      evalEvery: req.previewEvery ?? 25,
      onStep: (event) => {
        scope.postMessage({ type: 'step', id, event });
        return !signal.aborted;
      },
      onPreview: (image, it, point) => {
        const copy = { ...image, data: image.data.slice() };
        scope.postMessage(
          { type: 'preview', id, it, image: copy, ...(point ? { truth: { psnr: point.psnr, ssim: point.ssim } } : {}) },
          [copy.data.buffer],
        );
      },
    });
    const final = r.final ?? { psnr: NaN, ssim: NaN };
    scope.postMessage({
      type: 'done',
      id,
      summary: {
        psnr: final.psnr,
        finalPsnr: final.psnr,
        ssim: final.ssim,
        iters: r.iters,
        seconds: r.stepMs.reduce((a, b) => a + b, 0) / 1000,
        stopped: r.iters < req.iters,
        backend: r.backend,
        config: r.config,
      },
    });
  });
}

async function sendBundle(id: number): Promise<void> {
  try {
    if (!last || last.id !== id) throw new UserError('no finished fit to download');
    const name = last.label.replace(/[^A-Za-z0-9._-]+/g, '-') || 'fit';
    const zip = zipBundle(await fitBundle(last.result, { name, source: last.label }), name);
    scope.postMessage({ type: 'bundle', id, zip, fileName: `${name}.zip` }, [zip.buffer]);
  } catch (e) {
    postError(id, e);
  }
}

// When a bundler inlines onnxruntime-web into this worker's chunk, onnxruntime starts its wasm threads
// as workers named 'em-pthread' from this same script: those must keep onnxruntime's handler.
const isOrtThread = (globalThis as { name?: string }).name?.startsWith('em-pthread') ?? false;

if (!isOrtThread)
  scope.onmessage = (e: MessageEvent<ToWorker>) => {
    const m = e.data;
    switch (m.type) {
      case 'fit':
        if (running) {
          scope.postMessage({
            type: 'error',
            id: m.id,
            kind: 'user',
            message: 'a fit is already running; stop it first',
          });
          return;
        }
        void (m.req.task && m.req.task !== 'fit' ? runRestore : runFit)(m.id, m.req);
        return;
      case 'stop':
        if (running?.id === m.id) running.abort.abort();
        return;
      case 'bundle':
        void sendBundle(m.id);
        return;
      case 'lose-device':
        loseDeviceForTesting();
        return;
      default:
        m satisfies never;
    }
  };
