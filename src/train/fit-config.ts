// The one resolver of a fit's configuration (STYLE.md practice 15): the model config (a prior's, or
// the paper's SIREN, plus the caller's overrides), the target range, the iteration count and the
// learning rates, each validated against one set of ranges. The CLI (fit, restore, eval, demo), the
// Node and browser libraries and restoration all call resolveFit, so they cannot drift apart.
import { PAPER_CONFIG, validateConfig, type InrConfig } from '../model/config.ts';
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
}

export const DEFAULT_ITERS = 300;
export const DEFAULT_LR = 1e-4;

export function checkIters(iters: number): number {
  if (!Number.isInteger(iters) || iters < ITERS_RANGE[0] || iters > ITERS_RANGE[1]) throw new UserError(`iterations must be an integer between ${ITERS_RANGE[0]} and ${ITERS_RANGE[1]}, got ${iters}`);
  return iters;
}

export function checkLr(lr: number, what = 'learning rate', allowZero = false): number {
  if (!(Number.isFinite(lr) && (allowZero ? lr >= 0 : lr > 0) && lr <= LR_MAX)) throw new UserError(`${what} must be ${allowZero ? 'at least 0' : 'above 0'} and at most ${LR_MAX}, got ${lr}`);
  return lr;
}

/** Checks that a prior can start an INR of config `c` and returns its encoder as initial values. */
export function priorInit(prior: Prior, c: InrConfig): Partial<Params> {
  const p = prior.config;
  const same = p.kind === c.kind && p.inDim === c.inDim && p.width === c.width && p.depth === c.depth && p.omega === c.omega;
  if (!same) {
    throw new UserError(`prior '${prior.name}' was trained for ${p.kind} width ${p.width} depth ${p.depth} omega ${p.omega}; it cannot start ${c.kind} width ${c.width} depth ${c.depth} omega ${c.omega}`);
  }
  return prior.encoder;
}

export function resolveFit(s: FitSettings): ResolvedFit {
  const base = s.prior ? s.prior.config : PAPER_CONFIG;
  const overrides = Object.fromEntries(Object.entries(s.model ?? {}).filter(([, v]) => v !== undefined));
  const config = validateConfig({ ...base, ...overrides, outDim: s.channels } as InrConfig);
  const init = s.prior ? priorInit(s.prior, config) : undefined;
  const iters = checkIters(s.iters ?? DEFAULT_ITERS);
  const lr = checkLr(s.lr ?? DEFAULT_LR);
  const encoderLr = s.encoderLr === undefined ? undefined : checkLr(s.encoderLr, 'encoder learning rate', true);
  return {
    config, iters, lr, range: s.range ?? s.prior?.range ?? 'unit',
    ...(encoderLr !== undefined ? { encoderLr } : {}),
    ...(init ? { init } : {}),
  };
}
