// Train/test split of a data source, shared by `pretrain` and `eval`. Volumes use the MRI reference
// split (20 usable slices around the middle: even positions train, odd positions test); folders and
// stacks use the first `n` images for training and the next `test` for testing.
import { loadDataSource, type DataSource, type SourceImage } from './sources.ts';
import { splitUsableSlices, sliceId } from './mri.ts';
import { UserError } from '../util/errors.ts';

export interface Split { source: DataSource; train: SourceImage[]; test: SourceImage[] }

export function parseSelect(v: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m || Number(m[1]) >= Number(m[2])) throw new UserError(`--select must be START:END with START < END (half-open), got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

export async function splitSource(spec: string, o: { res: number; n: number; test: number; select?: [number, number]; channels?: 'auto' | 1 | 3 }): Promise<Split> {
  const source = await loadDataSource(spec, { res: o.res, ...(o.select ? { range: o.select } : {}), ...(o.channels ? { channels: o.channels } : {}) });
  const byId = new Map(source.images.map((im) => [im.id, im]));
  let trainAll: SourceImage[], testAll: SourceImage[];
  if (source.kind === 'nifti') {
    const zs = source.images.map((im) => Number(im.id.slice(1)));
    const s = splitUsableSlices(zs);
    trainAll = s.train.map((z) => byId.get(sliceId(z))!);
    testAll = s.test.map((z) => byId.get(sliceId(z))!);
  } else {
    trainAll = source.images.slice(0, o.n);
    testAll = source.images.slice(o.n, o.n + o.test);
  }
  if (trainAll.length < o.n) throw new UserError(`${spec}: ${o.n} training images requested, the source provides ${trainAll.length}`);
  return { source, train: trainAll.slice(0, o.n), test: testAll.slice(0, o.test) };
}
