// Runs a task module's jobs on N worker threads, or in this thread when N is 1. A task module exports
// `createTask(init)`, called once per worker (load a prior, start a runtime: work shared by every job of
// that worker), which returns the function a job is given to. `init` and each job and result cross the
// thread boundary by structured clone (plain data and typed arrays). The module is named by URL, so a
// command (src/cli) hands its own per-job code to this pool without the node layer importing it.
// A job that throws rejects with a UserError when the task threw one (the one-line errors of bad input),
// else with an Error carrying the worker's stack; a worker that dies fails its job and is replaced.
import type { Worker } from 'node:worker_threads';
import { startWorker } from './worker-start.ts';
import { UserError } from '../util/errors.ts';

export interface Task<J, R> {
  run(job: J): Promise<R>;
  close?(): Promise<void>;
}

export interface TaskModule<I, J, R> {
  createTask(init: I): Promise<Task<J, R>>;
}

export interface Pool<J, R> {
  /** Jobs run at once. */
  readonly size: number;
  /** Runs `job` on the next free worker (queued while all are busy). */
  run(job: J): Promise<R>;
  /** Finishes: waits for nothing in flight; ends the workers. */
  close(): Promise<void>;
}

export interface PoolOptions<I> {
  /** URL of the task module (import.meta-relative in the caller). */
  module: URL;
  init: I;
  /** Worker threads; 1 runs the jobs in this thread, one at a time. */
  jobs: number;
  /** Fields that only a task in this thread is given (they cannot be copied to a worker: a Backend). */
  local?: Partial<I>;
}

/** A task error as it crosses a thread. */
export interface WireError {
  message: string;
  user: boolean;
  stack?: string;
}

export function toWire(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, user: err instanceof UserError, stack: err.stack };
}

export function fromWire(w: WireError): Error {
  if (w.user) return new UserError(w.message);
  const e = new Error(w.message);
  if (w.stack) e.stack = w.stack;
  return e;
}

export async function startPool<I, J, R>(o: PoolOptions<I>): Promise<Pool<J, R>> {
  if (o.jobs <= 1) {
    const m = (await import(o.module.href)) as TaskModule<I, J, R>;
    const task = await m.createTask({ ...o.init, ...o.local });
    let chain: Promise<unknown> = Promise.resolve();
    return {
      size: 1,
      run: (job) => {
        const p = chain.then(() => task.run(job));
        chain = p.catch(() => {});
        return p;
      },
      close: async () => {
        await chain;
        await task.close?.();
      },
    };
  }
  return WorkerPool.start<I, J, R>(o);
}

interface Pending<J, R> {
  job: J;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

interface Slot<J, R> {
  worker: Worker;
  busy: Pending<J, R> | null;
}

class WorkerPool<I, J, R> implements Pool<J, R> {
  private slots: Slot<J, R>[] = [];
  private queue: Pending<J, R>[] = [];
  private closed = false;

  private constructor(private readonly o: PoolOptions<I>) {}

  get size(): number {
    return this.o.jobs;
  }

  static async start<I, J, R>(o: PoolOptions<I>): Promise<WorkerPool<I, J, R>> {
    const p = new WorkerPool<I, J, R>(o);
    try {
      await Promise.all(Array.from({ length: o.jobs }, () => p.spawn()));
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  /** A worker that has run createTask; rejects with createTask's error. */
  private spawn(): Promise<void> {
    const worker = startWorker('pool-worker', { workerData: { module: this.o.module.href, init: this.o.init } });
    const slot: Slot<J, R> = { worker, busy: null };
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: { type: string; result?: R; error?: WireError }) => {
        if (m.type === 'ready') {
          ready = true;
          this.slots.push(slot);
          resolve();
          this.pump();
        } else if (m.type === 'init-error') {
          reject(fromWire(m.error!));
        } else if (m.type === 'done' || m.type === 'failed') {
          const p = slot.busy!;
          slot.busy = null;
          if (m.type === 'done') p.resolve(m.result as R);
          else p.reject(fromWire(m.error!));
          this.pump();
        }
      });
      const died = (why: string): void => {
        this.slots = this.slots.filter((s) => s !== slot);
        if (!ready) return reject(new Error(`a fit worker ${why} while starting`));
        const p = slot.busy;
        slot.busy = null;
        p?.reject(new Error(`the worker running this job ${why}`));
        if (!this.closed) this.spawn().catch((e: unknown) => this.failAll(e as Error));
      };
      worker.on('error', (e) => died(`failed (${e.message})`));
      worker.on('exit', (c) => {
        if (this.slots.includes(slot) || !ready) died(`exited with code ${c}`);
      });
    });
  }

  private failAll(e: Error): void {
    for (const p of this.queue.splice(0)) p.reject(e);
  }

  private pump(): void {
    for (const s of this.slots) {
      if (s.busy || this.queue.length === 0) continue;
      s.busy = this.queue.shift()!;
      s.worker.postMessage({ type: 'job', job: s.busy.job });
    }
  }

  run(job: J): Promise<R> {
    if (this.closed) return Promise.reject(new Error('the pool is closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('the pool is closed'));
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.worker.once('exit', () => resolve());
            s.worker.postMessage({ type: 'close' });
          }),
      ),
    );
  }
}
