// The graphs strainer ships (our replacement for onnxruntime's removed training artifacts):
//  - train step: params, Adam moments, step, lr, coords, targets -> loss, per-column MSE, next state
//  - inference: coords -> signal, with weights baked in as initializers
//  - render: coords + every parameter as an input -> signal (one compiled graph renders any weights)
//  - encoder: encoder weights as inputs + coords -> features (the prior's shared encoder)
// All are plain Programs of standard ops; src/onnx writes them as ONNX.
import type { Node, Program, Dim } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';
import { grad } from '../graph/autodiff.ts';
import type { InrConfig } from '../model/config.ts';
import { paramSpecs, forward, encode, isEncoderParam, type Params } from '../model/inr.ts';
import { adamScalars, adamUpdate, type AdamConfig, ADAM_DEFAULTS } from './adam.ts';

/** A forward model applied to the INR's output before the loss (identity for fitting; downsampling
 *  for super-resolution). `observed` is the number of rows it produces from `rows` rows. */
export interface Measurement {
  name: string;
  observedRows(rows: number): number;
  apply(y: Node, rows: number): Node;
}

export const IDENTITY: Measurement = { name: 'identity', observedRows: (r) => r, apply: (y) => y };

export interface StepSpec {
  config: InrConfig;
  /** Coordinates per step (the full image: H*W). */
  batch: number;
  /** Number of signals stacked in outDim (N decoders when pretraining; 1 when fitting). */
  signals?: number;
  adam?: AdamConfig;
  measurement?: Measurement;
  /** Adds a scalar input 'lr_encoder' used for the encoder's parameters instead of 'lr' (0 freezes
   *  the encoder, e.g. while a fresh decoder settles on a prior's features). */
  encoderLr?: boolean;
  /** 'adam' (default) or plain 'sgd': p - lr g, the inner loop of meta-learned inits (Learnit fits its
   *  MAML init with optax.sgd(1e-2)). SGD keeps Adam's state layout: the moments pass through unchanged
   *  and step counts up, so Trainer, bundles and checkpoints need nothing new. */
  optimizer?: 'adam' | 'sgd';
}

export const stateNames = {
  m: (p: string) => `adam_m.${p}`,
  v: (p: string) => `adam_v.${p}`,
  next: (k: string) => `next.${k}`,
};

/** Names of every state tensor the train step carries from one step to the next, in order. */
export function stateKeys(c: InrConfig): string[] {
  const ps = paramSpecs(c).map((s) => s.name);
  return [...ps, ...ps.map(stateNames.m), ...ps.map(stateNames.v), 'step'];
}

export function trainStepProgram(spec: StepSpec): Program {
  const c = spec.config;
  const adam = spec.adam ?? ADAM_DEFAULTS;
  const meas = spec.measurement ?? IDENTITY;
  const signals = spec.signals ?? 1;
  if (c.outDim % signals !== 0) throw new Error(`outDim ${c.outDim} is not a multiple of ${signals} signals`);
  const specs = paramSpecs(c);
  const params = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
  const ms = specs.map((s) => B.input(stateNames.m(s.name), s.shape));
  const vs = specs.map((s) => B.input(stateNames.v(s.name), s.shape));
  const step = B.input('step', []);
  const lr = B.input('lr', []);
  const lrEnc = spec.encoderLr ? B.input('lr_encoder', []) : null;
  const rowsObs = meas.observedRows(spec.batch);
  const coords = B.input('coords', [spec.batch, c.inDim]);
  const targets = B.input('targets', [rowsObs, c.outDim]);

  const pred = meas.apply(forward(c, params, coords), spec.batch);
  const sq = B.square(B.sub(pred, targets));
  // Sum over signals of each signal's MSE = total squared error / (rows * channels per signal).
  const loss = B.mul(B.sumAll(sq), 1 / (rowsObs * (c.outDim / signals)));
  const msePerColumn = B.mul(B.reduceSum(sq, [0], false), 1 / rowsObs);

  const grads = grad(
    loss,
    specs.map((s) => params[s.name]),
  );
  const t = B.add(step, 1);
  const sgd = spec.optimizer === 'sgd';
  // Under SGD the Adam scalars are unreachable from the outputs, so they are never written.
  const scalars = adamScalars(adam, t, lr);
  const encScalars = lrEnc ? adamScalars(adam, t, lrEnc) : scalars;
  const outputs: Record<string, Node> = { loss, mse: msePerColumn };
  specs.forEach((s, i) => {
    const enc = isEncoderParam(s.name);
    const u = sgd
      ? { p: B.sub(params[s.name], B.mul(enc && lrEnc ? lrEnc : lr, grads[i])), m: ms[i], v: vs[i] }
      : adamUpdate(adam, enc ? encScalars : scalars, params[s.name], grads[i], ms[i], vs[i]);
    outputs[stateNames.next(s.name)] = u.p;
    outputs[stateNames.next(stateNames.m(s.name))] = u.m;
    outputs[stateNames.next(stateNames.v(s.name))] = u.v;
  });
  outputs[stateNames.next('step')] = t;
  return {
    name: 'train_step',
    inputs: [...specs.map((s) => params[s.name]), ...ms, ...vs, step, lr, ...(lrEnc ? [lrEnc] : []), coords, targets],
    outputs,
    doc: `strainer train step: ${c.kind} width ${c.width} depth ${c.depth}, ${meas.name} measurement, ${sgd ? 'SGD' : `Adam(b1=${adam.beta1}, b2=${adam.beta2}, eps=${adam.eps})`}; loss = sum over ${signals} signal(s) of MSE`,
  };
}

const BATCH: Dim = 'n';

function bakedParams(c: InrConfig, values: Params, filter: (name: string) => boolean): Record<string, Node> {
  const out: Record<string, Node> = {};
  for (const s of paramSpecs(c)) if (filter(s.name)) out[s.name] = B.constant(values[s.name], s.shape, s.name);
  return out;
}

/** coords [n, inDim] -> output [n, outDim], weights baked in. */
export function inferenceProgram(c: InrConfig, values: Params): Program {
  const coords = B.input('coords', [BATCH, c.inDim]);
  return {
    name: 'inference',
    inputs: [coords],
    outputs: {
      output: forward(
        c,
        bakedParams(c, values, () => true),
        coords,
      ),
    },
    doc: `strainer ${c.kind} INR: coords in [-1,1] -> signal`,
  };
}

/** coords [rows, inDim] + every parameter as an input -> output [rows, outDim]: live previews and
 *  measurements during a fit without compiling a graph per set of weights. */
export function renderProgram(c: InrConfig, rows: number): Program {
  const specs = paramSpecs(c);
  const ps = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
  const coords = B.input('coords', [rows, c.inDim]);
  return {
    name: 'render',
    inputs: [...specs.map((s) => ps[s.name]), coords],
    outputs: { output: forward(c, ps, coords) },
    doc: `strainer ${c.kind} forward with the weights as inputs`,
  };
}

/** Encoder parameters + coords [n, inDim] -> features [n, width]: the shared encoder of a prior. The
 *  weights are inputs, fed from the bundle's weights.bin, so a prior stores them once. */
export function encoderProgram(c: InrConfig): Program {
  const specs = paramSpecs(c).filter((s) => isEncoderParam(s.name));
  const ps = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
  const coords = B.input('coords', [BATCH, c.inDim]);
  return {
    name: 'encoder',
    inputs: [...specs.map((s) => ps[s.name]), coords],
    outputs: { features: encode(c, ps, coords) },
    doc: `strainer ${c.kind} encoder: encoder weights (from weights.bin) and coords in [-1,1] -> features`,
  };
}
