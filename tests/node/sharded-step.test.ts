// ShardedTrainer (src/node/sharded.ts) on onnxruntime-node: S shards (shard 0 on this thread, the rest
// in worker threads) must give the unsharded train step's losses and states within float32 tolerance
// over several steps, for row counts the shards do not split evenly; a divergence is reported as
// Trainer reports it; release() and a dead worker leave no thread running and no step hanging.
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { programToOnnx } from '../../src/onnx/write.ts';
import { trainStepProgram, stateKeys, type StepSpec } from '../../src/train/programs.ts';
import { splitSpec } from '../../src/train/split-step.ts';
import type { StepDriver } from '../../src/train/trainer.ts';
import { Trainer, initialState, DivergenceError, type State } from '../../src/train/trainer.ts';
import { ShardedTrainer, autoShards, SHARD_MIN_ROWS } from '../../src/node/sharded.ts';
import { initParams } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { hostTensor, type HostTensor } from '../../src/runtime/session.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { rng } from '../../src/util/random.ts';
import { maxRelDiff } from './outputs.ts';

const c: InrConfig = { kind: 'siren', inDim: 2, outDim: 3, width: 16, depth: 4, omega: 30 };
const ROOT = join(import.meta.dirname, '..', '..');

/** A fresh state with Adam moments already under way (as tests/node/train-step.test.ts), so that no
 *  update is a near-tie of signs that float32 summation order could flip. */
function startState(): State {
  const st = initialState(c, initParams(c, 3));
  st.step = hostTensor([], new Float32Array([4]));
  const r = rng(9);
  for (const k of Object.keys(st))
    if (k.startsWith('adam_'))
      st[k].data.forEach((_, i, a) => {
        a[i] = k.startsWith('adam_v') ? r.uniform(0, 1e-4) : r.uniform(-1e-2, 1e-2);
      });
  return st;
}

function batch(h: number, w: number): [HostTensor, HostTensor] {
  const r = rng(4);
  return [
    hostTensor([h * w, 2], gridCoords(h, w)),
    hostTensor(
      [h * w, c.outDim],
      Float32Array.from({ length: h * w * c.outDim }, () => r.uniform(-1, 1)),
    ),
  ];
}

/** Losses of `steps` steps and the state after them. */
async function drive(t: StepDriver, steps: number): Promise<{ losses: number[]; state: State }> {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await t.step()).loss);
  return { losses, state: await t.state() };
}

describe('ShardedTrainer equals the unsharded train step (onnxruntime-node)', () => {
  for (const [h, w, shards, encoderLr] of [
    [6, 5, 1, undefined],
    [7, 5, 2, undefined],
    [7, 5, 3, 3e-4],
  ] as const) {
    it(`${h}x${w} rows in ${shards} shard(s)${encoderLr ? ', separate encoder lr' : ''}`, async () => {
      const spec: StepSpec = { config: c, batch: h * w, ...(encoderLr ? { encoderLr: true } : {}) };
      const [coords, targets] = batch(h, w);
      const plain = await Trainer.create(
        ortNodeBackend({ threads: 1 }),
        programToOnnx(trainStepProgram(spec)),
        c,
        startState(),
        1e-3,
        encoderLr,
      );
      const sharded = await ShardedTrainer.create(splitSpec(spec), startState(), 1e-3, encoderLr, { shards });
      try {
        expect(sharded.backend).toMatch(new RegExp(`${shards} shards? x 1 thread`));
        expect(sharded.workersRunning).toBe(shards - 1);
        plain.setBatch(coords, targets);
        sharded.setBatch(coords, targets);
        const a = await drive(plain, 4),
          b = await drive(sharded, 4);
        for (let i = 0; i < a.losses.length; i++)
          expect(Math.abs(b.losses[i] - a.losses[i]) / a.losses[i], `loss ${i}`).toBeLessThan(1e-5);
        for (const k of stateKeys(c)) {
          const { max, first } = maxRelDiff(b.state[k].data, a.state[k].data);
          expect(max, `${k}: max rel diff ${max}; first mismatch ${first}`).toBeLessThan(1e-4);
        }
        expect(b.state.step.data[0]).toBe(8);
        expect(sharded.iteration).toBe(8);
        const p = await sharded.params(c);
        expect(p['decoder.bias']).toEqual(b.state['decoder.bias'].data);
        // setLr and a new batch take effect as in Trainer
        plain.setLr(1e-2, encoderLr && 1e-3);
        sharded.setLr(1e-2, encoderLr && 1e-3);
        const [coords2, targets2] = [
          coords,
          hostTensor(
            targets.shape,
            targets.data.map((x) => -x),
          ),
        ];
        plain.setBatch(coords2, targets2);
        sharded.setBatch(coords2, targets2);
        const m1 = await plain.step({ mse: true }),
          m2 = await sharded.step({ mse: true });
        expect(Math.abs(m2.loss - m1.loss) / m1.loss).toBeLessThan(1e-5);
        expect(maxRelDiff(m2.mse!, m1.mse!).max).toBeLessThan(1e-5);
      } finally {
        await plain.release();
        await sharded.release();
      }
      expect(sharded.workersRunning).toBe(0);
    });
  }

  it('autoShards: one below SHARD_MIN_ROWS or on one core, else a shard per core of at least half that', () => {
    expect(autoShards(SHARD_MIN_ROWS - 1, 2)).toBe(1);
    expect(autoShards(64 * 64, 2)).toBe(1);
    expect(autoShards(SHARD_MIN_ROWS, 1)).toBe(1);
    expect(autoShards(SHARD_MIN_ROWS, 2)).toBe(2);
    expect(autoShards(178 * 178, 2)).toBe(2);
    expect(autoShards(SHARD_MIN_ROWS, 16)).toBe(2);
    expect(autoShards(178 * 178, 16)).toBe(6);
  });

  it('a divergence is reported as Trainer reports it, and the state is kept', async () => {
    const spec: StepSpec = { config: c, batch: 15 };
    const [coords, targets] = batch(5, 3);
    targets.data[20] = Infinity; // a row of shard 1
    const plain = await Trainer.create(
      ortNodeBackend({ threads: 1 }),
      programToOnnx(trainStepProgram(spec)),
      c,
      startState(),
      1e-3,
    );
    const sharded = await ShardedTrainer.create(splitSpec(spec), startState(), 1e-3, undefined, { shards: 2 });
    try {
      plain.setBatch(coords, targets);
      sharded.setBatch(coords, targets);
      const e1 = await plain.step().catch((e: unknown) => e);
      const e2 = await sharded.step().catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(DivergenceError);
      expect(e2).toBeInstanceOf(DivergenceError);
      expect((e2 as Error).message).toBe((e1 as Error).message);
      expect(sharded.iteration).toBe(4);
      expect((await sharded.state()).step.data[0]).toBe(4);
    } finally {
      await plain.release();
      await sharded.release();
    }
  });

  it('release() ends the workers; later calls say so', async () => {
    const t = await ShardedTrainer.create(splitSpec({ config: c, batch: 12 }), startState(), 1e-3, undefined, {
      shards: 3,
    });
    expect(t.workersRunning).toBe(2);
    await expect(t.step()).rejects.toThrow(/setBatch\(\) before step\(\)/);
    await t.release();
    expect(t.workersRunning).toBe(0);
    await expect(t.step()).rejects.toThrow(/released/);
  });

  it('a worker that dies fails the step with one line, ends the other workers, and does not hang', async () => {
    const t = await ShardedTrainer.create(splitSpec({ config: c, batch: 12 }), startState(), 1e-3, undefined, {
      shards: 3,
    });
    t.setBatch(...batch(4, 3));
    await t.step();
    // Reach the first worker thread (private) and stop it, as a crash of that thread would.
    const workers = (t as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers;
    await workers[0].worker.terminate();
    await expect(t.step()).rejects.toThrow(/^shard 1's worker thread exited unexpectedly \(code 1\)$/);
    expect(t.workersRunning).toBe(0);
    await expect(t.step()).rejects.toThrow(/shard 1's worker thread exited/);
    await t.release();
  });

  // The built package runs the worker from dist/node/shard-worker.js with no TypeScript loader (the
  // CLI's case); `npm test` builds dist/ first (pretest).
  it.skipIf(!existsSync(join(ROOT, 'dist', 'node', 'sharded.js')))('runs from the built package (dist/)', () => {
    const script = `
      import { ShardedTrainer } from './dist/node/sharded.js';
      import { splitSpec } from './dist/train/split-step.js';
      import { initialState } from './dist/train/trainer.js';
      import { initParams } from './dist/model/inr.js';
      const c = ${JSON.stringify(c)};
      const t = await ShardedTrainer.create(splitSpec({ config: c, batch: 10 }), initialState(c, initParams(c, 0)), 1e-3, undefined, { shards: 2 });
      t.setBatch({ shape: [10, 2], data: new Float32Array(20).fill(0.5) }, { shape: [10, 3], data: new Float32Array(30).fill(0.25) });
      const a = (await t.step()).loss, b = (await t.step()).loss;
      await t.release();
      console.log(JSON.stringify({ a, b, running: t.workersRunning }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { a: number; b: number; running: number };
    expect(r.a).toBeGreaterThan(0);
    expect(r.b).toBeLessThan(r.a);
    expect(r.running).toBe(0);
  });
});
