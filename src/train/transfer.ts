// Transfer measurements: fit held-out signals (images, clips, volumes) from a prior's encoder (fresh
// decoder, all parameters trained: the paper's protocol) and from other initialisations, recording
// PSNR before each update. Both methods fit on the same coordinates (`lattice`, e.g. an audio prior's).
import type { Backend } from '../runtime/session.ts';
import type { InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { TargetRange } from './grid.ts';
import { fitSignal } from './fit.ts';
import type { Image } from '../data/pixels.ts';
import type { Signal } from '../data/signal.ts';

export interface CurveOptions {
  iters: number;
  lr: number;
  seed: number;
  range: TargetRange;
  /** The lattice the samples sit on (FitOptions.lattice), the same for every method. */
  lattice?: number[];
  /** PSNR at these iterations too (transferGain; default 0, 50, 100, 200). */
  at?: readonly number[];
  /** The iteration of transferGain's headline (iteration, strainer_psnr, siren_psnr, gain_db); default iters. */
  headline?: number;
}

/** PSNR curve (length iters+1: before each update, then the final model) of one fit. */
export async function psnrCurve(
  backend: Backend,
  config: InrConfig,
  image: Image | Signal,
  o: CurveOptions,
  init?: Partial<Params>,
): Promise<{ curve: number[]; params: Params; stepMs: number[] }> {
  const r = await fitSignal(image, {
    config,
    iters: o.iters,
    lr: o.lr,
    seed: o.seed,
    backend,
    range: o.range,
    ...(init ? { init } : {}),
    ...(o.lattice ? { lattice: o.lattice } : {}),
  });
  return { curve: [...r.psnr, r.finalPsnr], params: r.params, stepMs: r.stepMs };
}

/** Mean PSNR of fits from the prior's encoder and from a random SIREN (same seed) on held-out signals,
 *  at iterations 0, 50, 100, 200 (or o.at; those <= o.iters) and at o.iters; gain_db is at o.headline
 *  (default o.iters). */
export async function transferGain(
  backend: Backend,
  config: InrConfig,
  encoder: Params,
  test: readonly { id: string; image: Image | Signal }[],
  o: CurveOptions,
): Promise<Record<string, unknown>> {
  const head = Math.min(o.headline ?? o.iters, o.iters);
  const at = [...new Set([...(o.at ?? [0, 50, 100, 200]), head, o.iters].filter((i) => i <= o.iters))].sort(
    (a, b) => a - b,
  );
  const per: { id: string; strainer: number[]; siren: number[] }[] = [];
  for (const t of test) {
    const a = await psnrCurve(backend, config, t.image, o, encoder);
    const b = await psnrCurve(backend, config, t.image, o);
    per.push({
      id: t.id,
      strainer: at.map((i) => +a.curve[i].toFixed(3)),
      siren: at.map((i) => +b.curve[i].toFixed(3)),
    });
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
