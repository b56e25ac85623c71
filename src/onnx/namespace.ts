// The `onnx` namespace of the core entry: a graph program to ONNX bytes and back (opset 17, IR 8).
export { programToOnnx, type WriteOptions } from './write.ts';
export { onnxToProgram } from './read.ts';
