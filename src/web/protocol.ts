// Messages between a page and the fit worker (src/web/worker.ts). Images travel as the project's
// Image (HWC Float32Array, transferred), other signals (clips, volumes) as a Signal; a request holds
// one of the two, and its previews come back in the same form. Errors travel as text with a kind the
// page can act on.
// A request with task 'superres' or 'denoise' treats `image` as the truth: the worker degrades it,
// sends the observation back, and restores it (src/restore/restore.ts), measuring against the truth.
import type { InrConfig } from '../model/config.ts';
import type { FitOptimizer, FitRecipe, ModelOverrides } from '../train/plan.ts';
import type { StepEvent } from '../train/events.ts';
import type { ProviderChoice } from '../runtime/ort-web.ts';
import type { Image } from './image.ts';
import type { Signal } from '../data/signal.ts';

export interface FitRequest {
  /** The image to fit (or, for a restoration, its truth). */
  image?: Image;
  /** Or any other signal: a clip [n] (with its `rate`), a volume [d, h, w]. */
  signal?: Signal;
  /** Samples per second of a clip (an audio prior refuses another rate). */
  rate?: number;
  /** Folder URL of a prior bundle (relative to the page), or null for a random SIREN. */
  priorUrl: string | null;
  /** SIREN architecture when there is no prior. */
  model?: ModelOverrides;
  iters: number;
  lr: number;
  /** 'adam' (default) or plain 'sgd' (a meta-learned prior's inner loop). */
  optimizer?: FitOptimizer;
  /** 'fast' (default where it applies) or 'paper' (FitSettings.recipe). */
  recipe?: FitRecipe;
  /** Stop when the whole signal's PSNR reaches this (dB), or after this many seconds (FitSettings). */
  untilPsnr?: number;
  timeLimit?: number;
  /** PSNRs (dB) the fast recipe also evaluates the whole signal near (FitSettings.milestones): the step
   *  events' `whole` then tells the time to each. */
  milestones?: number[];
  /** Learning rate of the encoder layers (default `lr`); 0 keeps a prior's features fixed. */
  encoderLr?: number;
  provider: ProviderChoice;
  seed?: number;
  previewEvery?: number;
  /** Shown in messages and stored in the downloaded manifest. */
  label: string;
  /** Where onnxruntime-web's .wasm files are served (default: next to its module). */
  wasmPaths?: string;
  /** 'fit' (default): fit the image itself; otherwise restore a degraded copy of it. */
  task?: WebTask;
  /** Super-resolution factor (default 4). */
  scale?: number;
  /** Denoising: Gaussian noise sigma on the [0, 1] scale (default 0.1), seeded by `seed`. */
  sigma?: number;
}

export type WebTask = 'fit' | 'superres' | 'denoise';

export type ToWorker =
  | { type: 'fit'; id: number; req: FitRequest }
  | { type: 'stop'; id: number }
  | { type: 'bundle'; id: number }
  /** Tests only: destroys the WebGPU device, as a driver reset would. */
  | { type: 'lose-device' };

export type ErrorKind = 'user' | 'device-lost' | 'internal';

/** For a restoration, psnr/finalPsnr/ssim are measured against the truth. */
export interface RunSummary {
  psnr: number;
  finalPsnr: number;
  ssim?: number;
  iters: number;
  /** Wall time of the steps, in seconds. */
  seconds: number;
  stopped: boolean;
  /** Where a target PSNR was reached (FitResult.reached), or null. */
  reached?: { psnr: number; iteration: number; seconds: number } | null;
  /** Where each requested milestone was first measured (FitResult.milestones), keyed by its PSNR. */
  milestones?: Record<string, { psnr: number; iteration: number; seconds: number }>;
  backend: string;
  config: InrConfig;
}

export type FromWorker =
  | {
      type: 'started';
      id: number;
      backend: string;
      config: InrConfig;
      prior: { name: string; fromCache: string[] } | null;
    }
  | { type: 'step'; id: number; event: StepEvent }
  | { type: 'preview'; id: number; it: number; image?: Image; signal?: Signal; truth?: { psnr: number; ssim: number } }
  | { type: 'observation'; id: number; image: Image }
  | { type: 'done'; id: number; summary: RunSummary }
  | { type: 'bundle'; id: number; zip: Uint8Array; fileName: string }
  | { type: 'error'; id: number; kind: ErrorKind; message: string };
