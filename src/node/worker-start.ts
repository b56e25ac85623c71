// Starting a worker thread on one of src/node's worker entries (./pool-worker, ./shard-worker), from the
// built package or from the sources. From the built package the entry is a .js file beside this one.
// Run from the .ts sources (vitest, tsx), the entry is a .ts file and Node 20 does not strip types; nor
// do loader hooks reach a worker's entry through `execArgv: ['--import', 'tsx']` (measured: "Unknown
// file extension .ts"). So from source a one-line bootstrap registers tsx's hooks (a dev dependency) in
// the new thread and then imports the entry.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Starts `./<name>.js` (or `.ts` from source) of this folder as a worker thread. */
export function startWorker(name: string, o: Pick<WorkerOptions, 'workerData'> = {}): Worker {
  const execArgv = workerExecArgv();
  if (!FROM_SOURCE) return new Worker(new URL(`./${name}.js`, import.meta.url), { ...o, execArgv });
  // tsx's package exports './esm/api' as index.cjs (require) and index.mjs (import); the ESM one is needed.
  const api = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = new URL(`./${name}.ts`, import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { ...o, eval: true, execArgv });
}

/** The task module `./<name>` beside the caller (its import.meta.url), as .js or, from source, .ts. */
export function siblingModule(callerUrl: string, name: string): URL {
  return new URL(`./${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}

/** This thread's Node options, as a worker inherits them by default, less those that apply only to
 *  a string entry (`node --input-type=module -e ...` would make a file worker fail to start). */
function workerExecArgv(): string[] {
  const out: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i];
    if (a === '--input-type') i++;
    else if (!a.startsWith('--input-type=')) out.push(a);
  }
  return out;
}
