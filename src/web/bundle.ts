// The browser's download of a fitted model: the same bundle the CLI writes (src/export/fit-bundle.ts:
// manifest, weights.bin with the whole train state, inference.onnx, train_step.onnx), zipped into one
// file (fflate) holding the folder `name/`.
import { zipSync } from 'fflate';
import { manifestBytes, type BuiltBundle } from '../export/bundle.ts';
import { fitBundle, manifestSignal } from '../export/fit-bundle.ts';
import { asSignal } from '../data/signal.ts';
import { UserError } from '../util/errors.ts';
import type { FitTarget, WebFitResult } from './fit.ts';

export async function webFitBundle(r: WebFitResult<FitTarget>, name: string, source?: string): Promise<BuiltBundle> {
  if (!r.state) throw new UserError('this fit kept no train state (run fit with keepState: true to download it)');
  const last = r.psnr[r.psnr.length - 1];
  return fitBundle({
    name,
    config: r.config,
    range: r.range,
    lr: r.lr,
    iters: r.iters,
    state: r.state,
    signal: manifestSignal(asSignal(r.output).dims, r.output.channels, {
      ...(source ? { source } : {}),
      ...(r.rate !== undefined ? { rate: r.rate } : {}),
      ...(r.lattice ? { lattice: r.lattice } : {}),
    }),
    ...(r.batch ? { batch: r.batch } : {}),
    finalLoss: last === undefined ? NaN : 10 ** (-last / 10),
    engine: r.backend,
    eval: { psnr: r.finalPsnr, ...(r.prior ? { prior: r.prior } : {}) },
  });
}

/** The bundle as a .zip holding the folder `folder/`. */
export function zipBundle(b: BuiltBundle, folder: string): Uint8Array {
  const files: Record<string, Uint8Array> = { [`${folder}/manifest.json`]: manifestBytes(b.manifest) };
  for (const [n, bytes] of Object.entries(b.files)) files[`${folder}/${n}`] = bytes;
  // Level 0 (stored): the ONNX graphs and float32 weights barely compress, and the page stays fast.
  return zipSync(files, { level: 0 });
}
