// STRAINER pretraining on onnxruntime (the default engine): one shared encoder and N linear decoders
// trained jointly. The N decoders are stacked into one [width, N*C] layer, so every step runs the
// encoder once over the shared coordinates (REFERENCE.md cost note) and the loss is the sum over
// signals of each signal's MSE. Adam is elementwise, so stacking is exactly N independent decoders.
// Signals of any rank (clips, images, volumes), all of one size.
import type { Backend } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import { validateConfig, type InrConfig } from '../model/config.ts';
import { initParams, isEncoderParam, type Params } from '../model/inr.ts';
import { initialState, singleSession, type DriverFactory, type State } from './trainer.ts';
import { gridCoords, psnrFromMse, toTargetRange } from './grid.ts';
import type { Image } from '../data/pixels.ts';
import { asSignal, describeSignal, sampleCount, type Signal } from '../data/signal.ts';
import type { EngineOptions, EngineResult } from './pretrain-api.ts';
import { UserError } from '../util/errors.ts';

export function stackedConfig(c: InrConfig, n: number): InrConfig {
  return { ...c, outDim: c.outDim * n };
}

/** Targets [samples, N*C]: row p, column i*C + c holds signal i's channel c at sample p. */
export function stackTargets(input: readonly (Image | Signal)[], opts: Pick<EngineOptions, 'range'>): Float32Array {
  const signals = input.map(asSignal);
  const first = signals[0],
    c = first.channels,
    rows = sampleCount(first.dims);
  for (const s of signals) {
    if (s.dims.join('x') !== first.dims.join('x') || s.channels !== c)
      throw new UserError(
        `pretraining needs signals of one size: got ${describeSignal(s)} and ${describeSignal(first)}`,
      );
  }
  const n = signals.length;
  const out = new Float32Array(rows * n * c);
  signals.forEach((s, i) => {
    const t = toTargetRange(s.data, opts.range);
    for (let p = 0; p < rows; p++) for (let k = 0; k < c; k++) out[p * n * c + i * c + k] = t[p * c + k];
  });
  return out;
}

/** Splits stacked decoder params into per-signal `decoder.{i}.weight|bias`. */
export function unstackDecoders(stacked: Params, width: number, n: number, c: number): Params {
  const out: Params = {};
  const w = stacked['decoder.weight'],
    b = stacked['decoder.bias'];
  for (let i = 0; i < n; i++) {
    const wi = new Float32Array(width * c);
    for (let r = 0; r < width; r++) for (let k = 0; k < c; k++) wi[r * c + k] = w[r * n * c + i * c + k];
    out[`decoder.${i}.weight`] = wi;
    out[`decoder.${i}.bias`] = b.slice(i * c, (i + 1) * c);
  }
  return out;
}

export interface PretrainRun {
  /** What runs the train step (default: one session on the backend; strainer/node shards large steps). */
  driver?: DriverFactory;
  /** State to start from (resume), else a fresh init from opts.seed. */
  resume?: { state: State; loss: number[]; psnr: number[] };
  /** Called every `every` steps (and at the end) with the full state, e.g. to write a checkpoint. */
  checkpoint?: { every: number; save: (state: State, loss: number[], psnr: number[]) => void | Promise<void> };
}

export async function pretrainOrt(
  backend: Backend,
  input: readonly (Image | Signal)[],
  opts: EngineOptions,
  run: PretrainRun = {},
): Promise<EngineResult> {
  if (input.length === 0) throw new UserError('pretraining needs at least one signal');
  const signals = input.map(asSignal);
  const c = validateConfig({ ...opts.config, outDim: signals[0].channels });
  if (c.inDim !== signals[0].dims.length)
    throw new UserError(
      `pretraining ${signals[0].dims.length}-D signals needs a model with inDim ${signals[0].dims.length}; the config has inDim ${c.inDim}`,
    );
  const n = signals.length;
  const sc = stackedConfig(c, n);
  const rows = sampleCount(signals[0].dims);
  const state = run.resume?.state ?? initialState(sc, initParams(sc, opts.seed));
  const trainer = await (run.driver ?? singleSession(backend))({ config: sc, batch: rows, signals: n }, state, opts.lr);
  trainer.setBatch(
    hostTensor([rows, c.inDim], gridCoords(...signals[0].dims)),
    hostTensor([rows, n * c.outDim], stackTargets(signals, opts)),
  );
  const loss = [...(run.resume?.loss ?? [])];
  const meanPsnr = [...(run.resume?.psnr ?? [])];
  const stepMs: number[] = [];
  const t0 = performance.now();
  try {
    for (let it = trainer.iteration; it < opts.iters; it++) {
      const ts = performance.now();
      const r = await trainer.step({ mse: true });
      const ms = performance.now() - ts;
      let acc = 0;
      for (let i = 0; i < n; i++) {
        let m = 0;
        for (let k = 0; k < c.outDim; k++) m += r.mse![i * c.outDim + k];
        acc += psnrFromMse(m / c.outDim, opts.range);
      }
      loss.push(r.loss);
      meanPsnr.push(acc / n);
      stepMs.push(ms);
      const event = {
        it,
        iters: opts.iters,
        psnr: acc / n,
        loss: r.loss,
        ms,
        seconds: (performance.now() - t0) / 1000,
      };
      const stop = (await opts.onStep?.(event)) === false;
      if (
        run.checkpoint &&
        (stop || trainer.iteration % run.checkpoint.every === 0 || trainer.iteration === opts.iters)
      ) {
        await run.checkpoint.save(await trainer.state(), loss, meanPsnr);
      }
      if (stop) break;
    }
    const params = await trainer.params(sc);
    const encoder: Params = {};
    for (const [k, v] of Object.entries(params)) if (isEncoderParam(k)) encoder[k] = v;
    return {
      encoder,
      decoders: unstackDecoders(params, c.width, n, c.outDim),
      loss,
      psnr: meanPsnr,
      stepMs,
      engine: trainer.backend,
    };
  } finally {
    await trainer.release();
  }
}
