// `strainer demo`: the README's main job. Fits a held-out MRI slice of the bundled volume (never seen
// in pretraining) from the shipped STRAINER-10 prior and from a random SIREN, same seed and recipe,
// and prints both PSNR curves side by side; --out also writes target | SIREN | STRAINER as one PNG.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { intArg, settingArg } from './args.ts';
import { progress } from './progress.ts';
import { mriSliceImage, referenceSplit, sliceId } from '../data/mri.ts';
import { encodePng, type Image } from '../data/image.ts';
import { cliPrior } from './prior.ts';
import { DEFAULT_LR } from '../train/plan.ts';
import { REPORT_ITERS, type FitResult } from '../train/fit.ts';
import { baselineOf } from '../train/transfer.ts';
import type { FitSettings } from '../train/plan.ts';
import { fit } from '../node/api.ts';
import type { Ep } from '../node/backend.ts';
import { cliBackend, EP_FLAG } from './backend-choice.ts';
import { checkOutDir, writeFileAtomic } from '../node/fs.ts';
import { UserError } from '../util/errors.ts';
import { loadNifti } from '../node/read.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function sideBySide(images: Image[]): Image {
  const h = images[0].height,
    w = images[0].width,
    gap = 2,
    n = images.length;
  const W = n * w + (n - 1) * gap;
  const data = new Float32Array(h * W).fill(1);
  images.forEach((im, k) => {
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data[y * W + k * (w + gap) + x] = Math.min(1, Math.max(0, im.data[y * w + x]));
  });
  return { width: W, height: h, channels: 1, data };
}

export async function runDemo(o: {
  prior: string;
  iters: number;
  slice?: number;
  out?: string;
  force?: boolean;
  ep?: Ep;
}): Promise<void> {
  if (o.out) checkOutDir(o.out, o.force ?? false);
  const prior = await cliPrior(o.prior);
  const volume = join(ROOT, 'data/ch2bet.nii.gz');
  // The MRI volume is in the repository, not in the npm package (which ships code, priors and licences).
  if (!existsSync(volume))
    throw new UserError(
      `the demo fits a slice of data/ch2bet.nii.gz, which is in the strainer repository but not in the npm package; run it from a checkout, or fit your own image: strainer fit IMAGE --prior mri-64 --res 64`,
    );
  const vol = loadNifti(volume);
  const split = referenceSplit(vol);
  const z = o.slice ?? split.test[0];
  if (prior.manifest.data?.train.includes(sliceId(z)))
    throw new UserError(
      `slice ${sliceId(z)} was used to train ${prior.name}; pick a held-out one (${split.test.map(sliceId).join(', ')})`,
    );
  const res = prior.manifest.signal?.height ?? 64;
  const img = mriSliceImage(vol, z, res);
  const { backend } = await cliBackend(o);
  const lr = DEFAULT_LR;
  process.stderr.write(
    `held-out slice ${sliceId(z)} at ${res}x${res}; prior ${prior.name} (trained on ${prior.manifest.data?.train.join(' ')})\n`,
  );
  const runs: { label: string; r: FitResult<Image> }[] = [];
  const starts: [string, FitSettings][] = [
    ['SIREN (random init)', baselineOf(prior)],
    [`STRAINER (${prior.name})`, { prior }],
  ];
  for (const [label, start] of starts) {
    const bar = progress(label, o.iters);
    runs.push({
      label,
      r: await fit(img, {
        ...start,
        recipe: 'paper',
        iters: o.iters,
        lr,
        seed: 0,
        backend,
        onStep: bar.update,
      }).finally(() => bar.stop()),
    });
  }
  const its = REPORT_ITERS.filter((i) => i <= o.iters);
  const at = (r: FitResult, i: number): number => (i < r.psnr.length ? r.psnr[i] : r.finalPsnr);
  const lines = [
    `PSNR (dB) fitting held-out MRI slice ${sliceId(z)} (${res}x${res}, width ${prior.config.width}, Adam lr ${lr}, seed 0)`,
    `${'iteration'.padEnd(24)}${its.map((i) => String(i).padStart(8)).join('')}`,
    ...runs.map(({ label, r }) => `${label.padEnd(24)}${its.map((i) => at(r, i).toFixed(2).padStart(8)).join('')}`),
    `${'gain'.padEnd(24)}${its.map((i) => `${at(runs[1].r, i) - at(runs[0].r, i) >= 0 ? '+' : ''}${(at(runs[1].r, i) - at(runs[0].r, i)).toFixed(2)}`.padStart(8)).join('')}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (o.out) {
    const png = encodePng(sideBySide([img, ...runs.map(({ r }) => r.output)]));
    writeFileAtomic(join(o.out, 'demo.png'), png);
    process.stderr.write(`wrote ${join(o.out, 'demo.png')} (target | SIREN | STRAINER)\n`);
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .option('--prior <dir>', 'prior to start from', join(ROOT, 'models/mri-64'))
    .option('--iters <n>', 'fitting iterations', settingArg('--iters', 'iters'), 200)
    .option('--slice <z>', 'axial slice index (default: the first held-out slice)', intArg('--slice', 0, 10000))
    .option('--out <dir>', 'also write demo.png (target | SIREN | STRAINER) here')
    .option('--force', 'overwrite a non-empty --out folder')
    .option(...EP_FLAG)
    .action(async (opts: Parameters<typeof runDemo>[0]) => runDemo(opts));
}
