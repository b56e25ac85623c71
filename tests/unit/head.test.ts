// Frozen layers and the closed-form decoder, in float64 on the reference interpreter: the feature
// cache fed to the head step gives the same loss, per-column MSE and next state (parameters and Adam
// moments, hence the same gradients) as the full train step for every layer >= k; the head's
// whole-signal evaluation and decoder statistics equal the full model's; the ridge decoder satisfies
// its optimality condition and recovers an exact linear map.
import { describe, it, expect } from 'vitest';
import { evaluateProgram } from '../../src/graph/interp.ts';
import { tensor, type Tensor } from '../../src/graph/tensor.ts';
import type { InrConfig } from '../../src/model/config.ts';
import {
  encodeUpTo,
  encode,
  headConfig,
  headParamName,
  headParamSpecs,
  initParams,
  paramSpecs,
  type Params,
} from '../../src/model/inr.ts';
import * as B from '../../src/graph/builder.ts';
import type { Node, Program } from '../../src/graph/ir.ts';
import { trainStepProgram, inferenceProgram, stateKeys, stateNames } from '../../src/train/programs.ts';
import { featureProgram, gramProgram, headEvalProgram, headStepProgram, cacheWidth } from '../../src/train/head.ts';
import { gramStats, ridgeDecoder } from '../../src/train/ridge.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { rng } from '../../src/util/random.ts';

const c: InrConfig = { kind: 'siren', inDim: 2, outDim: 2, width: 12, depth: 5, omega: 30, omega0: 20 };
const h = 5,
  w = 4,
  rows = h * w;
const params: Params = initParams(c, 3);
const r = rng(11);
const targets = Float64Array.from({ length: rows * c.outDim }, () => r.next());
const t64 = (shape: number[], data: ArrayLike<number>): Tensor => tensor(shape, data);

/** Adam state after a few steps: moments random, step 4 (so the bias corrections matter). */
function randomState(cfg: InrConfig, p: Params, seed: number): Record<string, Tensor> {
  const q = rng(seed);
  const st: Record<string, Tensor> = {};
  for (const s of paramSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    st[s.name] = t64(s.shape, p[s.name]);
    st[stateNames.m(s.name)] = t64(
      s.shape,
      Array.from({ length: n }, () => q.uniform(-1e-2, 1e-2)),
    );
    st[stateNames.v(s.name)] = t64(
      s.shape,
      Array.from({ length: n }, () => q.uniform(0, 1e-4)),
    );
  }
  st.step = t64([], [4]);
  return st;
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.abs(b[i])));
  return m;
}

function cache(k: number): Tensor {
  const x = t64([rows, c.inDim], gridCoords(h, w));
  if (k === 0) return x;
  const feeds: Record<string, Tensor> = { coords: x };
  for (const s of paramSpecs(c))
    if (featureProgram(c, k).inputs.some((i) => i.params.name === s.name)) feeds[s.name] = t64(s.shape, params[s.name]);
  return evaluateProgram(featureProgram(c, k), feeds).features;
}

describe('frozen layers: the head on the feature cache is the full model', () => {
  const full = randomState(c, params, 5);
  const lr = 1e-3;
  const ref = evaluateProgram(trainStepProgram({ config: c, batch: rows }), {
    ...full,
    lr: t64([], [lr]),
    coords: t64([rows, c.inDim], gridCoords(h, w)),
    targets: t64([rows, c.outDim], targets),
  });
  for (const k of [0, 1, 2, 3]) {
    it(`k = ${k}: loss, MSE and the next state of layers >= ${k} equal the full step's`, () => {
      const hc = headConfig(c, k);
      const st: Record<string, Tensor> = { step: full.step };
      for (const key of stateKeys(hc)) {
        if (key === 'step') continue;
        const prefix = key.startsWith('adam_') ? key.slice(0, 7) : '';
        st[key] = full[prefix + headParamName(c, k, key.slice(prefix.length))];
      }
      const out = evaluateProgram(headStepProgram(c, k, { batch: rows, encoderLr: true }), {
        ...st,
        lr: t64([], [lr]),
        lr_encoder: t64([], [lr]),
        coords: cache(k),
        targets: t64([rows, c.outDim], targets),
      });
      expect(maxRel(out.loss.data, ref.loss.data)).toBeLessThan(1e-12);
      expect(maxRel(out.mse.data, ref.mse.data)).toBeLessThan(1e-12);
      for (const key of stateKeys(hc)) {
        const prefix = key.startsWith('adam_') ? key.slice(0, 7) : '';
        const fullKey = key === 'step' ? key : prefix + headParamName(c, k, key.slice(prefix.length));
        const d = maxRel(out[stateNames.next(key)].data, ref[stateNames.next(fullKey)].data);
        expect(d, `${key} vs ${fullKey}`).toBeLessThan(1e-9);
      }
    });
  }

  it('names: head parameters are the full model layers k.., in order; encodeUpTo(depth - 1) is encode', () => {
    expect(paramSpecs(headConfig(c, 3)).map((s) => headParamName(c, 3, s.name))).toEqual(
      headParamSpecs(c, 3).map((s) => s.name),
    );
    expect(headParamSpecs(c, 3).map((s) => s.name)).toEqual([
      'encoder.3.weight',
      'encoder.3.bias',
      'decoder.weight',
      'decoder.bias',
    ]);
    expect(headConfig(c, 0)).toBe(c);
    expect(() => headConfig(c, c.depth - 1)).toThrow(/head needs/);
    const x = B.input('coords', [rows, c.inDim]);
    const ps = Object.fromEntries(paramSpecs(c).map((s) => [s.name, B.input(s.name, s.shape)]));
    const feeds: Record<string, Tensor> = { coords: t64([rows, c.inDim], gridCoords(h, w)) };
    for (const s of paramSpecs(c)) feeds[s.name] = t64(s.shape, params[s.name]);
    const prog = (y: Node): Program => ({ name: 'p', inputs: [], outputs: { y } });
    const a = evaluateProgram(prog(encodeUpTo(c, ps, x, c.depth - 1)), feeds).y;
    const b = evaluateProgram(prog(encode(c, ps, x)), feeds).y;
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('the whole-signal evaluation and the decoder statistics from the cache equal the full model', () => {
    const pred = evaluateProgram(inferenceProgram(c, params), {
      coords: t64([rows, c.inDim], gridCoords(h, w)),
    }).output;
    let sse0 = 0,
      sse1 = 0;
    for (let i = 0; i < rows; i++) {
      sse0 += (pred.data[2 * i] - targets[2 * i]) ** 2;
      sse1 += (pred.data[2 * i + 1] - targets[2 * i + 1]) ** 2;
    }
    const enc = cache(c.depth - 1);
    const stats = gramStats(enc.data, rows, c.width, targets, c.outDim);
    for (const k of [0, 2, 4]) {
      const feeds: Record<string, Tensor> = { coords: cache(k), targets: t64([rows, c.outDim], targets) };
      if (k < c.depth - 1)
        for (const s of paramSpecs(headConfig(c, k))) feeds[s.name] = t64(s.shape, params[headParamName(c, k, s.name)]);
      if (k < c.depth - 1) {
        const ev = evaluateProgram(headEvalProgram(c, k), feeds).sse;
        expect(maxRel(ev.data, [sse0, sse1])).toBeLessThan(1e-12);
      }
      const g = evaluateProgram(gramProgram(c, k), feeds);
      expect(g.gram.shape).toEqual([c.width, c.width]);
      expect(cacheWidth(c, k)).toBe(k === 0 ? c.inDim : c.width);
      expect(maxRel(g.gram.data, stats.gram)).toBeLessThan(1e-12);
      expect(maxRel(g.sums.data, stats.sums)).toBeLessThan(1e-12);
      expect(maxRel(g.fty.data, stats.fty)).toBeLessThan(1e-12);
    }
  });
});

describe('closed-form decoder', () => {
  const n = 40,
    width = 6,
    out = 2;
  const q = rng(4);
  const f = Float64Array.from({ length: n * width }, () => q.uniform(-1, 1));

  it('recovers an exact linear map (no penalty)', () => {
    const wTrue = Float64Array.from({ length: width * out }, () => q.normal());
    const bTrue = [0.3, -0.7];
    const y = new Float64Array(n * out);
    for (let i = 0; i < n; i++)
      for (let o = 0; o < out; o++) {
        let s = bTrue[o];
        for (let j = 0; j < width; j++) s += f[i * width + j] * wTrue[j * out + o];
        y[i * out + o] = s;
      }
    const d = ridgeDecoder(gramStats(f, n, width, y, out), 0);
    expect(maxRel(d.weight, Float32Array.from(wTrue))).toBeLessThan(1e-5);
    expect(maxRel(d.bias, Float32Array.from(bTrue))).toBeLessThan(1e-5);
  });

  it('with a penalty: the gradient of |F W + b - Y|^2 + lambda |W|^2 is zero at the solution', () => {
    const y = Float64Array.from({ length: n * out }, () => q.normal());
    const s = gramStats(f, n, width, y, out);
    const ridge = 0.05;
    const d = ridgeDecoder(s, ridge);
    let trace = 0;
    for (let j = 0; j < width; j++) trace += s.gram[j * width + j];
    const lambda = (ridge * trace) / width;
    // residual e = F W + b - Y; dW = F^T e + lambda W, db = 1^T e; all relative to |F^T Y|.
    const gW = new Float64Array(width * out),
      gb = new Float64Array(out);
    let scale = 0;
    for (let i = 0; i < n; i++)
      for (let o = 0; o < out; o++) {
        let e = d.bias[o] - y[i * out + o];
        for (let j = 0; j < width; j++) e += f[i * width + j] * d.weight[j * out + o];
        for (let j = 0; j < width; j++) gW[j * out + o] += f[i * width + j] * e;
        gb[o] += e;
      }
    for (let j = 0; j < width * out; j++) {
      gW[j] += lambda * d.weight[j];
      scale = Math.max(scale, Math.abs(s.fty[j]));
    }
    for (const g of [...gW, ...gb]) expect(Math.abs(g) / scale).toBeLessThan(1e-5);
  });
});
