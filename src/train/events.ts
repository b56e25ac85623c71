// The one step event of every training loop strainer runs — a fit, a pretraining, an evaluation's fits,
// the browser's fit worker — so a progress bar, a chart or a log line is written once for all of them.
// A callback may return false to stop after this step.

export interface StepEvent {
  /** The update just made, 0-based. */
  it: number;
  /** The iteration limit of the run. */
  iters: number;
  /** PSNR (dB, on the [0, 1] scale) measured before this update; a pretraining's mean over its signals. */
  psnr: number;
  /** The loss measured before this update, in the target range (a pretraining's sum over signals). */
  loss: number;
  /** This step's time in milliseconds. */
  ms: number;
  /** Wall time since the run's first step began, in seconds. */
  seconds: number;
}

/** Called after every step; returning false stops the run after it. */
export type OnStep = (e: StepEvent) => void | boolean | Promise<void | boolean>;
