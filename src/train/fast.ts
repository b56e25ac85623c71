// A fast fit ("time to quality", issue 18): instead of the paper's recipe (Adam on every parameter, the
// whole signal every step) the fit runs in stages. Each stage freezes a prior's first k layers, so
// their output is cached once (./head.ts) and a step trains only the head, on a random subset of the
// cached rows; the first stage starts from the closed-form decoder (./ridge.ts), and the fit moves to
// the next stage (fewer frozen layers) when the smoothed batch PSNR stops rising. Whether the whole
// signal reached a PSNR is decided by whole-signal evaluations from the cache, run (inside the timed
// clock) only when the batch loss, an unbiased estimate of the whole-signal MSE, says one may pass.
// The result is an ordinary SIREN: the frozen layers' prior weights plus the trained head.
import type { Image } from '../data/pixels.ts';
import { asSignal, sampleCount, type Signal } from '../data/signal.ts';
import type { Backend } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import { validateConfig, type InrConfig } from '../model/config.ts';
import { headConfig, headParamName, initParams, isEncoderParam, paramSpecs, type Params } from '../model/inr.ts';
import { programToOnnx } from '../onnx/write.ts';
import { stateKeys, stateNames } from './programs.ts';
import type { AdamConfig } from './adam.ts';
import { cacheWidth, headStepProgram } from './head.ts';
import { cachingBackend, FeatureCache } from './cache.ts';
import { drawFrom, shuffle, variationCdf } from './sampling.ts';
import { Trainer, initialState, type State } from './trainer.ts';
import { createGridRenderer } from './render.ts';
import { latticeCoords, psnrFromMse, toTargetRange, type TargetRange } from './grid.ts';
import { rng, type Rng } from '../util/random.ts';
import { psnrBetween } from '../util/stats.ts';
import { UserError } from '../util/errors.ts';

/** One stage: `frozen` leading layers fixed (0: train everything), `fraction` of the samples per step,
 *  Adam peak learning rates of the head's sine layers (`lr`) and of its linear decoder (`decoderLr`). */
export interface Stage {
  frozen: number;
  fraction: number;
  lr: number;
  decoderLr: number;
  /** Move on after this many steps even without a stall. */
  maxSteps?: number;
  /** Warm-up steps of this stage (default the recipe's). */
  warmup?: number;
  /** Move on once the smoothed batch PSNR reaches this (dB). */
  untilPsnr?: number;
  /** This stage's stall rule (default the recipe's). */
  stall?: { window: number; minDb: number };
  /** Fraction of each batch drawn in proportion to the target's local variation (sum over axes of
   *  |forward difference|), the rest uniformly; 0 (default): uniform. This weights detailed regions
   *  more in the loss. */
  focus?: number;
}

export interface FastRecipe {
  stages: Stage[];
  /** Steps of linear learning-rate warm-up at the start of every stage. */
  warmup: number;
  /** Relative ridge penalty of the closed-form decoder that starts the first stage (ridge.ts); null:
   *  keep the decoder's random init. */
  ridge: number | null;
  /** Move to the next stage when the smoothed batch PSNR rose less than `minDb` over the last `window` steps. */
  stall: { window: number; minDb: number };
  /** Fewest rows per step, whatever the fraction. */
  minBatch: number;
  /** Re-solve the decoder in closed form every this many steps of a stage (variable projection); 0: never. */
  resolveEvery: number;
  /** Fraction of the rows whose statistics a re-solve uses. */
  resolveFraction: number;
  /** Adam's constants (default torch's, ADAM_DEFAULTS). */
  adam?: AdamConfig;
  /** What a stage takes over of the previous one's Adam state, for the parameters both train: the
   *  moments and the step count ('all'), the moments with the step count restarted ('moments'), or
   *  nothing ('none'). Layers a stage unfreezes always start with zero moments. */
  carry: 'all' | 'moments' | 'none';
}

/** The paper's recipe in this machinery (shared/REFERENCE.md): nothing frozen, whole signal, Adam 1e-4. */
export const PAPER_RECIPE: FastRecipe = {
  stages: [{ frozen: 0, fraction: 1, lr: 1e-4, decoderLr: 1e-4 }],
  warmup: 0,
  ridge: null,
  stall: { window: 0, minDb: 0 },
  minBatch: 1,
  resolveEvery: 0,
  resolveFraction: 1,
  carry: 'all',
};

/** The recommended recipe from a prior (measured: bench/ttq-node-draft.md, levers table there). */
export const FAST_PRIOR_RECIPE: FastRecipe = {
  stages: [
    { frozen: 4, fraction: 1 / 16, lr: 3e-4, decoderLr: 3e-5, stall: { window: 30, minDb: 0.3 } },
    { frozen: 2, fraction: 1 / 8, lr: 1e-4, decoderLr: 1e-5, untilPsnr: 34 },
    { frozen: 2, fraction: 1 / 4, lr: 1e-4, decoderLr: 1e-5 },
    { frozen: 0, fraction: 1 / 2, lr: 5e-5, decoderLr: 5e-6 },
    { frozen: 0, fraction: 1, lr: 3e-5, decoderLr: 3e-6 },
  ],
  warmup: 5,
  ridge: 1e-6,
  stall: { window: 20, minDb: 0.5 },
  minBatch: 256,
  resolveEvery: 0,
  resolveFraction: 1,
  carry: 'moments',
};

/** The recommended recipe without a prior (a random SIREN): nothing to freeze, growing batches. */
export const FAST_RANDOM_RECIPE: FastRecipe = {
  stages: [
    { frozen: 0, fraction: 1 / 16, lr: 2e-4, decoderLr: 2e-4 },
    { frozen: 0, fraction: 1 / 8, lr: 1e-4, decoderLr: 1e-4 },
    { frozen: 0, fraction: 1 / 4, lr: 1e-4, decoderLr: 1e-4 },
    { frozen: 0, fraction: 1 / 2, lr: 5e-5, decoderLr: 5e-5 },
    { frozen: 0, fraction: 1, lr: 3e-5, decoderLr: 3e-5 },
  ],
  warmup: 5,
  ridge: null,
  stall: { window: 20, minDb: 0.5 },
  minBatch: 256,
  resolveEvery: 0,
  resolveFraction: 1,
  carry: 'all',
};

export interface FastLimits {
  /** Stop after this many steps. */
  iters?: number;
  /** Stop once this many seconds have passed since the call. */
  seconds?: number;
  /** Stop once a whole-signal evaluation reaches this PSNR (dB, [0,1] scale). */
  targetPsnr?: number;
}

export interface FastStep {
  /** 0-based step index over all stages. */
  it: number;
  /** Seconds since the call (options.clock), after this step. */
  seconds: number;
  /** Wall-clock seconds since the call, after this step. */
  wall: number;
  /** PSNR of this step's batch before the update (an estimate of the whole signal's). */
  psnr: number;
  /** The batch's loss before the update (mean squared error in the target range). */
  loss: number;
  /** The whole signal's PSNR after this step, when an evaluation was run right after it. */
  whole?: number;
  frozen: number;
  lr: number;
  batch: number;
}

export interface FastEval {
  /** Updates done before this evaluation. */
  it: number;
  /** Seconds since the call (options.clock), after this evaluation. */
  seconds: number;
  /** Wall-clock seconds since the call, after this evaluation. */
  wall: number;
  psnr: number;
  frozen: number;
  why: 'start' | 'milestone' | 'time' | 'end';
}

export interface FastFitOptions {
  /** The SIREN (a prior's config when fitting from one); outDim follows the signal. */
  config: InrConfig;
  backend: Backend;
  /** A prior's encoder (layers 0..depth-2); absent: a random SIREN, and every stage must freeze nothing. */
  encoder?: Params | null;
  seed: number;
  range?: TargetRange;
  /** The lattice the samples sit on (latticeCoords; default the signal's dims). */
  lattice?: number[];
  recipe: FastRecipe;
  limits: FastLimits;
  /** Record the first whole-signal evaluation at or above each of these PSNRs (the target is one). */
  milestones?: number[];
  /** Also evaluate the whole signal at the first step after each of these times (seconds). */
  evalAt?: number[];
  /** After each step; return false to stop. */
  onStep?: (s: FastStep) => void | boolean | Promise<void | boolean>;
  /** Rows per step at most (default: the whole signal). */
  maxBatch?: number;
  /** Multiplies every learning rate of the recipe (default 1). */
  lrScale?: number;
  /** Whole parameters (frozen layers and head) after these step counts, for previews. */
  previewAt?: (k: number) => boolean;
  onPreview?: (params: Params, k: number) => void | Promise<void>;
  /** The clock (seconds, monotonic) that the limits, `seconds` and `evalAt` use; default the wall clock.
   *  A benchmark on a shared machine may pass its main thread's CPU time (less disturbed by other work). */
  clock?: () => number;
}

export interface FastFitResult {
  curve: FastStep[];
  evals: FastEval[];
  /** Seconds since the call at which a whole-signal evaluation first reached each milestone. */
  reached: Record<string, number>;
  /** The best whole-signal evaluation (after `it` updates), and whether `params` are that state rather
   *  than the last one (the last one rendered worse): a fit never hands back worse than its best. */
  best: { it: number; psnr: number; returned: boolean } | null;
  stopped: 'target' | 'seconds' | 'iters' | 'callback';
  /** Seconds (options.clock) from the call to the end of the fit (before the final rendering). */
  seconds: number;
  wall: number;
  /** The whole SIREN: the prior's frozen layers and the trained head. */
  params: Params;
  /** PSNR of `params` rendered on the signal's grid through the ordinary render graph. */
  finalPsnr: number;
  output: Float32Array;
  backend: string;
}

/** A whole-signal evaluation is run when the smoothed batch PSNR is within this of the next milestone. */
const EVAL_MARGIN_DB = 0.5;
/** Smoothing of the batch MSE (exponential moving average weight of the newest step). */
const EMA = 0.2;

/** The fast fit of one signal (see the file header). */
export async function fastFit(input: Image | Signal, o: FastFitOptions): Promise<FastFitResult> {
  const clock = o.clock ?? ((): number => performance.now() / 1000);
  const t0 = clock(),
    w0 = performance.now();
  const now = (): number => clock() - t0;
  const wall = (): number => (performance.now() - w0) / 1000;
  const sig = asSignal(input);
  const c = validateConfig({ ...o.config, outDim: sig.channels });
  if (c.inDim !== sig.dims.length)
    throw new UserError(`a ${sig.dims.length}-D signal needs a model with inDim ${sig.dims.length}`);
  const scale = o.lrScale ?? 1;
  // A shallower model than the recipe's freezes what it has (at most depth - 2 layers).
  const r: FastRecipe = {
    ...o.recipe,
    stages: o.recipe.stages.map((st) => ({
      ...st,
      frozen: Math.min(st.frozen, c.depth - 2),
      lr: st.lr * scale,
      decoderLr: st.decoderLr * scale,
    })),
  };
  if (r.stages.length === 0) throw new UserError('a fast recipe needs at least one stage');
  for (const s of r.stages)
    if (!(Number.isInteger(s.frozen) && s.frozen >= 0 && s.frozen <= c.depth - 2 && (s.frozen === 0 || o.encoder)))
      throw new UserError(`a stage freezing ${s.frozen} layers needs a prior, and at most ${c.depth - 2} layers`);
  const range = o.range ?? 'unit';
  const rows = sampleCount(sig.dims);
  const out = c.outDim;
  const coords = latticeCoords(sig.dims, o.lattice ?? sig.dims);
  const targets = toTargetRange(sig.data, range);
  const full: Params = initParams(c, o.seed);
  for (const s of paramSpecs(c)) if (o.encoder && isEncoderParam(s.name)) full[s.name] = o.encoder[s.name];
  const be = cachingBackend(o.backend);
  const data = new FeatureCache(be, c, coords, targets);
  const random: Rng = rng(o.seed + 1);
  const curve: FastStep[] = [],
    evals: FastEval[] = [],
    reached: Record<string, number> = {};
  const target = o.limits.targetPsnr;
  const milestones = [...new Set([...(o.milestones ?? []), ...(target !== undefined ? [target] : [])])].sort(
    (a, b) => a - b,
  );
  const evalAt = [...(o.evalAt ?? [])].sort((a, b) => a - b);
  let it = 0,
    stopped: FastFitResult['stopped'] | null = null,
    lastEvalEnd = 0,
    lastEvalCost = 0;
  type Best = { it: number; psnr: number; params: Params };
  let best = null as Best | null;

  /** A whole-signal evaluation of the head after `updates` steps, from the cache, timed and recorded;
   *  may stop the fit. */
  async function evaluate(
    k: number,
    cache: Float32Array,
    head: Params,
    updates: number,
    why: FastEval['why'],
  ): Promise<number> {
    const e0 = now();
    const psnr = psnrFromMse((await data.sse(k, cache, head)) / (rows * out), range);
    const seconds = now();
    evals.push({ it: updates, seconds, wall: wall(), psnr, frozen: k, why });
    for (const m of milestones) if (psnr >= m && reached[String(m)] === undefined) reached[String(m)] = seconds;
    lastEvalCost = seconds - e0;
    lastEvalEnd = seconds;
    if (target !== undefined && reached[String(target)] !== undefined) stopped = 'target';
    if (best === null || psnr > best.psnr) best = { it: updates, psnr, params: whole(k, head) };
    return psnr;
  }

  /** The whole SIREN: the frozen layers' current values and a head (copied). */
  function whole(k: number, head: Params): Params {
    const p: Params = { ...full };
    for (const s of paramSpecs(headConfig(c, k))) p[headParamName(c, k, s.name)] = Float32Array.from(head[s.name]);
    return p;
  }

  /** Sets the head's decoder to the closed-form one for its current sine layers. */
  async function closedFormDecoder(k: number, cache: Float32Array, head: Params, fraction: number): Promise<void> {
    const d = await data.decoder(k, cache, head, r.ridge ?? 0, fraction, random);
    head['decoder.weight'] = d.weight;
    head['decoder.bias'] = d.bias;
  }

  let detailCdf: Float64Array | null = null;
  let carried: State | null = null,
    cachedK = -1,
    cache: Float32Array = coords;
  for (let stageIx = 0; stopped === null; stageIx++) {
    const stage = r.stages[stageIx];
    const k = stage.frozen;
    const h = headConfig(c, k);
    const cw = cacheWidth(c, k);
    if (k !== cachedK) cache = await data.features(k, full);
    cachedK = k;
    const head: Params = {};
    for (const s of paramSpecs(h)) head[s.name] = full[headParamName(c, k, s.name)];
    if (stageIx === 0) {
      if (r.ridge !== null) await closedFormDecoder(k, cache, head, 1);
      await evaluate(k, cache, head, it, 'start');
    }
    const state = initialState(h, head);
    if (carried && r.carry !== 'none') {
      for (const s of paramSpecs(h)) {
        const prev = headParamName(c, k, s.name);
        for (const [key, from] of [
          [stateNames.m(s.name), stateNames.m(prev)],
          [stateNames.v(s.name), stateNames.v(prev)],
        ])
          if (carried[from]) state[key] = carried[from];
      }
      if (r.carry === 'all') state.step = carried.step;
    }
    const batch = Math.min(rows, o.maxBatch ?? rows, Math.max(r.minBatch, Math.round(stage.fraction * rows)));
    const all = batch === rows;
    const model = programToOnnx(headStepProgram(c, k, { batch, encoderLr: true, ...(r.adam ? { adam: r.adam } : {}) }));
    const warmup = stage.warmup ?? r.warmup;
    const lrAt = (s: number, peak: number): number => peak * Math.min(1, (s + 1) / Math.max(1, warmup));
    let trainer = await Trainer.create(be, model, h, state, lrAt(0, stage.decoderLr), lrAt(0, stage.lr));
    // The batch buffers are refilled in place every step (fresh memory is costly here, see ./cache.ts).
    const bc = all ? cache : new Float32Array(batch * cw),
      bt = all ? targets : new Float32Array(batch * out);
    const setBatch = (): void => trainer.setBatch(hostTensor([batch, cw], bc), hostTensor([batch, out], bt));
    if (all) setBatch();
    const order = Int32Array.from({ length: rows }, (_, i) => i);
    const focus = stage.focus ?? 0;
    const detail = focus > 0 ? (detailCdf ??= variationCdf(sig.dims, targets, out)) : null;
    let pos = rows,
      ema = NaN,
      next = false;
    const emaPsnr: number[] = [];
    for (let s = 0; stopped === null && !next; s++, it++) {
      if (o.limits.iters !== undefined && it >= o.limits.iters) stopped = 'iters';
      else if (o.limits.seconds !== undefined && now() >= o.limits.seconds) stopped = 'seconds';
      if (stopped !== null) break;
      if (r.resolveEvery > 0 && s > 0 && s % r.resolveEvery === 0) {
        // Variable projection: the decoder jumps to its least-squares optimum for the current features.
        const st = await trainer.state();
        await trainer.release();
        const cur: Params = Object.fromEntries(paramSpecs(h).map((p) => [p.name, st[p.name].data]));
        await closedFormDecoder(k, cache, cur, r.resolveFraction);
        st['decoder.weight'].data.set(cur['decoder.weight']);
        st['decoder.bias'].data.set(cur['decoder.bias']);
        trainer = await Trainer.create(be, model, h, st, stage.decoderLr, stage.lr);
        if (all) setBatch();
      }
      if (s < warmup) trainer.setLr(lrAt(s, stage.decoderLr), lrAt(s, stage.lr));
      if (!all) {
        for (let j = 0; j < batch; j++) {
          if (pos === rows) {
            shuffle(order, random);
            pos = 0;
          }
          const p = detail && j < focus * batch ? drawFrom(detail, random) : order[pos++];
          bc.set(cache.subarray(p * cw, (p + 1) * cw), j * cw);
          for (let q = 0; q < out; q++) bt[j * out + q] = targets[p * out + q];
        }
        setBatch();
      }
      const { loss } = await trainer.step();
      const rec: FastStep = {
        it,
        seconds: now(),
        wall: wall(),
        psnr: psnrFromMse(loss, range),
        loss,
        frozen: k,
        lr: lrAt(s, stage.lr),
        batch,
      };
      curve.push(rec);
      ema = Number.isNaN(ema) ? loss : EMA * loss + (1 - EMA) * ema;
      emaPsnr.push(psnrFromMse(ema, range));
      // Whole-signal evaluations: near the next milestone (at most a third of the time), and at set times.
      const nextMilestone = milestones.find((m) => reached[String(m)] === undefined);
      const dueTime = evalAt.length > 0 && rec.seconds >= evalAt[0];
      const dueMilestone =
        nextMilestone !== undefined &&
        emaPsnr[s] >= nextMilestone - EVAL_MARGIN_DB &&
        rec.seconds - lastEvalEnd >= 2 * lastEvalCost;
      if (stopped === null && (dueTime || dueMilestone)) {
        while (evalAt.length > 0 && rec.seconds >= evalAt[0]) evalAt.shift();
        rec.whole = await evaluate(k, cache, await trainer.params(h), it + 1, dueMilestone ? 'milestone' : 'time');
      }
      if (o.onStep && (await o.onStep(rec)) === false && stopped === null) stopped = 'callback';
      if (stopped === null && o.previewAt?.(it + 1) && o.onPreview)
        await o.onPreview(whole(k, await trainer.params(h)), it + 1);
      if (stageIx + 1 < r.stages.length) {
        const stall = stage.stall ?? r.stall;
        const w = stall.window;
        if (w > 0 && s >= warmup + w && emaPsnr[s] - emaPsnr[s - w] < stall.minDb) next = true;
        if (stage.maxSteps !== undefined && s + 1 >= stage.maxSteps) next = true;
        if (stage.untilPsnr !== undefined && emaPsnr[s] >= stage.untilPsnr) next = true;
      }
    }
    const trained = await trainer.state();
    await trainer.release();
    for (const s of paramSpecs(h)) full[headParamName(c, k, s.name)] = trained[s.name].data;
    carried = {};
    for (const key of stateKeys(h)) carried[key === 'step' ? key : renameStateKey(c, k, key)] = trained[key];
  }
  const seconds = now(),
    wallSeconds = wall();
  await be.close();
  const renderer = await createGridRenderer(
    o.backend,
    c,
    { dims: sig.dims, ...(o.lattice ? { lattice: o.lattice } : {}) },
    range,
  );
  try {
    let params = full,
      output = await renderer.render(full),
      finalPsnr = psnrBetween(output, sig.data),
      returned = false;
    const kept = best; // set by evaluate()
    if (kept !== null && kept.psnr > finalPsnr) {
      const b = await renderer.render(kept.params);
      const bp = psnrBetween(b, sig.data);
      if (bp > finalPsnr) [params, output, finalPsnr, returned] = [kept.params, b, bp, true];
    }
    return {
      curve,
      evals,
      reached,
      best: kept === null ? null : { it: kept.it, psnr: kept.psnr, returned },
      stopped: stopped ?? 'iters',
      seconds,
      wall: wallSeconds,
      params,
      finalPsnr,
      output,
      backend: o.backend.name,
    };
  } finally {
    await renderer.release();
  }
}

/** A head state key (param, adam_m.param, adam_v.param) under the full model's parameter name. */
function renameStateKey(c: InrConfig, k: number, key: string): string {
  for (const prefix of ['adam_m.', 'adam_v.'])
    if (key.startsWith(prefix)) return prefix + headParamName(c, k, key.slice(prefix.length));
  return headParamName(c, k, key);
}
