// Fitting one signal (a clip, an image, a volume: any rank), the one path behind the CLI, the Node and
// browser libraries, evaluation, restoration and the benchmarks: `fit` resolves a FitPlan (./plan.ts)
// and `runFit` runs it as it is — the train-step graph for the plan's config, written as ONNX, driven by
// a Trainer on the chosen backend, PSNR recorded before every update (the paper code's convention),
// the result rendered on the signal's grid. FitResult carries everything a caller reports or stores:
// the curves, the true final loss, the whole train state (what a fit bundle keeps) and the output.
import type { Image } from '../data/pixels.ts';
import { asSignal, isImage, sampleCount, type Signal } from '../data/signal.ts';
import type { Backend } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import { initParams, paramSpecs, type Params } from '../model/inr.ts';
import type { Measurement, StepSpec } from './programs.ts';
import { createGridRenderer, type Renderer } from './render.ts';
import { initialState, singleSession, type DriverFactory, type State } from './trainer.ts';
import { latticeCoords, psnrFromMse, toTargetRange } from './grid.ts';
import { DEFAULT_LR, planFit, type FitPlan, type FitSettings } from './plan.ts';
import { fastFit, FAST_PRIOR_RECIPE, FAST_RANDOM_RECIPE, type FastFitResult } from './fast.ts';
import type { OnStep, StepEvent } from './events.ts';
import { rng } from '../util/random.ts';
import { UserError } from '../util/errors.ts';
import { psnrBetween } from '../util/stats.ts';

/** What a fit is given besides its settings: where it runs and what it reports. The Node and web
 *  entries extend it (a backend by name, a prior by name or URL). */
export interface FitOptions<T extends Image | Signal = Image | Signal> extends FitSettings {
  /** The runtime (the core has only the reference interpreter; 'strainer/node' and 'strainer/web' choose one). */
  backend?: Backend;
  /** What runs the train step (default: one session on `backend`; 'strainer/node' shards large steps
   *  over threads on the CPU: src/node/sharded.ts). */
  driver?: DriverFactory;
  /** Once the train step is loaded, before the first update. */
  onStart?: (e: { backend: string; plan: FitPlan }) => void | Promise<void>;
  /** After every update; return false to stop. */
  onStep?: OnStep;
  /** Render the model every this many updates into onPreview (render time is not in the step times). */
  previewEvery?: number;
  /** The fit so far, on the signal's grid, in the target's own form (unclamped, [0, 1] scale). */
  onPreview?: (output: T, it: number) => void | Promise<void>;
  /** Aborting stops after the current step; the result holds what was reached. */
  signal?: AbortSignal;
}

export type FitStop = 'iters' | 'psnr' | 'time' | 'user';

/** A finished (or stopped) fit. */
export interface FitResult<T extends Image | Signal = Image | Signal> {
  /** What was run: the resolved settings. */
  plan: FitPlan;
  /** The final model rendered on the signal's grid, in the target's form (unclamped, [0, 1] scale). */
  output: T;
  /** PSNR (dB, [0, 1] scale) measured before update i, for each update made. */
  psnr: number[];
  /** The loss before update i (mean squared error in the target range). */
  loss: number[];
  /** PSNR of `output` (the returned state's rendering) against the signal. */
  finalPsnr: number;
  /** The trainer's loss of the returned state when the fit measured it (the best state), else the last
   *  step's (NaN before any update): what bundles record as train.final_loss. */
  finalLoss: number;
  /** Updates made (plan.iters unless a stopping rule or the caller ended the fit sooner). */
  iters: number;
  /** Why the fit ended: its iterations, the target PSNR, the time limit, or the caller (onStep, abort). */
  stop: FitStop;
  /** Ended by the caller (onStep returned false, or the abort signal). */
  stopped: boolean;
  /** With a target PSNR: where it was first measured on the whole signal (the model after `iteration`
   *  updates, at `seconds` of fitting), or null. */
  reached: { psnr: number; iteration: number; seconds: number } | null;
  /** With milestones (FitSettings.milestones): where each was first measured on the whole signal, as
   *  `reached` (keyed by the PSNR); a milestone never measured is absent. This includes what no step event
   *  carries: the fast recipe's first evaluation, before any step. */
  milestones?: Record<string, { psnr: number; iteration: number; seconds: number }>;
  /** The best whole-signal PSNR measured during the fit, after `iteration` updates, and whether the
   *  result is that state (`returned`) rather than the last one: a fit never hands back worse than its best. */
  best: { iteration: number; psnr: number; returned: boolean } | null;
  stepMs: number[];
  /** Wall time of the fit in seconds: from the first update to the returned result, every evaluation
   *  the stopping rules and the best-state choice needed included (start-up excluded). */
  seconds: number;
  /** The runtime's name, e.g. 'onnxruntime-node (cpu)'. */
  backend: string;
  params: Params;
  /** The returned train state (params, Adam moments, step): what a fit bundle stores to train on. */
  state: State;
}

/** How runFit is driven beyond the plan (fit's options, and a restoration's forward model). */
export interface FitRun {
  backend: Backend;
  /** What runs the train step (default: one session on `backend`; 'strainer/node' shards it over threads). */
  driver?: DriverFactory;
  onStart?: FitOptions['onStart'];
  onStep?: OnStep;
  /** Render after these update counts (0: the initial model; never the last, whose rendering is `output`). */
  previewAt?: (k: number) => boolean;
  onPreview?: (output: Float32Array, k: number) => void | Promise<void>;
  signal?: AbortSignal;
  /** A forward model between the INR and the loss (src/restore), with the observation it is fitted to. */
  measurement?: Measurement;
  observed?: Image | Signal;
}

/** The initial parameters of a plan: the prior's where it gives them, a fresh SIREN init for the rest. */
export function planParams(plan: FitPlan): Params {
  const fresh = initParams(plan.config, plan.seed);
  const out: Params = {};
  for (const s of paramSpecs(plan.config)) out[s.name] = plan.init?.[s.name] ?? fresh[s.name];
  return out;
}

/** A Float32Array in the form of `like` (an Image stays an Image, a Signal a Signal). */
export function shaped<T extends Image | Signal>(like: T, data: Float32Array): T {
  return (
    isImage(like)
      ? { width: like.width, height: like.height, channels: like.channels, data }
      : { dims: [...like.dims], channels: like.channels, data }
  ) as T;
}

/** Fits `target` with the settings in `o` on `o.backend`: planFit, then runFit. */
export async function fit<T extends Image | Signal>(target: T, o: FitOptions<T> = {}): Promise<FitResult<T>> {
  if (!o.backend)
    throw new UserError("fit needs a backend: use fit from 'strainer/node' or 'strainer/web', or pass { backend }");
  const sig = asSignal(target);
  const plan = planFit({ dims: sig.dims, channels: sig.channels }, o);
  const every = o.previewEvery ?? 0;
  const run: FitRun = { backend: o.backend, driver: o.driver, onStart: o.onStart, onStep: o.onStep, signal: o.signal };
  if (o.onPreview && every > 0) {
    const onPreview = o.onPreview;
    run.previewAt = (k) => k > 0 && k % every === 0;
    run.onPreview = (data, k) => onPreview(shaped(target, data), k);
  }
  return runFit(target, plan, run);
}

/** Runs a resolved plan on `target`: the paper's step loop, or the fast recipe (./fast.ts). */
export async function runFit<T extends Image | Signal>(target: T, plan: FitPlan, run: FitRun): Promise<FitResult<T>> {
  const sig = asSignal(target);
  const c = plan.config;
  if (sig.dims.join('x') !== plan.dims.join('x') || sig.channels !== plan.channels)
    throw new UserError(
      `the plan is for ${plan.dims.join('x')} x ${plan.channels}, the signal is ${sig.dims.join('x')} x ${sig.channels}`,
    );
  if (plan.recipe === 'fast') {
    if (run.measurement) throw new UserError('a fit through a forward model (restoration) takes the paper recipe');
    return runFast(target, plan, run);
  }
  const rows = sampleCount(sig.dims);
  const batch = plan.batch ?? rows;
  const spec: StepSpec = {
    config: c,
    batch,
    measurement: run.measurement,
    encoderLr: plan.encoderLr !== undefined,
    optimizer: plan.optimizer,
  };
  const start = planParams(plan);
  const trainer = await (run.driver ?? singleSession(run.backend))(
    spec,
    initialState(c, start),
    plan.lr,
    plan.encoderLr,
  );
  let renderer: Renderer | null = null,
    failed = false;
  try {
    // One render graph for the previews, the evaluations the stopping rules need and the final output.
    const rend = await createGridRenderer(run.backend, c, { dims: sig.dims, lattice: plan.lattice }, plan.range);
    renderer = rend;
    const previewAt = run.onPreview ? (run.previewAt ?? (() => false)) : () => false;
    if (previewAt(0)) await run.onPreview!(await rend.render(start), 0);
    const coords = latticeCoords(sig.dims, plan.lattice ?? sig.dims);
    const observed = run.observed ? asSignal(run.observed) : sig;
    const targets = toTargetRange(observed.data, plan.range);
    // The step's loss measures the whole signal when it sees every sample and no forward model sits
    // between the fit and the signal; otherwise a whole-signal PSNR needs a rendering (measureWhole).
    const full = batch === rows;
    const exact = full && !run.observed;
    if (full)
      trainer.setBatch(
        hostTensor([rows, c.inDim], coords),
        hostTensor([sampleCount(observed.dims), c.outDim], targets),
      );
    const r = rng(plan.seed + 1);
    const psnr: number[] = [],
      loss: number[] = [],
      stepMs: number[] = [];
    let stop: FitStop = 'iters',
      reached: FitResult['reached'] = null;
    let best: { iteration: number; psnr: number } | null = null;
    const measureWhole = async (): Promise<number> => psnrBetween(await rend.render(await trainer.params(c)), sig.data);
    // Random batches: a whole-signal evaluation when the batches' running PSNR comes within 1 dB of the
    // target, at most every 10 steps (each costs a forward pass over the whole grid).
    let sinceEval = Infinity,
      running = NaN,
      lastWhole: { it: number; psnr: number } | null = null;
    const passed: NonNullable<FitResult['milestones']> = {};
    const pass = (psnr: number, iteration: number, at: number): void => {
      for (const m of plan.milestones ?? [])
        if (psnr >= m && passed[String(m)] === undefined) passed[String(m)] = { psnr, iteration, seconds: at };
    };
    await run.onStart?.({ backend: trainer.backend, plan });
    const t0 = performance.now();
    const seconds = (): number => (performance.now() - t0) / 1000;
    for (let it = 0; it < plan.iters; it++) {
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
      const ts = performance.now();
      const step = await trainer.step();
      const ms = performance.now() - ts;
      const p = psnrFromMse(step.loss, plan.range);
      psnr.push(p);
      loss.push(step.loss);
      stepMs.push(ms);
      if (exact && (best === null || p > best.psnr)) {
        // The model before this update, measured on the whole signal: keep it (no copy) while it is the best.
        best = { iteration: it, psnr: p };
        trainer.keepPrevious();
      }
      if (plan.untilPsnr !== undefined) {
        if (exact && p >= plan.untilPsnr) {
          reached = { psnr: p, iteration: it, seconds: seconds() };
          stop = 'psnr';
        } else if (!exact) {
          running = Number.isNaN(running) ? p : 0.8 * running + 0.2 * p;
          if (++sinceEval >= 10 && running >= plan.untilPsnr - 1) {
            sinceEval = 0;
            const whole = await measureWhole();
            lastWhole = { it, psnr: whole };
            if (best === null || whole > best.psnr) {
              best = { iteration: it + 1, psnr: whole };
              trainer.keepCurrent();
            }
            if (whole >= plan.untilPsnr) {
              reached = { psnr: whole, iteration: it + 1, seconds: seconds() };
              stop = 'psnr';
            }
          }
        }
      }
      const last = it + 1 === plan.iters;
      const event: StepEvent = { it, iters: plan.iters, psnr: p, loss: step.loss, ms, seconds: seconds() };
      if (exact) event.whole = p;
      else if (lastWhole !== null && lastWhole.it === it) event.whole = lastWhole.psnr;
      if (event.whole !== undefined) pass(event.whole, exact ? it : it + 1, event.seconds);
      if (stop === 'iters' && plan.timeLimit !== undefined && event.seconds >= plan.timeLimit && !last) stop = 'time';
      if (((run.onStep && (await run.onStep(event)) === false) || run.signal?.aborted) && !last && stop === 'iters')
        stop = 'user';
      if (stop !== 'iters') break;
      if (!last && previewAt(it + 1)) await run.onPreview!(await rend.render(await trainer.params(c)), it + 1);
    }
    // What the fit hands back: the last state, unless a measured state was better (Adam can spike near
    // convergence) or the target was reached (the state that reached it, not the unmeasured next one).
    let state = await trainer.state();
    const lastParams = (st: State): Params => Object.fromEntries(paramSpecs(c).map((s) => [s.name, st[s.name].data]));
    let params = lastParams(state);
    let output = stop === 'psnr' && trainer.keptIteration !== null ? null : await rend.render(params);
    let finalPsnr = output ? psnrBetween(output, sig.data) : -Infinity;
    let returned: 'last' | 'best' = 'last';
    if (best !== null && trainer.keptIteration !== null && (output === null || best.psnr > finalPsnr)) {
      state = await trainer.state({ kept: true });
      params = lastParams(state);
      output = await rend.render(params);
      finalPsnr = psnrBetween(output, sig.data);
      returned = 'best';
    }
    return {
      plan,
      output: shaped(target, output!),
      psnr,
      loss,
      finalPsnr,
      // The returned state's own loss when it was measured (a best state), else the last step's.
      finalLoss:
        returned === 'best' && best!.iteration < loss.length
          ? loss[best!.iteration]
          : loss.length > 0
            ? loss[loss.length - 1]
            : NaN,
      iters: psnr.length,
      stop,
      stopped: stop === 'user',
      reached,
      ...(plan.milestones ? { milestones: passed } : {}),
      best: best === null ? null : { ...best, returned: returned === 'best' },
      stepMs,
      seconds: seconds(),
      backend: trainer.backend,
      params,
      state,
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

const FAST_STOP: Record<FastFitResult['stopped'], FitStop> = {
  target: 'psnr',
  seconds: 'time',
  iters: 'iters',
  callback: 'user',
};

/** The fast recipe (./fast.ts) behind the same options and result as the paper's loop: its steps'
 *  batch PSNR and loss are the curves, its whole-signal evaluations the events' `whole`, decide `reached`
 *  and keep the best state; the result is a whole SIREN with fresh optimizer state. */
async function runFast<T extends Image | Signal>(target: T, plan: FitPlan, run: FitRun): Promise<FitResult<T>> {
  const sig = asSignal(target);
  const c = plan.config;
  const start = planParams(plan);
  const encoder = plan.init ? start : null;
  const loss: number[] = [],
    psnr: number[] = [],
    stepMs: number[] = [];
  let last = 0;
  await run.onStart?.({ backend: run.backend.name, plan });
  const previewAt = run.onPreview ? (run.previewAt ?? (() => false)) : () => false;
  let rend: Renderer | null = null;
  const render = async (p: Params): Promise<Float32Array> =>
    (rend ??= await createGridRenderer(run.backend, c, { dims: sig.dims, lattice: plan.lattice }, plan.range)).render(
      p,
    );
  if (previewAt(0)) await run.onPreview!(await render(start), 0);
  const r = await fastFit(sig, {
    config: c,
    backend: run.backend,
    encoder,
    seed: plan.seed,
    range: plan.range,
    ...(plan.lattice ? { lattice: plan.lattice } : {}),
    recipe: encoder ? FAST_PRIOR_RECIPE : FAST_RANDOM_RECIPE,
    lrScale: plan.lr / DEFAULT_LR,
    ...(plan.batch !== undefined ? { maxBatch: plan.batch } : {}),
    limits: { iters: plan.iters, seconds: plan.timeLimit, targetPsnr: plan.untilPsnr },
    ...(plan.milestones ? { milestones: plan.milestones } : {}),
    previewAt,
    onPreview: async (p, k) => run.onPreview?.(await render(p), k),
    onStep: async (s) => {
      psnr.push(s.psnr);
      loss.push(s.loss);
      stepMs.push((s.seconds - last) * 1000);
      const event: StepEvent = {
        it: s.it,
        iters: plan.iters,
        psnr: s.psnr,
        loss: s.loss,
        ms: (s.seconds - last) * 1000,
        seconds: s.seconds,
      };
      last = s.seconds;
      if (s.whole !== undefined) event.whole = s.whole;
      const more = (await run.onStep?.(event)) !== false && !run.signal?.aborted;
      return more;
    },
  }).finally(() => rend?.release());
  const hit = plan.untilPsnr !== undefined ? r.evals.find((e) => e.psnr >= plan.untilPsnr!) : undefined;
  const passed: NonNullable<FitResult['milestones']> = {};
  for (const m of plan.milestones ?? []) {
    const e = r.evals.find((x) => x.psnr >= m);
    if (e) passed[String(m)] = { psnr: e.psnr, iteration: e.it, seconds: e.seconds };
  }
  const state = initialState(c, r.params); // fresh moments: further training starts as from an init
  const targets = toTargetRange(sig.data, plan.range),
    fitted = toTargetRange(r.output, plan.range);
  let se = 0;
  for (let i = 0; i < targets.length; i++) se += (fitted[i] - targets[i]) ** 2;
  return {
    plan,
    output: shaped(target, r.output),
    psnr,
    loss,
    finalPsnr: r.finalPsnr,
    finalLoss: se / targets.length,
    iters: r.curve.length,
    stop: FAST_STOP[r.stopped],
    stopped: r.stopped === 'callback',
    reached: hit ? { psnr: hit.psnr, iteration: hit.it, seconds: hit.seconds } : null,
    ...(plan.milestones ? { milestones: passed } : {}),
    best: r.best === null ? null : { iteration: r.best.it, psnr: r.best.psnr, returned: r.best.returned },
    stepMs,
    seconds: r.seconds,
    backend: r.backend,
    params: r.params,
    state,
  };
}

/** Iterations reported in summaries (`strainer fit --json`, evaluation tables; the paper's table columns). */
export const REPORT_ITERS = [0, 10, 50, 100, 200, 500, 1000, 2000];

/** PSNR at the reported iterations: before the update at i < iters, the final model at i = iters. */
export function psnrAt(r: Pick<FitResult, 'psnr' | 'finalPsnr' | 'iters'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of REPORT_ITERS)
    if (i < r.psnr.length) out[String(i)] = +r.psnr[i].toFixed(3);
    else if (i === r.iters) out[String(i)] = +r.finalPsnr.toFixed(3);
  return out;
}

/** The PSNR curve with the final model's appended: entry i is the model after i updates (length iters + 1). */
export function psnrCurve(r: Pick<FitResult, 'psnr' | 'finalPsnr'>): number[] {
  return [...r.psnr, r.finalPsnr];
}
