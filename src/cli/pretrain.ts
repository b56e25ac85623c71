// `strainer pretrain`: train a STRAINER encoder prior on N images of a domain (shared encoder, N
// decoders), with atomic checkpoints and --resume, then measure its transfer gain on held-out images
// and write the prior bundle (manifest with data hashes and split, encoder ONNX, fit train step).
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import { intArg, floatArg, choiceArg } from './args.ts';
import { progress } from './progress.ts';
import { splitSource, parseSelect } from '../data/split.ts';
import { median } from '../util/stats.ts';
import { validateConfig, PAPER_CONFIG } from '../model/config.ts';
import { pretrainOrt, stackedConfig } from '../train/pretrain.ts';
import type { PretrainEngine, PretrainResult } from '../train/pretrain-api.ts';
import { saveCheckpoint, loadCheckpoint } from '../node/checkpoint.ts';
import { buildPriorBundle } from '../export/prior.ts';
import { transferGain } from '../train/transfer.ts';
import type { Ep } from '../node/backend.ts';
import { cliBackend, EP_FLAG } from './backend-choice.ts';
import { checkOutDir, writeBundleDir } from '../node/fs.ts';
import type { TargetRange } from '../train/grid.ts';
import { UserError } from '../util/errors.ts';

interface PretrainCli {
  data: string; n: number; test: number; iters: number; res: number; width: number; depth: number; omega: number;
  lr: number; seed: number; targets: TargetRange; out: string; name?: string; checkpointEvery: number; checkpoint?: string;
  resume?: boolean; force?: boolean; engine: 'ort' | 'tfjs'; gainIters: number; select?: [number, number];
  channels: 'auto' | '1' | '3'; json?: boolean; threads?: number; ep?: Ep;
}

export async function runPretrain(o: PretrainCli): Promise<void> {
  const out = resolve(o.out);
  const name = o.name ?? basename(out);
  const ckptPath = o.checkpoint ?? `${out}.checkpoint`;
  if (!o.resume) checkOutDir(out, o.force ?? false);
  else if (existsSync(resolve(out, 'manifest.json')) && !o.force) throw new UserError(`${out} already holds a finished prior; nothing to resume (pass --force to retrain)`);
  const { backend } = await cliBackend(o);
  const split = await splitSource(o.data, { res: o.res, n: o.n, test: o.test, ...(o.select ? { select: o.select } : {}), channels: o.channels === 'auto' ? 'auto' : (Number(o.channels) as 1 | 3) });
  const signals = split.train.map((s) => s.image);
  const channels = signals[0].channels;
  const config = validateConfig({ ...PAPER_CONFIG, width: o.width, depth: o.depth, omega: o.omega, outDim: channels });
  const recipe = { config: stackedConfig(config, signals.length), data: split.source.files.map((f) => f.sha256), train: split.train.map((s) => s.id), lr: o.lr, seed: o.seed, targets: o.targets, res: o.res };

  const bar = progress(`pretrain ${name} (N=${signals.length}, ${o.res}x${o.res})`, o.iters, false);
  const opts = { config, iters: o.iters, lr: o.lr, seed: o.seed, range: o.targets, onStep: (it: number, loss: number, psnr: number) => bar.update(it, loss, psnr) };
  let result: PretrainResult;
  try {
    if (o.engine === 'tfjs') {
      const { pretrainTfjs } = (await import('../tfjs/engine.ts')) as { pretrainTfjs: PretrainEngine };
      result = await pretrainTfjs(signals, opts);
    } else {
      const resumed = o.resume ? await loadCheckpoint(ckptPath, recipe) : null;
      if (o.resume && !resumed) process.stderr.write(`no checkpoint at ${ckptPath}; starting from scratch\n`);
      if (resumed) process.stderr.write(`resuming from ${ckptPath} at iteration ${resumed.meta.step}\n`);
      result = await pretrainOrt(backend, signals, opts, {
        ...(resumed ? { resume: { state: resumed.state, loss: resumed.meta.loss, meanPsnr: resumed.meta.meanPsnr } } : {}),
        ...(o.checkpointEvery > 0 ? { checkpoint: { every: o.checkpointEvery, save: (state, loss, meanPsnr) => saveCheckpoint(ckptPath, state, { recipe, iters: o.iters, step: state.step.data[0], loss, meanPsnr }) } } : {}),
      });
    }
  } finally {
    bar.stop();
  }

  let evalRecord: Record<string, unknown> | undefined;
  if (o.gainIters > 0 && split.test.length > 0) {
    process.stderr.write(`measuring transfer gain at iteration ${o.gainIters} on ${split.test.length} held-out images...\n`);
    evalRecord = await transferGain(backend, config, result.encoder, split.test, { iters: o.gainIters, lr: o.lr, seed: o.seed, range: o.targets });
  }
  const finalLoss = result.loss[result.loss.length - 1];
  const data = { description: split.source.description, files: split.source.files, train: split.train.map((s) => s.id), test: split.test.map((s) => s.id) };
  const bundle = await buildPriorBundle({
    name, config, range: o.targets, encoder: result.encoder, res: o.res, lr: o.lr, iters: o.iters, signals: signals.length,
    engine: result.engine, finalLoss, data,
    ...(evalRecord ? { eval: { ...evalRecord, pretrain_mean_psnr_final: result.meanPsnr[result.meanPsnr.length - 1] } } : {}),
  });
  writeBundleDir(out, bundle, o.force ?? o.resume ?? false);
  if (o.engine === 'tfjs') {
    // The tfjs engine also leaves a standard LayersModel (model.json + shards) beside the prior.
    const { saveTfjsPretrained } = await import('../tfjs/engine.ts');
    await saveTfjsPretrained(resolve(out, 'tfjs'), result, {
      config, signals: signals.length, height: o.res, width: o.res, range: o.targets, lr: o.lr, iters: o.iters, seed: o.seed,
      engine: result.engine, finalLoss, data, ...(evalRecord ? { eval: evalRecord } : {}),
    }, true);
  }
  if (existsSync(ckptPath)) rmSync(ckptPath);
  const summary = { prior: name, out, iters: o.iters, n: signals.length, res: o.res, final_loss: finalLoss, mean_psnr: result.meanPsnr[result.meanPsnr.length - 1], step_ms_median: median(result.stepMs), engine: result.engine, backend: o.engine === 'tfjs' ? result.engine : backend.name, ...(evalRecord ? { gain: evalRecord } : {}) };
  if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(`prior ${name} written to ${out}: final loss ${finalLoss.toExponential(3)}, mean PSNR ${summary.mean_psnr.toFixed(2)} dB over ${signals.length} images${evalRecord ? `; held-out gain at iteration ${o.gainIters}: ${(evalRecord.gain_db as number).toFixed(2)} dB` : ''}; trained on ${result.engine}\n`);
}

export function registerPretrain(program: Command): void {
  program.command('pretrain')
    .requiredOption('--data <source>', 'folder of PNG/JPEG, NIfTI volume (.nii/.nii.gz) or .npy image stack')
    .option('--n <n>', 'training images (10 = STRAINER-10, 1 = STRAINER-1)', intArg('--n', 1, 1000), 10)
    .option('--test <n>', 'held-out images after the training ones (folders and stacks)', intArg('--test', 0, 1000), 5)
    .option('--select <a:b>', 'half-open z range (volumes) or index range (folders, stacks) to draw from', parseSelect)
    .option('--iters <n>', 'pretraining iterations', intArg('--iters', 1, 10_000_000), 5000)
    .option('--res <r>', 'images are centre-cropped/padded and resized to r x r', intArg('--res', 2, 4096), 178)
    .option('--width <w>', 'hidden width', intArg('--width', 1, 4096), 256)
    .option('--depth <d>', 'linear layers in all (depth-1 sine layers form the encoder)', intArg('--depth', 2, 64), 6)
    .option('--omega <w0>', 'SIREN omega_0', floatArg('--omega', 0, 1e4, true), 30)
    .option('--lr <lr>', 'Adam learning rate', floatArg('--lr', 0, 10, true), 1e-4)
    .option('--seed <s>', 'random seed', intArg('--seed', 0, 2 ** 31 - 1), 0)
    .option('--targets <r>', 'target range: unit = [0,1], pm1 = [-1,1]', choiceArg('--targets', ['unit', 'pm1'] as const), 'unit')
    .option('--channels <c>', 'auto, 1 or 3', choiceArg('--channels', ['auto', '1', '3'] as const), 'auto')
    .option('--engine <e>', 'ort (onnxruntime-node) or tfjs (TensorFlow.js)', choiceArg('--engine', ['ort', 'tfjs'] as const), 'ort')
    .option('--out <dir>', 'where the prior is written', 'models/prior')
    .option('--name <name>', 'prior name (default: the --out folder name)')
    .option('--checkpoint-every <n>', 'write a checkpoint every n iterations (0: never)', intArg('--checkpoint-every', 0, 10_000_000), 250)
    .option('--checkpoint <file>', 'checkpoint file (default: <out>.checkpoint)')
    .option('--resume', 'continue from the checkpoint')
    .option('--gain-iters <n>', 'after pretraining, measure PSNR gain over a random SIREN at this iteration on held-out images (0: skip)', intArg('--gain-iters', 0, 100000), 100)
    .option('--threads <n>', 'onnxruntime intra-op threads', intArg('--threads', 1, 1024))
    .option(...EP_FLAG)
    .option('--force', 'overwrite a non-empty --out folder')
    .option('--json', 'print a JSON summary as the last line of stdout')
    .action(async (opts: PretrainCli) => runPretrain(opts));
}
