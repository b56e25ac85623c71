// The `graph` namespace of the core entry (`import { graph } from 'strainer'`): the IR's types, the
// node builders (`graph.ops`), reverse-mode autodiff, the float64 reference interpreter and the printer.
export type { Node, Program, Shape, Dim, OpName, OpParams } from './ir.ts';
export * as ops from './builder.ts';
export { grad } from './autodiff.ts';
export { evaluateProgram } from './interp.ts';
export { printProgram } from './print.ts';
export type { Tensor } from './tensor.ts';
