// onnxruntime-node adapter. run() is synchronous inside the native addon (it blocks the event loop;
// REFERENCE.md), outputs come back as fresh CPU buffers. Threads default to the machine's cores.
// CUDA: onnxruntime-node's postinstall is skipped here (ONNXRUNTIME_NODE_INSTALL=skip, see README);
// a GPU user reinstalls it with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 and sets STRAINER_EP=cuda.
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import type { Backend, HostTensor, Session } from './session.ts';
import { UserError } from '../util/errors.ts';

export interface OrtNodeOptions { threads?: number; executionProvider?: 'cpu' | 'cuda' }

export function ortNodeBackend(opts: OrtNodeOptions = {}): Backend {
  const ep = opts.executionProvider ?? (process.env.STRAINER_EP === 'cuda' ? 'cuda' : 'cpu');
  return {
    name: `onnxruntime-node (${ep})`,
    async load(model: Uint8Array): Promise<Session> {
      let s: ort.InferenceSession;
      try {
        s = await ort.InferenceSession.create(model, {
          executionProviders: [ep],
          graphOptimizationLevel: 'all',
          intraOpNumThreads: opts.threads ?? availableParallelism(),
          interOpNumThreads: 1,
          executionMode: 'sequential',
          // Idle pool threads sleep instead of spinning (onnxruntime session config
          // session.intra_op.allow_spinning): with several processes on few cores, spinning threads
          // steal the time slices the working ones need. STRAINER_ORT_SPIN=1 restores spinning.
          extra: { session: { intra_op: { allow_spinning: process.env.STRAINER_ORT_SPIN === '1' ? '1' : '0' } } },
        });
      } catch (e) {
        throw new UserError(`onnxruntime-node could not load the model (${(e as Error).message.split('\n')[0]})`);
      }
      const session: Session<ort.Tensor> = {
        backend: `onnxruntime-node (${ep})`,
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: async (feeds) => (await s.run(feeds)) as Record<string, ort.Tensor>,
        upload: (t: HostTensor) => new ort.Tensor('float32', t.data, [...t.dims]),
        download: async (v) => ({ dims: [...v.dims], data: v.data as Float32Array }),
        dispose: () => {},
        release: () => s.release(),
      };
      return session as Session;
    },
  };
}
