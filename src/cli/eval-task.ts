// One fit of `strainer eval` (a method's start, a held-out image) as a pool task (src/node/pool.ts), so
// eval's methods x images fits run on --jobs worker threads like fit-many's signals: the same fit, with
// sessions reused across the fits of one worker (they share one image size), answering the PSNR curve.
import type { Image } from '../data/image.ts';
import { fit } from '../node/api.ts';
import { nodeBackend, type NodeBackendName, type NodeEp } from '../node/backend.ts';
import { reusingBackend } from '../node/session-reuse.ts';
import type { Task } from '../node/pool.ts';
import type { Backend } from '../runtime/session.ts';
import { psnrCurve } from '../train/fit.ts';
import type { FitSettings } from '../train/plan.ts';
import { fitInnerThenAdam } from '../pipeline/meta.ts';

export interface EvalInit {
  /** Each method's start: a prior (as plain data) or a random SIREN's model and range. */
  starts: Record<string, FitSettings>;
  /** The paper's protocol: recipe 'paper' (the table's iterations are its full-grid Adam steps). */
  opts: { recipe: 'paper'; iters: number; lr: number; seed: number };
  runtime: { engine: NodeBackendName; ep: NodeEp; threads?: number };
  /** In the command's own thread (--jobs 1): its backend, which says once which runtime runs. */
  backend?: Backend;
}

export interface EvalJob {
  method: string;
  image: Image;
}

export interface EvalFit {
  /** PSNR before each update and of the final model (psnrCurve). */
  curve: number[];
  finalPsnr: number;
  iters: number;
  seconds: number;
}

export async function createTask(init: EvalInit): Promise<Task<EvalJob, EvalFit>> {
  const r = init.runtime;
  const backend = reusingBackend(init.backend ?? nodeBackend(r.engine, r.threads, r.ep));
  return {
    async run(job) {
      const start = init.starts[job.method];
      if (job.method === 'meta-sgd' && start.prior) {
        // Learnit's protocol: the meta-init's own inner SGD steps, then Adam (src/pipeline/meta.ts).
        const t0 = performance.now();
        const { curve } = await fitInnerThenAdam(job.image, start.prior, { ...init.opts, backend });
        const seconds = (performance.now() - t0) / 1000;
        return { curve, finalPsnr: curve[curve.length - 1], iters: curve.length - 1, seconds };
      }
      const f = await fit(job.image, { ...init.opts, ...init.starts[job.method], backend });
      return { curve: psnrCurve(f), finalPsnr: f.finalPsnr, iters: f.iters, seconds: f.seconds };
    },
    close: () => backend.close(),
  };
}
