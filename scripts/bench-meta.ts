// `npx tsx scripts/bench-meta.ts [--res 64 --width 256 --depth 6 --tasks 3 --inner 2 --iters 10 --threads 2]`:
// what one outer step of meta-learning costs (src/train/meta.ts: MAML, first-order MAML, Reptile) in
// ordinary train steps of the same size, on onnxruntime-node. Each round runs the four graphs back to
// back, so a ratio is the median over rounds of two runs adjacent in time (the machine is shared).
// Prints a Markdown table; writes nothing.
import { availableParallelism, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { programToOnnx } from '../src/onnx/write.ts';
import { topoSort, type Program } from '../src/graph/ir.ts';
import { trainStepProgram } from '../src/train/programs.ts';
import { metaStepProgram, META_DEFAULTS, type MetaMethod } from '../src/train/meta.ts';
import { initialState } from '../src/train/trainer.ts';
import { initParams } from '../src/model/inr.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import { hostTensor, type HostTensor, type Session } from '../src/runtime/session.ts';
import { gridCoords } from '../src/train/grid.ts';
import { median } from '../src/util/stats.ts';
import { rng } from '../src/util/random.ts';
import type { InrConfig } from '../src/model/config.ts';
import { matmulsOnly } from './bench-graphs.ts';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const res = arg('res', 64),
  width = arg('width', 256),
  depth = arg('depth', 6),
  tasks = arg('tasks', META_DEFAULTS.metaBatch),
  inner = arg('inner', META_DEFAULTS.innerSteps),
  iters = arg('iters', 10),
  threads = arg('threads', 2);
const WARMUP = 2;
const rows = res * res;
const c: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width, depth, omega: 30 };

const methods: MetaMethod[] = ['maml', 'fomaml', 'reptile'];
const programs: { label: string; prog: Program; columns: number }[] = [
  { label: 'ordinary train step (Adam)', prog: trainStepProgram({ config: c, batch: rows }), columns: 1 },
  ...methods.map((method) => ({
    label: `${method} outer step`,
    prog: metaStepProgram({
      config: c,
      batch: rows,
      metaBatch: tasks,
      innerSteps: inner,
      innerLr: META_DEFAULTS.innerLr,
      method,
    }),
    columns: tasks,
  })),
];

const be = ortNodeBackend({ threads });
const r = rng(1);
const sessions: { session: Session; feeds: Record<string, unknown> }[] = [];
for (const p of programs) {
  const session = await be.load(programToOnnx(p.prog));
  const host: Record<string, HostTensor> = {
    ...initialState(c, initParams(c, 0)),
    lr: hostTensor([], new Float32Array([1e-5])),
    coords: hostTensor([rows, 2], gridCoords(res, res)),
    targets: hostTensor(
      [rows, p.columns],
      Float32Array.from({ length: rows * p.columns }, () => r.next()),
    ),
  };
  sessions.push({ session, feeds: Object.fromEntries(Object.entries(host).map(([k, v]) => [k, session.upload(v)])) });
}

const load0 = loadavg()[0];
const times: number[][] = programs.map(() => []);
for (let i = 0; i < WARMUP + iters; i++) {
  for (const [k, s] of sessions.entries()) {
    const t0 = performance.now();
    await s.session.run(s.feeds);
    const ms = performance.now() - t0;
    if (i >= WARMUP) times[k].push(ms);
  }
}
const load1 = loadavg()[0];
for (const s of sessions) await s.session.release();

const ortVersion = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
const base = times[0];
const flops0 = matmulsOnly(programs[0].prog).flops;
const lines = [
  `Machine: ${availableParallelism()} threads, onnxruntime-node ${ortVersion} with ${threads} threads; load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end; ${new Date().toISOString().slice(0, 10)}`,
  '',
  `| ${res}x${res}, width ${width}, depth ${depth}; meta batch ${tasks}, ${inner} inner SGD steps | graph nodes | median ms | in ordinary steps (median of per-round ratios) | matmul FLOPs in ordinary steps |`,
  '|---|---|---|---|---|',
  ...programs.map((p, k) => {
    const ratio = median(times[k].map((t, i) => t / base[i]));
    const flops = matmulsOnly(p.prog).flops / flops0;
    const nodes = topoSort(Object.values(p.prog.outputs)).length;
    return `| ${p.label} | ${nodes} | ${median(times[k]).toFixed(1)} | ${ratio.toFixed(2)} | ${flops.toFixed(2)} |`;
  }),
  '',
  `${iters} rounds after ${WARMUP} warm-up rounds, the four graphs back to back in each round.`,
];
process.stdout.write(lines.join('\n') + '\n');
