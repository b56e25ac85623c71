// ONNX ModelProto bytes -> IR Program: the inverse of onnx-write.ts for the standard ops our lowering
// emits, so written files can be checked to decode to the same graph, and the reference interpreter
// can run any model strainer wrote. Any other op is refused by name.
import type { Node, Dim, Program } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';
import { UserError } from '../util/errors.ts';
import { decodeModel, DataType, type AttrObj, type TensorObj, type ModelObj } from './onnx-proto.ts';
import { ANON } from './onnx-write.ts';

function tensorValues(t: TensorObj): number[] {
  if (t.raw_data && t.raw_data.length > 0) {
    const buf = t.raw_data;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: number[] = [];
    if (t.data_type === DataType.FLOAT) for (let i = 0; i < buf.byteLength; i += 4) out.push(dv.getFloat32(i, true));
    else if (t.data_type === DataType.INT64) for (let i = 0; i < buf.byteLength; i += 8) out.push(Number(dv.getBigInt64(i, true)));
    else if (t.data_type === DataType.DOUBLE) for (let i = 0; i < buf.byteLength; i += 8) out.push(dv.getFloat64(i, true));
    else throw new UserError(`ONNX initializer '${t.name}': unsupported data type ${t.data_type}`);
    return out;
  }
  const typed = t.data_type === DataType.INT64 ? t.int64_data : t.data_type === DataType.DOUBLE ? t.double_data : t.float_data;
  return [...(typed ?? [])];
}

function attr(attrs: AttrObj[] | undefined, name: string): AttrObj | undefined {
  return attrs?.find((a) => a.name === name);
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
    const dims: Dim[] = (vi.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_param ?? d.dim_value ?? 0);
    const n = B.input(vi.name, dims);
    values.set(vi.name, n);
    return n;
  });
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (t.data_type === DataType.INT64) { int64s.set(name, tensorValues(t)); continue; }
    const dims = (t.dims ?? []).map(Number);
    values.set(name, B.constant(tensorValues(t), dims, name.startsWith(ANON) ? undefined : name));
  }
  const v = (name: string): Node => {
    const n = values.get(name);
    if (n === undefined) throw new UserError(`ONNX graph uses undefined value '${name}'`);
    return n;
  };
  const ints = (name: string): number[] => {
    const x = int64s.get(name);
    if (x === undefined) throw new UserError(`ONNX graph: '${name}' must be a constant int64 initializer`);
    return x;
  };
  for (const node of g.node ?? []) {
    const ins = node.input ?? [];
    const a = node.attribute;
    let out: Node;
    switch (node.op_type) {
      case 'Add': out = B.add(v(ins[0]), v(ins[1])); break;
      case 'Sub': out = B.sub(v(ins[0]), v(ins[1])); break;
      case 'Mul': out = B.mul(v(ins[0]), v(ins[1])); break;
      case 'Div': out = B.div(v(ins[0]), v(ins[1])); break;
      case 'Pow': out = B.pow(v(ins[0]), v(ins[1])); break;
      case 'Neg': out = B.neg(v(ins[0])); break;
      case 'Sin': out = B.sin(v(ins[0])); break;
      case 'Cos': out = B.cos(v(ins[0])); break;
      case 'Relu': out = B.relu(v(ins[0])); break;
      case 'Sign': out = B.sign(v(ins[0])); break;
      case 'Sqrt': out = B.sqrt(v(ins[0])); break;
      case 'Exp': out = B.exp(v(ins[0])); break;
      case 'Log': out = B.log(v(ins[0])); break;
      case 'Identity': out = v(ins[0]); break;
      case 'MatMul': out = B.matmul(v(ins[0]), v(ins[1])); break;
      case 'Gemm': {
        const tA = (attr(a, 'transA')?.i ?? 0) === 1, tB = (attr(a, 'transB')?.i ?? 0) === 1;
        const alpha = attr(a, 'alpha')?.f ?? 1, beta = attr(a, 'beta')?.f ?? 1;
        if (alpha !== 1 || beta !== 1) throw new UserError(`ONNX Gemm with alpha/beta != 1 is not supported`);
        out = ins.length >= 3 && ins[2] !== '' && !tA && !tB ? B.linear(v(ins[0]), v(ins[1]), v(ins[2])) : B.matmul(v(ins[0]), v(ins[1]), tA, tB);
        if (ins.length >= 3 && ins[2] !== '' && (tA || tB)) out = B.add(out, v(ins[2]));
        break;
      }
      case 'ReduceSum': out = B.reduceSum(v(ins[0]), ints(ins[1]), (attr(a, 'keepdims')?.i ?? 1) === 1); break;
      case 'Expand': out = B.expand(v(ins[0]), ints(ins[1])); break;
      case 'Reshape': out = B.reshape(v(ins[0]), ints(ins[1])); break;
      case 'Transpose': out = B.transpose(v(ins[0]), attr(a, 'perm')?.ints ?? []); break;
      case 'Concat': out = B.concat(ins.map(v), attr(a, 'axis')?.i ?? 0); break;
      case 'Slice': out = B.slice(v(ins[0]), ints(ins[3])[0], ints(ins[1])[0], ints(ins[2])[0]); break;
      default: throw new UserError(`ONNX op '${node.op_type}' is not supported by strainer's reader`);
    }
    values.set((node.output ?? [])[0], out);
  }
  const outputs: Record<string, Node> = {};
  for (const o of g.output ?? []) outputs[o.name] = v(o.name);
  const program: Program = { name: g.name ?? 'model', inputs: inputs as Node<'input'>[], outputs, ...(model.doc_string ? { doc: model.doc_string } : {}) };
  return { program, model };
}
