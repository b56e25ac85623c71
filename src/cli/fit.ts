// `strainer fit IMAGE`: fit a SIREN (random init, or from a STRAINER prior with --prior) to one image
// with onnxruntime, report PSNR over iterations, and with --out write the reconstruction, the PSNR
// curve (CSV + SVG) and the fitted signal as artifacts any ONNX runtime can render or train further.
// A WAV clip or a NIfTI/.npy volume goes to ./fit-signal.ts (same flags, by the file's extension).
import type { Command } from 'commander';
import { readImage } from '../node/api.ts';
import { basename, resolve } from 'node:path';
import { intArg, floatArg, choiceArg } from './args.ts';
import { progress } from './progress.ts';
import { encodePng, type Image } from '../data/image.ts';
import { signalFileKind } from '../node/read.ts';
import { fitSignal, REPORT_ITERS, psnrAt } from '../train/fit.ts';

export { REPORT_ITERS, psnrAt };
import { resolveFit, ITERS_RANGE, LR_MAX, type ResolvedFit } from '../train/fit-config.ts';
import { loadCliPrior } from './verify.ts';
import { NODE_BACKENDS, type NodeBackendName, type Ep } from '../node/backend.ts';
import { cliBackend, EP_FLAG } from './backend-choice.ts';
import { checkOutDir, writeBundleDir } from '../node/fs.ts';
import { fitBundle } from '../export/fit-bundle.ts';
import { lineChartSvg } from '../util/plot.ts';
import { median } from '../util/stats.ts';
import type { TargetRange } from '../train/grid.ts';

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
}

/** Side of an image's square when --res is not given (the paper's 178x178). */
export const IMAGE_RES = 178;

export async function runFit(imagePath: string, o: FitCliOptions): Promise<void> {
  const kind = signalFileKind(imagePath);
  if (kind !== 'image') return (await import('./fit-signal.ts')).runSignalFit(imagePath, kind, o);
  if (o.out) checkOutDir(o.out, o.force ?? false);
  const prior = o.prior ? await loadCliPrior(o.prior, o.publicKey) : undefined;
  const res = o.res ?? IMAGE_RES;
  const img = readImage(imagePath, { res, channels: o.channels === 'auto' ? 'auto' : (Number(o.channels) as 1 | 3) });
  const { config, range, init, batch }: ResolvedFit = resolveFit({
    prior,
    model: { width: o.width, depth: o.depth, omega: o.omega, omega0: o.omega0 },
    channels: img.channels,
    dims: [img.height, img.width],
    batch: o.batch,
    iters: o.iters,
    lr: o.lr,
    ...(o.targets ? { range: o.targets } : {}),
  });
  const { backend } = await cliBackend(o);
  const bar = progress(`fit ${basename(imagePath)}`, o.iters, false);
  const r = await fitSignal(img, {
    config,
    iters: o.iters,
    lr: o.lr,
    seed: o.seed,
    backend,
    range,
    ...(init ? { init } : {}),
    ...(batch ? { batch } : {}),
    keepState: !!o.out,
    onStep: (it, psnr, loss) => bar.update(it, loss, psnr),
  }).finally(() => bar.stop());

  if (o.out) {
    const recon: Image = { width: img.width, height: img.height, channels: img.channels, data: r.output };
    const csv =
      [
        'iteration,psnr_db',
        ...r.psnr.map((p, i) => `${i},${p.toFixed(4)}`),
        `${o.iters},${r.finalPsnr.toFixed(4)}`,
      ].join('\n') + '\n';
    const svg = lineChartSvg(
      [
        {
          name: prior ? `from prior ${prior.name}` : 'SIREN (random init)',
          points: [...r.psnr.map((p, i) => [i, p] as const), [o.iters, r.finalPsnr] as const],
        },
      ],
      {
        title: `Fitting ${basename(imagePath)} (${img.width}x${img.height})`,
        xlabel: 'iteration',
        ylabel: 'PSNR (dB)',
      },
    );
    const bundle = await fitBundle({
      name: basename(imagePath),
      config,
      range,
      lr: o.lr,
      iters: o.iters,
      state: r.state!,
      signal: { height: img.height, width: img.width, channels: img.channels, source: basename(imagePath) },
      finalLoss: r.psnr.length ? 10 ** (-r.psnr[r.psnr.length - 1] / 10) : NaN,
      engine: r.backend,
      extra: {
        'reconstruction.png': encodePng(recon),
        'psnr.csv': new TextEncoder().encode(csv),
        'psnr.svg': new TextEncoder().encode(svg),
      },
    });
    writeBundleDir(o.out, bundle, o.force ?? false);
    process.stderr.write(
      `wrote ${resolve(o.out)} (reconstruction.png, psnr.csv, psnr.svg, manifest.json, inference.onnx, train_step.onnx, weights.bin)\n`,
    );
  }

  const summary = {
    psnr: psnrAt(r, o.iters),
    final_psnr: +r.finalPsnr.toFixed(3),
    iters: o.iters,
    step_ms_median: +median(r.stepMs).toFixed(2),
    res,
    width: config.width,
    backend: r.backend,
    ...(prior ? { prior: prior.name } : {}),
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    const cols = Object.entries(summary.psnr)
      .map(([k, v]) => `${k}: ${v.toFixed(2)}`)
      .join('  ');
    process.stdout.write(
      `PSNR (dB) at iteration  ${cols}\nfinal PSNR ${summary.final_psnr.toFixed(2)} dB after ${o.iters} iterations, median step ${summary.step_ms_median} ms on ${r.backend}\n`,
    );
  }
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .argument('<file>', 'PNG or JPEG image, WAV clip (.wav), or volume (.nii, .nii.gz, rank-3 .npy)')
    .option('--iters <n>', 'training iterations', intArg('--iters', ...ITERS_RANGE), 2000)
    .option(
      '--res <r>',
      `images: centre square resized to r x r (default ${IMAGE_RES}); volumes: zero-padded to a cube, area-averaged to r^3 (default 64); clips: ignored`,
      intArg('--res', 2, 4096),
    )
    .option('--width <w>', "hidden width (default 256, or the prior's)", intArg('--width', 1, 4096))
    .option('--depth <d>', "linear layers in all (default 6, or the prior's)", intArg('--depth', 2, 64))
    .option(
      '--omega <w0>',
      "SIREN omega_0 of the hidden layers, and of the first unless --omega0 (default 30, or the prior's)",
      floatArg('--omega', 0, 1e4, true),
    )
    .option(
      '--omega0 <w0>',
      "SIREN first-layer omega_0 (default --omega; clips 3000, SIREN's audio recipe; or the prior's)",
      floatArg('--omega0', 0, 1e5, true),
    )
    .option('--lr <lr>', 'Adam learning rate', floatArg('--lr', 0, LR_MAX, true), 1e-4)
    .option('--seed <s>', 'random seed (init, sampling)', intArg('--seed', 0, 2 ** 31 - 1), 0)
    .option('--prior <dir>', 'start the encoder from a STRAINER prior (a models/NAME folder)')
    .option(
      '--public-key <file>',
      'refuse the prior unless it is signed by this key (PEM, e.g. models/strainer-project.pub)',
    )
    .option(
      '--targets <r>',
      "target value range: unit = [0,1] (alpine), pm1 = [-1,1] (the paper notebook); default the prior's or unit",
      choiceArg('--targets', ['unit', 'pm1'] as const),
    )
    .option(
      '--batch <n>',
      'coordinates per step, drawn at random (default: the whole grid; above 65536 samples, random batches of 65536)',
      intArg('--batch', 1, 1 << 26),
    )
    .option('--channels <c>', 'auto, 1 (gray) or 3 (RGB)', choiceArg('--channels', ['auto', '1', '3'] as const), 'auto')
    .option(
      '--backend <b>',
      'runtime: ort (onnxruntime-node) or reference (slow interpreter)',
      choiceArg('--backend', NODE_BACKENDS),
      'ort',
    )
    .option(...EP_FLAG)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', intArg('--threads', 1, 1024))
    .option('--out <dir>', 'write reconstruction.png, psnr.csv, psnr.svg and the fitted artifacts here')
    .option('--force', 'overwrite a non-empty --out folder')
    .option('--json', 'print a JSON summary as the last line of stdout')
    .action(async (image: string, opts: FitCliOptions) => runFit(image, opts));
}
