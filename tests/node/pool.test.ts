// The pool behind fit-many's and eval's --jobs (src/node/pool.ts), run from the sources (worker threads
// started through tsx: src/node/worker-start.ts): jobs spread over the workers, errors come back as they
// were thrown (a UserError stays one), a worker that dies fails only its job; and session reuse
// (src/node/session-reuse.ts) gives the same fit as fresh sessions while compiling each graph once.
import { describe, it, expect } from 'vitest';
import { threadId } from 'node:worker_threads';
import { startPool } from '../../src/node/pool.ts';
import { reusingBackend } from '../../src/node/session-reuse.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { fit } from '../../src/train/fit.ts';
import { makeImage } from '../../src/data/image.ts';
import { UserError } from '../../src/util/errors.ts';
import type { TestJob } from './pool-task.ts';

const task = new URL('./pool-task.ts', import.meta.url);
type Out = { y: number; thread: number; local?: string };

describe('startPool', () => {
  it('runs jobs on 2 worker threads and returns each result to its job', async () => {
    const pool = await startPool<{ add: number }, TestJob, Out>({ module: task, init: { add: 10 }, jobs: 2 });
    const rs = await Promise.all([1, 2, 3, 4].map((x) => pool.run({ x, ms: 50 })));
    await pool.close();
    expect(rs.map((r) => r.y)).toEqual([11, 12, 13, 14]);
    const threads = new Set(rs.map((r) => r.thread));
    expect(threads.size).toBe(2);
    expect(threads.has(threadId)).toBe(false);
  });

  it('keeps a UserError one, a bug its stack, and replaces a worker that dies mid-job', async () => {
    const pool = await startPool<{ add: number }, TestJob, Out>({ module: task, init: { add: 1 }, jobs: 2 });
    const user = await pool.run({ x: 1, fail: 'user' }).catch((e: unknown) => e);
    expect(user).toBeInstanceOf(UserError);
    expect((user as Error).message).toBe('bad input 1');
    const bug = await pool.run({ x: 2, fail: 'bug' }).catch((e: unknown) => e);
    expect(bug).not.toBeInstanceOf(UserError);
    expect((bug as Error).stack).toMatch(/a bug at 2[\s\S]*pool-task/);
    await expect(pool.run({ x: 3, fail: 'exit' })).rejects.toThrow(/the worker running this job exited with code 3/);
    const rs = await Promise.all([5, 6, 7].map((x) => pool.run({ x })));
    expect(rs.map((r) => r.y)).toEqual([6, 7, 8]);
    await pool.close();
  });

  it('with one job runs in this thread, given the local fields', async () => {
    const pool = await startPool<{ add: number; local?: string }, TestJob, Out>({
      module: task,
      init: { add: 0 },
      jobs: 1,
      local: { local: 'here' },
    });
    expect(await pool.run({ x: 4 })).toEqual({ y: 4, thread: threadId, local: 'here' });
    await pool.close();
  });
});

describe('reusingBackend', () => {
  it('fits two signals of one size on sessions compiled once, as fresh sessions fit them', async () => {
    const img = (k: number) => {
      const m = makeImage(8, 8, 1);
      m.data.forEach((_, i) => (m.data[i] = 0.5 + 0.4 * Math.sin(i * 0.3 * k)));
      return m;
    };
    const o = { recipe: 'paper' as const, iters: 8, lr: 1e-3, model: { width: 16, depth: 3 } };
    const fresh = ortNodeBackend({ threads: 1 });
    const reuse = reusingBackend(ortNodeBackend({ threads: 1 }));
    for (const k of [1, 2]) {
      const a = await fit(img(k), { ...o, backend: fresh });
      const b = await fit(img(k), { ...o, backend: reuse });
      expect(b.psnr).toEqual(a.psnr);
      expect(b.output.data).toEqual(a.output.data);
    }
    expect(reuse.stats).toEqual({ loaded: 2, reused: 2 }); // the train step and the render graph
    await reuse.close();
  });
});
