// The split train step (src/train/split-step.ts) against the unsharded one, in float64 on the reference
// interpreter with no runtime in between: S shard gradient programs plus the apply program must give
// trainStepProgram's loss, MSE and next state to rounding (~1e-12), over several steps, for shard
// counts that do and do not divide the rows.
import { describe, it, expect } from 'vitest';
import { evaluateProgram } from '../../src/graph/interp.ts';
import { tensor, type Tensor } from '../../src/graph/tensor.ts';
import { trainStepProgram, stateKeys, stateNames, type StepSpec } from '../../src/train/programs.ts';
import {
  applyProgram,
  gradProgram,
  shardInput,
  splitRows,
  splitSpec,
  splitStateKeys,
} from '../../src/train/split-step.ts';
import { initialState } from '../../src/train/trainer.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { initParams } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { rng } from '../../src/util/random.ts';

const c: InrConfig = { kind: 'siren', inDim: 2, outDim: 2, width: 8, depth: 3, omega: 30 };

/** Rows [start, end) of a [rows, cols] tensor. */
const rowsOf = (t: Tensor, start: number, end: number): Tensor => {
  const cols = t.shape[1];
  return tensor([end - start, cols], t.data.subarray(start * cols, end * cols));
};

/** Largest |a - b| / max(1e-6, |b|). */
const relDiff = (a: Tensor, b: Tensor): number => {
  let m = 0;
  for (let i = 0; i < a.data.length; i++)
    m = Math.max(m, Math.abs(a.data[i] - b.data[i]) / Math.max(1e-6, Math.abs(b.data[i])));
  return m;
};

describe('split step: S shards + apply equal the unsharded step (float64 interpreter)', () => {
  it('splitRows: contiguous, covering, sizes within one', () => {
    expect(splitRows(7, 3)).toEqual([
      [0, 3],
      [3, 5],
      [5, 7],
    ]);
    expect(splitRows(4, 1)).toEqual([[0, 4]]);
    expect(() => splitRows(2, 3)).toThrow(/cannot be split/);
  });

  for (const [h, w, shards, signals, encoderLr] of [
    [5, 3, 1, 1, false],
    [5, 3, 2, 2, false],
    [7, 4, 3, 1, true],
  ] as const) {
    it(`${h}x${w} rows in ${shards} shard(s), ${signals} signal(s)${encoderLr ? ', separate encoder lr' : ''}`, () => {
      const rows = h * w;
      const spec: StepSpec = { config: c, batch: rows, signals, ...(encoderLr ? { encoderLr } : {}) };
      const full = trainStepProgram(spec);
      const split = splitSpec(spec);
      const ranges = splitRows(rows, shards);
      const grads = ranges.map(([a, b]) => gradProgram(split.loss, b - a, rows));
      const apply = applyProgram(split, shards);
      expect(splitStateKeys(split.loss)).toEqual(stateKeys(c));

      const r = rng(5);
      const coords = tensor([rows, 2], gridCoords(h, w));
      const targets = tensor(
        [rows, c.outDim],
        Array.from({ length: rows * c.outDim }, () => r.uniform(-1, 1)),
      );
      const lrs: Record<string, Tensor> = {
        lr: tensor([], [1e-3]),
        ...(encoderLr ? { lr_encoder: tensor([], [3e-4]) } : {}),
      };
      const init = initialState(c, initParams(c, 1));
      let a: Record<string, Tensor> = Object.fromEntries(
        stateKeys(c).map((k) => [k, tensor(init[k].shape, init[k].data)]),
      );
      let b = a;
      for (let step = 0; step < 3; step++) {
        const outA = evaluateProgram(full, { ...a, ...lrs, coords, targets });
        const feeds: Record<string, Tensor> = { ...b, ...lrs };
        ranges.forEach(([s, e], k) => {
          const out = evaluateProgram(grads[k], { ...b, coords: rowsOf(coords, s, e), targets: rowsOf(targets, s, e) });
          for (const [name, v] of Object.entries(out)) feeds[shardInput(k, name)] = v;
        });
        const outB = evaluateProgram(apply, feeds);
        expect(Object.keys(outB).sort()).toEqual(Object.keys(outA).sort());
        for (const k of Object.keys(outA)) expect(relDiff(outB[k], outA[k]), `step ${step} ${k}`).toBeLessThan(1e-12);
        a = Object.fromEntries(stateKeys(c).map((k) => [k, outA[stateNames.next(k)]]));
        b = Object.fromEntries(stateKeys(c).map((k) => [k, outB[stateNames.next(k)]]));
      }
      // the parameters moved
      expect(relDiff(b['decoder.bias'], tensor([c.outDim], init['decoder.bias'].data))).toBeGreaterThan(1e-6);
    });
  }

  it('refuses a measurement that mixes rows', () => {
    const down = { name: 'down2', observedRows: (n: number) => n / 2, apply: (y: never) => y };
    expect(() => splitSpec({ config: c, batch: 4, measurement: down })).toThrow(/identity measurement/);
  });
});
