// Train/test split of a data source, shared by `pretrain` and `eval`. Volumes use the MRI reference
// split (20 usable slices around the middle: even positions train, odd positions test); folders,
// stacks and folders of WAV clips use the first `n` signals for training and the next `test` for
// testing. splitSignals is what pretraining reads (images or clips); splitSource is images only.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataSource, type DataSource, type DataSourceKind, type SourceImage } from './datasets.ts';
import { loadClipFolder, WAV_EXT } from './clips.ts';
import { splitUsableSlices, sliceId } from '../data/mri.ts';
import type { Image } from '../data/pixels.ts';
import type { Signal } from '../data/signal.ts';
import { UserError } from '../util/errors.ts';

export interface Split { source: DataSource; train: SourceImage[]; test: SourceImage[] }

export function parseSelect(v: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m || Number(m[1]) >= Number(m[2])) throw new UserError(`--select must be START:END with START < END (half-open), got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

export interface SplitOptions { res: number; n: number; test: number; select?: [number, number]; channels?: 'auto' | 1 | 3 }

/** The first n for training, the next `test` for testing; too few for training is one line. */
function firstN<T>(spec: string, what: string, all: readonly T[], o: Pick<SplitOptions, 'n' | 'test'>): { train: T[]; test: T[] } {
  if (all.length < o.n) throw new UserError(`${spec}: ${o.n} training ${what} requested, the source provides ${all.length}`);
  return { train: all.slice(0, o.n), test: all.slice(o.n, o.n + o.test) };
}

export async function splitSource(spec: string, o: SplitOptions): Promise<Split> {
  const source = await loadDataSource(spec, { res: o.res, ...(o.select ? { range: o.select } : {}), ...(o.channels ? { channels: o.channels } : {}) });
  if (source.kind !== 'nifti') return { source, ...firstN(spec, 'images', source.images, o) };
  const byId = new Map(source.images.map((im) => [im.id, im]));
  const s = splitUsableSlices(source.images.map((im) => Number(im.id.slice(1))));
  const train = s.train.map((z) => byId.get(sliceId(z))!);
  return { source, train: firstN(spec, 'images', train, o).train, test: s.test.map((z) => byId.get(sliceId(z))!).slice(0, o.test) };
}

/** A split of images or clips, with what was read (description, files with sha256) and a clip's rate. */
export interface SignalSplit {
  kind: DataSourceKind | 'audio';
  description: string;
  files: { path: string; sha256: string }[];
  train: { id: string; image: Image | Signal }[];
  test: { id: string; image: Image | Signal }[];
  /** Samples per second of every clip (audio only). */
  rate?: number;
}

// The extensions ./datasets.ts reads from a folder of images.
const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Whether `spec` is a folder of WAV clips; a folder of clips and images together, or of neither, is refused. */
function isClipFolder(spec: string): boolean {
  let names: string[];
  try {
    if (!statSync(spec).isDirectory()) return false;
    names = readdirSync(spec).filter((n) => statSync(join(spec, n)).isFile());
  } catch {
    return false; // loadDataSource says what is wrong with the path
  }
  const clips = names.filter((n) => WAV_EXT.test(n)).length, images = names.filter((n) => IMAGE_EXT.test(n)).length;
  if (clips === 0 && images === 0) throw new UserError(`${spec}: folder holds no PNG or JPEG images and no WAV clips (subfolders are not read)`);
  if (clips > 0 && images > 0) throw new UserError(`${spec}: folder holds both WAV clips (${clips}) and images (${images}); a prior is trained on one kind of signal: put them in separate folders`);
  return clips > 0;
}

/** What pretraining reads: a folder of WAV clips (as stored; `channels: 1` mixes down to mono, `res`
 *  is not used), or any image source of splitSource. */
export async function splitSignals(spec: string, o: SplitOptions): Promise<SignalSplit> {
  if (isClipFolder(spec)) {
    if (o.channels === 3) throw new UserError(`${spec}: --channels 3 applies to images; clips take auto or 1 (mix down to mono)`);
    const src = await loadClipFolder(spec, { channels: o.channels === 1 ? 1 : 'auto', ...(o.select ? { range: o.select } : {}) });
    const s = firstN(spec, 'clips', src.clips.map((c) => ({ id: c.id, image: c.signal })), o);
    return { kind: 'audio', description: src.description, files: src.files, rate: src.rate, ...s };
  }
  const s = await splitSource(spec, o);
  return { kind: s.source.kind, description: s.source.description, files: s.source.files, train: s.train, test: s.test };
}
