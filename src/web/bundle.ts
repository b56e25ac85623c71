// The fitted model as a strainer bundle (kind 'fit': manifest + weights.bin + inference.onnx, the
// same layout the CLI writes and reads), zipped into one file for a browser download.
import { buildBundle, type BuiltBundle } from '../export/bundle.ts';
import { programToOnnx } from '../onnx/write.ts';
import { graphEntry } from '../export/fit-bundle.ts';
import { inferenceProgram } from '../train/programs.ts';
import { ADAM_DEFAULTS } from '../train/adam.ts';
import { paramSpecs } from '../model/inr.ts';
import type { HostTensor } from '../runtime/session.ts';
import type { WebFitResult } from './fit.ts';
import { zipStore } from './zip.ts';

export async function fitBundle(r: WebFitResult, name: string, source?: string): Promise<BuiltBundle> {
  const tensors: Record<string, HostTensor> = {};
  for (const s of paramSpecs(r.config)) tensors[s.name] = { dims: s.shape, data: r.params[s.name] };
  const inf = inferenceProgram(r.config, r.params);
  const g = graphEntry('inference.onnx', inf, programToOnnx(inf));
  return buildBundle({
    kind: 'fit',
    name,
    config: r.config,
    range: r.range,
    train: { lr: r.lr, iters: r.iters, adam: ADAM_DEFAULTS, batch: r.output.width * r.output.height, signals: 1, engine: r.backend },
    signal: { height: r.output.height, width: r.output.width, channels: r.output.channels, ...(source ? { source } : {}) },
    eval: { psnr: r.finalPsnr, ...(r.prior ? { prior: r.prior } : {}) },
    graphs: { inference: g.entry },
  }, tensors, { 'inference.onnx': g.bytes });
}

/** The bundle as a .zip holding the folder `name/`. */
export function zipBundle(b: BuiltBundle, folder: string): Uint8Array {
  const files: Record<string, Uint8Array> = { [`${folder}/manifest.json`]: new TextEncoder().encode(JSON.stringify(b.manifest, null, 2) + '\n') };
  for (const [n, bytes] of Object.entries(b.files)) files[`${folder}/${n}`] = bytes;
  return zipStore(files);
}
