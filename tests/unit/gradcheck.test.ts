// Every op's VJP against central finite differences, in float64 on the reference interpreter
// (STYLE.md practice 11). A failure prints the first mismatching entries and the max difference.
import { describe, it, expect } from 'vitest';
import * as B from '../../src/graph/builder.ts';
import { finiteDiffCheck } from './fd.ts';
import { tensor, type Tensor } from '../../src/graph/tensor.ts';
import type { Node } from '../../src/graph/ir.ts';
import type { OpName } from '../../src/graph/ir.ts';
import { rng } from '../../src/util/random.ts';

interface Case {
  shapes: number[][];
  f: (xs: Node[]) => Node;
  positive?: boolean;
}

const cases: { [K in Exclude<OpName, 'input' | 'const'>]: Case[] } = {
  add: [
    { shapes: [[3, 4], [4]], f: ([a, b]) => B.add(a, b) },
    {
      shapes: [
        [3, 1],
        [1, 4],
      ],
      f: ([a, b]) => B.add(a, b),
    },
  ],
  sub: [
    {
      shapes: [
        [3, 4],
        [3, 4],
      ],
      f: ([a, b]) => B.sub(a, b),
    },
    { shapes: [[2, 3], []], f: ([a, b]) => B.sub(a, b) },
  ],
  mul: [
    {
      shapes: [
        [3, 4],
        [3, 1],
      ],
      f: ([a, b]) => B.mul(a, b),
    },
  ],
  div: [{ shapes: [[3, 4], [4]], f: ([a, b]) => B.div(a, b), positive: true }],
  pow: [
    {
      shapes: [
        [3, 4],
        [3, 4],
      ],
      f: ([a, b]) => B.pow(a, b),
      positive: true,
    },
  ],
  neg: [{ shapes: [[5]], f: ([a]) => B.neg(a) }],
  sin: [{ shapes: [[3, 4]], f: ([a]) => B.sin(B.mul(a, 3)) }],
  cos: [{ shapes: [[3, 4]], f: ([a]) => B.cos(B.mul(a, 3)) }],
  relu: [{ shapes: [[4, 5]], f: ([a]) => B.relu(a) }],
  sign: [{ shapes: [[4]], f: ([a]) => B.add(B.sign(a), a) }],
  sqrt: [{ shapes: [[3, 4]], f: ([a]) => B.sqrt(a), positive: true }],
  exp: [{ shapes: [[3, 4]], f: ([a]) => B.exp(a) }],
  log: [{ shapes: [[3, 4]], f: ([a]) => B.log(a), positive: true }],
  matmul: [
    {
      shapes: [
        [3, 4],
        [4, 5],
      ],
      f: ([a, b]) => B.matmul(a, b),
    },
    {
      shapes: [
        [4, 3],
        [4, 5],
      ],
      f: ([a, b]) => B.matmul(a, b, true, false),
    },
    {
      shapes: [
        [3, 4],
        [5, 4],
      ],
      f: ([a, b]) => B.matmul(a, b, false, true),
    },
    {
      shapes: [
        [4, 3],
        [5, 4],
      ],
      f: ([a, b]) => B.matmul(a, b, true, true),
    },
  ],
  linear: [{ shapes: [[6, 3], [3, 4], [4]], f: ([x, w, b]) => B.linear(x, w, b) }],
  reduceSum: [
    { shapes: [[3, 4, 2]], f: ([a]) => B.reduceSum(a, [0, 2], false) },
    { shapes: [[3, 4]], f: ([a]) => B.reduceSum(a, [1], true) },
  ],
  expand: [{ shapes: [[1, 4]], f: ([a]) => B.expand(a, [3, 4]) }],
  reshape: [{ shapes: [[3, 4]], f: ([a]) => B.reshape(a, [2, 6]) }],
  transpose: [{ shapes: [[2, 3, 4]], f: ([a]) => B.transpose(a, [2, 0, 1]) }],
  concat: [
    {
      shapes: [
        [2, 3],
        [2, 2],
      ],
      f: ([a, b]) => B.concat([a, b], 1),
    },
  ],
  slice: [{ shapes: [[5, 3]], f: ([a]) => B.slice(a, 0, 1, 4) }],
};

function check(c: Case, seed: number): { maxErr: number; report: string } {
  const r = rng(seed);
  const xs = c.shapes.map((s, i) => B.input(`x${i}`, s));
  const y = c.f(xs);
  const yShape = y.shape as number[];
  const wv = tensor(
    yShape,
    Array.from({ length: yShape.reduce((a, b) => a * b, 1) }, () => r.uniform(-1, 1)),
  );
  const loss = B.sumAll(B.mul(y, B.constant(wv.data, yShape)));
  const feeds = new Map<string, Tensor>(
    c.shapes.map((s, i) => [
      `x${i}`,
      tensor(
        s,
        Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (c.positive ? r.uniform(0.5, 2) : r.uniform(-1, 1))),
      ),
    ]),
  );
  return finiteDiffCheck(loss, xs, feeds);
}

describe('VJP of every op vs central finite differences (float64)', () => {
  for (const [op, list] of Object.entries(cases)) {
    list.forEach((c, k) => {
      it(`${op} #${k} ${c.shapes.map((s) => `[${s}]`).join(' ')}`, () => {
        const { maxErr, report } = check(c, 1000 + k);
        expect(report, `max rel err ${maxErr}`).toBe('');
        expect(maxErr).toBeLessThan(1e-6);
      });
    });
  }
});
