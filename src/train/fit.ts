// Fit one signal (a clip, an image, a volume: any rank): build the train-step graph for the config,
// write it as ONNX, drive it with a Trainer on the chosen backend, record PSNR before every update (the
// paper code's convention), then render the result. The one step loop behind the CLI, restoration, the
// benchmarks and the browser.
import type { Image } from '../data/pixels.ts';
import { asSignal, sampleCount, type Signal } from '../data/signal.ts';
import type { Backend } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import type { InrConfig } from '../model/config.ts';
import { validateConfig } from '../model/config.ts';
import { initParams, paramSpecs, type Params } from '../model/inr.ts';
import { programToOnnx } from '../onnx/write.ts';
import { trainStepProgram, type Measurement } from './programs.ts';
import { createRenderer, createGridRenderer, type Renderer } from './render.ts';
import { Trainer, initialState, type State } from './trainer.ts';
import { latticeCoords, psnrFromMse, toTargetRange, type TargetRange } from './grid.ts';
import { rng } from '../util/random.ts';
import { UserError } from '../util/errors.ts';
import { psnrBetween } from '../util/stats.ts';

export interface FitOptions {
  config: InrConfig;
  iters: number;
  lr: number;
  seed: number;
  backend: Backend;
  range?: TargetRange;
  /** Start from these parameters (e.g. a prior's encoder); missing ones come from a fresh init. */
  init?: Partial<Params>;
  /** Coordinates per step; default the whole grid. Fewer draws that many samples uniformly at random
   *  (with replacement) each step: volumes too large for one step. */
  batch?: number;
  /** The lattice the signal's samples sit on (latticeCoords; default its own dims): a clip fitted from
   *  an audio prior keeps the prior's sample spacing (resolveFit decides). */
  lattice?: number[];
  measurement?: Measurement;
  /** Observation to fit when a measurement is used (e.g. the low-resolution image). */
  observed?: Image | Signal;
  /** Learning rate of the encoder's parameters (default: `lr`, the paper's protocol); 0 keeps a
   *  prior's encoder fixed, so only the decoder combines its features. */
  encoderLr?: number;
  /** Also return the whole final train state (params and Adam moments), e.g. to save a bundle that trains on. */
  keepState?: boolean;
  /** Render the model after these numbers of updates (0: the initial model; never `iters`, whose
   *  rendering is the result's `output`) into onRender: previews, measurements against a truth. */
  renderAt?: (k: number) => boolean;
  /** The signal (row-major, channels last, in [0,1], unclamped) after k updates, for each k chosen by renderAt. Render time
   *  is not in the step times. */
  onRender?: (output: Float32Array, k: number) => void | Promise<void>;
  /** Once the train step is loaded, before the first update (`backend`: the runtime's name). */
  onStart?: (backend: string) => void | Promise<void>;
  /** Called after update `it` (0-based); `trainer` holds the updated state (e.g. to evaluate against a truth). */
  onStep?: (
    it: number,
    psnr: number,
    loss: number,
    stepMs: number,
    trainer: Trainer,
  ) => void | boolean | Promise<void | boolean>;
}

export interface FitResult {
  /** PSNR (dB, [0,1] scale) of the fitted signal measured before update i, for i = 0..iters-1. */
  psnr: number[];
  finalPsnr: number;
  stepMs: number[];
  params: Params;
  /** With `keepState`: the whole final train state (params, Adam moments, step), what a fit bundle stores. */
  state?: State;
  /** Rendering of the final model on the signal's grid, row-major with channels last (an image's HWC), in [0,1] (unclamped). */
  output: Float32Array;
  stepModel: Uint8Array;
  backend: string;
}

export function startParams(c: InrConfig, seed: number, init?: Partial<Params>): Params {
  const fresh = initParams(c, seed);
  const out: Params = {};
  for (const s of paramSpecs(c)) {
    const given = init?.[s.name];
    if (given && given.length !== fresh[s.name].length)
      throw new UserError(`initial value for '${s.name}' has ${given.length} values, the model needs [${s.shape}]`);
    out[s.name] = given ?? fresh[s.name];
  }
  return out;
}

/** The INR with these weights on an h x w grid, HWC in [0,1] (unclamped). */
export async function render(
  backend: Backend,
  c: InrConfig,
  params: Params,
  h: number,
  w: number,
  range: TargetRange = 'unit',
): Promise<Float32Array> {
  const r = await createRenderer(backend, c, h, w, range);
  try {
    return await r.render(params);
  } finally {
    await r.release();
  }
}

export async function fitSignal(input: Image | Signal, o: FitOptions): Promise<FitResult> {
  const sig = asSignal(input);
  const c = validateConfig({ ...o.config, outDim: sig.channels });
  if (c.inDim !== sig.dims.length)
    throw new UserError(
      `a ${sig.dims.length}-D signal needs a model with inDim ${sig.dims.length}; the config has inDim ${c.inDim}`,
    );
  const range = o.range ?? 'unit';
  const rows = sampleCount(sig.dims);
  const batch = o.batch ?? rows;
  if (!Number.isInteger(batch) || batch > rows || batch < 1)
    throw new UserError(`batch must be an integer between 1 and ${rows} (the signal's sample count), got ${batch}`);
  const encLr = o.encoderLr;
  if (encLr !== undefined && !(Number.isFinite(encLr) && encLr >= 0))
    throw new UserError(`encoder learning rate must be a number >= 0, got ${encLr}`);
  const stepModel = programToOnnx(
    trainStepProgram({
      config: c,
      batch,
      ...(o.measurement ? { measurement: o.measurement } : {}),
      ...(encLr !== undefined ? { encoderLr: true } : {}),
    }),
  );
  const start = startParams(c, o.seed, o.init);
  const trainer = await Trainer.create(o.backend, stepModel, c, initialState(c, start), o.lr, encLr);
  let renderer: Renderer | null = null,
    failed = false;
  try {
    // One render graph for the previews and the final output.
    const grid = { dims: sig.dims, ...(o.lattice ? { lattice: o.lattice } : {}) };
    renderer = await createGridRenderer(o.backend, c, grid, range);
    const renderAt = o.onRender ? (o.renderAt ?? (() => false)) : () => false;
    if (renderAt(0)) await o.onRender!(await renderer.render(start), 0);
    const coords = latticeCoords(sig.dims, o.lattice ?? sig.dims);
    const target = o.observed ? asSignal(o.observed) : sig;
    const targets = toTargetRange(target.data, range);
    const full = batch === rows;
    if (full)
      trainer.setBatch(hostTensor([rows, c.inDim], coords), hostTensor([sampleCount(target.dims), c.outDim], targets));
    const r = rng(o.seed + 1);
    const psnr: number[] = [];
    const stepMs: number[] = [];
    await o.onStart?.(trainer.backend);
    for (let it = 0; it < o.iters; it++) {
      if (!full) {
        const bc = new Float32Array(batch * c.inDim),
          bt = new Float32Array(batch * c.outDim);
        for (let k = 0; k < batch; k++) {
          const p = r.int(rows);
          bc.set(coords.subarray(p * c.inDim, (p + 1) * c.inDim), k * c.inDim);
          bt.set(targets.subarray(p * c.outDim, (p + 1) * c.outDim), k * c.outDim);
        }
        trainer.setBatch(hostTensor([batch, c.inDim], bc), hostTensor([batch, c.outDim], bt));
      }
      const t0 = performance.now();
      const { loss } = await trainer.step();
      const ms = performance.now() - t0;
      const p = psnrFromMse(loss, range);
      psnr.push(p);
      stepMs.push(ms);
      if (o.onStep && (await o.onStep(it, p, loss, ms, trainer)) === false) break;
      if (it + 1 < o.iters && renderAt(it + 1))
        await o.onRender!(await renderer.render(await trainer.params(c)), it + 1);
    }
    const state = o.keepState ? await trainer.state() : undefined;
    const params: Params = state
      ? Object.fromEntries(paramSpecs(c).map((s) => [s.name, state[s.name].data]))
      : await trainer.params(c);
    const output = await renderer.render(params);
    return {
      psnr,
      finalPsnr: psnrBetween(output, sig.data),
      stepMs,
      params,
      ...(state ? { state } : {}),
      output,
      stepModel,
      backend: trainer.backend,
    };
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    // After a failure (a lost WebGPU device, divergence) that error is the one to report, not the release's.
    const quiet = (e: unknown): void => {
      if (!failed) throw e;
    };
    await renderer?.release().catch(quiet);
    await trainer.release().catch(quiet);
  }
}

/** Iterations reported in summaries (`strainer fit --json`, the Node library's fit; the paper's table columns). */
export const REPORT_ITERS = [0, 10, 50, 100, 200, 500, 1000, 2000];

/** PSNR at the reported iterations <= iters: before the update at i < iters, the final model at i = iters. */
export function psnrAt(r: Pick<FitResult, 'psnr' | 'finalPsnr'>, iters: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of REPORT_ITERS)
    if (i < r.psnr.length) out[String(i)] = +r.psnr[i].toFixed(3);
    else if (i === iters) out[String(i)] = +r.finalPsnr.toFixed(3);
  return out;
}
