// Transfer measurements: fit held-out signals (images, clips, volumes) from a prior (fresh decoder, all
// parameters trained: the paper's protocol) and from a random SIREN of the same architecture, through
// the one fit path, and compare their PSNR curves. Both fit on the same coordinates (a clip prior's
// lattice). The headline is stored in a prior's manifest (`eval`) by pretraining.
import type { Backend } from '../runtime/session.ts';
import type { Image } from '../data/pixels.ts';
import { asSignal, type Signal } from '../data/signal.ts';
import { fit, psnrCurve } from './fit.ts';
import type { Prior } from './prior.ts';
import type { ModelOverrides } from './plan.ts';
import type { DriverFactory } from './trainer.ts';

export interface TransferOptions {
  iters: number;
  lr: number;
  seed: number;
  /** PSNR at these iterations too (default 0, 50, 100, 200). */
  at?: readonly number[];
  /** The iteration of the headline (iteration, strainer_psnr, siren_psnr, gain_db); default iters. */
  headline?: number;
  /** What runs the fits' train steps (FitOptions.driver). */
  driver?: DriverFactory;
}

/** The random SIREN a prior is compared with: the prior's architecture, range and clip lattice. */
export function baselineOf(prior: Prior): { model: ModelOverrides; range: Prior['range']; lattice?: number[] } {
  const { inDim: _i, outDim: _o, ...model } = prior.config;
  return { model, range: prior.range, lattice: prior.config.inDim === 1 ? prior.dims : undefined };
}

/** Mean PSNR of fits from the prior and from a random SIREN (same seed) on held-out signals, at
 *  iterations 0, 50, 100, 200 (or o.at; those <= o.iters) and at o.iters; gain_db is at o.headline
 *  (default o.iters). */
export async function transferGain(
  backend: Backend,
  prior: Prior,
  test: readonly { id: string; signal: Image | Signal }[],
  o: TransferOptions,
): Promise<Record<string, unknown>> {
  const head = Math.min(o.headline ?? o.iters, o.iters);
  const at = [...new Set([...(o.at ?? [0, 50, 100, 200]), head, o.iters].filter((i) => i <= o.iters))].sort(
    (a, b) => a - b,
  );
  // The paper's protocol: the gain at the paper's iterations of its recipe.
  const common = { backend, driver: o.driver, recipe: 'paper' as const, iters: o.iters, lr: o.lr, seed: o.seed };
  const per: { id: string; strainer: number[]; siren: number[] }[] = [];
  for (const t of test) {
    const signal = asSignal(t.signal);
    const a = psnrCurve(await fit(signal, { ...common, prior }));
    const b = psnrCurve(await fit(signal, { ...common, ...baselineOf(prior) }));
    per.push({ id: t.id, strainer: at.map((i) => +a[i].toFixed(3)), siren: at.map((i) => +b[i].toFixed(3)) });
  }
  const mean = (k: 'strainer' | 'siren', j: number): number =>
    +(per.reduce((s, p) => s + p[k][j], 0) / per.length).toFixed(3);
  const last = at.indexOf(head);
  return {
    iteration: head,
    images: per.map((p) => p.id),
    strainer_psnr: mean('strainer', last),
    siren_psnr: mean('siren', last),
    gain_db: +(mean('strainer', last) - mean('siren', last)).toFixed(3),
    curve: Object.fromEntries(
      at.map((i, j) => [
        String(i),
        {
          strainer: mean('strainer', j),
          siren: mean('siren', j),
          gain: +(mean('strainer', j) - mean('siren', j)).toFixed(3),
        },
      ]),
    ),
    per_image: per.map((p) => ({ id: p.id, at, strainer: p.strainer, siren: p.siren })),
  };
}
