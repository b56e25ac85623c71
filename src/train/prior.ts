// A prior as the trainer sees it: a pretrained shared encoder (the sine layers) plus the config it was
// trained with. Fitting from a STRAINER prior = encoder <- prior, decoder <- fresh SIREN init, then
// train everything (paper protocol, shared/REFERENCE.md). A meta-learned prior (MAML, first-order MAML,
// Reptile: src/pipeline/meta.ts) is a whole SIREN init, encoder and decoder, plus the test-time recipe it
// was meta-trained for. Reading and writing prior bundles is src/export/prior.ts; deciding whether a
// prior can start a model is planFit (./plan.ts).
import type { InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { TargetRange } from './grid.ts';
import { META_METHODS, type MetaMethod } from './meta.ts';

/** How a prior was made: 'strainer' (a shared encoder pretrained with N decoders, the paper's) or a
 *  meta-learned whole-network init (src/train/meta.ts MetaMethod). */
export type PriorMethod = 'strainer' | MetaMethod;
export const PRIOR_METHODS: readonly PriorMethod[] = ['strainer', ...META_METHODS];

/** The recipe a meta-learned prior was trained with, and the test-time fit it was trained for: innerSteps
 *  plain SGD steps of innerLr on one signal's full grid (Learnit's inner loop). */
export interface MetaRecipe {
  innerSteps: number;
  innerLr: number;
  innerOptimizer: 'sgd';
  /** Signals per outer step. */
  metaBatch: number;
  /** Outer Adam learning rate. */
  outerLr: number;
  /** Outer steps made. */
  outerSteps: number;
}

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
  /** How it was made (absent: 'strainer'); a meta-learned prior has a decoder and `meta`. */
  method?: PriorMethod;
  meta?: MetaRecipe;
}

/** A prior's method, absent meaning 'strainer'. */
export const priorMethod = (p: Pick<Prior, 'method'>): PriorMethod => p.method ?? 'strainer';
