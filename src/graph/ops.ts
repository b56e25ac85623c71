// Every op's forward semantics, defined once: arity, shape rule, reference evaluation (float64) and
// ONNX lowering side by side (STYLE.md "one op, one record"; micrograd/tinygrad/jax-js); its gradient
// is its entry in vjp.ts (a table of its own, so this file needs no builder and the IR has no import
// circle). Both tables are mapped types over OpName, so an op missing any part fails to compile.
// Checklist for a new op: README "Adding an op".
// Lowering targets standard ONNX ops at opset 17 (ReduceSum takes axes as an input from opset 13).
import type { Node, Shape, Dim, OpName, OpParams } from './ir.ts';
import * as T from './tensor.ts';
import type { Tensor } from './tensor.ts';
import { broadcastDims } from './broadcast.ts';

/** What an op's lowering may ask of the ONNX writer; no protobuf types leak into this file. */
export interface Lowering {
  emit(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs?: Record<string, number | readonly number[]>,
  ): void;
  /** Name of a 1-D int64 initializer holding `values` (constants only, never computed shapes). */
  int64(values: readonly number[]): string;
}

export interface Rule<K extends OpName> {
  /** Number of inputs; -1 for variadic. */
  arity: number;
  shape(ins: readonly Shape[], p: OpParams[K]): Shape;
  eval(ins: readonly Tensor[], p: OpParams[K]): Tensor;
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

const noLeafEval = (): never => {
  throw new Error('leaves are evaluated by the interpreter');
};
const noLeafOnnx = (): never => {
  throw new Error('leaves are written by the ONNX writer');
};

// ---- families -----------------------------------------------------------------------------------

function unaryRule<K extends OpName>(onnxOp: string, f: (x: number) => number): Rule<K> {
  return {
    arity: 1,
    shape: ([a]) => a,
    eval: ([a]) => T.unary(a, f),
    onnx: (_n, ins, out, cx) => cx.emit(onnxOp, ins, [out]),
  };
}

function binaryRule<K extends OpName>(onnxOp: string, f: (x: number, y: number) => number): Rule<K> {
  return {
    arity: 2,
    shape: ([a, b]) => broadcast(a, b),
    eval: ([a, b]) => T.binary(a, b, f),
    onnx: (_n, ins, out, cx) => cx.emit(onnxOp, ins, [out]),
  };
}

// ---- the table ----------------------------------------------------------------------------------

export const RULES: { [K in OpName]: Rule<K> } = {
  // leaves
  input: { arity: 0, shape: (_i, p) => p.shape, eval: noLeafEval, onnx: noLeafOnnx },
  const: { arity: 0, shape: (_i, p) => p.shape, eval: noLeafEval, onnx: noLeafOnnx },

  // elementwise, binary (numpy broadcasting, as ONNX's multidirectional broadcasting)
  add: binaryRule('Add', (x, y) => x + y),
  sub: binaryRule('Sub', (x, y) => x - y),
  mul: binaryRule('Mul', (x, y) => x * y),
  div: binaryRule('Div', (x, y) => x / y),
  pow: binaryRule('Pow', (x, y) => x ** y),

  // elementwise, unary
  neg: unaryRule('Neg', (x) => -x),
  sin: unaryRule('Sin', Math.sin),
  cos: unaryRule('Cos', Math.cos),
  relu: unaryRule('Relu', (x) => Math.max(x, 0)),
  sign: unaryRule('Sign', Math.sign),
  sqrt: unaryRule('Sqrt', Math.sqrt),
  exp: unaryRule('Exp', Math.exp),
  log: unaryRule('Log', Math.log),

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
    onnx: (n, ins, out, cx) =>
      n.params.transA || n.params.transB
        ? cx.emit('Gemm', ins, [out], { transA: +n.params.transA, transB: +n.params.transB })
        : cx.emit('MatMul', ins, [out]),
  },
  linear: {
    arity: 3,
    shape: ([x, w, b]) => {
      if (x.length !== 2 || w.length !== 2 || b.length !== 1)
        throw new Error(`linear: expects x [n,k], W [k,m], b [m]; got [${x}], [${w}], [${b}]`);
      if (x[1] !== w[0] || w[1] !== b[0]) throw new Error(`linear: shapes [${x}] x [${w}] + [${b}] do not match`);
      return [x[0], w[1]];
    },
    eval: ([x, w, b]) => T.binary(T.matmul(x, w, false, false), b, (u, v) => u + v),
    onnx: (_n, ins, out, cx) => cx.emit('Gemm', ins, [out]),
  },

  // reductions and data movement
  reduceSum: {
    arity: 1,
    shape: ([a], p) =>
      p.keepdims ? a.map((d, i) => (p.axes.includes(i) ? 1 : d)) : a.filter((_, i) => !p.axes.includes(i)),
    eval: ([a], p) => T.reduceSum(a, p.axes, p.keepdims),
    onnx: (n, ins, out, cx) =>
      cx.emit('ReduceSum', [ins[0], cx.int64(n.params.axes)], [out], { keepdims: +n.params.keepdims }),
  },
  expand: {
    arity: 1,
    shape: ([a], p) => broadcast(a, p.shape),
    eval: ([a], p) => T.expandTo(a, p.shape),
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
    onnx: (n, ins, out, cx) => cx.emit('Reshape', [ins[0], cx.int64(n.params.shape)], [out]),
  },
  transpose: {
    arity: 1,
    shape: ([a], p) => {
      if (p.perm.length !== a.length || [...p.perm].sort().some((v, i) => v !== i))
        throw new Error(`transpose: bad perm [${p.perm}] for rank ${a.length}`);
      return p.perm.map((i) => a[i]);
    },
    eval: ([a], p) => T.transpose(a, p.perm),
    onnx: (n, ins, out, cx) => cx.emit('Transpose', ins, [out], { perm: n.params.perm }),
  },
  concat: {
    arity: -1,
    shape: (ins, p) => {
      if (ins.length === 0) throw new Error('concat: no inputs');
      const total = numeric(
        ins.map((s) => s[p.axis]),
        'concat axis',
      ).reduce((x, y) => x + y, 0);
      for (const s of ins) {
        if (s.length !== ins[0].length || s.some((d, i) => i !== p.axis && d !== ins[0][i]))
          throw new Error(`concat: shapes ${ins.map((x) => `[${x}]`).join(' ')} differ off axis ${p.axis}`);
      }
      return ins[0].map((d, i) => (i === p.axis ? total : d));
    },
    eval: (ins, p) => T.concat(ins, p.axis),
    onnx: (n, ins, out, cx) => cx.emit('Concat', ins, [out], { axis: n.params.axis }),
  },
  slice: {
    arity: 1,
    shape: ([a], p) => {
      const d = a[p.axis];
      if (typeof d !== 'number' || p.start < 0 || p.end > d || p.start >= p.end)
        throw new Error(`slice: [${p.start}, ${p.end}) out of axis ${p.axis} of [${a}]`);
      return a.map((x, i) => (i === p.axis ? p.end - p.start : x));
    },
    eval: ([a], p) => T.slice(a, p.axis, p.start, p.end),
    onnx: (n, ins, out, cx) =>
      cx.emit(
        'Slice',
        [ins[0], cx.int64([n.params.start]), cx.int64([n.params.end]), cx.int64([n.params.axis])],
        [out],
      ),
  },
};
