// `strainer restore IMAGE --task superres|denoise`: recover a clean image from a degraded observation
// (paper Table 6) by fitting an INR through a forward model, optionally from a STRAINER prior. For
// superres IMAGE is the low-resolution observation and the result is scale x its size; for denoise
// IMAGE is the noisy image (or, with --sigma, a clean image that gets seeded noise added first and then
// serves as the truth). With a truth, PSNR/SSIM are reported over iterations, fit's JSON convention.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { intArg, floatArg, choiceArg, settingArg } from './args.ts';
import { progress } from './progress.ts';
import { REPORT_ITERS } from '../train/fit.ts';
import { DEFAULT_LR } from '../train/plan.ts';
import { median } from '../util/stats.ts';
import { encodePng, type Image } from '../data/image.ts';
import { cliPrior, PRIOR_FLAGS } from './prior.ts';
import type { NodeBackendName, Ep } from '../node/backend.ts';
import { BACKEND_FLAG, cliBackend, EP_FLAG, THREADS_FLAG } from './backend-choice.ts';
import { checkOutDir, writeFileAtomic } from '../node/fs.ts';
import { restoreImage, taskGeometry, RESTORE_TASKS, type RestoreResult, type RestoreTask } from '../restore/restore.ts';
import { addNoise, checkScale } from '../restore/degrade.ts';
import { UserError } from '../util/errors.ts';
import { loadImage } from '../node/read.ts';

export interface RestoreCliOptions {
  task: RestoreTask;
  scale?: number;
  sigma?: number;
  prior?: string;
  iters: number;
  lr: number;
  encoderLr?: number;
  publicKey?: string;
  width?: number;
  seed: number;
  truth?: string;
  out: string;
  json?: boolean;
  force?: boolean;
  backend: NodeBackendName;
  ep?: Ep;
  threads?: number;
}

function readImage(path: string, what: string, channels?: 1 | 3): Image {
  if (!existsSync(path)) throw new UserError(`${path}: no such file (${what})`);
  return loadImage(path, { channels: channels ?? 'auto' });
}

/** The --json summary: PSNR/SSIM against the truth at the report iterations <= iters, fit's keys. */
export function restoreSummary(r: RestoreResult): Record<string, unknown> {
  const psnr: Record<string, number> = {},
    ssim: Record<string, number> = {};
  for (const p of r.points) {
    if (!REPORT_ITERS.includes(p.iter)) continue;
    psnr[String(p.iter)] = +p.psnr.toFixed(3);
    ssim[String(p.iter)] = +p.ssim.toFixed(4);
  }
  return {
    psnr,
    ssim,
    final_psnr: r.final ? +r.final.psnr.toFixed(3) : null,
    final_ssim: r.final ? +r.final.ssim.toFixed(4) : null,
    iters: r.iters,
    task: r.task,
    scale: r.scale,
    step_ms_median: +median(r.stepMs).toFixed(2),
    backend: r.backend,
    prior: r.prior,
    encoder_lr: r.encoderLr,
  };
}

export async function runRestore(imagePath: string, o: RestoreCliOptions): Promise<void> {
  if (o.task === 'superres' && o.sigma !== undefined) throw new UserError('--sigma applies to --task denoise only');
  if (o.task === 'denoise' && o.scale !== undefined)
    throw new UserError('--scale applies to --task superres only (denoising keeps the size)');
  const scale = o.task === 'superres' ? (o.scale ?? 4) : 1;
  checkOutDir(o.out, o.force ?? false);
  let obs = readImage(imagePath, 'the observation');
  let truth = o.truth ? readImage(o.truth, 'the truth', obs.channels) : undefined;
  if (o.sigma !== undefined) {
    truth ??= obs; // IMAGE is the clean image; it is the truth unless --truth says otherwise
    obs = addNoise(obs, o.sigma, o.seed);
  }
  if (truth && scale > 1) checkScale(truth.width, truth.height, scale, 'truth');
  taskGeometry(obs, o.task, scale); // size checks before any work

  const prior = o.prior ? await cliPrior(o.prior, o.publicKey) : null;
  const { backend } = await cliBackend(o);
  const bar = progress(`restore ${basename(imagePath)} (${o.task})`, o.iters, false);
  const r = await restoreImage(obs, {
    task: o.task,
    scale,
    model: { width: o.width },
    prior,
    iters: o.iters,
    lr: o.lr,
    seed: o.seed,
    encoderLr: o.encoderLr,
    backend,
    truth,
    recordAt: REPORT_ITERS,
    onStep: bar.update,
  }).finally(() => bar.stop());

  const summary = restoreSummary(r);
  writeFileAtomic(join(o.out, 'restored.png'), encodePng(r.image));
  if (o.sigma !== undefined) writeFileAtomic(join(o.out, 'observation.png'), encodePng(obs));
  writeFileAtomic(
    join(o.out, 'summary.json'),
    JSON.stringify({ ...summary, image: basename(imagePath), points: r.points }, null, 2) + '\n',
  );
  process.stderr.write(
    `wrote ${resolve(o.out)} (restored.png ${r.image.width}x${r.image.height}${o.sigma !== undefined ? ', observation.png' : ''}, summary.json)\n`,
  );
  if (o.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  if (r.final) {
    const cols = r.points
      .filter((p) => REPORT_ITERS.includes(p.iter))
      .map((p) => `${p.iter}: ${p.psnr.toFixed(2)}/${p.ssim.toFixed(3)}`)
      .join('  ');
    process.stdout.write(
      `PSNR (dB)/SSIM vs truth at iteration  ${cols}\nfinal PSNR ${r.final.psnr.toFixed(2)} dB, SSIM ${r.final.ssim.toFixed(4)} after ${r.iters} iterations, median step ${median(r.stepMs).toFixed(2)} ms on ${r.backend}\n`,
    );
  } else {
    process.stdout.write(
      `restored ${r.image.width}x${r.image.height} after ${r.iters} iterations (no --truth: no PSNR/SSIM), median step ${median(r.stepMs).toFixed(2)} ms on ${r.backend}\n`,
    );
  }
}

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .argument('<image>', 'the observation: low-resolution image (superres) or noisy image (denoise), PNG or JPEG')
    .requiredOption('--task <t>', `inverse problem: ${RESTORE_TASKS.join(' or ')}`, choiceArg('--task', RESTORE_TASKS))
    .option(
      '--scale <s>',
      'superres: integer upscaling factor; the forward model averages s x s blocks (default 4)',
      intArg('--scale', 2, 64),
    )
    .option(
      '--sigma <s>',
      'denoise: add Gaussian noise of this sigma (seeded by --seed) to IMAGE first; IMAGE is then the truth',
      floatArg('--sigma', 0, 1),
    )
    .option(...PRIOR_FLAGS.prior)
    .option(...PRIOR_FLAGS.publicKey)
    .option(
      '--iters <n>',
      'training iterations (denoising relies on stopping early)',
      settingArg('--iters', 'iters'),
      500,
    )
    .option('--lr <lr>', 'Adam learning rate', settingArg('--lr', 'lr'), DEFAULT_LR)
    .option(
      '--encoder-lr <lr>',
      "learning rate of the encoder (sine) layers, default --lr; 0 keeps the prior's features fixed and fits only the decoder",
      settingArg('--encoder-lr', 'encoderLr'),
    )
    .option('--width <w>', "hidden width (default 256, or the prior's)", settingArg('--width', 'width'))
    .option('--seed <s>', 'random seed (init, noise)', settingArg('--seed', 'seed'), 0)
    .option('--truth <file>', 'ground truth at the output size: report PSNR and SSIM against it')
    .option(...BACKEND_FLAG)
    .option(...EP_FLAG)
    .option(...THREADS_FLAG)
    .option('--out <dir>', 'output folder for restored.png and summary.json', 'restored')
    .option('--force', 'write into a non-empty --out folder')
    .option('--json', 'print a JSON summary as the last line of stdout')
    .action(async (image: string, opts: RestoreCliOptions) => runRestore(image, opts));
}
