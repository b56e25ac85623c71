// The browser's download of a fitted model: the bundle the CLI writes (src/export/fit-bundle.ts
// fitBundle: manifest, weights.bin with the whole train state, inference.onnx, train_step.onnx),
// zipped into one file (fflate) holding the folder `name/`.
import { zipSync } from 'fflate';
import { manifestBytes, type BuiltBundle } from '../export/bundle.ts';

/** The bundle as a .zip holding the folder `folder/`. */
export function zipBundle(b: BuiltBundle, folder: string): Uint8Array {
  const files: Record<string, Uint8Array> = { [`${folder}/manifest.json`]: manifestBytes(b.manifest) };
  for (const [n, bytes] of Object.entries(b.files)) files[`${folder}/${n}`] = bytes;
  // Level 0 (stored): the ONNX graphs and float32 weights barely compress, and the page stays fast.
  return zipSync(files, { level: 0 });
}
