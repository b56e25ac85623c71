// The ONNX writer and reader are inverses: written files decode back to the same graph (same printed
// text, same constants), and the printed train step of a tiny SIREN is snapshot-tested so that any
// change to autodiff or lowering shows up as a readable diff (regenerate: `npx vitest run -u`).
import { describe, it, expect } from 'vitest';
import { programToOnnx } from '../../src/onnx/write.ts';
import { onnxToProgram } from '../../src/onnx/read.ts';
import { decodeModel, IR_VERSION, OPSET } from '../../src/onnx/proto.ts';
import { printProgram } from '../../src/graph/print.ts';
import { trainStepProgram, inferenceProgram, encoderProgram } from '../../src/train/programs.ts';
import { initParams } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { topoSort } from '../../src/graph/ir.ts';
import { UserError } from '../../src/util/errors.ts';

const tiny: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 4, depth: 3, omega: 30 };

describe('ONNX round trip', () => {
  const progs = [
    trainStepProgram({ config: tiny, batch: 9 }),
    trainStepProgram({
      config: {
        kind: 'relu-ff',
        inDim: 2,
        outDim: 3,
        width: 8,
        depth: 3,
        omega: 30,
        ffFeatures: 4,
        ffScale: 10,
        ffSeed: 1,
      },
      batch: 5,
    }),
    inferenceProgram(tiny, initParams(tiny, 0)),
    encoderProgram(tiny),
  ];
  for (const p of progs) {
    it(`${p.name} decodes to the same graph`, () => {
      const bytes = programToOnnx(p);
      const back = onnxToProgram(bytes).program;
      expect(printProgram(back)).toBe(printProgram(p));
      const consts = (q: typeof p) =>
        topoSort(Object.values(q.outputs))
          .filter((n) => n.op === 'const')
          .map((n) => [...(n.params as { value: Float64Array }).value].map((v) => Math.fround(v)));
      expect(consts(back)).toEqual(consts(p));
    });
  }

  it('writes the IR version and opset onnxruntime-web and -node load', () => {
    const m = decodeModel(programToOnnx(progs[0]));
    expect(m.ir_version).toBe(IR_VERSION);
    expect(m.opset_import?.[0]?.version).toBe(OPSET);
    const ops = new Set(m.graph?.node?.map((n) => n.op_type));
    for (const op of ops)
      expect([
        'Gemm',
        'MatMul',
        'Sin',
        'Cos',
        'Mul',
        'Add',
        'Sub',
        'Div',
        'Pow',
        'Sqrt',
        'Neg',
        'ReduceSum',
        'Expand',
        'Reshape',
        'Identity',
      ]).toContain(op);
    expect(ops.has('Shape')).toBe(false); // no int64 shape arithmetic
  });

  it('refuses bytes that are not ONNX', () => {
    expect(() => onnxToProgram(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(UserError);
  });

  it('printed train step of a tiny SIREN (snapshot)', () => {
    expect(printProgram(trainStepProgram({ config: tiny, batch: 4 }))).toMatchSnapshot();
  });
});
