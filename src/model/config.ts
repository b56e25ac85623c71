// Typed INR configuration and its validation. One JSON-able object describes a model everywhere: in
// manifests, in CLI overrides, in the browser. Defaults are the STRAINER recipe (shared/REFERENCE.md).
import { UserError } from '../util/errors.ts';

export type InrKind = 'siren' | 'relu-ff';

export interface InrConfig {
  kind: InrKind;
  /** Coordinate dimensions (2 for images). */
  inDim: number;
  /** Output columns: channels of one signal, or N*channels when N decoders are stacked (pretraining). */
  outDim: number;
  /** Hidden width; 256 in the paper. */
  width: number;
  /** Linear layers in all: depth-1 hidden layers form the encoder, the last one is the decoder (6 in the paper). */
  depth: number;
  /** SIREN frequency omega_0 of the hidden layers (and of the first, unless omega0 is set); 30 in SIREN and STRAINER. */
  omega: number;
  /** SIREN first-layer omega_0 (SIREN's `first_omega_0`); absent: `omega`. Audio needs a much larger one:
   *  SIREN fits its audio clips with 3000 (vsitzmann/siren explore_siren.ipynb, `first_omega_0=3000`). */
  omega0?: number;
  /** relu-ff only: number of random Fourier frequencies and their scale (Tancik et al. 2020 use 256 and 10). */
  ffFeatures?: number;
  ffScale?: number;
  ffSeed?: number;
}

export const PAPER_CONFIG: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 256, depth: 6, omega: 30 };

/** The first layer's omega_0: `omega0` when set, else `omega`. */
export function firstOmega(c: InrConfig): number {
  return c.omega0 ?? c.omega;
}

/** The sizes and frequencies a config may have (validateConfig; the user-facing settings reuse them,
 *  src/train/plan.ts SETTINGS). omega ranges: SIREN uses 30, its audio first layer 3000. */
export const CONFIG_LIMITS = {
  inDim: { min: 1, max: 4 },
  outDim: { min: 1, max: 4096 },
  width: { min: 1, max: 4096 },
  depth: { min: 2, max: 64 },
  omega: { min: 0, max: 1e4 },
  omega0: { min: 0, max: 1e5 },
} as const;

export function validateConfig(c: InrConfig): InrConfig {
  const L = CONFIG_LIMITS;
  const int = (v: number, name: string, lo: number, hi: number): void => {
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new UserError(`config: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  if (c.kind !== 'siren' && c.kind !== 'relu-ff') throw new UserError(`config: unknown model kind '${String(c.kind)}'`);
  int(c.inDim, 'inDim', L.inDim.min, L.inDim.max);
  int(c.outDim, 'outDim', L.outDim.min, L.outDim.max);
  int(c.width, 'width', L.width.min, L.width.max);
  int(c.depth, 'depth', L.depth.min, L.depth.max);
  if (!(Number.isFinite(c.omega) && c.omega > L.omega.min && c.omega <= L.omega.max))
    throw new UserError(`config: omega must be above 0 and at most ${L.omega.max}, got ${c.omega}`);
  if (c.omega0 !== undefined && !(Number.isFinite(c.omega0) && c.omega0 > L.omega0.min && c.omega0 <= L.omega0.max))
    throw new UserError(`config: omega0 must be above 0 and at most ${L.omega0.max}, got ${c.omega0}`);
  if (c.kind === 'relu-ff') {
    int(c.ffFeatures ?? 0, 'ffFeatures', 1, 4096);
    if (!((c.ffScale ?? 0) > 0)) throw new UserError('config: ffScale must be positive');
  }
  return c;
}
