// `strainer fit-many SOURCE --out DIR`: fit every signal of a data source (what `pretrain` reads), one
// `strainer fit --out` bundle each, resumable after any kill, split into shards by --shard I/N or by the
// index a Slurm job array or a Kubernetes Indexed Job exports, several fits at a time with --jobs. The
// signals and shards are src/node/many.ts's, the run folder's state src/node/many-dir.ts's, the loop
// src/node/many-run.ts's; each fit is ./fit-many-task.ts on a pool of worker threads (src/node/pool.ts).
// `strainer fit-many --merge DIR` rebuilds the index and the summary from every shard's lines.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { intArg } from './args.ts';
import { JOBS_FLAG, jobPlan } from './jobs.ts';
import { cliPrior } from './prior.ts';
import { registerFitFlags, fitSettings, type FitFlags } from './fit-flags.ts';
import { readFitInput } from './fit-files.ts';
import { writeSummary, meanStd } from './fit-many-summary.ts';
import type { FitManyInit } from './fit-many-task.ts';
import { asSignal, type Signal } from '../data/signal.ts';
import { DEFAULT_RES, planFit } from '../train/plan.ts';
import type { BundledPrior } from '../export/prior.ts';
import { chooseBackend, describeChoice } from '../node/backend.ts';
import { parseSelect } from '../node/datasets.ts';
import { listSignals, resolveShard, shardOf, shardLabel, MAX_SHARDS, type ManySource } from '../node/many.ts';
import { RunDir, INDEX_FILE, type IndexLine, type RunConfig } from '../node/many-dir.ts';
import { runShard, type KillPoint, type ManyEvent, type ManyJob, type ManyResult } from '../node/many-run.ts';
import { startPool } from '../node/pool.ts';
import { siblingModule } from '../node/worker-start.ts';
import { UserError } from '../util/errors.ts';

interface FitManyCli extends FitFlags {
  out?: string;
  select?: [number, number];
  shard?: string;
  shards?: number;
  jobs: number | 'auto';
  retryFailed?: boolean;
  staleAfter: number;
  merge?: string;
  force?: boolean;
  json?: boolean;
}

/** STRAINER_FIT_MANY_KILL=claimed|placed|recorded:N — a test hook: SIGKILL this process at that point. */
function killPoint(): KillPoint | undefined {
  const v = process.env.STRAINER_FIT_MANY_KILL;
  const m = v ? /^(claimed|placed|recorded):(\d+)$/.exec(v) : null;
  return m ? { at: m[1] as KillPoint['at'], n: Number(m[2]) } : undefined;
}

/** The shared fit flags alone (what each worker needs to read and fit a signal). */
function fitFlagsOf(o: FitManyCli): FitFlags {
  const { iters, recipe, res, width, depth, omega, omega0, untilPsnr, time, lr, optimizer, seed, targets, batch } = o;
  const { channels, backend, ep, threads } = o;
  return {
    iters,
    recipe,
    res,
    width,
    depth,
    omega,
    omega0,
    untilPsnr,
    time,
    lr,
    optimizer,
    seed,
    targets,
    batch,
    channels,
    backend,
    ep,
    threads,
  };
}

/** Everything that changes a fit's result, as stored in fit-many.json. */
function runConfig(source: string, o: FitManyCli, p: BundledPrior | undefined): RunConfig {
  return {
    format: 'strainer-fit-many',
    version: 1,
    source: resolve(source),
    select: o.select ?? null,
    settings: {
      res: o.res ?? DEFAULT_RES,
      channels: o.channels,
      iters: o.iters,
      recipe: o.recipe ?? null,
      lr: o.lr,
      optimizer: o.optimizer,
      seed: o.seed,
      width: o.width ?? null,
      depth: o.depth ?? null,
      omega: o.omega ?? null,
      omega0: o.omega0 ?? null,
      until_psnr: o.untilPsnr ?? null,
      time: o.time ?? null,
      targets: o.targets ?? null,
      batch: o.batch ?? null,
      prior: p ? { name: p.name, weights_sha256: p.manifest.files[p.manifest.tensors.file]?.sha256 ?? null } : null,
    },
  };
}

/** The first signal that reads, for checking the settings against a real grid before anything is written. */
function firstSignal(src: ManySource, o: FitManyCli): { signal: Signal; rate?: number } | null {
  for (const item of src.items.slice(0, 3)) {
    if (item.signal) return { signal: item.signal };
    try {
      const input = readFitInput(item.file!, { res: o.res, channels: o.channels });
      return { signal: input.signal, rate: input.rate };
    } catch {
      /* a bad file fails on its own when fitted */
    }
  }
  return null;
}

/** The target of a done line for the contact sheet: a file read again as it was fitted, or a listed signal. */
function targetOf(src: ManySource | null, o: Pick<FitManyCli, 'res' | 'channels'>): (l: IndexLine) => Signal | null {
  const byName = new Map((src?.items ?? []).map((i) => [i.name, i]));
  return (l) => {
    const item = byName.get(l.name);
    try {
      if (item?.signal) return item.signal;
      return asSignal(readFitInput(item?.file ?? l.input, { res: o.res, channels: o.channels }).signal);
    } catch {
      return null;
    }
  };
}

/** Signals done and ETA on stderr: a bar on a terminal, else a line every ~10 % (and at the end). */
function runProgress(label: string): { event: (e: ManyEvent) => void; stop: () => void } {
  let total = 0,
    todo = 0,
    finished = 0,
    failed = 0,
    already = 0;
  const t0 = performance.now();
  const eta = (): string => {
    const s = (performance.now() - t0) / 1000;
    return finished > 0 ? `${(((todo - finished) * s) / finished).toFixed(0)} s` : '-';
  };
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${label} {bar} {value}/{total} signals | {failed} failed | {rate} signals/s | ETA {eta}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let nextLine = 0;
  const line = (force = false): void => {
    const s = (performance.now() - t0) / 1000;
    if (!force && already + finished < nextLine) return;
    nextLine = already + finished + Math.max(1, Math.round(total / 10));
    process.stderr.write(
      `${label} ${already + finished}/${total} signals done or failed (${failed} failed, ${finished} fitted now, ${(finished / Math.max(s, 1e-9)).toFixed(2)} signals/s), ETA ${eta()}\n`,
    );
  };
  return {
    event: (e) => {
      if (e.kind === 'plan') {
        total = e.total;
        todo = e.todo;
        already = e.done + e.failed;
        failed = e.failed;
        process.stderr.write(
          `${label}: ${e.total} signals, ${e.done} done and ${e.failed} failed before, ${e.todo} to fit\n`,
        );
        bar?.start(total, already, { failed, rate: '-', eta: '-' });
      } else if (e.kind === 'finished') {
        finished++;
        if (e.line.status === 'failed') {
          failed++;
          bar?.stop();
          process.stderr.write(`${label}: ${e.name} failed: ${e.line.error}\n`);
          bar?.start(total, already + finished, { failed, rate: '-', eta: eta() });
        }
        const rate = (finished / ((performance.now() - t0) / 1000)).toFixed(2);
        if (bar) bar.update(already + finished, { failed, rate, eta: eta() });
        else line();
      } else {
        bar?.stop();
        process.stderr.write(
          `${label}: waiting for ${e.names.length} signal(s) other processes hold (${e.names.slice(0, 3).join(', ')}${e.names.length > 3 ? ', ...' : ''})\n`,
        );
      }
    },
    stop: () => bar?.stop(),
  };
}

async function merge(out: string, o: FitManyCli): Promise<void> {
  const { dir, config } = RunDir.attach(out, { staleAfterMs: o.staleAfter * 1000 });
  const lines = dir.writeIndex();
  const s = config.settings as { res?: number; channels?: 'auto' | '1' | '3' };
  let src: ManySource | null = null;
  try {
    src = await listSignals(config.source, {
      select: config.select ?? undefined,
      res: s.res ?? DEFAULT_RES,
      channels: s.channels === undefined || s.channels === 'auto' ? 'auto' : (Number(s.channels) as 1 | 3),
    });
  } catch {
    /* the source moved: the summary counts the lines only */
  }
  writeSummary(dir, config, lines, {
    target: targetOf(src, { res: s.res, channels: s.channels ?? 'auto' }),
    total: src?.items.length,
  });
  const done = lines.filter((l) => l.status === 'done').length;
  const summary = {
    out: dir.root,
    signals: src?.items.length ?? null,
    done,
    failed: lines.length - done,
    missing: src ? src.items.filter((i) => !lines.some((l) => l.name === i.name)).length : null,
  };
  process.stdout.write(
    o.json
      ? JSON.stringify(summary) + '\n'
      : `merged ${lines.length} lines into ${resolve(out, INDEX_FILE)}: ${done} done, ${summary.failed} failed${summary.missing ? `, ${summary.missing} of ${summary.signals} signals not fitted yet` : ''}; wrote summary.md\n`,
  );
}

export async function runFitMany(source: string | undefined, o: FitManyCli): Promise<void> {
  if (o.merge !== undefined) {
    if (source !== undefined || o.out !== undefined)
      throw new UserError('--merge DIR takes the run folder alone (no SOURCE, no --out)');
    return merge(o.merge, o);
  }
  if (source === undefined || o.out === undefined)
    throw new UserError('fit-many needs a SOURCE and --out DIR (or --merge DIR)');
  const shard = resolveShard({ shard: o.shard, shards: o.shards });
  const prior = o.prior ? await cliPrior(o.prior, o.publicKey) : undefined;
  const channels = o.channels === 'auto' ? 'auto' : (Number(o.channels) as 1 | 3);
  const src = await listSignals(source, { select: o.select, res: o.res ?? DEFAULT_RES, channels });
  // The settings against a real signal (a prior of another kind, a batch too large), before any write.
  const first = firstSignal(src, o);
  if (first) planFit(asSignal(first.signal), fitSettings(o, prior, first.rate));
  const chosen = await chooseBackend({ ep: o.ep, threads: o.threads, engine: o.backend });
  const ep = chosen.ep ?? 'cpu';
  const items = shardOf(src.items, shard);
  const { jobs, threads } = jobPlan(o.jobs, { ep, count: items.length, threads: o.threads });
  const config = runConfig(source, o, prior);
  const dir = RunDir.open(o.out, config, { force: o.force ?? false, staleAfterMs: o.staleAfter * 1000 });

  const label = `fit-many${shard.count > 1 ? ` shard ${shardLabel(shard)}` : ''}`;
  process.stderr.write(
    `${label}: ${src.description}; shard ${shardLabel(shard)} (${shard.from}) holds ${items.length}; ${jobs} job(s) x ${threads} thread(s); ${describeChoice(chosen)}\n`,
  );
  const init: FitManyInit = {
    flags: fitFlagsOf(o),
    // The prior as plain data (loaded and checked once here; each worker gets a copy).
    prior: prior
      ? {
          name: prior.name,
          config: prior.config,
          range: prior.range,
          encoder: prior.encoder,
          decoder: prior.decoder,
          dims: prior.dims,
          rate: prior.rate,
        }
      : null,
    runtime: { engine: o.backend, ep, threads },
  };
  const taskUrl = siblingModule(import.meta.url, 'fit-many-task');
  const pool = await startPool<FitManyInit, ManyJob, ManyResult>({ module: taskUrl, init, jobs });
  // SIGTERM (Slurm's time limit, Kubernetes' eviction) and Ctrl-C: give the claims back and leave the
  // index whole, so the next process takes the signals that were in flight at once.
  const stop = (sig: NodeJS.Signals): void => {
    dir.releaseAll();
    dir.writeIndex();
    process.stderr.write(`${label}: stopped by ${sig}; rerun to continue\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const bar = runProgress(label);
  const t0 = performance.now();
  let outcome;
  try {
    outcome = await runShard({
      dir,
      shard,
      items,
      pool,
      retryFailed: o.retryFailed,
      onEvent: bar.event,
      kill: killPoint(),
    });
  } finally {
    bar.stop();
    await pool.close();
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
  }
  const seconds = (performance.now() - t0) / 1000;
  const lines = dir.writeIndex();
  writeSummary(dir, config, lines, { target: targetOf(src, o), total: src.items.length });

  const mine = new Set(items.map((i) => i.name));
  const fin = lines.filter((l) => mine.has(l.name) && l.status === 'done').map((l) => l.final_psnr as number);
  const [m, sd] = fin.length ? meanStd(fin) : [NaN, NaN];
  const summary = {
    out: dir.root,
    shard: shardLabel(shard),
    signals: items.length,
    done: outcome.done.length,
    failed: outcome.failed.length,
    fitted: outcome.fitted,
    seconds: +seconds.toFixed(3),
    signals_per_second: +(outcome.fitted / seconds).toFixed(4),
    jobs,
    threads,
    final_psnr_mean: +m.toFixed(3),
    final_psnr_std: +sd.toFixed(3),
  };
  process.stdout.write(
    o.json
      ? JSON.stringify(summary) + '\n'
      : `${label}: ${summary.done} of ${items.length} signals done, ${summary.failed} failed; ${outcome.fitted} fitted in ${seconds.toFixed(1)} s (${summary.signals_per_second} signals/s); final PSNR ${m.toFixed(2)} ± ${sd.toFixed(2)} dB; ${resolve(o.out, INDEX_FILE)}\n`,
  );
  if (outcome.failed.length > 0) {
    const first = lines.find((l) => l.name === outcome.failed[0]);
    throw new UserError(
      `${outcome.failed.length} of ${items.length} signals of shard ${shardLabel(shard)} failed (${outcome.failed[0]}: ${first?.error ?? 'not fitted'}); see ${resolve(o.out, INDEX_FILE)}`,
    );
  }
}

export function registerFitMany(program: Command): void {
  registerFitFlags(
    program
      .command('fit-many')
      .argument(
        '[source]',
        'a folder of PNG/JPEG images or of WAV clips, a NIfTI volume (its usable axial slices) or a .npy image stack',
      ),
  )
    .option('--out <dir>', 'the run folder: fits/NAME/ (each a strainer fit --out bundle), index.jsonl, summary.md')
    .option(
      '--select <a:b>',
      'half-open range of the source: positions in a folder or stack, z in a volume',
      parseSelect,
    )
    .option('--shard <i/n>', 'fit shard I of N (0-based) of the sorted signals')
    .option(
      '--shards <n>',
      'the shard count, with the index from SLURM_ARRAY_TASK_ID (default SLURM_ARRAY_TASK_COUNT) or JOB_COMPLETION_INDEX',
      intArg('--shards', 1, MAX_SHARDS),
    )
    .option(...JOBS_FLAG)
    .option('--retry-failed', 'fit again the signals whose input failed before, though unchanged')
    .option(
      '--stale-after <s>',
      "seconds without a heartbeat after which another host's claim on a signal is taken over",
      intArg('--stale-after', 5, 7 * 86400),
      120,
    )
    .option('--merge <dir>', "rebuild DIR's index.jsonl and summary from every shard's lines, and exit")
    .option('--force', 'start over a run folder that holds another configuration (or write into a non-empty folder)')
    .option('--json', "print a JSON summary of this process's shard as the last line of stdout")
    .action(async (source: string | undefined, opts: FitManyCli) => runFitMany(source, opts));
}
