// Every op's vector-Jacobian product, one entry per op (tinygrad keeps its gradients in their own
// table, imported only by autodiff): given a node and the gradient `g` of the loss with respect to its
// output, the gradients with respect to each input (null: zero). A mapped type over OpName makes the
// compiler demand an entry for every op in ir.ts. Gradients are more graph, built with builder.ts.
import type { Node, OpName } from './ir.ts';
import * as B from './builder.ts';

type Vjp<K extends OpName> = (node: Node<K>, g: Node) => (Node | null)[];

function numeric(n: Node, what: string): number[] {
  return n.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`${what}: needs a static shape, got symbolic dim '${d}'`);
    return d;
  });
}

/** Binary elementwise ops broadcast; their input gradients are summed back to each input's shape. */
const broadcasting =
  <K extends OpName>(f: (n: Node<K>, g: Node) => [Node | null, Node | null]): Vjp<K> =>
  (node, g) => {
    const [ga, gb] = f(node, g);
    return [ga && B.unbroadcast(ga, node.inputs[0].shape), gb && B.unbroadcast(gb, node.inputs[1].shape)];
  };

export const VJPS: { [K in OpName]: Vjp<K> } = {
  input: () => [],
  const: () => [],

  add: broadcasting((_n, g) => [g, g]),
  sub: broadcasting((_n, g) => [g, B.neg(g)]),
  mul: broadcasting((n, g) => [B.mul(g, n.inputs[1]), B.mul(g, n.inputs[0])]),
  div: broadcasting((n, g) => [B.div(g, n.inputs[1]), B.neg(B.div(B.mul(g, n), n.inputs[1]))]),
  pow: broadcasting((n, g) => {
    const [a, b] = n.inputs;
    return [B.mul(g, B.mul(b, B.pow(a, B.sub(b, 1)))), B.mul(g, B.mul(n, B.log(a)))];
  }),

  neg: (_n, g) => [B.neg(g)],
  sin: (n, g) => [B.mul(g, B.cos(n.inputs[0]))],
  cos: (n, g) => [B.neg(B.mul(g, B.sin(n.inputs[0])))],
  relu: (n, g) => [B.mul(g, B.sign(n))],
  sign: () => [null],
  sqrt: (n, g) => [B.div(g, B.mul(n, 2))],
  exp: (n, g) => [B.mul(g, n)],
  log: (n, g) => [B.div(g, n.inputs[0])],

  matmul: (node, g) => {
    const [a, b] = node.inputs;
    const { transA, transB } = node.params;
    const ga = transA ? B.matmul(b, g, transB, true) : B.matmul(g, b, false, !transB);
    const gb = transB ? B.matmul(g, a, true, transA) : B.matmul(a, g, !transA, false);
    return [ga, gb];
  },
  linear: (node, g) => {
    const [x, w] = node.inputs;
    return [B.matmul(g, w, false, true), B.matmul(x, g, true, false), B.reduceSum(g, [0], false)];
  },

  reduceSum: (node, g) => {
    const full = numeric(node.inputs[0], 'reduceSum gradient');
    const kept = full.map((d, i) => (node.params.axes.includes(i) ? 1 : d));
    const gk = node.params.keepdims ? g : B.reshape(g, kept);
    return [B.expand(gk, full)];
  },
  expand: (node, g) => [B.unbroadcast(g, node.inputs[0].shape)],
  reshape: (node, g) => [B.reshape(g, numeric(node.inputs[0], 'reshape gradient'))],
  transpose: (node, g) => {
    const inv = new Array<number>(node.params.perm.length);
    node.params.perm.forEach((pi, i) => {
      inv[pi] = i;
    });
    return [B.transpose(g, inv)];
  },
  concat: (node, g) => {
    let off = 0;
    return node.inputs.map((x) => {
      const len = x.shape[node.params.axis] as number;
      const part = B.slice(g, node.params.axis, off, off + len);
      off += len;
      return part;
    });
  },
  slice: (node, g) => {
    const full = numeric(node.inputs[0], 'slice gradient');
    const { axis, start, end } = node.params;
    const parts: Node[] = [];
    if (start > 0) parts.push(B.zeros(full.map((d, i) => (i === axis ? start : d))));
    parts.push(g);
    if (end < full[axis]) parts.push(B.zeros(full.map((d, i) => (i === axis ? full[axis] - end : d))));
    return [parts.length === 1 ? g : B.concat(parts, axis)];
  },
};
