// The one step event of every training loop strainer runs — a fit, a pretraining, an evaluation's fits,
// the browser's fit worker — so a progress bar, a chart or a log line is written once for all of them.
// A callback may return false to stop after this step.

export interface StepEvent {
  /** The update just made, 0-based. */
  it: number;
  /** The iteration limit of the run. */
  iters: number;
  /** PSNR (dB, on the [0, 1] scale) measured before this update: over the whole signal when the step saw
   *  every sample, else over its batch (an estimate); a pretraining's mean over its signals. */
  psnr: number;
  /** The whole signal's PSNR, when this step knows it: `psnr` itself for a step over every sample, or
   *  a whole-signal evaluation a fit made after this step (random batches, the fast recipe). What a
   *  "time to 40 dB" is read from. */
  whole?: number;
  /** The loss measured before this update, in the target range (a pretraining's sum over signals). */
  loss: number;
  /** This step's time in milliseconds. */
  ms: number;
  /** Wall time since the run's first step began, in seconds. */
  seconds: number;
}

/** Called after every step; returning false stops the run after it. */
export type OnStep = (e: StepEvent) => void | boolean | Promise<void | boolean>;
