// `npm run bench [-- --res 178 --width 256 --depth 6 --iters 15 --no-jax --no-write]`: the SIREN train
// step at the paper's scale on onnxruntime-node against (1) the same step's matrix multiplies alone (the
// machine's ceiling for this step) and (2) the same recipe under JAX/XLA on the same cores, measured in
// turn, round by round, in one run. Writes its section of bench/core.md (other sections are kept).
// JAX is optional: $STRAINER_JAX_PYTHON, else .cache/jax-venv/bin/python (make it with
// `python3 -m venv .cache/jax-venv && .cache/jax-venv/bin/pip install jax jaxlib`); skipped with a note when absent.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { programToOnnx } from '../src/onnx/write.ts';
import { trainStepProgram } from '../src/train/programs.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import type { HostTensor, Session } from '../src/runtime/session.ts';
import { median } from '../src/util/stats.ts';
import { writeFileAtomic } from '../src/node/fs.ts';
import type { InrConfig } from '../src/model/config.ts';
import { matmulsOnly, feedsFor, trigAsNeg } from './bench-graphs.ts';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const res = arg('res', 178),
  width = arg('width', 256),
  iters = arg('iters', 15),
  depth = arg('depth', 6);
const WARMUP = 2;
// The paper's recipe (REFERENCE.md): SIREN, omega 30, full image per step, Adam.
const c: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width, depth, omega: 30 };
const step = trainStepProgram({ config: c, batch: res * res });

/** CPU time (ns) each thread of a process has run so far (Linux schedstat; empty where there is none). */
function threadCpu(pid: number | 'self'): Map<string, number> {
  const m = new Map<string, number>();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        m.set(t, Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        /* thread ended */
      }
    }
  } catch {
    /* not Linux */
  }
  return m;
}
/** The busiest thread's CPU ms between two snapshots. On an idle machine a run takes about this long
 *  (onnxruntime's calling thread runs the one-thread kernels and its share of the parallel ones); on a
 *  shared one it is far less disturbed than wall time, which also counts the time other work held the cores. */
function busiest(a: Map<string, number>, b: Map<string, number>): number {
  let max = 0;
  for (const [t, ns] of b) max = Math.max(max, ns - (a.get(t) ?? 0));
  return max / 1e6;
}
interface Timed {
  wall: number;
  cpu: number;
}

/** The same step under JAX (scripts/bench-jax.py), one step per request so its steps interleave with ours. */
interface Jax {
  version: string;
  step(): Promise<Timed>;
  close(): void;
}
async function startJax(): Promise<Jax | string> {
  if (process.argv.includes('--no-jax')) return 'not run (--no-jax)';
  const py = process.env.STRAINER_JAX_PYTHON ?? join(ROOT, '.cache', 'jax-venv', 'bin', 'python');
  if (!existsSync(py))
    return `skipped: no Python with JAX at ${py} (python3 -m venv .cache/jax-venv && .cache/jax-venv/bin/pip install jax jaxlib, or set STRAINER_JAX_PYTHON)`;
  const child: ChildProcessWithoutNullStreams = spawn(py, [
    join(ROOT, 'scripts', 'bench-jax.py'),
    String(res),
    String(width),
    String(depth),
    String(c.omega),
  ]);
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`JAX process ended: ${err.trim().split('\n').pop() ?? ''}`);
    return r.value;
  };
  try {
    const ready = await next();
    const m = /^ready \S+ jax (\S+)/.exec(ready);
    if (!m) throw new Error(ready);
    return {
      version: m[1],
      async step() {
        const a = threadCpu(child.pid!);
        child.stdin.write('step\n');
        const wall = Number((await next()).split(' ')[0]);
        return { wall, cpu: busiest(a, threadCpu(child.pid!)) };
      },
      close() {
        child.stdin.end('quit\n');
      },
    };
  } catch (e) {
    child.kill();
    return `skipped: JAX did not start (${(e as Error).message.slice(0, 200)})`;
  }
}

const mm = matmulsOnly(step);
const be = ortNodeBackend();
const stepSession = await be.load(programToOnnx(step));
const mmSession = await be.load(programToOnnx(mm.prog));
const noTrig = trigAsNeg(step);
const noTrigSession = await be.load(programToOnnx(noTrig));
const stepFeeds = feedsFor(step, c, res);
const mmFeeds = feedsFor(mm.prog, c, res);
const noTrigFeeds = feedsFor(noTrig, c, res);

async function time(s: Session, feeds: Record<string, HostTensor>): Promise<Timed> {
  const up = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, s.upload(v)]));
  const a = threadCpu('self'),
    t0 = performance.now();
  await s.run(up);
  const wall = performance.now() - t0;
  return { wall, cpu: busiest(a, threadCpu('self')) };
}

const load0 = loadavg()[0];
const jax = await startJax();
const tStep: Timed[] = [],
  tMm: Timed[] = [],
  tNoTrig: Timed[] = [],
  tJax: Timed[] = [];
for (let i = 0; i < WARMUP + iters; i++) {
  // One round: our step, its MatMuls, the step without Sin/Cos, the JAX step, back to back, so
  // they share the machine's state.
  const a = await time(stepSession, stepFeeds),
    b = await time(mmSession, mmFeeds),
    d = await time(noTrigSession, noTrigFeeds);
  const j = typeof jax === 'string' ? { wall: NaN, cpu: NaN } : await jax.step();
  if (i >= WARMUP) {
    tStep.push(a);
    tMm.push(b);
    tNoTrig.push(d);
    tJax.push(j);
  }
}
if (typeof jax !== 'string') jax.close();
await stepSession.release();
await mmSession.release();
await noTrigSession.release();
const load1 = loadavg()[0];

const q = (xs: number[], p: number): number => {
  const v = [...xs].sort((x, y) => x - y);
  return v[Math.min(v.length - 1, Math.floor(p * v.length))];
};
const wall = (ts: Timed[]): number[] => ts.map((t) => t.wall),
  cpuOf = (ts: Timed[]): number[] => ts.map((t) => t.cpu);
/** Median of the per-round ratios: each ratio's two runs were adjacent in time. */
const paired = (a: number[], b: number[]): number => median(a.map((x, i) => x / b[i]));
const spread = (xs: number[]): string => `${q(xs, 0.25).toFixed(0)}–${q(xs, 0.75).toFixed(0)}`;
let cpu = 'unknown CPU';
try {
  cpu = /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1].trim() ?? cpu;
} catch {
  /* no lscpu */
}
const ortVersion = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
const hasJax = typeof jax !== 'string';
const gf = (t: number): string => (mm.flops / t / 1e6).toFixed(1);
const ratio = (a: Timed[], b: Timed[]): string =>
  `${paired(wall(a), wall(b)).toFixed(3)}x (${paired(cpuOf(a), cpuOf(b)).toFixed(3)}x)`;
const row = (label: string, t: Timed[]): string =>
  `| ${label} | ${median(wall(t)).toFixed(1)} | ${spread(wall(t))} | ${median(cpuOf(t)).toFixed(1)} | ${gf(median(wall(t)))} | ${ratio(t, tMm)} | ${hasJax ? ratio(t, tJax) : '–'} |`;
const rows = [
  row('full train step (forward, backward, Adam)', tStep),
  row(`the step's ${Object.keys(mm.prog.outputs).length} MatMul/Gemm alone`, tMm),
  row('the step with its Sin/Cos as Neg (timing only: their share)', tNoTrig),
  hasJax ? row(`the same step under JAX ${jax.version} (XLA, CPU)`, tJax) : null,
].filter((r) => r !== null);
const verdict = (w: number, c: number, goal: number): string =>
  `${w.toFixed(3)}x wall, ${c.toFixed(3)}x CPU, ${w <= goal && c <= goal ? 'met' : w > goal && c > goal ? 'missed' : 'met by one measure only'}`;
const trigMs = median(tStep.map((t, i) => t.wall - tNoTrig[i].wall)),
  trigCpu = median(tStep.map((t, i) => t.cpu - tNoTrig[i].cpu));
const section =
  [
    `Machine: ${cpu}, ${availableParallelism()} threads; onnxruntime-node ${ortVersion}; load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end (a shared machine: compare the ratios, each taken within one round); ${new Date().toISOString().slice(0, 10)}`,
    '',
    `| what (${res}x${res}, width ${width}, depth ${depth}) | median ms | middle half (ms) | busiest thread CPU (ms) | GFLOP/s (matmul FLOPs / median ms) | vs MatMuls alone: wall (CPU) | vs JAX step: wall (CPU) |`,
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `${iters} rounds after ${WARMUP} warm-up rounds; each round runs the step, its MatMuls, the step without Sin/Cos and ${hasJax ? 'the JAX step' : '(no JAX)'} back to back; a ratio is the median over rounds of that round's ratio, of wall times and (in brackets) of the busiest thread's CPU time, which on an idle machine is about the wall time and is far less disturbed by other work. ${(mm.flops / 1e9).toFixed(2)} GFLOP of matrix products per step.`,
    hasJax ? '' : `JAX step: ${jax}.`,
    `Sin/Cos (onnxruntime runs them on one thread): ${trigMs.toFixed(1)} ms of the step's wall time, ${trigCpu.toFixed(1)} ms of its busiest thread's CPU time (medians of per-round differences).`,
    `Goals (issue 11): the step within 1.10x of its MatMuls alone: ${verdict(paired(wall(tStep), wall(tMm)), paired(cpuOf(tStep), cpuOf(tMm)), 1.1)} (without its Sin/Cos: ${paired(wall(tNoTrig), wall(tMm)).toFixed(3)}x); ` +
      `at most 0.85x the JAX step: ${hasJax ? verdict(paired(wall(tStep), wall(tJax)), paired(cpuOf(tStep), cpuOf(tJax)), 0.85) : 'not measured'}.`,
  ]
    .filter((l, i, a) => !(l === '' && a[i - 1] === ''))
    .join('\n') + '\n';
process.stdout.write(section);

// bench/core.md: this script owns the part between the markers; text around them (notes, other
// benchmarks' lines) is kept.
const BEGIN = '<!-- npm run bench: begin -->',
  END = '<!-- npm run bench: end -->';
if (!process.argv.includes('--no-write')) {
  const file = join(ROOT, 'bench', 'core.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const block = `${BEGIN}\n${section}${END}`;
  const text =
    old.includes(BEGIN) && old.includes(END)
      ? old.slice(0, old.indexOf(BEGIN)) + block + old.slice(old.indexOf(END) + END.length)
      : `# Core train-step benchmark\n\nCommand: \`npm run bench\`\n\n${block}\n`;
  writeFileAtomic(file, text);
}
