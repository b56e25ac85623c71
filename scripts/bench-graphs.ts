// Graphs the benchmarks time next to a train step, to show where its time goes (scripts/bench.ts in
// Node, scripts/bench-web.ts in Node and Chromium): the step's matrix products alone, the step with
// its Sin/Cos swapped for Neg (timing only: wrong math), and the feeds a step at a given size needs.
import { topoSort, type Node, type Program } from '../src/graph/ir.ts';
import * as B from '../src/graph/builder.ts';
import type { InrConfig } from '../src/model/config.ts';
import { initParams } from '../src/model/inr.ts';
import { initialState } from '../src/train/trainer.ts';
import { gridCoords } from '../src/train/grid.ts';
import { hostTensor, type HostTensor } from '../src/runtime/session.ts';

/** The step's matrix products alone, each on fresh inputs of the same shapes (a Gemm keeps its bias).
 *  Each product is cut to its [1,1] corner in the graph, so a run does not also copy the large
 *  results back to JavaScript (at 178x178, ~320 MB that once inflated this baseline by ~15 %). */
export function matmulsOnly(p: Program): { prog: Program; flops: number } {
  const inputs: Node<'input'>[] = [];
  const outputs: Record<string, Node> = {};
  let flops = 0;
  for (const n of topoSort(Object.values(p.outputs))) {
    if (n.op !== 'matmul' && n.op !== 'linear') continue;
    const ins = n.inputs.map((x) => {
      const i = B.input(`in${inputs.length}`, x.shape);
      inputs.push(i);
      return i;
    });
    const tA = n.op === 'matmul' && (n as Node<'matmul'>).params.transA;
    const out =
      n.op === 'linear'
        ? B.linear(ins[0], ins[1], ins[2])
        : B.matmul(ins[0], ins[1], tA, (n as Node<'matmul'>).params.transB);
    const k = n.inputs[0].shape[tA ? 0 : 1] as number;
    flops += 2 * (n.shape[0] as number) * k * (n.shape[1] as number);
    outputs[`out${Object.keys(outputs).length}`] = B.slice(B.slice(out, 0, 0, 1), 1, 0, 1);
  }
  return { prog: { name: 'matmuls', inputs, outputs }, flops };
}

/** The same program with every Sin and Cos replaced by Neg (as cheap as an element-wise op gets):
 *  its time subtracted from the step's is what the step spends in Sin/Cos. Timing only. */
export function trigAsNeg(p: Program): Program {
  const memo = new Map<number, Node>();
  const visit = (n: Node): Node => {
    const done = memo.get(n.id);
    if (done) return done;
    const ins = n.inputs.map(visit);
    const out =
      n.op === 'sin' || n.op === 'cos'
        ? B.neg(ins[0])
        : ins.every((x, i) => x === n.inputs[i])
          ? n
          : B.apply(n.op, ins, n.params, n.name);
    memo.set(n.id, out);
    return out;
  };
  return {
    ...p,
    name: `${p.name}_trig_as_neg`,
    outputs: Object.fromEntries(Object.entries(p.outputs).map(([k, v]) => [k, visit(v)])),
  };
}

/** Feeds for a program's inputs: a fresh train state (seed 0), lr 1e-4, the res x res grid, targets
 *  0.5; any other input (a MatMul operand) is filled with 0.01. */
export function feedsFor(p: Program, c: InrConfig, res: number): Record<string, HostTensor> {
  const known: Record<string, HostTensor> = {
    ...initialState(c, initParams(c, 0)),
    lr: hostTensor([], new Float32Array([1e-4])),
    coords: hostTensor([res * res, 2], gridCoords(res, res)),
    targets: hostTensor([res * res, c.outDim], new Float32Array(res * res * c.outDim).fill(0.5)),
  };
  return Object.fromEntries(
    p.inputs.map((i) => {
      const dims = i.params.shape as number[];
      return [
        i.params.name,
        known[i.params.name] ?? hostTensor(dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.01)),
      ];
    }),
  );
}
