// Second-order autodiff, checked: grad() returns more graph, so grad(grad(...)) exists, and MAML
// (src/train/meta.ts) differentiates through inner gradient steps. For every op, a Hessian-vector
// product built by differentiating twice is compared with central finite differences of the first
// gradient, in float64 on the reference interpreter (STYLE.md practice 11); then the same for a small
// SIREN's MSE loss. A failure prints the first mismatches and the max difference.
import { describe, it, expect } from 'vitest';
import * as B from '../../src/graph/builder.ts';
import { grad } from '../../src/graph/autodiff.ts';
import { evaluate } from '../../src/graph/interp.ts';
import { tensor, type Tensor } from '../../src/graph/tensor.ts';
import type { Node, OpName } from '../../src/graph/ir.ts';
import { forward, initParams, paramSpecs } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { rng, type Rng } from '../../src/util/random.ts';

interface Case {
  shapes: number[][];
  f: (xs: Node[]) => Node;
  /** Inputs drawn from [0.5, 2] instead of [-1, 1] (logs, roots, denominators, pow bases). */
  positive?: boolean;
}

// One case or more per op; the mapped type makes a new op fail to compile here until it has one.
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
  sub: [{ shapes: [[2, 3], []], f: ([a, b]) => B.sub(a, b) }],
  mul: [
    {
      shapes: [
        [3, 4],
        [3, 1],
      ],
      f: ([a, b]) => B.mul(a, b),
    },
    {
      shapes: [
        [3, 4],
        [3, 4],
      ],
      f: ([a, b]) => B.mul(a, b),
    },
    { shapes: [[3], []], f: ([a, b]) => B.mul(a, b) },
  ],
  div: [
    { shapes: [[3, 4], [4]], f: ([a, b]) => B.div(a, b), positive: true },
    { shapes: [[2, 3], []], f: ([a, b]) => B.div(a, b), positive: true },
  ],
  pow: [
    {
      shapes: [
        [3, 4],
        [3, 4],
      ],
      f: ([a, b]) => B.pow(a, b),
      positive: true,
    },
    { shapes: [[4], []], f: ([a, b]) => B.pow(a, b), positive: true },
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
  expand: [
    { shapes: [[1, 4]], f: ([a]) => B.expand(a, [3, 4]) },
    { shapes: [[4]], f: ([a]) => B.expand(a, [2, 3, 4]) },
  ],
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

const randomTensor = (r: Rng, shape: readonly number[], lo = -1, hi = 1): Tensor =>
  tensor(
    shape,
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.uniform(lo, hi)),
  );

const randomConst = (r: Rng, shape: readonly number[]): Node => B.constant(randomTensor(r, shape).data, shape);

const numericShape = (n: Node): number[] => n.shape.map((d) => d as number);

/** <u, grad(f, xs)> for fixed random u: its gradient with respect to xs is the Hessian of f times u. */
function directional(f: Node, xs: readonly Node[], r: Rng): Node {
  const gs = grad(f, xs);
  return gs.map((g) => B.sumAll(B.mul(g, randomConst(r, numericShape(g))))).reduce((a, b) => B.add(a, b));
}

/**
 * grad(s, inputs) against central finite differences of the scalar s, entry by entry. Here s is itself
 * built with grad, so the analytic side is grad(grad(...)). Relative error |an - fd| / max(1, |fd|).
 */
function checkHvp(
  s: Node,
  inputs: readonly Node<'input'>[],
  feeds: Map<string, Tensor>,
  h: number,
  tol: number,
): { maxErr: number; maxAbs: number; report: string } {
  const analytic = evaluate(grad(s, inputs), feeds);
  let maxErr = 0,
    maxAbs = 0;
  const bad: string[] = [];
  inputs.forEach((inp, i) => {
    const name = inp.params.name;
    const x = feeds.get(name)!;
    for (let j = 0; j < x.data.length; j++) {
      const orig = x.data[j];
      x.data[j] = orig + h;
      const fp = evaluate([s], feeds)[0].data[0];
      x.data[j] = orig - h;
      const fm = evaluate([s], feeds)[0].data[0];
      x.data[j] = orig;
      const fd = (fp - fm) / (2 * h);
      const an = analytic[i].data[j];
      const abs = Math.abs(fd - an);
      const err = abs / Math.max(1, Math.abs(fd));
      maxErr = Math.max(maxErr, err);
      maxAbs = Math.max(maxAbs, abs);
      if (err > tol && bad.length < 5) bad.push(`${name}[${j}]: grad-of-grad ${an} vs finite-diff ${fd}`);
    }
  });
  if (bad.length > 0) bad.push(`max rel err ${maxErr}, max abs diff ${maxAbs}`);
  return { maxErr, maxAbs, report: bad.join('\n') };
}

/** f(x) = <v, op(x)> ('plain') or <v, sin(op(x))> ('through-sin': the cotangent reaching op's VJP
 *  then depends on x too, so the VJP's own emitted ops are differentiated with respect to it). */
function checkOp(c: Case, outer: 'plain' | 'through-sin', seed: number) {
  const r = rng(seed);
  const xs = c.shapes.map((s, i) => B.input(`x${i}`, s));
  const y = c.f(xs);
  const v = randomConst(r, numericShape(y));
  const f = B.sumAll(B.mul(outer === 'plain' ? y : B.sin(y), v));
  const s = directional(f, xs, r);
  const feeds = new Map<string, Tensor>(
    c.shapes.map((shape, i) => [`x${i}`, c.positive ? randomTensor(r, shape, 0.5, 2) : randomTensor(r, shape)]),
  );
  return checkHvp(s, xs, feeds, 1e-6, 1e-6);
}

describe('double backward of every op vs central finite differences of its gradient (float64)', () => {
  for (const [op, list] of Object.entries(cases)) {
    list.forEach((c, k) => {
      for (const outer of ['plain', 'through-sin'] as const) {
        it(`${op} #${k} ${c.shapes.map((s) => `[${s}]`).join(' ')} ${outer}`, () => {
          const { maxErr, report } = checkOp(c, outer, 2000 + k);
          expect(report).toBe('');
          expect(maxErr).toBeLessThan(1e-6);
        });
      }
    });
  }
});

describe('Hessian-vector products of a SIREN MSE loss vs finite differences (float64)', () => {
  const configs: InrConfig[] = [
    { kind: 'siren', inDim: 2, outDim: 1, width: 8, depth: 3, omega: 30 },
    { kind: 'siren', inDim: 2, outDim: 2, width: 5, depth: 4, omega: 30, omega0: 10 },
  ];
  for (const c of configs) {
    it(`siren width ${c.width} depth ${c.depth} outDim ${c.outDim}, 4x4 grid, params as inputs`, () => {
      const r = rng(7);
      const rows = 16;
      const specs = paramSpecs(c);
      const params = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
      const coords = B.constant(gridCoords(4, 4), [rows, c.inDim]);
      const targets = randomConst(r, [rows, c.outDim]);
      const diff = B.sub(forward(c, params, coords), targets);
      const loss = B.mul(B.sumAll(B.square(diff)), 1 / (rows * c.outDim));
      const inputs = specs.map((s) => params[s.name]);
      const s = directional(loss, inputs, r);
      const init = initParams(c, 3);
      const feeds = new Map<string, Tensor>(specs.map((p) => [p.name, tensor(p.shape, init[p.name])]));
      // omega 30 makes the third derivatives large: h = 1e-5 balances truncation and rounding here.
      const { maxErr, maxAbs, report } = checkHvp(s, inputs, feeds, 1e-5, 1e-5);
      console.log(
        `SIREN HVP width ${c.width} depth ${c.depth}: max rel err ${maxErr.toExponential(2)}, max abs ${maxAbs.toExponential(2)}`,
      );
      expect(report).toBe('');
    });
  }
});
