// Renders the demo page's bundled sample images into web/public/samples (their list: web/samples.json;
// the server adds the speech clips from the fetched cache, web/server.ts): two held-out
// MRI test slices of data/ch2bet.nii.gz (BSD-3, mricron-data) and a few skimage test images
// (BSD-3, from the fetched cache). All are centre-cropped squares, area-resized to 128x128.
//   npx tsx scripts/web-samples.ts [--force]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mriSliceImage, referenceSplit, sliceId } from '../src/data/mri.ts';
import { cropCenterSquare, resizeArea, encodePng } from '../src/data/image.ts';
import { cachedDataset } from '../src/node/datasets.ts';
import { writeFileAtomic } from '../src/node/fs.ts';
import { loadNifti, loadImage } from '../src/node/read.ts';

const OUT = join(import.meta.dirname, '..', 'web', 'public', 'samples');
const RES = 128;
const SKIMAGE = ['camera.png', 'coffee.png', 'chelsea.png'];

const force = process.argv.includes('--force');
const LIST = join(import.meta.dirname, '..', 'web', 'samples.json');
if (existsSync(LIST) && !force) {
  console.error(`${OUT} already has samples (pass --force to overwrite)`);
  process.exit(2);
}
const index: { file: string; label: string }[] = [];
const vol = loadNifti(join(import.meta.dirname, '..', 'data', 'ch2bet.nii.gz'));
for (const z of referenceSplit(vol).test.slice(0, 2)) {
  const file = `mri-${sliceId(z)}.png`;
  writeFileAtomic(join(OUT, file), encodePng(mriSliceImage(vol, z, RES)));
  index.push({ file, label: `MRI slice ${sliceId(z)} (ch2bet, held out)` });
}
const sk = cachedDataset('skimage');
if (sk) {
  for (const f of SKIMAGE) {
    const file = `skimage-${f}`;
    writeFileAtomic(join(OUT, file), encodePng(resizeArea(cropCenterSquare(loadImage(join(sk, f))), RES, RES)));
    index.push({ file, label: `${f.replace('.png', '')} (skimage)` });
  }
} else {
  console.warn('skimage cache not found (run scripts/fetch-data.sh); writing MRI samples only');
}
writeFileAtomic(LIST, JSON.stringify(index, null, 2) + '\n');
console.log(`wrote ${index.length} samples to ${OUT}`);
