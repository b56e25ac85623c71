// The one writer of a fitted signal's bundle, for the CLI (`fit --out`), the Node library's saveFit and
// the browser's download, each handing it the FitResult as it is: the inference graph with the fitted
// weights baked in (coords -> signal, any ONNX runtime renders it), the train step for this signal
// (params and Adam state as inputs) and weights.bin with the whole train state, so any runtime can keep
// fitting. train.final_loss is the fit's last loss, as a prior's is its pretraining's last loss.
import { buildBundle, type BuiltBundle, type Manifest } from './bundle.ts';
import { programToOnnx } from '../onnx/write.ts';
import { paramSpecs, type Params } from '../model/inr.ts';
import { trainStepProgram, inferenceProgram } from '../train/programs.ts';
import { ADAM_DEFAULTS } from '../train/adam.ts';
import type { FitResult } from '../train/fit.ts';
import type { Program } from '../graph/ir.ts';

export function graphEntry(
  file: string,
  p: Program,
  bytes: Uint8Array,
): { entry: { file: string; inputs: string[]; outputs: string[]; doc: string }; bytes: Uint8Array } {
  return {
    entry: { file, inputs: p.inputs.map((i) => i.params.name), outputs: Object.keys(p.outputs), doc: p.doc ?? '' },
    bytes,
  };
}

/** The manifest's `signal` for a grid of these dims: images keep { height, width, channels }; clips and
 *  volumes add `dims` (height and width are then their last two axes, 1 x n for a clip). */
export function manifestSignal(
  dims: readonly number[],
  channels: number,
  more: { source?: string; rate?: number; lattice?: number[] } = {},
): NonNullable<Manifest['signal']> {
  const last = (k: number): number => dims[dims.length - k] ?? 1;
  const s: NonNullable<Manifest['signal']> = { height: last(2), width: last(1), channels };
  if (dims.length !== 2) s.dims = [...dims];
  if (more.source !== undefined) s.source = more.source;
  if (more.rate !== undefined) s.rate = more.rate;
  if (more.lattice !== undefined) s.lattice = more.lattice;
  return s;
}

/** The grid a manifest's `signal` describes: its dims, else height x width. */
export function signalDims(s: NonNullable<Manifest['signal']>): number[] {
  return s.dims ? [...s.dims] : [s.height, s.width];
}

export interface FitBundleOptions {
  /** The bundle's name. */
  name: string;
  /** Where the signal came from (a file name), recorded in `signal.source`. */
  source?: string;
  /** Further files to list (and hash) in the manifest, e.g. reconstruction.png. */
  extra?: Record<string, Uint8Array>;
  /** Further measured quality for `eval`, beside the final PSNR and the prior (e.g. a clip's snr_db). */
  eval?: Record<string, unknown>;
}

/** A finished fit as a bundle: its plan (config, range, learning rate and optimizer, grid, rate, lattice, prior), its
 *  whole train state, its true final loss and final PSNR, as every caller stores it. */
export async function fitBundle(
  r: Pick<FitResult, 'plan' | 'state' | 'iters' | 'finalLoss' | 'finalPsnr' | 'backend'>,
  o: FitBundleOptions,
): Promise<BuiltBundle> {
  const plan = r.plan,
    c = plan.config;
  const params: Params = {};
  for (const s of paramSpecs(c)) params[s.name] = r.state[s.name].data;
  const batch = plan.batch ?? plan.dims.reduce((x, y) => x * y, 1);
  // The bundled step continues the fit as it ran (an SGD step keeps Adam's state layout).
  const step = trainStepProgram({ config: c, batch, optimizer: plan.optimizer });
  const inf = inferenceProgram(c, params);
  const g1 = graphEntry('train_step.onnx', step, programToOnnx(step));
  const g2 = graphEntry('inference.onnx', inf, programToOnnx(inf));
  const signal = manifestSignal(plan.dims, plan.channels, { source: o.source, rate: plan.rate, lattice: plan.lattice });
  const evaluation: Record<string, unknown> = { psnr: +r.finalPsnr.toFixed(3), ...o.eval };
  if (plan.prior) evaluation.prior = plan.prior;
  return buildBundle(
    {
      kind: 'fit',
      name: o.name,
      config: c,
      range: plan.range,
      train: {
        lr: plan.lr,
        // The updates behind the stored state (a fit may hand back its best state, not its last).
        // Updates made: the train state's step (a fast fit hands back fresh optimizer state: its steps).
        iters: plan.recipe === 'fast' ? r.iters : r.state.step.data[0],
        adam: ADAM_DEFAULTS,
        batch,
        signals: 1,
        final_loss: r.finalLoss,
        engine: r.backend,
        optimizer: plan.optimizer,
        recipe: plan.recipe,
      },
      signal,
      eval: evaluation,
      graphs: { train_step: g1.entry, inference: g2.entry },
    },
    r.state,
    { 'train_step.onnx': g1.bytes, 'inference.onnx': g2.bytes, ...o.extra },
  );
}
