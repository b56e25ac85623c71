// The graph IR: one node type for every value (inputs, constants and op results), built eagerly with
// its static shape. It knows nothing of ONNX or protobuf (STYLE.md: IR, autodiff and serialization are
// three layers). Op semantics live in ops.ts; this file only creates and orders nodes.
import { RULES, type OpName, type OpParams } from './ops.ts';

/** A dimension is a number, or a name for a dimension fixed only at run time (e.g. 'batch'). */
export type Dim = number | string;
export type Shape = readonly Dim[];

export interface Node<K extends OpName = OpName> {
  readonly id: number;
  readonly op: K;
  readonly inputs: readonly Node[];
  readonly params: OpParams[K];
  readonly shape: Shape;
  /** Set on graph inputs, named constants (parameters baked in) and graph outputs when written. */
  readonly name?: string;
}

let nextId = 0;

/** Create a node; validates inputs and derives the shape through the op's rule. */
export function apply<K extends OpName>(op: K, inputs: readonly Node[], params: OpParams[K], name?: string): Node<K> {
  const rule = RULES[op];
  if (rule.arity >= 0 && inputs.length !== rule.arity) {
    throw new Error(`${op}: expected ${rule.arity} inputs, got ${inputs.length}`);
  }
  const shape = rule.shape(inputs.map((n) => n.shape), params as never);
  return { id: nextId++, op, inputs, params, shape, ...(name === undefined ? {} : { name }) };
}

/** Every node reachable from `outputs`, inputs before users (deterministic: depth-first, in input order). */
export function topoSort(outputs: readonly Node[]): Node[] {
  const seen = new Set<number>();
  const order: Node[] = [];
  const stack: { node: Node; done: boolean }[] = outputs.map((node) => ({ node, done: false })).reverse();
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.done) { order.push(top.node); continue; }
    if (seen.has(top.node.id)) continue;
    seen.add(top.node.id);
    stack.push({ node: top.node, done: true });
    for (let i = top.node.inputs.length - 1; i >= 0; i--) {
      const inp = top.node.inputs[i];
      if (!seen.has(inp.id)) stack.push({ node: inp, done: false });
    }
  }
  return order;
}

/** A function of named inputs to named outputs: what gets written as one ONNX model. */
export interface Program {
  readonly name: string;
  readonly inputs: readonly Node<'input'>[];
  readonly outputs: Readonly<Record<string, Node>>;
  readonly doc?: string;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') throw new Error(`numel of a shape with symbolic dim ${d}`);
    n *= d;
  }
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(',')}]`;
}
