// strainer's Node entry (package export "." under the "default" condition; browsers get
// src/web/index.ts). Minimal grouped re-exports of the public API; what is not exported is internal.

// Models and configs
export { PAPER_CONFIG, validateConfig, type InrConfig, type InrKind } from './model/config.ts';
export { paramSpecs, initParams, type Params } from './model/inr.ts';
// Graphs and ONNX
export { trainStepProgram, inferenceProgram, encoderProgram, renderProgram, stateKeys, type Measurement } from './train/programs.ts';
export { programToOnnx } from './onnx/write.ts';
export { onnxToProgram } from './onnx/read.ts';
// Training and fitting
export { Trainer, initialState, DivergenceError } from './train/trainer.ts';
export { fitSignal, render, type FitOptions, type FitResult, type Signal } from './train/fit.ts';
export { createRenderer, type Renderer } from './train/render.ts';
export type { Prior } from './train/prior.ts';
export { resolveFit, priorInit, type FitSettings, type ResolvedFit, type ModelOverrides } from './train/fit-config.ts';
export { loadPrior, buildPriorBundle, type BundledPrior } from './export/prior.ts';
export { pretrainOrt, stackedConfig } from './train/pretrain.ts';
export type { PretrainOptions, PretrainResult, PretrainEngine } from './train/pretrain-api.ts';
export { psnrCurve, transferGain } from './train/transfer.ts';
export { encodeCheckpoint, decodeCheckpoint, type CheckpointMeta } from './export/checkpoint.ts';
export { gridCoords, psnrFromMse, type TargetRange } from './train/grid.ts';
// Bundles
export { buildBundle, loadBundle, FORMAT_VERSION, type Manifest, type FileSource } from './export/bundle.ts';
export { writeBundleDir, dirSource } from './node/fs.ts';
// Runtimes
export { hostTensor, type Backend, type Session, type HostTensor } from './runtime/session.ts';
export { ortNodeBackend } from './runtime/ort-node.ts';
export { nodeBackend } from './node/backend.ts';
export { referenceBackend } from './runtime/reference.ts';
// Data
export { loadImage, decodeImage, encodePng, type Image } from './data/image.ts';
export { loadDataSource } from './data/sources.ts';
export { UserError } from './util/errors.ts';
