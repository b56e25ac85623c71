// Inverse problems with an INR (paper Table 6): recover a clean image at the target resolution from a
// degraded observation by fitting the INR through a forward model (src/train/measure.ts) with
// fitSignal — box downsampling for 4x super-resolution, identity for denoising — optionally starting
// from a STRAINER prior. With a ground truth, PSNR and SSIM of the clamped rendering are recorded at
// chosen iterations (and every `evalEvery`, which also drives `onPreview`); evaluation time is excluded
// from the step times. Platform-neutral (no node:*): the CLI, the evaluation script and a web page call
// `restoreImage` with any Backend (onnxruntime-node, onnxruntime-web, the reference interpreter).
import type { Image } from '../data/pixels.ts';
import type { Backend } from '../runtime/session.ts';
import type { InrConfig } from '../model/config.ts';
import { runFit } from '../train/fit.ts';
import type { Prior } from '../train/prior.ts';
import { planFit, type ModelOverrides } from '../train/plan.ts';
import type { OnStep } from '../train/events.ts';
import type { TargetRange } from '../train/grid.ts';
import { IDENTITY, type Measurement } from '../train/programs.ts';
import { boxDownsample } from '../train/measure.ts';
import { clamp01, checkScale } from './degrade.ts';
import { psnr, ssim } from './ssim.ts';
import { UserError } from '../util/errors.ts';

export const RESTORE_TASKS = ['superres', 'denoise'] as const;
export type RestoreTask = (typeof RESTORE_TASKS)[number];

export interface RestoreOptions {
  task: RestoreTask;
  /** Super-resolution factor: the output is scale x the observation's size. Must be 1 (or absent) for denoising. */
  scale?: number;
  /** Model shape overrides (width, depth, omega; default the prior's or the paper's); outDim is taken
   *  from the image. With a prior they must match its architecture (planFit). */
  model?: ModelOverrides;
  prior?: Prior | null;
  iters: number;
  lr: number;
  seed: number;
  backend: Backend;
  /** Target range; default the prior's, else 'unit'. */
  range?: TargetRange;
  /** Ground truth at the output size: enables PSNR/SSIM recording. */
  truth?: Image;
  /** Iterations (updates done) at which to measure against the truth; the last iteration always is. */
  recordAt?: readonly number[];
  /** Also measure every `evalEvery` iterations (curves, time to reach a PSNR); 0 or absent: off. */
  evalEvery?: number;
  /** Called with the current restoration (clamped) at every measured iteration (live previews), with
   *  its quality when there is a truth. */
  onPreview?: (img: Image, iter: number, point: RestorePoint | null) => void | Promise<void>;
  /** Learning rate of the encoder (default `lr`); 0 freezes a prior's encoder (see FitOptions.encoderLr). */
  encoderLr?: number;
  /** After every update (its PSNR is the measured output's against the observation); false stops. */
  onStep?: OnStep;
}

/** Quality after `iter` updates; `ms` is the summed step time of those updates. */
export interface RestorePoint {
  iter: number;
  psnr: number;
  ssim: number;
  ms: number;
}

export interface RestoreResult {
  task: RestoreTask;
  scale: number;
  /** The restored image, clamped to [0, 1], at the output size. */
  image: Image;
  /** Against the truth, ascending in iter (empty without a truth). */
  points: RestorePoint[];
  final: { psnr: number; ssim: number } | null;
  /** Updates done (iters, unless onStep stopped early). */
  iters: number;
  stepMs: number[];
  backend: string;
  prior: string | null;
  /** The encoder's learning rate when it differed from `lr` (undefined: one rate for all). */
  encoderLr?: number;
  config: InrConfig;
}

/** Output size and forward model of a task for an observation. */
export function taskGeometry(
  obs: Image,
  task: RestoreTask,
  scale = task === 'superres' ? 4 : 1,
): { width: number; height: number; scale: number; measurement: Measurement } {
  switch (task) {
    case 'superres': {
      if (!Number.isInteger(scale) || scale < 2)
        throw new UserError(`--scale must be an integer of at least 2 for super-resolution, got ${scale}`);
      const width = obs.width * scale,
        height = obs.height * scale;
      return { width, height, scale, measurement: boxDownsample(height, width, obs.channels, scale) };
    }
    case 'denoise':
      if (scale !== 1)
        throw new UserError(`--scale applies to --task superres only (denoising keeps the size), got ${scale}`);
      return { width: obs.width, height: obs.height, scale: 1, measurement: IDENTITY };
    default:
      return task satisfies never;
  }
}

export async function restoreImage(obs: Image, o: RestoreOptions): Promise<RestoreResult> {
  const geo = taskGeometry(obs, o.task, o.scale);
  const { width, height } = geo;
  if (o.truth) {
    const t = o.truth;
    if (geo.scale > 1) checkScale(t.width, t.height, geo.scale, 'truth');
    if (t.width !== width || t.height !== height)
      throw new UserError(
        `the truth is ${t.width}x${t.height} but the restored image is ${width}x${height} (observation ${obs.width}x${obs.height} x scale ${geo.scale})`,
      );
    if (t.channels !== obs.channels)
      throw new UserError(`the truth has ${t.channels} channel(s), the observation ${obs.channels}`);
  }
  const prior = o.prior ?? null;
  const plan = planFit(
    { dims: [height, width], channels: obs.channels },
    // The fit goes through the forward model: the paper's recipe (the fast one fits the signal itself).
    {
      prior,
      model: o.model,
      recipe: 'paper',
      iters: o.iters,
      lr: o.lr,
      encoderLr: o.encoderLr,
      seed: o.seed,
      range: o.range,
    },
  );
  const evalEvery = o.evalEvery ?? 0;
  const recordAt = new Set((o.recordAt ?? []).filter((k) => k >= 0 && k <= plan.iters));
  const want = (k: number): boolean => recordAt.has(k) || (evalEvery > 0 && k % evalEvery === 0);

  const asImage = (data: Float32Array): Image => clamp01({ width, height, channels: obs.channels, data });
  const points: RestorePoint[] = [];
  let elapsed = 0;
  const measure = async (output: Float32Array, iter: number): Promise<void> => {
    const img = asImage(output);
    const point = o.truth ? { iter, psnr: psnr(img, o.truth), ssim: ssim(img, o.truth), ms: elapsed } : null;
    if (point) points.push(point);
    await o.onPreview?.(img, iter, point);
  };
  const sig = {
    width,
    height,
    channels: obs.channels,
    data: o.truth?.data ?? new Float32Array(width * height * obs.channels),
  };
  const r = await runFit(sig, plan, {
    backend: o.backend,
    measurement: geo.measurement,
    observed: obs,
    previewAt: o.truth || o.onPreview ? want : undefined,
    onPreview: o.truth || o.onPreview ? measure : undefined,
    onStep: (e) => {
      elapsed += e.ms;
      return o.onStep?.(e);
    },
  });
  const image = asImage(r.output.data);
  const done = r.iters;
  let final: RestoreResult['final'] = null;
  if (o.truth) {
    final = { psnr: psnr(image, o.truth), ssim: ssim(image, o.truth) };
    points.push({ iter: done, ...final, ms: elapsed });
  }
  await o.onPreview?.(image, done, points.at(-1) ?? null);
  return {
    task: o.task,
    scale: geo.scale,
    image,
    points,
    final,
    iters: done,
    stepMs: r.stepMs,
    backend: r.backend,
    prior: plan.prior,
    encoderLr: plan.encoderLr,
    config: plan.config,
  };
}
