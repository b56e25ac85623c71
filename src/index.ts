// strainer's platform-neutral core (package export "."): what a user needs at the top — fit a signal,
// pretrain a prior, restore an image, load and store bundles — and the rest one dot away in namespaces
// (graph, onnx, signals, train, bundles, restoration), as jax-js does. It imports no node:* module, no
// onnxruntime package and no DOM API (CI checks this: .dependency-cruiser.cjs, tsconfig.core.json).
// Platforms add their runtimes and I/O: 'strainer/node' and 'strainer/web'. What no entry exports is
// internal. The surface is recorded in api/strainer.api.md (npm run api).

// Fitting: one plan, one loop, one result, one step event
export { fit, psnrAt, psnrCurve, REPORT_ITERS, type FitOptions, type FitResult } from './train/fit.ts';
export {
  planFit,
  checkSetting,
  SETTINGS,
  DEFAULT_ITERS,
  DEFAULT_LR,
  DEFAULT_RES,
  type FitPlan,
  type FitSettings,
  type FitGrid,
  type ModelOverrides,
  type SettingName,
  type FitOptimizer,
  type FitRecipe,
  RECIPES,
} from './train/plan.ts';
export type { StepEvent, OnStep } from './train/events.ts';
export type { Prior, PriorMethod, MetaRecipe } from './train/prior.ts';
export { DivergenceError } from './train/trainer.ts';
// Pretraining (a STRAINER prior, or a meta-learned init) and restoration
export {
  pretrainPrior,
  type PretrainData,
  type PretrainOptions,
  type PretrainResult,
  type NamedSignal,
  type CheckpointStore,
} from './pipeline/pretrain.ts';
export { metaPretrain, fitInnerThenAdam, type MetaPretrainOptions, type MetaSettings } from './pipeline/meta.ts';
export { restoreImage, type RestoreOptions, type RestoreResult } from './restore/restore.ts';
// Bundles: priors (under the one trust policy), fitted signals
export { loadPrior, PROJECT_KEY, type BundledPrior, type PriorLoadOptions } from './export/prior.ts';
export { fitBundle, type FitBundleOptions } from './export/fit-bundle.ts';
export { loadBundle, type Manifest, type BuiltBundle, type FileSource } from './export/bundle.ts';
// Signals, models, runtimes, errors
export { makeSignal, imageSignal, signalImage, asSignal, type Signal } from './data/signal.ts';
export { makeImage, type Image } from './data/pixels.ts';
export { PAPER_CONFIG, type InrConfig } from './model/config.ts';
export { hostTensor, type Backend, type Session, type HostTensor } from './runtime/session.ts';
export { referenceBackend } from './runtime/reference.ts';
export { UserError } from './util/errors.ts';
// Namespaces
export * as graph from './graph/namespace.ts';
export * as onnx from './onnx/namespace.ts';
export * as signals from './data/namespace.ts';
export * as train from './train/namespace.ts';
export * as bundles from './export/namespace.ts';
export * as restoration from './restore/namespace.ts';
