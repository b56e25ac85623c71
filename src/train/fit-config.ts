// The one resolver of a fit's configuration (STYLE.md practice 15): the model config (a prior's, or
// the default SIREN for the signal's dimension, plus the caller's overrides), the target range, the
// iteration count, the learning rates, the coordinates per step and the lattice a clip sits on, each
// validated against one set of ranges; and whether a prior can start the signal at all (its dimension,
// channels, sample rate). The CLI (fit, restore, eval, demo), the Node and browser libraries and
// restoration all call resolveFit, so they cannot drift apart.
import { PAPER_CONFIG, firstOmega, validateConfig, type InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { TargetRange } from './grid.ts';
import type { Prior } from './prior.ts';
import { UserError } from '../util/errors.ts';

/** Iterations a fit may run: at least 1, at most a million. */
export const ITERS_RANGE = [1, 1_000_000] as const;
/** Adam learning rate: above 0, at most 1 (the paper uses 1e-4; a frozen-encoder decoder fit 1e-2). */
export const LR_MAX = 1;

/** Architecture overrides; with a prior they must agree with the prior's architecture. */
export type ModelOverrides = Partial<Omit<InrConfig, 'outDim'>>;

export interface FitSettings {
  prior?: Prior | null;
  model?: ModelOverrides;
  /** Channels of the signal (the decoder's outputs). */
  channels: number;
  /** The signal's grid ([n] a clip, [h, w] an image, [d, h, w] a volume); absent: an image of unknown size. */
  dims?: readonly number[];
  /** Samples per second of a clip (checked against an audio prior's). */
  rate?: number;
  /** Coordinates per step (absent: the whole grid, or MAX_STEP_ROWS random ones for a larger grid). */
  batch?: number;
  iters?: number;
  lr?: number;
  /** Encoder learning rate (default: lr); 0 keeps a prior's encoder fixed. */
  encoderLr?: number;
  range?: TargetRange;
}

export interface ResolvedFit {
  config: InrConfig;
  iters: number;
  lr: number;
  encoderLr?: number;
  range: TargetRange;
  /** The prior's encoder as initial parameters (absent: random SIREN init). */
  init?: Partial<Params>;
  /** Random coordinates per step, when fewer than the grid's samples (absent: the whole grid). */
  batch?: number;
  /** The lattice the samples sit on (absent: the signal's own dims; see AUDIO below). */
  lattice?: number[];
}

export const DEFAULT_ITERS = 300;
export const DEFAULT_LR = 1e-4;

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
export function checkPriorSignal(prior: Prior, s: Pick<FitSettings, 'channels' | 'dims' | 'rate'>): void {
  const d = s.dims?.length ?? 2,
    pd = prior.config.inDim;
  if (pd !== d)
    throw new UserError(`prior '${prior.name}' was trained on ${kindOf(pd, true)}; it cannot start ${kindOf(d)}`);
  // An image prior's encoder starts an image of any channel count (the decoder is fresh: the MRI prior
  // fits RGB photos, bench/eval.md); clips and volumes must match the prior's channels.
  if (d !== 2 && prior.config.outDim !== s.channels)
    throw new UserError(
      `prior '${prior.name}' was trained on ${prior.config.outDim}-channel signals; the signal, ${kindOf(d)}, has ${s.channels}`,
    );
  if (prior.rate !== undefined && s.rate !== undefined && prior.rate !== s.rate)
    throw new UserError(
      `prior '${prior.name}' was trained on clips sampled at ${prior.rate} Hz; this clip is ${s.rate} Hz (resample it to ${prior.rate} Hz)`,
    );
}

export function checkIters(iters: number): number {
  if (!Number.isInteger(iters) || iters < ITERS_RANGE[0] || iters > ITERS_RANGE[1])
    throw new UserError(`iterations must be an integer between ${ITERS_RANGE[0]} and ${ITERS_RANGE[1]}, got ${iters}`);
  return iters;
}

export function checkLr(lr: number, what = 'learning rate', allowZero = false): number {
  if (!(Number.isFinite(lr) && (allowZero ? lr >= 0 : lr > 0) && lr <= LR_MAX))
    throw new UserError(`${what} must be ${allowZero ? 'at least 0' : 'above 0'} and at most ${LR_MAX}, got ${lr}`);
  return lr;
}

/** Checks that a prior can start an INR of config `c` and returns its encoder as initial values. */
export function priorInit(prior: Prior, c: InrConfig): Partial<Params> {
  const p = prior.config;
  if (p.inDim !== c.inDim)
    throw new UserError(
      `prior '${prior.name}' was trained on ${kindOf(p.inDim, true)}; it cannot start a model of ${kindOf(c.inDim, true)}`,
    );
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
  return prior.encoder;
}

export function resolveFit(s: FitSettings): ResolvedFit {
  const inDim = s.dims?.length ?? 2;
  if (s.prior) checkPriorSignal(s.prior, s);
  const base = s.prior ? s.prior.config : defaultConfig(inDim);
  const overrides = Object.fromEntries(Object.entries(s.model ?? {}).filter(([, v]) => v !== undefined));
  const config = validateConfig({
    ...base,
    ...overrides,
    ...(s.dims ? { inDim } : {}),
    outDim: s.channels,
  } as InrConfig);
  const init = s.prior ? priorInit(s.prior, config) : undefined;
  const iters = checkIters(s.iters ?? DEFAULT_ITERS);
  const lr = checkLr(s.lr ?? DEFAULT_LR);
  const encoderLr = s.encoderLr === undefined ? undefined : checkLr(s.encoderLr, 'encoder learning rate', true);
  const rows = s.dims ? s.dims.reduce((a, b) => a * b, 1) : undefined;
  if (
    s.batch !== undefined &&
    !(Number.isInteger(s.batch) && s.batch >= 1 && (rows === undefined || s.batch <= rows))
  ) {
    throw new UserError(`batch must be an integer between 1 and ${rows ?? 'the sample count'}, got ${s.batch}`);
  }
  const batch = s.batch ?? (rows !== undefined && rows > MAX_STEP_ROWS ? MAX_STEP_ROWS : undefined);
  const lattice = inDim === 1 && s.prior?.dims?.length === 1 ? [...s.prior.dims] : undefined;
  return {
    config,
    iters,
    lr,
    range: s.range ?? s.prior?.range ?? (inDim === 1 ? AUDIO_RANGE : 'unit'),
    ...(encoderLr !== undefined ? { encoderLr } : {}),
    ...(init ? { init } : {}),
    ...(batch !== undefined && batch !== rows ? { batch } : {}),
    ...(lattice ? { lattice } : {}),
  };
}
