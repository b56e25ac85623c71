// The contract every pretraining engine implements (onnxruntime: src/train/pretrain.ts; TensorFlow.js:
// src/tfjs/). One shared encoder + N independent linear decoders trained jointly on N same-size
// signals of any rank (clips, images, volumes), loss = sum over signals of each signal's MSE, Adam,
// the whole grid every step (REFERENCE.md). The pretraining recipe around an engine (data, padding,
// checkpoints, the held-out gain, the bundle) is src/pipeline/pretrain.ts.
import type { InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { TargetRange } from './grid.ts';
import type { Image } from '../data/pixels.ts';
import type { Signal } from '../data/signal.ts';
import type { OnStep } from './events.ts';

export interface EngineOptions {
  /** Single-signal config: outDim = channels of one signal; the N decoders are stacked internally. */
  config: InrConfig;
  iters: number;
  lr: number;
  seed: number;
  range: TargetRange;
  /** After every step: the summed loss and the mean PSNR over the N signals (before the update). */
  onStep?: OnStep;
}

export interface EngineResult {
  /** Shared encoder, `encoder.{l}.weight|bias`, in strainer's layout (weights [fan_in, fan_out]). */
  encoder: Params;
  /** Per-signal decoders: `decoder.{i}.weight` [width, C] and `decoder.{i}.bias` [C]. */
  decoders: Params;
  /** Summed loss before each update. */
  loss: number[];
  /** Mean PSNR over the signals before each update. */
  psnr: number[];
  stepMs: number[];
  /** e.g. 'onnxruntime-node (cpu)' or 'tfjs (wasm)'. */
  engine: string;
}

export type PretrainEngine = (signals: readonly (Image | Signal)[], opts: EngineOptions) => Promise<EngineResult>;
