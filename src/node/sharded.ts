// A train step sharded over threads: onnxruntime's CPU Sin/Cos run on one thread (REFERENCE.md), so
// one session leaves a core idle for a third of the step; S sessions of one thread each, every one on
// its own part of the rows, keep all cores busy. Shard 0 runs on the calling thread, shards 1..S-1 in
// worker threads (shard-worker.ts); then one small apply graph on this thread sums their gradients
// and takes the Adam step (src/train/split-step.ts). ShardedTrainer has Trainer's public shape, so a
// fit loop drives either; measured against the one-session step in scripts/bench-sharded.ts.
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { HostTensor, Session } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import { ortNodeBackend } from '../runtime/ort-node.ts';
import { programToOnnx } from '../onnx/write.ts';
import type { Params } from '../model/inr.ts';
import type { InrConfig } from '../model/config.ts';
import { stateNames } from '../train/programs.ts';
import {
  DivergenceError,
  StateSlots,
  singleSession,
  type DriverFactory,
  type State,
  type StepDriver,
  type StepResult,
} from '../train/trainer.ts';
import type { Backend } from '../runtime/session.ts';
import type { StepSpec } from '../train/programs.ts';
import {
  applyProgram,
  gradProgram,
  shardInput,
  splitRows,
  splitSpec,
  splitStateKeys,
  type SplitSpec,
} from '../train/split-step.ts';
import { UserError } from '../util/errors.ts';
import { startWorker } from './worker-start.ts';

/** A tensor as it crosses between threads: copied (structured clone), except setBatch's row ranges,
 *  which are fresh arrays and are moved. */
export interface WireTensor {
  shape: readonly number[];
  data: Float32Array;
}
/** What ShardedTrainer asks a shard worker; each request gets one ShardReply, in order. */
export type ShardRequest =
  | { type: 'load'; model: Uint8Array; threads: number }
  | { type: 'batch'; inputs: Record<string, WireTensor> }
  | { type: 'run'; params: Record<string, WireTensor> };
export type ShardReply =
  { type: 'ok' } | { type: 'outputs'; outputs: Record<string, WireTensor> } | { type: 'error'; message: string };

/** A shard's worker thread (./shard-worker, from the built package or the sources: ./worker-start.ts). */
const startShardWorker = (): Worker => startWorker('shard-worker');

/** One worker thread and its queue of unanswered requests. A worker that dies or fails to answer
 *  rejects everything pending with one line; it is referenced only while a request is pending, so a
 *  trainer that was never released does not keep the process alive. */
class ShardWorker {
  private readonly worker: Worker;
  private readonly pending: { resolve(r: ShardReply): void; reject(e: Error): void }[] = [];
  private failure: Error | null = null;
  /** False once the thread has exited. */
  running = true;

  constructor(readonly index: number) {
    this.worker = startShardWorker();
    this.worker.unref();
    this.worker.on('message', (r: ShardReply) => {
      const p = this.pending.shift();
      if (this.pending.length === 0) this.worker.unref();
      if (!p) return;
      if (r.type === 'error') p.reject(new UserError(`shard ${index}: ${r.message}`));
      else p.resolve(r);
    });
    this.worker.on('error', (e) => this.fail(`shard ${index}'s worker thread failed: ${firstLine(e)}`));
    this.worker.on('messageerror', (e) =>
      this.fail(`shard ${index}'s worker sent an unreadable reply: ${firstLine(e)}`),
    );
    this.worker.on('exit', (code) => {
      this.running = false;
      this.fail(`shard ${index}'s worker thread exited unexpectedly (code ${code})`);
    });
  }

  call(req: ShardRequest, transfer: ArrayBuffer[] = []): Promise<ShardReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.worker.ref();
      this.worker.postMessage(req, transfer);
    });
  }

  async outputs(req: ShardRequest): Promise<Record<string, WireTensor>> {
    const r = await this.call(req);
    if (r.type !== 'outputs') throw new Error(`shard ${this.index}: expected outputs, got '${r.type}'`);
    return r.outputs;
  }

  private fail(message: string): void {
    this.failure ??= new UserError(message);
    for (const p of this.pending.splice(0)) p.reject(this.failure);
    this.worker.unref();
  }

  async terminate(): Promise<void> {
    this.failure ??= new UserError(`shard ${this.index}'s worker was released`);
    await this.worker.terminate();
  }
}

const firstLine = (e: unknown): string =>
  String((e as Error)?.message ?? e)
    .trim()
    .split('\n')[0];

/** Rows per step from which sharding pays (bench/sharded.md, width 256, 2 cores, a busy machine):
 *  at 64x64 (4096 rows) the sharded step took 0.91-1.05x the one-session step's wall time — no clear
 *  gain, so a 64x64 fit keeps one session and its numbers bit for bit —, from 96x96 (9216 rows)
 *  0.85-0.95x; at 32x32 and below 1.10-1.56x (small steps are mostly Adam and per-step overhead, which
 *  sharding does not divide). */
export const SHARD_MIN_ROWS = 9216;

/** How many shards a fit loop should use for steps of `rows` rows: 1 (use Trainer) below
 *  SHARD_MIN_ROWS or on one core, else one per core but no shard under SHARD_MIN_ROWS / 2 rows (a
 *  guess beyond 2 cores, where nothing was measured). */
export function autoShards(rows: number, cores: number = availableParallelism()): number {
  if (rows < SHARD_MIN_ROWS || cores < 2) return 1;
  return Math.max(1, Math.min(cores, Math.floor(rows / (SHARD_MIN_ROWS / 2))));
}

export interface ShardedTrainerOptions {
  /** Shards, each on its own thread (shard 0 on the calling one); default: the machine's cores. */
  shards?: number;
  /** onnxruntime intra-op threads per shard (default 1: the parallelism comes from the shards). */
  threads?: number;
}

export class ShardedTrainer implements StepDriver {
  /** The state (params, Adam moments, step) as the apply session's values; see Trainer. */
  private readonly slots: StateSlots;
  private lrValues: Record<string, unknown> = {};
  private localBatch: Record<string, unknown> = {};
  /** The workers' acknowledgements of the last setBatch, awaited by the next step. */
  private batchSent: Promise<unknown> = Promise.resolve();
  private broken: Error | null = null;
  private released = false;

  private constructor(
    private readonly split: SplitSpec,
    /** The apply graph's session: it owns the state (params, Adam moments, step). */
    private readonly apply: Session,
    /** Shard 0's gradient session, run on this thread. */
    private readonly local: Session,
    private readonly workers: ShardWorker[],
    readonly ranges: readonly [number, number][],
    readonly keys: readonly string[],
    readonly backend: string,
    public iteration: number,
  ) {
    this.slots = new StateSlots(keys, (v) => apply.dispose(v));
  }

  /** Builds the shard and apply graphs for `split` (its `batch` rows over `shards` shards), starts the
   *  workers and uploads `state`. `encoderLr` feeds 'lr_encoder' (a split with encoderLr needs it). */
  static async create(
    split: SplitSpec,
    state: State,
    lr: number,
    encoderLr?: number,
    o: ShardedTrainerOptions = {},
  ): Promise<ShardedTrainer> {
    const shards = o.shards ?? availableParallelism();
    const threads = o.threads ?? 1;
    const keys = splitStateKeys(split.loss);
    for (const k of keys) if (!state[k]) throw new UserError(`train state is missing '${k}'`);
    const ranges = splitRows(split.batch, shards);
    const models = ranges.map(([a, b]) => programToOnnx(gradProgram(split.loss, b - a, split.batch)));
    const be = ortNodeBackend({ threads });
    const workers = ranges.slice(1).map((_, i) => new ShardWorker(i + 1));
    const sessions: Session[] = [];
    try {
      const loaded = Promise.all(workers.map((w, i) => w.call({ type: 'load', model: models[i + 1], threads })));
      loaded.catch(() => {}); // awaited below, after this thread's sessions load
      const apply = await be.load(programToOnnx(applyProgram(split, shards)));
      sessions.push(apply);
      const local = await be.load(models[0]);
      sessions.push(local);
      await loaded;
      const name = `${be.name}, ${shards} shard${shards > 1 ? 's' : ''} x ${threads} thread${threads > 1 ? 's' : ''}`;
      const t = new ShardedTrainer(split, apply, local, workers, ranges, keys, name, state.step.data[0]);
      for (const k of keys) t.slots.current[k] = apply.upload(state[k]);
      t.setLr(lr, encoderLr);
      return t;
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      await Promise.all(sessions.map((s) => s.release()));
      throw e;
    }
  }

  /** Learning rate of the following steps; `encoderLr` (for splits with encoderLr) defaults to `lr`. */
  setLr(lr: number, encoderLr?: number): void {
    const separate = this.apply.inputNames.includes('lr_encoder');
    if (encoderLr !== undefined && !separate)
      throw new Error('this train step has no lr_encoder input (build it with encoderLr)');
    for (const v of Object.values(this.lrValues)) this.apply.dispose(v);
    const scalar = (x: number): unknown => this.apply.upload(hostTensor([], new Float32Array([x])));
    this.lrValues = { lr: scalar(lr), ...(separate ? { lr_encoder: scalar(encoderLr ?? lr) } : {}) };
  }

  /** Sets the batch of the following steps (e.g. coords and targets, as Trainer.setBatch): each shard
   *  keeps its contiguous range of rows. */
  setBatch(coords: HostTensor, targets: HostTensor): void {
    this.check();
    const parts = [coords, targets];
    this.split.loss.inputs.forEach((inp, i) => {
      const t = parts[i];
      if (t.shape.length !== 2 || t.shape[0] !== this.split.batch || t.shape[1] !== inp.cols)
        throw new UserError(`${inp.name} must be [${this.split.batch}, ${inp.cols}], got [${t.shape}]`);
    });
    /** Rows [a, b) of every input, as fresh arrays (a view would clone its whole buffer to a worker). */
    const rows = (a: number, b: number): Record<string, WireTensor> =>
      Object.fromEntries(
        this.split.loss.inputs.map((inp, i) => [
          inp.name,
          { shape: [b - a, inp.cols], data: parts[i].data.slice(a * inp.cols, b * inp.cols) },
        ]),
      );
    const [a0, b0] = this.ranges[0];
    for (const v of Object.values(this.localBatch)) this.local.dispose(v);
    this.localBatch = Object.fromEntries(Object.entries(rows(a0, b0)).map(([k, t]) => [k, this.local.upload(t)]));
    this.batchSent = Promise.all(
      this.workers.map((w, i) => {
        const part = rows(...this.ranges[i + 1]);
        return w.call(
          { type: 'batch', inputs: part },
          Object.values(part).map((t) => t.data.buffer as ArrayBuffer),
        );
      }),
    );
    this.batchSent.catch(() => {}); // reported by the next step()
  }

  /** One Adam step over the whole batch; the loss (and with `mse: true` the per-column MSE) is
   *  measured before the update, as Trainer.step's. */
  async step(o: { mse?: boolean } = {}): Promise<StepResult> {
    this.check();
    if (Object.keys(this.localBatch).length === 0) throw new Error('ShardedTrainer: setBatch() before step()');
    try {
      await this.batchSent;
    } catch (e) {
      throw await this.fail(e);
    }
    const params: Record<string, WireTensor> = {};
    for (const s of this.split.loss.params) params[s.name] = await this.apply.download(this.slots.current[s.name]);
    // Post the other shards' work first, then run shard 0 here while they run theirs.
    const remote = Promise.all(this.workers.map((w) => w.outputs({ type: 'run', params })));
    remote.catch(() => {}); // awaited below, after shard 0
    const localFeeds: Record<string, unknown> = { ...this.localBatch };
    for (const [k, t] of Object.entries(params)) localFeeds[k] = this.local.upload(t);
    const local = await this.local.run(localFeeds);
    // The apply graph's shard inputs: shard 0's outputs, then the workers' as they arrive.
    const shardFeeds: Record<string, unknown> = {};
    for (const k of this.local.outputNames) {
      shardFeeds[shardInput(0, k)] = this.apply.upload(await this.local.download(local[k]));
      this.local.dispose(local[k]);
    }
    let outs: Record<string, WireTensor>[];
    try {
      outs = await remote;
    } catch (e) {
      throw await this.fail(e);
    }
    outs.forEach((out, i) => {
      for (const [k, t] of Object.entries(out)) shardFeeds[shardInput(i + 1, k)] = this.apply.upload(t);
    });
    const out = await this.apply.run({ ...this.slots.current, ...this.lrValues, ...shardFeeds });
    for (const v of Object.values(shardFeeds)) this.apply.dispose(v);
    const loss = (await this.apply.download(out.loss)).data[0];
    const mse = o.mse ? Float32Array.from((await this.apply.download(out.mse)).data) : undefined;
    this.apply.dispose(out.loss);
    this.apply.dispose(out.mse);
    if (!Number.isFinite(loss)) {
      for (const k of this.keys) this.apply.dispose(out[stateNames.next(k)]);
      throw new DivergenceError(this.iteration, `loss is ${loss}`);
    }
    this.slots.advance(Object.fromEntries(this.keys.map((k) => [k, out[stateNames.next(k)]])));
    this.iteration++;
    return mse ? { loss, mse } : { loss };
  }

  /** As Trainer.keepPrevious: keeps the state the last step started from, without a copy. */
  keepPrevious(): void {
    this.slots.keepPrevious(this.iteration - 1);
  }

  keepCurrent(): void {
    this.slots.keepCurrent(this.iteration);
  }

  get keptIteration(): number | null {
    return this.slots.keptIteration;
  }

  /** Downloads the whole state (params, moments, step), or with `kept` the kept one. */
  async state(o: { kept?: boolean } = {}): Promise<State> {
    const from = this.slots.values(o.kept);
    const st: State = {};
    for (const k of this.keys) {
      const t = await this.apply.download(from[k]);
      st[k] = { shape: [...t.shape], data: Float32Array.from(t.data) };
    }
    return st;
  }

  /** The trained parameters (the split's own list; the argument is there for Trainer's shape). */
  async params(_c?: InrConfig): Promise<Params> {
    const out: Params = {};
    for (const s of this.split.loss.params)
      out[s.name] = (await this.apply.download(this.slots.current[s.name])).data.slice();
    return out;
  }

  /** Ends the workers and releases the sessions. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.broken ??= new UserError('this sharded trainer was released');
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.slots.release();
    for (const v of Object.values(this.lrValues)) this.apply.dispose(v);
    for (const v of Object.values(this.localBatch)) this.local.dispose(v);
    await this.local.release();
    await this.apply.release();
  }

  /** Worker threads still running (S - 1 until release() or a failure ends them, then 0). */
  get workersRunning(): number {
    return this.workers.filter((w) => w.running).length;
  }

  private check(): void {
    if (this.broken) throw this.broken;
  }

  /** A worker failed: end them all (none is left waiting on a step that cannot finish). */
  private async fail(e: unknown): Promise<unknown> {
    this.broken ??= e instanceof Error ? e : new Error(String(e));
    await Promise.all(this.workers.map((w) => w.terminate()));
    return this.broken;
  }
}

/**
 * The driver factory strainer/node's fit and pretrain use on onnxruntime-node's CPU provider: a
 * ShardedTrainer of `shards` shards (auto: autoShards of the step's rows) when that is more than one
 * and the step splits by rows (the identity measurement, Adam), else one session on `backend`.
 */
export function cpuDriver(backend: Backend, shards: number | 'auto' = 'auto'): DriverFactory {
  const single = singleSession(backend);
  return (spec: StepSpec, state, lr, encoderLr) => {
    const n = shards === 'auto' ? autoShards(spec.batch) : shards;
    const splits = (spec.optimizer ?? 'adam') === 'adam' && spec.measurement === undefined;
    if (n <= 1 || !splits) return single(spec, state, lr, encoderLr);
    return ShardedTrainer.create(splitSpec(spec), state, lr, encoderLr, { shards: n });
  };
}
