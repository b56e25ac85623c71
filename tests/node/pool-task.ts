// A task module for tests/node/pool.test.ts (src/node/pool.ts): answers with the thread it ran on, and
// fails on request — with a UserError, a plain Error, or by ending its worker mid-job.
import { threadId } from 'node:worker_threads';
import { UserError } from '../../src/util/errors.ts';
import type { Task } from '../../src/node/pool.ts';

export interface TestJob {
  x: number;
  fail?: 'user' | 'bug' | 'exit';
  ms?: number;
}

export async function createTask(init: {
  add: number;
  local?: string;
}): Promise<Task<TestJob, { y: number; thread: number; local?: string }>> {
  return {
    async run(job) {
      await new Promise((r) => setTimeout(r, job.ms ?? 0));
      if (job.fail === 'user') throw new UserError(`bad input ${job.x}`);
      if (job.fail === 'bug') throw new TypeError(`a bug at ${job.x}`);
      if (job.fail === 'exit') process.exit(3);
      return { y: job.x + init.add, thread: threadId, local: init.local };
    },
  };
}
