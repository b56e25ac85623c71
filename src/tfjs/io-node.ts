// Saved TensorFlow.js LayersModels on disk, without @tensorflow/tfjs-node (not installable here): a
// tf.io save handler writing the standard layout (model.json + one weight shard, tfjs's
// `tf.io.IOHandler` contract), a load handler for tf.loadLayersModel, and a plain reader of
// model.json + weightsManifest + .bin shards that the converter uses without loading the model into tfjs.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, checkOutDir } from '../node/fs.ts';
import { UserError } from '../util/errors.ts';

export const MODEL_JSON = 'model.json';
/** tfjs's own shard naming (group{g}-shard{i}of{n}.bin); everything fits one shard here. */
export const SHARD = 'group1-shard1of1.bin';

function weightBytes(d: tf.io.WeightData | undefined): Uint8Array {
  if (d === undefined) return new Uint8Array(0);
  return new Uint8Array(d instanceof ArrayBuffer ? d : tf.io.CompositeArrayBuffer.join(d));
}

/** Save handler: `await model.save(nodeSaveHandler(dir, force))`. The shard is written before
 *  model.json, each atomically, so model.json never names a missing or partial shard. */
export function nodeSaveHandler(dir: string, force: boolean): tf.io.IOHandler {
  return {
    save: async (a: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      if (a.modelTopology instanceof ArrayBuffer)
        throw new Error('nodeSaveHandler saves LayersModels (JSON topology) only');
      if (existsSync(join(dir, MODEL_JSON))) checkOutDir(dir, force);
      const bin = weightBytes(a.weightData);
      const json: tf.io.ModelJSON = {
        modelTopology: a.modelTopology ?? {},
        format: a.format,
        generatedBy: a.generatedBy,
        convertedBy: a.convertedBy ?? null,
        weightsManifest: [{ paths: [SHARD], weights: a.weightSpecs ?? [] }],
        ...(a.trainingConfig ? { trainingConfig: a.trainingConfig } : {}),
        ...(a.userDefinedMetadata ? { userDefinedMetadata: a.userDefinedMetadata } : {}),
      };
      const text = JSON.stringify(json);
      writeFileAtomic(join(dir, SHARD), bin);
      writeFileAtomic(join(dir, MODEL_JSON), text);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(json.modelTopology).length,
          weightSpecsBytes: JSON.stringify(json.weightsManifest).length,
          weightDataBytes: bin.byteLength,
        },
      };
    },
  };
}

export interface SavedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}
export interface SavedTfjsModel {
  dir: string;
  json: tf.io.ModelJSON;
  /** Every weight of the manifest by name (float32 only). */
  weights: Map<string, SavedWeight>;
}

function readInside(dir: string, rel: string, what: string): Uint8Array {
  const root = resolve(dir);
  const p = resolve(root, rel);
  if (!p.startsWith(root + sep)) throw new UserError(`${dir}: ${what} path '${rel}' points outside the model folder`);
  if (!existsSync(p)) throw new UserError(`${dir}: ${what} '${rel}' is missing`);
  return new Uint8Array(readFileSync(p));
}

/** Reads model.json and its weight shards; refuses anything but unquantized float32 weights. */
export function readTfjsModelDir(dir: string): SavedTfjsModel {
  if (!existsSync(join(dir, MODEL_JSON)))
    throw new UserError(`${dir}: no ${MODEL_JSON} (expected a saved TensorFlow.js LayersModel folder)`);
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(new TextDecoder().decode(readInside(dir, MODEL_JSON, 'model file'))) as tf.io.ModelJSON;
  } catch (e) {
    throw e instanceof UserError ? e : new UserError(`${dir}/${MODEL_JSON} is not valid JSON`);
  }
  if (!json || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new UserError(`${dir}/${MODEL_JSON} has no modelTopology or weightsManifest (is it a LayersModel?)`);
  }
  const weights = new Map<string, SavedWeight>();
  for (const group of json.weightsManifest) {
    const parts = group.paths.map((p) => readInside(dir, p, 'weight shard'));
    const bytes = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.byteLength;
    }
    let off = 0;
    for (const w of group.weights) {
      if (w.dtype !== 'float32' || w.quantization) {
        throw new UserError(
          `${dir}: weight '${w.name}' is ${w.quantization ? `quantized (${w.quantization.dtype})` : w.dtype}; only float32 weights are supported`,
        );
      }
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (off + 4 * n > bytes.byteLength)
        throw new UserError(`${dir}: weight shards end before weight '${w.name}' (truncated .bin?)`);
      const dv = new DataView(bytes.buffer, bytes.byteOffset + off, 4 * n);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true); // tfjs writes little-endian
      weights.set(w.name, { name: w.name, shape: [...w.shape], data });
      off += 4 * n;
    }
    if (off !== bytes.byteLength)
      throw new UserError(
        `${dir}: weight shards ${group.paths.join(', ')} hold ${bytes.byteLength} bytes, the manifest describes ${off}`,
      );
  }
  return { dir, json, weights };
}

/** Load handler: `await tf.loadLayersModel(nodeLoadHandler(dir))` (SineLayer must be imported first). */
export function nodeLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const m = readTfjsModelDir(dir);
      const specs = m.json.weightsManifest.flatMap((g) => g.weights);
      const data = new Float32Array(specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0));
      let at = 0;
      for (const s of specs) {
        const w = m.weights.get(s.name)!;
        data.set(w.data, at);
        at += w.data.length;
      }
      return {
        modelTopology: m.json.modelTopology,
        weightSpecs: specs,
        weightData: data.buffer,
        format: m.json.format,
        generatedBy: m.json.generatedBy,
        convertedBy: m.json.convertedBy,
        ...(m.json.userDefinedMetadata ? { userDefinedMetadata: m.json.userDefinedMetadata } : {}),
      };
    },
  };
}
