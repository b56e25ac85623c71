// What a Node program needs, in a few calls (the `strainer/node` entry): read an image file (clips and
// volumes: ./signals.ts), load a prior (a folder, or the name of one shipped in the package, checked
// against the project key), fit a signal of any dimension, save the fit, pretrain a prior. Each is the
// core's operation (fit: src/train/fit.ts; pretraining: src/pipeline/pretrain.ts) plus Node's I/O and
// runtime choice; the CLI calls these same functions, so library and command line agree.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cropCenterSquare, resizeArea, type Image, type ChannelMode } from '../data/image.ts';
import type { Signal } from '../data/signal.ts';
import type { Backend } from '../runtime/session.ts';
import { fit as coreFit, type FitOptions, type FitResult } from '../train/fit.ts';
import { checkSetting, DEFAULT_RES } from '../train/plan.ts';
import type { Prior } from '../train/prior.ts';
import {
  loadPrior as loadPriorBundle,
  PROJECT_KEY,
  type BundledPrior,
  type PriorLoadOptions,
} from '../export/prior.ts';
import { fitBundle } from '../export/fit-bundle.ts';
import type { BuiltBundle, FileSource } from '../export/bundle.ts';
import {
  pretrainPrior,
  type NamedSignal,
  type PretrainData,
  type PretrainOptions,
  type PretrainResult,
} from '../pipeline/pretrain.ts';
import { checkPretrainMethod, metaPretrain, type MetaSettings } from '../pipeline/meta.ts';
import type { PriorMethod } from '../train/prior.ts';
import { UserError } from '../util/errors.ts';
import { chooseBackend, type Ep, type NodeBackendName } from './backend.ts';
import { cpuDriver } from './sharded.ts';
import type { DriverFactory } from '../train/trainer.ts';
import { dirSource, writeBundleDir, checkOutDir } from './fs.ts';
import { fileCheckpointStore } from './checkpoint.ts';
import { splitSignals } from './datasets.ts';
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
  /** Centre square, area-resized to res x res (the CLI's --res, default 178 there). Absent: the image as stored. */
  res?: number;
  /** 'auto' (default: gray when R = G = B everywhere), 1 or 3. */
  channels?: ChannelMode;
}

/** A PNG or JPEG file as an Image in [0, 1]; a missing, truncated or non-image file is a UserError. */
export function readImage(path: string, o: ReadImageOptions = {}): Image {
  if (!existsSync(path)) throw new UserError(`${path}: no such file`);
  const img = loadImage(path, { channels: o.channels ?? 'auto' });
  if (o.res === undefined) return img;
  const res = checkSetting('res', o.res);
  const sq = cropCenterSquare(img);
  return sq.width === res ? sq : resizeArea(sq, res, res);
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

/** Whether `dir` is one of the priors shipped in this package (models/NAME). */
const isShipped = (dir: string): boolean => resolve(dir, '..') === resolve(SHIPPED_PRIORS_DIR);

/** A prior from a folder, by the name of a prior shipped in the package ('mri-64'), or from any
 *  FileSource, under the one trust policy (src/export/prior.ts loadPrior): a shipped prior is always
 *  checked against the project key (PROJECT_KEY), whatever folder path names it. */
export async function loadPrior(dirOrName: string | FileSource, o: PriorLoadOptions = {}): Promise<BundledPrior> {
  if (typeof dirOrName !== 'string') return loadPriorBundle(dirOrName, o);
  const dir = priorDir(dirOrName);
  const publicKey = o.publicKey ?? (isShipped(dir) ? PROJECT_KEY : undefined);
  return loadPriorBundle(dirSource(dir), { ...o, publicKey });
}

/** The runtime options every Node call takes, chosen in one place (src/node/backend.ts). */
export interface NodeRuntimeOptions {
  /** A Backend, or 'ort' (onnxruntime-node, default) / 'reference' (the slow float64 interpreter). */
  backend?: Backend | NodeBackendName;
  /** onnxruntime-node's execution provider: 'auto' (default: webgpu on a hardware adapter, else cpu), 'cpu', 'webgpu', 'cuda'. */
  ep?: Ep;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** On the CPU provider, train steps of at least SHARD_MIN_ROWS rows run as this many shards, each one
   *  session of one thread on its own thread (src/node/sharded.ts; onnxruntime's Sin/Cos use one thread
   *  per session): 'auto' (default, unless `threads` is given) picks by the step's size; 1 never shards. */
  shards?: number | 'auto';
}

/** The core's fit options, with a prior also by folder or shipped name and the runtime by name. */
export interface NodeFitOptions<T extends Image | Signal = Image | Signal>
  extends Omit<FitOptions<T>, 'backend' | 'prior'>, NodeRuntimeOptions {
  /** A loaded prior, a prior folder, or a shipped prior's name; absent: a randomly initialised SIREN. */
  prior?: Prior | string | null;
}

/** The runtime a call asked for, through the one chooser the CLI uses too, and what runs its train
 *  steps: sharded over threads on onnxruntime-node's CPU provider (see NodeRuntimeOptions.shards). */
export async function nodeRuntime(o: NodeRuntimeOptions): Promise<{ backend: Backend; driver?: DriverFactory }> {
  const backend =
    typeof o.backend === 'object'
      ? o.backend
      : (await chooseBackend({ engine: o.backend ?? 'ort', ep: o.ep, threads: o.threads })).backend;
  const shards = o.shards ?? (o.threads === undefined ? 'auto' : 1);
  if (shards !== 'auto') checkSetting('shards', shards);
  const cpu = backend.name === 'onnxruntime-node (cpu)';
  return { backend, driver: cpu && shards !== 1 ? cpuDriver(backend, shards) : undefined };
}

/** Fits an INR to an image, clip or volume, from a prior or from a random SIREN (src/train/fit.ts). */
export async function fit<T extends Image | Signal>(target: T, o: NodeFitOptions<T> = {}): Promise<FitResult<T>> {
  const prior = typeof o.prior === 'string' ? await loadPrior(o.prior) : o.prior;
  return coreFit(target, { ...o, prior, ...(await nodeRuntime(o)) });
}

export interface SaveFitOptions {
  /** The bundle's name (default: the folder's). */
  name?: string;
  /** Where the signal came from, recorded in the manifest. */
  source?: string;
  /** Further files to write beside it (and hash in the manifest). */
  extra?: Record<string, Uint8Array>;
  /** Further measured quality for the manifest's `eval` (e.g. a clip's snr_db). */
  eval?: Record<string, unknown>;
  /** Write into a non-empty folder. */
  force?: boolean;
}

/** The fitted signal as a bundle (`strainer fit --out`'s layout: manifest, weights.bin with the train
 *  state, inference.onnx, train_step.onnx), written atomically into `dir`; refuses a non-empty folder
 *  unless `force`. */
export async function saveFit(r: FitResult, dir: string, o: SaveFitOptions = {}): Promise<BuiltBundle> {
  checkOutDir(dir, o.force ?? false);
  const bundle = await fitBundle(r, { name: o.name ?? basename(resolve(dir)), ...o });
  writeBundleDir(dir, bundle, o.force ?? false);
  return bundle;
}

/** The core's pretraining options, with a data source by path, an output folder, a checkpoint file
 *  and the runtime by name. */
export interface NodePretrainOptions
  extends Omit<PretrainOptions, 'backend' | 'checkpoint'>, MetaSettings, NodeRuntimeOptions {
  /** 'strainer' (default: shared encoder, N decoders) or a meta-learned whole-network init ('maml',
   *  'fomaml', 'reptile': src/pipeline/meta.ts; `iters` then counts outer steps, the learning rate is
   *  `outerLr`, and `lr` and `engine` are refused). */
  method?: PriorMethod;
  /** Side of the square images (default 178, the paper's; as `strainer pretrain`); clips keep their samples. */
  res?: number;
  /** Training signals (default 10, STRAINER-10). */
  n?: number;
  /** Held-out signals for the transfer-gain measurement stored in the manifest (default 5). */
  test?: number;
  /** Half-open range of a data source to draw from: positions in a folder or stack, z in a volume. */
  select?: [number, number];
  /** Images: 'auto' (gray when every image is), 1 or 3; clips: 'auto' (as stored, all of one count) or 1 (mixed down to mono). */
  channels?: ChannelMode;
  /** With given signals: held-out signals for the gain measurement, their ids, what they are, a clip rate. */
  testSignals?: readonly NamedSignal[];
  ids?: readonly string[];
  data?: PretrainData['data'];
  rate?: number;
  /** Write the bundle here (atomically; a non-empty folder only with `force`, checked before training). */
  out?: string;
  force?: boolean;
  /** The full train state every `every` iterations (0: never) to `path` (default `<out>.checkpoint`),
   *  removed once the prior is written; with `resume`, continue from it (onnxruntime engine). */
  checkpoint?: { every: number; path?: string; resume?: boolean };
}

/** Reads a data source (or takes given signals) as pretraining data, split as `strainer pretrain` splits it. */
async function pretrainData(data: string | readonly (Image | Signal)[], o: NodePretrainOptions): Promise<PretrainData> {
  if (typeof data !== 'string') {
    return {
      train: data.map((signal, i) => ({ id: o.ids?.[i] ?? `image${i}`, signal })),
      test: o.testSignals ?? [],
      rate: o.rate,
      data: o.data,
    };
  }
  const s = await splitSignals(data, {
    res: checkSetting('res', o.res ?? DEFAULT_RES),
    n: checkSetting('signals', o.n ?? 10),
    test: checkSetting('heldOut', o.test ?? 5),
    select: o.select,
    channels: o.channels,
  });
  if (s.rate !== undefined && o.rate !== undefined && s.rate !== o.rate)
    throw new UserError(`${data}: the clips are sampled at ${s.rate} Hz, not the ${o.rate} Hz asked for`);
  return { train: s.train, test: s.test, rate: s.rate, data: { description: s.description, files: s.files } };
}

/** Pretrains a prior (STRAINER's, or with `method` a meta-learned init) on a data source (a folder of
 *  images or of WAV clips, a NIfTI volume or a .npy stack: `strainer pretrain` calls this) or on given
 *  signals, and writes it to `out`. */
export async function pretrain(
  data: string | readonly (Image | Signal)[],
  o: NodePretrainOptions = {},
): Promise<PretrainResult & { data: PretrainData }> {
  const method = checkPretrainMethod(o);
  const out = o.out === undefined ? undefined : resolve(o.out);
  const ck = o.checkpoint,
    resume = ck?.resume ?? false;
  const ckptPath = ck ? (ck.path ?? (out ? `${out}.checkpoint` : undefined)) : undefined;
  if (ck && ckptPath === undefined) throw new UserError('pretrain: a checkpoint needs a path (or an out folder)');
  if (out && resume && existsSync(join(out, 'manifest.json')) && !o.force)
    throw new UserError(`${out} already holds a finished prior; nothing to resume (pass --force to retrain)`);
  if (out && !resume) checkOutDir(out, o.force ?? false);
  const d = await pretrainData(data, o);
  const common = {
    name: o.name ?? (out ? basename(out) : 'prior'),
    ...(await nodeRuntime(o)),
    checkpoint: ck && ckptPath ? { every: ck.every, store: fileCheckpointStore(ckptPath), resume } : undefined,
  };
  const r =
    method === 'strainer'
      ? await pretrainPrior(d, { ...o, ...common })
      : await metaPretrain(d, { ...o, ...common, method });
  if (out) writeBundleDir(out, r.bundle, (o.force ?? false) || resume);
  if (ckptPath && existsSync(ckptPath)) rmSync(ckptPath);
  return { ...r, data: d };
}
