// Drives a compiled train step on any Session: keeps the state (params, Adam moments, step) as the
// runtime's own values and feeds each step's outputs back as the next step's inputs, disposing the
// old ones. Only the loss and the per-column MSE are downloaded each step.
import type { Backend, HostTensor, Session } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import type { InrConfig } from '../model/config.ts';
import { paramSpecs, type Params } from '../model/inr.ts';
import { stateKeys, stateNames } from './programs.ts';
import { UserError } from '../util/errors.ts';

export class DivergenceError extends UserError {
  constructor(readonly iteration: number, what: string) {
    super(`training diverged at iteration ${iteration}: ${what} (try a lower learning rate)`);
  }
}

export type State = Record<string, HostTensor>;

/** Fresh optimizer state around the given parameters: moments zero, step 0. */
export function initialState(c: InrConfig, params: Params): State {
  const st: State = {};
  for (const s of paramSpecs(c)) {
    const v = params[s.name];
    if (!v || v.length !== s.shape.reduce((a, b) => a * b, 1)) throw new UserError(`parameter '${s.name}' is missing or has the wrong size (expected [${s.shape}])`);
    st[s.name] = hostTensor(s.shape, Float32Array.from(v));
    st[stateNames.m(s.name)] = hostTensor(s.shape);
    st[stateNames.v(s.name)] = hostTensor(s.shape);
  }
  st.step = hostTensor([], new Float32Array([0]));
  return st;
}

export interface StepResult { loss: number; mse: Float32Array }

export class Trainer {
  private constructor(
    readonly session: Session,
    readonly keys: readonly string[],
    private values: Record<string, unknown>,
    private lrValue: unknown,
    private batchValues: Record<string, unknown>,
    public iteration: number,
  ) {}

  static async create(backend: Backend, stepModel: Uint8Array, c: InrConfig, state: State, lr: number): Promise<Trainer> {
    const keys = stateKeys(c);
    const outputsOnDevice = keys.map(stateNames.next);
    const session = await backend.load(stepModel, { outputsOnDevice });
    const values: Record<string, unknown> = {};
    for (const k of keys) {
      if (!state[k]) throw new UserError(`train state is missing '${k}'`);
      values[k] = session.upload(state[k]);
    }
    const it = state.step.data[0];
    return new Trainer(session, keys, values, session.upload(hostTensor([], new Float32Array([lr]))), {}, it);
  }

  get backend(): string { return this.session.backend; }

  setLr(lr: number): void {
    this.session.dispose(this.lrValue);
    this.lrValue = this.session.upload(hostTensor([], new Float32Array([lr])));
  }

  /** Sets the (coords, targets) batch used by following steps; kept on the device. */
  setBatch(coords: HostTensor, targets: HostTensor): void {
    for (const v of Object.values(this.batchValues)) this.session.dispose(v);
    this.batchValues = { coords: this.session.upload(coords), targets: this.session.upload(targets) };
  }

  /** One Adam step; returns the loss and per-column MSE measured before the update. */
  async step(): Promise<StepResult> {
    const feeds: Record<string, unknown> = { ...this.values, lr: this.lrValue, ...this.batchValues };
    const out = await this.session.run(feeds);
    const loss = (await this.session.download(out.loss)).data[0];
    const mse = (await this.session.download(out.mse)).data;
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
    return { loss, mse: Float32Array.from(mse) };
  }

  /** Downloads the whole state (params, moments, step). */
  async state(): Promise<State> {
    const st: State = {};
    for (const k of this.keys) {
      const t = await this.session.download(this.values[k]);
      st[k] = { dims: [...t.dims], data: Float32Array.from(t.data) };
    }
    return st;
  }

  async params(c: InrConfig): Promise<Params> {
    const out: Params = {};
    for (const s of paramSpecs(c)) out[s.name] = (await this.session.download(this.values[s.name])).data.slice();
    return out;
  }

  async release(): Promise<void> {
    for (const v of [...Object.values(this.values), ...Object.values(this.batchValues), this.lrValue]) this.session.dispose(v);
    await this.session.release();
  }
}
