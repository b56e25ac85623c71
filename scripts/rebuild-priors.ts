// `npx tsx scripts/rebuild-priors.ts [models/NAME ...]` (default: the shipped float32 priors): rewrites
// each prior bundle in the current layout from its own weights.bin and manifest, without retraining
// (src/export/quantize.ts rebuildPrior). Refuses to write unless weights.bin comes out byte-identical;
// says whether each graph changed. A manifest.sig beside it no longer matches: sign again afterwards.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '../src/export/bundle.ts';
import { rebuildPrior } from '../src/export/quantize.ts';
import { dirSource, writeBundleDir } from '../src/node/fs.ts';

export const SHIPPED_FLOAT32 = ['models/mri-178', 'models/mri-64', 'models/lfw-25'];

const dirs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : SHIPPED_FLOAT32;
for (const dir of dirs) {
  const old = await loadBundle(dirSource(dir));
  const neu = await rebuildPrior(old);
  const w = old.manifest.tensors.file;
  if (neu.manifest.files[w].sha256 !== old.manifest.files[w].sha256)
    throw new Error(`${dir}: rebuilt ${w} differs from the original; nothing written`);
  const total = (files: Record<string, { bytes: number }>): number =>
    Object.values(files).reduce((a, f) => a + f.bytes, 0);
  const changed = Object.keys(neu.manifest.files).filter(
    (f) => neu.manifest.files[f].sha256 !== old.manifest.files[f]?.sha256,
  );
  writeBundleDir(dir, neu, true);
  process.stdout.write(
    `${dir}: ${w} byte-identical (sha256 ${old.manifest.files[w].sha256.slice(0, 12)}...); ` +
      `files other than manifest.json ${total(old.manifest.files)} -> ${total(neu.manifest.files)} bytes; changed: ${changed.join(', ') || 'none'}\n`,
  );
  if (existsSync(join(dir, 'manifest.sig')))
    process.stdout.write(`${dir}: manifest.sig is now stale; sign the bundle again\n`);
}
