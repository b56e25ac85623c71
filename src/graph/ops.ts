// Every op, defined once: arity, shape rule, reference evaluation (float64), vector-Jacobian product
// and ONNX lowering side by side (STYLE.md "one op, one record"; micrograd/tinygrad/jax-js). The
// `RULES` table is a mapped type over OpName, so adding an op without all five parts fails to compile.
// Checklist for a new op: add its params to OpParams, its record to RULES, a case to the ONNX reader
// (src/export/onnx-read.ts), and a gradient case to tests/unit/gradcheck.test.ts.
// Lowering targets standard ONNX ops at opset 17 (ReduceSum takes axes as an input from opset 13).
import type { Node, Shape, Dim } from './ir.ts';
import * as T from './tensor.ts';
import type { Tensor } from './tensor.ts';
import * as B from './builder.ts';
import { broadcastDims } from './broadcast.ts';

export interface OpParams {
  input: { name: string; shape: Shape };
  const: { value: Float64Array; shape: readonly number[] };
  add: Record<string, never>; sub: Record<string, never>; mul: Record<string, never>;
  div: Record<string, never>; pow: Record<string, never>;
  neg: Record<string, never>; sin: Record<string, never>; cos: Record<string, never>;
  relu: Record<string, never>; sign: Record<string, never>; sqrt: Record<string, never>;
  exp: Record<string, never>; log: Record<string, never>;
  /** 2-D product op(A) op(B), op = transpose when the flag is set (ONNX Gemm semantics). */
  matmul: { transA: boolean; transB: boolean };
  /** x W + b with x [n,k], W [k,m], b [m]: one Gemm, bias fused. */
  linear: Record<string, never>;
  reduceSum: { axes: readonly number[]; keepdims: boolean };
  expand: { shape: readonly number[] };
  reshape: { shape: readonly number[] };
  transpose: { perm: readonly number[] };
  concat: { axis: number };
  slice: { axis: number; start: number; end: number };
}
export type OpName = keyof OpParams;

/** What an op's lowering may ask of the ONNX writer; no protobuf types leak into this file. */
export interface Lowering {
  emit(opType: string, inputs: readonly string[], outputs: readonly string[], attrs?: Record<string, number | readonly number[]>): void;
  /** Name of a 1-D int64 initializer holding `values` (constants only, never computed shapes). */
  int64(values: readonly number[]): string;
}

export interface Rule<K extends OpName> {
  /** Number of inputs; -1 for variadic. */
  arity: number;
  shape(ins: readonly Shape[], p: OpParams[K]): Shape;
  eval(ins: readonly Tensor[], p: OpParams[K]): Tensor;
  /** Gradients with respect to each input given the output gradient `g`; null means zero. */
  vjp(node: Node<K>, g: Node): (Node | null)[];
  onnx(node: Node<K>, ins: readonly string[], out: string, cx: Lowering): void;
}

// ---- shape helpers --------------------------------------------------------------------------------

const broadcast = (a: Shape, b: Shape): Shape => broadcastDims<Dim>(a, b);

function numeric(shape: Shape, what: string): number[] {
  return shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`${what}: needs a static shape, got symbolic dim '${d}'`);
    return d;
  });
}

const noLeafEval = (): never => { throw new Error('leaves are evaluated by the interpreter'); };
const noLeafOnnx = (): never => { throw new Error('leaves are written by the ONNX writer'); };

// ---- families -----------------------------------------------------------------------------------

function unaryRule<K extends OpName>(onnxOp: string, f: (x: number) => number, vjp: (node: Node<K>, g: Node) => Node | null): Rule<K> {
  return {
    arity: 1,
    shape: ([a]) => a,
    eval: ([a]) => T.unary(a, f),
    vjp: (node, g) => [vjp(node, g)],
    onnx: (_n, ins, out, cx) => cx.emit(onnxOp, ins, [out]),
  };
}

function binaryRule<K extends OpName>(onnxOp: string, f: (x: number, y: number) => number,
  vjp: (node: Node<K>, g: Node) => [Node | null, Node | null]): Rule<K> {
  return {
    arity: 2,
    shape: ([a, b]) => broadcast(a, b),
    eval: ([a, b]) => T.binary(a, b, f),
    vjp: (node, g) => {
      const [ga, gb] = vjp(node, g);
      return [ga && B.unbroadcast(ga, node.inputs[0].shape), gb && B.unbroadcast(gb, node.inputs[1].shape)];
    },
    onnx: (_n, ins, out, cx) => cx.emit(onnxOp, ins, [out]),
  };
}

// ---- the table ----------------------------------------------------------------------------------

export const RULES: { [K in OpName]: Rule<K> } = {
  // leaves
  input: { arity: 0, shape: (_i, p) => p.shape, eval: noLeafEval, vjp: () => [], onnx: noLeafOnnx },
  const: { arity: 0, shape: (_i, p) => p.shape, eval: noLeafEval, vjp: () => [], onnx: noLeafOnnx },

  // elementwise, binary (numpy broadcasting, as ONNX's multidirectional broadcasting)
  add: binaryRule('Add', (x, y) => x + y, (_n, g) => [g, g]),
  sub: binaryRule('Sub', (x, y) => x - y, (_n, g) => [g, B.neg(g)]),
  mul: binaryRule('Mul', (x, y) => x * y, (n, g) => [B.mul(g, n.inputs[1]), B.mul(g, n.inputs[0])]),
  div: binaryRule('Div', (x, y) => x / y, (n, g) => [B.div(g, n.inputs[1]), B.neg(B.div(B.mul(g, n), n.inputs[1]))]),
  pow: binaryRule('Pow', (x, y) => x ** y, (n, g) => {
    const [a, b] = n.inputs;
    return [B.mul(g, B.mul(b, B.pow(a, B.sub(b, 1)))), B.mul(g, B.mul(n, B.log(a)))];
  }),

  // elementwise, unary
  neg: unaryRule('Neg', (x) => -x, (_n, g) => B.neg(g)),
  sin: unaryRule('Sin', Math.sin, (n, g) => B.mul(g, B.cos(n.inputs[0]))),
  cos: unaryRule('Cos', Math.cos, (n, g) => B.neg(B.mul(g, B.sin(n.inputs[0])))),
  relu: unaryRule('Relu', (x) => Math.max(x, 0), (n, g) => B.mul(g, B.sign(n))),
  sign: unaryRule('Sign', Math.sign, () => null),
  sqrt: unaryRule('Sqrt', Math.sqrt, (n, g) => B.div(g, B.mul(n, 2))),
  exp: unaryRule('Exp', Math.exp, (n, g) => B.mul(g, n)),
  log: unaryRule('Log', Math.log, (n, g) => B.div(g, n.inputs[0])),

  // linear algebra
  matmul: {
    arity: 2,
    shape: ([a, b], p) => {
      if (a.length !== 2 || b.length !== 2) throw new Error(`matmul: 2-D operands only, got [${a}] and [${b}]`);
      const [m, k] = p.transA ? [a[1], a[0]] : [a[0], a[1]];
      const [k2, n] = p.transB ? [b[1], b[0]] : [b[0], b[1]];
      if (k !== k2) throw new Error(`matmul: inner dims ${k} and ${k2} differ ([${a}] x [${b}])`);
      return [m, n];
    },
    eval: ([a, b], p) => T.matmul(a, b, p.transA, p.transB),
    vjp: (node, g) => {
      const [a, b] = node.inputs;
      const { transA, transB } = node.params;
      const ga = transA ? B.matmul(b, g, transB, true) : B.matmul(g, b, false, !transB);
      const gb = transB ? B.matmul(g, a, true, transA) : B.matmul(a, g, !transA, false);
      return [ga, gb];
    },
    onnx: (n, ins, out, cx) => (n.params.transA || n.params.transB
      ? cx.emit('Gemm', ins, [out], { transA: +n.params.transA, transB: +n.params.transB })
      : cx.emit('MatMul', ins, [out])),
  },
  linear: {
    arity: 3,
    shape: ([x, w, b]) => {
      if (x.length !== 2 || w.length !== 2 || b.length !== 1) throw new Error(`linear: expects x [n,k], W [k,m], b [m]; got [${x}], [${w}], [${b}]`);
      if (x[1] !== w[0] || w[1] !== b[0]) throw new Error(`linear: shapes [${x}] x [${w}] + [${b}] do not match`);
      return [x[0], w[1]];
    },
    eval: ([x, w, b]) => T.binary(T.matmul(x, w, false, false), b, (u, v) => u + v),
    vjp: (node, g) => {
      const [x, w] = node.inputs;
      return [B.matmul(g, w, false, true), B.matmul(x, g, true, false), B.reduceSum(g, [0], false)];
    },
    onnx: (_n, ins, out, cx) => cx.emit('Gemm', ins, [out]),
  },

  // reductions and data movement
  reduceSum: {
    arity: 1,
    shape: ([a], p) => (p.keepdims ? a.map((d, i) => (p.axes.includes(i) ? 1 : d)) : a.filter((_, i) => !p.axes.includes(i))),
    eval: ([a], p) => T.reduceSum(a, p.axes, p.keepdims),
    vjp: (node, g) => {
      const x = node.inputs[0];
      const kept = numeric(x.shape, 'reduceSum gradient').map((d, i) => (node.params.axes.includes(i) ? 1 : d));
      const gk = node.params.keepdims ? g : B.reshape(g, kept);
      return [B.expand(gk, numeric(x.shape, 'reduceSum gradient'))];
    },
    onnx: (n, ins, out, cx) => cx.emit('ReduceSum', [ins[0], cx.int64(n.params.axes)], [out], { keepdims: +n.params.keepdims }),
  },
  expand: {
    arity: 1,
    shape: ([a], p) => broadcast(a, p.shape),
    eval: ([a], p) => T.expandTo(a, p.shape),
    vjp: (node, g) => [B.unbroadcast(g, node.inputs[0].shape)],
    onnx: (n, ins, out, cx) => cx.emit('Expand', [ins[0], cx.int64(n.params.shape)], [out]),
  },
  reshape: {
    arity: 1,
    shape: ([a], p) => {
      const from = numeric(a, 'reshape').reduce((x, y) => x * y, 1);
      const to = p.shape.reduce((x, y) => x * y, 1);
      if (from !== to || p.shape.some((d) => d < 0)) throw new Error(`reshape: cannot view [${a}] as [${p.shape}]`);
      return p.shape;
    },
    eval: ([a], p) => ({ shape: [...p.shape], data: a.data }),
    vjp: (node, g) => [B.reshape(g, numeric(node.inputs[0].shape, 'reshape gradient'))],
    onnx: (n, ins, out, cx) => cx.emit('Reshape', [ins[0], cx.int64(n.params.shape)], [out]),
  },
  transpose: {
    arity: 1,
    shape: ([a], p) => {
      if (p.perm.length !== a.length || [...p.perm].sort().some((v, i) => v !== i)) throw new Error(`transpose: bad perm [${p.perm}] for rank ${a.length}`);
      return p.perm.map((i) => a[i]);
    },
    eval: ([a], p) => T.transpose(a, p.perm),
    vjp: (node, g) => {
      const inv = new Array<number>(node.params.perm.length);
      node.params.perm.forEach((pi, i) => { inv[pi] = i; });
      return [B.transpose(g, inv)];
    },
    onnx: (n, ins, out, cx) => cx.emit('Transpose', ins, [out], { perm: n.params.perm }),
  },
  concat: {
    arity: -1,
    shape: (ins, p) => {
      if (ins.length === 0) throw new Error('concat: no inputs');
      const total = numeric(ins.map((s) => s[p.axis]), 'concat axis').reduce((x, y) => x + y, 0);
      for (const s of ins) {
        if (s.length !== ins[0].length || s.some((d, i) => i !== p.axis && d !== ins[0][i])) throw new Error(`concat: shapes ${ins.map((x) => `[${x}]`).join(' ')} differ off axis ${p.axis}`);
      }
      return ins[0].map((d, i) => (i === p.axis ? total : d));
    },
    eval: (ins, p) => T.concat(ins, p.axis),
    vjp: (node, g) => {
      let off = 0;
      return node.inputs.map((x) => {
        const len = x.shape[node.params.axis] as number;
        const part = B.slice(g, node.params.axis, off, off + len);
        off += len;
        return part;
      });
    },
    onnx: (n, ins, out, cx) => cx.emit('Concat', ins, [out], { axis: n.params.axis }),
  },
  slice: {
    arity: 1,
    shape: ([a], p) => {
      const d = a[p.axis];
      if (typeof d !== 'number' || p.start < 0 || p.end > d || p.start >= p.end) throw new Error(`slice: [${p.start}, ${p.end}) out of axis ${p.axis} of [${a}]`);
      return a.map((x, i) => (i === p.axis ? p.end - p.start : x));
    },
    eval: ([a], p) => T.slice(a, p.axis, p.start, p.end),
    vjp: (node, g) => {
      const full = numeric(node.inputs[0].shape, 'slice gradient');
      const { axis, start, end } = node.params;
      const parts: Node[] = [];
      if (start > 0) parts.push(B.zeros(full.map((d, i) => (i === axis ? start : d))));
      parts.push(g);
      if (end < full[axis]) parts.push(B.zeros(full.map((d, i) => (i === axis ? full[axis] - end : d))));
      return [parts.length === 1 ? g : B.concat(parts, axis)];
    },
    onnx: (n, ins, out, cx) => cx.emit('Slice', [ins[0], cx.int64([n.params.start]), cx.int64([n.params.end]), cx.int64([n.params.axis])], [out]),
  },
};
