// The pretraining model as a TensorFlow.js LayersModel: coords -> depth-1 SineLayers (the shared
// encoder, layers `encoder_0` ... `encoder_{depth-2}`; the first at the config's first-layer omega0,
// the rest at omega, each saving its own omega) -> one linear Dense `decoders` with N*C outputs
// (the N per-signal decoders stacked column-wise, signal i in columns i*C .. i*C+C-1, as strainer's
// stacked train step). Also converts weights between this model and strainer's named parameters.
import * as tf from '@tensorflow/tfjs';
import { firstOmega, type InrConfig } from '../model/config.ts';
import type { Params } from '../model/inr.ts';
import { SineLayer } from './sine-layer.ts';

/** tfjs layer names allow no dots, so strainer's `encoder.{l}` is `encoder_{l}` here. */
export const encoderLayerName = (l: number): string => `encoder_${l}`;
export const DECODERS_LAYER = 'decoders';

/** `c` is the stacked config: outDim = N * channels. */
export function buildTfjsModel(c: InrConfig): tf.LayersModel {
  if (c.kind !== 'siren') throw new Error(`the tfjs engine builds SIREN models only, not '${c.kind}'`);
  const input = tf.input({ shape: [c.inDim], name: 'coords', dtype: 'float32' });
  let h: tf.SymbolicTensor = input;
  for (let l = 0; l < c.depth - 1; l++) {
    h = new SineLayer({
      units: c.width,
      omega: l === 0 ? firstOmega(c) : c.omega,
      firstLayer: l === 0,
      name: encoderLayerName(l),
    }).apply(h) as tf.SymbolicTensor;
  }
  const out = tf.layers
    .dense({ units: c.outDim, activation: 'linear', useBias: true, name: DECODERS_LAYER })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'strainer_pretrain' });
}

/** A model with the same input whose output is the encoder's features (shares the layers' weights). */
export function encoderOf(model: tf.LayersModel, c: InrConfig): tf.LayersModel {
  const last = model.getLayer(encoderLayerName(c.depth - 2));
  return tf.model({ inputs: model.inputs, outputs: last.output, name: 'strainer_encoder' });
}

/** Sets the model's weights from strainer's stacked params (`encoder.{l}.*`, `decoder.*`). */
export function setStrainerWeights(model: tf.LayersModel, c: InrConfig, p: Params): void {
  const set = (layer: string, w: string, b: string): void => {
    const L = model.getLayer(layer);
    const [k, bias] = L.getWeights(); // the variables' own tensors: read, never dispose
    const values = [tf.tensor(p[w], k.shape), tf.tensor(p[b], bias.shape)];
    L.setWeights(values); // copies
    tf.dispose(values);
  };
  for (let l = 0; l < c.depth - 1; l++) set(encoderLayerName(l), `encoder.${l}.weight`, `encoder.${l}.bias`);
  set(DECODERS_LAYER, 'decoder.weight', 'decoder.bias');
}

/** Reads the model's weights as strainer's stacked params (both store kernels [fan_in, fan_out]). */
export function getStrainerWeights(model: tf.LayersModel, c: InrConfig): Params {
  const out: Params = {};
  const get = (layer: string, w: string, b: string): void => {
    const [k, bias] = model.getLayer(layer).getWeights();
    out[w] = Float32Array.from(k.dataSync());
    out[b] = Float32Array.from(bias.dataSync());
  };
  for (let l = 0; l < c.depth - 1; l++) get(encoderLayerName(l), `encoder.${l}.weight`, `encoder.${l}.bias`);
  get(DECODERS_LAYER, 'decoder.weight', 'decoder.bias');
  return out;
}
