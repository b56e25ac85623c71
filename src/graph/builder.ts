// The user-facing way to build graphs: small functions over Nodes (numbers become scalar constants).
// Each is a thin call to `apply`, which checks arity and derives the shape through the op's rule
// (ops.ts) as the graph is built.
import type { Node, Shape, OpName, OpParams } from './ir.ts';
import { RULES } from './ops.ts';

let nextId = 0;

/** Create a node; validates inputs and derives the shape through the op's rule. */
export function apply<K extends OpName>(op: K, inputs: readonly Node[], params: OpParams[K], name?: string): Node<K> {
  const rule = RULES[op];
  if (rule.arity >= 0 && inputs.length !== rule.arity) {
    throw new Error(`${op}: expected ${rule.arity} inputs, got ${inputs.length}`);
  }
  const shape = rule.shape(
    inputs.map((n) => n.shape),
    params as never,
  );
  return { id: nextId++, op, inputs, params, shape, ...(name === undefined ? {} : { name }) };
}

export type Operand = Node | number;

export function input(name: string, shape: Shape): Node<'input'> {
  return apply('input', [], { name, shape }, name);
}

/** A constant tensor (float64 values, written as float32). `name` marks a baked-in parameter. */
export function constant(value: ArrayLike<number>, shape: readonly number[], name?: string): Node<'const'> {
  const n = shape.reduce((a, b) => a * b, 1);
  if (value.length !== n) throw new Error(`constant: ${value.length} values for shape [${shape}]`);
  return apply('const', [], { value: Float64Array.from(value), shape: [...shape] }, name);
}

export function scalar(v: number): Node<'const'> {
  return constant([v], []);
}

export function zeros(shape: readonly number[]): Node<'const'> {
  return constant(new Float64Array(shape.reduce((a, b) => a * b, 1)), shape);
}

const lift = (x: Operand): Node => (typeof x === 'number' ? scalar(x) : x);

export const add = (a: Operand, b: Operand): Node => apply('add', [lift(a), lift(b)], {});
export const sub = (a: Operand, b: Operand): Node => apply('sub', [lift(a), lift(b)], {});
export const mul = (a: Operand, b: Operand): Node => apply('mul', [lift(a), lift(b)], {});
export const div = (a: Operand, b: Operand): Node => apply('div', [lift(a), lift(b)], {});
export const pow = (a: Operand, b: Operand): Node => apply('pow', [lift(a), lift(b)], {});
export const neg = (a: Node): Node => apply('neg', [a], {});
export const sin = (a: Node): Node => apply('sin', [a], {});
export const cos = (a: Node): Node => apply('cos', [a], {});
export const relu = (a: Node): Node => apply('relu', [a], {});
export const sign = (a: Node): Node => apply('sign', [a], {});
export const sqrt = (a: Node): Node => apply('sqrt', [a], {});
export const exp = (a: Node): Node => apply('exp', [a], {});
export const log = (a: Node): Node => apply('log', [a], {});
export const square = (a: Node): Node => mul(a, a);

export const matmul = (a: Node, b: Node, transA = false, transB = false): Node =>
  apply('matmul', [a, b], { transA, transB });
export const linear = (x: Node, w: Node, b: Node): Node => apply('linear', [x, w, b], {});
export const reduceSum = (a: Node, axes: readonly number[], keepdims = false): Node =>
  apply('reduceSum', [a], { axes: [...axes], keepdims });
export const expand = (a: Node, shape: readonly number[]): Node => apply('expand', [a], { shape: [...shape] });
export const reshape = (a: Node, shape: readonly number[]): Node => apply('reshape', [a], { shape: [...shape] });
export const transpose = (a: Node, perm: readonly number[]): Node => apply('transpose', [a], { perm: [...perm] });
export const concat = (parts: readonly Node[], axis: number): Node => apply('concat', parts, { axis });
export const slice = (a: Node, axis: number, start: number, end: number): Node =>
  apply('slice', [a], { axis, start, end });

/** Sum of every element, as a scalar. */
export const sumAll = (a: Node): Node =>
  reduceSum(
    a,
    a.shape.map((_, i) => i),
    false,
  );

/** Sum `g` down to `shape` over the axes that broadcasting stretched (the VJP of broadcasting). */
export function unbroadcast(g: Node, shape: Shape): Node {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const pad = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < pad || (shape[i - pad] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length > 0 ? reduceSum(g, axes, true) : g;
  if (summed.shape.length === shape.length) return summed;
  return reshape(
    summed,
    shape.map((d) => {
      if (typeof d !== 'number') throw new Error('unbroadcast: symbolic target shape');
      return d;
    }),
  );
}
