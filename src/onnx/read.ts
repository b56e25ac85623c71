// ONNX ModelProto bytes -> IR Program: the inverse of write.ts for the standard ops our lowering
// emits, so written files can be checked to decode to the same graph, and the reference interpreter
// can run any model strainer wrote. READ is a mapped type over the IR's ops, so an op added to the IR
// without a reader fails to compile. Any other ONNX op is refused by name; any file that is not a
// well-formed graph of them (names, shapes, initializer sizes) is refused with one UserError line.
import type { Node, Dim, Program, OpName } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';
import { UserError } from '../util/errors.ts';
import { decodeModel, DataType, type AttrObj, type TensorObj, type ModelObj } from './proto.ts';
import { ANON } from './write.ts';

const ELEMENT_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.INT64]: 8, [DataType.DOUBLE]: 8 };

function tensorValues(t: TensorObj): number[] {
  if (t.raw_data && t.raw_data.length > 0) {
    const buf = t.raw_data;
    const size = ELEMENT_BYTES[t.data_type ?? 0];
    if (size === undefined) throw new UserError(`ONNX initializer '${t.name}': unsupported data type ${t.data_type}`);
    if (buf.byteLength % size !== 0)
      throw new UserError(
        `ONNX initializer '${t.name}': ${buf.byteLength} bytes of raw data is not a whole number of ${size}-byte values`,
      );
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: number[] = [];
    if (t.data_type === DataType.FLOAT) for (let i = 0; i < buf.byteLength; i += 4) out.push(dv.getFloat32(i, true));
    else if (t.data_type === DataType.INT64)
      for (let i = 0; i < buf.byteLength; i += 8) out.push(Number(dv.getBigInt64(i, true)));
    else for (let i = 0; i < buf.byteLength; i += 8) out.push(dv.getFloat64(i, true));
    return out;
  }
  const typed =
    t.data_type === DataType.INT64 ? t.int64_data : t.data_type === DataType.DOUBLE ? t.double_data : t.float_data;
  return [...(typed ?? [])];
}

const isName = (s: unknown): s is string => typeof s === 'string' && s !== '';
const isDim = (d: unknown): d is number => Number.isSafeInteger(d) && (d as number) >= 0;

/** Runs a builder call: its shape errors (plain Errors) describe the file, so they become UserErrors. */
function build<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof UserError || !(e instanceof Error)) throw e;
    throw new UserError(`ONNX ${what}: ${e.message.replace(/\s+/g, ' ')}`);
  }
}

function attr(attrs: AttrObj[] | undefined, name: string): AttrObj | undefined {
  return attrs?.find((a) => a.name === name);
}

interface ReadContext {
  /** The value an input name refers to. */
  v(name: string): Node;
  /** A constant int64 initializer's values (shapes and axes are never computed in our graphs). */
  ints(name: string): number[];
  /** The same, as a shape: non-negative sizes. */
  shape(name: string): number[];
  /** The same, holding exactly one value (our lowering slices one axis at a time). */
  one(name: string): number;
  attr(name: string): AttrObj | undefined;
}
type Reader = (ins: readonly string[], cx: ReadContext) => Node;

/** For every op of the IR (leaves aside): the ONNX op types its lowering (ops.ts) emits, and how to read them back. */
const READ: { [K in Exclude<OpName, 'input' | 'const'>]: { from: readonly string[]; read: Reader } } = {
  add: { from: ['Add'], read: ([a, b], cx) => B.add(cx.v(a), cx.v(b)) },
  sub: { from: ['Sub'], read: ([a, b], cx) => B.sub(cx.v(a), cx.v(b)) },
  mul: { from: ['Mul'], read: ([a, b], cx) => B.mul(cx.v(a), cx.v(b)) },
  div: { from: ['Div'], read: ([a, b], cx) => B.div(cx.v(a), cx.v(b)) },
  pow: { from: ['Pow'], read: ([a, b], cx) => B.pow(cx.v(a), cx.v(b)) },
  neg: { from: ['Neg'], read: ([a], cx) => B.neg(cx.v(a)) },
  sin: { from: ['Sin'], read: ([a], cx) => B.sin(cx.v(a)) },
  cos: { from: ['Cos'], read: ([a], cx) => B.cos(cx.v(a)) },
  relu: { from: ['Relu'], read: ([a], cx) => B.relu(cx.v(a)) },
  sign: { from: ['Sign'], read: ([a], cx) => B.sign(cx.v(a)) },
  sqrt: { from: ['Sqrt'], read: ([a], cx) => B.sqrt(cx.v(a)) },
  exp: { from: ['Exp'], read: ([a], cx) => B.exp(cx.v(a)) },
  log: { from: ['Log'], read: ([a], cx) => B.log(cx.v(a)) },
  matmul: { from: ['MatMul'], read: ([a, b], cx) => B.matmul(cx.v(a), cx.v(b)) },
  // Gemm: `linear` (x W + b) without transposes, else a transposed matmul plus the bias.
  linear: {
    from: ['Gemm'],
    read: (ins, cx) => {
      const tA = (cx.attr('transA')?.i ?? 0) === 1,
        tB = (cx.attr('transB')?.i ?? 0) === 1;
      const alpha = cx.attr('alpha')?.f ?? 1,
        beta = cx.attr('beta')?.f ?? 1;
      if (alpha !== 1 || beta !== 1) throw new UserError(`ONNX Gemm with alpha/beta != 1 is not supported`);
      const bias = ins.length >= 3 && ins[2] !== '' ? cx.v(ins[2]) : null;
      if (bias && !tA && !tB) return B.linear(cx.v(ins[0]), cx.v(ins[1]), bias);
      const prod = B.matmul(cx.v(ins[0]), cx.v(ins[1]), tA, tB);
      return bias ? B.add(prod, bias) : prod;
    },
  },
  reduceSum: {
    from: ['ReduceSum'],
    read: ([a, axes], cx) => {
      const x = cx.v(a),
        ax = cx.ints(axes);
      // Our lowering writes axes as non-negative indices; anything else would be silently ignored by the IR.
      if (!ax.every((i) => i >= 0 && i < x.shape.length))
        throw new UserError(`ONNX ReduceSum: axes [${ax}] out of range for rank ${x.shape.length}`);
      return B.reduceSum(x, ax, (cx.attr('keepdims')?.i ?? 1) === 1);
    },
  },
  expand: { from: ['Expand'], read: ([a, shape], cx) => B.expand(cx.v(a), cx.shape(shape)) },
  reshape: { from: ['Reshape'], read: ([a, shape], cx) => B.reshape(cx.v(a), cx.shape(shape)) },
  transpose: { from: ['Transpose'], read: ([a], cx) => B.transpose(cx.v(a), cx.attr('perm')?.ints ?? []) },
  concat: {
    from: ['Concat'],
    read: (ins, cx) =>
      B.concat(
        ins.map((x) => cx.v(x)),
        cx.attr('axis')?.i ?? 0,
      ),
  },
  slice: {
    from: ['Slice'],
    read: ([a, starts, ends, axes], cx) => B.slice(cx.v(a), cx.one(axes), cx.one(starts), cx.one(ends)),
  },
};

const BY_ONNX_TYPE = new Map<string, Reader>();
for (const { from, read } of Object.values(READ)) {
  for (const t of from) {
    if (BY_ONNX_TYPE.has(t)) throw new Error(`ONNX reader: op type ${t} claimed twice`);
    BY_ONNX_TYPE.set(t, read);
  }
}

export function onnxToProgram(bytes: Uint8Array): { program: Program; model: ModelObj } {
  let model: ModelObj;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new UserError(`not a valid ONNX model (${(e as Error).message})`);
  }
  const g = model.graph;
  if (!g) throw new UserError('ONNX model has no graph');
  const values = new Map<string, Node>();
  const int64s = new Map<string, number[]>();
  const inputs = (g.input ?? []).map((vi) => {
    if (!isName(vi.name)) throw new UserError('ONNX graph input without a name');
    const dims: Dim[] = (vi.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_param ?? d.dim_value ?? 0);
    if (!dims.every((d) => isName(d) || isDim(d)))
      throw new UserError(`ONNX graph input '${vi.name}': bad shape [${dims}]`);
    const n = B.input(vi.name, dims);
    values.set(vi.name, n);
    return n;
  });
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (t.data_type === DataType.INT64) {
      int64s.set(name, tensorValues(t));
      continue;
    }
    const dims = (t.dims ?? []).map(Number);
    if (!dims.every(isDim)) throw new UserError(`ONNX initializer '${name}': bad shape [${dims}]`);
    const data = tensorValues(t);
    values.set(
      name,
      build(`initializer '${name}'`, () => B.constant(data, dims, name.startsWith(ANON) ? undefined : name)),
    );
  }
  const v = (name: string): Node => {
    const n = values.get(name);
    if (n === undefined) throw new UserError(`ONNX graph uses undefined value '${name}'`);
    return n;
  };
  const ints = (name: string): number[] => {
    const x = int64s.get(name);
    if (x === undefined) throw new UserError(`ONNX graph: '${name}' must be a constant int64 initializer`);
    if (!x.every(Number.isSafeInteger))
      throw new UserError(`ONNX graph: int64 initializer '${name}' holds values beyond 2^53`);
    return x;
  };
  const shape = (name: string): number[] => {
    const x = ints(name);
    if (!x.every(isDim)) throw new UserError(`ONNX graph: shape '${name}' = [${x}] has a negative size`);
    return x;
  };
  const one = (name: string): number => {
    const x = ints(name);
    if (x.length !== 1) throw new UserError(`ONNX graph: '${name}' must hold one value, holds ${x.length}`);
    return x[0];
  };
  for (const node of g.node ?? []) {
    const ins = node.input ?? [];
    const a = node.attribute;
    const outName = (node.output ?? [])[0];
    if (!isName(outName)) throw new UserError(`ONNX node '${node.name ?? node.op_type}' has no output name`);
    let out: Node;
    if (node.op_type === 'Identity') out = v(ins[0]);
    else {
      const reader = BY_ONNX_TYPE.get(node.op_type);
      if (!reader) throw new UserError(`ONNX op '${node.op_type}' is not supported by strainer's reader`);
      out = build(`node '${outName}' (${node.op_type})`, () =>
        reader(ins, { v, ints, shape, one, attr: (name) => attr(a, name) }),
      );
    }
    values.set(outName, out);
  }
  const outputs: Record<string, Node> = {};
  for (const o of g.output ?? []) {
    if (!isName(o.name)) throw new UserError('ONNX graph output without a name');
    outputs[o.name] = v(o.name);
  }
  const program: Program = {
    name: g.name ?? 'model',
    inputs: inputs,
    outputs,
    ...(model.doc_string ? { doc: model.doc_string } : {}),
  };
  return { program, model };
}
