// `strainer fit FILE`: fit a SIREN (random init, or from a STRAINER prior with --prior) to an image, a
// WAV clip or a volume through strainer/node's fit, report PSNR over iterations, and with --out save
// the fit's bundle (saveFit) with the reconstruction and the PSNR curve beside it (./fit-files.ts).
// Its model, prior, recipe and runtime flags are ./fit-flags.ts's, shared with `strainer fit-many`.
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { progress } from './progress.ts';
import { cliPrior } from './prior.ts';
import { describeSignal, type Signal } from '../data/signal.ts';
import { psnrAt, type FitResult } from '../train/fit.ts';
import { fit, saveFit } from '../node/api.ts';
import { checkOutDir } from '../node/fs.ts';
import { cliBackend } from './backend-choice.ts';
import { readFitInput, inputEval, fitFiles, type FitInput } from './fit-files.ts';
import { registerFitFlags, fitSettings, type FitFlags } from './fit-flags.ts';
import { median } from '../util/stats.ts';

export interface FitCliOptions extends FitFlags {
  out?: string;
  json?: boolean;
  force?: boolean;
}

/** The --json summary of a fit (and one line of `fit-many`'s index): PSNR at the report iterations and what ran. */
export function fitSummary(input: FitInput, r: FitResult<Signal>): Record<string, unknown> {
  const p = r.plan;
  return {
    psnr: psnrAt(r),
    final_psnr: +r.finalPsnr.toFixed(3),
    ...inputEval(input, r),
    iters: r.iters,
    step_ms_median: +median(r.stepMs).toFixed(2),
    seconds: +r.seconds.toFixed(3),
    stop: r.stop,
    reached: r.reached && {
      psnr: +r.reached.psnr.toFixed(3),
      iteration: r.reached.iteration,
      seconds: +r.reached.seconds.toFixed(3),
    },
    best: r.best && { psnr: +r.best.psnr.toFixed(3), iteration: r.best.iteration, returned: r.best.returned },
    kind: input.kind,
    ...(input.kind === 'image' ? { res: p.dims[1] } : {}),
    dims: p.dims,
    channels: p.channels,
    ...(p.rate !== undefined ? { rate: p.rate } : {}),
    ...(input.volume ? { stored_dims: input.volume.stored } : {}),
    // Random batches (and the fast recipe's staged subsets, at most `batch` rows a step): the per-iteration
    // PSNR is that of each step's batch; final_psnr is the whole grid's.
    batch: p.batch ?? p.dims.reduce((a, b) => a * b, 1),
    batch_mode: p.recipe === 'fast' ? 'staged' : p.batch ? 'random' : 'full',
    ...(p.lattice ? { lattice: p.lattice } : {}),
    recipe: p.recipe,
    optimizer: p.optimizer,
    width: p.config.width,
    omega: p.config.omega,
    omega0: p.config.omega0 ?? p.config.omega,
    backend: r.backend,
    ...(p.prior ? { prior: p.prior } : {}),
  };
}

export async function runFit(path: string, o: FitCliOptions): Promise<void> {
  if (o.out) checkOutDir(o.out, o.force ?? false);
  const prior = o.prior ? await cliPrior(o.prior, o.publicKey) : undefined;
  const input = readFitInput(path, { res: o.res, channels: o.channels });
  const { backend } = await cliBackend(o);
  const sig = input.signal;
  const bar = progress(`fit ${basename(path)} (${describeSignal(sig)})`, o.iters);
  const r = await fit(sig, { ...fitSettings(o, prior, input.rate), backend, onStep: bar.update }).finally(() =>
    bar.stop(),
  );

  if (o.out) {
    const name = basename(path);
    const extra = fitFiles(input, r);
    await saveFit(r, o.out, { name, source: name, extra, eval: inputEval(input, r), force: o.force });
    process.stderr.write(
      `wrote ${resolve(o.out)} (${Object.keys(extra).join(', ')}, manifest.json, inference.onnx, train_step.onnx, weights.bin)\n`,
    );
  }
  const summary = fitSummary(input, r);
  if (o.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const cols = Object.entries(psnrAt(r))
    .map(([k, v]) => `${k}: ${v.toFixed(2)}`)
    .join('  ');
  const batch = r.plan.batch;
  const snr = summary.snr_db === undefined ? '' : `, SNR ${(summary.snr_db as number).toFixed(2)} dB`;
  const why = {
    iters: '',
    psnr: `, reached ${r.plan.untilPsnr} dB at ${r.reached?.seconds.toFixed(2)} s`,
    time: `, time limit of ${r.plan.timeLimit} s`,
    user: ', stopped',
  }[r.stop];
  const kept = r.best?.returned ? ` (the best state, after ${r.best.iteration} updates)` : '';
  process.stdout.write(
    `PSNR (dB) at iteration  ${cols}${batch ? ` (of each step's random batch of ${batch})` : ''}\n` +
      `final PSNR ${r.finalPsnr.toFixed(2)} dB${snr}${kept} after ${r.iters} iterations in ${r.seconds.toFixed(2)} s${why} on ${describeSignal(sig)}, median step ${median(r.stepMs).toFixed(2)} ms on ${r.backend}\n`,
  );
}

export function registerFit(program: Command): void {
  registerFitFlags(
    program
      .command('fit')
      .argument('<file>', 'PNG or JPEG image, WAV clip (.wav), or volume (.nii, .nii.gz, rank-3 .npy)'),
  )
    .option('--out <dir>', 'write the fit bundle here, with the reconstruction and psnr.csv, psnr.svg')
    .option('--force', 'overwrite a non-empty --out folder')
    .option('--json', 'print a JSON summary as the last line of stdout')
    .action(async (file: string, opts: FitCliOptions) => runFit(file, opts));
}
