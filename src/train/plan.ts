// The one place a fit's settings are decided (STYLE.md practice 15). SETTINGS holds the one rule of
// every number a user can set (the CLI's flag parsers check through it too, src/cli/args.ts), and
// planFit turns what a user asks (FitSettings) and the signal's grid into a FitPlan: the model config
// (a prior's, or the default SIREN for the signal's dimension, plus overrides), the target range, the
// initial parameters, the iterations, learning rates, coordinates per step and the lattice a clip sits
// on. runFit (./fit.ts) takes the plan as it is; nothing downstream re-derives or re-checks it.
import { CONFIG_LIMITS, PAPER_CONFIG, firstOmega, validateConfig, type InrConfig } from '../model/config.ts';
import { paramSpecs, type Params } from '../model/inr.ts';
import type { TargetRange } from './grid.ts';
import type { Prior } from './prior.ts';
import { UserError } from '../util/errors.ts';

/** A number's one rule: integer or not, and its closed (or, with minExclusive, half-open) range. */
export interface SettingRule {
  readonly label: string;
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  readonly minExclusive?: boolean;
}

/**
 * Every number a fit, a pretraining or a restoration takes from a user. Learning rates: the paper uses
 * 1e-4 and a frozen-encoder decoder fit 1e-2; above 1 no Adam fit of a SIREN converges. Model sizes
 * are the config's own limits (src/model/config.ts CONFIG_LIMITS).
 */
export const SETTINGS = {
  iters: { label: 'iterations', integer: true, min: 1, max: 1_000_000 },
  lr: { label: 'learning rate', integer: false, min: 0, max: 1, minExclusive: true },
  encoderLr: { label: 'encoder learning rate', integer: false, min: 0, max: 1 },
  seed: { label: 'seed', integer: true, min: 0, max: 2 ** 31 - 1 },
  batch: { label: 'batch', integer: true, min: 1, max: 1 << 26 },
  res: { label: 'resolution', integer: true, min: 2, max: 4096 },
  /** A volume's cube side: 1024^3 float32 voxels are 4 GiB, the most a run should hold. */
  volumeRes: { label: 'volume resolution', integer: true, min: 2, max: 1024 },
  width: { label: 'width', integer: true, ...CONFIG_LIMITS.width },
  depth: { label: 'depth', integer: true, ...CONFIG_LIMITS.depth },
  omega: { label: 'omega', integer: false, ...CONFIG_LIMITS.omega, minExclusive: true },
  omega0: { label: 'omega0', integer: false, ...CONFIG_LIMITS.omega0, minExclusive: true },
  threads: { label: 'threads', integer: true, min: 1, max: 1024 },
  shards: { label: 'shards', integer: true, min: 1, max: 256 },
  /** A target PSNR (dB on the [0, 1] scale): 200 dB is beyond float32's resolution of any signal. */
  untilPsnr: { label: 'target PSNR', integer: false, min: 0, max: 200, minExclusive: true },
  /** Seconds of fitting. */
  timeLimit: { label: 'time limit', integer: false, min: 0, max: 1e7, minExclusive: true },
  signals: { label: 'training signals', integer: true, min: 1, max: 1000 },
  heldOut: { label: 'held-out signals', integer: true, min: 0, max: 1000 },
  // Meta-learning (src/pipeline/meta.ts): every inner step is unrolled into the graph, so a few dozen is
  // already a graph of thousands of nodes per task; Learnit uses 2, Functa 3, GradNCP 4.
  innerSteps: { label: 'inner steps', integer: true, min: 1, max: 32 },
  innerLr: { label: 'inner learning rate', integer: false, min: 0, max: 1, minExclusive: true },
  metaBatch: { label: 'meta batch', integer: true, min: 1, max: 64 },
  outerLr: { label: 'outer learning rate', integer: false, min: 0, max: 1, minExclusive: true },
} as const satisfies Record<string, SettingRule>;
export type SettingName = keyof typeof SETTINGS;

/** `v` if it obeys the setting's rule, else a UserError naming it by `label` (default the rule's own,
 *  e.g. 'learning rate'; the CLI passes its flag, '--lr'). */
export function checkSetting(name: SettingName, v: number, label: string = SETTINGS[name].label): number {
  const r: SettingRule = SETTINGS[name];
  if (r.integer) {
    if (!Number.isInteger(v) || v < r.min || v > r.max)
      throw new UserError(`${label} must be an integer between ${r.min} and ${r.max}, got ${v}`);
  } else if (!(Number.isFinite(v) && (r.minExclusive ? v > r.min : v >= r.min) && v <= r.max)) {
    throw new UserError(
      `${label} must be ${r.minExclusive ? 'above' : 'at least'} ${r.min} and at most ${r.max}, got ${v}`,
    );
  }
  return v;
}

/** Architecture overrides (width, depth, omega, omega0, or a whole other kind); with a prior they must
 *  agree with the prior's architecture. */
export type ModelOverrides = Partial<Omit<InrConfig, 'inDim' | 'outDim'>>;

/** A fit's optimizer: Adam (the paper's), or plain SGD, p - lr g (a meta-learned prior's inner loop). */
export type FitOptimizer = 'adam' | 'sgd';
export const OPTIMIZERS = ['adam', 'sgd'] as const satisfies readonly FitOptimizer[];

/**
 * How a fit trains. 'paper': Adam on every parameter over the whole signal every step, the paper's
 * recipe (REFERENCE.md), bit for bit. 'fast': staged, for time to quality (./fast.ts): a prior's first
 * layers frozen and their output cached, random subsets of the samples per step, a closed-form decoder
 * to start, then fewer frozen layers and larger subsets as the PSNR stalls, ending on the whole signal.
 */
export type FitRecipe = 'paper' | 'fast';
export const RECIPES = ['paper', 'fast'] as const satisfies readonly FitRecipe[];

/** What a user may ask of a fit (every field optional; the defaults are below). */
export interface FitSettings {
  /** Start from this prior (its encoder; a whole-network prior also its decoder); absent: a random SIREN. */
  prior?: Prior | null;
  /** Architecture without a prior (default the paper's SIREN; clips SIREN's audio model); with one it must match. */
  model?: ModelOverrides;
  /** Iterations (default DEFAULT_ITERS, the paper's test-time fit). */
  iters?: number;
  /** How the fit trains (default 'fast', except where only the paper's recipe applies: plain SGD, a
   *  given batch or encoder learning rate, a whole-network prior such as a meta-learned one). */
  recipe?: FitRecipe;
  /** Learning rate (default DEFAULT_LR, the paper's; the fast recipe's rates are scaled by lr / DEFAULT_LR). */
  lr?: number;
  /** 'adam' (default, also from a meta-learned prior) or plain 'sgd' (p - lr g: the inner loop a
   *  meta-learned prior was trained for, its manifest's meta.inner_lr). */
  optimizer?: FitOptimizer;
  /** Learning rate of the encoder's parameters (default `lr`); 0 keeps a prior's encoder fixed. */
  encoderLr?: number;
  /** Seeds the fresh parameters and the random batches (default 0). */
  seed?: number;
  /** Target range (default the prior's, else [0, 1]; [-1, 1] for a clip). */
  range?: TargetRange;
  /** Coordinates per step (default: the whole grid, or random batches of MAX_STEP_ROWS above that). */
  batch?: number;
  /** A clip's samples per second: checked against an audio prior's, recorded in the fit's bundle. */
  rate?: number;
  /** The lattice the samples sit on (default: a clip prior's clip length for a clip, else the signal's
   *  own dims): a random SIREN compared with a clip prior's fit is given the prior's. */
  lattice?: readonly number[];
  /** Stop as soon as the PSNR over the whole signal reaches this (dB); `iters` and `timeLimit` still apply. */
  untilPsnr?: number;
  /** Stop after this many seconds of fitting (wall time, every evaluation the stopping needs included). */
  timeLimit?: number;
  /** PSNRs (dB) whose first crossing the fit should see: the fast recipe also evaluates the whole signal
   *  as its batches near each (events' `whole`, a "time to 30 / 35 / 40 dB"); a full-grid step measures
   *  the whole signal anyway. Stops nothing. */
  milestones?: readonly number[];
}

/** A resolved, checked fit: what runFit runs and what a fit bundle records. */
export interface FitPlan {
  /** The signal's grid ([n] a clip, [h, w] an image, [d, h, w] a volume) and channels. */
  dims: number[];
  channels: number;
  config: InrConfig;
  range: TargetRange;
  iters: number;
  /** How it trains (FitRecipe). */
  recipe: FitRecipe;
  lr: number;
  /** 'adam' unless FitSettings.optimizer says 'sgd'. */
  optimizer: FitOptimizer;
  /** The encoder's own learning rate (absent: `lr` for every parameter, the paper's protocol). */
  encoderLr?: number;
  seed: number;
  /** The prior the fit starts from (null: a random SIREN). */
  prior: string | null;
  /** Initial values from the prior (the rest come from a fresh SIREN init). */
  init?: Partial<Params>;
  /** Random coordinates per step, when fewer than the grid's samples (absent: the whole grid). */
  batch?: number;
  /** The lattice the samples sit on (absent: the signal's own dims; see AUDIO_CONFIG). */
  lattice?: number[];
  rate?: number;
  /** Stopping rules beside `iters`: a target PSNR over the whole signal, a wall-time budget (seconds). */
  untilPsnr?: number;
  timeLimit?: number;
  /** PSNRs whose crossing the fit measures on the whole signal (FitSettings.milestones), ascending. */
  milestones?: number[];
}

/** The paper's test-time fit: 2000 iterations (REFERENCE.md), the default of the CLI and the libraries alike. */
export const DEFAULT_ITERS = 2000;
/** The paper's Adam learning rate (REFERENCE.md). */
export const DEFAULT_LR = 1e-4;
/** The paper's image size (178x178, alpine's CelebA-HQ example): `strainer fit` and `pretrain` alike. */
export const DEFAULT_RES = 178;

/**
 * Default model of a clip (1-D) without a prior: the paper's SIREN (width 256, 6 layers, hidden omega
 * 30) with SIREN's audio first-layer omega_0 = 3000 (vsitzmann/siren explore_siren.ipynb; also the
 * issue's reference recipe), targets in [-1, 1] (the samples themselves). 3000 was also the best of
 * 300/1000/3000/10000 measured on held-out speech clips (bench/audio.md). A clip fitted from an audio
 * prior keeps the prior's time scale: sample i sits at -1 + 2 i / (N - 1), N the prior's clip length
 * (the training clips were zero-padded to N), so a shorter clip covers the first part of [-1, 1]
 * exactly as if zero-padded, without fitting the padding; a longer one runs past +1.
 */
export const AUDIO_CONFIG: InrConfig = { ...PAPER_CONFIG, inDim: 1, omega0: 3000 };
export const AUDIO_RANGE: TargetRange = 'pm1';

/**
 * Coordinates per step above which a fit draws random batches of this many samples (with replacement)
 * each step instead of the whole grid: 65536 rows is one width-256 step of ~1.1 s and ~1.5 GB here
 * (REFERENCE.md throughput; a 64^3 volume has 262144). Images up to 256x256 keep the paper's full grid.
 */
export const MAX_STEP_ROWS = 65536;

const ONE = ['', 'a clip', 'an image', 'a volume'],
  MANY = ['', 'clips', 'images', 'volumes'];
/** "a 1-D signal (a clip)", or with `many` "1-D signals (clips)". */
const kindOf = (d: number, many = false): string =>
  many ? `${d}-D signals${MANY[d] ? ` (${MANY[d]})` : ''}` : `a ${d}-D signal${ONE[d] ? ` (${ONE[d]})` : ''}`;

/** Default model for a signal of this many dimensions (no prior): the paper's SIREN, AUDIO_CONFIG for clips. */
export function defaultConfig(inDim: number): InrConfig {
  return inDim === 1 ? AUDIO_CONFIG : { ...PAPER_CONFIG, inDim };
}

/** Refuses a prior for a signal of another dimension, sample rate or (beyond images) channel count. */
function checkPriorSignal(prior: Prior, dims: readonly number[], channels: number, rate?: number): void {
  const d = dims.length,
    pd = prior.config.inDim;
  if (pd !== d)
    throw new UserError(`prior '${prior.name}' was trained on ${kindOf(pd, true)}; it cannot start ${kindOf(d)}`);
  // An image prior's encoder starts an image of any channel count (the decoder is fresh: the MRI prior
  // fits RGB photos, bench/eval.md); clips and volumes must match the prior's channels.
  if (d !== 2 && prior.config.outDim !== channels)
    throw new UserError(
      `prior '${prior.name}' was trained on ${prior.config.outDim}-channel signals; the signal, ${kindOf(d)}, has ${channels}`,
    );
  if (prior.rate !== undefined && rate !== undefined && prior.rate !== rate)
    throw new UserError(
      `prior '${prior.name}' was trained on clips sampled at ${prior.rate} Hz; this clip is ${rate} Hz (resample it to ${prior.rate} Hz)`,
    );
}

/** The prior's parameters that start an INR of config `c`, after checking its architecture matches:
 *  the encoder, and a whole-network prior's decoder when it has the signal's channels. */
function priorInit(prior: Prior, c: InrConfig): Partial<Params> {
  const p = prior.config;
  const same =
    p.kind === c.kind &&
    p.width === c.width &&
    p.depth === c.depth &&
    p.omega === c.omega &&
    firstOmega(p) === firstOmega(c);
  if (!same) {
    const w0 = (x: InrConfig): string => (firstOmega(x) !== x.omega ? ` omega0 ${firstOmega(x)}` : '');
    throw new UserError(
      `prior '${prior.name}' was trained for ${p.kind} width ${p.width} depth ${p.depth} omega ${p.omega}${w0(p)}; it cannot start ${c.kind} width ${c.width} depth ${c.depth} omega ${c.omega}${w0(c)}`,
    );
  }
  const decoder = prior.decoder && p.outDim === c.outDim ? prior.decoder : {};
  return { ...prior.encoder, ...decoder };
}

/** The signal a fit is for: its grid and channels. */
export interface FitGrid {
  dims: readonly number[];
  channels: number;
}

/** Resolves and checks every setting of a fit of a signal on `grid`: the one resolver. */
export function planFit(grid: FitGrid, s: FitSettings = {}): FitPlan {
  const dims = [...grid.dims],
    inDim = dims.length,
    rows = dims.reduce((a, b) => a * b, 1);
  const prior = s.prior ?? null;
  if (s.optimizer !== undefined && !(OPTIMIZERS as readonly string[]).includes(s.optimizer))
    throw new UserError(`optimizer must be one of ${OPTIMIZERS.join(', ')}, got '${String(s.optimizer)}'`);
  if (prior) checkPriorSignal(prior, dims, grid.channels, s.rate);
  const base = prior ? prior.config : defaultConfig(inDim);
  const overrides = Object.fromEntries(
    Object.entries(s.model ?? {}).filter(([, v]) => v !== undefined),
  ) as ModelOverrides;
  for (const k of ['width', 'depth', 'omega', 'omega0'] as const) {
    const v = overrides[k];
    if (v !== undefined) checkSetting(k, v);
  }
  const config = validateConfig({ ...base, ...overrides, inDim, outDim: grid.channels });
  const init = prior ? priorInit(prior, config) : undefined;
  if (init) {
    const specs = new Map(paramSpecs(config).map((p) => [p.name, p.shape.reduce((a, b) => a * b, 1)]));
    for (const [k, v] of Object.entries(init)) {
      const n = v?.length ?? 0;
      if (specs.get(k) !== n)
        throw new UserError(
          `prior '${prior!.name}': '${k}' has ${n} values, the model needs ${specs.get(k) ?? 'none'}`,
        );
    }
  }
  if (s.batch !== undefined) {
    checkSetting('batch', s.batch);
    if (s.batch > rows) throw new UserError(`batch must be at most the signal's ${rows} samples, got ${s.batch}`);
  }
  const batch = s.batch ?? (rows > MAX_STEP_ROWS ? MAX_STEP_ROWS : rows);
  if (s.recipe !== undefined && !(RECIPES as readonly string[]).includes(s.recipe))
    throw new UserError(`recipe must be one of ${RECIPES.join(', ')}, got '${String(s.recipe)}'`);
  // What only the paper's recipe does: plain SGD, a chosen batch or encoder rate, a whole-network init.
  const paperOnly =
    s.optimizer === 'sgd'
      ? 'plain SGD (--optimizer sgd)'
      : s.batch !== undefined
        ? 'a given batch (--batch)'
        : s.encoderLr !== undefined
          ? 'an encoder learning rate'
          : prior?.decoder
            ? `a whole-network prior ('${prior.name}' has its own decoder)`
            : null;
  if (s.recipe === 'fast' && paperOnly)
    throw new UserError(`the fast recipe does not take ${paperOnly}; use recipe paper`);
  const plan: FitPlan = {
    dims,
    channels: grid.channels,
    config,
    range: s.range ?? prior?.range ?? (inDim === 1 ? AUDIO_RANGE : 'unit'),
    iters: checkSetting('iters', s.iters ?? DEFAULT_ITERS),
    recipe: s.recipe ?? (paperOnly ? 'paper' : 'fast'),
    lr: checkSetting('lr', s.lr ?? DEFAULT_LR),
    optimizer: s.optimizer ?? 'adam',
    seed: checkSetting('seed', s.seed ?? 0),
    prior: prior?.name ?? null,
  };
  if (s.encoderLr !== undefined) plan.encoderLr = checkSetting('encoderLr', s.encoderLr);
  if (init) plan.init = init;
  if (batch !== rows) plan.batch = batch;
  const lattice = s.lattice ?? (inDim === 1 && prior?.dims?.length === 1 ? prior.dims : undefined);
  if (lattice) {
    if (
      lattice.length !== inDim ||
      lattice.some((n, k) => !Number.isInteger(n) || n < 1 || (inDim > 1 && n !== dims[k]))
    )
      throw new UserError(`lattice [${lattice.join(', ')}] does not fit a signal of ${dims.join('x')} samples`);
    plan.lattice = [...lattice];
  }
  if (s.rate !== undefined) plan.rate = s.rate;
  if (s.untilPsnr !== undefined) plan.untilPsnr = checkSetting('untilPsnr', s.untilPsnr);
  if (s.timeLimit !== undefined) plan.timeLimit = checkSetting('timeLimit', s.timeLimit);
  if (s.milestones !== undefined && s.milestones.length > 0)
    plan.milestones = [...new Set(s.milestones.map((m) => checkSetting('untilPsnr', m, 'milestone PSNR')))].sort(
      (a, b) => a - b,
    );
  return plan;
}
