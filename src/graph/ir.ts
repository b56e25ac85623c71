// The graph IR: the op vocabulary (each op's typed params) and one node type for every value (inputs,
// constants and op results) with its static shape. It imports nothing: op semantics live in ops.ts,
// gradients in vjp.ts, node creation in builder.ts. It knows nothing of ONNX or protobuf (STYLE.md: IR,
// autodiff and serialization are three layers).

/** A dimension is a number, or a name for a dimension fixed only at run time (e.g. 'batch'). */
export type Dim = number | string;
export type Shape = readonly Dim[];

export interface OpParams {
  input: { name: string; shape: Shape };
  const: { value: Float64Array; shape: readonly number[] };
  add: Record<string, never>;
  sub: Record<string, never>;
  mul: Record<string, never>;
  div: Record<string, never>;
  pow: Record<string, never>;
  neg: Record<string, never>;
  sin: Record<string, never>;
  cos: Record<string, never>;
  relu: Record<string, never>;
  sign: Record<string, never>;
  sqrt: Record<string, never>;
  exp: Record<string, never>;
  log: Record<string, never>;
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

export interface Node<K extends OpName = OpName> {
  readonly id: number;
  readonly op: K;
  readonly inputs: readonly Node[];
  readonly params: OpParams[K];
  readonly shape: Shape;
  /** Set on graph inputs, named constants (parameters baked in) and graph outputs when written. */
  readonly name?: string;
}

/** Every node reachable from `outputs`, inputs before users (deterministic: depth-first, in input order). */
export function topoSort(outputs: readonly Node[]): Node[] {
  const seen = new Set<number>();
  const order: Node[] = [];
  const stack: { node: Node; done: boolean }[] = outputs.map((node) => ({ node, done: false })).reverse();
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.done) {
      order.push(top.node);
      continue;
    }
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
