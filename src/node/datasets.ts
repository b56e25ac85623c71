// Data sets by path, for the CLI, scripts and tests: a data source is one string naming a set of
// training/test signals (a folder of PNG/JPEG images, a NIfTI volume's axial slices, a .npy image stack,
// or a folder of WAV clips), read with the SHA-256 of every file so a run can say exactly what it saw;
// its train/test split, shared by `pretrain` and `eval`; and where the fetched datasets are cached.
// Decoding is src/data's (bytes in); this file finds the files and reads them (./read.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { UserError, check } from '../util/errors.ts';
import { sha256Hex } from '../util/sha256.ts';
import {
  type ChannelMode,
  type Image,
  cropCenterSquare,
  decodeImage,
  isGrayscale,
  resizeArea,
  toChannels,
} from '../data/image.ts';
import { mriSliceImage, sliceId, splitUsableSlices } from '../data/mri.ts';
import { parseNifti, usableSlices } from '../data/nifti.ts';
import { checkRange, npyImages, parseNpy } from '../data/npy.ts';
import { mixDown, parseWav, wavSignal } from '../data/wav.ts';
import type { Signal } from '../data/signal.ts';
import type { NamedSignal } from '../pipeline/pretrain.ts';
import { readDataFile } from './read.ts';

// ---- Image sources ----------------------------------------------------------------------------
// A folder of PNG/JPEG files (sorted by name, centre-cropped to a square), a NIfTI volume (its usable
// axial slices, zero-padded to a square) or a .npy image stack; every image area-resized to res x res.

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
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return await loadVolumeSlices(spec, opts);
  if (lower.endsWith('.npy')) return await loadStack(spec, opts);
  throw new UserError(
    `${spec}: unknown data source type '${extname(spec)}' (expected a folder of PNG/JPEG images, .nii, .nii.gz or .npy)`,
  );
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
  const names = readdirSync(dir)
    .filter((n) => IMAGE_EXT.test(n) && statSync(join(dir, n)).isFile())
    .sort();
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
    images.push({
      id: name.replace(IMAGE_EXT, ''),
      image: squareRes(decodeImage(bytes, path, { channels: mode }), opts.res),
    });
  }
  const out = unifyChannels(images, opts.channels ?? 'auto');
  return {
    kind: 'folder',
    images: out,
    files,
    description: `folder ${dir}: ${out.length} of ${names.length} images, centre-cropped and area-resized to ${opts.res}x${opts.res}, ${out[0].image.channels} channel(s)`,
  };
}

async function loadVolumeSlices(path: string, opts: DataSourceOptions): Promise<DataSource> {
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
  const images = unifyChannels(
    zs.map((z) => ({ id: sliceId(z), image: mriSliceImage(vol, z, opts.res) })),
    opts.channels ?? 'auto',
  );
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
  const images = stack.map((img, k) => ({
    id: `i${String(start + k).padStart(digits, '0')}`,
    image: squareRes(img, opts.res),
  }));
  const out = unifyChannels(images, opts.channels ?? 'auto');
  return {
    kind: 'npy',
    images: out,
    files: [{ path, sha256: await sha256Hex(bytes) }],
    description: `npy ${basename(path)} (${arr.shape.join(', ')}): ${out.length} images, centre-cropped and area-resized to ${opts.res}x${opts.res}`,
  };
}

// ---- WAV clip folders -------------------------------------------------------------------------
// Every .wav file in natural name order (0, 1, 2, ..., 9, 10: numbered prompts stay in their numbers'
// order), each a 1-D signal on the pipeline's [0, 1] scale (src/data/wav.ts), all of one sample rate
// and one channel count (or mixed down to mono). Mixed rates or channel counts are one line.

export const WAV_EXT = /\.wav$/i;

export interface ClipSource {
  clips: { id: string; signal: Signal }[];
  files: { path: string; sha256: string }[];
  /** Samples per second, the same for every clip. */
  rate: number;
  description: string;
}

/** The .wav files of a folder in natural order ('2.wav' before '10.wav'). */
export function clipNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => WAV_EXT.test(n) && statSync(join(dir, n)).isFile())
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** "8000 Hz: 0.wav, 1.wav, ...; 16000 Hz: x.wav" for a refusal naming which files differ. */
function groups(by: Map<number, string[]>, unit: string): string {
  return [...by]
    .map(
      ([k, names]) =>
        `${k}${unit}: ${names.slice(0, 3).join(', ')}${names.length > 3 ? `, ... (${names.length})` : ''}`,
    )
    .join('; ');
}

/** The clips at positions [range) of the folder's natural order; `channels: 1` mixes each to mono. */
export async function loadClipFolder(
  dir: string,
  o: { channels?: 'auto' | 1; range?: [number, number] } = {},
): Promise<ClipSource> {
  const names = clipNames(dir);
  if (names.length === 0) throw new UserError(`${dir}: folder holds no WAV clips`);
  const [start, end] = o.range ?? [0, names.length];
  checkRange(start, end, names.length, `${dir}: clip`);
  const clips: ClipSource['clips'] = [],
    files: ClipSource['files'] = [];
  const rates = new Map<number, string[]>(),
    channels = new Map<number, string[]>();
  for (const name of names.slice(start, end)) {
    const path = join(dir, name);
    const bytes = readDataFile(path);
    files.push({ path, sha256: await sha256Hex(bytes) });
    const w = parseWav(bytes, path);
    const clip = o.channels === 1 ? mixDown(w) : w;
    rates.set(w.rate, [...(rates.get(w.rate) ?? []), name]);
    channels.set(clip.channels, [...(channels.get(clip.channels) ?? []), name]);
    clips.push({ id: name.replace(WAV_EXT, ''), signal: wavSignal(clip) });
  }
  if (rates.size > 1)
    throw new UserError(
      `${dir}: clips at more than one sample rate (${groups(rates, ' Hz')}); a prior is trained at one rate: resample them to one`,
    );
  if (channels.size > 1)
    throw new UserError(
      `${dir}: clips with different channel counts (${groups(channels, ' channel(s)')}); pass --channels 1 to mix them down to mono`,
    );
  const rate = [...rates.keys()][0],
    ch = [...channels.keys()][0];
  const lengths = clips.map((c) => c.signal.dims[0]);
  return {
    clips,
    files,
    rate,
    description: `folder ${dir}: ${clips.length} of ${names.length} WAV clips, ${rate} Hz, ${ch === 1 ? 'mono' : `${ch} channels`}${o.channels === 1 ? ' (mixed down)' : ''}, ${Math.min(...lengths)}-${Math.max(...lengths)} samples`,
  };
}

// ---- Train/test splits ------------------------------------------------------------------------
// Volumes use the MRI reference split (20 usable slices around the middle: even positions train, odd
// positions test); folders, stacks and folders of WAV clips use the first `n` signals for training and
// the next `test` for testing. splitSignals is what pretraining reads (images or clips); splitSource
// is images only.

export interface Split {
  source: DataSource;
  train: SourceImage[];
  test: SourceImage[];
}

export function parseSelect(v: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m || Number(m[1]) >= Number(m[2]))
    throw new UserError(`--select must be START:END with START < END (half-open), got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

export interface SplitOptions {
  res: number;
  n: number;
  test: number;
  select?: [number, number];
  channels?: 'auto' | 1 | 3;
}

/** The first n for training, the next `test` for testing; too few for training is one line. */
function firstN<T>(
  spec: string,
  what: string,
  all: readonly T[],
  o: Pick<SplitOptions, 'n' | 'test'>,
): { train: T[]; test: T[] } {
  if (all.length < o.n)
    throw new UserError(`${spec}: ${o.n} training ${what} requested, the source provides ${all.length}`);
  return { train: all.slice(0, o.n), test: all.slice(o.n, o.n + o.test) };
}

export async function splitSource(spec: string, o: SplitOptions): Promise<Split> {
  const source = await loadDataSource(spec, {
    res: o.res,
    range: o.select,
    channels: o.channels,
  });
  if (source.kind !== 'nifti') return { source, ...firstN(spec, 'images', source.images, o) };
  const byId = new Map(source.images.map((im) => [im.id, im]));
  const s = splitUsableSlices(source.images.map((im) => Number(im.id.slice(1))));
  const train = s.train.map((z) => byId.get(sliceId(z))!);
  return {
    source,
    train: firstN(spec, 'images', train, o).train,
    test: s.test.map((z) => byId.get(sliceId(z))!).slice(0, o.test),
  };
}

/** A split of images or clips, with what was read (description, files with sha256) and a clip's rate. */
export interface SignalSplit {
  kind: DataSourceKind | 'audio';
  description: string;
  files: { path: string; sha256: string }[];
  train: NamedSignal[];
  test: NamedSignal[];
  /** Samples per second of every clip (audio only). */
  rate?: number;
}

/** Whether `spec` is a folder of WAV clips; a folder of clips and images together, or of neither, is refused. */
function isClipFolder(spec: string): boolean {
  let names: string[];
  try {
    if (!statSync(spec).isDirectory()) return false;
    names = readdirSync(spec).filter((n) => statSync(join(spec, n)).isFile());
  } catch {
    return false; // loadDataSource says what is wrong with the path
  }
  const clips = names.filter((n) => WAV_EXT.test(n)).length,
    images = names.filter((n) => IMAGE_EXT.test(n)).length;
  if (clips === 0 && images === 0)
    throw new UserError(`${spec}: folder holds no PNG or JPEG images and no WAV clips (subfolders are not read)`);
  if (clips > 0 && images > 0)
    throw new UserError(
      `${spec}: folder holds both WAV clips (${clips}) and images (${images}); a prior is trained on one kind of signal: put them in separate folders`,
    );
  return clips > 0;
}

/** What pretraining reads: a folder of WAV clips (as stored; `channels: 1` mixes down to mono, `res`
 *  is not used), or any image source of splitSource. */
export async function splitSignals(spec: string, o: SplitOptions): Promise<SignalSplit> {
  if (isClipFolder(spec)) {
    if (o.channels === 3)
      throw new UserError(`${spec}: --channels 3 applies to images; clips take auto or 1 (mix down to mono)`);
    const src = await loadClipFolder(spec, {
      channels: o.channels === 1 ? 1 : 'auto',
      range: o.select,
    });
    const s = firstN(
      spec,
      'clips',
      src.clips.map((c) => ({ id: c.id, signal: c.signal })),
      o,
    );
    return { kind: 'audio', description: src.description, files: src.files, rate: src.rate, ...s };
  }
  const s = await splitSource(spec, o);
  return {
    kind: s.source.kind,
    description: s.source.description,
    files: s.source.files,
    train: s.train.map((t) => ({ id: t.id, signal: t.image })),
    test: s.test.map((t) => ({ id: t.id, signal: t.image })),
  };
}

// ---- The dataset cache ------------------------------------------------------------------------
// Where scripts/fetch-data.sh puts the datasets that are fetched rather than bundled (REFERENCE.md:
// LFW subset and skimage test images from python3-skimage, nature photos from mate-backgrounds, speech
// clips from asterisk-core-sounds-en-wav); lookups return null when a dataset is absent so tests can
// skip with a clear message.

export type CachedDatasetName = 'lfw' | 'skimage' | 'nature' | 'speech';

/** $STRAINER_DATA, else ~/.cache/strainer (the default of scripts/fetch-data.sh). */
export function dataCacheDir(): string {
  const env = process.env.STRAINER_DATA;
  return env !== undefined && env !== '' ? env : join(homedir(), '.cache', 'strainer');
}

/** Path to load the dataset from (a data-source spec), or null when it has not been fetched. */
export function cachedDataset(name: CachedDatasetName): string | null {
  const dir = dataCacheDir();
  switch (name) {
    case 'lfw': {
      const file = join(dir, 'lfw', 'lfw_subset.npy');
      return existsSync(file) && statSync(file).size > 0 ? file : null;
    }
    case 'skimage':
    case 'nature':
    case 'speech': {
      const folder = join(dir, name);
      return existsSync(folder) && readdirSync(folder).length > 0 ? folder : null;
    }
    default:
      return name satisfies never;
  }
}

/** The line tests print when they skip for lack of a dataset. */
export function missingDatasetMessage(name: CachedDatasetName): string {
  return `dataset '${name}' not found under ${dataCacheDir()}; run scripts/fetch-data.sh to fetch it`;
}
