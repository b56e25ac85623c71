// `npm run bench:sharded [-- --res 178 --sizes 16,25,64 --iters 15 --shards 2 --no-write]`: the paper recipe's
// train step (SIREN width 256, depth 6, full grid, Adam) three ways on the same cores, round by round in
// one run: one onnxruntime session on all cores (Trainer), S sessions of one thread each on S threads
// (ShardedTrainer, src/node/sharded.ts), and the step's MatMuls alone on all cores (the ceiling,
// scripts/bench-graphs.ts). At the smaller --sizes only the first two. Writes its section of bench/sharded.md.
import { availableParallelism, loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { programToOnnx } from '../src/onnx/write.ts';
import { trainStepProgram, type StepSpec } from '../src/train/programs.ts';
import { splitSpec } from '../src/train/split-step.ts';
import type { StepDriver } from '../src/train/trainer.ts';
import { Trainer } from '../src/train/trainer.ts';
import { ShardedTrainer } from '../src/node/sharded.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import { hostTensor, type HostTensor } from '../src/runtime/session.ts';
import { median } from '../src/util/stats.ts';
import { writeFileAtomic } from '../src/node/fs.ts';
import type { InrConfig } from '../src/model/config.ts';
import { matmulsOnly, feedsFor } from './bench-graphs.ts';
import { threadCpu, busiest } from './thread-cpu.ts';
import { initialState } from '../src/train/trainer.ts';
import { initParams } from '../src/model/inr.ts';
import { gridCoords } from '../src/train/grid.ts';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const res = Number(arg('res', '178')),
  iters = Number(arg('iters', '15')),
  width = Number(arg('width', '256')),
  depth = Number(arg('depth', '6'));
const sizes = arg('sizes', '16,25,32,48,64,96,128')
  .split(',')
  .filter((s) => s)
  .map(Number);
const cores = availableParallelism();
const shards = Number(arg('shards', String(cores)));
const WARMUP = 2;
// The paper's recipe (REFERENCE.md): SIREN, omega 30, full image per step, Adam lr 1e-4.
const c: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width, depth, omega: 30 };

interface Pair {
  plain: StepDriver;
  sharded: StepDriver;
}

async function trainers(r: number): Promise<Pair> {
  const spec: StepSpec = { config: c, batch: r * r };
  const state = (): ReturnType<typeof initialState> => initialState(c, initParams(c, 0));
  const plain = await Trainer.create(
    ortNodeBackend({ threads: cores }),
    programToOnnx(trainStepProgram(spec)),
    c,
    state(),
    1e-4,
  );
  const sharded = await ShardedTrainer.create(splitSpec(spec), state(), 1e-4, undefined, { shards, threads: 1 });
  const coords = hostTensor([r * r, 2], gridCoords(r, r));
  const targets = hostTensor([r * r, 1], new Float32Array(r * r).fill(0.5));
  for (const t of [plain, sharded]) t.setBatch(coords, targets);
  return { plain, sharded };
}

interface Timed {
  wall: number;
  /** The busiest thread's CPU ms (scripts/thread-cpu.ts). */
  cpu: number;
}
async function timed(run: () => Promise<unknown>): Promise<Timed> {
  const a = threadCpu(),
    t0 = performance.now();
  await run();
  const wall = performance.now() - t0;
  return { wall, cpu: busiest(a, threadCpu()) };
}

const wallOf = (ts: Timed[]): number[] => ts.map((t) => t.wall),
  cpuOf = (ts: Timed[]): number[] => ts.map((t) => t.cpu);
/** Median of per-round ratios a/b: each ratio's two runs were adjacent in time. */
const paired = (a: number[], b: number[]): number => median(a.map((x, i) => x / b[i]));
/** Three views of a/b: paired wall times, paired busiest-thread CPU times, and the fastest runs' wall
 *  times (what each takes when nothing else held the cores; a step that needs every core at once is
 *  the one a shared machine's other work slows most). */
const ratios = (a: Timed[], b: Timed[]): string =>
  `${paired(wallOf(a), wallOf(b)).toFixed(3)}x / ${paired(cpuOf(a), cpuOf(b)).toFixed(3)}x / ${(Math.min(...wallOf(a)) / Math.min(...wallOf(b))).toFixed(3)}x`;
const q = (xs: number[], p: number): number => {
  const v = [...xs].sort((x, y) => x - y);
  return v[Math.min(v.length - 1, Math.floor(p * v.length))];
};
const spread = (xs: number[]): string => `${q(xs, 0.25).toFixed(1)}–${q(xs, 0.75).toFixed(1)}`;
const ms = (ts: Timed[], digits = 1): string =>
  `${median(wallOf(ts)).toFixed(digits)} (${median(cpuOf(ts)).toFixed(digits)})`;

const load0 = loadavg()[0];
const lines: string[] = [];

// ---- the paper's size: step, sharded step, MatMuls alone ----
{
  const step = trainStepProgram({ config: c, batch: res * res });
  const mm = matmulsOnly(step);
  const mmSession = await ortNodeBackend({ threads: cores }).load(programToOnnx(mm.prog));
  const mmFeeds: Record<string, unknown> = Object.fromEntries(
    Object.entries(feedsFor(mm.prog, c, res)).map(([k, v]: [string, HostTensor]) => [k, mmSession.upload(v)]),
  );
  const { plain, sharded } = await trainers(res);
  const tPlain: Timed[] = [],
    tSharded: Timed[] = [],
    tMm: Timed[] = [];
  for (let i = 0; i < WARMUP + iters; i++) {
    // One round: the step, the sharded step, the MatMuls alone, back to back.
    const a = await timed(() => plain.step()),
      b = await timed(() => sharded.step()),
      m = await timed(() => mmSession.run(mmFeeds));
    if (i >= WARMUP) {
      tPlain.push(a);
      tSharded.push(b);
      tMm.push(m);
    }
  }
  await plain.release();
  await sharded.release();
  await mmSession.release();
  const row = (label: string, t: Timed[]): string =>
    `| ${label} | ${ms(t)} | ${spread(wallOf(t))} | ${ratios(t, tMm)} | ${ratios(t, tPlain)} |`;
  lines.push(
    `| what (${res}x${res}, width ${width}, depth ${depth}) | median ms: wall (busiest thread CPU) | middle half, wall ms | vs MatMuls alone: wall / CPU / fastest | vs one-session step: wall / CPU / fastest |`,
    '|---|---|---|---|---|',
    row(`train step, one session, ${cores} intra-op threads (Trainer)`, tPlain),
    row(`train step, ${shards} shards x 1 thread (ShardedTrainer)`, tSharded),
    row(`the step's ${Object.keys(mm.prog.outputs).length} MatMul/Gemm alone, ${cores} threads`, tMm),
    '',
  );
}

// ---- smaller steps: does sharding pay? ----
if (sizes.length > 0) {
  lines.push(
    '| grid | rows | one session: median ms, wall (CPU) | sharded: median ms, wall (CPU) | sharded / one session: wall / CPU / fastest |',
    '|---|---|---|---|---|',
  );
  for (const r of sizes) {
    const { plain, sharded } = await trainers(r);
    const n = Math.max(iters, Math.ceil(3000 / r)); // small steps: more rounds
    const tPlain: Timed[] = [],
      tSharded: Timed[] = [];
    for (let i = 0; i < WARMUP + n; i++) {
      const a = await timed(() => plain.step()),
        b = await timed(() => sharded.step());
      if (i >= WARMUP) {
        tPlain.push(a);
        tSharded.push(b);
      }
    }
    await plain.release();
    await sharded.release();
    lines.push(`| ${r}x${r} | ${r * r} | ${ms(tPlain, 2)} | ${ms(tSharded, 2)} | ${ratios(tSharded, tPlain)} |`);
  }
  lines.push('');
}

const load1 = loadavg()[0];
let cpu = 'unknown CPU';
try {
  cpu = /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1].trim() ?? cpu;
} catch {
  /* no lscpu */
}
const text = [
  'Command: `npm run bench:sharded` (src/node/sharded.ts: shard 0 on the calling thread, the others in worker threads, one onnxruntime session of 1 intra-op thread each; then one apply graph sums the gradients and takes the Adam step).',
  '',
  `Machine: ${cpu}, ${cores} threads; Node ${process.version}; load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end (a shared machine: compare the ratios, each taken within one round); ${new Date().toISOString().slice(0, 10)}`,
  '',
  ...lines,
  `${iters} rounds (more at small sizes) after ${WARMUP} warm-up rounds; each round runs the steps back to back. Ratios: the median over rounds of that round's ratio of wall times; the same of the busiest thread's CPU time (worker threads included; on an idle machine about the wall time, and far less disturbed by other work); the ratio of the fastest wall times. A step is Trainer.step / ShardedTrainer.step as a fit loop calls it (the loss downloaded).`,
  '',
].join('\n');
process.stdout.write(text);
// bench/sharded.md: this script owns the part between the markers; notes around them are kept.
const BEGIN = '<!-- bench-sharded: begin -->',
  END = '<!-- bench-sharded: end -->';
if (!process.argv.includes('--no-write')) {
  const file = join(ROOT, 'bench', 'sharded.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const block = `${BEGIN}\n${text}${END}`;
  writeFileAtomic(
    file,
    old.includes(BEGIN) && old.includes(END)
      ? old.slice(0, old.indexOf(BEGIN)) + block + old.slice(old.indexOf(END) + END.length)
      : `# Sharded train step\n\n${block}\n`,
  );
}
