// `strainer quantize BUNDLE --to f16|int8 --out DIR`: writes the compact form of a float32 prior
// (encoder weights as float16, or int8 with a float32 scale per output channel; src/export/quantize.ts).
// The result loads and fits like any prior: weights are dequantized to float32 on load.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { choiceArg } from './args.ts';
import { loadBundle, manifestBytes } from '../export/bundle.ts';
import { quantizePrior, QUANTIZE_TARGETS, type QuantizeTarget } from '../export/quantize.ts';
import { checkOutDir, dirSource, writeBundleDir } from '../node/fs.ts';

export interface QuantizeCliOptions {
  to: QuantizeTarget;
  out: string;
  force?: boolean;
  name?: string;
}

const bundleBytes = (files: Record<string, { bytes: number }>, manifestBytes: number): number =>
  Object.values(files).reduce((a, f) => a + f.bytes, manifestBytes);

export async function runQuantize(bundle: string, o: QuantizeCliOptions): Promise<void> {
  checkOutDir(o.out, o.force ?? false);
  const src = await loadBundle(dirSource(bundle));
  const q = await quantizePrior(src, o.to, o.name);
  writeBundleDir(o.out, q, o.force ?? false);
  const before = bundleBytes(src.manifest.files, manifestBytes(src.manifest).byteLength);
  const after = bundleBytes(q.manifest.files, manifestBytes(q.manifest).byteLength);
  process.stdout.write(
    `wrote prior '${q.manifest.name}' (${q.manifest.quantization!.dtype}) to ${resolve(o.out)}: ${after} bytes, ` +
      `${((100 * after) / before).toFixed(1)} % of '${src.manifest.name}' (${before} bytes); largest weight change ${q.manifest.quantization!.max_abs_error}\n`,
  );
}

export function registerQuantize(program: Command): void {
  program
    .command('quantize')
    .description(
      'write a compact copy of a float32 prior: encoder weights as float16, or int8 with a scale per output channel',
    )
    .argument('<bundle>', 'float32 prior folder, e.g. models/mri-178')
    .requiredOption('--to <dtype>', `storage: ${QUANTIZE_TARGETS.join(' or ')}`, choiceArg('--to', QUANTIZE_TARGETS))
    .requiredOption('--out <dir>', 'prior folder to write, e.g. models/NAME-int8')
    .option('--name <name>', 'name of the new prior (default: <prior>-<dtype>)')
    .option('--force', 'overwrite a non-empty --out folder')
    .action(async (bundle: string, opts: QuantizeCliOptions) => runQuantize(bundle, opts));
}
