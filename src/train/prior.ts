// A STRAINER prior as the trainer sees it: a pretrained shared encoder (the sine layers) plus the
// config it was trained with. Fitting from a prior = encoder <- prior, decoder <- fresh SIREN init,
// then train everything (paper protocol, shared/REFERENCE.md). Reading and writing prior bundles is
// src/export/prior.ts; deciding whether a prior can start a model is planFit (./plan.ts).
import type { InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { TargetRange } from './grid.ts';

export interface Prior {
  name: string;
  /** Config of a single-signal INR built on this encoder (outDim = channels of one signal). */
  config: InrConfig;
  range: TargetRange;
  encoder: Params;
  /** A whole-network init (e.g. a SIREN fitted to another signal: the fine-tuned baseline) also starts
   *  the decoder, when it has the signal's channels; a STRAINER prior has none (the decoder is fresh). */
  decoder?: Params;
  /** The grid it was pretrained on ([7290] clips, [64, 64] images), when known: a clip fitted from an
   *  audio prior keeps the prior's sample spacing (resolveFit). */
  dims?: number[];
  /** Samples per second along axis 0 (audio priors): a clip of another rate is refused. */
  rate?: number;
}
