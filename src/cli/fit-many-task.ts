// One signal of `strainer fit-many`, as a pool task (src/node/pool.ts: in a worker thread, or in the
// command's own thread with --jobs 1): read the input as `strainer fit` reads a file, fit it, write what
// `strainer fit --out` writes (fitFiles beside saveFit's bundle) into a fresh folder and move it into
// place whole, and answer with `strainer fit --json`'s summary for the index line. Each worker loads
// its runtime once and reuses its compiled sessions across signals of one size (reusingBackend).
import { basename } from 'node:path';
import type { Prior } from '../train/prior.ts';
import { fit, saveFit } from '../node/api.ts';
import { nodeBackend, type NodeBackendName, type NodeEp } from '../node/backend.ts';
import { reusingBackend } from '../node/session-reuse.ts';
import { placeBundle } from '../node/many-dir.ts';
import { oneLine, type ManyJob, type ManyResult } from '../node/many-run.ts';
import type { Task } from '../node/pool.ts';
import { readDataFile } from '../node/read.ts';
import { sha256Hex } from '../util/sha256.ts';
import { UserError } from '../util/errors.ts';
import { readFitInput, inputEval, fitFiles, type FitInput } from './fit-files.ts';
import { fitSettings, type FitFlags } from './fit-flags.ts';
import { fitSummary } from './fit.ts';

/** What every worker is started with (plain data: it is copied to each thread). */
export interface FitManyInit {
  flags: FitFlags;
  prior: Prior | null;
  runtime: { engine: NodeBackendName; ep: NodeEp; threads: number };
}

/** A signal of a volume or stack comes as data; name its bundle `container#id`. */
function jobInput(job: ManyJob, flags: FitFlags): FitInput {
  if (job.file) return readFitInput(job.file, { res: flags.res, channels: flags.channels });
  return { path: job.input, kind: 'image', signal: job.signal! };
}

export async function createTask(init: FitManyInit): Promise<Task<ManyJob, ManyResult>> {
  const { flags, runtime } = init;
  const prior = init.prior ?? undefined;
  const backend = reusingBackend(nodeBackend(runtime.engine, runtime.threads, runtime.ep));
  return {
    async run(job) {
      let sha256 = job.sha256;
      try {
        if (job.file) sha256 = await sha256Hex(readDataFile(job.file));
        const input = jobInput(job, flags);
        const r = await fit(input.signal, { ...fitSettings(flags, prior, input.rate), backend });
        const name = basename(input.path);
        const extra = fitFiles(input, r);
        await saveFit(r, job.staging, { name, source: name, extra, eval: inputEval(input, r) });
        placeBundle(job.staging, job.final);
        return { status: 'done', sha256: sha256!, fields: fitSummary(input, r) };
      } catch (e) {
        // A bad input or a diverging fit is the signal's own one-line failure; anything else (a full
        // disk, a bug) is recorded the same way, with its stack on stderr.
        if (!(e instanceof UserError)) process.stderr.write(`strainer: fit-many: ${job.name}: ${(e as Error).stack}\n`);
        return { status: 'failed', sha256, error: oneLine((e as Error).message ?? String(e)) };
      }
    },
    close: () => backend.close(),
  };
}
