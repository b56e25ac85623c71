// `strainer pretrain`: train a STRAINER encoder prior on N signals of a domain (images, MRI slices, or
// WAV clips zero-padded to the longest; shared encoder, N decoders) or, with --method maml|fomaml|reptile,
// a meta-learned whole-network init on them, with atomic checkpoints and --resume, then measure its
// transfer gain on held-out signals and write the prior bundle (manifest with data hashes and split,
// encoder ONNX, fit train step). The work is strainer/node's pretrain (one path
// for library and command line); this file maps flags onto it and prints the summary.
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { intArg, choiceArg, settingArg } from './args.ts';
import { progress, type Progress } from './progress.ts';
import { parseSelect } from '../node/datasets.ts';
import { median } from '../util/stats.ts';
import { firstOmega } from '../model/config.ts';
import { DEFAULT_LR, DEFAULT_RES } from '../train/plan.ts';
import { pretrain } from '../node/api.ts';
import type { Ep } from '../node/backend.ts';
import { cliBackend, EP_FLAG, THREADS_FLAG } from './backend-choice.ts';
import { UserError } from '../util/errors.ts';
import type { TargetRange } from '../train/grid.ts';
import { PRIOR_METHODS, type PriorMethod } from '../train/prior.ts';
import { META_DEFAULTS } from '../train/meta.ts';

interface PretrainCli {
  data: string;
  n: number;
  test: number;
  iters: number;
  res: number;
  width: number;
  depth: number;
  omega?: number;
  omega0?: number;
  lr?: number;
  seed: number;
  targets?: TargetRange;
  method: PriorMethod;
  innerSteps?: number;
  innerLr?: number;
  metaBatch?: number;
  outerLr?: number;
  out: string;
  name?: string;
  checkpointEvery: number;
  checkpoint?: string;
  resume?: boolean;
  force?: boolean;
  engine: 'ort' | 'tfjs';
  gainIters: number;
  select?: [number, number];
  channels: 'auto' | '1' | '3';
  json?: boolean;
  threads?: number;
  ep?: Ep;
}

export async function runPretrain(o: PretrainCli): Promise<void> {
  const out = resolve(o.out);
  const { backend } = await cliBackend(o);
  if (o.method !== 'strainer' && o.engine !== 'ort')
    throw new UserError(`--engine ${o.engine}: a ${o.method} prior is meta-trained on the onnxruntime engine only`);
  const tfjs = o.engine === 'tfjs' ? await import('../tfjs/engine.ts') : null; // loads tfjs only for this engine
  let bar: Progress | undefined;
  const r = await pretrain(o.data, {
    res: o.res,
    n: o.n,
    test: o.test,
    select: o.select,
    channels: o.channels === 'auto' ? 'auto' : (Number(o.channels) as 1 | 3),
    iters: o.iters,
    lr: o.lr,
    method: o.method,
    innerSteps: o.innerSteps,
    innerLr: o.innerLr,
    metaBatch: o.metaBatch,
    outerLr: o.outerLr,
    seed: o.seed,
    model: { width: o.width, depth: o.depth, omega: o.omega, omega0: o.omega0 },
    range: o.targets,
    gainIters: o.gainIters,
    out,
    name: o.name,
    force: o.force,
    backend,
    engine: tfjs ? tfjs.pretrainTfjs : undefined,
    // The tfjs engine writes no checkpoints; --resume with it is refused by pretrain.
    checkpoint: !tfjs || o.resume ? { every: o.checkpointEvery, path: o.checkpoint, resume: o.resume } : undefined,
    log: (line) => {
      bar?.stop();
      bar = undefined;
      process.stderr.write(`${line}\n`);
    }, // lines come before and after the steps
    onStep: (e) => (bar ??= progress(`pretrain ${o.name ?? basename(out)}`, o.iters, false)).update(e),
  }).finally(() => bar?.stop());
  const m = r.prior.manifest,
    dims = r.prior.dims ?? [o.res, o.res],
    inDim = dims.length;
  const finalLoss = r.loss[r.loss.length - 1],
    meanPsnr = r.psnr[r.psnr.length - 1];
  if (tfjs) {
    // The tfjs engine also leaves a standard LayersModel (model.json + shards) beside the prior.
    await tfjs.saveTfjsPretrained(
      resolve(out, 'tfjs'),
      { encoder: r.prior.encoder, decoders: r.decoders },
      {
        config: r.prior.config,
        signals: m.train.signals,
        height: dims[inDim - 2] ?? 1,
        width: dims[inDim - 1],
        ...(inDim !== 2 ? { dims } : {}),
        ...(r.prior.rate !== undefined ? { rate: r.prior.rate } : {}),
        range: r.prior.range,
        lr: m.train.lr,
        iters: m.train.iters,
        seed: o.seed,
        engine: r.engine,
        finalLoss,
        ...(m.data ? { data: m.data } : {}),
        ...(r.gain ? { eval: r.gain } : {}),
      },
      true,
    );
  }
  const kind = inDim === 1 ? 'clips' : 'images';
  const summary = {
    prior: r.prior.name,
    out,
    iters: m.train.iters,
    n: m.train.signals,
    ...(inDim === 2 ? { res: dims[1] } : {}),
    dims,
    ...(r.prior.rate !== undefined ? { rate: r.prior.rate } : {}),
    omega: r.prior.config.omega,
    omega0: firstOmega(r.prior.config),
    targets: r.prior.range,
    final_loss: finalLoss,
    mean_psnr: meanPsnr,
    step_ms_median: median(r.stepMs),
    engine: r.engine,
    backend: tfjs ? r.engine : backend.name,
    ...(r.gain ? { gain: r.gain } : {}),
  };
  const inner = r.gain?.inner as { steps: number; meta_psnr: number; siren_psnr: number } | undefined;
  if (o.json) process.stdout.write(JSON.stringify({ ...summary, method: o.method }) + '\n');
  else
    process.stdout.write(
      `prior ${r.prior.name} written to ${out}: final loss ${finalLoss.toExponential(3)}, mean PSNR ${meanPsnr.toFixed(2)} dB over ${m.train.signals} ${kind}${o.method !== 'strainer' ? ` after the inner steps (${o.method}, ${m.train.iters} outer steps)` : ''}${inner ? `; held out, after ${inner.steps} inner SGD steps: ${inner.meta_psnr.toFixed(2)} dB vs ${inner.siren_psnr.toFixed(2)} dB from a random SIREN` : ''}${r.gain ? `; held-out gain at iteration ${o.gainIters}: ${(r.gain.gain_db as number).toFixed(2)} dB` : ''}; trained on ${r.engine}\n`,
    );
}

export function registerPretrain(program: Command): void {
  program
    .command('pretrain')
    .requiredOption(
      '--data <source>',
      'folder of PNG/JPEG images or of WAV clips (one sample rate), NIfTI volume (.nii/.nii.gz) or .npy image stack',
    )
    .option('--n <n>', 'training signals (10 = STRAINER-10, 1 = STRAINER-1)', settingArg('--n', 'signals'), 10)
    .option(
      '--test <n>',
      'held-out signals after the training ones (folders and stacks)',
      settingArg('--test', 'heldOut'),
      5,
    )
    .option('--select <a:b>', 'half-open z range (volumes) or index range (folders, stacks) to draw from', parseSelect)
    .option('--iters <n>', 'pretraining iterations', settingArg('--iters', 'iters'), 5000)
    .option(
      '--res <r>',
      'images are centre-cropped/padded and resized to r x r (clips keep their samples)',
      settingArg('--res', 'res'),
      DEFAULT_RES,
    )
    .option('--width <w>', 'hidden width', settingArg('--width', 'width'), 256)
    .option(
      '--depth <d>',
      'linear layers in all (depth-1 sine layers form the encoder)',
      settingArg('--depth', 'depth'),
      6,
    )
    .option(
      '--omega <w0>',
      'SIREN omega_0 of the hidden layers, and of the first unless --omega0 (default 30)',
      settingArg('--omega', 'omega'),
    )
    .option(
      '--omega0 <w0>',
      "SIREN first-layer omega_0 (default --omega; clips 3000, SIREN's audio recipe)",
      settingArg('--omega0', 'omega0'),
    )
    .option(
      '--method <m>',
      'strainer (shared encoder, N decoders), or a meta-learned whole-network init: maml (full second order), fomaml (first-order MAML) or reptile',
      choiceArg('--method', PRIOR_METHODS),
      'strainer',
    )
    .option('--lr <lr>', `Adam learning rate of STRAINER pretraining (default ${DEFAULT_LR})`, settingArg('--lr', 'lr'))
    .option(
      '--inner-steps <n>',
      `meta methods: plain SGD steps of the inner loop (default ${META_DEFAULTS.innerSteps}, Learnit's)`,
      settingArg('--inner-steps', 'innerSteps'),
    )
    .option(
      '--inner-lr <lr>',
      `meta methods: inner SGD learning rate (default ${META_DEFAULTS.innerLr})`,
      settingArg('--inner-lr', 'innerLr'),
    )
    .option(
      '--meta-batch <n>',
      `meta methods: training signals per outer step (default ${META_DEFAULTS.metaBatch})`,
      settingArg('--meta-batch', 'metaBatch'),
    )
    .option(
      '--outer-lr <lr>',
      `meta methods: outer Adam learning rate (default ${META_DEFAULTS.outerLr}); --iters counts outer steps`,
      settingArg('--outer-lr', 'outerLr'),
    )
    .option('--seed <s>', 'random seed', settingArg('--seed', 'seed'), 0)
    .option(
      '--targets <r>',
      'target range: unit = [0,1], pm1 = [-1,1] (default unit; clips pm1)',
      choiceArg('--targets', ['unit', 'pm1'] as const),
    )
    .option(
      '--channels <c>',
      'auto, 1 or 3 (clips: auto or 1, mix down to mono)',
      choiceArg('--channels', ['auto', '1', '3'] as const),
      'auto',
    )
    .option(
      '--engine <e>',
      'ort (onnxruntime-node) or tfjs (TensorFlow.js)',
      choiceArg('--engine', ['ort', 'tfjs'] as const),
      'ort',
    )
    .option('--out <dir>', 'where the prior is written', 'models/prior')
    .option('--name <name>', 'prior name (default: the --out folder name)')
    .option(
      '--checkpoint-every <n>',
      'write a checkpoint every n iterations (0: never; engine ort)',
      intArg('--checkpoint-every', 0, 10_000_000),
      250,
    )
    .option('--checkpoint <file>', 'checkpoint file (default: <out>.checkpoint)')
    .option('--resume', 'continue from the checkpoint')
    .option(
      '--gain-iters <n>',
      'after pretraining, measure PSNR gain over a random SIREN at this iteration on held-out signals (0: skip)',
      intArg('--gain-iters', 0, 100000),
      100,
    )
    .option(...THREADS_FLAG)
    .option(...EP_FLAG)
    .option('--force', 'overwrite a non-empty --out folder')
    .option('--json', 'print a JSON summary as the last line of stdout')
    .action(async (opts: PretrainCli) => runPretrain(opts));
}
