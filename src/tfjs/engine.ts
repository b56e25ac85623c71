// The TensorFlow.js pretraining engine (PretrainEngine, src/train/pretrain-api.ts): the STRAINER
// recipe of src/train/pretrain.ts on a tfjs LayersModel — shared SIREN encoder (first layer at omega0,
// the rest at omega) + N stacked linear decoders, same init (strainer's initParams for the same seed),
// Adam with torch's defaults, the whole grid every step, loss = sum over signals of each signal's MSE,
// PSNR per signal before each update. Signals of any rank: clips, images, volumes.
// Also saves the result as a standard tfjs LayersModel (model.json + shard) for src/tfjs/convert.ts.
import * as tf from '@tensorflow/tfjs';
import type { Manifest } from '../export/bundle.ts';
import type { InrConfig } from '../model/config.ts';
import { validateConfig } from '../model/config.ts';
import { initParams, isEncoderParam, type Params } from '../model/inr.ts';
import type { PretrainEngine, EngineResult } from '../train/pretrain-api.ts';
import { asSignal, sampleCount } from '../data/signal.ts';
import { gridCoords, psnrFromMse, type TargetRange } from '../train/grid.ts';
import { stackedConfig, stackTargets, unstackDecoders } from '../train/pretrain.ts';
import { ADAM_DEFAULTS } from '../train/adam.ts';
import { DivergenceError } from '../train/trainer.ts';
import { UserError } from '../util/errors.ts';
import { selectTfjsBackend, backendFromEnv, type TfjsBackendChoice } from './backend.ts';
import { buildTfjsModel, getStrainerWeights, setStrainerWeights } from './model.ts';
import { nodeSaveHandler } from './io-node.ts';

/** What the converter needs beyond the weights; saved as model.json's userDefinedMetadata.strainer. */
export interface TfjsPriorMetadata {
  format: 'strainer-tfjs';
  version: 1;
  /** Single-signal config (outDim = channels); the model's decoder Dense has signals*outDim units. */
  config: InrConfig;
  signals: number;
  /** The grid's last two extents (manifestSignal's convention: a clip of n samples is 1 x n). */
  height: number;
  width: number;
  /** The grid of a clip or volume ([n], [d, h, w]); absent: height x width. */
  dims?: number[];
  /** Samples per second of an audio prior's clips. */
  rate?: number;
  range: TargetRange;
  lr: number;
  iters: number;
  seed: number;
  engine: string;
  finalLoss?: number;
  data?: Manifest['data'];
  eval?: Record<string, unknown>;
}

export interface TfjsEngineOptions {
  /** Default: STRAINER_TFJS_BACKEND from the environment, else 'auto' (the best present). */
  backend?: TfjsBackendChoice;
  /** Where the backend line goes; default stderr. */
  log?: (line: string) => void;
}

export function makeTfjsEngine(o: TfjsEngineOptions = {}): PretrainEngine {
  return async (signals, opts): Promise<EngineResult> => {
    if (signals.length === 0) throw new UserError('pretraining needs at least one signal');
    const { dims, channels: ch } = asSignal(signals[0]);
    const N = signals.length,
      rows = sampleCount(dims);
    const single = validateConfig({ ...opts.config, outDim: ch });
    if (single.kind !== 'siren') throw new UserError(`--engine tfjs pretrains SIREN models only, not '${single.kind}'`);
    if (single.inDim !== dims.length)
      throw new UserError(
        `pretraining ${dims.length}-D signals needs a model with inDim ${dims.length}; the config has inDim ${single.inDim}`,
      );
    const stacked = stackedConfig(single, N);
    const targetData = stackTargets(signals, opts); // also checks that all signals have one size
    const info = await selectTfjsBackend(o.backend ?? backendFromEnv());
    const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    log(`tfjs backend: ${info.label}${info.skipped.length ? ` (skipped ${info.skipped.join('; ')})` : ''}`);

    const model = buildTfjsModel(stacked);
    setStrainerWeights(model, stacked, initParams(stacked, opts.seed));
    const coords = tf.tensor2d(gridCoords(...dims), [rows, stacked.inDim]);
    const targets = tf.tensor2d(targetData, [rows, N * ch]);
    // tfjs's Adam defaults eps to the backend's epsilon (1e-7 in float32); torch.optim.Adam uses 1e-8.
    const optimizer = tf.train.adam(opts.lr, ADAM_DEFAULTS.beta1, ADAM_DEFAULTS.beta2, ADAM_DEFAULTS.eps);
    const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
    const loss: number[] = [],
      meanPsnr: number[] = [],
      stepMs: number[] = [];
    const t0 = performance.now();
    try {
      for (let it = 0; it < opts.iters; it++) {
        const ts = performance.now();
        let perSignal: tf.Tensor | null = null;
        const cost = optimizer.minimize(
          () => {
            const y = model.apply(coords, { training: true }) as tf.Tensor2D;
            const mse = tf.square(tf.sub(y, targets)).mean(0).reshape([N, ch]).mean(1); // [N], each signal's MSE
            perSignal = tf.keep(mse);
            return mse.sum<tf.Scalar>();
          },
          true,
          vars,
        );
        const per = await (perSignal as tf.Tensor | null)!.data();
        const l = (await cost!.data())[0];
        tf.dispose([cost!, perSignal!]);
        const ms = performance.now() - ts;
        if (!Number.isFinite(l)) throw new DivergenceError(it, `loss is ${l}`);
        let psnr = 0;
        for (const m of per) psnr += psnrFromMse(m, opts.range) / N;
        loss.push(l);
        meanPsnr.push(psnr);
        stepMs.push(ms);
        const seconds = (performance.now() - t0) / 1000;
        if ((await opts.onStep?.({ it, iters: opts.iters, psnr, loss: l, ms, seconds })) === false) break;
      }
      const p = getStrainerWeights(model, stacked);
      const encoder: Params = Object.fromEntries(Object.entries(p).filter(([k]) => isEncoderParam(k)));
      const decoders = unstackDecoders(p, stacked.width, N, ch);
      return { encoder, decoders, loss, psnr: meanPsnr, stepMs, engine: `tfjs (${info.label})` };
    } finally {
      tf.dispose([coords, targets]);
      optimizer.dispose();
      model.dispose();
    }
  };
}

/** The engine `strainer pretrain --engine tfjs` runs: backend from STRAINER_TFJS_BACKEND or the best present. */
export const pretrainTfjs: PretrainEngine = (signals, opts) => makeTfjsEngine()(signals, opts);

/** Stacks `decoder.{i}.*` back into one Dense kernel [width, N*C] and bias [N*C] (inverse of unstackDecoders). */
function stackDecoders(
  d: Params,
  width: number,
  signals: number,
  channels: number,
): { weight: Float32Array; bias: Float32Array } {
  const cols = signals * channels;
  const weight = new Float32Array(width * cols),
    bias = new Float32Array(cols);
  for (let i = 0; i < signals; i++) {
    const wi = d[`decoder.${i}.weight`],
      bi = d[`decoder.${i}.bias`];
    if (!wi || !bi) throw new UserError(`pretraining result lacks decoder ${i}`);
    for (let r = 0; r < width; r++)
      for (let ch = 0; ch < channels; ch++) weight[r * cols + i * channels + ch] = wi[r * channels + ch];
    bias.set(bi, i * channels);
  }
  return { weight, bias };
}

/**
 * Saves a pretraining result as a standard tfjs LayersModel in `dir` (model.json + group1-shard1of1.bin),
 * with `meta` as userDefinedMetadata.strainer. Works for a result of either engine; the tfjs engine's
 * weights are copied bit for bit. Refuses an existing model.json unless `force`.
 */
export async function saveTfjsPretrained(
  dir: string,
  r: Pick<EngineResult, 'encoder' | 'decoders'>,
  meta: Omit<TfjsPriorMetadata, 'format' | 'version'>,
  force: boolean,
): Promise<void> {
  const stacked = stackedConfig(meta.config, meta.signals);
  const dec = stackDecoders(r.decoders, stacked.width, meta.signals, meta.config.outDim);
  const model = buildTfjsModel(stacked);
  try {
    setStrainerWeights(model, stacked, { ...r.encoder, 'decoder.weight': dec.weight, 'decoder.bias': dec.bias });
    const full: TfjsPriorMetadata = { format: 'strainer-tfjs', version: 1, ...meta };
    model.setUserDefinedMetadata({ strainer: JSON.parse(JSON.stringify(full)) as object });
    await model.save(nodeSaveHandler(dir, force));
  } finally {
    model.dispose();
  }
}
