// A task module for `npm run bench:many -- --part jobs` (src/node/pool.ts): a worker holding one train
// step of the paper's SIREN on a res x res grid, on `threads` onnxruntime threads, that runs `n` steps
// when asked and answers how long they took. Two such workers of one thread against one of two threads
// is --jobs auto's question.
import { programToOnnx } from '../src/onnx/write.ts';
import { trainStepProgram } from '../src/train/programs.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import { Trainer, initialState } from '../src/train/trainer.ts';
import { initParams } from '../src/model/inr.ts';
import { hostTensor } from '../src/runtime/session.ts';
import { gridCoords } from '../src/train/grid.ts';
import type { InrConfig } from '../src/model/config.ts';
import type { Task } from '../src/node/pool.ts';

export async function createTask(init: { res: number; threads: number }): Promise<Task<{ n: number }, number>> {
  const c: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 256, depth: 6, omega: 30 };
  const rows = init.res * init.res;
  const tr = await Trainer.create(
    ortNodeBackend({ threads: init.threads }),
    programToOnnx(trainStepProgram({ config: c, batch: rows })),
    c,
    initialState(c, initParams(c, 0)),
    1e-4,
  );
  tr.setBatch(
    hostTensor([rows, 2], gridCoords(init.res, init.res)),
    hostTensor([rows, 1], new Float32Array(rows).fill(0.5)),
  );
  await tr.step(); // warm-up: onnxruntime allocates its arena on the first run
  return {
    async run({ n }) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await tr.step();
      return performance.now() - t0;
    },
    close: () => tr.release(),
  };
}
