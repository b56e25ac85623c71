// IR Program -> ONNX ModelProto bytes. Inputs become graph inputs, constants become float32
// initializers (named constants keep their names: baked-in parameters), every other node is lowered
// by its op's own rule in ops.ts through the small `Lowering` interface implemented here.
import { topoSort, type Node, type Program } from '../graph/ir.ts';
import { RULES, type Lowering } from '../graph/ops.ts';
import {
  encodeModel,
  IR_VERSION,
  OPSET,
  DataType,
  AttrType,
  type AttrObj,
  type NodeObj,
  type TensorObj,
  type ValueInfoObj,
} from './proto.ts';

export const PRODUCER = 'strainer';
export const PRODUCER_VERSION = '0.1.0';
/** Prefix of initializer names the writer invents; the reader maps them back to unnamed constants. */
export const ANON = 'const:';

function valueInfo(name: string, shape: Node['shape']): ValueInfoObj {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: DataType.FLOAT,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorObj {
  const f32 = Float32Array.from(values);
  return { name, dims: [...dims], data_type: DataType.FLOAT, raw_data: new Uint8Array(f32.buffer) };
}

export interface WriteOptions {
  metadata?: Record<string, string>;
}

export function programToOnnx(prog: Program, opts: WriteOptions = {}): Uint8Array {
  const outNames = Object.keys(prog.outputs);
  const order = topoSort(outNames.map((k) => prog.outputs[k]));
  const nodes: NodeObj[] = [];
  const inits: TensorObj[] = [];
  const names = new Map<number, string>();
  const int64Cache = new Map<string, string>();
  let tmp = 0;

  // Graph outputs take the output's name directly where the node is an op result used once as output.
  const claimed = new Map<number, string>();
  for (const k of outNames) {
    const n = prog.outputs[k];
    if (n.op !== 'input' && n.op !== 'const' && !claimed.has(n.id)) claimed.set(n.id, k);
  }
  const declared = new Set(prog.inputs.map((i) => i.params.name));
  for (const n of order) {
    if (n.op === 'input') {
      const name = (n as Node<'input'>).params.name;
      if (!declared.has(name)) throw new Error(`program ${prog.name}: input '${name}' is used but not declared`);
      names.set(n.id, name);
    }
  }

  const cx: Lowering & { attrs(a?: Record<string, number | readonly number[]>): AttrObj[] } = {
    attrs: (a) =>
      Object.entries(a ?? {}).map(([name, v]) =>
        typeof v === 'number' ? { name, type: AttrType.INT, i: v } : { name, type: AttrType.INTS, ints: [...v] },
      ),
    emit(opType, inputs, outputs, attrs) {
      nodes.push({
        op_type: opType,
        name: `${opType}_${nodes.length}`,
        input: [...inputs],
        output: [...outputs],
        attribute: cx.attrs(attrs),
      });
    },
    int64(values) {
      const key = values.join(',');
      let name = int64Cache.get(key);
      if (name === undefined) {
        name = `int64:${int64Cache.size}`;
        int64Cache.set(key, name);
        inits.push({ name, dims: [values.length], data_type: DataType.INT64, int64_data: [...values] });
      }
      return name;
    },
  };

  for (const n of order) {
    if (n.op === 'input') continue;
    if (n.op === 'const') {
      const p = (n as Node<'const'>).params;
      const name = n.name ?? `${ANON}${tmp++}`;
      names.set(n.id, name);
      inits.push(floatTensor(name, p.shape, p.value));
      continue;
    }
    const out = claimed.get(n.id) ?? `t${tmp++}`;
    names.set(n.id, out);
    const rule = RULES[n.op] as { onnx(n: Node, ins: readonly string[], out: string, cx: Lowering): void };
    rule.onnx(
      n,
      n.inputs.map((i) => names.get(i.id)!),
      out,
      cx,
    );
  }
  // Outputs that are leaves, or a second name for an already-named value, get an Identity.
  for (const k of outNames) {
    const n = prog.outputs[k];
    if (claimed.get(n.id) !== k) cx.emit('Identity', [names.get(n.id)!], [k]);
  }

  return encodeModel({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: PRODUCER,
    producer_version: PRODUCER_VERSION,
    doc_string: prog.doc ?? '',
    graph: {
      name: prog.name,
      node: nodes,
      initializer: inits,
      input: prog.inputs.map((i) => valueInfo(i.params.name, i.params.shape)),
      output: outNames.map((k) => valueInfo(k, prog.outputs[k].shape)),
    },
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}
