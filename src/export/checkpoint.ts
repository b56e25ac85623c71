// Pretraining checkpoints as bytes: one self-describing file (magic, JSON header, float32 tensors),
// verified on decode (sha256 of the tensor payload; data and recipe must match the run being resumed;
// the unhashed JSON header is checked field by field, so any damaged file ends in one UserError line).
// Writing and reading the file (atomically) is src/node/checkpoint.ts.
import { packTensors, unpackTensors, type TensorEntry } from './bundle.ts';
import type { State } from '../train/trainer.ts';
import { sha256Hex } from '../util/sha256.ts';
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

interface Header extends CheckpointMeta {
  entries: TensorEntry[];
  sha256: string;
}

export async function encodeCheckpoint(state: State, meta: CheckpointMeta): Promise<Uint8Array> {
  const { bin, entries } = packTensors(state);
  const header: Header = { ...meta, entries, sha256: await sha256Hex(bin) };
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(12 + h.length + bin.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, h.length, true);
  out.set(h, 12);
  out.set(bin, 12 + h.length);
  return out;
}

/** `where` labels errors (the file's path). */
export async function decodeCheckpoint(
  bytes: Uint8Array,
  where: string,
  recipe: Record<string, unknown>,
): Promise<{ state: State; meta: CheckpointMeta }> {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    throw new UserError(`${where}: not a strainer checkpoint`);
  const hl = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + hl > bytes.length)
    throw new UserError(`${where}: checkpoint is truncated (header of ${hl} bytes in a ${bytes.length}-byte file)`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hl))) as Header;
  } catch {
    throw new UserError(`${where}: checkpoint header is corrupt`);
  }
  if (!header || typeof header !== 'object' || !Array.isArray(header.entries) || typeof header.sha256 !== 'string')
    throw new UserError(`${where}: checkpoint header is corrupt`);
  const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  // JSON writes a NaN loss (a diverged step) as null; it reads back as NaN.
  const series = (v: unknown): number[] | null =>
    Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null)
      ? (v as (number | null)[]).map((x) => x ?? NaN)
      : null;
  const loss = series(header.loss),
    meanPsnr = series(header.meanPsnr);
  if (!count(header.iters) || !count(header.step) || !loss || !meanPsnr)
    throw new UserError(`${where}: checkpoint header is corrupt (iters, step, loss or meanPsnr)`);
  const bin = bytes.subarray(12 + hl);
  if ((await sha256Hex(bin)) !== header.sha256)
    throw new UserError(`${where}: checkpoint data fails its sha256 check (corrupt file)`);
  const want = JSON.stringify(recipe),
    have = JSON.stringify(header.recipe);
  if (want !== have)
    throw new UserError(
      `${where}: checkpoint was made with a different recipe or data (${have}); refusing to resume with (${want})`,
    );
  let state: State;
  try {
    state = unpackTensors(bin, header.entries);
  } catch (e) {
    throw e instanceof UserError ? new UserError(`${where}: checkpoint ${e.message}`) : e;
  }
  return { state, meta: { recipe: header.recipe, iters: header.iters, step: header.step, loss, meanPsnr } };
}
