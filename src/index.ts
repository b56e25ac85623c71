// strainer's platform-neutral core (package export "."): graph IR and autodiff, the ONNX codec, INR
// models, train-step programs, the Trainer over the Backend interface, the reference interpreter, the
// bundle format, fit configuration, pixels and restoration. It imports no node:* module, no onnxruntime
// package and no DOM API (CI checks this: .dependency-cruiser.cjs, tsconfig.core.json). Platforms add
// their runtimes and I/O: 'strainer/node' and 'strainer/web'. What no entry exports is internal.

// Graph IR, autodiff, reference interpreter
export type { Node, Program, Shape, Dim, OpName, OpParams } from './graph/ir.ts';
export * as ops from './graph/builder.ts';
export { grad } from './graph/autodiff.ts';
export { evaluateProgram } from './graph/interp.ts';
export { printProgram } from './graph/print.ts';
export type { Tensor } from './graph/tensor.ts';
// ONNX codec
export { programToOnnx } from './onnx/write.ts';
export { onnxToProgram } from './onnx/read.ts';
// Models and configs
export { PAPER_CONFIG, validateConfig, type InrConfig, type InrKind } from './model/config.ts';
export { paramSpecs, initParams, isEncoderParam, type Params } from './model/inr.ts';
// Train-step programs, training and fitting
export {
  trainStepProgram,
  inferenceProgram,
  encoderProgram,
  renderProgram,
  stateKeys,
  IDENTITY,
  type Measurement,
} from './train/programs.ts';
export { boxDownsample, pixelMask } from './train/measure.ts';
export { ADAM_DEFAULTS, type AdamConfig } from './train/adam.ts';
export { Trainer, initialState, DivergenceError, type State } from './train/trainer.ts';
export { fitSignal, render, startParams, REPORT_ITERS, psnrAt, type FitOptions, type FitResult } from './train/fit.ts';
export {
  resolveFit,
  priorInit,
  checkPriorSignal,
  checkIters,
  checkLr,
  defaultConfig,
  AUDIO_CONFIG,
  MAX_STEP_ROWS,
  type FitSettings,
  type ResolvedFit,
  type ModelOverrides,
} from './train/fit-config.ts';
export { createRenderer, createGridRenderer, type Renderer, type Grid } from './train/render.ts';
export type { Prior } from './train/prior.ts';
export { pretrainOrt, stackedConfig } from './train/pretrain.ts';
export type { PretrainOptions, PretrainResult, PretrainEngine } from './train/pretrain-api.ts';
export { psnrCurve, transferGain } from './train/transfer.ts';
export { gridCoords, latticeCoords, linspace, psnrFromMse, type TargetRange } from './train/grid.ts';
// Bundles: format, priors, fitted signals, checkpoints
export {
  buildBundle,
  loadBundle,
  parseManifest,
  FORMAT_VERSION,
  type Manifest,
  type BuiltBundle,
  type LoadedBundle,
  type FileSource,
  type BundleLoadOptions,
} from './export/bundle.ts';
export { loadPrior, buildPriorBundle, type BundledPrior, type PriorBundleArgs } from './export/prior.ts';
export { fitBundle, type FitBundleArgs } from './export/fit-bundle.ts';
export { encodeCheckpoint, decodeCheckpoint, type CheckpointMeta } from './export/checkpoint.ts';
export {
  generateKeyPair,
  signManifest,
  verifyManifest,
  importPublicKey,
  publicKeyId,
  SIGNATURE_FILE,
  type SignatureStatus,
  type KeyPairPem,
} from './export/signature.ts';
export { quantizePrior, QUANTIZE_TARGETS, type QuantizeTarget } from './export/quantize.ts';
export { TENSOR_DTYPES, type TensorDtype } from './export/tensor-codec.ts';
// Runtimes: the interface and the reference interpreter (onnxruntime adapters live in the platform entries)
export { hostTensor, type Backend, type Session, type HostTensor } from './runtime/session.ts';
export { referenceBackend } from './runtime/reference.ts';
// Pixels (codec-free) and inverse problems
export {
  makeImage,
  resizeArea,
  cropCenterSquare,
  padToSquare,
  toGray,
  toChannels,
  type Image,
  type ChannelMode,
} from './data/pixels.ts';
// Signals of any rank (clips, images, volumes); WAV and NIfTI codecs
export {
  makeSignal,
  imageSignal,
  signalImage,
  asSignal,
  resampleArea,
  padCentered,
  padEnd,
  middleSlices,
  sampleCount,
  type Signal,
} from './data/signal.ts';
export {
  parseWav,
  encodeWav,
  wavSignal,
  signalWav,
  mixDown,
  snrDb,
  SILENCE,
  type Wav,
  type WavEncoding,
} from './data/wav.ts';
export { encodeNifti, niftiSignal, npySignal, cubeAt } from './data/volume.ts';
export {
  restoreImage,
  taskGeometry,
  RESTORE_TASKS,
  type RestoreOptions,
  type RestoreResult,
  type RestorePoint,
  type RestoreTask,
} from './restore/restore.ts';
export { downsample, addNoise, clamp01 } from './restore/degrade.ts';
export { ssim, psnr } from './restore/ssim.ts';
// Errors and hashing
export { UserError } from './util/errors.ts';
export { sha256Hex } from './util/sha256.ts';
