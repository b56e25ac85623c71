// What a Node program needs, in a few calls (the `strainer/node` entry): read an image file, load a
// prior (a folder, or the name of one shipped in the package), fit a signal, pretrain a prior, save a
// fit. Every call resolves its settings through the same functions as the CLI (resolveFit,
// splitSource, fitBundle), so library and command line accept, refuse and report alike.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadImage, cropCenterSquare, resizeArea, type Image, type ChannelMode } from '../data/image.ts';
import { splitSource, type Split } from '../data/split.ts';
import { PAPER_CONFIG, validateConfig, type InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { Backend } from '../runtime/session.ts';
import { fitSignal, psnrAt } from '../train/fit.ts';
import { resolveFit, checkIters, checkLr, DEFAULT_LR, type ModelOverrides } from '../train/fit-config.ts';
import type { TargetRange } from '../train/grid.ts';
import type { Prior } from '../train/prior.ts';
import type { State } from '../train/trainer.ts';
import { pretrainOrt } from '../train/pretrain.ts';
import { transferGain } from '../train/transfer.ts';
import { loadPrior as loadPriorBundle, buildPriorBundle, type BundledPrior } from '../export/prior.ts';
import { fitBundle } from '../export/fit-bundle.ts';
import type { BuiltBundle, FileSource, BundleLoadOptions } from '../export/bundle.ts';
import { UserError } from '../util/errors.ts';
import { nodeBackend, type NodeBackendName } from './backend.ts';
import { dirSource, writeBundleDir, checkOutDir } from './fs.ts';

/** Where the priors shipped with the package live (models/ at the package root, beside dist/ and src/). */
export const SHIPPED_PRIORS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

/** Names of the priors shipped with the package (e.g. 'mri-64'). */
export function shippedPriors(): string[] {
  if (!existsSync(SHIPPED_PRIORS_DIR)) return [];
  return readdirSync(SHIPPED_PRIORS_DIR).filter((n) => existsSync(join(SHIPPED_PRIORS_DIR, n, 'manifest.json'))).sort();
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
  if (!Number.isInteger(o.res) || o.res < 2 || o.res > 4096) throw new UserError(`res must be an integer between 2 and 4096, got ${o.res}`);
  const sq = cropCenterSquare(img);
  return sq.width === o.res ? sq : resizeArea(sq, o.res, o.res);
}

/** The folder a prior argument names: a path, or the name of a prior shipped in the package ('mri-64'). */
export function priorDir(dirOrName: string): string {
  const shipped = !isAbsolute(dirOrName) && !dirOrName.includes('/') && !dirOrName.includes('\\') && !existsSync(dirOrName);
  const dir = shipped ? join(SHIPPED_PRIORS_DIR, dirOrName) : resolve(dirOrName);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const names = shippedPriors();
    throw new UserError(shipped
      ? `no prior named '${dirOrName}' is shipped with strainer (shipped: ${names.join(', ') || 'none'}); pass a folder path for your own`
      : `${dirOrName}: no such prior folder`);
  }
  return dir;
}

/** A prior bundle from a folder, by the name of a prior shipped in the package ('mri-64'), or from any
 *  FileSource; every file is checked against the manifest, and with `publicKey` the manifest's signature. */
export async function loadPrior(dirOrName: string | FileSource, o: BundleLoadOptions = {}): Promise<BundledPrior> {
  return loadPriorBundle(typeof dirOrName === 'string' ? dirSource(priorDir(dirOrName)) : dirOrName, o);
}

export interface StepReport { it: number; iters: number; psnr: number; loss: number; ms: number }

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
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** Coordinates per step (default: the whole image). */
  batch?: number;
  /** After every update; return false to stop early. */
  onStep?: (s: StepReport) => void | boolean | Promise<void | boolean>;
}

export interface NodeFitResult {
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
  /** The final rendering, unclamped, same size and channels as the image. */
  output: Image;
  stepMs: number[];
}

/** A built bundle's files as a FileSource (read back exactly as a folder would be). */
function bundleSource(b: BuiltBundle, where: string): FileSource {
  const files: Record<string, Uint8Array> = { ...b.files, 'manifest.json': new TextEncoder().encode(JSON.stringify(b.manifest, null, 2) + '\n') };
  return { where, read: async (n) => { const f = files[n]; if (!f) throw new Error(`${n} not found`); return f; } };
}

function backendOf(b: NodeFitOptions['backend'], threads?: number): Backend {
  return typeof b === 'object' ? b : nodeBackend(b ?? 'ort', threads);
}

/** Fits an INR to `image` (from a prior's encoder, or from a random SIREN) with the paper's protocol. */
export async function fit(image: Image, o: NodeFitOptions = {}): Promise<NodeFitResult> {
  const prior = typeof o.prior === 'string' ? await loadPrior(o.prior) : o.prior ?? null;
  const r = resolveFit({ prior, model: o.model, channels: image.channels, iters: o.iters, lr: o.lr, encoderLr: o.encoderLr, range: o.range });
  const res = await fitSignal(image, {
    config: r.config, iters: r.iters, lr: r.lr, seed: o.seed ?? 0, backend: backendOf(o.backend, o.threads), range: r.range,
    ...(r.init ? { init: r.init } : {}),
    ...(r.encoderLr !== undefined ? { encoderLr: r.encoderLr } : {}),
    ...(o.batch !== undefined ? { batch: o.batch } : {}),
    keepState: true,
    ...(o.onStep ? { onStep: (it: number, psnr: number, loss: number, ms: number) => o.onStep!({ it, iters: r.iters, psnr, loss, ms }) } : {}),
  });
  return {
    psnr: psnrAt(res, r.iters), curve: res.psnr, finalPsnr: res.finalPsnr, backend: res.backend,
    config: r.config, range: r.range, iters: res.psnr.length, lr: r.lr, prior: prior?.name ?? null,
    params: res.params, state: res.state!, output: { ...image, data: res.output }, stepMs: res.stepMs,
  };
}

/** The fitted signal as a bundle (`strainer fit --out`'s layout: manifest, weights.bin with the train
 *  state, inference.onnx, train_step.onnx), written atomically into `dir`; refuses a non-empty folder
 *  unless `force`. */
export async function saveFit(r: NodeFitResult, dir: string, o: { name?: string; force?: boolean; extra?: Record<string, Uint8Array> } = {}): Promise<BuiltBundle> {
  checkOutDir(dir, o.force ?? false);
  const last = r.curve[r.curve.length - 1];
  const bundle = await fitBundle({
    name: o.name ?? basename(resolve(dir)), config: r.config, range: r.range, lr: r.lr, iters: r.iters, state: r.state,
    signal: { height: r.output.height, width: r.output.width, channels: r.output.channels },
    finalLoss: last === undefined ? NaN : 10 ** (-last / 10), engine: r.backend,
    eval: { psnr: r.finalPsnr, ...(r.prior ? { prior: r.prior } : {}) },
    ...(o.extra ? { extra: o.extra } : {}),
  });
  writeBundleDir(dir, bundle, o.force ?? false);
  return bundle;
}

export interface NodePretrainOptions {
  /** Side of the square images (default 64; the paper: 178). */
  res?: number;
  /** Training images (default 10, STRAINER-10). */
  n?: number;
  /** Held-out images for the transfer-gain measurement stored in the manifest (default 5). */
  test?: number;
  /** Pretraining iterations (default 5000, the paper's). */
  iters?: number;
  lr?: number;
  seed?: number;
  model?: ModelOverrides;
  range?: TargetRange;
  /** Iterations of the held-out transfer measurement (default 100; 0: skip). */
  gainIters?: number;
  /** Prior name in the manifest (default: the basename of `out`, or 'prior'). */
  name?: string;
  /** Write the bundle here (atomically; a non-empty folder only with `force`). */
  out?: string;
  force?: boolean;
  backend?: Backend | NodeBackendName;
  threads?: number;
  onStep?: (it: number, loss: number, meanPsnr: number, stepMs: number) => void;
}

export interface NodePretrainResult {
  prior: BundledPrior;
  bundle: BuiltBundle;
  loss: number[];
  meanPsnr: number[];
  engine: string;
  /** The held-out measurement (also in the manifest's `eval`), when made. */
  gain?: Record<string, unknown>;
  split: Pick<Split, 'train' | 'test'>;
}

/** Pretrains a STRAINER prior (shared encoder, N decoders) on a data source (a folder of images, a NIfTI
 *  volume or a .npy stack, split as `strainer pretrain` splits it) or on given same-size images. */
export async function pretrain(data: string | readonly Image[], o: NodePretrainOptions = {}): Promise<NodePretrainResult> {
  const res = o.res ?? (typeof data === 'string' ? 64 : data[0]?.width ?? 0);
  const n = o.n ?? (typeof data === 'string' ? 10 : data.length);
  const split: Pick<Split, 'train' | 'test'> & { source?: Split['source'] } = typeof data === 'string'
    ? await splitSource(data, { res, n, test: o.test ?? 5 })
    : { train: data.map((image, i) => ({ id: `image${i}`, image })), test: [] };
  const signals = split.train.map((s) => s.image);
  if (signals.length === 0) throw new UserError('pretrain needs at least one image');
  for (const s of signals) if (s.width !== signals[0].width || s.height !== signals[0].height || s.channels !== signals[0].channels) throw new UserError('pretrain: every image must have the same size and channels');
  const range = o.range ?? 'unit';
  const iters = checkIters(o.iters ?? 5000);
  const lr = checkLr(o.lr ?? DEFAULT_LR);
  const config = validateConfig({ ...PAPER_CONFIG, ...o.model, outDim: signals[0].channels } as InrConfig);
  const backend = backendOf(o.backend, o.threads);
  const result = await pretrainOrt(backend, signals, { config, iters, lr, seed: o.seed ?? 0, range, ...(o.onStep ? { onStep: o.onStep } : {}) });
  const gainIters = o.gainIters ?? 100;
  const gain = gainIters > 0 && split.test.length > 0
    ? await transferGain(backend, config, result.encoder, split.test, { iters: gainIters, lr, seed: o.seed ?? 0, range })
    : undefined;
  const name = o.name ?? (o.out ? basename(resolve(o.out)) : 'prior');
  const bundle = await buildPriorBundle({
    name, config, range, encoder: result.encoder, res: signals[0].width, lr, iters, signals: signals.length, engine: result.engine,
    finalLoss: result.loss[result.loss.length - 1],
    ...(split.source ? { data: { description: split.source.description, files: split.source.files, train: split.train.map((s) => s.id), test: split.test.map((s) => s.id) } } : {}),
    ...(gain ? { eval: gain } : {}),
  });
  if (o.out) writeBundleDir(o.out, bundle, o.force ?? false);
  const prior = await loadPriorBundle(bundleSource(bundle, o.out ?? name));
  return { prior, bundle, loss: result.loss, meanPsnr: result.meanPsnr, engine: result.engine, ...(gain ? { gain } : {}), split: { train: split.train, test: split.test } };
}
