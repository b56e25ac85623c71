// The loop of one `strainer fit-many` process over its shard: skip what is done (its line says done, its
// bundle is whole, its input's sha256 is the one fitted; a failed signal likewise unless asked to retry),
// claim each remaining signal (./many-dir.ts), hand it to a pool of fits (./pool.ts) and record its
// line when its bundle is in place; then wait for the signals other processes hold until each is done
// or its claim goes stale (then fit it here), so the process ends only when its whole shard is settled.
import { join } from 'node:path';
import type { Signal } from '../data/signal.ts';
import type { Pool } from './pool.ts';
import { readDataFile } from './read.ts';
import { itemSha256, shardLabel, type ManyItem, type Shard } from './many.ts';
import { bundleComplete, bundlePath, removeBundle, FITS_DIR, type IndexLine, type RunDir } from './many-dir.ts';

/** What a fit worker is given for one signal: the input, and where to put its bundle. */
export interface ManyJob {
  name: string;
  input: string;
  file?: string;
  signal?: Signal;
  sha256?: string;
  /** A fresh folder to write the bundle into, and where placeBundle then moves it. */
  staging: string;
  final: string;
}

/** What it answers: the fields of a done line (the fit's summary) or a failure's one line. */
export type ManyResult =
  | { status: 'done'; sha256: string; fields: Record<string, unknown> }
  | { status: 'failed'; sha256?: string; error: string };

export type ManyEvent =
  | { kind: 'plan'; total: number; todo: number; done: number; failed: number }
  | { kind: 'finished'; name: string; line: IndexLine }
  | { kind: 'waiting'; names: string[] };

/** Where a test stops the process with SIGKILL: after the n-th signal is claimed, has its bundle in
 *  place (before its line), or has its line. */
export interface KillPoint {
  at: 'claimed' | 'placed' | 'recorded';
  n: number;
}

export interface ShardRunOptions {
  dir: RunDir;
  shard: Shard;
  /** This shard's signals, sorted. */
  items: readonly ManyItem[];
  pool: Pool<ManyJob, ManyResult>;
  /** Fit failed signals again even when their input is unchanged. */
  retryFailed?: boolean;
  onEvent?: (e: ManyEvent) => void;
  /** How often to look at signals other processes hold (default 2 s). */
  pollMs?: number;
  kill?: KillPoint;
}

export interface ShardOutcome {
  total: number;
  done: string[];
  failed: string[];
  /** Fitted by this process (done or failed). */
  fitted: number;
}

/** The one-line form of an error for the index. */
export const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

export async function runShard(o: ShardRunOptions): Promise<ShardOutcome> {
  const { dir, pool } = o;
  const read = (p: string): Uint8Array => readDataFile(p);
  const counts = { claimed: 0, placed: 0, recorded: 0 };
  const hit = (at: KillPoint['at']): void => {
    counts[at]++;
    if (o.kill && o.kill.at === at && counts[at] === o.kill.n) process.kill(process.pid, 'SIGKILL');
  };

  // What is settled already: done with a whole bundle of this very input, or failed on it.
  const lines = dir.lines();
  const settled = async (item: ManyItem, line: IndexLine | undefined): Promise<boolean> => {
    if (!line) return false;
    if (line.status === 'done' && !bundleComplete(bundlePath(dir.root, item.name))) return false;
    if (line.status === 'failed' && o.retryFailed) return false;
    try {
      return (await itemSha256(item, read)) === line.sha256;
    } catch {
      return line.status === 'failed'; // still unreadable
    }
  };
  const todo: ManyItem[] = [];
  let done = 0,
    failed = 0;
  for (const item of o.items) {
    const line = lines.get(item.name);
    if (await settled(item, line)) {
      if (line!.status === 'done') done++;
      else failed++;
    } else todo.push(item);
  }
  o.onEvent?.({ kind: 'plan', total: o.items.length, todo: todo.length, done, failed });

  const heartbeat = setInterval(() => dir.heartbeat(), Math.max(1000, Math.min(30_000, dir.staleAfterMs / 4)));
  heartbeat.unref();
  let fitted = 0;
  const fitOne = async (item: ManyItem): Promise<void> => {
    hit('claimed');
    const job: ManyJob = {
      name: item.name,
      input: item.input,
      file: item.file,
      signal: item.signal,
      sha256: item.sha256,
      staging: dir.stagingFor(item.name),
      final: bundlePath(dir.root, item.name),
    };
    let r: ManyResult;
    try {
      r = await o.pool.run(job);
    } catch (e) {
      r = { status: 'failed', sha256: item.sha256, error: oneLine((e as Error).message) };
    }
    const base = { name: item.name, input: item.input, sha256: r.sha256 };
    const stamp = { finished: new Date().toISOString(), shard: shardLabel(o.shard) };
    const line: IndexLine =
      r.status === 'done'
        ? { ...base, status: 'done', bundle: join(FITS_DIR, item.name), ...r.fields, ...stamp }
        : { ...base, status: 'failed', error: r.error, ...stamp };
    if (r.status === 'done') hit('placed');
    else removeBundle(job.final, job.staging); // a bundle of an earlier input must not outlive its line
    dir.writeLine(line);
    hit('recorded');
    dir.release(item.name);
    fitted++;
    o.onEvent?.({ kind: 'finished', name: item.name, line });
  };

  // As many lanes as the pool runs at once, each taking the next signal it can claim; with worker
  // threads one more, so a worker that finishes finds its next signal queued instead of waiting while
  // this thread writes a line and claims the next (an fsync each).
  const queue = [...todo];
  const held: ManyItem[] = [];
  const lane = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      if (!dir.claim(item.name)) held.push(item);
      // Finished by another process since this one looked: nothing to do.
      else if (await settled(item, dir.line(item.name))) dir.release(item.name);
      else await fitOne(item);
    }
  };
  try {
    await Promise.all(Array.from({ length: pool.size > 1 ? pool.size + 1 : 1 }, lane));
    // Signals other processes hold: wait until each has its line, or take it over when its claim is stale.
    while (held.length > 0) {
      o.onEvent?.({ kind: 'waiting', names: held.map((i) => i.name) });
      await new Promise((r) => setTimeout(r, o.pollMs ?? 2000));
      for (const item of [...held]) {
        if (await settled(item, dir.line(item.name))) held.splice(held.indexOf(item), 1);
        else if (dir.claim(item.name)) {
          held.splice(held.indexOf(item), 1);
          queue.push(item);
        }
      }
      await Promise.all(Array.from({ length: Math.min(pool.size, queue.length) }, lane));
    }
  } finally {
    clearInterval(heartbeat);
  }

  const after = dir.lines();
  const out: ShardOutcome = { total: o.items.length, done: [], failed: [], fitted };
  for (const item of o.items) {
    const l = after.get(item.name);
    if (l?.status === 'done') out.done.push(item.name);
    else out.failed.push(item.name);
  }
  return out;
}
