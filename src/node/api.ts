// What a Node program needs, in a few calls (the `strainer/node` entry): read an image file (clips and
// volumes: ./signals.ts), load a prior (a folder, or the name of one shipped in the package), fit a
// signal of any dimension, pretrain a prior, save a fit. Every call resolves its settings through the
// same functions as the CLI (resolveFit, splitSignals, fitBundle), and `strainer pretrain` is a call of
// pretrain, so library and command line accept, refuse and report alike.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cropCenterSquare, resizeArea, type Image, type ChannelMode } from '../data/image.ts';
import { asSignal, describeSignal, padEnd, type Signal } from '../data/signal.ts';
import { SILENCE } from '../data/wav.ts';
import { splitSignals, type SignalSplit } from './datasets.ts';
import { firstOmega, type InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { Backend } from '../runtime/session.ts';
import { fitSignal, psnrAt } from '../train/fit.ts';
import { resolveFit, type ModelOverrides } from '../train/fit-config.ts';
import type { TargetRange } from '../train/grid.ts';
import type { Prior } from '../train/prior.ts';
import type { State } from '../train/trainer.ts';
import { pretrainOrt, stackedConfig } from '../train/pretrain.ts';
import type { PretrainEngine, PretrainOptions, PretrainResult } from '../train/pretrain-api.ts';
import { transferGain } from '../train/transfer.ts';
import { loadPrior as loadPriorBundle, buildPriorBundle, type BundledPrior } from '../export/prior.ts';
import { fitBundle, manifestSignal } from '../export/fit-bundle.ts';
import { manifestBytes, type BuiltBundle, type FileSource, type BundleLoadOptions } from '../export/bundle.ts';
import { UserError } from '../util/errors.ts';
import { sha256Hex } from '../util/sha256.ts';
import { chooseBackend, type Ep, type NodeBackendName } from './backend.ts';
import { dirSource, writeBundleDir, checkOutDir } from './fs.ts';
import { saveCheckpoint, loadCheckpoint } from './checkpoint.ts';
import { loadImage } from './read.ts';

/** Where the priors shipped with the package live (models/ at the package root, beside dist/ and src/). */
export const SHIPPED_PRIORS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

/** Names of the priors shipped with the package (e.g. 'mri-64'). */
export function shippedPriors(): string[] {
  if (!existsSync(SHIPPED_PRIORS_DIR)) return [];
  return readdirSync(SHIPPED_PRIORS_DIR)
    .filter((n) => existsSync(join(SHIPPED_PRIORS_DIR, n, 'manifest.json')))
    .sort();
}

export interface ReadImageOptions {
  /** Centre square, area-resized to res x res (the CLI's --res). Absent: the image as stored. */
  res?: number;
  /** 'auto' (default: gray when R = G = B everywhere), 1 or 3. */
  channels?: ChannelMode;
}

/** A PNG or JPEG file as an Image in [0, 1]; a missing, truncated or non-image file is a UserError. */
export function readImage(path: string, o: ReadImageOptions = {}): Image {
  if (!existsSync(path)) throw new UserError(`${path}: no such file`);
  const img = loadImage(path, { channels: o.channels ?? 'auto' });
  if (o.res === undefined) return img;
  if (!Number.isInteger(o.res) || o.res < 2 || o.res > 4096)
    throw new UserError(`res must be an integer between 2 and 4096, got ${o.res}`);
  const sq = cropCenterSquare(img);
  return sq.width === o.res ? sq : resizeArea(sq, o.res, o.res);
}

/** The folder a prior argument names: a path, or the name of a prior shipped in the package ('mri-64'). */
export function priorDir(dirOrName: string): string {
  const shipped =
    !isAbsolute(dirOrName) && !dirOrName.includes('/') && !dirOrName.includes('\\') && !existsSync(dirOrName);
  const dir = shipped ? join(SHIPPED_PRIORS_DIR, dirOrName) : resolve(dirOrName);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const names = shippedPriors();
    throw new UserError(
      shipped
        ? `no prior named '${dirOrName}' is shipped with strainer (shipped: ${names.join(', ') || 'none'}); pass a folder path for your own`
        : `${dirOrName}: no such prior folder`,
    );
  }
  return dir;
}

/** A prior bundle from a folder, by the name of a prior shipped in the package ('mri-64'), or from any
 *  FileSource; every file is checked against the manifest, and with `publicKey` the manifest's signature. */
export async function loadPrior(dirOrName: string | FileSource, o: BundleLoadOptions = {}): Promise<BundledPrior> {
  return loadPriorBundle(typeof dirOrName === 'string' ? dirSource(priorDir(dirOrName)) : dirOrName, o);
}

export interface StepReport {
  it: number;
  iters: number;
  psnr: number;
  loss: number;
  ms: number;
}

export interface NodeFitOptions {
  /** A loaded prior, a prior folder, or a shipped prior's name; absent: a randomly initialised SIREN. */
  prior?: Prior | string | null;
  /** Iterations (default 300). */
  iters?: number;
  /** Adam learning rate (default 1e-4, the paper's). */
  lr?: number;
  /** Encoder learning rate (default lr); 0 keeps a prior's encoder fixed. */
  encoderLr?: number;
  seed?: number;
  /** Architecture without a prior (default the paper's SIREN); with one it must match the prior's. */
  model?: ModelOverrides;
  /** Target range (default the prior's, else 'unit' = [0, 1]). */
  range?: TargetRange;
  /** A Backend, or 'ort' (onnxruntime-node, default) / 'reference' (the slow float64 interpreter). */
  backend?: Backend | NodeBackendName;
  /** onnxruntime-node's execution provider: 'auto' (default: webgpu on a hardware adapter, else cpu), 'cpu', 'webgpu', 'cuda'. */
  ep?: Ep;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** Coordinates per step (default: the whole grid, or random batches of MAX_STEP_ROWS above that). */
  batch?: number;
  /** A clip's sample rate (Hz): checked against an audio prior's, recorded by saveFit. */
  rate?: number;
  /** After every update; return false to stop early. */
  onStep?: (s: StepReport) => void | boolean | Promise<void | boolean>;
}

export interface NodeFitResult<S extends Image | Signal = Image> {
  /** PSNR (dB, [0,1] scale) at the iterations `strainer fit --json` reports ("0", "10", "50", ...). */
  psnr: Record<string, number>;
  /** PSNR before every update. */
  curve: number[];
  /** PSNR of the final model's rendering. */
  finalPsnr: number;
  backend: string;
  config: InrConfig;
  range: TargetRange;
  iters: number;
  lr: number;
  prior: string | null;
  params: Params;
  /** The whole final train state (parameters and Adam moments): what saveFit stores. */
  state: State;
  /** The final rendering, unclamped, same size and channels as the signal. */
  output: S;
  stepMs: number[];
  /** Coordinates per step when fewer than the grid's samples (random batches). */
  batch?: number;
  /** The lattice a clip sat on (an audio prior's length), when not its own. */
  lattice?: number[];
  rate?: number;
}

/** A built bundle's files as a FileSource (read back exactly as a folder would be). */
function bundleSource(b: BuiltBundle, where: string): FileSource {
  const files: Record<string, Uint8Array> = { ...b.files, 'manifest.json': manifestBytes(b.manifest) };
  return {
    where,
    read: async (n) => {
      const f = files[n];
      if (!f) throw new Error(`${n} not found`);
      return f;
    },
  };
}

/** The runtime a call asked for, through the one chooser the CLI uses too (src/node/backend.ts). */
async function backendOf(o: Pick<NodeFitOptions, 'backend' | 'ep' | 'threads'>): Promise<Backend> {
  if (typeof o.backend === 'object') return o.backend;
  return (
    await chooseBackend({
      engine: o.backend ?? 'ort',
      ...(o.ep ? { ep: o.ep } : {}),
      ...(o.threads ? { threads: o.threads } : {}),
    })
  ).backend;
}

/** Fits an INR to an image, clip or volume (from a prior's encoder, or from a random SIREN; a clip
 *  without a prior gets SIREN's audio model, fit-config.ts AUDIO_CONFIG) with the paper's protocol. */
export async function fit<S extends Image | Signal>(image: S, o: NodeFitOptions = {}): Promise<NodeFitResult<S>> {
  const prior = typeof o.prior === 'string' ? await loadPrior(o.prior) : (o.prior ?? null);
  const sig = asSignal(image);
  const r = resolveFit({
    prior,
    model: o.model,
    channels: sig.channels,
    dims: sig.dims,
    iters: o.iters,
    lr: o.lr,
    encoderLr: o.encoderLr,
    range: o.range,
    batch: o.batch,
    ...(o.rate !== undefined ? { rate: o.rate } : {}),
  });
  const res = await fitSignal(image, {
    config: r.config,
    iters: r.iters,
    lr: r.lr,
    seed: o.seed ?? 0,
    backend: await backendOf(o),
    range: r.range,
    ...(r.init ? { init: r.init } : {}),
    ...(r.encoderLr !== undefined ? { encoderLr: r.encoderLr } : {}),
    ...(r.batch !== undefined ? { batch: r.batch } : {}),
    ...(r.lattice ? { lattice: r.lattice } : {}),
    keepState: true,
    ...(o.onStep
      ? {
          onStep: (it: number, psnr: number, loss: number, ms: number) =>
            o.onStep!({ it, iters: r.iters, psnr, loss, ms }),
        }
      : {}),
  });
  return {
    psnr: psnrAt(res, r.iters),
    curve: res.psnr,
    finalPsnr: res.finalPsnr,
    backend: res.backend,
    config: r.config,
    range: r.range,
    iters: res.psnr.length,
    lr: r.lr,
    prior: prior?.name ?? null,
    params: res.params,
    state: res.state!,
    output: { ...image, data: res.output },
    stepMs: res.stepMs,
    ...(r.batch !== undefined ? { batch: r.batch } : {}),
    ...(r.lattice ? { lattice: r.lattice } : {}),
    ...(o.rate !== undefined ? { rate: o.rate } : {}),
  };
}

/** The fitted signal as a bundle (`strainer fit --out`'s layout: manifest, weights.bin with the train
 *  state, inference.onnx, train_step.onnx), written atomically into `dir`; refuses a non-empty folder
 *  unless `force`. */
export async function saveFit(
  r: NodeFitResult<Image | Signal>,
  dir: string,
  o: { name?: string; force?: boolean; source?: string; extra?: Record<string, Uint8Array> } = {},
): Promise<BuiltBundle> {
  checkOutDir(dir, o.force ?? false);
  const last = r.curve[r.curve.length - 1];
  const out = asSignal(r.output);
  const bundle = await fitBundle({
    name: o.name ?? basename(resolve(dir)),
    config: r.config,
    range: r.range,
    lr: r.lr,
    iters: r.iters,
    state: r.state,
    signal: manifestSignal(out.dims, out.channels, {
      ...(o.source ? { source: o.source } : {}),
      ...(r.rate !== undefined ? { rate: r.rate } : {}),
      ...(r.lattice ? { lattice: r.lattice } : {}),
    }),
    ...(r.batch !== undefined ? { batch: r.batch } : {}),
    finalLoss: last === undefined ? NaN : 10 ** (-last / 10),
    engine: r.backend,
    eval: { psnr: r.finalPsnr, ...(r.prior ? { prior: r.prior } : {}) },
    ...(o.extra ? { extra: o.extra } : {}),
  });
  writeBundleDir(dir, bundle, o.force ?? false);
  return bundle;
}

export interface NodePretrainOptions {
  /** Side of the square images (default 64; the paper: 178); clips keep their samples. */
  res?: number;
  /** Training signals (default 10, STRAINER-10). */
  n?: number;
  /** Held-out signals for the transfer-gain measurement stored in the manifest (default 5). */
  test?: number;
  /** Half-open range of a data source to draw from: positions in a folder or stack, z in a volume. */
  select?: [number, number];
  /** Images: 'auto' (gray when every image is), 1 or 3; clips: 'auto' (as stored, all of one count) or 1 (mixed down to mono). */
  channels?: ChannelMode;
  /** With given signals: held-out signals for that measurement (clips keep the prior's time scale). */
  testSignals?: readonly { id: string; signal: Image | Signal }[];
  /** Ids of the given training signals, recorded in the manifest (default image0, image1, ...). */
  ids?: readonly string[];
  /** What the given signals are, with their files' sha256 (recorded in the manifest's `data`). */
  data?: { description: string; files: { path: string; sha256: string }[] };
  /** Pretraining iterations (default 5000, the paper's). */
  iters?: number;
  lr?: number;
  seed?: number;
  /** Architecture (default the paper's SIREN; clips SIREN's audio model, fit-config.ts AUDIO_CONFIG). */
  model?: ModelOverrides;
  /** Default 'unit'; clips 'pm1' (the samples themselves, fit-config.ts AUDIO_RANGE). */
  range?: TargetRange;
  /** Samples per second of given clips (a folder of clips says its own); recorded and checked when fitting. */
  rate?: number;
  /** Iterations of the held-out transfer measurement (default 100; 0: skip). */
  gainIters?: number;
  /** Iterations at which that measurement reports PSNR (default 0, 50, 100, 200, and gainIters). */
  gainAt?: readonly number[];
  /** The iteration whose gain is the manifest's headline `gain_db` (default gainIters). */
  gainHeadline?: number;
  /** Prior name in the manifest (default: the basename of `out`, or 'prior'). */
  name?: string;
  /** Write the bundle here (atomically; a non-empty folder only with `force`, checked before training). */
  out?: string;
  force?: boolean;
  /** Another engine than onnxruntime, e.g. TensorFlow.js's (src/tfjs/engine.ts pretrainTfjs); the held-out
   *  measurement still runs on `backend`. */
  engine?: PretrainEngine;
  /** onnxruntime engine: the full train state every `every` iterations (0: never) to `path` (default
   *  `<out>.checkpoint`), deleted once the prior is written; with `resume`, continue from it. */
  checkpoint?: { every: number; path?: string; resume?: boolean };
  backend?: Backend | NodeBackendName;
  /** As in NodeFitOptions. */
  ep?: Ep;
  threads?: number;
  onStep?: (it: number, loss: number, meanPsnr: number, stepMs: number) => void;
  /** Lines saying what is trained on, a resume, the held-out measurement (default: none). */
  log?: (line: string) => void;
}

export interface NodePretrainResult {
  prior: BundledPrior;
  bundle: BuiltBundle;
  loss: number[];
  meanPsnr: number[];
  stepMs: number[];
  /** Per-signal decoders `decoder.{i}.weight|bias` (not in the prior; e.g. for saveTfjsPretrained). */
  decoders: Params;
  engine: string;
  /** The held-out measurement (also in the manifest's `eval`), when made. */
  gain?: Record<string, unknown>;
  split: {
    train: readonly { id: string; image: Image | Signal }[];
    test: readonly { id: string; image: Image | Signal }[];
  };
}

/** The training and held-out signals of either input, what they are (the manifest's `data`) and a clip's rate. */
async function pretrainSplit(
  data: string | readonly (Image | Signal)[],
  o: NodePretrainOptions,
): Promise<
  Pick<SignalSplit, 'train' | 'test' | 'rate'> & {
    data?: { description: string; files: { path: string; sha256: string }[] };
  }
> {
  if (typeof data !== 'string') {
    return {
      train: data.map((image, i) => ({ id: o.ids?.[i] ?? `image${i}`, image })),
      test: (o.testSignals ?? []).map((t) => ({ id: t.id, image: t.signal })),
      ...(o.data ? { data: o.data } : {}),
    };
  }
  const s = await splitSignals(data, {
    res: o.res ?? 64,
    n: o.n ?? 10,
    test: o.test ?? 5,
    ...(o.select ? { select: o.select } : {}),
    ...(o.channels ? { channels: o.channels } : {}),
  });
  if (s.rate !== undefined && o.rate !== undefined && s.rate !== o.rate)
    throw new UserError(`${data}: the clips are sampled at ${s.rate} Hz, not the ${o.rate} Hz asked for`);
  return {
    train: s.train,
    test: s.test,
    ...(s.rate !== undefined ? { rate: s.rate } : {}),
    data: { description: s.description, files: s.files },
  };
}

const sha256Of = (s: Signal): Promise<string> =>
  sha256Hex(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength));

/** Pretrains a STRAINER prior (shared encoder, N decoders) on a data source (a folder of images or of
 *  WAV clips, a NIfTI volume or a .npy stack, split as `strainer pretrain` splits it: the CLI calls
 *  this) or on given signals of one size and dimension; clips of different lengths are zero-padded at
 *  the end to the longest (the reference recipe), and the prior records that length and the clips'
 *  rate, so clips fitted from it keep its time scale. The held-out gain is measured on `backend`. */
export async function pretrain(
  data: string | readonly (Image | Signal)[],
  o: NodePretrainOptions = {},
): Promise<NodePretrainResult> {
  const log = o.log ?? ((): void => {});
  const out = o.out === undefined ? undefined : resolve(o.out);
  const name = o.name ?? (out ? basename(out) : 'prior');
  const ck = o.checkpoint,
    resume = ck?.resume ?? false;
  if (ck && o.engine) throw new UserError('checkpoints and --resume need the onnxruntime engine');
  const ckptPath = ck ? (ck.path ?? (out ? `${out}.checkpoint` : undefined)) : undefined;
  if (ck && ckptPath === undefined) throw new UserError('pretrain: a checkpoint needs a path (or an out folder)');
  if (out && resume && existsSync(join(out, 'manifest.json')) && !o.force)
    throw new UserError(`${out} already holds a finished prior; nothing to resume (pass --force to retrain)`);
  if (out && !resume) checkOutDir(out, o.force ?? false);

  const split = await pretrainSplit(data, o);
  let signals = split.train.map((s) => asSignal(s.image));
  if (signals.length === 0) throw new UserError('pretrain needs at least one signal');
  const inDim = signals[0].dims.length;
  let described = split.data;
  if (inDim === 1) {
    const longest = Math.max(...signals.map((s) => s.dims[0]));
    if (typeof data === 'string' && described && signals.some((s) => s.dims[0] !== longest))
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
  const dims = signals[0].dims,
    rate = split.rate ?? o.rate,
    n = signals.length;
  // A pretraining's model, range, iterations and learning rate resolve as a fit's without a prior (one resolver).
  const { config, range, iters, lr } = resolveFit({
    model: o.model,
    channels: signals[0].channels,
    dims,
    iters: o.iters ?? 5000,
    lr: o.lr,
    range: o.range,
  });
  const seed = o.seed ?? 0;
  const backend = await backendOf(o);
  const kind = ['signals', 'clips', 'images', 'volumes'][inDim] ?? 'signals';
  log(
    `pretrain ${name}: ${n} ${kind} of ${describeSignal(signals[0])}${rate !== undefined ? ` at ${rate} Hz` : ''}, ${split.test.length} held out; ${config.kind} width ${config.width} depth ${config.depth} omega ${config.omega}${firstOmega(config) !== config.omega ? ` omega0 ${firstOmega(config)}` : ''}, targets ${range}`,
  );

  const opts: PretrainOptions = { config, iters, lr, seed, range, ...(o.onStep ? { onStep: o.onStep } : {}) };
  let result: PretrainResult;
  if (o.engine) result = await o.engine(signals, opts);
  else {
    // What a checkpoint must have been made with to be resumed: the stacked model, the data and the recipe.
    const recipe = {
      config: stackedConfig(config, n),
      data: described?.files.map((f) => f.sha256) ?? (await Promise.all(signals.map(sha256Of))),
      train: split.train.map((s) => s.id),
      lr,
      seed,
      targets: range,
      res: dims[dims.length - 1],
      ...(inDim !== 2 ? { dims } : {}),
      ...(rate !== undefined ? { rate } : {}),
    };
    const resumed = resume ? await loadCheckpoint(ckptPath!, recipe) : null;
    if (resume)
      log(
        resumed
          ? `resuming from ${ckptPath} at iteration ${resumed.meta.step}`
          : `no checkpoint at ${ckptPath}; starting from scratch`,
      );
    result = await pretrainOrt(backend, signals, opts, {
      ...(resumed
        ? { resume: { state: resumed.state, loss: resumed.meta.loss, meanPsnr: resumed.meta.meanPsnr } }
        : {}),
      ...(ck && ck.every > 0
        ? {
            checkpoint: {
              every: ck.every,
              save: (state: State, loss: number[], meanPsnr: number[]) =>
                saveCheckpoint(ckptPath!, state, { recipe, iters, step: state.step.data[0], loss, meanPsnr }),
            },
          }
        : {}),
    });
  }

  const gainIters = o.gainIters ?? 100;
  const finalPsnr = result.meanPsnr[result.meanPsnr.length - 1];
  let gain: Record<string, unknown> | undefined;
  if (gainIters > 0 && split.test.length > 0) {
    log(`measuring transfer gain at iteration ${gainIters} on ${split.test.length} held-out ${kind}...`);
    gain = {
      ...(await transferGain(backend, config, result.encoder, split.test, {
        iters: gainIters,
        lr,
        seed,
        range,
        ...(inDim === 1 ? { lattice: dims } : {}),
        ...(o.gainAt ? { at: o.gainAt } : {}),
        ...(o.gainHeadline !== undefined ? { headline: o.gainHeadline } : {}),
      })),
      pretrain_mean_psnr_final: finalPsnr,
    };
  }
  const bundle = await buildPriorBundle({
    name,
    config,
    range,
    encoder: result.encoder,
    res: dims[dims.length - 1],
    lr,
    iters,
    signals: n,
    engine: result.engine,
    ...(inDim !== 2 ? { dims } : {}),
    ...(rate !== undefined ? { rate } : {}),
    finalLoss: result.loss[result.loss.length - 1],
    ...(described
      ? { data: { ...described, train: split.train.map((s) => s.id), test: split.test.map((s) => s.id) } }
      : {}),
    ...(gain ? { eval: gain } : {}),
  });
  if (out) writeBundleDir(out, bundle, (o.force ?? false) || resume);
  if (ckptPath && existsSync(ckptPath)) rmSync(ckptPath);
  const prior = await loadPriorBundle(bundleSource(bundle, out ?? name));
  return {
    prior,
    bundle,
    loss: result.loss,
    meanPsnr: result.meanPsnr,
    stepMs: result.stepMs,
    decoders: result.decoders,
    engine: result.engine,
    ...(gain ? { gain } : {}),
    split: { train: split.train, test: split.test },
  };
}
