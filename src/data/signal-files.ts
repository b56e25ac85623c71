// Reading signal files in Node: what a path holds by its extension (a WAV clip, a NIfTI or .npy
// volume, else an image), and the loaders of clips and volumes, each failure a one-line UserError
// naming the file. Node-only (through ./files.ts); decoding lives in ./wav.ts, ./nifti.ts, ./npy.ts.
import { readDataFile } from './files.ts';
import { parseWav, type Wav } from './wav.ts';
import { parseNifti } from './nifti.ts';
import { parseNpy } from './npy.ts';
import { niftiSignal, npySignal, volumeCube, type VolumeSignal } from './volume.ts';
import type { SizeLimit } from './limits.ts';

export type SignalFileKind = 'audio' | 'volume' | 'image';

/** .wav: a clip; .nii, .nii.gz, .npy: a volume; anything else is read as an image (PNG/JPEG). */
export function signalFileKind(path: string): SignalFileKind {
  const p = path.toLowerCase();
  if (p.endsWith('.wav')) return 'audio';
  if (p.endsWith('.nii') || p.endsWith('.nii.gz') || p.endsWith('.npy')) return 'volume';
  return 'image';
}

export function loadWav(path: string, opts: SizeLimit = {}): Wav {
  return parseWav(readDataFile(path), path, opts);
}

/** A NIfTI (.nii, .nii.gz) or rank-3 .npy volume on the [0, 1] scale with its voxel size; with `res`,
 *  as a centred res^3 cube of its longest physical extent (volume.ts cubeAt) and the cube's voxel size. */
export function loadVolume(path: string, o: SizeLimit & { res?: number } = {}): VolumeSignal & { stored: number[] } {
  const bytes = readDataFile(path);
  const v = path.toLowerCase().endsWith('.npy') ? npySignal(parseNpy(bytes, path, o), path) : niftiSignal(parseNifti(bytes, path, o), path);
  const stored = [...v.signal.dims];
  return { ...(o.res === undefined ? v : volumeCube(v, o.res)), stored };
}
