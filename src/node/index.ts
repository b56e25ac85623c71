// strainer for Node programs (package export "strainer/node"): the core (re-exported, so one import
// serves a script; `fit`, `loadPrior` are the core's with Node's additions: a prior by folder or shipped
// name, checked against the project key; the runtime by name) plus what needs Node — signal files,
// saveFit, pretrain from a data source, the onnxruntime-node backend (an optional peer dependency,
// loaded on first use). Lower-level file helpers are in the `files` namespace.
//   import { readImage, fit } from 'strainer/node';
//   const r = await fit(readImage('slice.png', { res: 64 }), { prior: 'mri-64', iters: 200 });
export * from '../index.ts';
export {
  readImage,
  loadPrior,
  fit,
  saveFit,
  pretrain,
  shippedPriors,
  SHIPPED_PRIORS_DIR,
  type ReadImageOptions,
  type NodeFitOptions,
  type NodePretrainOptions,
  type NodeRuntimeOptions,
  type SaveFitOptions,
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
export { chooseBackend, EP_CHOICES, type NodeBackendName, type Ep, type ChosenBackend } from './backend.ts';
export { ortNodeBackend, type OrtNodeOptions } from '../runtime/ort-node.ts';
export * as files from './namespace.ts';
