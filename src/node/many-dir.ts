// The on-disk state of a `strainer fit-many` run, safe against kill -9 at any moment and against other
// processes — other shards, or two processes given the same shard, on this machine or on others sharing
// the folder — because every change is one atomic step: a rename, a link, or an exclusive create.
//
//   OUT/fit-many.json          what the run fits (source, settings); a rerun with other settings is refused
//   OUT/fits/NAME/             each signal's fit bundle: exactly what `strainer fit --out` writes
//   OUT/index.jsonl            one line per finished or failed signal, sorted by name (merged, see below)
//   OUT/.fit-many/done/NAME.json    that line, written (temp file, fsync, rename) after the bundle is in place
//   OUT/.fit-many/claims/NAME       who fits NAME now: {host, pid, run, started}; its mtime is a heartbeat
//   OUT/.fit-many/staging/          bundles being written, renamed into fits/ when whole
//
// A signal is done when its line says so and its bundle is whole; a line is written only after the
// bundle is renamed into place, so a kill loses at most the signals in flight. A claim is made by
// link(2) of a finished temp file (exclusive, atomic on local disks and NFS alike); it is stale when its
// process is gone (same host, pid not alive or reused by this very process) or its heartbeat is older
// than `staleAfter` (any host: a Kubernetes retry runs on another pod). Two processes that both judge a
// claim stale may both fit the signal: each writes a whole bundle and a whole line, so the work is
// done twice but nothing is corrupted. index.jsonl is rebuilt from the per-signal lines (written whole
// through a temp file and a rename), never appended in place, so no two writers can interleave lines on
// any file system (O_APPEND is not atomic across NFS clients).
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  accessSync,
  constants,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseManifest } from '../export/bundle.ts';
import { UserError } from '../util/errors.ts';

export const RUN_FILE = 'fit-many.json';
export const INDEX_FILE = 'index.jsonl';
export const FITS_DIR = 'fits';
export const STATE_DIR = '.fit-many';
/** What the summary writes beside the index (src/cli/fit-many-summary.ts); a forced restart removes them. */
export const SUMMARY_FILES = ['summary.md', 'contact-sheet.png', 'psnr-histogram.svg'] as const;

/** What a run fits: compared on every start, so a rerun with other settings cannot mix two runs' fits. */
export interface RunConfig {
  format: 'strainer-fit-many';
  version: 1;
  /** The data source, as an absolute path. */
  source: string;
  select: [number, number] | null;
  /** Every setting that changes a fit's result (not the runtime, threads, jobs or shard). */
  settings: Record<string, unknown>;
}

/** One line of the index. */
export interface IndexLine {
  name: string;
  status: 'done' | 'failed';
  /** The input file (or `container#id`) and the sha256 of its bytes (a container's). */
  input: string;
  sha256?: string;
  /** Failed: what went wrong, one line. */
  error?: string;
  /** Done: the bundle's folder, relative to OUT. */
  bundle?: string;
  /** ISO time it was written, and the shard (I/N) of the process that wrote it. */
  finished: string;
  shard: string;
  /** Done: the fit's summary (`strainer fit --json`'s fields: psnr, final_psnr, seconds, backend, ...). */
  [field: string]: unknown;
}

interface ClaimInfo {
  host: string;
  pid: number;
  run: string;
  started: string;
}

/** JSON with sorted keys: two configs are the same run when these strings are equal. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
}

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code;

/** Whether process `pid` exists on this host (EPERM: it does, and is someone else's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return code(e) === 'EPERM';
  }
}

/** The nearest folder on the way to `path` that exists. */
function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!existsSync(p)) p = dirname(p);
  return p;
}

export const bundlePath = (root: string, name: string): string => join(root, FITS_DIR, name);

/** Whether `dir` holds a whole bundle: a manifest that parses, and every file it lists at its size. (A
 *  bundle is renamed into place whole, so this is a check against meddling, not against our own writes;
 *  `strainer verify` or loadBundle checks every sha256.) */
export function bundleComplete(dir: string): boolean {
  try {
    const m = parseManifest(readFileSync(join(dir, 'manifest.json'), 'utf8'), dir);
    return Object.entries(m.files).every(([f, e]) => statSync(join(dir, f)).size === e.bytes);
  } catch {
    return false;
  }
}

/** Moves a whole bundle folder `staging` to `final`, replacing a bundle there (renamed aside first,
 *  then removed): `final` is at every moment absent, the old bundle or the new one, never a mixture. */
export function placeBundle(staging: string, final: string): void {
  mkdirSync(dirname(final), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(staging, final);
      return;
    } catch (e) {
      if (!['ENOTEMPTY', 'EEXIST', 'EISDIR'].includes(code(e) ?? '') || attempt >= 3) throw e;
    }
    const old = `${staging}.old`;
    try {
      renameSync(final, old);
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e; // another process moved it first: try again
    }
    rmSync(old, { recursive: true, force: true });
  }
}

/** Removes a bundle folder, if there: renamed aside first (`aside`, a fresh name), then deleted. */
export function removeBundle(final: string, aside: string): void {
  try {
    renameSync(final, `${aside}.old`);
  } catch (e) {
    if (code(e) === 'ENOENT') return;
    throw e;
  }
  rmSync(`${aside}.old`, { recursive: true, force: true });
}

export class RunDir {
  /** This process's run id: tells its claims from those of an earlier process with the same pid. */
  readonly id = randomUUID();
  readonly host = hostname();
  private readonly held = new Set<string>();
  private attempts = 0;

  private constructor(
    readonly root: string,
    readonly staleAfterMs: number,
  ) {}

  get claims(): string {
    return join(this.root, STATE_DIR, 'claims');
  }
  get done(): string {
    return join(this.root, STATE_DIR, 'done');
  }
  get staging(): string {
    return join(this.root, STATE_DIR, 'staging');
  }

  /**
   * Opens (creating when new) the run folder for `config`, after every check that can refuse it, so a
   * refusal writes nothing: a folder that cannot be written, a non-empty folder that is not a run, a run
   * of another config (unless `force`: then that run's fits, lines and claims are removed first).
   */
  static open(out: string, config: RunConfig, o: { force: boolean; staleAfterMs: number }): RunDir {
    const root = resolve(out);
    if (existsSync(root) && !statSync(root).isDirectory()) throw new UserError(`${out}: exists and is not a folder`);
    const base = existingAncestor(root);
    try {
      accessSync(base, constants.W_OK);
    } catch (e) {
      throw new UserError(
        `${out}: cannot write there (${base}: ${code(e) === 'EROFS' ? 'read-only file system' : (code(e) ?? String(e))})`,
      );
    }
    const run = new RunDir(root, o.staleAfterMs);
    const want = canonicalJson(config);
    const cfg = join(root, RUN_FILE);
    // What a run starting at this moment in another process (a shard of the same array) has made before its
    // config is linked: its state and fits folders and the config's temporary file. Not someone else's files.
    const starting = (n: string): boolean => n === STATE_DIR || n === FITS_DIR || n.startsWith(`${RUN_FILE}.tmp-`);
    if (existsSync(root) && readdirSync(root).length > 0) {
      if (existsSync(cfg)) {
        const have = run.readConfig();
        if (have !== want) {
          if (!o.force)
            throw new UserError(
              `${out} holds a fit-many run with other settings (${diffConfig(have, config)}); pass --force to start it over, or choose another --out`,
            );
          run.reset();
        }
      } else if (!o.force && !readdirSync(root).every(starting)) {
        throw new UserError(
          `output folder ${out} already exists and is not empty (pass --force to write a run into it)`,
        );
      }
    }
    for (const d of [run.claims, run.done, run.staging, join(root, FITS_DIR)]) mkdirSync(d, { recursive: true });
    if (!run.linkNew(cfg, JSON.stringify(config, null, 1) + '\n')) {
      // Another process of the same run (a shard started at the same moment) wrote it first.
      if (run.readConfig() !== want)
        throw new UserError(
          `${out}: another process just started a run with other settings (${diffConfig(run.readConfig(), config)})`,
        );
    }
    return run;
  }

  /** An existing run folder, for --merge: its config as stored. */
  static attach(out: string, o: { staleAfterMs: number }): { dir: RunDir; config: RunConfig } {
    const root = resolve(out);
    let config: RunConfig;
    try {
      config = JSON.parse(readFileSync(join(root, RUN_FILE), 'utf8')) as RunConfig;
    } catch (e) {
      throw new UserError(
        code(e) === 'ENOENT'
          ? `${out}: not a fit-many run (no ${RUN_FILE})`
          : `${out}/${RUN_FILE}: cannot read it (${(e as Error).message})`,
      );
    }
    try {
      accessSync(root, constants.W_OK);
    } catch (e) {
      throw new UserError(`${out}: cannot write there (${code(e) === 'EROFS' ? 'read-only file system' : code(e)})`);
    }
    return { dir: new RunDir(root, o.staleAfterMs), config };
  }

  private readConfig(): string {
    try {
      return canonicalJson(JSON.parse(readFileSync(join(this.root, RUN_FILE), 'utf8')));
    } catch {
      return '';
    }
  }

  /** --force over a run of other settings: set its config aside (one process wins the rename), then
   *  remove its fits, lines, claims, index and summary. */
  private reset(): void {
    const aside = join(this.root, `${RUN_FILE}.old-${this.id}`);
    try {
      renameSync(join(this.root, RUN_FILE), aside);
    } catch (e) {
      if (code(e) === 'ENOENT') return; // a concurrent --force did it
      throw e;
    }
    for (const p of [STATE_DIR, FITS_DIR, INDEX_FILE, ...SUMMARY_FILES])
      rmSync(join(this.root, p), { recursive: true, force: true });
    rmSync(aside, { force: true });
  }

  /** Writes `text` to a temp file (this run's own name: pids repeat across containers) and links it
   *  to `path`: false if `path` exists. */
  private linkNew(path: string, text: string, sync = true): boolean {
    const tmp = `${path}.tmp-${this.id}`;
    if (sync) writeSynced(tmp, text);
    else writeFileSync(tmp, text);
    try {
      linkSync(tmp, path);
      return true;
    } catch (e) {
      if (code(e) === 'EEXIST') return false;
      throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Replaces `path` with `bytes` whole (temp file with this run's id, fsync, rename). */
  writeShared(path: string, bytes: Uint8Array | string): void {
    const tmp = `${path}.tmp-${this.id}`;
    writeSynced(tmp, bytes);
    renameSync(tmp, path);
  }

  // ---- claims ----

  /** Claims `name` for this process: true if it is now ours; false while another live process holds it. */
  claim(name: string): boolean {
    if (this.held.has(name)) return true;
    const path = join(this.claims, name);
    const info: ClaimInfo = { host: this.host, pid: process.pid, run: this.id, started: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      // No fsync: a claim lost or emptied by a power cut is no claim, or one judged by its age alone.
      if (this.linkNew(path, JSON.stringify(info) + '\n', false)) {
        this.held.add(name);
        // Whatever an earlier holder left half-written is ours to remove now.
        const mine = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f-]{36}\\.\\d+(\\.|$)`);
        for (const f of readdirSync(this.staging))
          if (mine.test(f)) rmSync(join(this.staging, f), { recursive: true, force: true });
        return true;
      }
      const h = this.holder(name);
      if (h === null) continue; // released meanwhile
      if (!this.isStale(h)) return false;
      const aside = join(this.claims, `.stale-${this.id}`);
      try {
        renameSync(path, aside);
        rmSync(aside, { force: true });
      } catch (e) {
        if (code(e) !== 'ENOENT') throw e;
      }
    }
    return false;
  }

  /** The claim on `name`, or null when there is none. */
  holder(name: string): { info: ClaimInfo | null; mtimeMs: number } | null {
    const path = join(this.claims, name);
    try {
      const mtimeMs = statSync(path).mtimeMs;
      let info: ClaimInfo | null = null;
      try {
        info = JSON.parse(readFileSync(path, 'utf8')) as ClaimInfo;
      } catch {
        /* unreadable: judged by its age alone */
      }
      return { info, mtimeMs };
    } catch (e) {
      if (code(e) === 'ENOENT') return null;
      throw e;
    }
  }

  isStale(h: { info: ClaimInfo | null; mtimeMs: number }): boolean {
    const i = h.info;
    if (i && i.host === this.host && i.run !== this.id) {
      if (i.pid === process.pid) return true; // an earlier process with this pid (a restarted container)
      if (!alive(i.pid)) return true;
    }
    return Date.now() - h.mtimeMs > this.staleAfterMs;
  }

  /** Touches every claim this process holds (call it well within staleAfter). */
  heartbeat(): void {
    const now = new Date();
    for (const name of this.held) {
      try {
        utimesSync(join(this.claims, name), now, now);
      } catch {
        /* taken from us as stale: we finish anyway; the lines and bundles stay whole */
      }
    }
  }

  release(name: string): void {
    if (!this.held.delete(name)) return;
    const h = this.holder(name);
    if (h?.info?.run === this.id) rmSync(join(this.claims, name), { force: true });
  }

  releaseAll(): void {
    for (const name of [...this.held]) this.release(name);
  }

  /** A fresh folder to write `name`'s bundle into before placeBundle moves it to fits/. */
  stagingFor(name: string): string {
    return join(this.staging, `${name}.${this.id}.${++this.attempts}`);
  }

  // ---- lines ----

  /** Writes `name`'s index line (after its bundle is in place). */
  writeLine(line: IndexLine): void {
    this.writeShared(join(this.done, `${line.name}.json`), JSON.stringify(line) + '\n');
  }

  /** `name`'s line, if it has one. */
  line(name: string): IndexLine | undefined {
    try {
      return JSON.parse(readFileSync(join(this.done, `${name}.json`), 'utf8')) as IndexLine;
    } catch {
      return undefined;
    }
  }

  /** Every signal's line, by name. */
  lines(): Map<string, IndexLine> {
    return readLines(this.root);
  }

  /** Rebuilds index.jsonl from the lines (sorted by name); again if lines arrived meanwhile, so the last
   *  process to finish leaves the whole index. Returns the lines written. */
  writeIndex(): IndexLine[] {
    for (let round = 0; ; round++) {
      const lines = [...this.lines().values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.writeShared(join(this.root, INDEX_FILE), lines.map((l) => JSON.stringify(l) + '\n').join(''));
      if (round >= 3 || this.lines().size === lines.length) return lines;
    }
  }
}

/** Every line in a run folder's .fit-many/done (lines that do not parse are left out: not done). */
export function readLines(root: string): Map<string, IndexLine> {
  const dir = join(root, STATE_DIR, 'done');
  const out = new Map<string, IndexLine>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      const l = JSON.parse(readFileSync(join(dir, f), 'utf8')) as IndexLine;
      if (typeof l.name === 'string' && (l.status === 'done' || l.status === 'failed')) out.set(l.name, l);
    } catch {
      /* not a whole line */
    }
  }
  return out;
}

/** Which settings differ between a stored config (canonical JSON) and `want`, for the refusal. */
function diffConfig(have: string, want: RunConfig): string {
  let old: Partial<RunConfig>;
  try {
    old = JSON.parse(have) as Partial<RunConfig>;
  } catch {
    return 'its fit-many.json does not parse';
  }
  const diff: string[] = [];
  if (old.source !== want.source) diff.push(`source ${old.source} vs ${want.source}`);
  if (canonicalJson(old.select ?? null) !== canonicalJson(want.select)) diff.push('select');
  const a = old.settings ?? {},
    b = want.settings;
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
    if (canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null))
      diff.push(`${k} ${canonicalJson(a[k] ?? null)} vs ${canonicalJson(b[k] ?? null)}`);
  return diff.length > 0 ? `differs in ${diff.join(', ')}` : 'format';
}

function writeSynced(path: string, bytes: Uint8Array | string): void {
  const fd = openSync(path, 'w');
  try {
    writeFileSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
