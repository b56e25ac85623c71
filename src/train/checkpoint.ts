// Pretraining checkpoints: one self-describing file (magic, JSON header, float32 tensors), written
// atomically (temp file, fsync, rename: a kill mid-write leaves the previous checkpoint intact) and
// verified on load (sha256 of the tensor payload; data and recipe must match the run being resumed).
import { readFileSync, existsSync } from 'node:fs';
import { packTensors, unpackTensors, sha256Hex, type TensorEntry } from '../export/artifacts.ts';
import { writeFileAtomic } from '../export/fs-node.ts';
import type { State } from './trainer.ts';
import { UserError } from '../util/errors.ts';

const MAGIC = 'STRNCKP1';

export interface CheckpointMeta {
  /** What must match to resume: config, data hashes, lr, seed, range, number of signals. */
  recipe: Record<string, unknown>;
  iters: number;
  step: number;
  loss: number[];
  meanPsnr: number[];
}

interface Header extends CheckpointMeta { entries: TensorEntry[]; sha256: string }

export async function saveCheckpoint(path: string, state: State, meta: CheckpointMeta): Promise<void> {
  const { bin, entries } = packTensors(state);
  const header: Header = { ...meta, entries, sha256: await sha256Hex(bin) };
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(12 + h.length + bin.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, h.length, true);
  out.set(h, 12);
  out.set(bin, 12 + h.length);
  writeFileAtomic(path, out);
}

export async function loadCheckpoint(path: string, recipe: Record<string, unknown>): Promise<{ state: State; meta: CheckpointMeta } | null> {
  if (!existsSync(path)) return null;
  const bytes = new Uint8Array(readFileSync(path));
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new UserError(`${path}: not a strainer checkpoint`);
  const hl = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hl))) as Header;
  } catch {
    throw new UserError(`${path}: checkpoint header is corrupt`);
  }
  const bin = bytes.subarray(12 + hl);
  if ((await sha256Hex(bin)) !== header.sha256) throw new UserError(`${path}: checkpoint data fails its sha256 check (corrupt file)`);
  const want = JSON.stringify(recipe), have = JSON.stringify(header.recipe);
  if (want !== have) throw new UserError(`${path}: checkpoint was made with a different recipe or data (${have}); refusing to resume with (${want})`);
  return { state: unpackTensors(bin, header.entries), meta: { recipe: header.recipe, iters: header.iters, step: header.step, loss: header.loss, meanPsnr: header.meanPsnr } };
}
