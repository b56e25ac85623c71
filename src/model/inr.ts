// INR models as `forward(params, x)` plus an ordered parameter spec with stable names
// (`encoder.0.weight` ...) that become ONNX input names, checkpoint keys and manifest entries.
// Weights are stored [fan_in, fan_out], so a layer is x W + b on rows x.
//
// SIREN layer, as the paper's code: sin(omega * (x W + b)); omega multiplies the bias too
// (vsitzmann/siren issue #57). We fold omega into the weights (x (omega W) + omega b), identical
// in exact arithmetic, so no full-size Mul is needed.
//
// Inside the graph the activations are feature-major, [width, n] (one column per coordinate):
// layer l computes h' = act(W^T h + b). Same math as rows; onnxruntime's CPU matrix products run
// ~20 % faster in that shape (wide [256, n] results instead of tall [n, 256], and the weight
// gradient needs no transposed n-long operand), and the bias gradient sums contiguous rows
// (bench/core.md). Coordinates come in, and signals go out, as rows [n, dims]; only those small
// tensors are transposed.
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

/** Rows [n, dims] or feature-major columns [dims, n]. */
type Layout = 'rows' | 'cols';

/** x W (+ b) for W [fan_in, fan_out], taking h and giving the result in the given layouts; the
 *  transposes are the Gemm's flags, so no Transpose node is needed. */
function dense(h: Node, from: Layout, w: Node, b: Node | null, to: Layout): Node {
  if (from === 'rows' && to === 'rows') return b ? B.linear(h, w, b) : B.matmul(h, w);
  const prod = to === 'cols' ? B.matmul(w, h, true, from === 'rows') : B.matmul(h, w, true, false);
  if (!b) return prod;
  return B.add(prod, to === 'cols' ? B.reshape(b, [b.shape[0] as number, 1]) : b);
}

/** The first `layers` layers (default: the whole encoder) on coordinates x [n, inDim]: the last one's
 *  features in layout `out`, the layers before it feature-major; 0 layers is x itself. */
function features(c: InrConfig, p: Record<string, Node>, x: Node, out: Layout, layers = c.depth - 1): Node {
  let h = x,
    at: Layout = 'rows';
  if (c.kind === 'relu-ff') {
    const proj = B.mul(dense(x, 'rows', fourierMatrix(c), null, 'cols'), 2 * Math.PI);
    h = B.concat([B.sin(proj), B.cos(proj)], 0);
    at = 'cols';
  }
  for (let l = 0; l < layers; l++) {
    const w = p[`encoder.${l}.weight`],
      b = p[`encoder.${l}.bias`];
    const to: Layout = l === layers - 1 ? out : 'cols';
    // The first layer may have its own omega_0 (config.omega0); hidden layers use omega.
    const om = l === 0 ? firstOmega(c) : c.omega;
    h = c.kind === 'siren' ? B.sin(dense(h, at, B.mul(w, om), B.mul(b, om), to)) : B.relu(dense(h, at, w, b, to));
    at = to;
  }
  if (at !== out) throw new Error(`inr: a ${c.kind} of depth ${c.depth} has no encoder layer`);
  return h;
}

/** Encoder features: the output of the last hidden layer, [n, width]. */
export function encode(c: InrConfig, p: Record<string, Node>, x: Node): Node {
  return features(c, p, x, 'rows');
}

/** The signal at coordinates x [n, inDim]: [n, outDim]. */
export function forward(c: InrConfig, p: Record<string, Node>, x: Node): Node {
  return dense(features(c, p, x, 'cols'), 'cols', p['decoder.weight'], p['decoder.bias'], 'rows');
}

// ---- Frozen layers: a SIREN whose first k layers are fixed ----------------------------------------
// With layers 0..k-1 frozen (a prior's first sine layers), their output at each coordinate never
// changes: it can be computed once (a feature cache) and the rest of the network trained on it. That
// rest is itself a SIREN (`headConfig`): depth - k layers whose "coordinates" are the cached width
// features and whose first layer is a hidden layer (hidden omega). Its parameters are the full
// model's layers k.., renamed (`headParamName`), so trainStepProgram, the Trainer and the renderers
// drive it unchanged (src/train/head.ts).

/** Layer index of a parameter: encoder.l.* is l, decoder.* is depth - 1. */
export function paramLayer(c: InrConfig, name: string): number {
  if (name.startsWith('decoder.')) return c.depth - 1;
  const m = /^encoder\.(\d+)\./.exec(name);
  if (!m) throw new Error(`inr: '${name}' is not a parameter name`);
  return Number(m[1]);
}

/** The specs of layers k..depth-1: what trains when the first k layers are frozen. */
export function headParamSpecs(c: InrConfig, k: number): ParamSpec[] {
  return paramSpecs(c).filter((s) => paramLayer(c, s.name) >= k);
}

/** The output of the first k layers (0 <= k <= depth - 1) at coordinates x [n, inDim], as rows [n, width]
 *  (k = 0: x itself; k = depth - 1: `encode`). */
export function encodeUpTo(c: InrConfig, p: Record<string, Node>, x: Node, k: number): Node {
  if (!(Number.isInteger(k) && k >= 0 && k <= c.depth - 1))
    throw new Error(`inr: cannot freeze ${k} of ${c.depth} layers`);
  return features(c, p, x, 'rows', k);
}

/** Layers k..depth-1 of a SIREN as a SIREN of their own (see above). 0 <= k <= depth - 2: the head keeps
 *  at least one sine layer (with k = depth - 1 only the linear decoder is left, solved in closed form:
 *  src/train/ridge.ts). k = 0 is the model itself. */
export function headConfig(c: InrConfig, k: number): InrConfig {
  if (c.kind !== 'siren') throw new Error(`inr: frozen layers are implemented for SIRENs, not ${c.kind}`);
  if (!(Number.isInteger(k) && k >= 0 && k <= c.depth - 2))
    throw new Error(`inr: a head needs 0 <= k <= ${c.depth - 2} frozen layers, got ${k}`);
  if (k === 0) return c;
  return { kind: 'siren', inDim: c.width, outDim: c.outDim, width: c.width, depth: c.depth - k, omega: c.omega };
}

/** The full model's name of head parameter `name` (k frozen layers): encoder.j -> encoder.(j + k). */
export function headParamName(c: InrConfig, k: number, name: string): string {
  const l = paramLayer(headConfig(c, k), name);
  const part = name.slice(name.lastIndexOf('.') + 1); // 'weight' or 'bias'
  return layerName(c, l + k) + '.' + part;
}
