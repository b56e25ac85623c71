// INR models as `forward(params, x)` plus an ordered parameter spec with stable names
// (`encoder.0.weight` ...) that become ONNX input names, checkpoint keys and manifest entries.
// Weights are stored [fan_in, fan_out] so a layer is x W + b (one Gemm).
//
// SIREN layer, as the paper's code: sin(omega * (x W + b)); omega multiplies the bias too
// (vsitzmann/siren issue #57). We fold omega into the weights (x (omega W) + omega b), identical
// in exact arithmetic, so the bias stays fused in the Gemm and no full-size Mul is needed.
import type { Node } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';
import { rng } from '../util/random.ts';
import { firstOmega, type InrConfig } from './config.ts';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Uniform init bound: values ~ U(-bound, bound). */
  bound: number;
}

export type Params = Record<string, Float32Array>;

/** Layer l of depth: l < depth-1 are encoder layers, l = depth-1 is the decoder. */
function layerName(c: InrConfig, l: number): string {
  return l < c.depth - 1 ? `encoder.${l}` : 'decoder';
}

function firstFanIn(c: InrConfig): number {
  return c.kind === 'relu-ff' ? 2 * (c.ffFeatures ?? 0) : c.inDim;
}

export function paramSpecs(c: InrConfig): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (let l = 0; l < c.depth; l++) {
    const fanIn = l === 0 ? firstFanIn(c) : c.width;
    const fanOut = l === c.depth - 1 ? c.outDim : c.width;
    let wBound: number;
    if (c.kind === 'siren') {
      // First layer U(-1/fan_in, 1/fan_in); later layers U(-sqrt(6/fan_in)/omega, +) with the hidden
      // omega (SIREN code, vsitzmann/siren issue #4: the code, not the paper text, is right).
      wBound = l === 0 ? 1 / fanIn : Math.sqrt(6 / fanIn) / c.omega;
    } else {
      wBound = 1 / Math.sqrt(fanIn); // PyTorch nn.Linear default (kaiming_uniform, a=sqrt(5))
    }
    const name = layerName(c, l);
    specs.push({ name: `${name}.weight`, shape: [fanIn, fanOut], bound: wBound });
    // Biases: PyTorch nn.Linear default U(-1/sqrt(fan_in), 1/sqrt(fan_in)), never overridden by SIREN.
    specs.push({ name: `${name}.bias`, shape: [fanOut], bound: 1 / Math.sqrt(fanIn) });
  }
  return specs;
}

export function initParams(c: InrConfig, seed: number, only?: (name: string) => boolean): Params {
  const r = rng(seed);
  const out: Params = {};
  for (const s of paramSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = r.uniform(-s.bound, s.bound);
    if (!only || only(s.name)) out[s.name] = v;
  }
  return out;
}

export const isEncoderParam = (name: string): boolean => name.startsWith('encoder.');

/** Random Fourier feature matrix of relu-ff, fixed by ffSeed: entries ffScale * N(0, 1). */
function fourierMatrix(c: InrConfig): Node {
  const f = c.ffFeatures ?? 0;
  const r = rng(c.ffSeed ?? 0);
  const vals = Array.from({ length: c.inDim * f }, () => (c.ffScale ?? 1) * r.normal());
  return B.constant(vals, [c.inDim, f]);
}

/** Encoder features: the output of the last hidden layer, [n, width]. */
export function encode(c: InrConfig, p: Record<string, Node>, x: Node): Node {
  let h = x;
  if (c.kind === 'relu-ff') {
    const proj = B.mul(B.matmul(x, fourierMatrix(c)), 2 * Math.PI);
    h = B.concat([B.sin(proj), B.cos(proj)], 1);
  }
  for (let l = 0; l < c.depth - 1; l++) {
    const w = p[`encoder.${l}.weight`], b = p[`encoder.${l}.bias`];
    // The first layer may have its own omega_0 (config.omega0); hidden layers use omega.
    const om = l === 0 ? firstOmega(c) : c.omega;
    h = c.kind === 'siren'
      ? B.sin(B.linear(h, B.mul(w, om), B.mul(b, om)))
      : B.relu(B.linear(h, w, b));
  }
  return h;
}

export function forward(c: InrConfig, p: Record<string, Node>, x: Node): Node {
  return B.linear(encode(c, p, x), p['decoder.weight'], p['decoder.bias']);
}
