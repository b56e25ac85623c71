// Loads the ONNX protobuf schema (a subset of the official onnx.proto3, see onnx.proto) into
// protobufjs. Only src/onnx knows field numbers; the IR never sees protobuf types.
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from './schema.ts';

const root = protobuf.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace);
export const ModelProto = root.lookupType('onnx.ModelProto');

/** ONNX IR version and default-domain opset we write: loadable by onnxruntime >= 1.14, node and web
 *  (REFERENCE.md: 1.30 accepts IR <= 13, opset <= 26; opset 13+ takes ReduceSum axes as an input). */
export const IR_VERSION = 8;
export const OPSET = 17;

export const DataType = { FLOAT: 1, INT64: 7, DOUBLE: 11 } as const;
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

// Plain-object shapes of the decoded messages we use (protobufjs toObject with longs as numbers).
export interface DimObj {
  dim_value?: number;
  dim_param?: string;
}
export interface ValueInfoObj {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DimObj[] } } };
}
export interface AttrObj {
  name: string;
  type?: number;
  i?: number;
  f?: number;
  ints?: number[];
  floats?: number[];
}
export interface NodeObj {
  input?: string[];
  output?: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: AttrObj[];
}
export interface TensorObj {
  name?: string;
  dims?: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int64_data?: number[];
  double_data?: number[];
}
export interface GraphObj {
  name?: string;
  node?: NodeObj[];
  initializer?: TensorObj[];
  input?: ValueInfoObj[];
  output?: ValueInfoObj[];
  doc_string?: string;
}
export interface ModelObj {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  graph?: GraphObj;
  metadata_props?: { key: string; value: string }[];
}

export function encodeModel(model: ModelObj): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

export function decodeModel(bytes: Uint8Array): ModelObj {
  const msg = ModelProto.decode(bytes);
  return ModelProto.toObject(msg, { longs: Number, defaults: false, arrays: true });
}
