// Meta-learned priors (issue 20, the paper's fifth baseline; Learnit's recipe, REFERENCE.md 2026-12-02):
// a whole SIREN init meta-trained with MAML, first-order MAML or Reptile so that a few plain SGD steps
// on one signal fit it. Mirrors pretrainPrior (./pretrain.ts): the same training data and checkpoint
// store, the model resolved by planFit, the meta step (src/train/meta.ts) driven by the ordinary Trainer,
// a held-out measurement in the manifest's eval and a prior bundle (format version 3, src/export/prior.ts).
// Which signals form an outer step's meta batch depends only on (seed, step), so a resumed run makes the
// same steps as an uninterrupted one.
import type { Image } from '../data/pixels.ts';
import { asSignal, describeSignal, sampleCount, type Signal } from '../data/signal.ts';
import { firstOmega } from '../model/config.ts';
import { isEncoderParam, type Params } from '../model/inr.ts';
import { programToOnnx } from '../onnx/write.ts';
import { hostTensor, type Backend } from '../runtime/session.ts';
import { fit, planParams, psnrCurve, type FitResult } from '../train/fit.ts';
import { gridCoords, psnrFromMse, toTargetRange } from '../train/grid.ts';
import { metaStepProgram, META_DEFAULTS, META_METHODS, type MetaMethod } from '../train/meta.ts';
import { checkSetting, DEFAULT_LR, MAX_STEP_ROWS, planFit } from '../train/plan.ts';
import type { MetaRecipe, Prior, PriorMethod } from '../train/prior.ts';
import { Trainer, initialState, type State } from '../train/trainer.ts';
import { baselineOf, transferGain } from '../train/transfer.ts';
import { buildPriorBundle, loadPrior } from '../export/prior.ts';
import { bundleSource } from '../export/bundle.ts';
import { UserError } from '../util/errors.ts';
import { rng } from '../util/random.ts';
import { sha256Of, trainingSignals, type PretrainData, type PretrainOptions, type PretrainResult } from './pretrain.ts';

/** The meta-learning settings a user may set (defaults: Learnit's, META_DEFAULTS). */
export interface MetaSettings {
  /** Plain SGD steps of the inner loop (default 2). */
  innerSteps?: number;
  /** Inner SGD learning rate (default 1e-2). */
  innerLr?: number;
  /** Signals per outer step (default 3). */
  metaBatch?: number;
  /** Outer Adam learning rate (default 1e-5). */
  outerLr?: number;
}

/** Pretraining options of a meta-learned prior: `iters` counts outer steps (default 5000, the paper's
 *  "Meta-learned 5K"); `lr` and `engine` are STRAINER's and refused here (meta-learning runs the
 *  onnxruntime engine, with outerLr). */
export interface MetaPretrainOptions extends Omit<PretrainOptions, 'lr' | 'engine'>, MetaSettings {
  /** Default 'maml' (full second order, Learnit's). */
  method?: MetaMethod;
}

const META_FLAGS = {
  innerSteps: '--inner-steps',
  innerLr: '--inner-lr',
  metaBatch: '--meta-batch',
  outerLr: '--outer-lr',
};

/**
 * The one check of which pretraining settings go with which method, for the CLI and the libraries:
 * an unknown method, meta settings asked of a STRAINER pretraining, or STRAINER's learning rate or
 * another engine asked of a meta-learned one is a UserError. Returns the method ('strainer' if absent).
 */
export function checkPretrainMethod(o: MetaSettings & { method?: string; lr?: number; engine?: unknown }): PriorMethod {
  const method = o.method ?? 'strainer';
  if (method !== 'strainer' && !(META_METHODS as readonly string[]).includes(method))
    throw new UserError(`method must be one of strainer, ${META_METHODS.join(', ')}, got '${method}'`);
  if (method === 'strainer') {
    const given = (Object.keys(META_FLAGS) as (keyof MetaSettings)[]).filter((k) => o[k] !== undefined);
    if (given.length > 0)
      throw new UserError(
        `${given.map((k) => `${k} (${META_FLAGS[k]})`).join(', ')} applies to meta-learned priors; pass method (--method) maml, fomaml or reptile`,
      );
  } else {
    if (o.lr !== undefined)
      throw new UserError(
        `lr (--lr) is STRAINER's pretraining learning rate; a ${method} prior takes outerLr (--outer-lr)`,
      );
    if (o.engine !== undefined) throw new UserError(`a ${method} prior is meta-trained on the onnxruntime engine only`);
  }
  return method as PriorMethod;
}

/** Indices of the `k` signals (of `n`) forming the meta batch of outer step `step`: a function of (seed,
 *  step) alone. Distinct while k <= n (a partial Fisher-Yates shuffle), drawn again from all n beyond. */
export function metaBatchOf(seed: number, step: number, n: number, k: number): number[] {
  const r = rng((Math.imul(seed + 1, 0x9e3779b1) + Math.imul(step, 0x85ebca6b)) >>> 0);
  const out: number[] = [];
  let pool: number[] = [];
  while (out.length < k) {
    if (pool.length === 0) pool = Array.from({ length: n }, (_, i) => i);
    const j = r.int(pool.length);
    out.push(pool[j]);
    pool[j] = pool[pool.length - 1];
    pool.pop();
  }
  return out;
}

/** The meta settings resolved: each checked by its one rule (src/train/plan.ts SETTINGS). */
export function resolveMetaSettings(o: MetaSettings): Required<MetaSettings> {
  return {
    innerSteps: checkSetting('innerSteps', o.innerSteps ?? META_DEFAULTS.innerSteps),
    innerLr: checkSetting('innerLr', o.innerLr ?? META_DEFAULTS.innerLr),
    metaBatch: checkSetting('metaBatch', o.metaBatch ?? META_DEFAULTS.metaBatch),
    outerLr: checkSetting('outerLr', o.outerLr ?? META_DEFAULTS.outerLr),
  };
}

/** Meta-trains a whole-network init on `d.train` and builds its prior bundle. */
export async function metaPretrain(d: PretrainData, o: MetaPretrainOptions = {}): Promise<PretrainResult> {
  const log = o.log ?? ((): void => {});
  const name = o.name ?? 'prior';
  const backend = o.backend;
  if (!backend)
    throw new UserError("pretraining needs a backend: use pretrain from 'strainer/node', or pass { backend }");
  const method = checkPretrainMethod({ ...o, method: o.method ?? 'maml' }) as MetaMethod;
  const ms = resolveMetaSettings(o);
  const { signals, described } = trainingSignals(d);
  const dims = signals[0].dims,
    inDim = dims.length,
    n = signals.length,
    rows = sampleCount(dims),
    test = d.test ?? [];
  if (rows > MAX_STEP_ROWS)
    throw new UserError(
      `meta-learning adapts on the whole grid; ${describeSignal(signals[0])} has ${rows} samples, above ${MAX_STEP_ROWS}`,
    );
  // The model, range, outer steps and seed resolve as a fit's without a prior (one resolver).
  const plan = planFit(
    { dims, channels: signals[0].channels },
    { model: o.model, iters: o.iters ?? 5000, seed: o.seed, range: o.range },
  );
  const { config, range, iters, seed } = plan;
  const C = config.outDim,
    tasks = ms.metaBatch;
  const kind = ['signals', 'clips', 'images', 'volumes'][inDim] ?? 'signals';
  const w0 = firstOmega(config) !== config.omega ? ` omega0 ${firstOmega(config)}` : '';
  log(
    `meta-pretrain ${name} (${method}): ${n} ${kind} of ${describeSignal(signals[0])}, ${test.length} held out; ${config.kind} width ${config.width} depth ${config.depth} omega ${config.omega}${w0}, targets ${range}; ${tasks} per outer step, ${ms.innerSteps} inner SGD step(s) of lr ${ms.innerLr}, outer Adam lr ${ms.outerLr}`,
  );

  const ck = o.checkpoint;
  // What a checkpoint must have been made with to be resumed: the method, model, data and recipe.
  const recipe = {
    method,
    config,
    data: described?.files.map((f) => f.sha256) ?? (await Promise.all(signals.map(sha256Of))),
    train: d.train.map((s) => s.id),
    ...ms,
    seed,
    targets: range,
    res: dims[dims.length - 1],
    ...(inDim !== 2 ? { dims } : {}),
    ...(d.rate !== undefined ? { rate: d.rate } : {}),
  };
  const resumed = ck?.resume ? await ck.store.load(recipe) : null;
  if (ck?.resume)
    log(
      resumed
        ? `resuming from ${ck.store.where} at outer step ${resumed.meta.step}`
        : `no checkpoint at ${ck.store.where}; starting from scratch`,
    );
  const state = resumed?.state ?? initialState(config, planParams(plan));
  const step = programToOnnx(
    metaStepProgram({
      config,
      batch: rows,
      metaBatch: tasks,
      innerSteps: ms.innerSteps,
      innerLr: ms.innerLr,
      method,
    }),
  );
  const trainer = await Trainer.create(backend, step, config, state, ms.outerLr);
  const coords = hostTensor([rows, inDim], gridCoords(...dims));
  const targetsOf = signals.map((s) => toTargetRange(s.data, range));
  const loss = [...(resumed?.meta.loss ?? [])],
    meanPsnr = [...(resumed?.meta.meanPsnr ?? [])],
    stepMs: number[] = [];
  const save = (st: State): Promise<void> =>
    ck!.store.save(st, { recipe, iters, step: st.step.data[0], loss, meanPsnr });
  let theta: Params;
  const t0 = performance.now();
  try {
    for (let it = trainer.iteration; it < iters; it++) {
      // Targets [rows, tasks * C]: task t's channel k in column t * C + k (src/train/meta.ts).
      const pick = metaBatchOf(seed, it, n, tasks);
      const stacked = new Float32Array(rows * tasks * C);
      pick.forEach((i, t) => {
        const src = targetsOf[i];
        for (let p = 0; p < rows; p++) for (let k = 0; k < C; k++) stacked[p * tasks * C + t * C + k] = src[p * C + k];
      });
      trainer.setBatch(coords, hostTensor([rows, tasks * C], stacked));
      const ts = performance.now();
      const r = await trainer.step({ mse: true });
      const ms1 = performance.now() - ts;
      let acc = 0;
      for (let t = 0; t < tasks; t++) {
        let m = 0;
        for (let k = 0; k < C; k++) m += r.mse![t * C + k];
        acc += psnrFromMse(m / C, range);
      }
      loss.push(r.loss);
      meanPsnr.push(acc / tasks);
      stepMs.push(ms1);
      const event = { it, iters, psnr: acc / tasks, loss: r.loss, ms: ms1, seconds: (performance.now() - t0) / 1000 };
      const stop = (await o.onStep?.(event)) === false;
      if (ck && ck.every > 0 && (stop || trainer.iteration % ck.every === 0 || trainer.iteration === iters))
        await save(await trainer.state());
      if (stop) break;
    }
    theta = await trainer.params(config);
  } finally {
    await trainer.release();
  }

  const split = (enc: boolean): Params =>
    Object.fromEntries(Object.entries(theta).filter(([k]) => isEncoderParam(k) === enc));
  const meta: MetaRecipe = {
    innerSteps: ms.innerSteps,
    innerLr: ms.innerLr,
    innerOptimizer: 'sgd',
    metaBatch: tasks,
    outerLr: ms.outerLr,
    outerSteps: loss.length,
  };
  const trained: Prior = {
    name,
    config,
    range,
    encoder: split(true),
    decoder: split(false),
    dims: [...dims],
    rate: d.rate,
    method,
    meta,
  };
  const gainIters = o.gainIters ?? 100;
  let gain: Record<string, unknown> | undefined;
  if (gainIters > 0 && test.length > 0) {
    log(`measuring the meta-init on ${test.length} held-out ${kind} against a random SIREN...`);
    gain = {
      ...(await metaGain(backend, trained, test, { iters: gainIters, seed, at: o.gainAt, headline: o.gainHeadline })),
      pretrain_mean_psnr_final: meanPsnr[meanPsnr.length - 1],
    };
  }
  const bundle = await buildPriorBundle({
    name,
    config,
    range,
    encoder: trained.encoder,
    decoder: trained.decoder,
    method,
    meta,
    res: dims[dims.length - 1],
    lr: ms.outerLr,
    iters: loss.length,
    signals: n,
    engine: trainer.backend,
    dims: inDim !== 2 ? dims : undefined,
    rate: d.rate,
    finalLoss: loss[loss.length - 1],
    data: described ? { ...described, train: d.train.map((s) => s.id), test: test.map((s) => s.id) } : undefined,
    eval: gain,
  });
  const prior = await loadPrior(bundleSource(bundle, name), { onNote: () => {} });
  return { prior, bundle, loss, psnr: meanPsnr, stepMs, decoders: {}, engine: trainer.backend, gain };
}

/**
 * Learnit's test-time protocol, made precise: from the meta-learned prior, `meta.innerSteps` plain SGD
 * updates at `meta.innerLr` (what it was meta-trained for), then Adam (fresh moments) at `lr` for the
 * remaining iterations. One PSNR curve over both (entry i: before update i; the final model last), as
 * psnrCurve gives for one fit.
 */
export async function fitInnerThenAdam(
  target: Image | Signal,
  prior: Prior,
  o: { iters: number; lr: number; seed: number; backend: Backend },
): Promise<{ curve: number[]; first: FitResult; rest: FitResult | null }> {
  if (!prior.meta) throw new UserError(`prior '${prior.name}' is not meta-learned; it has no inner recipe`);
  const k = Math.min(prior.meta.innerSteps, o.iters);
  const common = { backend: o.backend, seed: o.seed };
  const first = await fit(target, { ...common, prior, iters: k, lr: prior.meta.innerLr, optimizer: 'sgd' });
  if (k === o.iters) return { curve: psnrCurve(first), first, rest: null };
  const p = first.params;
  const part = (enc: boolean): Params =>
    Object.fromEntries(Object.entries(p).filter(([n]) => isEncoderParam(n) === enc));
  const adapted: Prior = {
    ...prior,
    name: `${prior.name} after ${k} SGD step(s)`,
    encoder: part(true),
    decoder: part(false),
  };
  const rest = await fit(target, { ...common, prior: adapted, recipe: 'paper', iters: o.iters - k, lr: o.lr });
  return { curve: [...first.psnr, ...psnrCurve(rest)], first, rest };
}

/**
 * The held-out measurement of a meta-learned prior, stored in its manifest's eval: the mean PSNR after
 * its inner steps of SGD (the test-time fit it was trained for) from the meta-init and from a random
 * SIREN of the same seed (`inner`), and the paper's protocol (Adam at DEFAULT_LR, every parameter trained)
 * from both (transferGain's fields: iteration, strainer_psnr = the prior's, siren_psnr, gain_db, curve).
 */
export async function metaGain(
  backend: Backend,
  prior: Prior,
  test: readonly { id: string; signal: Image | Signal }[],
  o: { iters: number; seed: number; at?: readonly number[]; headline?: number },
): Promise<Record<string, unknown>> {
  if (!prior.meta) throw new UserError(`prior '${prior.name}' is not meta-learned`);
  const { innerSteps, innerLr } = prior.meta;
  const sgd = { backend, iters: innerSteps, lr: innerLr, seed: o.seed, optimizer: 'sgd' as const };
  const per: { id: string; meta: number; siren: number }[] = [];
  for (const t of test) {
    const signal = asSignal(t.signal);
    const a = (await fit(signal, { ...sgd, prior })).finalPsnr;
    const b = (await fit(signal, { ...sgd, ...baselineOf(prior) })).finalPsnr;
    per.push({ id: t.id, meta: +a.toFixed(3), siren: +b.toFixed(3) });
  }
  const mean = (k: 'meta' | 'siren'): number => +(per.reduce((s, p) => s + p[k], 0) / per.length).toFixed(3);
  const adam = await transferGain(backend, prior, test, {
    iters: o.iters,
    lr: DEFAULT_LR,
    seed: o.seed,
    at: o.at,
    headline: o.headline,
  });
  return {
    protocol: `inner: ${innerSteps} SGD step(s) of lr ${innerLr} from the meta-init and from a random SIREN (seed ${o.seed}); the rest: Adam lr ${DEFAULT_LR} from both, every parameter trained`,
    inner: {
      steps: innerSteps,
      lr: innerLr,
      optimizer: 'sgd',
      meta_psnr: mean('meta'),
      siren_psnr: mean('siren'),
      gain_db: +(mean('meta') - mean('siren')).toFixed(3),
      per_image: per,
    },
    ...adam,
  };
}
