// The reference interpreter: evaluates a Program in float64 straight from the op table. It is the
// living definition of every op; onnxruntime's results are tested against it (tests/node).
import { topoSort, type Node, type Program } from './ir.ts';
import { RULES } from './ops.ts';
import type { Tensor } from './tensor.ts';

export function evaluate(
  nodes: readonly Node[],
  feeds: ReadonlyMap<string, Tensor> | Record<string, Tensor>,
): Tensor[] {
  const get = (name: string): Tensor | undefined =>
    feeds instanceof Map ? (feeds as ReadonlyMap<string, Tensor>).get(name) : (feeds as Record<string, Tensor>)[name];
  const vals = new Map<number, Tensor>();
  for (const node of topoSort(nodes)) {
    let v: Tensor;
    if (node.op === 'input') {
      const p = (node as Node<'input'>).params;
      const fed = get(p.name);
      if (fed === undefined) throw new Error(`evaluate: no value fed for input '${p.name}'`);
      const ok =
        fed.shape.length === p.shape.length && p.shape.every((d, i) => typeof d !== 'number' || d === fed.shape[i]);
      if (!ok) throw new Error(`evaluate: input '${p.name}' has shape [${fed.shape}], expected [${p.shape}]`);
      v = fed;
    } else if (node.op === 'const') {
      const p = (node as Node<'const'>).params;
      v = { shape: p.shape, data: p.value };
    } else {
      const rule = RULES[node.op] as { eval(ins: Tensor[], p: unknown): Tensor };
      v = rule.eval(
        node.inputs.map((i) => vals.get(i.id)!),
        node.params,
      );
    }
    vals.set(node.id, v);
  }
  return nodes.map((n) => vals.get(n.id)!);
}

export function evaluateProgram(prog: Program, feeds: Record<string, Tensor>): Record<string, Tensor> {
  const names = Object.keys(prog.outputs);
  const vals = evaluate(
    names.map((k) => prog.outputs[k]),
    feeds,
  );
  return Object.fromEntries(names.map((k, i) => [k, vals[i]]));
}
