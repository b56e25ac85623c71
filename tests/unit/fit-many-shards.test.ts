// fit-many's shard split (src/node/many.ts): every signal in exactly one shard for N = 1..7 and any list
// length; the index and count taken from --shard, a Slurm job array or a Kubernetes Indexed Job; and
// each malformed or contradictory one refused in one line.
import { describe, it, expect } from 'vitest';
import { parseShard, resolveShard, shardOf } from '../../src/node/many.ts';
import { canonicalJson } from '../../src/node/many-dir.ts';

describe('shardOf', () => {
  it('covers every signal exactly once, in order, with shard sizes differing by at most one (N = 1..7)', () => {
    for (const n of [0, 1, 2, 5, 6, 7, 13, 100, 101]) {
      const names = Array.from({ length: n }, (_, i) => `s${String(i).padStart(3, '0')}`);
      for (let count = 1; count <= 7; count++) {
        const parts = Array.from({ length: count }, (_, index) => shardOf(names, { index, count }));
        expect(parts.flat()).toEqual(names);
        const sizes = parts.map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('the shard of this process', () => {
  it('--shard I/N', () => {
    expect(parseShard('2/7')).toEqual({ index: 2, count: 7, from: '--shard' });
    expect(resolveShard({ shard: '0/1' }, { SLURM_ARRAY_TASK_ID: '3' })).toMatchObject({ index: 0, count: 1 });
    for (const bad of ['3/2', '2/2', 'x', '1', '-1/2', '1/0', '1/2/3', ' /2', '1.5/4'])
      expect(() => parseShard(bad), bad).toThrow(/--shard must be I\/N with 0 <= I < N/);
  });

  it('a Slurm job array: the task id less the array minimum, the task count or --shards', () => {
    expect(resolveShard({}, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({
      index: 2,
      count: 4,
      from: 'SLURM_ARRAY_TASK_ID',
    });
    const oneBased = { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' };
    expect(resolveShard({}, oneBased)).toMatchObject({ index: 3, count: 4 });
    expect(resolveShard({ shards: 8 }, { SLURM_ARRAY_TASK_ID: '5' })).toMatchObject({ index: 5, count: 8 });
    expect(() => resolveShard({}, { SLURM_ARRAY_TASK_ID: '1' })).toThrow(/SLURM_ARRAY_TASK_COUNT is not.*--shards/);
    // --array=0-15:4 runs ids 0, 4, 8, 12 with a count of 4: not a contiguous index
    expect(() => resolveShard({}, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(
      /shard index 4 is not between 0 and 3/,
    );
  });

  it('a Kubernetes Indexed Job: JOB_COMPLETION_INDEX with --shards', () => {
    expect(resolveShard({ shards: 4 }, { JOB_COMPLETION_INDEX: '3' })).toEqual({
      index: 3,
      count: 4,
      from: 'JOB_COMPLETION_INDEX',
    });
    expect(() => resolveShard({}, { JOB_COMPLETION_INDEX: '0' })).toThrow(/pass --shards N/);
    expect(() => resolveShard({ shards: 4 }, { JOB_COMPLETION_INDEX: '4' })).toThrow(/not between 0 and 3/);
    expect(() => resolveShard({ shards: 4 }, { JOB_COMPLETION_INDEX: 'x' })).toThrow(/not between/);
  });

  it('no shard: the whole set; --shards alone is refused', () => {
    expect(resolveShard({}, {})).toEqual({ index: 0, count: 1, from: 'none' });
    expect(() => resolveShard({ shards: 3 }, {})).toThrow(/neither is set/);
  });
});

describe('the run config', () => {
  it('compares as canonical JSON, whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"x":0,"y":1}]},"b":1}',
    );
  });
});
