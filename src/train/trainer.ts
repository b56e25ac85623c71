// Drives a compiled train step on any Session: keeps the state (params, Adam moments, step) as the
// runtime's own values and feeds each step's outputs back as the next step's inputs, disposing the
// old ones. On a GPU runtime the state and the per-column MSE stay on the device (`outputsOnDevice`);
// only the loss (and, when asked, the MSE) is downloaded each step. Every byte passed through
// upload/download is counted (`transferred`, `lastStep`), so what a step moves is measured, not assumed.
import type { Backend, HostTensor, Session } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import type { InrConfig } from '../model/config.ts';
import { paramSpecs, type Params } from '../model/inr.ts';
import { stateKeys, stateNames, trainStepProgram, type StepSpec } from './programs.ts';
import { programToOnnx } from '../onnx/write.ts';
import { UserError } from '../util/errors.ts';

export class DivergenceError extends UserError {
  constructor(
    readonly iteration: number,
    what: string,
  ) {
    super(`training diverged at iteration ${iteration}: ${what} (try a lower learning rate)`);
  }
}

export type State = Record<string, HostTensor>;

/** Fresh optimizer state around the given parameters: moments zero, step 0. */
export function initialState(c: InrConfig, params: Params): State {
  const st: State = {};
  for (const s of paramSpecs(c)) {
    const v = params[s.name];
    if (!v || v.length !== s.shape.reduce((a, b) => a * b, 1))
      throw new UserError(`parameter '${s.name}' is missing or has the wrong size (expected [${s.shape}])`);
    st[s.name] = hostTensor(s.shape, Float32Array.from(v));
    st[stateNames.m(s.name)] = hostTensor(s.shape);
    st[stateNames.v(s.name)] = hostTensor(s.shape);
  }
  st.step = hostTensor([], new Float32Array([0]));
  return st;
}

/** What a training loop needs of whatever runs its train step: Trainer (one session on any Backend)
 *  and ShardedTrainer (src/node/sharded.ts: S sessions on S threads) both are one, so a fit or a
 *  pretraining takes either (FitRun.driver). */
export interface StepDriver {
  readonly backend: string;
  iteration: number;
  setLr(lr: number, encoderLr?: number): void;
  setBatch(coords: HostTensor, targets: HostTensor): void;
  step(o?: { mse?: boolean }): Promise<StepResult>;
  state(o?: { kept?: boolean }): Promise<State>;
  params(c: InrConfig): Promise<Params>;
  /** Keep the state the last step started from (its loss is that step's), or the current one. */
  keepPrevious(): void;
  keepCurrent(): void;
  /** Updates made before the kept state (null: none kept). */
  readonly keptIteration: number | null;
  release(): Promise<void>;
}

/** Makes the driver of a train step for `spec` from `state`; the default is singleSession. */
export type DriverFactory = (spec: StepSpec, state: State, lr: number, encoderLr?: number) => Promise<StepDriver>;

/** One Trainer on `backend`: the train step as one ONNX graph in one session. */
export function singleSession(backend: Backend): DriverFactory {
  return (spec, state, lr, encoderLr) =>
    Trainer.create(backend, programToOnnx(trainStepProgram(spec)), spec.config, state, lr, encoderLr);
}

/** `mse` (per output column, i.e. per signal when pretraining) only when the step was asked for it. */
export interface StepResult {
  loss: number;
  mse?: Float32Array;
}

/** Bytes moved between the host and the runtime through Session.upload/download. On a CPU runtime
 *  these are host copies; on WebGPU they are the host<->device traffic. */
export interface Transfer {
  uploaded: number;
  downloaded: number;
}

/**
 * A train state held as a runtime's values across steps: the current state, the one the last step
 * started from (its loss is that step's), and one kept state (a fit's best so far). Keeping costs no
 * copy — the values are retained, on a GPU on the device — and a value several slots share is disposed
 * once, when no slot holds it any more. Trainer and ShardedTrainer both keep their state here.
 */
export class StateSlots {
  current: Record<string, unknown> = {};
  private previous: Record<string, unknown> | null = null;
  private kept: { values: Record<string, unknown>; iteration: number } | null = null;

  constructor(
    private readonly keys: readonly string[],
    private readonly dispose: (v: unknown) => void,
  ) {}

  /** A step made `next` the current state; the one it started from becomes `previous`. */
  advance(next: Record<string, unknown>): void {
    const older = this.previous;
    this.previous = { ...this.current };
    this.current = next;
    this.drop(older);
  }

  /** Keep the state the last step started from, after `iteration` updates. */
  keepPrevious(iteration: number): void {
    if (!this.previous) throw new Error('keepPrevious: no step has run');
    this.keep(this.previous, iteration);
    this.previous = null;
  }

  /** Keep the current state, after `iteration` updates. */
  keepCurrent(iteration: number): void {
    this.keep({ ...this.current }, iteration);
  }

  get keptIteration(): number | null {
    return this.kept?.iteration ?? null;
  }

  /** The current or the kept state's values. */
  values(kept = false): Record<string, unknown> {
    const v = kept ? this.kept?.values : this.current;
    if (!v) throw new Error('state: no state was kept');
    return v;
  }

  /** Disposes every value of every slot. */
  release(): void {
    const all = new Set<unknown>(
      [this.current, this.previous ?? {}, this.kept?.values ?? {}].flatMap((x) => Object.values(x)),
    );
    this.previous = this.kept = null;
    this.current = {};
    for (const v of all) this.dispose(v);
  }

  private keep(values: Record<string, unknown>, iteration: number): void {
    const old = this.kept;
    this.kept = { values, iteration };
    this.drop(old?.values ?? null);
  }

  /** Disposes the values of `s` that no slot holds any more. */
  private drop(s: Record<string, unknown> | null): void {
    if (!s) return;
    const live = new Set<unknown>(
      [this.current, this.previous ?? {}, this.kept?.values ?? {}].flatMap((x) => Object.values(x)),
    );
    for (const k of this.keys) if (!live.has(s[k])) this.dispose(s[k]);
  }
}

export class Trainer implements StepDriver {
  private constructor(
    readonly session: Session,
    readonly keys: readonly string[],
    private slots: StateSlots,
    private lrValues: Record<string, unknown>,
    private batchValues: Record<string, unknown>,
    public iteration: number,
  ) {}

  /** Since create(): the initial state, learning rates and batches included. */
  readonly transferred: Transfer = { uploaded: 0, downloaded: 0 };
  /** Within the last step() call. */
  lastStep: Transfer = { uploaded: 0, downloaded: 0 };
  /** The state the last step() started from (its loss is that step's), until the next step. */
  private previous: Record<string, unknown> | null = null;
  /** A state kept by keepPrevious(), as the runtime's values (on a GPU: on the device, no copy). */
  private kept: { values: Record<string, unknown>; iteration: number } | null = null;

  private up(t: HostTensor): unknown {
    this.transferred.uploaded += t.data.byteLength;
    return this.session.upload(t);
  }

  private async down(v: unknown): Promise<HostTensor> {
    const t = await this.session.download(v);
    this.transferred.downloaded += t.data.byteLength;
    return t;
  }

  /** `encoderLr` feeds the step's 'lr_encoder' input (a step built with StepSpec.encoderLr needs it). */
  static async create(
    backend: Backend,
    stepModel: Uint8Array,
    c: InrConfig,
    state: State,
    lr: number,
    encoderLr?: number,
  ): Promise<Trainer> {
    const keys = stateKeys(c);
    for (const k of keys) if (!state[k]) throw new UserError(`train state is missing '${k}'`);
    const outputsOnDevice = [...keys.map(stateNames.next), 'mse'];
    const session = await backend.load(stepModel, { outputsOnDevice });
    const t = new Trainer(session, keys, new StateSlots(keys, (v) => session.dispose(v)), {}, {}, state.step.data[0]);
    for (const k of keys) t.slots.current[k] = t.up(state[k]);
    t.setLr(lr, encoderLr);
    return t;
  }

  get backend(): string {
    return this.session.backend;
  }

  /** Learning rate of the following steps; `encoderLr` (for steps with an 'lr_encoder' input) defaults to `lr`. */
  setLr(lr: number, encoderLr?: number): void {
    const separate = this.session.inputNames.includes('lr_encoder');
    if (encoderLr !== undefined && !separate)
      throw new Error('this train step has no lr_encoder input (build it with StepSpec.encoderLr)');
    for (const v of Object.values(this.lrValues)) this.session.dispose(v);
    const scalar = (x: number): unknown => this.up(hostTensor([], new Float32Array([x])));
    this.lrValues = { lr: scalar(lr), ...(separate ? { lr_encoder: scalar(encoderLr ?? lr) } : {}) };
  }

  /** Sets the (coords, targets) batch used by following steps; kept on the device. */
  setBatch(coords: HostTensor, targets: HostTensor): void {
    for (const v of Object.values(this.batchValues)) this.session.dispose(v);
    this.batchValues = { coords: this.up(coords), targets: this.up(targets) };
  }

  /** One Adam step; returns the loss (and with `mse: true` the per-column MSE) measured before the update. */
  async step(o: { mse?: boolean } = {}): Promise<StepResult> {
    const before = { ...this.transferred };
    const feeds: Record<string, unknown> = { ...this.slots.current, ...this.lrValues, ...this.batchValues };
    const out = await this.session.run(feeds);
    const loss = (await this.down(out.loss)).data[0];
    const mse = o.mse ? Float32Array.from((await this.down(out.mse)).data) : undefined;
    this.lastStep = {
      uploaded: this.transferred.uploaded - before.uploaded,
      downloaded: this.transferred.downloaded - before.downloaded,
    };
    // Everything but the next state is read by now (or not wanted: a meta step's inner_loss).
    const next = new Set(this.keys.map(stateNames.next));
    for (const [k, v] of Object.entries(out)) if (!next.has(k)) this.session.dispose(v);
    if (!Number.isFinite(loss)) {
      for (const k of this.keys) this.session.dispose(out[stateNames.next(k)]);
      throw new DivergenceError(this.iteration, `loss is ${loss}`);
    }
    // The state this step started from stays alive until the next step, so keepPrevious() can keep it
    // (the model whose loss was just measured) without a copy.
    this.slots.advance(Object.fromEntries(this.keys.map((k) => [k, out[stateNames.next(k)]])));
    this.iteration++;
    return mse ? { loss, mse } : { loss };
  }

  /** Keeps the state the last step started from — the model whose loss that step returned — replacing
   *  any kept before (a fit's best so far). Costs no copy: the runtime's values are retained. */
  keepPrevious(): void {
    this.slots.keepPrevious(this.iteration - 1);
  }

  /** Keeps the current state (after the last update), e.g. after measuring it on the whole signal. */
  keepCurrent(): void {
    this.slots.keepCurrent(this.iteration);
  }

  /** Updates made before the kept state (null: none kept). */
  get keptIteration(): number | null {
    return this.slots.keptIteration;
  }

  /** Downloads the whole current state (params, moments, step), or with `kept` the state keepPrevious kept. */
  async state(o: { kept?: boolean } = {}): Promise<State> {
    const from = this.slots.values(o.kept);
    const st: State = {};
    for (const k of this.keys) {
      const t = await this.down(from[k]);
      st[k] = { shape: [...t.shape], data: Float32Array.from(t.data) };
    }
    return st;
  }

  async params(c: InrConfig): Promise<Params> {
    const out: Params = {};
    for (const s of paramSpecs(c)) out[s.name] = (await this.down(this.slots.current[s.name])).data.slice();
    return out;
  }

  async release(): Promise<void> {
    this.slots.release();
    for (const v of [...Object.values(this.batchValues), ...Object.values(this.lrValues)]) this.session.dispose(v);
    await this.session.release();
  }
}
