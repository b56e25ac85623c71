// Drives a compiled train step on any Session: keeps the state (params, Adam moments, step) as the
// runtime's own values and feeds each step's outputs back as the next step's inputs, disposing the
// old ones. On a GPU runtime the state and the per-column MSE stay on the device (`outputsOnDevice`);
// only the loss (and, when asked, the MSE) is downloaded each step. Every byte passed through
// upload/download is counted (`transferred`, `lastStep`), so what a step moves is measured, not assumed.
import type { Backend, HostTensor, Session } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import type { InrConfig } from '../model/config.ts';
import { paramSpecs, type Params } from '../model/inr.ts';
import { stateKeys, stateNames } from './programs.ts';
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

export class Trainer {
  private constructor(
    readonly session: Session,
    readonly keys: readonly string[],
    private values: Record<string, unknown>,
    private lrValues: Record<string, unknown>,
    private batchValues: Record<string, unknown>,
    public iteration: number,
  ) {}

  /** Since create(): the initial state, learning rates and batches included. */
  readonly transferred: Transfer = { uploaded: 0, downloaded: 0 };
  /** Within the last step() call. */
  lastStep: Transfer = { uploaded: 0, downloaded: 0 };

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
    const t = new Trainer(session, keys, {}, {}, {}, state.step.data[0]);
    for (const k of keys) t.values[k] = t.up(state[k]);
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
    const feeds: Record<string, unknown> = { ...this.values, ...this.lrValues, ...this.batchValues };
    const out = await this.session.run(feeds);
    const loss = (await this.down(out.loss)).data[0];
    const mse = o.mse ? Float32Array.from((await this.down(out.mse)).data) : undefined;
    this.lastStep = {
      uploaded: this.transferred.uploaded - before.uploaded,
      downloaded: this.transferred.downloaded - before.downloaded,
    };
    this.session.dispose(out.loss);
    this.session.dispose(out.mse);
    if (!Number.isFinite(loss)) {
      for (const k of this.keys) this.session.dispose(out[stateNames.next(k)]);
      throw new DivergenceError(this.iteration, `loss is ${loss}`);
    }
    for (const k of this.keys) {
      this.session.dispose(this.values[k]);
      this.values[k] = out[stateNames.next(k)];
    }
    this.iteration++;
    return mse ? { loss, mse } : { loss };
  }

  /** Downloads the whole state (params, moments, step). */
  async state(): Promise<State> {
    const st: State = {};
    for (const k of this.keys) {
      const t = await this.down(this.values[k]);
      st[k] = { shape: [...t.shape], data: Float32Array.from(t.data) };
    }
    return st;
  }

  async params(c: InrConfig): Promise<Params> {
    const out: Params = {};
    for (const s of paramSpecs(c)) out[s.name] = (await this.down(this.values[s.name])).data.slice();
    return out;
  }

  async release(): Promise<void> {
    for (const v of [
      ...Object.values(this.values),
      ...Object.values(this.batchValues),
      ...Object.values(this.lrValues),
    ])
      this.session.dispose(v);
    await this.session.release();
  }
}
