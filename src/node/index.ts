// strainer for Node programs (package export "strainer/node"): the core (re-exported, so one import
// serves a script) plus what needs Node — image and data files, priors by folder or shipped name,
// fit/pretrain/saveFit in a few calls, the onnxruntime-node backend (loaded on first use; an optional
// peer dependency), atomic bundle writes and checkpoint files.
//   import { readImage, loadPrior, fit } from 'strainer/node';
//   const r = await fit(readImage('slice.png', { res: 64 }), { prior: await loadPrior('mri-64'), iters: 200 });
export * from '../index.ts';
export {
  readImage,
  loadPrior,
  priorDir,
  fit,
  saveFit,
  pretrain,
  shippedPriors,
  SHIPPED_PRIORS_DIR,
  type ReadImageOptions,
  type NodeFitOptions,
  type NodeFitResult,
  type NodePretrainOptions,
  type NodePretrainResult,
  type StepReport,
} from './api.ts';
export {
  readAudio,
  readVolume,
  readSignal,
  writeAudio,
  writeVolume,
  type Audio,
  type VolumeRead,
  type ReadSignalOptions,
} from './signals.ts';
export {
  nodeBackend,
  chooseBackend,
  EP_CHOICES,
  NODE_BACKENDS,
  type NodeBackendName,
  type Ep,
  type NodeBackendOptions,
  type ChosenBackend,
} from './backend.ts';
export { ortNodeBackend, type OrtNodeOptions } from '../runtime/ort-node.ts';
export { dirSource, writeBundleDir, writeFileAtomic, checkOutDir } from './fs.ts';
export { saveCheckpoint, loadCheckpoint } from './checkpoint.ts';
export { decodeImage, encodePng, sniffImageFormat } from '../data/image.ts';
export { loadImage } from './read.ts';
export { loadDataSource, type DataSource, type DataSourceOptions, type SourceImage } from './datasets.ts';
export { splitSource, splitSignals, type Split, type SignalSplit } from './datasets.ts';
export { parseNifti, type Volume } from '../data/nifti.ts';
export { parseNpy } from '../data/npy.ts';
