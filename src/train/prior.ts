// STRAINER priors: a pretrained shared encoder (the sine layers) plus the config it was trained
// with. Fitting from a prior = encoder <- prior, decoder <- fresh SIREN init, then train everything
// (paper protocol, shared/REFERENCE.md). Loading verifies the bundle (sha256 of every file).
import { loadBundle, type FileSource, type Manifest } from '../export/artifacts.ts';
import type { InrConfig } from '../model/config.ts';
import { isEncoderParam, paramSpecs, type Params } from '../model/inr.ts';
import type { TargetRange } from './grid.ts';
import { UserError } from '../util/errors.ts';

export interface Prior {
  name: string;
  /** Config of a single-signal INR built on this encoder (outDim = channels of one signal). */
  config: InrConfig;
  range: TargetRange;
  encoder: Params;
  manifest: Manifest;
}

export async function loadPrior(src: FileSource): Promise<Prior> {
  const b = await loadBundle(src);
  const m = b.manifest;
  if (m.kind !== 'prior') throw new UserError(`${src.where}: bundle is a '${m.kind}', not a prior`);
  const encoder: Params = {};
  for (const s of paramSpecs(m.config).filter((p) => isEncoderParam(p.name))) {
    const t = b.tensors[s.name];
    if (!t || t.data.length !== s.shape.reduce((a, c) => a * c, 1)) throw new UserError(`${src.where}: prior lacks encoder tensor '${s.name}' of shape [${s.shape}]`);
    encoder[s.name] = t.data;
  }
  return { name: m.name, config: m.config, range: m.range, encoder, manifest: m };
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
