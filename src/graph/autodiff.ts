// Reverse-mode autodiff over the IR: walk the graph backwards from a scalar, asking each op's VJP rule
// (vjp.ts) for its inputs' gradients and summing where a node feeds several users. The result is more
// graph, so a train step is still one graph (STYLE.md practice 4).
import { topoSort, type Node } from './ir.ts';
import { VJPS } from './vjp.ts';
import * as B from './builder.ts';

/** d(loss)/d(x) for each x in `wrt` (zeros where loss does not depend on x). */
export function grad(loss: Node, wrt: readonly Node[]): Node[] {
  if (loss.shape.length !== 0) throw new Error(`grad: loss must be a scalar, got shape [${loss.shape}]`);
  const order = topoSort([loss]);
  const grads = new Map<number, Node>([[loss.id, B.scalar(1)]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    const g = grads.get(node.id);
    if (g === undefined || node.inputs.length === 0) continue;
    const vjp = VJPS[node.op] as (n: Node, g: Node) => (Node | null)[];
    const gins = vjp(node, g);
    node.inputs.forEach((inp, k) => {
      const gi = gins[k];
      if (gi === null || gi === undefined) return;
      const prev = grads.get(inp.id);
      grads.set(inp.id, prev === undefined ? gi : B.add(prev, gi));
    });
  }
  return wrt.map(
    (x) =>
      grads.get(x.id) ??
      B.zeros(
        x.shape.map((d) => {
          if (typeof d !== 'number') throw new Error('grad: symbolic shape');
          return d;
        }),
      ),
  );
}
