// onnxruntime-node against the reference interpreter: one full train step (forward, autodiff, Adam)
// of a small SIREN and of a ReLU+Fourier-features net must agree within float32 tolerance.
import { describe, it, expect } from 'vitest';
import { programToOnnx } from '../../src/onnx/write.ts';
import { trainStepProgram, inferenceProgram, stateKeys, stateNames } from '../../src/train/programs.ts';
import { initialState } from '../../src/train/trainer.ts';
import { initParams } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { referenceBackend } from '../../src/runtime/reference.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { hostTensor, type HostTensor } from '../../src/runtime/session.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { rng } from '../../src/util/random.ts';
import { outputsOn, maxRelDiff } from './outputs.ts';

const configs: InrConfig[] = [
  { kind: 'siren', inDim: 2, outDim: 3, width: 16, depth: 4, omega: 30 },
  { kind: 'relu-ff', inDim: 2, outDim: 1, width: 16, depth: 3, omega: 30, ffFeatures: 8, ffScale: 3, ffSeed: 7 },
];

describe('train step: onnxruntime-node equals the reference interpreter', () => {
  for (const c of configs) {
    it(`${c.kind} width ${c.width} depth ${c.depth}`, async () => {
      const h = 6,
        w = 5;
      const model = programToOnnx(trainStepProgram({ config: c, batch: h * w }));
      const st = initialState(c, initParams(c, 3));
      st.step = hostTensor([], new Float32Array([4])); // exercise the bias correction at t = 5
      const r = rng(9);
      for (const k of Object.keys(st))
        if (k.startsWith('adam_'))
          st[k].data.forEach((_, i, a) => {
            a[i] = k.startsWith('adam_v') ? r.uniform(0, 1e-4) : r.uniform(-1e-2, 1e-2);
          });
      const feeds: Record<string, HostTensor> = {
        ...st,
        lr: hostTensor([], new Float32Array([1e-3])),
        coords: hostTensor([h * w, 2], gridCoords(h, w)),
        targets: hostTensor(
          [h * w, c.outDim],
          Float32Array.from({ length: h * w * c.outDim }, () => r.next()),
        ),
      };
      const [ref, ort] = await outputsOn([referenceBackend, ortNodeBackend({ threads: 1 })], model, feeds);
      expect(Object.keys(ort).sort()).toEqual(Object.keys(ref).sort());
      expect(ort.loss[0]).toBeGreaterThan(0);
      for (const k of ['loss', 'mse', ...stateKeys(c).map(stateNames.next)]) {
        const { max, first } = maxRelDiff(ort[k], ref[k]);
        expect(max, `${k}: max rel diff ${max}; first mismatch ${first}`).toBeLessThan(2e-3);
      }
      // params actually moved
      expect(maxRelDiff(ort['next.decoder.bias'], st['decoder.bias'].data).max).toBeGreaterThan(0);
    });
  }

  it('inference graph with a symbolic batch runs at any size', async () => {
    const c = configs[0];
    const s = await ortNodeBackend().load(programToOnnx(inferenceProgram(c, initParams(c, 1))));
    for (const n of [1, 7, 30]) {
      const out = await s.run({ coords: s.upload(hostTensor([n, 2], new Float32Array(n * 2))) });
      expect((await s.download(out.output)).shape).toEqual([n, 3]);
    }
    await s.release();
  });

  it('a separate encoder learning rate: 0 freezes the encoder, equal to lr is the plain step', async () => {
    const c = configs[0],
      h = 6,
      w = 5;
    const st = initialState(c, initParams(c, 3));
    const r = rng(2);
    const base: Record<string, HostTensor> = {
      ...st,
      lr: hostTensor([], new Float32Array([1e-3])),
      coords: hostTensor([h * w, 2], gridCoords(h, w)),
      targets: hostTensor(
        [h * w, c.outDim],
        Float32Array.from({ length: h * w * c.outDim }, () => r.next()),
      ),
    };
    const run = async (encoderLr: number | null): Promise<Record<string, Float32Array>> => {
      const s = await ortNodeBackend({ threads: 1 }).load(
        programToOnnx(trainStepProgram({ config: c, batch: h * w, encoderLr: encoderLr !== null })),
      );
      const feeds = encoderLr === null ? base : { ...base, lr_encoder: hostTensor([], new Float32Array([encoderLr])) };
      expect(s.inputNames.includes('lr_encoder')).toBe(encoderLr !== null);
      const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, s.upload(v)])));
      const host: Record<string, Float32Array> = {};
      for (const k of s.outputNames) host[k] = (await s.download(out[k])).data;
      await s.release();
      return host;
    };
    const [plain, same, frozen] = [await run(null), await run(1e-3), await run(0)];
    for (const k of stateKeys(c).map(stateNames.next)) expect(same[k], k).toEqual(plain[k]);
    for (const k of stateKeys(c).filter((k) => k.startsWith('encoder.')))
      expect(frozen[stateNames.next(k)], k).toEqual(st[k].data);
    expect(frozen['next.decoder.weight']).toEqual(plain['next.decoder.weight']);
    expect(maxRelDiff(frozen['next.decoder.weight'], st['decoder.weight'].data).max).toBeGreaterThan(0);
  });
});
