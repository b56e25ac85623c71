// TensorFlow.js LayersModel -> strainer prior, in TypeScript (no Python, no tf2onnx): reads a saved
// model folder (model.json topology + weightsManifest + .bin shards), accepts exactly the layers our
// models use — InputLayer, SineLayer (src/tfjs/sine-layer.ts), and one final linear Dense (the stacked
// decoders) — refuses any other layer naming its class and name, maps the SineLayer kernels/biases
// onto `encoder.{l}.weight|bias` (both [fan_in, fan_out]), reads each SineLayer's saved omega (a first
// layer of its own becomes the config's omega0), and builds the same prior bundle as the onnxruntime
// engine (encoder ONNX + single-signal train step, written by our protobufjs ONNX writer).
import { basename, resolve } from 'node:path';
import type { BuiltBundle } from '../export/bundle.ts';
import { firstOmega, validateConfig, type InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import type { TargetRange } from '../train/grid.ts';
import { UserError } from '../util/errors.ts';
import { readTfjsModelDir, type SavedTfjsModel, type SavedWeight } from './io-node.ts';
import { SINE_LAYER_CLASS_NAMES } from './sine-layer.ts';
import type { TfjsPriorMetadata } from './engine.ts';
import { buildPriorBundle } from '../export/prior.ts';

/** One layer of a Keras-format topology as tfjs writes it (config keys in snake_case). */
interface LayerJson {
  name?: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes?: unknown[];
}
interface Supported {
  kind: 'input' | 'sine' | 'dense';
  name: string;
  config: Record<string, unknown>;
}

const SUPPORTED_NOTE = 'the converter handles InputLayer, SineLayer and a final linear Dense only';

function classify(l: LayerJson): Supported {
  const named = l.name ?? l.config?.name;
  const name = typeof named === 'string' ? named : '?';
  if (l.class_name === 'InputLayer') return { kind: 'input', name, config: l.config };
  if (SINE_LAYER_CLASS_NAMES.includes(l.class_name)) return { kind: 'sine', name, config: l.config };
  if (l.class_name === 'Dense') return { kind: 'dense', name, config: l.config };
  throw new UserError(`unsupported layer ${l.class_name} '${name}': ${SUPPORTED_NOTE}`);
}

/** The layers of a Functional or Sequential topology, in execution order, all of them checked. */
function layerChain(topology: Record<string, unknown>, where: string): Supported[] {
  const top = (topology.model_config ?? topology) as { class_name?: string; config?: unknown };
  const cfg = top.config as
    { layers?: LayerJson[]; input_layers?: unknown[]; output_layers?: unknown[] } | LayerJson[] | undefined;
  const layers = Array.isArray(cfg) ? cfg : cfg?.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new UserError(`${where}: model.json topology has no layers`);
  const all = layers.map(classify); // refuses any unsupported layer by name before anything else
  if (top.class_name === 'Sequential') return all;
  if (top.class_name !== 'Model' && top.class_name !== 'Functional')
    throw new UserError(
      `${where}: unsupported model class '${String(top.class_name)}' (expected a Sequential or Functional LayersModel)`,
    );
  // Functional: follow the single path from the output back to the input through inbound_nodes.
  const byName = new Map(layers.map((l, i) => [all[i].name, l]));
  const outs = Array.isArray(cfg) ? [] : (cfg?.output_layers ?? []);
  if (outs.length !== 1)
    throw new UserError(`${where}: the model has ${outs.length} outputs; a strainer model has exactly one`);
  const chain: Supported[] = [];
  let cur = String((outs[0] as unknown[])[0]);
  for (let guard = 0; guard <= layers.length; guard++) {
    const l = byName.get(cur);
    if (!l) throw new UserError(`${where}: model.json refers to a layer '${cur}' it does not define`);
    chain.unshift(classify(l));
    const nodes = (l.inbound_nodes ?? []) as unknown[][][];
    if (nodes.length === 0) break;
    if (nodes.length !== 1 || nodes[0].length !== 1)
      throw new UserError(
        `${where}: layer '${cur}' is shared or has several inputs; a strainer model is a single chain of layers`,
      );
    cur = String(nodes[0][0][0]);
  }
  if (chain.length !== layers.length)
    throw new UserError(
      `${where}: the model has layers off the path from input to output (${layers.length - chain.length}); a strainer model is a single chain`,
    );
  return chain;
}

function weight(m: SavedTfjsModel, layer: string, w: 'kernel' | 'bias', shape: number[]): Float32Array {
  const t: SavedWeight | undefined = m.weights.get(`${layer}/${w}`);
  if (!t)
    throw new UserError(
      `${m.dir}: no weight '${layer}/${w}' in the weights manifest (has: ${[...m.weights.keys()].join(', ')})`,
    );
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new UserError(`${m.dir}: weight '${layer}/${w}' has shape [${t.shape}], expected [${shape}]`);
  return t.data;
}

export interface ConvertOptions {
  /** Prior name; default the output folder's name. */
  name: string;
  /** Channels of one signal; default from the model's strainer metadata. */
  channels?: number;
  /** Resolution of the prior's train_step graph (res x res; a clip of res samples, a res^3 volume);
   *  default the pretraining signals' grid (metadata). */
  res?: number;
  range?: TargetRange;
}

export interface ParsedTfjsModel {
  /** Single-signal config (outDim = channels). */
  config: InrConfig;
  signals: number;
  encoder: Params;
  meta: Partial<TfjsPriorMetadata>;
}

/** Maps a saved tfjs model onto strainer's encoder parameters; refuses anything it cannot represent. */
export function parseTfjsModel(m: SavedTfjsModel, channelsOpt?: number): ParsedTfjsModel {
  const where = m.dir;
  const meta = (m.json.userDefinedMetadata as { strainer?: Partial<TfjsPriorMetadata> } | undefined)?.strainer ?? {};
  const chain = layerChain(m.json.modelTopology as Record<string, unknown>, where).filter((l) => l.kind !== 'input');
  const last = chain[chain.length - 1];
  if (!last || last.kind !== 'dense')
    throw new UserError(
      `${where}: the last layer must be the linear Dense decoder, found ${last ? `'${last.name}'` : 'no layers'}`,
    );
  const enc = chain.slice(0, -1);
  if (enc.length === 0) throw new UserError(`${where}: the model has no SineLayer encoder layers`);
  for (const l of enc)
    if (l.kind !== 'sine')
      throw new UserError(`${where}: layer '${l.name}' (Dense) sits inside the encoder; ${SUPPORTED_NOTE}`);
  const act = last.config.activation ?? 'linear';
  if (act !== 'linear')
    throw new UserError(
      `${where}: Dense '${last.name}' has activation '${typeof act === 'string' ? act : JSON.stringify(act)}'; only a linear decoder is supported`,
    );
  if (last.config.use_bias === false)
    throw new UserError(`${where}: Dense '${last.name}' has no bias; strainer decoders have one`);
  // The first SineLayer may have an omega of its own (SIREN's first_omega_0: the config's omega0); the
  // others share one. With a single SineLayer the hidden omega (the fresh decoder's init) is the metadata's.
  const first = Number(enc[0].config.omega);
  const omegas = new Set(enc.slice(1).map((l) => Number(l.config.omega)));
  const widths = new Set(enc.map((l) => Number(l.config.units)));
  if (omegas.size > 1 || widths.size !== 1)
    throw new UserError(
      `${where}: SineLayers after the first differ in omega (${[...omegas]}), or the layers in units (${[...widths]}); a strainer encoder uses one of each`,
    );
  const mc = meta.config;
  const omega = omegas.size === 1 ? [...omegas][0] : (mc?.omega ?? first),
    width = [...widths][0];
  const firstKernel = m.weights.get(`${enc[0].name}/kernel`);
  if (!firstKernel || firstKernel.shape.length !== 2)
    throw new UserError(`${where}: no 2-D weight '${enc[0].name}/kernel' in the weights manifest`);
  const inDim = firstKernel.shape[0];

  const encoder: Params = {};
  enc.forEach((l, i) => {
    encoder[`encoder.${i}.weight`] = weight(m, l.name, 'kernel', [i === 0 ? inDim : width, width]);
    encoder[`encoder.${i}.bias`] = weight(m, l.name, 'bias', [width]);
  });
  const units = Number(last.config.units);
  weight(m, last.name, 'kernel', [width, units]);
  const channels = channelsOpt ?? meta.config?.outDim;
  if (channels === undefined)
    throw new UserError(
      `${where}: model.json has no strainer metadata saying the channels per signal; pass --channels`,
    );
  if (!(Number.isInteger(channels) && channels > 0 && units % channels === 0))
    throw new UserError(`${where}: Dense '${last.name}' has ${units} outputs, not a multiple of ${channels} channels`);
  const config = validateConfig({
    kind: 'siren',
    inDim,
    outDim: channels,
    width,
    depth: enc.length + 1,
    omega,
    ...(first !== omega ? { omega0: first } : {}),
  });
  if (
    mc &&
    (mc.width !== width ||
      mc.depth !== config.depth ||
      mc.omega !== omega ||
      firstOmega(mc) !== first ||
      mc.inDim !== inDim)
  ) {
    throw new UserError(
      `${where}: strainer metadata (width ${mc.width} depth ${mc.depth} omega ${mc.omega} omega0 ${firstOmega(mc)}) disagrees with the topology (width ${width} depth ${config.depth} omega ${omega} omega0 ${first})`,
    );
  }
  return { config, signals: units / channels, encoder, meta };
}

/** Reads a saved tfjs LayersModel folder and builds the prior bundle the onnxruntime engine writes. */
export async function convertTfjsModel(
  dir: string,
  o: ConvertOptions,
): Promise<{ bundle: BuiltBundle; parsed: ParsedTfjsModel }> {
  const parsed = parseTfjsModel(readTfjsModelDir(dir), o.channels);
  const { meta } = parsed,
    inDim = parsed.config.inDim;
  const metaDims =
    meta.dims ?? (meta.height !== undefined && meta.width !== undefined ? [meta.height, meta.width] : undefined);
  if (metaDims && metaDims.length !== inDim)
    throw new UserError(
      `${dir}: strainer metadata gives a ${metaDims.length}-D grid (${metaDims.join('x')}) for a model of ${inDim}-D coordinates`,
    );
  if (inDim === 2 && metaDims && metaDims[0] !== metaDims[1] && o.res === undefined) {
    throw new UserError(
      `${dir}: the model was pretrained on ${metaDims[1]}x${metaDims[0]} images; pass --res for the prior's square train_step graph`,
    );
  }
  const dims = o.res !== undefined ? new Array<number>(inDim).fill(o.res) : metaDims;
  if (dims === undefined)
    throw new UserError(`${dir}: model.json has no strainer metadata giving the signals' grid; pass --res`);
  const bundle = await buildPriorBundle({
    name: o.name,
    config: parsed.config,
    range: o.range ?? meta.range ?? 'unit',
    encoder: parsed.encoder,
    res: dims[dims.length - 1],
    ...(inDim !== 2 ? { dims } : {}),
    ...(meta.rate !== undefined ? { rate: meta.rate } : {}),
    lr: meta.lr ?? 1e-4,
    iters: meta.iters ?? 0,
    signals: parsed.signals, // without metadata: the paper's lr, 0 iterations recorded
    engine: `${meta.engine ?? 'tfjs'}; converted from ${basename(resolve(dir))}/model.json by strainer export --from-tfjs`,
    ...(meta.finalLoss !== undefined ? { finalLoss: meta.finalLoss } : {}),
    ...(meta.data ? { data: meta.data } : {}),
    ...(meta.eval ? { eval: meta.eval } : {}),
  });
  return { bundle, parsed };
}
