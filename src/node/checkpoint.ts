// Pretraining checkpoints as files: the CheckpointStore of 'strainer/node' (src/pipeline/pretrain.ts).
// Written atomically (temp file, fsync, rename: a kill mid-write leaves the previous checkpoint intact);
// the byte format and its checks are src/export/checkpoint.ts.
import { existsSync } from 'node:fs';
import { encodeCheckpoint, decodeCheckpoint } from '../export/checkpoint.ts';
import type { CheckpointStore } from '../pipeline/pretrain.ts';
import { readDataFile } from './read.ts';
import { writeFileAtomic } from './fs.ts';

/** A checkpoint kept in one file at `path`. */
export function fileCheckpointStore(path: string): CheckpointStore {
  return {
    where: path,
    load: async (recipe) => (existsSync(path) ? decodeCheckpoint(readDataFile(path), path, recipe) : null),
    save: async (state, meta) => writeFileAtomic(path, await encodeCheckpoint(state, meta)),
  };
}
