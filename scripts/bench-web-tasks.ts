// Chromium side of scripts/bench-web.ts, run in a dedicated Worker as the demo runs its fits
// (web/worker.ts): the page calls inWorker(task, ...args), which starts this same module as a module
// Worker and runs the task there; arguments and results travel as plain JSON-able values.
//   fit:                   the library's fit() on an image, per-step wall times
//   loadBreakdown/round:   the train step, its MatMuls alone and the step with Sin/Cos as Neg on
//                          wasm, one round per call, so Node's rounds can interleave with them
import * as ort from 'onnxruntime-web/webgpu';
import { fit } from '../src/web/fit.ts';
import { ortWebBackend, type WebProvider } from '../src/runtime/ort-web.ts';
import type { Session } from '../src/runtime/session.ts';
import type { InrConfig } from '../src/model/config.ts';
import type { Program } from '../src/graph/ir.ts';
import { programToOnnx } from '../src/onnx/write.ts';
import { trainStepProgram } from '../src/train/programs.ts';
import { matmulsOnly, trigAsNeg, feedsFor } from './bench-graphs.ts';

export interface PlainImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: number[];
}
export interface Where {
  isolated: boolean;
  worker: boolean;
  wasmThreads: number;
}

const where = (): Where => ({
  isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  worker: typeof (globalThis as { document?: unknown }).document === 'undefined',
  wasmThreads: ort.env.wasm.numThreads ?? 0,
});

const tasks = {
  async fit(img: PlainImage, config: InrConfig, iters: number, lr: number, provider: WebProvider) {
    const stepMs: number[] = [];
    const r = await fit(
      { ...img, data: Float32Array.from(img.data) },
      {
        iters,
        lr,
        recipe: 'paper', // the full image every step: the step bench/web.md times
        backend: provider,
        seed: 0,
        model: config,
        onStep: (s) => {
          stepMs.push(s.ms);
        },
      },
    );
    return { backend: r.backend, stepMs, psnr: r.psnr, ...where() };
  },

  /** Loads the step, its MatMuls alone and the step with Sin/Cos as Neg on wasm (the backend's settings;
   *  `threads` overrides its thread count, which only a fresh Worker's first session can set). */
  async loadBreakdown(config: InrConfig, res: number, threads?: number) {
    const step = trainStepProgram({ config, batch: res * res });
    const progs: Record<string, Program> = { step, matmuls: matmulsOnly(step).prog, noTrig: trigAsNeg(step) };
    const be = ortWebBackend('wasm', threads === undefined ? {} : { threads });
    loaded = [];
    for (const [name, p] of Object.entries(progs)) {
      const s = await be.load(programToOnnx(p));
      loaded.push({
        name,
        s,
        feeds: Object.fromEntries(Object.entries(feedsFor(p, config, res)).map(([k, v]) => [k, s.upload(v)])),
      });
    }
    return where();
  },

  /** One run of each loaded graph: wall ms by name. */
  async round() {
    const ms: Record<string, number> = {};
    for (const l of loaded) {
      const t0 = performance.now();
      const out = await l.s.run(l.feeds);
      ms[l.name] = performance.now() - t0;
      for (const v of Object.values(out)) l.s.dispose(v);
    }
    return ms;
  },

  async release() {
    for (const l of loaded) await l.s.release();
    loaded = [];
    return where();
  },
};
let loaded: { name: string; s: Session; feeds: Record<string, unknown> }[] = [];
export type Tasks = typeof tasks;

type Reply = { id: number; ok?: unknown; error?: string };
let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

/** Runs tasks[name](...args) in this file's module Worker (one per page, started on first use). */
export function inWorker<K extends keyof Tasks>(
  name: K,
  ...args: Parameters<Tasks[K]>
): Promise<Awaited<ReturnType<Tasks[K]>>> {
  if (!worker) {
    worker = new Worker(new URL(import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<Reply>) => {
      const p = pending.get(e.data.id);
      pending.delete(e.data.id);
      if (e.data.error !== undefined) p?.reject(new Error(e.data.error));
      else p?.resolve(e.data.ok);
    };
    worker.onerror = (e) => {
      for (const p of pending.values()) p.reject(new Error(e.message));
      pending.clear();
    };
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve, reject });
    worker!.postMessage({ id, name, args });
  });
}

// Loaded as the Worker: answer requests in order.
if (typeof (globalThis as { document?: unknown }).document === 'undefined' && typeof self !== 'undefined') {
  self.onmessage = async (e: MessageEvent<{ id: number; name: keyof Tasks; args: unknown[] }>) => {
    const { id, name, args } = e.data;
    try {
      const f = tasks[name].bind(tasks) as (...a: unknown[]) => Promise<unknown>;
      self.postMessage({ id, ok: await f(...args) });
    } catch (err) {
      self.postMessage({ id, error: String((err as Error).stack ?? err) });
    }
  };
}
