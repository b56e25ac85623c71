// The meta-learned rows of `strainer eval --meta-prior DIR` (issue 20, the paper's fifth baseline):
// 'meta' fits from the meta-init with Adam at --lr like every other row (the paper's protocol);
// 'meta-sgd' first makes the init's own inner steps of plain SGD at its inner learning rate, then Adam
// at --lr continues (Learnit's protocol, src/pipeline/meta.ts fitInnerThenAdam). Which prior a flag takes
// is checked here: a meta-learned prior where a STRAINER prior is required, or the reverse, is one line.
import type { BundledPrior } from '../export/prior.ts';
import { priorMethod } from '../train/prior.ts';
import { UserError } from '../util/errors.ts';
import { cliPrior } from './prior.ts';

export const META_ROWS = ['meta', 'meta-sgd'] as const;
export const META_LABEL: Record<(typeof META_ROWS)[number], string> = {
  meta: 'Meta-learned',
  'meta-sgd': 'Meta-learned, own inner SGD first',
};

/** `p` if it is a STRAINER prior; a meta-learned one is refused under `flag`. */
export function requireStrainerPrior(p: BundledPrior, flag: string): BundledPrior {
  const m = priorMethod(p);
  if (m !== 'strainer')
    throw new UserError(
      `${flag}: prior '${p.name}' is a ${m} meta-learned init, not a STRAINER prior (pass it as --meta-prior)`,
    );
  return p;
}

/** The prior of --meta-prior (which must be meta-learned), or null; the meta rows need it. */
export async function cliMetaPrior(arg: string | undefined, methods: readonly string[]): Promise<BundledPrior | null> {
  if (arg === undefined) {
    const asked = methods.filter((m) => (META_ROWS as readonly string[]).includes(m));
    if (asked.length > 0) throw new UserError(`--methods ${asked.join(',')} needs --meta-prior`);
    return null;
  }
  const p = await cliPrior(arg);
  if (priorMethod(p) === 'strainer' || !p.meta)
    throw new UserError(
      `--meta-prior: prior '${p.name}' is a STRAINER prior (encoder only), not a meta-learned init (strainer pretrain --method maml)`,
    );
  return p;
}

/** Extra report columns: the iteration after the meta-init's inner steps (2 for Learnit's recipe). */
export const metaCols = (p: BundledPrior | null): number[] => (p?.meta ? [p.meta.innerSteps] : []);

/** Lines under the table saying what the meta rows ran. */
export function metaNote(p: BundledPrior | null, methods: readonly string[], lr: number): string[] {
  if (!p?.meta || !methods.some((m) => (META_ROWS as readonly string[]).includes(m))) return [];
  const r = p.meta;
  return [
    '',
    `${META_LABEL.meta}: \`${p.name}\`, ${p.method} (${r.outerSteps} outer steps, meta batch ${r.metaBatch}, ${r.innerSteps} inner SGD step(s) of lr ${r.innerLr}, outer Adam lr ${r.outerLr}), fitted with Adam lr ${lr} from iteration 0 like every other row (the paper's protocol). ` +
      `${META_LABEL['meta-sgd']}: its ${r.innerSteps} inner SGD update(s) at lr ${r.innerLr} (iterations 0..${r.innerSteps - 1}), then Adam lr ${lr} with fresh moments (Learnit's protocol).`,
  ];
}
