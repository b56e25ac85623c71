// The reference backend: decodes the ONNX bytes back into the IR and runs the float64 interpreter.
// Slow by design; it defines what every other backend must compute.
import { onnxToProgram } from '../onnx/read.ts';
import { evaluateProgram } from '../graph/interp.ts';
import type { Tensor } from '../graph/tensor.ts';
import type { Backend, HostTensor, Session } from './session.ts';

const toTensor = (t: HostTensor): Tensor => ({ shape: [...t.shape], data: Float64Array.from(t.data) });

export const referenceBackend: Backend = {
  name: 'reference',
  async load(model: Uint8Array): Promise<Session> {
    const { program } = onnxToProgram(model);
    const session: Session<Tensor> = {
      backend: 'reference',
      inputNames: program.inputs.map((i) => i.params.name),
      outputNames: Object.keys(program.outputs),
      run: async (feeds) => evaluateProgram(program, feeds),
      upload: toTensor,
      download: async (v) => ({ shape: [...v.shape], data: Float32Array.from(v.data) }),
      dispose: () => {},
      release: async () => {},
    };
    return session;
  },
};
