// Adam as graph nodes, exactly PyTorch's torch.optim.Adam (the paper's optimizer, default betas and
// eps): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// The bias corrections are computed in the graph from the step count t, so the whole update is one graph.
import type { Node } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';

export interface AdamConfig {
  beta1: number;
  beta2: number;
  eps: number;
}
/** torch.optim.Adam defaults. */
export const ADAM_DEFAULTS: AdamConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export interface AdamScalars {
  stepSize: Node;
  invSqrtBc2: Node;
}

/** Per-step scalars from t (the 1-based index of this update) and lr. */
export function adamScalars(cfg: AdamConfig, t: Node, lr: Node): AdamScalars {
  const bc1 = B.sub(1, B.pow(cfg.beta1, t));
  const bc2 = B.sub(1, B.pow(cfg.beta2, t));
  return { stepSize: B.div(lr, bc1), invSqrtBc2: B.div(1, B.sqrt(bc2)) };
}

export function adamUpdate(
  cfg: AdamConfig,
  s: AdamScalars,
  p: Node,
  g: Node,
  m: Node,
  v: Node,
): { p: Node; m: Node; v: Node } {
  const m2 = B.add(B.mul(m, cfg.beta1), B.mul(g, 1 - cfg.beta1));
  const v2 = B.add(B.mul(v, cfg.beta2), B.mul(B.square(g), 1 - cfg.beta2));
  const denom = B.add(B.mul(B.sqrt(v2), s.invSqrtBc2), cfg.eps);
  const p2 = B.sub(p, B.mul(s.stepSize, B.div(m2, denom)));
  return { p: p2, m: m2, v: v2 };
}
