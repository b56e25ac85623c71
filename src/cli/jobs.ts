// The --jobs flag of the commands that run many fits (fit-many, eval): how many fits run at once, each
// on its own worker thread with its own onnxruntime session (src/node/pool.ts), and on how many
// onnxruntime threads each; `auto` chooses by the signal's size, as measured in bench/many.md.
import { availableParallelism } from 'node:os';
import { intArg } from './args.ts';

/**
 * Samples per train step up to which `--jobs auto` runs one fit per core (each on one onnxruntime
 * thread) rather than one fit on every core: there a step is too short for onnxruntime's thread pool
 * to pay, and its one-threaded Sin/Cos leaves the other core idle (bench/many.md measures the crossover).
 */
export const AUTO_JOBS_MAX_ROWS = 64 * 64;

export const JOBS_FLAG = [
  '--jobs <n>',
  `fits at a time, each on its own worker thread and onnxruntime session (auto: one per core for signals of up to ${AUTO_JOBS_MAX_ROWS} samples on the CPU, else 1)`,
  (v: string): number | 'auto' => (v === 'auto' ? 'auto' : intArg('--jobs', 1, 256)(v)),
  'auto',
] as const;

/** Fits at a time and onnxruntime threads per fit, for `count` fits of `rows` samples per step on `ep`. */
export function jobPlan(
  jobs: number | 'auto',
  o: { rows: number; ep: string; count: number; threads?: number; cores?: number },
): { jobs: number; threads: number } {
  const cores = o.cores ?? availableParallelism();
  const wanted = jobs !== 'auto' ? jobs : o.ep === 'cpu' && o.rows <= AUTO_JOBS_MAX_ROWS ? cores : 1;
  const n = Math.max(1, Math.min(wanted, o.count));
  return { jobs: n, threads: o.threads ?? Math.max(1, Math.floor(cores / n)) };
}
