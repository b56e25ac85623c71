// The meta-train step (src/train/meta.ts) on the reference interpreter in float64: MAML's outer gradient
// against central finite differences of the outer loss computed by an independent path (the SGD train
// step run innerSteps times, then the render program); FOMAML's direction against the gradient at the
// adapted params; Reptile's against mean(theta - phi_K); lr 0 leaves the params unchanged; bad specs refused.
import { describe, it, expect } from 'vitest';
import * as B from '../../src/graph/builder.ts';
import { grad } from '../../src/graph/autodiff.ts';
import { evaluate, evaluateProgram } from '../../src/graph/interp.ts';
import { tensor, type Tensor } from '../../src/graph/tensor.ts';
import { forward, initParams, paramSpecs } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { trainStepProgram, renderProgram, stateKeys, stateNames } from '../../src/train/programs.ts';
import { metaGraph, metaStepProgram, type MetaMethod, type MetaSpec } from '../../src/train/meta.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { rng } from '../../src/util/random.ts';
import { UserError } from '../../src/util/errors.ts';
import { programToOnnx } from '../../src/onnx/write.ts';
import { onnxToProgram } from '../../src/onnx/read.ts';
import { decodeModel } from '../../src/onnx/proto.ts';
import { printProgram } from '../../src/graph/print.ts';

type Values = Record<string, Float64Array>;

const H = 4,
  W = 4,
  ROWS = H * W;
const COORDS = tensor([ROWS, 2], gridCoords(H, W));

function setup(c: InrConfig, tasks: number, seed: number): { theta: Values; targets: Tensor } {
  const init = initParams(c, seed);
  const theta = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, Float64Array.from(v)]));
  const r = rng(seed + 100);
  const targets = tensor(
    [ROWS, tasks * c.outDim],
    Array.from({ length: ROWS * tasks * c.outDim }, () => r.uniform(0, 1)),
  );
  return { theta, targets };
}

/** Task t's target columns t*C .. (t+1)*C of the stacked targets. */
function taskTarget(targets: Tensor, t: number, cols: number): Tensor {
  const all = targets.shape[1];
  const out = tensor([ROWS, cols]);
  for (let p = 0; p < ROWS; p++)
    for (let k = 0; k < cols; k++) out.data[p * cols + k] = targets.data[p * all + t * cols + k];
  return out;
}

// ---- the independent path: the SGD train step and the render program, one task at a time -------------

function adaptBySgd(c: InrConfig, theta: Values, target: Tensor, steps: number, innerLr: number): Values {
  const prog = trainStepProgram({ config: c, batch: ROWS, optimizer: 'sgd' });
  const state: Record<string, Tensor> = {};
  for (const s of paramSpecs(c)) {
    state[s.name] = tensor(s.shape, theta[s.name]);
    state[stateNames.m(s.name)] = tensor(s.shape);
    state[stateNames.v(s.name)] = tensor(s.shape);
  }
  state.step = tensor([]);
  for (let k = 0; k < steps; k++) {
    const out = evaluateProgram(prog, { ...state, lr: tensor([], [innerLr]), coords: COORDS, targets: target });
    for (const key of stateKeys(c)) state[key] = out[stateNames.next(key)];
  }
  return Object.fromEntries(paramSpecs(c).map((s) => [s.name, state[s.name].data]));
}

function mseAt(c: InrConfig, params: Values, target: Tensor): number {
  const feeds: Record<string, Tensor> = { coords: COORDS };
  for (const s of paramSpecs(c)) feeds[s.name] = tensor(s.shape, params[s.name]);
  const pred = evaluateProgram(renderProgram(c, ROWS), feeds).output.data;
  let acc = 0;
  for (let i = 0; i < pred.length; i++) acc += (pred[i] - target.data[i]) ** 2;
  return acc / pred.length;
}

function outerLossBySgd(spec: MetaSpec, theta: Values, targets: Tensor): number {
  let acc = 0;
  for (let t = 0; t < spec.metaBatch; t++) {
    const y = taskTarget(targets, t, spec.config.outDim);
    acc += mseAt(spec.config, adaptBySgd(spec.config, theta, y, spec.innerSteps, spec.innerLr), y);
  }
  return acc / spec.metaBatch;
}

/** d(MSE)/d(params) at `params` for one task, from its own small graph. */
function gradAt(c: InrConfig, params: Values, target: Tensor): Values {
  const specs = paramSpecs(c);
  const ins = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
  const diff = B.sub(forward(c, ins, B.constant(COORDS.data, COORDS.shape)), B.constant(target.data, target.shape));
  const loss = B.mul(B.sumAll(B.square(diff)), 1 / target.data.length);
  const feeds = Object.fromEntries(specs.map((s) => [s.name, tensor(s.shape, params[s.name])]));
  const gs = evaluate(
    grad(
      loss,
      specs.map((s) => ins[s.name]),
    ),
    feeds,
  );
  return Object.fromEntries(specs.map((s, i) => [s.name, gs[i].data]));
}

// ---- the graph under test --------------------------------------------------------------------------

function metaOutputs(spec: MetaSpec, theta: Values, targets: Tensor) {
  const specs = paramSpecs(spec.config);
  const ins = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
  const m = metaGraph(spec, ins, B.input('coords', COORDS.shape), B.input('targets', targets.shape));
  const adaptedNodes = m.adapted.flatMap((phi) => specs.map((s) => phi[s.name]));
  const feeds: Record<string, Tensor> = { coords: COORDS, targets };
  for (const s of specs) feeds[s.name] = tensor(s.shape, theta[s.name]);
  const vals = evaluate([m.outerLoss, m.innerLoss, m.msePerColumn, ...m.direction, ...adaptedNodes], feeds);
  const n = specs.length;
  const byName = (ts: Tensor[]): Values => Object.fromEntries(specs.map((s, i) => [s.name, ts[i].data]));
  return {
    outerLoss: vals[0].data[0],
    innerLoss: vals[1].data[0],
    mse: vals[2].data,
    direction: byName(vals.slice(3, 3 + n)),
    adapted: Array.from({ length: spec.metaBatch }, (_, t) => byName(vals.slice(3 + n + t * n, 3 + n + (t + 1) * n))),
  };
}

/** Largest |a - b| over every parameter, and the first entries that differ by more than `tol`. */
function compare(a: Values, b: Values, tol: number): { max: number; report: string } {
  let max = 0;
  const bad: string[] = [];
  for (const k of Object.keys(b)) {
    for (let j = 0; j < b[k].length; j++) {
      const d = Math.abs(a[k][j] - b[k][j]);
      max = Math.max(max, d);
      if (d > tol && bad.length < 5) bad.push(`${k}[${j}]: ${a[k][j]} vs ${b[k][j]}`);
    }
  }
  if (bad.length > 0) bad.push(`max abs diff ${max}`);
  return { max, report: bad.join('\n') };
}

const maxAbs = (v: Values): number => Math.max(...Object.values(v).map((a) => Math.max(...a.map(Math.abs))));

const tiny: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 6, depth: 3, omega: 30 };
const spec = (method: MetaMethod, over: Partial<MetaSpec> = {}): MetaSpec => ({
  config: tiny,
  batch: ROWS,
  metaBatch: 2,
  innerSteps: 2,
  innerLr: 1e-2,
  method,
  ...over,
});

describe('meta step on the reference interpreter (float64)', () => {
  it('MAML outer gradient equals central finite differences of the unrolled inner loop', () => {
    const s = spec('maml');
    const { theta, targets } = setup(tiny, s.metaBatch, 1);
    const maml = metaOutputs(s, theta, targets);
    expect(maml.outerLoss).toBeCloseTo(outerLossBySgd(s, theta, targets), 12);
    const h = 1e-6;
    const fd: Values = {};
    for (const [k, v] of Object.entries(theta)) {
      fd[k] = new Float64Array(v.length);
      for (let j = 0; j < v.length; j++) {
        const orig = v[j];
        v[j] = orig + h;
        const fp = outerLossBySgd(s, theta, targets);
        v[j] = orig - h;
        const fm = outerLossBySgd(s, theta, targets);
        v[j] = orig;
        fd[k][j] = (fp - fm) / (2 * h);
      }
    }
    const scale = maxAbs(fd);
    const { max, report } = compare(maml.direction, fd, 1e-6 * scale);
    // The second-order terms matter here: first-order MAML misses the finite differences by far more.
    const fo = metaOutputs(spec('fomaml'), theta, targets);
    const foMiss = compare(fo.direction, fd, Infinity).max;
    console.log(
      `MAML vs finite differences: max abs diff ${max.toExponential(2)} (gradient scale ${scale.toExponential(2)}); FOMAML misses by ${foMiss.toExponential(2)}`,
    );
    expect(report).toBe('');
    expect(foMiss).toBeGreaterThan(1e-3 * scale);
  });

  for (const outDim of [1, 2]) {
    const c: InrConfig = { ...tiny, outDim };
    it(`adapted params equal the SGD train step run innerSteps times; FOMAML = mean grad at phi_K; Reptile = mean(theta - phi_K) (C = ${outDim})`, () => {
      const s3 = (method: MetaMethod): MetaSpec => spec(method, { config: c, metaBatch: 3, innerSteps: 3 });
      const { theta, targets } = setup(c, 3, 2);
      const ys = [0, 1, 2].map((t) => taskTarget(targets, t, outDim));
      const phis = ys.map((y) => adaptBySgd(c, theta, y, 3, 1e-2));
      const fo = metaOutputs(s3('fomaml'), theta, targets);
      phis.forEach((phi, t) => expect(compare(fo.adapted[t], phi, 1e-12).report).toBe(''));

      const meanGrad: Values = {};
      const meanDiff: Values = {};
      for (const k of Object.keys(theta)) {
        meanGrad[k] = new Float64Array(theta[k].length);
        meanDiff[k] = new Float64Array(theta[k].length);
      }
      ys.forEach((y, t) => {
        const g = gradAt(c, phis[t], y);
        for (const k of Object.keys(theta))
          for (let j = 0; j < theta[k].length; j++) {
            meanGrad[k][j] += g[k][j] / 3;
            meanDiff[k][j] += (theta[k][j] - phis[t][k][j]) / 3;
          }
      });
      expect(compare(fo.direction, meanGrad, 1e-10 * maxAbs(meanGrad)).report).toBe('');
      const rep = metaOutputs(s3('reptile'), theta, targets);
      expect(compare(rep.direction, meanDiff, 1e-12 * maxAbs(meanDiff)).report).toBe('');

      // The reported losses: outer = mean of the per-column MSE after adaptation, inner = mean MSE at theta.
      for (const out of [fo, rep]) {
        ys.forEach((y, t) => {
          let m = 0;
          for (let k = 0; k < outDim; k++) m += out.mse[t * outDim + k] / outDim;
          expect(m).toBeCloseTo(mseAt(c, phis[t], y), 12);
        });
        expect(out.outerLoss).toBeCloseTo(out.mse.reduce((a, b) => a + b, 0) / out.mse.length, 12);
        expect(out.innerLoss).toBeCloseTo(ys.reduce((a, y) => a + mseAt(c, theta, y), 0) / 3, 12);
      }
    });
  }

  for (const method of ['maml', 'fomaml', 'reptile'] as const) {
    it(`${method}: one meta step with lr 0 leaves the params unchanged, moves the moments, counts the step`, () => {
      const s = spec(method);
      const prog = metaStepProgram(s);
      const { theta, targets } = setup(tiny, s.metaBatch, 3);
      const feeds: Record<string, Tensor> = { coords: COORDS, targets, lr: tensor([], [0]), step: tensor([], [4]) };
      for (const p of paramSpecs(tiny)) {
        feeds[p.name] = tensor(p.shape, theta[p.name]);
        feeds[stateNames.m(p.name)] = tensor(p.shape);
        feeds[stateNames.v(p.name)] = tensor(p.shape);
      }
      expect(prog.inputs.map((i) => i.params.name).sort()).toEqual(Object.keys(feeds).sort());
      const out = evaluateProgram(prog, feeds);
      expect(Object.keys(out).sort()).toEqual(
        ['loss', 'mse', 'inner_loss', ...stateKeys(tiny).map(stateNames.next)].sort(),
      );
      expect(out.mse.shape).toEqual([s.metaBatch * tiny.outDim]);
      expect(out['next.step'].data[0]).toBe(5);
      for (const p of paramSpecs(tiny)) {
        expect(out[stateNames.next(p.name)].data).toEqual(theta[p.name]);
        expect(maxAbs({ m: out[stateNames.next(stateNames.m(p.name))].data })).toBeGreaterThan(0);
      }
      expect(out.loss.data[0]).toBeLessThan(out.inner_loss.data[0]);
    });
  }

  for (const method of ['maml', 'fomaml', 'reptile'] as const) {
    it(`${method}: written as standard ONNX ops with constant shapes only, and read back to the same graph`, () => {
      const prog = metaStepProgram(spec(method, { config: { ...tiny, outDim: 2 } }));
      const bytes = programToOnnx(prog);
      expect(printProgram(onnxToProgram(bytes).program)).toBe(printProgram(prog));
      const ops = new Set(decodeModel(bytes).graph?.node?.map((n) => n.op_type));
      const allowed = ['Gemm', 'MatMul', 'Sin', 'Cos', 'Mul', 'Add', 'Sub', 'Div', 'Pow', 'Sqrt', 'Neg'];
      allowed.push('ReduceSum', 'Expand', 'Reshape', 'Slice', 'Concat', 'Identity');
      for (const op of ops) expect(allowed).toContain(op);
    });
  }

  it('refuses an inner loop of 0 steps and other bad specs', () => {
    const bad: Partial<MetaSpec>[] = [
      { innerSteps: 0 },
      { innerSteps: 1.5 },
      { metaBatch: 0 },
      { innerLr: 0 },
      { innerLr: Number.NaN },
      { batch: 0 },
      { method: 'sgd' as MetaMethod },
    ];
    for (const over of bad) expect(() => metaStepProgram(spec('maml', over)), JSON.stringify(over)).toThrow(UserError);
  });
});
