// Compact priors. rebuildPrior rewrites a prior in the weights-once layout (the encoder graph takes
// its weights as inputs from weights.bin) from its own weights and manifest, without retraining.
// quantizePrior stores a float32 prior's encoder weights as float16, or as int8 with one float32 scale
// per output channel (a column of a [fan_in, fan_out] matrix), copying the train step unchanged;
// loading dequantizes to float32 (bundle.ts), so fitting runs the same code as for float32. A
// meta-learned prior's decoder stays float32: it is width + 1 values per channel (0.1 % of a width-256
// prior's weights), and keeping it exact costs about 1 KB.
// Platform-neutral: `strainer quantize` (src/cli/quantize.ts) and scripts/rebuild-priors.ts call it.
import { buildBundle, type BuiltBundle, type LoadedBundle, type GraphEntry } from './bundle.ts';
import { encodeTensor, decodeTensor, type TensorDtype, type QuantizationInfo } from './tensor-codec.ts';
import { graphEntry } from './fit-bundle.ts';
import { encoderProgram } from '../train/programs.ts';
import { isEncoderParam } from '../model/inr.ts';
import { ADAM_DEFAULTS } from '../train/adam.ts';
import { buildPriorBundle, metaRecipe } from './prior.ts';
import { programToOnnx } from '../onnx/write.ts';
import type { HostTensor } from '../runtime/session.ts';
import { UserError } from '../util/errors.ts';

export const QUANTIZE_TARGETS = ['f16', 'int8'] as const;
export type QuantizeTarget = (typeof QUANTIZE_TARGETS)[number];

const TARGET_DTYPE: Record<QuantizeTarget, QuantizationInfo['dtype']> = { f16: 'float16', int8: 'int8' };

/** How one tensor is stored: f16 stores every tensor as float16; int8 stores the weight matrices as
 *  int8 and keeps bias vectors float32 (a scale per value would save nothing; they are 2 % of a
 *  width-256 encoder). */
export function storageDtype(to: QuantizeTarget, shape: readonly number[]): TensorDtype {
  switch (to) {
    case 'f16':
      return 'float16';
    case 'int8':
      return shape.length >= 2 ? 'int8' : 'float32';
    default:
      return to satisfies never;
  }
}

/** The compact form of a loaded float32 prior bundle, named `name` (default `<prior>-<to>`). */
export async function quantizePrior(b: LoadedBundle, to: QuantizeTarget, name?: string): Promise<BuiltBundle> {
  const m = b.manifest;
  if (m.kind !== 'prior') throw new UserError(`bundle '${m.name}' is a '${m.kind}'; only priors can be quantized`);
  const stored = m.tensors.entries.find((e) => (e.dtype ?? 'float32') !== 'float32');
  if (m.quantization || stored)
    throw new UserError(
      `prior '${m.name}' is already stored as ${m.quantization?.dtype ?? stored?.dtype}; quantize its float32 bundle instead`,
    );
  const tensors: Record<string, HostTensor & { dtype: TensorDtype }> = {};
  let err = 0;
  for (const [k, t] of Object.entries(b.tensors)) {
    const dtype = isEncoderParam(k) ? storageDtype(to, t.shape) : 'float32';
    tensors[k] = { ...t, dtype };
    // What storage loses, measured by decoding the stored bytes as every loader will.
    const { bytes, scaleAt } = encodeTensor(dtype, t.data, t.shape);
    const back = decodeTensor(bytes, {
      name: k,
      shape: [...t.shape],
      offset: 0,
      length: t.data.length,
      dtype,
      ...(scaleAt !== undefined ? { scaleOffset: scaleAt } : {}),
    });
    t.data.forEach((v, i) => {
      err = Math.max(err, Math.abs(v - back[i]));
    });
  }

  const graphs: Record<string, GraphEntry> = {};
  const bytes: Record<string, Uint8Array> = {};
  for (const [role, g] of Object.entries(m.graphs)) {
    if (role === 'encoder') {
      // Rebuilt rather than copied: a bundle written before weights-once baked a float32 copy into it.
      const enc = encoderProgram(m.config);
      const e = graphEntry(g.file, enc, programToOnnx(enc));
      graphs[role] = e.entry;
      bytes[g.file] = e.bytes;
    } else {
      graphs[role] = g;
      bytes[g.file] = await b.graph(role);
    }
  }
  const quantization: QuantizationInfo = {
    dtype: TARGET_DTYPE[to],
    from: { name: m.name, weights_sha256: m.files[m.tensors.file].sha256 },
    max_abs_error: Number(err.toPrecision(4)),
  };
  // The float32 bundle's eval numbers were measured with float32 weights, so they are not copied.
  const draft = {
    kind: m.kind,
    name: name ?? `${m.name}-${to}`,
    config: m.config,
    range: m.range,
    train: m.train,
    ...(m.method !== undefined ? { method: m.method, meta: m.meta } : {}),
    ...(m.signal ? { signal: m.signal } : {}),
    ...(m.data ? { data: m.data } : {}),
    graphs,
    quantization,
  };
  return buildBundle(draft, tensors, bytes, m.tensors.file);
}

/** The same prior in the current layout, from its own weights and manifest: same name, config, train
 *  record, data, eval and creation time, weights.bin byte for byte; the graphs are rebuilt. */
export async function rebuildPrior(b: LoadedBundle): Promise<BuiltBundle> {
  const m = b.manifest;
  if (m.kind !== 'prior') throw new UserError(`bundle '${m.name}' is a '${m.kind}', not a prior`);
  if (m.quantization)
    throw new UserError(
      `prior '${m.name}' is a ${m.quantization.dtype} copy of '${m.quantization.from.name}'; rebuild that one and quantize it again`,
    );
  const s = m.signal;
  if (!s || s.height !== s.width || m.train.batch !== s.height * s.width)
    throw new UserError(`prior '${m.name}': its train step is not for a square full-image batch; cannot rebuild it`);
  const a = m.train.adam;
  if (a.beta1 !== ADAM_DEFAULTS.beta1 || a.beta2 !== ADAM_DEFAULTS.beta2 || a.eps !== ADAM_DEFAULTS.eps)
    throw new UserError(
      `prior '${m.name}' was trained with Adam ${JSON.stringify(a)}; the rebuilt train step would use the defaults`,
    );
  const encoder = Object.fromEntries(m.tensors.entries.map((e) => [e.name, b.tensors[e.name].data]));
  const built = await buildPriorBundle({
    name: m.name,
    config: m.config,
    range: m.range,
    encoder,
    res: s.height,
    lr: m.train.lr,
    iters: m.train.iters,
    signals: m.train.signals,
    engine: m.train.engine ?? 'unknown',
    ...(m.train.final_loss !== undefined ? { finalLoss: m.train.final_loss } : {}),
    ...(m.data ? { data: m.data } : {}),
    ...(m.eval ? { eval: m.eval } : {}),
    ...(m.method !== undefined ? { method: m.method, meta: metaRecipe(m.meta!), decoder: encoder } : {}),
    created: m.created,
  });
  if (m.release !== undefined) built.manifest.release = m.release;
  return built;
}
