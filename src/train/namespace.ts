// The `train` namespace of the core entry: what a fit and a pretraining are made of, for those who
// drive train steps themselves — the models' parameter specs and init, the compiled programs (train
// step, inference, render, encoder), Adam, the Trainer over any Backend, coordinate grids, renderers,
// forward models, the onnxruntime pretraining engine, the meta-learning step, transfer measurements
// and the fast recipe's staged fit (fastFit).
export { paramSpecs, initParams, isEncoderParam, type Params, type ParamSpec } from '../model/inr.ts';
export { validateConfig, type InrKind } from '../model/config.ts';
export {
  trainStepProgram,
  inferenceProgram,
  encoderProgram,
  renderProgram,
  stateKeys,
  IDENTITY,
  type StepSpec,
  type Measurement,
} from './programs.ts';
export { boxDownsample, pixelMask } from './measure.ts';
export { ADAM_DEFAULTS, type AdamConfig } from './adam.ts';
export { Trainer, initialState, type State } from './trainer.ts';
export { runFit, planParams, type FitRun } from './fit.ts';
export { MAX_STEP_ROWS, AUDIO_CONFIG, AUDIO_RANGE, defaultConfig } from './plan.ts';
export { createGridRenderer, type Renderer, type Grid } from './render.ts';
export { gridCoords, latticeCoords, psnrFromMse, type TargetRange } from './grid.ts';
export { pretrainOrt, stackedConfig } from './pretrain.ts';
export { metaStepProgram, META_DEFAULTS, META_METHODS, type MetaSpec, type MetaMethod } from './meta.ts';
export type { PretrainEngine, EngineOptions, EngineResult } from './pretrain-api.ts';
export { transferGain, baselineOf, type TransferOptions } from './transfer.ts';
export {
  fastFit,
  FAST_PRIOR_RECIPE,
  FAST_RANDOM_RECIPE,
  PAPER_RECIPE,
  type FastRecipe,
  type Stage,
  type FastFitOptions,
  type FastFitResult,
  type FastStep,
  type FastEval,
  type FastLimits,
} from './fast.ts';
