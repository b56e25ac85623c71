// Data sources: one string names a set of training/test images. A folder of PNG/JPEG files (sorted by
// name, centre-cropped to a square), a NIfTI volume (its usable axial slices, zero-padded to a square)
// or a .npy image stack; every image is area-resized to res x res. The result records the files read
// with their SHA-256 so a run can say exactly what it saw. Node-only.

import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UserError, check } from '../util/errors.ts';
import { type ChannelMode, type Image, cropCenterSquare, decodeImage, isGrayscale, resizeArea, toChannels } from '../data/image.ts';
import { mriSliceImage, sliceId } from '../data/mri.ts';
import { parseNifti, usableSlices } from '../data/nifti.ts';
import { checkRange, npyImages, parseNpy } from '../data/npy.ts';
import { readDataFile } from './files.ts';
import { sha256Hex } from '../util/sha256.ts';

export type DataSourceKind = 'folder' | 'nifti' | 'npy';

export interface DataSourceOptions {
  /** Output side length in pixels. */
  res: number;
  /** 'auto' (default): 1 channel when every image of the source is gray, else 3 for all. */
  channels?: ChannelMode;
  /** Half-open [start, end): z indices for a volume, positions in the sorted list / stack otherwise. */
  range?: [number, number];
}

export interface SourceImage {
  id: string;
  image: Image;
}

export interface DataSource {
  kind: DataSourceKind;
  images: SourceImage[];
  files: { path: string; sha256: string }[];
  description: string;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Load every image named by `spec` (a folder, .nii / .nii.gz, or .npy path). */
export async function loadDataSource(spec: string, opts: DataSourceOptions): Promise<DataSource> {
  const { res } = opts;
  check(Number.isInteger(res) && res > 0, `resolution must be a positive integer, got ${res}`);
  let isDir: boolean;
  try {
    isDir = statSync(spec).isDirectory();
  } catch {
    throw new UserError(`${spec}: data source not found`);
  }
  if (isDir) return loadFolder(spec, opts);
  const lower = spec.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return await loadVolume(spec, opts);
  if (lower.endsWith('.npy')) return await loadStack(spec, opts);
  throw new UserError(`${spec}: unknown data source type '${extname(spec)}' (expected a folder of PNG/JPEG images, .nii, .nii.gz or .npy)`);
}

/** Apply the channel mode to a whole source, so that 'auto' never mixes 1- and 3-channel images. */
function unifyChannels(images: SourceImage[], mode: ChannelMode): SourceImage[] {
  const want = mode !== 'auto' ? mode : images.every((s) => isGrayscale(s.image)) ? 1 : 3;
  return images.map(({ id, image }) => ({ id, image: toChannels(image, want) }));
}

function squareRes(img: Image, res: number): Image {
  return resizeArea(cropCenterSquare(img), res, res);
}

async function loadFolder(dir: string, opts: DataSourceOptions): Promise<DataSource> {
  const names = readdirSync(dir).filter((n) => IMAGE_EXT.test(n) && statSync(join(dir, n)).isFile()).sort();
  check(names.length > 0, `${dir}: folder holds no PNG or JPEG images`);
  const [start, end] = opts.range ?? [0, names.length];
  checkRange(start, end, names.length, `${dir}: image`);
  const files: DataSource['files'] = [];
  const images: SourceImage[] = [];
  for (const name of names.slice(start, end)) {
    const path = join(dir, name);
    const bytes = readDataFile(path);
    files.push({ path, sha256: await sha256Hex(bytes) });
    // Decode keeping colour; unifyChannels picks the channel count for the whole folder.
    const mode = opts.channels === 1 ? 1 : 3;
    images.push({ id: name.replace(IMAGE_EXT, ''), image: squareRes(decodeImage(bytes, path, { channels: mode }), opts.res) });
  }
  const out = unifyChannels(images, opts.channels ?? 'auto');
  return {
    kind: 'folder',
    images: out,
    files,
    description: `folder ${dir}: ${out.length} of ${names.length} images, centre-cropped and area-resized to ${opts.res}x${opts.res}, ${out[0].image.channels} channel(s)`,
  };
}

async function loadVolume(path: string, opts: DataSourceOptions): Promise<DataSource> {
  const bytes = readDataFile(path);
  const vol = parseNifti(bytes, path);
  const nz = vol.dims[2];
  let zs = usableSlices(vol);
  if (opts.range) {
    const [start, end] = opts.range;
    checkRange(start, end, nz, `${path}: z`);
    zs = zs.filter((z) => z >= start && z < end);
    check(zs.length > 0, `${path}: no usable axial slices in z range [${start}, ${end})`);
  }
  check(zs.length > 0, `${path}: volume has no usable axial slices`);
  const images = unifyChannels(zs.map((z) => ({ id: sliceId(z), image: mriSliceImage(vol, z, opts.res) })), opts.channels ?? 'auto');
  const within = opts.range ? ` within z [${opts.range[0]}, ${opts.range[1]})` : '';
  return {
    kind: 'nifti',
    images,
    files: [{ path, sha256: await sha256Hex(bytes) }],
    description: `NIfTI ${basename(path)} ${vol.dims.join('x')}: ${zs.length} usable axial slices${within} (${sliceId(zs[0])}-${sliceId(zs[zs.length - 1])}), padded to square and area-resized to ${opts.res}x${opts.res}`,
  };
}

async function loadStack(path: string, opts: DataSourceOptions): Promise<DataSource> {
  const bytes = readDataFile(path);
  const arr = parseNpy(bytes, path);
  const n = arr.shape[0];
  const [start] = opts.range ?? [0, n];
  let stack: Image[];
  try {
    stack = npyImages(arr, opts.range);
  } catch (e) {
    // npyImages does not know the file; name it in the message.
    if (e instanceof UserError) throw new UserError(`${path}: ${e.message}`);
    throw e;
  }
  const digits = Math.max(3, String(n - 1).length);
  const images = stack.map((img, k) => ({ id: `i${String(start + k).padStart(digits, '0')}`, image: squareRes(img, opts.res) }));
  const out = unifyChannels(images, opts.channels ?? 'auto');
  return {
    kind: 'npy',
    images: out,
    files: [{ path, sha256: await sha256Hex(bytes) }],
    description: `npy ${basename(path)} (${arr.shape.join(', ')}): ${out.length} images, centre-cropped and area-resized to ${opts.res}x${opts.res}`,
  };
}
