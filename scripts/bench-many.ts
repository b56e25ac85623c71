// `npm run bench:many [-- --part throughput,jobs,kill,shards --rounds 3 --n25 20 --n64 6 --iters 200 --no-write]`:
// strainer fit-many against calling `strainer fit --out` once per signal (the same recipe, iterations
// and files), measured in turn, round by round, in one run, on LFW faces at 25x25 (prior lfw-25) and
// on 64x64 MRI slices of the bundled volume (prior mri-64), each signal written as a PNG first so both
// read the same files; results compared signal by signal (weights, final PSNR). `jobs`: train steps per
// second of one worker per core (1 thread each) against one worker on all cores, by grid size. `kill`: a 100-face run
// killed with SIGKILL three times at random moments and resumed; every bundle verified (loadBundle
// checks each sha256), the index counted, finished lines checked unchanged. `shards`: four processes
// started as a Slurm array would start them (SLURM_ARRAY_TASK_*), covering the set once. Each part
// writes its section of bench/many.md (the others are kept). Needs `npm run build` (the CLI runs from
// dist/) and `npm run fetch-data` (LFW).
import { spawn, execFileSync } from 'node:child_process';
import { availableParallelism, loadavg, cpus } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataSource, cachedDataset, missingDatasetMessage } from '../src/node/datasets.ts';
import { encodePng } from '../src/data/image.ts';
import { loadBundle } from '../src/export/bundle.ts';
import { dirSource, writeFileAtomic } from '../src/node/fs.ts';
import { median } from '../src/util/stats.ts';
import { rng } from '../src/util/random.ts';
import { startPool } from '../src/node/pool.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'strainer.js');
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const parts = arg('part', 'throughput,jobs,kill,shards').split(',');
const rounds = Number(arg('rounds', '3'));
const iters = Number(arg('iters', '200'));
const sizes = arg('sizes', '25,64').split(',').map(Number);
const count: Record<number, number> = { 25: Number(arg('n25', '20')), 64: Number(arg('n64', '6')) };
const killN = Number(arg('kill-n', '100'));
const write = !process.argv.includes('--no-write');
const work = mkdtempSync(join(tmpdir(), 'strainer-bench-many-'));
const cores = availableParallelism();

interface Proc {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wall: number;
  /** user + system CPU seconds (GNU time). */
  cpu: number;
}

/** Runs the CLI under /usr/bin/time (for its CPU time); `kill` sends SIGKILL after that many ms. */
function cli(args: string[], o: { env?: NodeJS.ProcessEnv; killAfterMs?: number } = {}): Promise<Proc> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn('/usr/bin/time', ['-f', '@cpu %U %S', 'node', CLI, ...args], {
      env: { ...process.env, ...o.env },
    });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // SIGKILL the node process itself (time's child), as kill -9 PID would.
    const timer =
      o.killAfterMs === undefined
        ? null
        : setTimeout(() => {
            try {
              const child = execFileSync('pgrep', ['-P', String(p.pid)], { encoding: 'utf8' })
                .trim()
                .split('\n')[0];
              process.kill(Number(child), 'SIGKILL');
            } catch {
              /* already done */
            }
          }, o.killAfterMs);
    p.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      const m = /@cpu ([\d.]+) ([\d.]+)/.exec(stderr);
      resolve({
        status,
        signal,
        stdout,
        stderr,
        wall: (performance.now() - t0) / 1000,
        cpu: m ? Number(m[1]) + Number(m[2]) : NaN,
      });
    });
  });
}

/** The --json line a command prints last (fit-many's shard summary, or --merge's counts). */
type Summary = Record<'jobs' | 'threads' | 'fitted' | 'done' | 'failed' | 'missing' | 'signals', number>;
const lastJson = (s: string): Summary => JSON.parse(s.trim().split('\n').pop()!) as Summary;

/** The signals of one size as PNG files: LFW faces (25) or usable MRI slices around the middle (64). */
async function signalFolder(res: number, n: number): Promise<{ dir: string; prior: string; what: string }> {
  const dir = join(work, `png-${res}-${n}`);
  if (res === 25) {
    const lfw = cachedDataset('lfw');
    if (!lfw) throw new Error(missingDatasetMessage('lfw'));
    const src = await loadDataSource(lfw, { res: 25, range: [0, n] });
    mkdirSync(dir, { recursive: true });
    for (const s of src.images) writeFileSync(join(dir, `${s.id}.png`), encodePng(s.image));
    return { dir, prior: 'lfw-25', what: `LFW faces 0..${n - 1} (lfw_subset.npy), 25x25` };
  }
  const src = await loadDataSource(join(ROOT, 'data', 'ch2bet.nii.gz'), { res });
  const mid = Math.floor(src.images.length / 2) - Math.floor(n / 2);
  const pick = src.images.slice(mid, mid + n);
  mkdirSync(dir, { recursive: true });
  for (const s of pick) writeFileSync(join(dir, `${s.id}.png`), encodePng(s.image));
  return {
    dir,
    prior: 'mri-64',
    what: `MRI slices ${pick[0].id}..${pick[pick.length - 1].id} of data/ch2bet.nii.gz, ${res}x${res}`,
  };
}

const load = (): string => loadavg()[0].toFixed(1);

// ---- throughput ----------------------------------------------------------------------------------

interface Arm {
  name: string;
  run: (round: number) => Promise<{ wall: number; cpu: number; out: string }>;
}

async function throughput(): Promise<string> {
  const rows: string[] = [];
  const detail: string[] = [];
  for (const res of sizes) {
    const n = count[res] ?? 6;
    const { dir, prior, what } = await signalFolder(res, n);
    const files = readdirSync(dir).sort();
    // The paper recipe: its full-grid steps make 'same results' a float-tolerance comparison.
    const recipe = ['--res', String(res), '--recipe', 'paper', '--iters', String(iters), '--prior', prior];
    const arms: Arm[] = [
      {
        name: `\`strainer fit --out\` once per signal (${cores} threads each)`,
        run: async (k) => {
          const out = join(work, `fit-${res}-${k}`);
          let wall = 0,
            cpu = 0;
          for (const f of files) {
            const p = await cli(['fit', join(dir, f), ...recipe, '--out', join(out, f.replace('.png', '')), '--json']);
            if (p.status !== 0) throw new Error(p.stderr);
            wall += p.wall;
            cpu += p.cpu;
          }
          return { wall, cpu, out };
        },
      },
      ...(['auto', '1', '3'] as const).map((jobs): Arm => ({
        name: `\`strainer fit-many --jobs ${jobs}\``,
        run: async (k) => {
          const out = join(work, `many-${res}-${jobs}-${k}`);
          const p = await cli(['fit-many', dir, ...recipe, '--out', out, '--jobs', jobs, '--json']);
          if (p.status !== 0) throw new Error(p.stderr);
          const j = lastJson(p.stdout);
          if (jobs === 'auto') detail.push(`${res}x${res} --jobs auto ran ${j.jobs} job(s) x ${j.threads} thread(s)`);
          return { wall: p.wall, cpu: p.cpu, out: join(out, 'fits') };
        },
      })),
    ];
    const times: { wall: number; cpu: number }[][] = arms.map(() => []);
    const loads: string[] = [];
    let outs: string[] = [];
    for (let k = 0; k < rounds; k++) {
      loads.push(load());
      // Alternate the order, so neither arm always runs first in a round.
      const order = arms.map((_, i) => i);
      if (k % 2 === 1) order.reverse();
      outs = new Array<string>(arms.length);
      for (const i of order) {
        const r = await arms[i].run(k);
        times[i].push({ wall: r.wall, cpu: r.cpu });
        outs[i] = r.out;
        process.stderr.write(
          `${res}x${res} round ${k + 1}: ${arms[i].name}: ${r.wall.toFixed(1)} s (load ${load()})\n`,
        );
      }
    }
    loads.push(load());
    // Same results: the last round's bundles, signal by signal, against the per-signal fits.
    let maxW = 0,
      maxP = 0;
    for (const f of files) {
      const name = f.replace('.png', '');
      const a = await loadBundle(dirSource(join(outs[0], name)));
      for (const o of outs.slice(1)) {
        const b = await loadBundle(dirSource(join(o, name)));
        maxP = Math.max(maxP, Math.abs((a.manifest.eval?.psnr as number) - (b.manifest.eval?.psnr as number)));
        for (const [key, t] of Object.entries(a.tensors))
          t.data.forEach((v, i) => (maxW = Math.max(maxW, Math.abs(v - b.tensors[key].data[i]))));
      }
    }
    const base = times[0];
    arms.forEach((arm, i) => {
      const ratios = times[i].map((t, k) => base[k].wall / t.wall);
      const sps = times[i].map((t) => n / t.wall);
      rows.push(
        `| ${res}x${res} | ${arm.name} | ${median(sps).toFixed(3)} | ${times[i].map((t) => t.wall.toFixed(1)).join(', ')} | ${(median(times[i].map((t) => t.cpu)) / n).toFixed(2)} | **${median(ratios).toFixed(2)}x** (${ratios.map((r) => r.toFixed(2)).join(', ')}) |`,
      );
    });
    detail.push(
      `${res}x${res}: ${n} signals (${what}), ${iters} iterations of the paper recipe from prior \`${prior}\`; load average per round ${loads.join(' → ')}; same results: final PSNR within ${maxP.toExponential(1)} dB, weights and Adam state within ${maxW.toExponential(1)} of the per-signal fits`,
    );
  }
  return [
    '| size | how | signals/s (median) | wall s per round | CPU s per signal (median) | vs strainer fit per signal: median (each round) |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    ...detail.map((d) => `- ${d}`),
  ].join('\n');
}

// ---- kill and resume ----------------------------------------------------------------------------

async function killTest(): Promise<string> {
  const { dir, prior, what } = await signalFolder(25, killN);
  const out = join(work, 'kill-run');
  const args = ['fit-many', dir, '--res', '25', '--iters', String(iters), '--prior', prior, '--out', out, '--json'];
  const r = rng(20261202);
  const lines = (): Map<string, string> => {
    const d = join(out, '.fit-many', 'done');
    const m = new Map<string, string>();
    if (existsSync(d))
      for (const f of readdirSync(d).filter((x) => x.endsWith('.json'))) m.set(f, readFileSync(join(d, f), 'utf8'));
    return m;
  };
  const log: string[] = [];
  let seen = new Map<string, string>();
  let changed = 0;
  const t0 = performance.now();
  // First a run to learn the pace, killed at a random moment; then two more kills at random moments of
  // the expected remaining time; then the run to the end.
  let pace = 0; // seconds per signal, once known
  for (let k = 0; k < 3; k++) {
    const before = lines().size;
    const remaining = killN - before;
    const expected = pace > 0 ? pace * remaining : 30;
    const at = 2 + r.uniform(0, Math.max(1, 0.6 * expected));
    const p = await cli(args, { killAfterMs: at * 1000 });
    const now = lines();
    for (const [f, text] of seen) if (now.get(f) !== text) changed++;
    seen = now;
    if (p.signal !== null || p.status !== 0) {
      if (now.size > before) pace = p.wall / (now.size - before);
      const staging = readdirSync(join(out, '.fit-many', 'staging')).length;
      const claims = readdirSync(join(out, '.fit-many', 'claims')).filter((f) => !f.startsWith('.')).length;
      log.push(
        `kill ${k + 1} after ${p.wall.toFixed(1)} s: ${now.size} lines (${now.size - before} new), ${claims} claim(s) and ${staging} staging folder(s) left by the killed process`,
      );
    } else log.push(`run ${k + 1} finished before its kill at ${at.toFixed(1)} s`);
  }
  const before = lines().size;
  const last = await cli(args);
  const now = lines();
  for (const [f, text] of seen) if (now.get(f) !== text) changed++;
  const j = lastJson(last.stdout);
  const index = readFileSync(join(out, 'index.jsonl'), 'utf8').trim().split('\n');
  const names = index.map((l) => (JSON.parse(l) as { name: string }).name);
  let verified = 0;
  for (const name of names) {
    await loadBundle(dirSource(join(out, 'fits', name)));
    verified++;
  }
  const total = (performance.now() - t0) / 1000;
  log.push(
    `the resumed run: exit ${last.status}, ${j.fitted} fitted (${before} lines before it), ${j.done} done, ${j.failed} failed`,
  );
  return [
    `${killN} signals (${what}), ${iters} iterations from \`${prior}\`, \`--jobs auto\`; SIGKILL (kill -9 of the node process) at random moments, seed 20261202; ${total.toFixed(0)} s in all, load average ${load()} at the end.`,
    '',
    ...log.map((l) => `- ${l}`),
    `- index.jsonl: **${index.length} lines**, ${new Set(names).size} distinct signals, every one done: ${index.every((l) => (JSON.parse(l) as { status: string }).status === 'done')}`,
    `- bundles: **${verified} of ${names.length} load and verify** (every file against its sha256)`,
    `- finished lines rewritten by a later run: **${changed}** (every signal recorded once; only signals in flight at a kill were fitted again)`,
  ].join('\n');
}

// ---- shards -----------------------------------------------------------------------------------

async function shardsTest(): Promise<string> {
  const n = 40;
  const { dir, prior } = await signalFolder(25, n);
  const out = join(work, 'shard-run');
  const t0 = performance.now();
  const ps = await Promise.all(
    [1, 2, 3, 4].map((id) =>
      cli(
        [
          'fit-many',
          dir,
          '--res',
          '25',
          '--iters',
          String(iters),
          '--prior',
          prior,
          '--out',
          out,
          '--jobs',
          '1',
          '--json',
        ],
        {
          env: { SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' },
        },
      ),
    ),
  );
  const wall = (performance.now() - t0) / 1000;
  const merged = await cli(['fit-many', '--merge', out, '--json']);
  const m = lastJson(merged.stdout);
  const index = readFileSync(join(out, 'index.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; shard: string });
  const byShard = new Map<string, number>();
  for (const l of index) byShard.set(l.shard, (byShard.get(l.shard) ?? 0) + 1);
  return [
    `${n} LFW faces (25x25, ${iters} iterations, \`${prior}\`) by four processes started at once with SLURM_ARRAY_TASK_ID = 1..4, SLURM_ARRAY_TASK_MIN = 1, SLURM_ARRAY_TASK_COUNT = 4 (as \`sbatch --array=1-4\` starts them), \`--jobs 1\` each, one output folder: exit codes ${ps.map((p) => p.status).join(', ')}; ${wall.toFixed(0)} s.`,
    `\`strainer fit-many --merge\`: ${m.done} done, ${m.failed} failed, ${m.missing} missing of ${m.signals}; index.jsonl ${index.length} lines, ${new Set(index.map((l) => l.name)).size} distinct; lines per shard ${[
      ...byShard,
    ]
      .sort()
      .map(([s, c]) => `${s}: ${c}`)
      .join(', ')}.`,
  ].join('\n');
}

// ---- jobs x threads --------------------------------------------------------------------------

/** Train steps per second of `cores` workers of one onnxruntime thread each against one worker on every
 *  core, at several grid sizes, in paired rounds: what `--jobs auto` chooses by. */
async function jobsTest(): Promise<string> {
  const module = new URL('./bench-many-steps.ts', import.meta.url);
  const grid = arg('grids', '25,48,64,96,128,178').split(',').map(Number);
  const rows: string[] = [];
  for (const res of grid) {
    // About 2 s of steps per arm and round on this machine.
    const n = Math.max(3, Math.round(2000 / (0.004 * res * res + 8)));
    const one = await startPool<{ res: number; threads: number }, { n: number }, number>({
      module,
      init: { res, threads: cores },
      jobs: 1,
    });
    const many = await startPool<{ res: number; threads: number }, { n: number }, number>({
      module,
      init: { res, threads: 1 },
      jobs: cores,
    });
    const ratio: number[] = [],
      a: number[] = [],
      b: number[] = [];
    for (let k = 0; k < rounds + 2; k++) {
      const t0 = performance.now();
      await one.run({ n });
      const t1 = performance.now();
      await Promise.all(Array.from({ length: cores }, () => many.run({ n })));
      const t2 = performance.now();
      if (k < 2) continue; // warm-up rounds
      const sa = n / ((t1 - t0) / 1000),
        sb = (cores * n) / ((t2 - t1) / 1000);
      a.push(sa);
      b.push(sb);
      ratio.push(sb / sa);
    }
    await one.close();
    await many.close();
    rows.push(
      `| ${res}x${res} | ${res * res} | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | **${median(ratio).toFixed(2)}x** (${ratio.map((r) => r.toFixed(2)).join(', ')}) |`,
    );
    process.stderr.write(`${rows[rows.length - 1]} load ${load()}\n`);
  }
  return [
    `Train steps per second (the paper's SIREN, width 256, depth 6, full grid, Adam; src/node/pool.ts workers), ${rounds} paired rounds after 2 warm-up rounds, each arm about 2 s of steps:`,
    '',
    `| grid | rows | 1 job x ${cores} threads: steps/s | ${cores} jobs x 1 thread: steps/s (all jobs) | jobs / threads: median (each round) |`,
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

// ---- report -------------------------------------------------------------------------------------

const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cores} cores; Node ${process.version}; onnxruntime-node ${(JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string }).version}; ${new Date().toISOString().slice(0, 10)}`;
const sections: Record<string, () => Promise<string>> = {
  throughput,
  kill: killTest,
  shards: shardsTest,
  jobs: jobsTest,
};
const file = join(ROOT, 'bench', 'many.md');
let md = existsSync(file)
  ? readFileSync(file, 'utf8')
  : '# Fitting many signals: strainer fit-many\n\n<!-- bench-many throughput: begin -->\n<!-- bench-many throughput: end -->\n\n<!-- bench-many jobs: begin -->\n<!-- bench-many jobs: end -->\n\n<!-- bench-many kill: begin -->\n<!-- bench-many kill: end -->\n\n<!-- bench-many shards: begin -->\n<!-- bench-many shards: end -->\n';
for (const part of parts) {
  const l0 = load();
  const body = await sections[part]();
  const text = `Command: \`npm run bench:many -- --part ${part}${part === 'throughput' ? ` --rounds ${rounds}` : ''}\`. Machine: ${machine}; load average ${l0} at the start, ${load()} at the end (a shared machine: the ratios are taken within one round).\n\n${body}`;
  process.stdout.write(`\n## ${part}\n\n${text}\n`);
  const begin = `<!-- bench-many ${part}: begin -->`,
    end = `<!-- bench-many ${part}: end -->`;
  const i = md.indexOf(begin),
    j = md.indexOf(end);
  md =
    i >= 0 && j > i
      ? `${md.slice(0, i + begin.length)}\n${text}\n${md.slice(j)}`
      : `${md}\n${begin}\n${text}\n${end}\n`;
  if (write) writeFileAtomic(file, md);
}
rmSync(work, { recursive: true, force: true });
