// onnxruntime-node against the reference interpreter for the meta step (MAML, first-order MAML,
// Reptile) and the SGD fit step, within float32 tolerance; then a small learning check on real MRI
// slices: a MAML init trained by the unchanged Trainer beats a random SIREN init after 2 inner SGD steps.
import { describe, it, expect } from 'vitest';
import { programToOnnx } from '../../src/onnx/write.ts';
import { trainStepProgram, stateKeys, stateNames } from '../../src/train/programs.ts';
import { metaStepProgram, type MetaMethod } from '../../src/train/meta.ts';
import { Trainer, initialState, type State } from '../../src/train/trainer.ts';
import { initParams, type Params } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { referenceBackend } from '../../src/runtime/reference.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { hostTensor, type HostTensor } from '../../src/runtime/session.ts';
import { gridCoords, psnrFromMse } from '../../src/train/grid.ts';
import { stackTargets } from '../../src/train/pretrain.ts';
import { loadNifti } from '../../src/node/read.ts';
import { referenceSplit, mriSliceImage } from '../../src/data/mri.ts';
import type { Image } from '../../src/data/pixels.ts';
import { rng } from '../../src/util/random.ts';
import { outputsOn, maxRelDiff } from './outputs.ts';

const H = 6,
  W = 5,
  ROWS = H * W;

/** A state away from the start (step 4, random moments) so the Adam bias corrections are exercised. */
function state(c: InrConfig, seed: number): State {
  const st = initialState(c, initParams(c, seed));
  st.step = hostTensor([], new Float32Array([4]));
  const r = rng(seed + 6);
  for (const k of Object.keys(st))
    if (k.startsWith('adam_'))
      st[k].data.forEach((_, i, a) => {
        a[i] = k.startsWith('adam_v') ? r.uniform(0, 1e-4) : r.uniform(-1e-2, 1e-2);
      });
  return st;
}

function feedsFor(c: InrConfig, st: State, columns: number, lr: number, seed: number): Record<string, HostTensor> {
  const r = rng(seed);
  return {
    ...st,
    lr: hostTensor([], new Float32Array([lr])),
    coords: hostTensor([ROWS, c.inDim], gridCoords(H, W)),
    targets: hostTensor(
      [ROWS, columns],
      Float32Array.from({ length: ROWS * columns }, () => r.next()),
    ),
  };
}

function expectClose(ort: Record<string, Float32Array>, ref: Record<string, Float32Array>, keys: string[]): void {
  expect(Object.keys(ort).sort()).toEqual(Object.keys(ref).sort());
  for (const k of keys) {
    const { max, first } = maxRelDiff(ort[k], ref[k]);
    expect(max, `${k}: max rel diff ${max}; first mismatch ${first}`).toBeLessThan(2e-3);
  }
}

const siren: InrConfig = { kind: 'siren', inDim: 2, outDim: 2, width: 16, depth: 4, omega: 30 };
const reluFf: InrConfig = {
  kind: 'relu-ff',
  inDim: 2,
  outDim: 1,
  width: 16,
  depth: 3,
  omega: 30,
  ffFeatures: 8,
  ffScale: 3,
  ffSeed: 7,
};

describe('meta step: onnxruntime-node equals the reference interpreter', () => {
  const cases: [MetaMethod, InrConfig][] = [
    ['maml', siren],
    ['fomaml', siren],
    ['reptile', siren],
    ['maml', reluFf],
  ];
  for (const [method, c] of cases) {
    it(`${method}, ${c.kind} width ${c.width} depth ${c.depth}, 3 tasks x 2 inner steps`, async () => {
      const spec = { config: c, batch: ROWS, metaBatch: 3, innerSteps: 2, innerLr: 1e-2, method };
      const model = programToOnnx(metaStepProgram(spec));
      const st = state(c, 3);
      const feeds = feedsFor(c, st, 3 * c.outDim, 1e-3, 9);
      const [ref, ort] = await outputsOn([referenceBackend, ortNodeBackend({ threads: 1 })], model, feeds);
      expect(ort.mse.length).toBe(3 * c.outDim);
      expect(ort.loss[0]).toBeGreaterThan(0);
      expect(ort.loss[0]).toBeLessThan(ort.inner_loss[0]);
      expectClose(ort, ref, ['loss', 'mse', 'inner_loss', ...stateKeys(c).map(stateNames.next)]);
      expect(maxRelDiff(ort['next.decoder.bias'], st['decoder.bias'].data).max).toBeGreaterThan(0);
    });
  }
});

describe('SGD fit step: onnxruntime-node equals the reference interpreter', () => {
  for (const c of [siren, reluFf]) {
    it(`${c.kind}: p - lr g, moments passed through unchanged, step counted`, async () => {
      const model = programToOnnx(trainStepProgram({ config: c, batch: ROWS, optimizer: 'sgd' }));
      const st = state(c, 4);
      const feeds = feedsFor(c, st, c.outDim, 1e-2, 8);
      const [ref, ort] = await outputsOn([referenceBackend, ortNodeBackend({ threads: 1 })], model, feeds);
      expectClose(ort, ref, ['loss', 'mse', ...stateKeys(c).map(stateNames.next)]);
      for (const k of stateKeys(c).filter((k) => k.startsWith('adam_')))
        expect(ort[stateNames.next(k)], k).toEqual(st[k].data);
      expect(ort['next.step'][0]).toBe(5);
      expect(maxRelDiff(ort['next.decoder.weight'], st['decoder.weight'].data).max).toBeGreaterThan(0);
    });
  }

  it('with lr_encoder 0 the encoder stays put and the decoder moves as in the plain SGD step', async () => {
    const c = siren;
    const st = state(c, 5);
    const base = feedsFor(c, st, c.outDim, 1e-2, 7);
    const plain = programToOnnx(trainStepProgram({ config: c, batch: ROWS, optimizer: 'sgd' }));
    const split = programToOnnx(trainStepProgram({ config: c, batch: ROWS, optimizer: 'sgd', encoderLr: true }));
    const be = ortNodeBackend({ threads: 1 });
    const [a] = await outputsOn([be], plain, base);
    const [b] = await outputsOn([be], split, { ...base, lr_encoder: hostTensor([], new Float32Array([0])) });
    for (const k of stateKeys(c).filter((k) => k.startsWith('encoder.')))
      expect(b[stateNames.next(k)], k).toEqual(st[k].data);
    expect(b['next.decoder.weight']).toEqual(a['next.decoder.weight']);
  });
});

describe('MAML learns an init on real MRI slices', () => {
  it('after 2 inner SGD steps a MAML init (300 outer steps, 32x32, width 64) beats a random init on held-out slices', async () => {
    const res = 32,
      rows = res * res,
      tasks = 3,
      innerLr = 1e-2;
    const config: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 64, depth: 4, omega: 30 };
    const vol = loadNifti('data/ch2bet.nii.gz');
    const split = referenceSplit(vol);
    const train = split.train.map((z) => mriSliceImage(vol, z, res));
    const be = ortNodeBackend({ threads: 1 });
    const coords = hostTensor([rows, 2], gridCoords(res, res));
    const meta = programToOnnx(
      metaStepProgram({ config, batch: rows, metaBatch: tasks, innerSteps: 2, innerLr, method: 'maml' }),
    );
    // Outer Adam lr 1e-4, not Learnit's 1e-5: Learnit trains for 150K outer steps, this check for 300.
    const trainer = await Trainer.create(be, meta, config, initialState(config, initParams(config, 0)), 1e-4);
    const r = rng(5);
    const outer: number[] = [];
    let theta: Params;
    try {
      for (let i = 0; i < 300; i++) {
        const pick = Array.from({ length: tasks }, () => train[r.int(train.length)]);
        trainer.setBatch(coords, hostTensor([rows, tasks], stackTargets(pick, { range: 'unit' })));
        const s = await trainer.step({ mse: i === 299 });
        if (i === 299) expect(s.mse?.length).toBe(tasks);
        outer.push(psnrFromMse(s.loss, 'unit'));
      }
      theta = await trainer.params(config);
    } finally {
      await trainer.release();
    }
    const sgd = programToOnnx(trainStepProgram({ config, batch: rows, optimizer: 'sgd' }));
    /** PSNR after 2 inner SGD steps from `p`: the loss of a third step is measured before its update. */
    const after2 = async (p: Params, img: Image): Promise<number> => {
      const tr = await Trainer.create(be, sgd, config, initialState(config, p), innerLr);
      tr.setBatch(coords, hostTensor([rows, 1], img.data));
      let loss = 0;
      for (let k = 0; k < 3; k++) loss = (await tr.step()).loss;
      await tr.release();
      return psnrFromMse(loss, 'unit');
    };
    const lines: string[] = [];
    for (const z of split.test) {
      const img = mriSliceImage(vol, z, res);
      const [a, b] = [await after2(theta, img), await after2(initParams(config, 1), img)];
      lines.push(`z${z}: MAML ${a.toFixed(2)} dB, random ${b.toFixed(2)} dB`);
      // Measured here: about 26 dB against 9 dB.
      expect(a).toBeGreaterThan(b + 10);
    }
    console.log(
      `outer PSNR ${outer[0].toFixed(2)} -> ${outer[299].toFixed(2)} dB; after 2 inner SGD steps on held-out slices:\n  ${lines.join('\n  ')}`,
    );
  }, 120_000);
});
