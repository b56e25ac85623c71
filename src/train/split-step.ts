// A train step split by rows into S shards, for running the shards in parallel (src/node/sharded.ts:
// one onnxruntime session per thread). The loss is a sum over rows divided by the total row count, so
// shard k's gradient program computes its rows' sum divided by the *total* count: the shards' losses
// and gradients then add up to the unsharded step's exactly (in exact arithmetic). One apply program
// sums the S gradient sets and takes the same Adam update as trainStepProgram (programs.ts).
import type { Node, Program } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';
import { grad } from '../graph/autodiff.ts';
import { paramSpecs, forward, isEncoderParam } from '../model/inr.ts';
import { adamScalars, adamUpdate, ADAM_DEFAULTS, type AdamConfig } from './adam.ts';
import { IDENTITY, stateNames, type StepSpec } from './programs.ts';

/** A batch input split by rows: [rows, cols]. */
export interface RowInput {
  name: string;
  cols: number;
}

/** What one shard computes, generic over "trained params + row inputs -> loss": the full SIREN step
 *  (`fitLoss`) or a step over only some layers fed other inputs (e.g. cached features). */
export interface ShardLoss {
  /** The trained parameters, in order: graph input names and state keys. */
  params: readonly { name: string; shape: readonly number[] }[];
  /** The batch's two row inputs, in setBatch's order (e.g. coords, targets). */
  inputs: readonly [RowInput, RowInput];
  /** Parameters that take 'lr_encoder' when the step has that input. */
  encoderParam(name: string): boolean;
  /** This shard's part of the loss (its rows' share of the total: divided by `totalRows`, not
   *  `rows`) and of the per-column MSE, from the params and row inputs given as graph nodes. */
  build(
    params: Record<string, Node>,
    inputs: Record<string, Node>,
    rows: number,
    totalRows: number,
  ): { loss: Node; mse: Node };
  /** One line for the graphs' doc strings. */
  doc: string;
}

export interface SplitSpec {
  loss: ShardLoss;
  /** Rows of a whole batch, split over the shards. */
  batch: number;
  adam?: AdamConfig;
  /** As StepSpec.encoderLr: the apply program takes 'lr_encoder' for the encoder's parameters. */
  encoderLr?: boolean;
}

/** The full fitting step of trainStepProgram as a ShardLoss: forward, squared error, the same scale
 *  factors. Only a row-wise measurement splits by rows, so only the identity one is accepted. */
export function fitLoss(spec: StepSpec): ShardLoss {
  const c = spec.config;
  const signals = spec.signals ?? 1;
  if ((spec.measurement ?? IDENTITY) !== IDENTITY)
    throw new Error(`a sharded step needs the identity measurement (got '${spec.measurement?.name}')`);
  if (c.outDim % signals !== 0) throw new Error(`outDim ${c.outDim} is not a multiple of ${signals} signals`);
  return {
    params: paramSpecs(c),
    inputs: [
      { name: 'coords', cols: c.inDim },
      { name: 'targets', cols: c.outDim },
    ],
    encoderParam: isEncoderParam,
    build(params, inputs, _rows, totalRows) {
      // As trainStepProgram: loss = sum over signals of each signal's MSE = total squared error /
      // (rows * channels per signal); here this shard's squared error over the whole batch's rows.
      const sq = B.square(B.sub(forward(c, params, inputs.coords), inputs.targets));
      return {
        loss: B.mul(B.sumAll(sq), 1 / (totalRows * (c.outDim / signals))),
        mse: B.mul(B.reduceSum(sq, [0], false), 1 / totalRows),
      };
    },
    doc: `${c.kind} width ${c.width} depth ${c.depth}, loss = sum over ${signals} signal(s) of MSE`,
  };
}

/** The split of a StepSpec's step (its batch, Adam config and encoder learning rate). */
export function splitSpec(spec: StepSpec): SplitSpec {
  return {
    loss: fitLoss(spec),
    batch: spec.batch,
    ...(spec.adam ? { adam: spec.adam } : {}),
    ...(spec.encoderLr ? { encoderLr: true } : {}),
  };
}

/** S contiguous row ranges [start, end) covering 0..total, sizes differing by at most one. */
export function splitRows(total: number, shards: number): [number, number][] {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shard count must be a positive integer, got ${shards}`);
  if (total < shards) throw new Error(`${total} rows cannot be split into ${shards} shards`);
  const base = Math.floor(total / shards),
    extra = total % shards;
  const out: [number, number][] = [];
  let start = 0;
  for (let k = 0; k < shards; k++) {
    const end = start + base + (k < extra ? 1 : 0);
    out.push([start, end]);
    start = end;
  }
  return out;
}

export const gradName = (p: string): string => `grad.${p}`;
/** Shard k's outputs as the apply program's inputs: `shard1.loss`, `shard1.grad.decoder.bias`. */
export const shardInput = (k: number, name: string): string => `shard${k}.${name}`;

/** The state a split step carries, in order: params, Adam moments, step (stateKeys(c) for fitLoss). */
export function splitStateKeys(loss: ShardLoss): string[] {
  const ps = loss.params.map((s) => s.name);
  return [...ps, ...ps.map(stateNames.m), ...ps.map(stateNames.v), 'step'];
}

/** One shard of `rows` rows out of `totalRows`: params + row inputs -> loss, mse, grad.<param>. */
export function gradProgram(loss: ShardLoss, rows: number, totalRows: number): Program {
  const params = Object.fromEntries(loss.params.map((s) => [s.name, B.input(s.name, s.shape)]));
  const inputs = Object.fromEntries(loss.inputs.map((i) => [i.name, B.input(i.name, [rows, i.cols])]));
  const out = loss.build(params, inputs, rows, totalRows);
  const grads = grad(
    out.loss,
    loss.params.map((s) => params[s.name]),
  );
  const outputs: Record<string, Node> = { loss: out.loss, mse: out.mse };
  loss.params.forEach((s, i) => (outputs[gradName(s.name)] = grads[i]));
  return {
    name: 'shard_grad',
    inputs: [...loss.params.map((s) => params[s.name]), ...loss.inputs.map((i) => inputs[i.name])] as Node<'input'>[],
    outputs,
    doc: `strainer shard gradient: ${rows} of ${totalRows} rows; ${loss.doc}`,
  };
}

/** Sums S shards' losses, MSEs and gradients and takes one Adam step: the same `loss`, `mse` and
 *  `next.*` outputs as trainStepProgram, from the same state inputs plus the shards' outputs. */
export function applyProgram(spec: SplitSpec, shards: number): Program {
  const adam = spec.adam ?? ADAM_DEFAULTS;
  const specs = spec.loss.params;
  const params = specs.map((s) => B.input(s.name, s.shape));
  const ms = specs.map((s) => B.input(stateNames.m(s.name), s.shape));
  const vs = specs.map((s) => B.input(stateNames.v(s.name), s.shape));
  const step = B.input('step', []);
  const lr = B.input('lr', []);
  const lrEnc = spec.encoderLr ? B.input('lr_encoder', []) : null;
  const shardIns: Node<'input'>[] = [];
  /** shard0.x + shard1.x + ..., in shard order. */
  const sum = (name: string, shape: readonly number[]): Node => {
    let acc: Node | null = null;
    for (let k = 0; k < shards; k++) {
      const x = B.input(shardInput(k, name), shape);
      shardIns.push(x);
      acc = acc ? B.add(acc, x) : x;
    }
    return acc!;
  };
  const mseCols = spec.loss.inputs[1].cols;
  const outputs: Record<string, Node> = { loss: sum('loss', []), mse: sum('mse', [mseCols]) };
  const t = B.add(step, 1);
  const scalars = adamScalars(adam, t, lr);
  const encScalars = lrEnc ? adamScalars(adam, t, lrEnc) : scalars;
  specs.forEach((s, i) => {
    const g = sum(gradName(s.name), s.shape);
    const u = adamUpdate(adam, spec.loss.encoderParam(s.name) ? encScalars : scalars, params[i], g, ms[i], vs[i]);
    outputs[stateNames.next(s.name)] = u.p;
    outputs[stateNames.next(stateNames.m(s.name))] = u.m;
    outputs[stateNames.next(stateNames.v(s.name))] = u.v;
  });
  outputs[stateNames.next('step')] = t;
  return {
    name: 'shard_apply',
    inputs: [...params, ...ms, ...vs, step, lr, ...(lrEnc ? [lrEnc] : []), ...shardIns],
    outputs,
    doc: `strainer sharded step: sum of ${shards} shards' gradients, Adam(b1=${adam.beta1}, b2=${adam.beta2}, eps=${adam.eps}); ${spec.loss.doc}`,
  };
}
