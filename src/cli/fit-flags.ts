// The flags every command that fits signals file by file shares — `strainer fit` and `strainer
// fit-many`: the model, the prior, the recipe and its limits, the input's size and channels, the runtime.
// Registered in one place (registerFitFlags) and turned into fit settings in one place (fitSettings),
// so a flag added here reaches both commands and both resolve it the same way (through planFit).
import type { Command } from 'commander';
import { settingArg, choiceArg } from './args.ts';
import { PRIOR_FLAGS } from './prior.ts';
import { BACKEND_FLAG, EP_FLAG, THREADS_FLAG } from './backend-choice.ts';
import {
  DEFAULT_ITERS,
  DEFAULT_LR,
  DEFAULT_RES,
  OPTIMIZERS,
  RECIPES,
  type FitOptimizer,
  type FitRecipe,
  type FitSettings,
} from '../train/plan.ts';
import type { TargetRange } from '../train/grid.ts';
import type { Prior } from '../train/prior.ts';
import type { NodeBackendName, Ep } from '../node/backend.ts';
import { VOLUME_RES } from './fit-files.ts';

/** What the shared flags parse to. */
export interface FitFlags {
  iters: number;
  recipe?: FitRecipe;
  res?: number;
  width?: number;
  depth?: number;
  omega?: number;
  omega0?: number;
  untilPsnr?: number;
  time?: number;
  lr: number;
  optimizer: FitOptimizer;
  seed: number;
  prior?: string;
  publicKey?: string;
  targets?: TargetRange;
  batch?: number;
  channels: 'auto' | '1' | '3';
  backend: NodeBackendName;
  ep?: Ep;
  threads?: number;
}

/** Adds the shared flags to a command. */
export function registerFitFlags(cmd: Command): Command {
  return cmd
    .option(
      '--recipe <r>',
      "fast (staged: a prior's first layers frozen and cached, random subsets of the samples, a closed-form decoder; the default) or paper (Adam on every parameter over the whole signal; the default with --optimizer sgd, --batch or a meta-learned prior)",
      choiceArg('--recipe', RECIPES),
    )
    .option('--iters <n>', 'training iterations (steps of the recipe)', settingArg('--iters', 'iters'), DEFAULT_ITERS)
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
    .option('--lr <lr>', 'learning rate', settingArg('--lr', 'lr'), DEFAULT_LR)
    .option(
      '--optimizer <o>',
      "adam, or sgd (plain p - lr g: a meta-learned prior's inner loop, e.g. --optimizer sgd --lr 1e-2 --iters 2)",
      choiceArg('--optimizer', OPTIMIZERS),
      'adam',
    )
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
    .option(...BACKEND_FLAG)
    .option(...EP_FLAG)
    .option(...THREADS_FLAG);
}

/** The fit settings the flags ask for, for a signal read from a file (a clip's `rate`), from `prior`. */
export function fitSettings(o: FitFlags, prior: Prior | undefined, rate?: number): FitSettings {
  return {
    prior,
    model: { width: o.width, depth: o.depth, omega: o.omega, omega0: o.omega0 },
    iters: o.iters,
    recipe: o.recipe,
    lr: o.lr,
    optimizer: o.optimizer,
    seed: o.seed,
    range: o.targets,
    batch: o.batch,
    rate,
    untilPsnr: o.untilPsnr,
    timeLimit: o.time,
  };
}
