// A worker thread of ./pool.ts: imports the task module it is given, creates its task once, then runs
// one job at a time as the pool sends them, answering each with its result or its error.
import { parentPort, workerData } from 'node:worker_threads';
import { toWire, type Task, type TaskModule } from './pool.ts';

const { module, init } = workerData as { module: string; init: unknown };
const port = parentPort!;

let task: Task<unknown, unknown>;
try {
  const m = (await import(module)) as TaskModule<unknown, unknown, unknown>;
  task = await m.createTask(init);
  port.postMessage({ type: 'ready' });
} catch (e) {
  port.postMessage({ type: 'init-error', error: toWire(e) });
  process.exit(1);
}

port.on('message', (m: { type: 'job'; job: unknown } | { type: 'close' }) => {
  if (m.type === 'close') {
    void (task.close?.() ?? Promise.resolve()).finally(() => process.exit(0));
    return;
  }
  task.run(m.job).then(
    (result) => port.postMessage({ type: 'done', result }),
    (e: unknown) => port.postMessage({ type: 'failed', error: toWire(e) }),
  );
});
