// `strainer fit FILE`: fit a SIREN (random init, or from a STRAINER prior with --prior) to an image, a
// WAV clip or a volume through strainer/node's fit, report PSNR over iterations, and with --out save
// the fit's bundle (saveFit) with the reconstruction and the PSNR curve beside it (./fit-files.ts).
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { settingArg, choiceArg } from './args.ts';
import { progress } from './progress.ts';
import { cliPrior, PRIOR_FLAGS } from './prior.ts';
import { describeSignal, type Signal } from '../data/signal.ts';
import { psnrAt, type FitResult } from '../train/fit.ts';
import { DEFAULT_ITERS, DEFAULT_LR, DEFAULT_RES } from '../train/plan.ts';
import type { TargetRange } from '../train/grid.ts';
import { fit, saveFit } from '../node/api.ts';
import { NODE_BACKENDS, type NodeBackendName, type Ep } from '../node/backend.ts';
import { checkOutDir } from '../node/fs.ts';
import { cliBackend, EP_FLAG } from './backend-choice.ts';
import { readFitInput, inputEval, fitFiles, VOLUME_RES, type FitInput } from './fit-files.ts';
import { median } from '../util/stats.ts';

export interface FitCliOptions {
  iters: number;
  res?: number;
  width?: number;
  depth?: number;
  omega?: number;
  omega0?: number;
  lr: number;
  seed: number;
  out?: string;
  json?: boolean;
  prior?: string;
  publicKey?: string;
  targets?: TargetRange;
  batch?: number;
  force?: boolean;
  backend: NodeBackendName;
  ep?: Ep;
  channels: 'auto' | '1' | '3';
  threads?: number;
  untilPsnr?: number;
  time?: number;
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
    // Random batches: the per-iteration PSNR is that of each step's batch; final_psnr is the whole grid's.
    batch: p.batch ?? p.dims.reduce((a, b) => a * b, 1),
    batch_mode: p.batch ? 'random' : 'full',
    ...(p.lattice ? { lattice: p.lattice } : {}),
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
  const r = await fit(sig, {
    prior,
    model: { width: o.width, depth: o.depth, omega: o.omega, omega0: o.omega0 },
    iters: o.iters,
    lr: o.lr,
    seed: o.seed,
    range: o.targets,
    batch: o.batch,
    rate: input.rate,
    untilPsnr: o.untilPsnr,
    timeLimit: o.time,
    backend,
    onStep: bar.update,
  }).finally(() => bar.stop());

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
  program
    .command('fit')
    .argument('<file>', 'PNG or JPEG image, WAV clip (.wav), or volume (.nii, .nii.gz, rank-3 .npy)')
    .option('--iters <n>', 'training iterations', settingArg('--iters', 'iters'), DEFAULT_ITERS)
    .option(
      '--res <r>',
      `images: centre square resized to r x r (default ${DEFAULT_RES}); volumes: zero-padded to a cube, area-averaged to r^3 (default ${VOLUME_RES}); clips: ignored`,
      settingArg('--res', 'res'),
    )
    .option('--width <w>', "hidden width (default 256, or the prior's)", settingArg('--width', 'width'))
    .option('--depth <d>', "linear layers in all (default 6, or the prior's)", settingArg('--depth', 'depth'))
    .option(
      '--omega <w0>',
      "SIREN omega_0 of the hidden layers, and of the first unless --omega0 (default 30, or the prior's)",
      settingArg('--omega', 'omega'),
    )
    .option(
      '--omega0 <w0>',
      "SIREN first-layer omega_0 (default --omega; clips 3000, SIREN's audio recipe; or the prior's)",
      settingArg('--omega0', 'omega0'),
    )
    .option(
      '--until-psnr <db>',
      'stop as soon as the PSNR over the whole signal reaches this many dB (with --iters and --time: whichever comes first)',
      settingArg('--until-psnr', 'untilPsnr'),
    )
    .option('--time <s>', 'stop after this many seconds of fitting', settingArg('--time', 'timeLimit'))
    .option('--lr <lr>', 'Adam learning rate', settingArg('--lr', 'lr'), DEFAULT_LR)
    .option('--seed <s>', 'random seed (init, sampling)', settingArg('--seed', 'seed'), 0)
    .option(...PRIOR_FLAGS.prior)
    .option(...PRIOR_FLAGS.publicKey)
    .option(
      '--targets <r>',
      "target value range: unit = [0,1] (alpine), pm1 = [-1,1] (the paper notebook); default the prior's or unit",
      choiceArg('--targets', ['unit', 'pm1'] as const),
    )
    .option(
      '--batch <n>',
      'coordinates per step, drawn at random (default: the whole grid; above 65536 samples, random batches of 65536)',
      settingArg('--batch', 'batch'),
    )
    .option('--channels <c>', 'auto, 1 (gray) or 3 (RGB)', choiceArg('--channels', ['auto', '1', '3'] as const), 'auto')
    .option(
      '--backend <b>',
      'runtime: ort (onnxruntime-node) or reference (slow interpreter)',
      choiceArg('--backend', NODE_BACKENDS),
      'ort',
    )
    .option(...EP_FLAG)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', settingArg('--threads', 'threads'))
    .option('--out <dir>', 'write the fit bundle here, with the reconstruction and psnr.csv, psnr.svg')
    .option('--force', 'overwrite a non-empty --out folder')
    .option('--json', 'print a JSON summary as the last line of stdout')
    .action(async (file: string, opts: FitCliOptions) => runFit(file, opts));
}
