// Meta-learned initialisation (issue 20) as ONE train-step graph: per task, an inner loop of plain SGD
// steps on the task's full grid is unrolled into the graph, and the outer update is Adam. State and
// inputs are the ordinary train step's (params, adam_m.*, adam_v.*, step; lr, coords, targets), so the
// existing Trainer drives it unchanged. Recipe: tancik/learnit meta_demo.ipynb (REFERENCE.md,
// 2026-12-02): full second-order MAML, inner optax.sgd(1e-2) x 2 steps, meta batch 3, outer Adam 1e-5.
import type { Node, Program } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';
import { grad } from '../graph/autodiff.ts';
import { validateConfig, type InrConfig } from '../model/config.ts';
import { paramSpecs, forward } from '../model/inr.ts';
import { adamScalars, adamUpdate, type AdamConfig, ADAM_DEFAULTS } from './adam.ts';
import { stateNames } from './programs.ts';
import { UserError } from '../util/errors.ts';

/**
 * - 'maml': the outer gradient d(outer loss)/d(theta) through the unrolled inner loop, second-order
 *   terms included (Finn et al. 2017; Learnit's `jax.value_and_grad(loss_model)`).
 * - 'fomaml': first-order MAML (Finn et al. 2017, section 5.2): the outer loss's gradient with respect to
 *   the adapted params phi_K, averaged over tasks, used as the gradient at theta.
 * - 'reptile': batched Reptile (Nichol et al. 2018, "On First-Order Meta-Learning Algorithms", Algorithm 2)
 *   with the mean over tasks of (theta - phi_K) fed to Adam as the gradient, as Learnit's `update_model`
 *   does (`model_grad = params - mean(new_params)`; Nichol et al. section 3 suggest plugging it into Adam).
 */
export type MetaMethod = 'maml' | 'fomaml' | 'reptile';
export const META_METHODS = ['maml', 'fomaml', 'reptile'] as const satisfies readonly MetaMethod[];

export interface MetaSpec {
  /** One task's INR: outDim = channels C of one signal. */
  config: InrConfig;
  /** Coordinates per task: the whole grid (Learnit adapts and evaluates on the full image). */
  batch: number;
  /** Tasks (signals) per outer step; `targets` stacks them as columns t*C .. (t+1)*C. */
  metaBatch: number;
  /** Plain SGD steps of the inner loop, at least 1. */
  innerSteps: number;
  /** Inner SGD learning rate (baked into the graph as a constant). */
  innerLr: number;
  method: MetaMethod;
  /** Outer Adam; torch/optax defaults when absent. */
  adam?: AdamConfig;
}

/** Learnit's meta_demo.ipynb values: meta batch 3, 2 inner SGD steps of lr 1e-2, outer Adam lr 1e-5. Its
 *  INR differs from ours (omega 200 on coordinates in [0, 1); ours: omega 30 on [-1, 1], model/inr.ts), so
 *  the learning rates are a starting point, not a tuned recipe. */
export const META_DEFAULTS = { metaBatch: 3, innerSteps: 2, innerLr: 1e-2, outerLr: 1e-5 } as const;

export function validateMetaSpec(spec: MetaSpec): MetaSpec {
  validateConfig(spec.config);
  const int = (v: number, name: string, lo: number): void => {
    if (!Number.isInteger(v) || v < lo) throw new UserError(`meta: ${name} must be an integer >= ${lo}, got ${v}`);
  };
  int(spec.batch, 'batch', 1);
  int(spec.metaBatch, 'metaBatch', 1);
  int(spec.innerSteps, 'innerSteps', 1);
  if (!(Number.isFinite(spec.innerLr) && spec.innerLr > 0))
    throw new UserError(`meta: innerLr must be a positive number, got ${spec.innerLr}`);
  if (!(META_METHODS as readonly string[]).includes(spec.method))
    throw new UserError(`meta: unknown method '${String(spec.method)}' (maml, fomaml or reptile)`);
  return spec;
}

/** The meta objective and the outer update direction, as graph nodes. */
export interface MetaGraph {
  /** Mean over tasks of each task's MSE after the inner loop (Learnit's outer loss). */
  outerLoss: Node;
  /** Outer MSE per output column, [metaBatch * C]: task t's channel k at t*C + k (as pretraining's `mse`). */
  msePerColumn: Node;
  /** Mean over tasks of each task's MSE at theta, before adaptation. */
  innerLoss: Node;
  /** The "gradient" the outer optimizer receives, one node per parameter in paramSpecs order. */
  direction: Node[];
  /** Each task's adapted parameters phi_K. */
  adapted: Record<string, Node>[];
}

const mse = (pred: Node, target: Node, rows: number, cols: number): Node =>
  B.mul(B.sumAll(B.square(B.sub(pred, target))), 1 / (rows * cols));

/**
 * Builds the unrolled inner loops and the outer direction from `params` (theta), coords [batch, inDim] and
 * targets [batch, metaBatch * C]. Every task starts from theta, so the forward pass at theta is built once
 * and shared by the tasks' first inner steps.
 */
export function metaGraph(spec: MetaSpec, params: Record<string, Node>, coords: Node, targets: Node): MetaGraph {
  validateMetaSpec(spec);
  const c = spec.config,
    rows = spec.batch,
    cols = c.outDim,
    tasks = spec.metaBatch;
  const names = paramSpecs(c).map((s) => s.name);
  const pred0 = forward(c, params, coords);
  const adapted: Record<string, Node>[] = [];
  const outPreds: Node[] = [];
  const firstLosses: Node[] = [];
  // Per task, the sum over inner steps of the gradients: theta - phi_K = innerLr * sum_k g_k exactly, which
  // Reptile uses instead of subtracting two nearly equal float32 tensors.
  const gradSums: Node[][] = [];
  for (let t = 0; t < tasks; t++) {
    const target = tasks === 1 ? targets : B.slice(targets, 1, t * cols, (t + 1) * cols);
    let phi = params,
      pred = pred0;
    let sums: Node[] = [];
    for (let k = 0; k < spec.innerSteps; k++) {
      if (k > 0) pred = forward(c, phi, coords);
      const loss = mse(pred, target, rows, cols);
      if (k === 0) firstLosses.push(loss);
      const gs = grad(
        loss,
        names.map((n) => phi[n]),
      );
      const prev: Record<string, Node> = phi;
      phi = Object.fromEntries(names.map((n, i) => [n, B.sub(prev[n], B.mul(gs[i], spec.innerLr))]));
      const before: Node[] = sums;
      sums = k === 0 ? gs : gs.map((g, i) => B.add(before[i], g));
    }
    adapted.push(phi);
    gradSums.push(sums);
    outPreds.push(forward(c, phi, coords));
  }
  const all = tasks === 1 ? outPreds[0] : B.concat(outPreds, 1);
  const sq = B.square(B.sub(all, targets));
  // Mean over tasks of each task's MSE = total squared error / (rows * C * tasks).
  const outerLoss = B.mul(B.sumAll(sq), 1 / (rows * cols * tasks));
  const msePerColumn = B.mul(B.reduceSum(sq, [0], false), 1 / rows);
  const innerLoss = B.mul(
    firstLosses.reduce((a, b) => B.add(a, b)),
    1 / tasks,
  );
  const sumOverTasks = (per: Node[][]): Node[] =>
    names.map((_, i) => per.map((g) => g[i]).reduce((a, b) => B.add(a, b)));

  let direction: Node[];
  switch (spec.method) {
    case 'maml':
      direction = grad(
        outerLoss,
        names.map((n) => params[n]),
      );
      break;
    case 'fomaml': {
      // outerLoss carries the 1/tasks factor, so the sum over tasks of d/d(phi_K^t) is the task mean.
      const flat = grad(
        outerLoss,
        adapted.flatMap((phi) => names.map((n) => phi[n])),
      );
      direction = sumOverTasks(adapted.map((_, t) => flat.slice(t * names.length, (t + 1) * names.length)));
      break;
    }
    case 'reptile':
      direction = sumOverTasks(gradSums).map((g) => B.mul(g, spec.innerLr / tasks));
      break;
    default:
      throw new Error(`meta: unknown method ${spec.method satisfies never}`);
  }
  return { outerLoss, msePerColumn, innerLoss, direction, adapted };
}

/**
 * The meta-train step: params, adam_m.*, adam_v.*, step, lr, coords [batch, inDim], targets
 * [batch, metaBatch * C] -> loss (mean outer MSE), mse ([metaBatch * C], per task and channel, after
 * adaptation), inner_loss (mean MSE at theta), next.<state key>. Same state keys as trainStepProgram
 * for spec.config, so Trainer.create(backend, model, spec.config, state, lr) drives it.
 */
export function metaStepProgram(spec: MetaSpec): Program {
  validateMetaSpec(spec);
  const c = spec.config;
  const adam = spec.adam ?? ADAM_DEFAULTS;
  const specs = paramSpecs(c);
  const params = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
  const ms = specs.map((s) => B.input(stateNames.m(s.name), s.shape));
  const vs = specs.map((s) => B.input(stateNames.v(s.name), s.shape));
  const step = B.input('step', []);
  const lr = B.input('lr', []);
  const coords = B.input('coords', [spec.batch, c.inDim]);
  const targets = B.input('targets', [spec.batch, spec.metaBatch * c.outDim]);

  const m = metaGraph(spec, params, coords, targets);
  const t = B.add(step, 1);
  const scalars = adamScalars(adam, t, lr);
  const outputs: Record<string, Node> = { loss: m.outerLoss, mse: m.msePerColumn, inner_loss: m.innerLoss };
  specs.forEach((s, i) => {
    const u = adamUpdate(adam, scalars, params[s.name], m.direction[i], ms[i], vs[i]);
    outputs[stateNames.next(s.name)] = u.p;
    outputs[stateNames.next(stateNames.m(s.name))] = u.m;
    outputs[stateNames.next(stateNames.v(s.name))] = u.v;
  });
  outputs[stateNames.next('step')] = t;
  return {
    name: 'meta_step',
    inputs: [...specs.map((s) => params[s.name]), ...ms, ...vs, step, lr, coords, targets],
    outputs,
    doc: `strainer meta step (${spec.method}): ${c.kind} width ${c.width} depth ${c.depth}, ${spec.metaBatch} task(s) x ${spec.innerSteps} inner SGD step(s) of lr ${spec.innerLr}, outer Adam(b1=${adam.beta1}, b2=${adam.beta2}, eps=${adam.eps}); loss = mean over tasks of the MSE after adaptation`,
  };
}
