// Data files by path: what a path holds by its extension (a WAV clip, a NIfTI or .npy volume, else an
// image) and a loader per kind (image, NIfTI, .npy, WAV clip, volume as a signal), each failure a
// one-line UserError naming the file. The decoding is src/data's (image.ts, nifti.ts, npy.ts, wav.ts,
// volume.ts: bytes in); this file only reads the bytes.
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import { decodeImage, type DecodeOptions, type Image } from '../data/image.ts';
import { parseWav, type Wav } from '../data/wav.ts';
import { parseNifti, type Volume } from '../data/nifti.ts';
import { parseNpy, type NpyArray } from '../data/npy.ts';
import { niftiSignal, npySignal, volumeCube, type VolumeSignal } from '../data/volume.ts';
import type { SizeLimit } from '../data/limits.ts';

/** Read a whole file; a missing, unreadable or directory path throws a UserError naming it. */
export function readDataFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${path}: is a directory, expected a file`);
    if (code === 'EACCES') throw new UserError(`${path}: permission denied`);
    throw new UserError(`${path}: cannot read (${code ?? String(e)})`);
  }
}

export type SignalFileKind = 'audio' | 'volume' | 'image';

/** .wav: a clip; .nii, .nii.gz, .npy: a volume; anything else is read as an image (PNG/JPEG). */
export function signalFileKind(path: string): SignalFileKind {
  const p = path.toLowerCase();
  if (p.endsWith('.wav')) return 'audio';
  if (p.endsWith('.nii') || p.endsWith('.nii.gz') || p.endsWith('.npy')) return 'volume';
  return 'image';
}

/** Read and decode a PNG or JPEG file. */
export function loadImage(path: string, opts: DecodeOptions = {}): Image {
  return decodeImage(readDataFile(path), path, opts);
}

/** Read and parse a .nii / .nii.gz file. */
export function loadNifti(path: string, opts: SizeLimit = {}): Volume {
  return parseNifti(readDataFile(path), path, opts);
}

/** Read and parse a .npy file. */
export function loadNpy(path: string, opts: SizeLimit = {}): NpyArray {
  return parseNpy(readDataFile(path), path, opts);
}

/** Read and parse a WAV file. */
export function loadWav(path: string, opts: SizeLimit = {}): Wav {
  return parseWav(readDataFile(path), path, opts);
}

/** A NIfTI (.nii, .nii.gz) or rank-3 .npy volume on the [0, 1] scale with its voxel size; with `res`,
 *  as a centred res^3 cube of its longest physical extent (volume.ts cubeAt) and the cube's voxel size. */
export function loadVolume(path: string, o: SizeLimit & { res?: number } = {}): VolumeSignal & { stored: number[] } {
  const bytes = readDataFile(path);
  const v = path.toLowerCase().endsWith('.npy')
    ? npySignal(parseNpy(bytes, path, o), path)
    : niftiSignal(parseNifti(bytes, path, o), path);
  const stored = [...v.signal.dims];
  return { ...(o.res === undefined ? v : volumeCube(v, o.res)), stored };
}
