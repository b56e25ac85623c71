// `strainer export --from-tfjs DIR --out models/NAME`: converts a saved TensorFlow.js LayersModel
// (e.g. from `strainer pretrain --engine tfjs`, or your own tfjs training with our SineLayer) into the
// same prior bundle the onnxruntime engine writes, usable by `strainer fit --prior`. No Python needed.
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { settingArg, intArg, choiceArg } from './args.ts';
import { checkOutDir, writeBundleDir } from '../node/fs.ts';
import type { TargetRange } from '../train/grid.ts';

export interface ExportCliOptions {
  fromTfjs: string;
  out: string;
  force?: boolean;
  name?: string;
  channels?: number;
  res?: number;
  range?: TargetRange;
}

export async function runExport(o: ExportCliOptions): Promise<void> {
  checkOutDir(o.out, o.force ?? false);
  const { convertTfjsModel } = await import('../tfjs/convert.ts'); // loads tfjs only for this command
  const { bundle, parsed } = await convertTfjsModel(o.fromTfjs, {
    name: o.name ?? basename(resolve(o.out)),
    channels: o.channels,
    res: o.res,
    range: o.range,
  });
  writeBundleDir(o.out, bundle, o.force ?? false);
  const c = parsed.config;
  process.stdout.write(
    `wrote prior '${bundle.manifest.name}' to ${resolve(o.out)}: ${c.kind} width ${c.width} depth ${c.depth} omega ${c.omega}${c.omega0 !== undefined && c.omega0 !== c.omega ? ` omega0 ${c.omega0}` : ''}, ` +
      `${c.outDim} channel(s), encoder of a tfjs model with ${parsed.signals} decoder(s); files ${['manifest.json', ...Object.keys(bundle.files)].join(', ')}\n`,
  );
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .requiredOption('--from-tfjs <dir>', 'folder holding model.json and its weight shards')
    .requiredOption('--out <dir>', 'prior folder to write, e.g. models/NAME')
    .option('--force', 'overwrite a non-empty --out folder')
    .option('--name <name>', 'prior name (default: the --out folder name)')
    .option(
      '--channels <c>',
      "channels per signal (default: from the model's strainer metadata)",
      intArg('--channels', 1, 4096),
    )
    .option(
      '--res <r>',
      "resolution of the prior's train_step graph (default: the pretraining images')",
      settingArg('--res', 'res'),
    )
    .option(
      '--range <r>',
      'target range the model was trained for (default: from metadata, else unit)',
      choiceArg('--range', ['unit', 'pm1'] as const),
    )
    .action(async (opts: ExportCliOptions) => runExport(opts));
}
