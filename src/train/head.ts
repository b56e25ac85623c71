// Programs for fitting with the first k layers of a SIREN frozen (a prior's shared sine layers): their
// output at every coordinate is computed once (`featureProgram`: the feature cache), and the rest of
// the network, the "head" (src/model/inr.ts headConfig: a SIREN of depth - k layers whose
// coordinates are those features), trains on it. A step then skips the frozen layers' forward and
// backward passes (a JAX prototype measured a 4.7x cheaper full-grid step with 4 of 5 sine layers
// frozen; shared/REFERENCE.md 2026-12-02). The head step is trainStepProgram of the head, so its
// state, inputs ('coords' = cached features) and outputs are named as any train step's and the
// existing Trainer drives it.
import type { Dim, Node, Program } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';
import type { InrConfig } from '../model/config.ts';
import { encode, encodeUpTo, forward, headConfig, paramSpecs, isEncoderParam } from '../model/inr.ts';
import { trainStepProgram, type StepSpec } from './programs.ts';

/** The first k layers' weights (inputs, full-model names) + coords [n, inDim] -> features [n, width]:
 *  the cache a head with k frozen layers trains on (1 <= k <= depth - 1; k = 0 needs no program, the
 *  coordinates are the cache). */
export function featureProgram(c: InrConfig, k: number, rows: Dim = 'n'): Program {
  if (!(Number.isInteger(k) && k >= 1 && k <= c.depth - 1))
    throw new Error(`featureProgram: 1 <= k <= ${c.depth - 1} frozen layers, got ${k}`);
  const specs = paramSpecs(c).filter((s) => isEncoderParam(s.name) && Number(s.name.split('.')[1]) < k);
  const ps = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
  const coords = B.input('coords', [rows, c.inDim]);
  return {
    name: 'features',
    inputs: [...specs.map((s) => ps[s.name]), coords],
    outputs: { features: encodeUpTo(c, ps, coords, k) },
    doc: `strainer ${c.kind}: the output of its first ${k} layer(s) at coords (the frozen layers' feature cache)`,
  };
}

/** The number of values per cached row: the width, or the coordinates' dimension when nothing is frozen. */
export function cacheWidth(c: InrConfig, k: number): number {
  return k === 0 ? c.inDim : c.width;
}

/** One Adam step of the head (layers k.. renamed encoder.0.., decoder) on `batch` cached rows fed as
 *  'coords' [batch, cacheWidth]: trainStepProgram of headConfig(c, k). With `encoderLr`, the head's
 *  sine layers take 'lr_encoder' and the decoder 'lr' (layer-wise learning rates). */
export function headStepProgram(c: InrConfig, k: number, spec: Omit<StepSpec, 'config'>): Program {
  const p = trainStepProgram({ ...spec, config: headConfig(c, k) });
  return { ...p, name: 'head_step', doc: `${p.doc ?? ''}; the head of a ${c.depth}-layer SIREN with ${k} frozen` };
}

/** The head's parameters + cached rows 'coords' [n, cacheWidth] + targets [n, outDim] -> 'sse' [outDim],
 *  the squared error summed per output column: a whole-signal evaluation without the frozen layers.
 *  n is symbolic, so a large signal is evaluated in chunks whose sums add up. */
export function headEvalProgram(c: InrConfig, k: number, rows: Dim = 'n'): Program {
  const h = headConfig(c, k);
  const specs = paramSpecs(h);
  const ps = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
  const coords = B.input('coords', [rows, h.inDim]);
  const targets = B.input('targets', [rows, h.outDim]);
  const sq = B.square(B.sub(forward(h, ps, coords), targets));
  return {
    name: 'head_eval',
    inputs: [...specs.map((s) => ps[s.name]), coords, targets],
    outputs: { sse: B.reduceSum(sq, [0], false) },
    doc: `strainer: squared error of the head of a ${c.depth}-layer SIREN with ${k} frozen, from its feature cache`,
  };
}

/** The statistics of the decoder's least-squares problem (src/train/ridge.ts) on n cached rows (n
 *  symbolic: chunks add up): F = the last sine layer's output [n, width] (the head's sine layers
 *  applied to the cache; with k = depth - 1 the cache itself), 'gram' = F^T F [width, width], 'sums' =
 *  F^T 1 [1, width], 'fty' = F^T y [width, outDim]. Inputs: the head's sine-layer weights (k <= depth - 2),
 *  'coords', 'targets'. */
export function gramProgram(c: InrConfig, k: number, rows: Dim = 'n'): Program {
  if (!(Number.isInteger(k) && k >= 0 && k <= c.depth - 1))
    throw new Error(`gramProgram: 0 <= k <= ${c.depth - 1} frozen layers, got ${k}`);
  const coords = B.input('coords', [rows, cacheWidth(c, k)]);
  const targets = B.input('targets', [rows, c.outDim]);
  let f: Node = coords;
  let inputs: Node<'input'>[] = [coords, targets];
  if (k < c.depth - 1) {
    const h = headConfig(c, k);
    const specs = paramSpecs(h).filter((s) => isEncoderParam(s.name));
    const ps = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
    f = encode(h, ps, coords);
    inputs = [...specs.map((s) => ps[s.name]), coords, targets];
  }
  return {
    name: 'gram',
    inputs,
    outputs: {
      gram: B.matmul(f, f, true, false),
      sums: B.reduceSum(f, [0], true),
      fty: B.matmul(f, targets, true, false),
    },
    doc: `strainer: normal-equation statistics of the decoder of a ${c.depth}-layer SIREN with ${k} frozen layers`,
  };
}
