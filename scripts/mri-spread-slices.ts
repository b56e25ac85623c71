// `npx tsx scripts/mri-spread-slices.ts DIR`: 64x64 PNGs of bundled MRI slices spread over the volume
// — 10 for training every 11 mm (z030..z129, named 0-*) and 5 held out midway between them (z036,
// z058, z080, z102, z124, named 1-*) — so a prior pretrained on them (`strainer pretrain --data DIR`)
// is tested on slices 5-6 mm from any training slice instead of the reference split's 1 mm
// neighbours. Used for bench/restore-spread.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataSource } from '../src/node/datasets.ts';
import { encodePng } from '../src/data/image.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: npx tsx scripts/mri-spread-slices.ts DIR');
const src = await loadDataSource('data/ch2bet.nii.gz', { res: 64 });
const byId = new Map(src.images.map((s) => [s.id, s.image]));
const sets = { 0: [30, 41, 52, 63, 74, 85, 96, 107, 118, 129], 1: [36, 58, 80, 102, 124] };
mkdirSync(dir, { recursive: true });
for (const [k, zs] of Object.entries(sets)) {
  for (const z of zs) {
    const id = `z${String(z).padStart(3, '0')}`;
    writeFileSync(join(dir, `${k}-${id}.png`), encodePng(byId.get(id)!));
  }
}
process.stderr.write(`wrote 15 slices (10 train, 5 held out) to ${dir}\n`);
