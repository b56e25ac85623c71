// A fit's stopping rules and what it hands back, on the reference interpreter and onnxruntime-node:
// --until-psnr stops at the first update whose whole-signal PSNR reaches the target and returns that
// very model (a fit stopped there by --iters gives the same weights); --time stops on wall time; a fit
// whose PSNR falls back from its best returns the best state (never worse than its best); random-batch
// fits decide on whole-signal evaluations; bad limits are one line, exit 2, nothing written.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fit } from '../../src/train/fit.ts';
import { planFit } from '../../src/train/plan.ts';
import { loadPrior } from '../../src/node/api.ts';
import { referenceBackend } from '../../src/runtime/reference.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import type { Backend } from '../../src/runtime/session.ts';
import { loadNifti } from '../../src/node/read.ts';
import { mriSliceImage, referenceSplit } from '../../src/data/mri.ts';
import { UserError } from '../../src/util/errors.ts';
import { psnrBetween } from '../../src/util/stats.ts';

const vol = loadNifti('data/ch2bet.nii.gz');
const split = referenceSplit(vol);
const CLI = join(__dirname, '../../bin/strainer.js');

const backends: [string, () => Backend, { res: number; width: number }][] = [
  ['reference interpreter', () => referenceBackend, { res: 8, width: 12 }],
  ['onnxruntime-node', () => ortNodeBackend({ threads: 1 }), { res: 20, width: 32 }],
];

for (const [name, backend, size] of backends) {
  describe(`stopping rules on the ${name}`, () => {
    const img = mriSliceImage(vol, split.test[0], size.res);
    const base = {
      recipe: 'paper' as const,
      model: { width: size.width, depth: 3 },
      lr: 1e-3,
      seed: 2,
      backend: backend(),
    };

    it('--until-psnr stops at the first update that reaches it and returns that model', async () => {
      const free = await fit(img, { ...base, iters: 60 });
      const target = free.psnr[0] + 0.6 * (Math.max(...free.psnr) - free.psnr[0]);
      const first = free.psnr.findIndex((p) => p >= target);
      expect(first).toBeGreaterThan(1);
      const r = await fit(img, { ...base, iters: 60, untilPsnr: target });
      expect(r.stop).toBe('psnr');
      expect(r.reached?.iteration).toBe(first);
      expect(r.reached!.psnr).toBeGreaterThanOrEqual(target);
      expect(r.iters).toBe(first + 1);
      for (const p of r.psnr.slice(0, first)) expect(p).toBeLessThan(target);
      // The model handed back is the one measured (after `first` updates), not the unmeasured next one.
      expect(r.best).toMatchObject({ iteration: first, returned: true });
      expect(r.state.step.data[0]).toBe(first);
      expect(Math.abs(r.finalPsnr - r.reached!.psnr)).toBeLessThan(0.01);
      const same = await fit(img, { ...base, iters: first });
      expect(same.params['encoder.0.weight']).toEqual(r.params['encoder.0.weight']);
      expect(r.finalLoss).toBe(r.loss[first]);
    });

    it('--time stops on wall time, whichever of the limits comes first', async () => {
      const r = await fit(img, { ...base, iters: 100000, timeLimit: 0.3 });
      expect(r.stop).toBe('time');
      expect(r.seconds).toBeGreaterThanOrEqual(0.3);
      expect(r.iters).toBeLessThan(100000);
      const capped = await fit(img, { ...base, iters: 3, timeLimit: 1000, untilPsnr: 199 });
      expect(capped.stop).toBe('iters');
      expect(capped.reached).toBeNull();
    });
  });
}

describe('a fit never hands back worse than its best', () => {
  it('an oscillating fit returns its best measured state, and says so', async () => {
    // lr 5e-3 makes Adam overshoot on this small SIREN: the PSNR climbs to 46.1 dB at update 73, then
    // falls back to 41.5 by update 80 (measured).
    const img = mriSliceImage(vol, split.test[0], 20);
    const r = await fit(img, {
      recipe: 'paper',
      model: { width: 32, depth: 3 },
      lr: 5e-3,
      seed: 2,
      iters: 80,
      backend: ortNodeBackend({ threads: 1 }),
    });
    const peak = Math.max(...r.psnr);
    expect(r.psnr[r.psnr.length - 1], 'the fit must fall back for this test to mean anything').toBeLessThan(peak - 1);
    expect(r.best).toMatchObject({ psnr: peak, returned: true, iteration: r.psnr.indexOf(peak) });
    expect(Math.abs(r.finalPsnr - peak)).toBeLessThan(0.01);
    expect(psnrBetween(r.output.data, img.data)).toBeCloseTo(r.finalPsnr, 6);
  });

  it('random batches decide on whole-signal evaluations', async () => {
    const img = mriSliceImage(vol, split.test[0], 20);
    const r = await fit(img, {
      model: { width: 32, depth: 3 },
      lr: 1e-3,
      seed: 2,
      iters: 2000,
      batch: 100,
      untilPsnr: 22,
      backend: ortNodeBackend({ threads: 1 }),
    });
    expect(r.stop).toBe('psnr');
    expect(r.reached!.psnr).toBeGreaterThanOrEqual(22);
    expect(r.finalPsnr).toBeGreaterThanOrEqual(22);
    expect(r.reached!.iteration).toBe(r.iters);
  });
});

describe('the fast recipe stops on whole-signal evaluations too', () => {
  it('from a prior: reaches the target, says when, and hands back a model at least that good', async () => {
    const prior = await loadPrior('mri-64');
    const img = mriSliceImage(vol, split.test[0], 64);
    const r = await fit(img, { prior, untilPsnr: 30, iters: 2000, backend: ortNodeBackend({ threads: 1 }) });
    expect(r.plan.recipe).toBe('fast');
    expect(r.stop).toBe('psnr');
    expect(r.reached!.psnr).toBeGreaterThanOrEqual(30);
    expect(r.reached!.iteration).toBeLessThan(r.plan.iters);
    expect(r.finalPsnr).toBeGreaterThanOrEqual(30);
    expect(psnrBetween(r.output.data, img.data)).toBeCloseTo(r.finalPsnr, 6);
    expect(r.psnr.length).toBe(r.iters);
    // A fast fit is a whole SIREN with fresh optimizer state: its params are its state's.
    expect(r.state.step.data[0]).toBe(0);
    expect(Array.from(r.state['decoder.weight'].data)).toEqual(Array.from(r.params['decoder.weight']));
  });

  it('milestones: a whole-signal evaluation near each, so the events tell the time to each', async () => {
    const img = mriSliceImage(vol, split.test[0], 32);
    const run = async (milestones?: number[]) => {
      const wholes: number[] = [];
      const r = await fit(img, {
        model: { width: 32, depth: 3 },
        lr: 1e-3,
        untilPsnr: 24,
        ...(milestones ? { milestones } : {}),
        iters: 3000,
        backend: ortNodeBackend({ threads: 1 }),
        onStep: (e) => void (e.whole !== undefined && wholes.push(e.whole)),
      });
      return { r, wholes };
    };
    const plain = await run();
    const marked = await run([24, 16, 20]);
    expect(marked.r.plan.milestones).toEqual([16, 20, 24]);
    expect(marked.r.plan.recipe).toBe('fast');
    expect(marked.r.stop).toBe('psnr');
    // Without milestones the only evaluations are near the target; with them, one near each.
    expect(plain.wholes.every((w) => w >= 23)).toBe(true);
    for (const m of [16, 20]) expect(marked.wholes.some((w) => w >= m && w < m + 4)).toBe(true);
    expect(Math.max(...marked.wholes)).toBeGreaterThanOrEqual(24);
    // The result says where each was first measured; the step events' first crossings agree.
    expect(Object.keys(marked.r.milestones!).sort()).toEqual(['16', '20', '24']);
    for (const m of [16, 20, 24]) expect(marked.r.milestones![String(m)].psnr).toBeGreaterThanOrEqual(m);
    expect(marked.r.milestones!['24'].seconds).toBeCloseTo(marked.r.reached!.seconds, 9);
    expect(plain.r.milestones).toBeUndefined();
    expect(() => planFit({ dims: [8, 8], channels: 1 }, { milestones: [30, -1] })).toThrow(
      /milestone PSNR must be above 0/,
    );
  });

  it('refuses what only the paper recipe does, in one line', async () => {
    const img = mriSliceImage(vol, split.test[0], 8);
    for (const [o, msg] of [
      [{ optimizer: 'sgd' }, /the fast recipe does not take plain SGD/],
      [{ batch: 10 }, /the fast recipe does not take a given batch/],
      [{ recipe: 'quick' }, /recipe must be one of paper, fast, got 'quick'/],
    ] as const) {
      const err = await fit(img, { recipe: 'fast', ...o, backend: referenceBackend } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect(String((err as Error).message)).toMatch(msg);
    }
    // Without a recipe, those fits take the paper's.
    expect(planFit({ dims: [8, 8], channels: 1 }, { optimizer: 'sgd' }).recipe).toBe('paper');
    expect(planFit({ dims: [8, 8], channels: 1 }, {}).recipe).toBe('fast');
  });
});

describe('bad limits', () => {
  it('the library refuses them in one line', async () => {
    const img = mriSliceImage(vol, split.test[0], 8);
    for (const [o, msg] of [
      [{ untilPsnr: -3 }, /target PSNR must be above 0 and at most 200, got -3/],
      [{ timeLimit: 0 }, /time limit must be above 0/],
    ] as const) {
      const err = await fit(img, { ...o, backend: referenceBackend }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(msg);
    }
  });

  it('the CLI: one line, exit 2, nothing written', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strainer-stop-')), 'never');
    for (const [flag, value, msg] of [
      ['--until-psnr', '-3', /^strainer: --until-psnr must be above 0 and at most 200, got -3$/],
      ['--time', '0', /^strainer: --time must be above 0 and at most 10000000, got 0$/],
      ['--recipe', 'nope', /^strainer: --recipe must be one of paper, fast, got 'nope'$/],
    ] as const) {
      const r = spawnSync('node', [CLI, 'fit', 'tests/fixtures/slice-z073.png', flag, value, '--out', out], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    }
  });
});
