// Pretraining checkpoint files: written atomically (temp file, fsync, rename: a kill mid-write leaves
// the previous checkpoint intact); the byte format and its checks are src/export/checkpoint.ts.
import { existsSync } from 'node:fs';
import { encodeCheckpoint, decodeCheckpoint, type CheckpointMeta } from '../export/checkpoint.ts';
import type { State } from '../train/trainer.ts';
import { readDataFile } from './read.ts';
import { writeFileAtomic } from './fs.ts';

export type { CheckpointMeta } from '../export/checkpoint.ts';

export async function saveCheckpoint(path: string, state: State, meta: CheckpointMeta): Promise<void> {
  writeFileAtomic(path, await encodeCheckpoint(state, meta));
}

export async function loadCheckpoint(
  path: string,
  recipe: Record<string, unknown>,
): Promise<{ state: State; meta: CheckpointMeta } | null> {
  if (!existsSync(path)) return null;
  return decodeCheckpoint(readDataFile(path), path, recipe);
}
