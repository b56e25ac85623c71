// The one writer of a fitted signal's bundle, for the CLI (`fit --out`), the Node library and the
// browser's download: the inference graph with the fitted weights baked in (coords -> signal, any ONNX
// runtime renders it), the train step for this signal (params and Adam state as inputs) and
// weights.bin with the whole train state, so any runtime can keep fitting.
import { buildBundle, type BuiltBundle, type Manifest } from './bundle.ts';
import { programToOnnx } from '../onnx/write.ts';
import type { InrConfig } from '../model/config.ts';
import { paramSpecs, type Params } from '../model/inr.ts';
import { trainStepProgram, inferenceProgram } from '../train/programs.ts';
import { ADAM_DEFAULTS } from '../train/adam.ts';
import type { State } from '../train/trainer.ts';
import type { TargetRange } from '../train/grid.ts';
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
  return { height: last(2), width: last(1), channels, ...(dims.length !== 2 ? { dims: [...dims] } : {}), ...more };
}

/** The grid a manifest's `signal` describes: its dims, else height x width. */
export function signalDims(s: NonNullable<Manifest['signal']>): number[] {
  return s.dims ? [...s.dims] : [s.height, s.width];
}

export interface FitBundleArgs {
  name: string;
  config: InrConfig;
  range: TargetRange;
  lr: number;
  iters: number;
  state: State;
  /** From manifestSignal for clips and volumes. */
  signal: NonNullable<Manifest['signal']>;
  finalLoss: number;
  engine: string;
  /** Coordinates per step of the fit (default: the whole grid); the bundled train step takes this many. */
  batch?: number;
  /** Measured quality and provenance, e.g. { psnr, prior }. */
  eval?: Record<string, unknown>;
  /** Further files to list (and hash) in the manifest, e.g. reconstruction.png. */
  extra?: Record<string, Uint8Array>;
}

export async function fitBundle(a: FitBundleArgs): Promise<BuiltBundle> {
  const params: Params = {};
  for (const s of paramSpecs(a.config)) params[s.name] = a.state[s.name].data;
  const batch = a.batch ?? signalDims(a.signal).reduce((x, y) => x * y, 1);
  const step = trainStepProgram({ config: a.config, batch });
  const inf = inferenceProgram(a.config, params);
  const g1 = graphEntry('train_step.onnx', step, programToOnnx(step));
  const g2 = graphEntry('inference.onnx', inf, programToOnnx(inf));
  return buildBundle(
    {
      kind: 'fit',
      name: a.name,
      config: a.config,
      range: a.range,
      train: {
        lr: a.lr,
        iters: a.iters,
        adam: ADAM_DEFAULTS,
        batch,
        signals: 1,
        final_loss: a.finalLoss,
        engine: a.engine,
      },
      signal: a.signal,
      ...(a.eval ? { eval: a.eval } : {}),
      graphs: { train_step: g1.entry, inference: g2.entry },
    },
    a.state,
    { 'train_step.onnx': g1.bytes, 'inference.onnx': g2.bytes, ...(a.extra ?? {}) },
  );
}
