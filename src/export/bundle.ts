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
import { UserError } from '../util/errors.ts';
import { sha256Hex } from '../util/sha256.ts';
import { decodeTensor, encodeTensor, align4, type StoredTensor, type TensorDtype, type QuantizationInfo } from './tensor-codec.ts';
import { checkSignature, type SignatureStatus } from './signature.ts';

export const FORMAT = 'strainer';
/** Bump on any incompatible change to the manifest or file layout. */
export const FORMAT_VERSION = 1;

/** name, shape, offset, length; `dtype` (absent: float32) and, for int8, `scaleOffset` (tensor-codec.ts). */
export type TensorEntry = StoredTensor;
export interface GraphEntry { file: string; inputs: string[]; outputs: string[]; doc: string }
export interface FileEntry { sha256: string; bytes: number }

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
  train: { lr: number; iters: number; adam: AdamConfig; batch: number; signals: number; final_loss?: number; engine?: string };
  signal?: { height: number; width: number; channels: number; source?: string };
  /** Priors: what they were trained on, the split, and measured quality. */
  data?: { description: string; files: { path: string; sha256: string }[]; train: string[]; test: string[] };
  eval?: Record<string, unknown>;
  /** Compact bundles: how the weights are stored and which float32 bundle they came from. */
  quantization?: QuantizationInfo;
  tensors: { file: string; entries: TensorEntry[] };
  graphs: Record<string, GraphEntry>;
  files: Record<string, FileEntry>;
}

export type ManifestDraft = Omit<Manifest, 'format' | 'version' | 'files' | 'tensors' | 'created'> & { created?: string };

/** Packs tensors into one file, each as its `dtype` (default float32) at a 4-byte aligned offset. */
export function packTensors(tensors: Record<string, HostTensor & { dtype?: TensorDtype }>): { bin: Uint8Array; entries: TensorEntry[] } {
  const entries: TensorEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype ?? 'float32';
    const { bytes, scaleAt } = encodeTensor(dtype, t.data, t.dims);
    // float32 entries keep the layout of bundles written before dtypes existed (no dtype field).
    entries.push({ name, shape: [...t.dims], offset, length: t.data.length, ...(dtype !== 'float32' ? { dtype } : {}), ...(scaleAt !== undefined ? { scaleOffset: offset + scaleAt } : {}) });
    parts.push(bytes);
    offset = align4(offset + bytes.byteLength);
  }
  const bin = new Uint8Array(offset);
  parts.forEach((p, i) => bin.set(p, entries[i].offset));
  return { bin, entries };
}

/** Every tensor as float32: float16 and int8 entries are dequantized here (tensor-codec.ts). */
export function unpackTensors(bin: Uint8Array, entries: readonly TensorEntry[]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const e of entries) {
    if (e.shape.reduce((a, b) => a * b, 1) !== e.length) {
      throw new UserError(`tensor '${e.name}' does not fit the tensor file (corrupt bundle)`);
    }
    out[e.name] = { dims: [...e.shape], data: decodeTensor(bin, e) };
  }
  return out;
}

/** Files of a bundle by name: a folder on disk, an HTTP prefix, a cache. */
export interface FileSource {
  readonly where: string;
  read(name: string): Promise<Uint8Array>;
}

export interface BuiltBundle { manifest: Manifest; files: Record<string, Uint8Array> }

/** Completes a manifest: adds the tensor file and every file's sha256. */
export async function buildBundle(draft: ManifestDraft, tensors: Record<string, HostTensor & { dtype?: TensorDtype }>, graphs: Record<string, Uint8Array>, tensorFile = 'weights.bin'): Promise<BuiltBundle> {
  const { bin, entries } = packTensors(tensors);
  const files: Record<string, Uint8Array> = { ...graphs, [tensorFile]: bin };
  const fileEntries: Record<string, FileEntry> = {};
  for (const [name, bytes] of Object.entries(files)) fileEntries[name] = { sha256: await sha256Hex(bytes), bytes: bytes.byteLength };
  const manifest: Manifest = {
    format: FORMAT, version: FORMAT_VERSION, created: draft.created ?? new Date().toISOString(),
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
  if (m.version !== FORMAT_VERSION) throw new UserError(`${where}: bundle format version ${m.version} is not supported (this strainer reads version ${FORMAT_VERSION})`);
  if (!m.config || !m.tensors || !m.files || !m.graphs) throw new UserError(`${where}: manifest is missing config, tensors, graphs or files`);
  if (m.release !== undefined && !(Number.isSafeInteger(m.release) && m.release >= 0)) throw new UserError(`${where}: manifest release must be a non-negative integer, got ${JSON.stringify(m.release)}`);
  validateConfig(m.config);
  return m;
}

export interface LoadedBundle { manifest: Manifest; tensors: Record<string, HostTensor>; graph(role: string): Promise<Uint8Array>; signature: SignatureStatus }

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
  const signature: SignatureStatus = o.publicKey === undefined ? { state: 'unchecked' } : await checkSignature((n) => src.read(n), raw, o.publicKey, src.where);
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
      throw new UserError(`${src.where}: ${name} fails its integrity check (sha256 ${got.slice(0, 12)}..., manifest says ${entry.sha256.slice(0, 12)}...); the bundle is corrupt or was modified`);
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
