// The --jobs flag of the commands that run many fits (fit-many, eval): how many fits run at once, each
// on its own worker thread with its own onnxruntime session (src/node/pool.ts), and on how many
// onnxruntime threads each. `auto` is one fit per core on the CPU, one fit on a GPU: measured in
// bench/many.md (`npm run bench:many -- --part jobs`), one worker of one thread per core took 1.17-1.35x
// the train steps per second of one worker on both cores at 64x64 to 178x178 (each worker runs its own
// one-threaded Sin/Cos: onnxruntime's CPU Sin/Cos use no thread pool), and 0.92-0.97x at 25x25 and
// 48x48 under a load average of 7 to 9 (within noise: the fastest steps there were 11.3 ms on one thread
// and 10.8 ms on two, so one fit per core should take nearly twice the steps on an idle machine).
import { availableParallelism } from 'node:os';
import { intArg } from './args.ts';

export const JOBS_FLAG = [
  '--jobs <n>',
  'fits at a time, each on its own worker thread and onnxruntime session with cores/n threads (auto: one per core on the CPU, 1 on a GPU)',
  (v: string): number | 'auto' => (v === 'auto' ? 'auto' : intArg('--jobs', 1, 256)(v)),
  'auto',
] as const;

/** Fits at a time and onnxruntime threads per fit, for `count` fits on `ep`. */
export function jobPlan(
  jobs: number | 'auto',
  o: { ep: string; count: number; threads?: number; cores?: number },
): { jobs: number; threads: number } {
  const cores = o.cores ?? availableParallelism();
  const wanted = jobs !== 'auto' ? jobs : o.ep === 'cpu' ? cores : 1;
  const n = Math.max(1, Math.min(wanted, o.count));
  return { jobs: n, threads: o.threads ?? Math.max(1, Math.floor(cores / n)) };
}
