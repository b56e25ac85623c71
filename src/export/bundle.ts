// Artifact bundles: a folder (or an HTTP prefix) holding `manifest.json`, ONNX graphs and one
// little-endian tensor file (float32; float16 or int8 in compact priors). The manifest records the format version, the model config, every
// tensor's name/shape/offset and every file's sha256; loading verifies all of them and refuses a
// corrupt or unsupported bundle with a clear message. Platform-neutral: sha256 via WebCrypto
// (globalThis.crypto.subtle exists in Node >= 20 and browsers); file access through `FileSource`.
import type { InrConfig } from '../model/config.ts';
import { validateConfig } from '../model/config.ts';
import type { HostTensor } from '../runtime/session.ts';
import type { TargetRange } from '../train/grid.ts';
import type { AdamConfig } from '../train/adam.ts';
import { META_METHODS, type MetaMethod } from '../train/meta.ts';
import { UserError } from '../util/errors.ts';
import { sha256Hex } from '../util/sha256.ts';
import {
  decodeTensor,
  encodeTensor,
  align4,
  type StoredTensor,
  type TensorDtype,
  type QuantizationInfo,
} from './tensor-codec.ts';
import { checkSignature, type SignatureStatus } from './signature.ts';

export const FORMAT = 'strainer';
/** The newest format this strainer reads and writes; bump on any incompatible change to the manifest or
 *  file layout. 1: float32 tensors. 2: tensors may be stored as float16 or int8 (`dtype`, compact priors).
 *  3: a prior may be a meta-learned whole-network init (`method`, `meta`, decoder tensors), which a
 *  strainer that reads only versions 1-2 would fit as a STRAINER prior (encoder only) without a word.
 *  A bundle is written with the lowest version that describes it (formatVersion), so a strainer that
 *  reads only version 1 still reads every float32 bundle and names the version of a newer one. */
export const FORMAT_VERSION = 3;

/** The lowest format version that describes these tensor entries (and, given it, this manifest's method). */
export function formatVersion(entries: readonly TensorEntry[], m: { method?: unknown } = {}): number {
  if (m.method !== undefined) return 3;
  return entries.some((e) => (e?.dtype ?? 'float32') !== 'float32') ? 2 : 1;
}

/** How a meta-learned prior was trained (manifest `meta`; src/train/prior.ts MetaRecipe in snake_case). */
export interface ManifestMeta {
  inner_steps: number;
  inner_lr: number;
  inner_optimizer: 'sgd';
  meta_batch: number;
  outer_lr: number;
  outer_steps: number;
}

/** name, shape, offset, length; `dtype` (absent: float32) and, for int8, `scaleOffset` (tensor-codec.ts). */
export type TensorEntry = StoredTensor;
export interface GraphEntry {
  file: string;
  inputs: string[];
  outputs: string[];
  doc: string;
}
export interface FileEntry {
  sha256: string;
  bytes: number;
}

export interface Manifest {
  format: typeof FORMAT;
  version: number;
  /** 'fit': one fitted signal. 'prior': a pretrained encoder for new signals. 'checkpoint': pretraining state. */
  kind: 'fit' | 'prior' | 'checkpoint';
  name: string;
  /** Release of this named bundle (an integer, bumped when its content changes); clients that verified
   *  release N refuse a lower one (src/web/prior.ts). Set by `strainer sign --release N`. */
  release?: number;
  created: string;
  config: InrConfig;
  range: TargetRange;
  train: {
    lr: number;
    iters: number;
    adam: AdamConfig;
    batch: number;
    signals: number;
    final_loss?: number;
    engine?: string;
    /** Fits: 'adam' or 'sgd' (absent: adam), the optimizer of the bundled train step. */
    optimizer?: 'adam' | 'sgd';
    /** Fits: the recipe that trained it ('paper' or 'fast'; absent: paper). Informational: the bundle's
     *  train step is the ordinary full step whatever the recipe. */
    recipe?: 'paper' | 'fast';
  };
  /** Priors: how the prior was made, absent for a STRAINER prior (version 3). A meta-learned prior stores
   *  a whole-network init (decoder tensors too) and its recipe in `meta`. */
  method?: MetaMethod;
  meta?: ManifestMeta;
  /** The signal's grid: height x width for images; clips and volumes add `dims` ([n], [d, h, w]; height
   *  and width are then the last two axes, 1 x n for a clip), clips their sample `rate` (Hz) and, when
   *  fitted on a prior's time grid, its `lattice` (sample i at -1 + 2 i / (lattice - 1), grid.ts). */
  signal?: {
    height: number;
    width: number;
    channels: number;
    source?: string;
    dims?: number[];
    rate?: number;
    lattice?: number[];
  };
  /** Priors: what they were trained on, the split, and measured quality. */
  data?: { description: string; files: { path: string; sha256: string }[]; train: string[]; test: string[] };
  eval?: Record<string, unknown>;
  /** Compact bundles: how the weights are stored and which float32 bundle they came from. */
  quantization?: QuantizationInfo;
  tensors: { file: string; entries: TensorEntry[] };
  graphs: Record<string, GraphEntry>;
  files: Record<string, FileEntry>;
}

export type ManifestDraft = Omit<Manifest, 'format' | 'version' | 'files' | 'tensors' | 'created'> & {
  created?: string;
};

/** Packs tensors into one file, each as its `dtype` (default float32) at a 4-byte aligned offset. */
export function packTensors(tensors: Record<string, HostTensor & { dtype?: TensorDtype }>): {
  bin: Uint8Array;
  entries: TensorEntry[];
} {
  const entries: TensorEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype ?? 'float32';
    const { bytes, scaleAt } = encodeTensor(dtype, t.data, t.shape);
    // float32 entries keep the layout of bundles written before dtypes existed (no dtype field).
    entries.push({
      name,
      shape: [...t.shape],
      offset,
      length: t.data.length,
      ...(dtype !== 'float32' ? { dtype } : {}),
      ...(scaleAt !== undefined ? { scaleOffset: offset + scaleAt } : {}),
    });
    parts.push(bytes);
    offset = align4(offset + bytes.byteLength);
  }
  const bin = new Uint8Array(offset);
  parts.forEach((p, i) => bin.set(p, entries[i].offset));
  return { bin, entries };
}

/** Every tensor as float32: float16 and int8 entries are dequantized here (tensor-codec.ts). */
export function unpackTensors(bin: Uint8Array, entries: readonly TensorEntry[]): Record<string, HostTensor> {
  if (!Array.isArray(entries)) throw new UserError('tensor entries are not a list (corrupt bundle)');
  const out: Record<string, HostTensor> = {};
  // Every stored value takes at least one byte, so the entries together cannot list more values than
  // the file has bytes: overlapping entries cannot make a small file decode to a huge allocation.
  let total = 0;
  for (const entry of entries) {
    // Entries come from a manifest on disk: every field is checked before it is used.
    const e = entry as Partial<TensorEntry> | null;
    const name: unknown = e?.name;
    if (typeof name !== 'string' || name === '__proto__' || Object.hasOwn(out, name))
      throw new UserError(
        `tensor entry ${JSON.stringify(name) ?? 'undefined'} is unnamed or repeated (corrupt bundle)`,
      );
    const shape: unknown = e?.shape,
      length: unknown = e?.length;
    const ok =
      Array.isArray(shape) &&
      shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) &&
      Number.isSafeInteger(length);
    const dims = ok ? (shape as number[]) : [],
      n = ok ? (length as number) : Infinity;
    total += n;
    if (!ok || dims.reduce((a, b) => a * b, 1) !== n || total > bin.byteLength) {
      throw new UserError(`tensor '${name}' does not fit the tensor file (corrupt bundle)`);
    }
    out[name] = { shape: [...dims], data: decodeTensor(bin, e as TensorEntry) };
  }
  return out;
}

/** Files of a bundle by name: a folder on disk, an HTTP prefix, a cache. */
export interface FileSource {
  readonly where: string;
  read(name: string): Promise<Uint8Array>;
}

export interface BuiltBundle {
  manifest: Manifest;
  files: Record<string, Uint8Array>;
}

/** The bytes of a bundle's manifest.json, as every writer stores it (a folder, a zip, an in-memory
 *  source); a signature covers exactly these bytes. */
export function manifestBytes(m: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n');
}

/** A built bundle's files as a FileSource, read back exactly as a folder holding them would be. */
export function bundleSource(b: BuiltBundle, where: string): FileSource {
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

/** Completes a manifest: adds the tensor file and every file's sha256. */
export async function buildBundle(
  draft: ManifestDraft,
  tensors: Record<string, HostTensor & { dtype?: TensorDtype }>,
  graphs: Record<string, Uint8Array>,
  tensorFile = 'weights.bin',
): Promise<BuiltBundle> {
  const { bin, entries } = packTensors(tensors);
  const files: Record<string, Uint8Array> = { ...graphs, [tensorFile]: bin };
  const fileEntries: Record<string, FileEntry> = {};
  for (const [name, bytes] of Object.entries(files))
    fileEntries[name] = { sha256: await sha256Hex(bytes), bytes: bytes.byteLength };
  const manifest: Manifest = {
    format: FORMAT,
    version: formatVersion(entries, draft),
    created: draft.created ?? new Date().toISOString(),
    ...draft,
    tensors: { file: tensorFile, entries },
    files: fileEntries,
  };
  return { manifest, files };
}

export function parseManifest(text: string, where: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch {
    throw new UserError(`${where}: manifest.json is not valid JSON`);
  }
  if (m?.format !== FORMAT) throw new UserError(`${where}: not a strainer bundle (format '${String(m?.format)}')`);
  if (!(Number.isSafeInteger(m.version) && m.version >= 1 && m.version <= FORMAT_VERSION))
    throw new UserError(
      `${where}: bundle format version ${m.version} is not supported (this strainer reads versions 1 to ${FORMAT_VERSION})`,
    );
  if (!m.config || !m.tensors || !m.files || !m.graphs)
    throw new UserError(`${where}: manifest is missing config, tensors, graphs or files`);
  if (Array.isArray(m.tensors.entries) && formatVersion(m.tensors.entries) > m.version)
    throw new UserError(
      `${where}: manifest says format version ${m.version} but stores float16/int8 tensors, which need version 2 (corrupt bundle)`,
    );
  if (m.method !== undefined && m.version < 3)
    throw new UserError(
      `${where}: manifest says format version ${m.version} but is a '${String(m.method)}' prior, which needs version 3 (corrupt bundle)`,
    );
  if (m.release !== undefined && !(Number.isSafeInteger(m.release) && m.release >= 0))
    throw new UserError(`${where}: manifest release must be a non-negative integer, got ${JSON.stringify(m.release)}`);
  // The fields loaders and commands read, each of the type they expect (a damaged one ends in one line).
  const bad = (what: string): never => {
    throw new UserError(`${where}: manifest ${what} (corrupt bundle)`);
  };
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  const strings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
  // A plain file name: loaders join it to the bundle's folder or URL, so it must not leave it.
  const isFileName = (s: string): boolean => s !== '' && s !== '.' && s !== '..' && !/[/\\]/.test(s);
  if (!['fit', 'prior', 'checkpoint'].includes(m.kind)) bad(`kind '${String(m.kind)}' is not fit, prior or checkpoint`);
  if (typeof m.name !== 'string') bad('name is not a string');
  if (m.range !== 'unit' && m.range !== 'pm1') bad(`range '${String(m.range)}' is not unit or pm1`);
  if (!isObj(m.train) || typeof m.train.lr !== 'number' || typeof m.train.iters !== 'number')
    bad('train lacks lr or iters');
  if (m.train.optimizer !== undefined && !['adam', 'sgd'].includes(m.train.optimizer))
    bad(`train optimizer '${String(m.train.optimizer)}' is not adam or sgd`);
  if (m.train.recipe !== undefined && !['paper', 'fast'].includes(m.train.recipe))
    bad(`train recipe '${String(m.train.recipe)}' is not paper or fast`);
  if (m.method !== undefined) checkMeta(m, bad);
  const sig = m.signal as unknown;
  if (
    sig !== undefined &&
    !(isObj(sig) && [sig.height, sig.width, sig.channels].every((v) => isCount(v) && (v as number) > 0))
  )
    bad('signal size is not positive integers');
  if (
    isObj(sig) &&
    sig.dims !== undefined &&
    !(
      Array.isArray(sig.dims) &&
      sig.dims.length === m.config?.inDim &&
      sig.dims.every((v) => isCount(v) && (v as number) > 0)
    )
  )
    bad('signal dims are not positive integers, one per input dimension');
  if (
    isObj(sig) &&
    sig.rate !== undefined &&
    !(typeof sig.rate === 'number' && Number.isFinite(sig.rate) && sig.rate > 0)
  )
    bad('signal rate is not a positive number');
  if (
    isObj(sig) &&
    sig.lattice !== undefined &&
    !(
      Array.isArray(sig.lattice) &&
      sig.lattice.length === m.config?.inDim &&
      sig.lattice.every((v) => isCount(v) && (v as number) > 0)
    )
  )
    bad('signal lattice is not positive integers, one per input dimension');
  const data = m.data as unknown;
  if (
    data !== undefined &&
    !(
      isObj(data) &&
      strings(data.train) &&
      strings(data.test) &&
      Array.isArray(data.files) &&
      data.files.every((f) => isObj(f) && typeof f.path === 'string' && typeof f.sha256 === 'string')
    )
  )
    bad('data lacks its files, train or test lists');
  if (!isObj(m.tensors) || typeof m.tensors.file !== 'string' || !Array.isArray(m.tensors.entries))
    bad('tensors lack a file name or entries');
  if (!isObj(m.files) || !isObj(m.graphs)) bad('files or graphs are not objects');
  for (const [name, f] of Object.entries(m.files as unknown as Record<string, unknown>)) {
    if (!isFileName(name)) bad(`lists '${name}', which is not a plain file name`);
    if (!isObj(f) || typeof f.sha256 !== 'string' || !isCount(f.bytes))
      bad(`entry for '${name}' lacks sha256 or bytes`);
  }
  for (const [role, g] of Object.entries(m.graphs as unknown as Record<string, unknown>)) {
    if (!isObj(g) || typeof g.file !== 'string' || !strings(g.inputs) || !strings(g.outputs))
      bad(`graph '${role}' lacks file, inputs or outputs`);
  }
  validateConfig(m.config);
  return m;
}

/** A meta-learned prior's `method` and `meta`, each field of the type and range a fit reads. */
function checkMeta(m: Manifest, bad: (what: string) => never): void {
  if (m.kind !== 'prior') bad(`method belongs to priors, not a '${m.kind}'`);
  if (!(META_METHODS as readonly string[]).includes(m.method!))
    bad(`method '${String(m.method)}' is not ${META_METHODS.join(', ')}`);
  const meta = m.meta as unknown as Record<string, unknown> | undefined;
  const posInt = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) > 0;
  const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  const rate = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (
    typeof meta !== 'object' ||
    meta === null ||
    !posInt(meta.inner_steps) ||
    !rate(meta.inner_lr) ||
    meta.inner_optimizer !== 'sgd' ||
    !posInt(meta.meta_batch) ||
    !rate(meta.outer_lr) ||
    !count(meta.outer_steps)
  )
    bad('meta lacks inner_steps, inner_lr, inner_optimizer sgd, meta_batch, outer_lr or outer_steps');
}

export interface LoadedBundle {
  manifest: Manifest;
  tensors: Record<string, HostTensor>;
  graph(role: string): Promise<Uint8Array>;
  signature: SignatureStatus;
}

export interface BundleLoadOptions {
  /** Pinned Ed25519 public key (PEM SPKI or base64 raw): refuse the bundle unless manifest.sig is its
   *  signature of these exact manifest bytes. Without it the signature is not looked at. */
  publicKey?: string;
}

/** Reads a bundle and verifies every file it lists against its sha256 before use. */
export async function loadBundle(src: FileSource, o: BundleLoadOptions = {}): Promise<LoadedBundle> {
  let raw: Uint8Array;
  try {
    raw = await src.read('manifest.json');
  } catch (e) {
    throw new UserError(`${src.where}: cannot read manifest.json (${(e as Error).message})`);
  }
  // The signature covers the exact bytes read here, checked before anything in them is trusted.
  const signature: SignatureStatus =
    o.publicKey === undefined
      ? { state: 'unchecked' }
      : await checkSignature((n) => src.read(n), raw, o.publicKey, src.where);
  const manifest = parseManifest(new TextDecoder().decode(raw), src.where);
  const verified = new Map<string, Uint8Array>();
  const verify = async (name: string): Promise<Uint8Array> => {
    const cached = verified.get(name);
    if (cached) return cached;
    const entry = manifest.files[name];
    if (!entry) throw new UserError(`${src.where}: manifest does not list '${name}'`);
    let bytes: Uint8Array;
    try {
      bytes = await src.read(name);
    } catch (e) {
      throw new UserError(`${src.where}: cannot read ${name} (${(e as Error).message})`);
    }
    const got = await sha256Hex(bytes);
    if (bytes.byteLength !== entry.bytes || got !== entry.sha256) {
      throw new UserError(
        `${src.where}: ${name} fails its integrity check (sha256 ${got.slice(0, 12)}..., manifest says ${entry.sha256.slice(0, 12)}...); the bundle is corrupt or was modified`,
      );
    }
    verified.set(name, bytes);
    return bytes;
  };
  for (const name of Object.keys(manifest.files)) await verify(name);
  const tensors = unpackTensors(await verify(manifest.tensors.file), manifest.tensors.entries);
  return {
    manifest,
    tensors,
    signature,
    graph: async (role) => {
      const g = manifest.graphs[role];
      if (!g) throw new UserError(`${src.where}: bundle has no '${role}' graph`);
      return verify(g.file);
    },
  };
}
