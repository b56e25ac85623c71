// What `strainer fit-many` fits and which part of it this process takes: the signals of a data source
// (what `pretrain` reads: a folder of images or of WAV clips, a NIfTI volume's usable axial slices, a
// .npy image stack; `--select` a half-open range), one signal each, in one sorted order; and the shard,
// from `--shard I/N` or from the index a cluster's array runner exports (Slurm job arrays:
// SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT; Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX, with the
// count from `--shards N`; REFERENCE.md 2026-12-02). Shard I of N is the I-th of N contiguous, nearly
// equal runs of the sorted list, as fit-a-nef splits a dataset by start and end index: every signal is
// in exactly one shard, whatever N.
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Signal } from '../data/signal.ts';
import { imageSignal } from '../data/signal.ts';
import { UserError } from '../util/errors.ts';
import { sha256Hex } from '../util/sha256.ts';
import { clipNames, loadDataSource, WAV_EXT, type DataSourceKind } from './datasets.ts';
import { readdirSync } from 'node:fs';
import { checkRange } from '../data/npy.ts';

// ---- Shards ------------------------------------------------------------------------------------

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
  /** Where it came from, for messages: '--shard', 'SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', or 'none'. */
  from: string;
}

/** The most shards a run is split into (a bound on typos, far above any array a scheduler runs). */
export const MAX_SHARDS = 1_000_000;

const int = (v: string): number => (/^\d+$/.test(v.trim()) ? Number(v) : NaN);

/** `--shard I/N`: 0 <= I < N. */
export function parseShard(v: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const i = m ? Number(m[1]) : NaN,
    n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || n > MAX_SHARDS || i >= n)
    throw new UserError(`--shard must be I/N with 0 <= I < N <= ${MAX_SHARDS} (e.g. 0/4), got '${v}'`);
  return { index: i, count: n, from: '--shard' };
}

/**
 * This process's shard: `--shard I/N`; else Slurm's array index (SLURM_ARRAY_TASK_ID minus
 * SLURM_ARRAY_TASK_MIN, so `--array=1-4` works as well as `0-3`) and count (SLURM_ARRAY_TASK_COUNT, or
 * `--shards N`); else a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with `--shards N` (the Job's
 * completions: Kubernetes does not export the count); else the whole set.
 */
export function resolveShard(o: { shard?: string; shards?: number }, env: NodeJS.ProcessEnv = process.env): Shard {
  if (o.shard !== undefined) return parseShard(o.shard);
  const check = (index: number, count: number, from: string, hint: string): Shard => {
    if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS)
      throw new UserError(`${from}: the shard count must be an integer between 1 and ${MAX_SHARDS}, got ${count}`);
    if (!Number.isInteger(index) || index < 0 || index >= count)
      throw new UserError(`${from}: shard index ${index} is not between 0 and ${count - 1} (${hint})`);
    return { index, count, from };
  };
  const slurmId = env.SLURM_ARRAY_TASK_ID;
  if (slurmId !== undefined && slurmId !== '') {
    const min = env.SLURM_ARRAY_TASK_MIN ? int(env.SLURM_ARRAY_TASK_MIN) : 0;
    const count = o.shards ?? int(env.SLURM_ARRAY_TASK_COUNT ?? '');
    if (Number.isNaN(count))
      throw new UserError('SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: pass --shards N');
    return check(
      int(slurmId) - min,
      count,
      'SLURM_ARRAY_TASK_ID',
      'run the array as --array=0-(N-1) with step 1, or pass --shard I/N',
    );
  }
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined && k8s !== '') {
    if (o.shards === undefined)
      throw new UserError("JOB_COMPLETION_INDEX is set: pass --shards N, the Indexed Job's completions");
    return check(int(k8s), o.shards, 'JOB_COMPLETION_INDEX', 'it must be below --shards, the Job’s completions');
  }
  if (o.shards !== undefined)
    throw new UserError(
      '--shards N takes the index from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, and neither is set (use --shard I/N)',
    );
  return { index: 0, count: 1, from: 'none' };
}

/** Shard `s` of a sorted list: the s.index-th of s.count contiguous runs, sizes differing by at most one. */
export function shardOf<T>(sorted: readonly T[], s: Pick<Shard, 'index' | 'count'>): T[] {
  const n = sorted.length;
  return sorted.slice(Math.floor((s.index * n) / s.count), Math.floor(((s.index + 1) * n) / s.count));
}

export const shardLabel = (s: Shard): string => `${s.index}/${s.count}`;

// ---- Signals of a source -----------------------------------------------------------------------

/** One signal of a source: a file of its own (read, and hashed, by whoever fits it) or an entry of a
 *  volume or stack read once (its data here, its hash the container file's). */
export interface ManyItem {
  /** Unique within the source; the name of its bundle folder and index line. */
  name: string;
  /** What it is, for the index: the file's path, or `container#id`. */
  input: string;
  /** A file of its own. */
  file?: string;
  /** Or the signal itself, with the sha256 of the file it came from. */
  signal?: Signal;
  sha256?: string;
}

export interface ManySource {
  kind: DataSourceKind | 'audio';
  /** Sorted by name (a folder: by file name, clips in natural order; a volume: by z; a stack: by index). */
  items: ManyItem[];
  description: string;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** The signals of a data source; a folder is listed, not read (each file is read by its fit, so a bad
 *  file fails alone); a volume or stack is read whole (a bad one is the run's one-line error). */
export async function listSignals(
  spec: string,
  o: { select?: [number, number]; res: number; channels?: 'auto' | 1 | 3 },
): Promise<ManySource> {
  let isDir: boolean;
  try {
    isDir = statSync(spec).isDirectory();
  } catch {
    throw new UserError(`${spec}: data source not found`);
  }
  if (isDir) {
    const files = readdirSync(spec).filter((n) => statSync(join(spec, n)).isFile());
    const clips = clipNames(spec),
      images = files.filter((n) => IMAGE_EXT.test(n)).sort();
    if (clips.length === 0 && images.length === 0)
      throw new UserError(`${spec}: folder holds no PNG or JPEG images and no WAV clips (subfolders are not read)`);
    if (clips.length > 0 && images.length > 0)
      throw new UserError(
        `${spec}: folder holds both WAV clips (${clips.length}) and images (${images.length}); fit them as two runs`,
      );
    const audio = clips.length > 0;
    const all = audio ? clips : images;
    const [start, end] = o.select ?? [0, all.length];
    checkRange(start, end, all.length, `${spec}: ${audio ? 'clip' : 'image'}`);
    const picked = all.slice(start, end);
    const items = picked.map((f) => ({
      name: f.replace(audio ? WAV_EXT : IMAGE_EXT, ''),
      input: join(spec, f),
      file: join(spec, f),
    }));
    const seen = new Map<string, string>();
    for (const it of items) {
      const other = seen.get(it.name);
      if (other !== undefined)
        throw new UserError(
          `${spec}: ${basename(other)} and ${basename(it.file)} would both be signal '${it.name}': rename one`,
        );
      seen.set(it.name, it.file);
    }
    return {
      kind: audio ? 'audio' : 'folder',
      items,
      description: `folder ${spec}: ${items.length} of ${all.length} ${audio ? 'WAV clips' : 'images'}`,
    };
  }
  const src = await loadDataSource(spec, { res: o.res, range: o.select, channels: o.channels });
  const sha256 = src.files[0].sha256;
  return {
    kind: src.kind,
    items: src.images.map((s) => ({ name: s.id, input: `${spec}#${s.id}`, signal: imageSignal(s.image), sha256 })),
    description: src.description,
  };
}

/** The sha256 of an item's input: its file's bytes, or its container's. */
export async function itemSha256(item: ManyItem, read: (path: string) => Uint8Array): Promise<string> {
  if (item.sha256 !== undefined) return item.sha256;
  return sha256Hex(read(item.file!));
}
