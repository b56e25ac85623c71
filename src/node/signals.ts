// Signals from and to files for Node programs (the `strainer/node` entry, and the CLI's fit and render):
// a WAV clip, a NIfTI or .npy volume, or an image, as the Signal the pipeline fits; and the fitted
// signal back as a WAV or a NIfTI file, written atomically. How each kind is brought to the grid:
// clips as stored (optionally mixed to mono); volumes zero-padded to a centred cube and area-averaged
// to res^3 (src/data/volume.ts cubeAt); images as readImage does (centre square, area resize).
import { existsSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import { checkSetting } from '../train/plan.ts';
import { imageSignal, type Signal } from '../data/signal.ts';
import { loadWav, loadVolume, signalFileKind, type SignalFileKind } from './read.ts';
import { encodeWav, mixDown, signalWav, wavSignal, type WavEncoding } from '../data/wav.ts';
import { encodeNifti } from '../data/volume.ts';
import { cropCenterSquare, resizeArea, type ChannelMode } from '../data/image.ts';
import { loadImage } from './read.ts';
import { writeFileAtomic } from './fs.ts';

/** A clip: the 1-D signal ((y + 1) / 2 per sample, data/wav.ts), its sample rate and the file's encoding. */
export interface Audio {
  signal: Signal;
  rate: number;
  encoding: WavEncoding;
}

/** A volume on the [0, 1] scale; `scale` restores the stored values, `stored` is the file's grid [z, y, x],
 *  `voxel` the voxel size in mm (x, y, z): the file's, or with `res` the cube's. */
export interface VolumeRead {
  signal: Signal;
  scale: number;
  stored: number[];
  voxel: [number, number, number];
}

function exists(path: string): void {
  if (!existsSync(path)) throw new UserError(`${path}: no such file`);
}

/** A WAV file (PCM 8/16/24/32-bit or float, any rate); `channels: 1` mixes it down to mono. */
export function readAudio(path: string, o: { channels?: 'auto' | 1 } = {}): Audio {
  exists(path);
  const w = loadWav(path);
  const clip = o.channels === 1 ? mixDown(w) : w;
  return { signal: wavSignal(clip), rate: w.rate, encoding: w.encoding };
}

/** A NIfTI (.nii, .nii.gz) or rank-3 .npy volume; with `res`, zero-padded to a centred cube and area-averaged to res^3. */
export function readVolume(path: string, o: { res?: number } = {}): VolumeRead {
  exists(path);
  if (o.res !== undefined) checkSetting('volumeRes', o.res);
  return loadVolume(path, o.res !== undefined ? { res: o.res } : {});
}

export interface ReadSignalOptions {
  /** Images: centre square at res x res; volumes: res^3; clips: ignored. */
  res?: number;
  /** Images: 'auto', 1 or 3; clips: 'auto' or 1 (mix down). */
  channels?: ChannelMode;
}

/** Any signal file by its extension (.wav, .nii/.nii.gz/.npy, else PNG/JPEG), with its kind and a clip's rate. */
export function readSignal(
  path: string,
  o: ReadSignalOptions = {},
): { kind: SignalFileKind; signal: Signal; rate?: number } {
  exists(path);
  const kind = signalFileKind(path);
  if (kind === 'audio') {
    if (o.channels === 3)
      throw new UserError(`${path}: --channels 3 applies to images; a clip takes auto or 1 (mix down to mono)`);
    const a = readAudio(path, { channels: o.channels === 1 ? 1 : 'auto' });
    return { kind, signal: a.signal, rate: a.rate };
  }
  if (kind === 'volume') return { kind, signal: readVolume(path, o.res !== undefined ? { res: o.res } : {}).signal };
  const img = loadImage(path, { channels: o.channels ?? 'auto' });
  const sq = o.res === undefined ? img : cropCenterSquare(img);
  return { kind, signal: imageSignal(o.res === undefined || sq.width === o.res ? sq : resizeArea(sq, o.res, o.res)) };
}

/** A 1-D signal as a WAV file at `rate` (16-bit PCM unless `encoding`), written atomically. */
export function writeAudio(path: string, s: Signal, rate: number, o: { encoding?: WavEncoding } = {}): void {
  writeFileAtomic(path, encodeWav(signalWav(s, rate), o));
}

/** A 1-channel 3-D signal as a float32 NIfTI file (gzipped for .nii.gz), values times `scale`, written atomically. */
export function writeVolume(
  path: string,
  s: Signal,
  o: { scale?: number; voxel?: [number, number, number] } = {},
): void {
  writeFileAtomic(path, encodeNifti(s, { ...o, gzip: path.toLowerCase().endsWith('.gz') }));
}
