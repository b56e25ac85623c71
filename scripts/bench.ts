// `npm run bench [-- --res 178 --width 256 --iters 20]`: the SIREN train step at the paper's scale on
// onnxruntime-node against the same step's matrix multiplies alone (the machine's ceiling for this
// step), measured alternately in one run. Prints a markdown table and writes bench/core.md.
import { execSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { writeFileSync, mkdirSync } from 'node:fs';
import { topoSort, type Node, type Program } from '../src/graph/ir.ts';
import * as B from '../src/graph/builder.ts';
import { programToOnnx } from '../src/onnx/write.ts';
import { trainStepProgram } from '../src/train/programs.ts';
import { initialState } from '../src/train/trainer.ts';
import { initParams } from '../src/model/inr.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import { hostTensor, type HostTensor, type Session } from '../src/runtime/session.ts';
import { gridCoords } from '../src/train/grid.ts';
import { median } from '../src/util/stats.ts';
import type { InrConfig } from '../src/model/config.ts';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const res = arg('res', 178), width = arg('width', 256), iters = arg('iters', 15), depth = arg('depth', 6);
const c: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width, depth, omega: 30 };
const step = trainStepProgram({ config: c, batch: res * res });

/** The step's matrix products alone, each on fresh inputs of the same shapes (Gemm keeps the bias). */
function matmulsOnly(p: Program): { prog: Program; flops: number } {
  const inputs: Node<'input'>[] = [];
  const outputs: Record<string, Node> = {};
  let flops = 0;
  for (const n of topoSort(Object.values(p.outputs))) {
    if (n.op !== 'matmul' && n.op !== 'linear') continue;
    const ins = n.inputs.map((x) => { const i = B.input(`in${inputs.length}`, x.shape); inputs.push(i); return i; });
    const out = n.op === 'linear' ? B.linear(ins[0], ins[1], ins[2]) : B.matmul(ins[0], ins[1], (n as Node<'matmul'>).params.transA, (n as Node<'matmul'>).params.transB);
    const [m, k] = (n.op === 'matmul' && (n as Node<'matmul'>).params.transA) ? [n.inputs[0].shape[1], n.inputs[0].shape[0]] : [n.inputs[0].shape[0], n.inputs[0].shape[1]];
    flops += 2 * (m as number) * (k as number) * (n.shape[1] as number);
    outputs[`out${Object.keys(outputs).length}`] = out;
  }
  return { prog: { name: 'matmuls', inputs, outputs }, flops };
}

const mm = matmulsOnly(step);
const be = ortNodeBackend();
const stepSession = await be.load(programToOnnx(step));
const mmSession = await be.load(programToOnnx(mm.prog));
const st = initialState(c, initParams(c, 0));
const stepFeeds: Record<string, HostTensor> = {
  ...st, lr: hostTensor([], new Float32Array([1e-4])),
  coords: hostTensor([res * res, 2], gridCoords(res, res)),
  targets: hostTensor([res * res, 1], new Float32Array(res * res).fill(0.5)),
};
const mmFeeds: Record<string, HostTensor> = Object.fromEntries(mm.prog.inputs.map((i) => [i.params.name, hostTensor(i.params.shape as number[], new Float32Array((i.params.shape as number[]).reduce((a, b) => a * b, 1)).fill(0.01))]));

async function time(s: Session, feeds: Record<string, HostTensor>): Promise<number> {
  const up = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, s.upload(v)]));
  const t0 = performance.now();
  await s.run(up);
  return performance.now() - t0;
}

const tStep: number[] = [], tMm: number[] = [];
for (let i = 0; i < 2; i++) { await time(stepSession, stepFeeds); await time(mmSession, mmFeeds); } // warm-up
for (let i = 0; i < iters; i++) {
  tStep.push(await time(stepSession, stepFeeds));
  tMm.push(await time(mmSession, mmFeeds));
}
const ms = median(tStep), mmMs = median(tMm);
let cpu = cpus()[0]?.model ?? 'unknown';
try { cpu = execSync("lscpu | sed -n 's/^Model name: *//p'", { encoding: 'utf8' }).trim() || cpu; } catch { /* keep os.cpus() */ }
const table = [
  `Machine: ${cpu}, ${availableParallelism()} threads; onnxruntime-node ${'1.30'}; ${new Date().toISOString().slice(0, 10)}`,
  '',
  `| what (${res}x${res}, width ${width}, depth ${depth}) | median ms | GFLOP/s (matmul FLOPs / time) | vs MatMuls alone |`,
  '|---|---|---|---|',
  `| full train step (forward, backward, Adam) | ${ms.toFixed(1)} | ${(mm.flops / ms / 1e6).toFixed(1)} | ${(ms / mmMs).toFixed(3)}x |`,
  `| the step's ${Object.keys(mm.prog.outputs).length} MatMul/Gemm alone | ${mmMs.toFixed(1)} | ${(mm.flops / mmMs / 1e6).toFixed(1)} | 1.000x |`,
  '',
  `${iters} alternating runs each after 2 warm-ups; ${(mm.flops / 1e9).toFixed(2)} GFLOP of matrix products per step. Goal: step within 1.15x of its MatMuls alone.`,
].join('\n') + '\n';
process.stdout.write(table);
if (!process.argv.includes('--no-write')) {
  mkdirSync('bench', { recursive: true });
  writeFileSync('bench/core.md', `# Core train-step benchmark\n\nCommand: \`npm run bench\`\n\n${table}`);
}
await stepSession.release();
await mmSession.release();
