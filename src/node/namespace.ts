// The `files` namespace of 'strainer/node': what the top-level calls are built from, for scripts that
// need one step of them — atomic writes, bundle folders, checkpoint files, data sources and their
// train/test splits, the image and volume decoders by path.
export { dirSource, writeBundleDir, writeFileAtomic, checkOutDir } from './fs.ts';
export { fileCheckpointStore } from './checkpoint.ts';
export { decodeImage, encodePng, sniffImageFormat } from '../data/image.ts';
export { loadImage } from './read.ts';
export {
  loadDataSource,
  splitSource,
  splitSignals,
  cachedDataset,
  type DataSource,
  type DataSourceOptions,
  type SourceImage,
  type Split,
  type SignalSplit,
} from './datasets.ts';
export { parseNifti, type Volume } from '../data/nifti.ts';
export { parseNpy } from '../data/npy.ts';
