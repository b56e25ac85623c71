// The one pretraining recipe, platform-neutral: the training signals (clips zero-padded at the end to
// the longest, the reference recipe), the model resolved as a fit's (src/train/plan.ts), an engine run
// (onnxruntime through any Backend by default, resumable through a CheckpointStore), the held-out
// transfer gain, and the prior bundle. 'strainer/node' adds data sources, files and a file store;
// `strainer pretrain` and `strainer eval`'s STRAINER-1 both come through here.
import type { Image } from '../data/pixels.ts';
import { asSignal, describeSignal, padEnd, type Signal } from '../data/signal.ts';
import { SILENCE } from '../data/wav.ts';
import { firstOmega } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { Backend } from '../runtime/session.ts';
import type { OnStep } from '../train/events.ts';
import { planFit, checkSetting, type ModelOverrides } from '../train/plan.ts';
import type { TargetRange } from '../train/grid.ts';
import type { Prior } from '../train/prior.ts';
import { pretrainOrt, stackedConfig } from '../train/pretrain.ts';
import type { EngineResult, PretrainEngine } from '../train/pretrain-api.ts';
import type { DriverFactory, State } from '../train/trainer.ts';
import { transferGain } from '../train/transfer.ts';
import { buildPriorBundle, loadPrior, type BundledPrior } from '../export/prior.ts';
import { bundleSource, type BuiltBundle } from '../export/bundle.ts';
import type { CheckpointMeta } from '../export/checkpoint.ts';
import { UserError } from '../util/errors.ts';
import { sha256Hex } from '../util/sha256.ts';

/** Where a pretraining keeps its resumable state (Node: a file, src/node/checkpoint.ts); its owner
 *  removes it once the prior is stored. */
export interface CheckpointStore {
  /** Names it in messages (a path). */
  readonly where: string;
  /** The saved state, if there is one; it must have been made with `recipe` (else a UserError). */
  load(recipe: Record<string, unknown>): Promise<{ state: State; meta: CheckpointMeta } | null>;
  save(state: State, meta: CheckpointMeta): Promise<void>;
}

/** One named signal of a pretraining. */
export interface NamedSignal {
  id: string;
  signal: Image | Signal;
}

/** What a prior is trained on: its training signals, the held-out ones its gain is measured on, and
 *  what they are (the manifest's `data`: a description and each file's sha256). */
export interface PretrainData {
  train: readonly NamedSignal[];
  test?: readonly NamedSignal[];
  /** Samples per second of clips (recorded; clips fitted from the prior must match). */
  rate?: number;
  data?: { description: string; files: { path: string; sha256: string }[] };
}

export interface PretrainOptions {
  /** The prior's name in its manifest (default 'prior'). */
  name?: string;
  /** Pretraining iterations (default 5000, the paper's). */
  iters?: number;
  /** Adam learning rate (default 1e-4, the paper's). */
  lr?: number;
  seed?: number;
  /** Architecture (default the paper's SIREN; clips SIREN's audio model, src/train/plan.ts AUDIO_CONFIG). */
  model?: ModelOverrides;
  /** Default 'unit'; clips 'pm1' (the samples themselves). */
  range?: TargetRange;
  /** Iterations of the held-out transfer measurement (default 100; 0: skip). */
  gainIters?: number;
  /** Iterations at which that measurement reports PSNR (default 0, 50, 100, 200, and gainIters). */
  gainAt?: readonly number[];
  /** The iteration whose gain is the manifest's headline `gain_db` (default gainIters). */
  gainHeadline?: number;
  /** Runs the onnxruntime engine and the held-out measurement. */
  backend?: Backend;
  /** What runs the engine's and the held-out fits' train steps (default: one session on `backend`). */
  driver?: DriverFactory;
  /** Another engine than onnxruntime (TensorFlow.js's: src/tfjs/engine.ts); no checkpoints with it. */
  engine?: PretrainEngine;
  /** The full train state every `every` iterations into `store`; with `resume`, continue from it. */
  checkpoint?: { every: number; store: CheckpointStore; resume?: boolean };
  onStep?: OnStep;
  /** Lines saying what is trained on, a resume, the held-out measurement (default: none). */
  log?: (line: string) => void;
}

export interface PretrainResult {
  prior: BundledPrior;
  bundle: BuiltBundle;
  /** Summed loss and mean PSNR over the training signals before each update, and each step's time. */
  loss: number[];
  psnr: number[];
  stepMs: number[];
  /** Per-signal decoders `decoder.{i}.weight|bias` (not in the prior; e.g. for saveTfjsPretrained). */
  decoders: Params;
  engine: string;
  /** The held-out measurement (also in the manifest's `eval`), when made. */
  gain?: Record<string, unknown>;
}

/** The training signals as one pretraining takes them, all of one size (clips zero-padded at the end to
 *  the longest, the reference recipe), and the data description saying so. */
export function trainingSignals(d: PretrainData): { signals: Signal[]; described: PretrainData['data'] } {
  let signals = d.train.map((s) => asSignal(s.signal));
  if (signals.length === 0) throw new UserError('pretrain needs at least one signal');
  checkSetting('signals', signals.length);
  let described = d.data;
  if (signals[0].dims.length === 1) {
    const longest = Math.max(...signals.map((s) => s.dims[0]));
    if (described && signals.some((s) => s.dims[0] !== longest))
      described = {
        ...described,
        description: `${described.description}; training clips zero-padded at the end to ${longest} samples`,
      };
    signals = signals.map((s) => (s.dims[0] === longest ? s : padEnd(s, longest, SILENCE)));
  }
  for (const s of signals)
    if (s.dims.join('x') !== signals[0].dims.join('x') || s.channels !== signals[0].channels)
      throw new UserError(
        `pretrain: every signal must have one size and channel count; got ${describeSignal(s)} and ${describeSignal(signals[0])}`,
      );
  return { signals, described };
}

/** A signal's bytes' sha256: what identifies given (not file-read) training data in a checkpoint. */
export const sha256Of = (s: Signal): Promise<string> =>
  sha256Hex(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength));

/** Pretrains a STRAINER prior (shared encoder, N decoders) on `d.train` and builds its bundle. */
export async function pretrainPrior(d: PretrainData, o: PretrainOptions = {}): Promise<PretrainResult> {
  const log = o.log ?? ((): void => {});
  const name = o.name ?? 'prior';
  const backend = o.backend;
  if (!backend)
    throw new UserError("pretraining needs a backend: use pretrain from 'strainer/node', or pass { backend }");
  if (o.checkpoint && o.engine) throw new UserError('checkpoints and --resume need the onnxruntime engine');
  const { signals, described } = trainingSignals(d);
  const inDim = signals[0].dims.length;
  const dims = signals[0].dims,
    rate = d.rate,
    n = signals.length,
    test = d.test ?? [];
  // A pretraining's model, range, iterations and learning rate resolve as a fit's without a prior (one resolver).
  const plan = planFit(
    { dims, channels: signals[0].channels },
    { model: o.model, iters: o.iters ?? 5000, lr: o.lr, seed: o.seed, range: o.range },
  );
  const { config, range, iters, lr, seed } = plan;
  const kind = ['signals', 'clips', 'images', 'volumes'][inDim] ?? 'signals';
  const w0 = firstOmega(config) !== config.omega ? ` omega0 ${firstOmega(config)}` : '';
  log(
    `pretrain ${name}: ${n} ${kind} of ${describeSignal(signals[0])}${rate !== undefined ? ` at ${rate} Hz` : ''}, ${test.length} held out; ${config.kind} width ${config.width} depth ${config.depth} omega ${config.omega}${w0}, targets ${range}`,
  );

  const opts = { config, iters, lr, seed, range, onStep: o.onStep };
  let result: EngineResult;
  if (o.engine) result = await o.engine(signals, opts);
  else {
    const ck = o.checkpoint;
    // What a checkpoint must have been made with to be resumed: the stacked model, the data and the recipe.
    const recipe = {
      config: stackedConfig(config, n),
      data: described?.files.map((f) => f.sha256) ?? (await Promise.all(signals.map(sha256Of))),
      train: d.train.map((s) => s.id),
      lr,
      seed,
      targets: range,
      res: dims[dims.length - 1],
      ...(inDim !== 2 ? { dims } : {}),
      ...(rate !== undefined ? { rate } : {}),
    };
    const resumed = ck?.resume ? await ck.store.load(recipe) : null;
    if (ck?.resume)
      log(
        resumed
          ? `resuming from ${ck.store.where} at iteration ${resumed.meta.step}`
          : `no checkpoint at ${ck.store.where}; starting from scratch`,
      );
    const save = (state: State, loss: number[], psnr: number[]): Promise<void> =>
      ck!.store.save(state, { recipe, iters, step: state.step.data[0], loss, meanPsnr: psnr });
    result = await pretrainOrt(backend, signals, opts, {
      resume: resumed ? { state: resumed.state, loss: resumed.meta.loss, psnr: resumed.meta.meanPsnr } : undefined,
      checkpoint: ck && ck.every > 0 ? { every: ck.every, save } : undefined,
      driver: o.driver,
    });
  }

  const trained: Prior = { name, config, range, encoder: result.encoder, dims: [...dims], rate };
  const gainIters = o.gainIters ?? 100;
  let gain: Record<string, unknown> | undefined;
  if (gainIters > 0 && test.length > 0) {
    log(`measuring transfer gain at iteration ${gainIters} on ${test.length} held-out ${kind}...`);
    gain = {
      ...(await transferGain(backend, trained, test, {
        iters: gainIters,
        lr,
        seed,
        at: o.gainAt,
        headline: o.gainHeadline,
        driver: o.driver,
      })),
      pretrain_mean_psnr_final: result.psnr[result.psnr.length - 1],
    };
  }
  const bundle = await buildPriorBundle({
    name,
    config,
    range,
    encoder: result.encoder,
    res: dims[dims.length - 1],
    lr,
    iters: result.loss.length,
    signals: n,
    engine: result.engine,
    dims: inDim !== 2 ? dims : undefined,
    rate,
    finalLoss: result.loss[result.loss.length - 1],
    data: described ? { ...described, train: d.train.map((s) => s.id), test: test.map((s) => s.id) } : undefined,
    eval: gain,
  });
  // The store is the caller's to clear once the prior is safely stored (strainer/node: after the write).
  const prior = await loadPrior(bundleSource(bundle, name), { onNote: () => {} });
  return {
    prior,
    bundle,
    loss: result.loss,
    psnr: result.psnr,
    stepMs: result.stepMs,
    decoders: result.decoders,
    engine: result.engine,
    gain,
  };
}
