// A signal's samples as a fit with frozen layers sees them: the frozen layers' output at every sample
// (the feature cache, ./head.ts featureProgram), and the whole-signal programs run over it in chunks
// (the head's squared error; the decoder's normal-equation statistics and its closed form, ./ridge.ts).
// Memory is reused on purpose: on the project's VM a fresh page costs ~3.4 ms per MB on first touch
// (measured: 128 MB in 415-455 ms), so one cache buffer serves every number of frozen layers, and the
// programs run on CHUNK_ROWS rows at a time so their sessions' working memory stays small.
import type { Backend, Session } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import type { Program } from '../graph/ir.ts';
import type { InrConfig } from '../model/config.ts';
import { headConfig, paramSpecs, type Params } from '../model/inr.ts';
import { programToOnnx } from '../onnx/write.ts';
import { cacheWidth, featureProgram, gramProgram, headEvalProgram } from './head.ts';
import { ridgeDecoder, type Decoder } from './ridge.ts';
import { sampleRows } from './sampling.ts';
import type { Rng } from '../util/random.ts';

/** Rows per run of the whole-signal programs (bench/ttq-node-draft.md: 65536-row runs made the start of
 *  a fit 2.3x slower, mostly first touches of their buffers). */
export const CHUNK_ROWS = 4096;

/** Row ranges [from, to) of at most CHUNK_ROWS rows covering `rows`. */
function chunks(rows: number): [number, number][] {
  const out: [number, number][] = [];
  for (let from = 0; from < rows; from += CHUNK_ROWS) out.push([from, Math.min(rows, from + CHUNK_ROWS)]);
  return out;
}

/** A backend that loads each distinct model once (a fit's train steps, evaluations and decoder
 *  statistics reuse their sessions); release() of a session is a no-op until `close`. */
export interface CachingBackend extends Backend {
  close(): Promise<void>;
}

export function cachingBackend(backend: Backend): CachingBackend {
  const loaded: { model: Uint8Array; session: Promise<Session> }[] = [];
  const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  return {
    name: backend.name,
    async load(model) {
      let hit = loaded.find((e) => same(e.model, model));
      if (!hit) loaded.push((hit = { model, session: backend.load(model) }));
      const s = await hit.session;
      return {
        backend: s.backend,
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: (feeds) => s.run(feeds),
        upload: (t) => s.upload(t),
        download: (v) => s.download(v),
        dispose: (v) => s.dispose(v),
        release: async () => {},
      };
    },
    async close() {
      for (const { session } of loaded) await (await session).release();
    },
  };
}

export class FeatureCache {
  /** The cache of the last `features` call: rows x cacheWidth(k), row-major. */
  private wide: Float32Array | null = null;

  /** `coords` [rows, inDim] and `targets` [rows, outDim] in the target range, row-major. */
  constructor(
    readonly backend: CachingBackend,
    readonly config: InrConfig,
    readonly coords: Float32Array,
    readonly targets: Float32Array,
  ) {}

  get rows(): number {
    return this.coords.length / this.config.inDim;
  }

  private load(p: Program): Promise<Session> {
    return this.backend.load(programToOnnx(p));
  }

  /** The first k layers' output at every sample, [rows, width] (k = 0: the coordinates); `weights` holds
   *  those layers' parameters. Overwrites the previous call's cache. */
  async features(k: number, weights: Params): Promise<Float32Array> {
    const c = this.config;
    if (k === 0) return this.coords;
    const wide = (this.wide ??= new Float32Array(this.rows * c.width));
    const s = await this.load(featureProgram(c, k));
    const w: Record<string, unknown> = {};
    for (const spec of paramSpecs(c))
      if (s.inputNames.includes(spec.name)) w[spec.name] = s.upload(hostTensor(spec.shape, weights[spec.name]));
    for (const [from, to] of chunks(this.rows)) {
      const x = s.upload(hostTensor([to - from, c.inDim], this.coords.subarray(from * c.inDim, to * c.inDim)));
      const res = await s.run({ ...w, coords: x });
      wide.set((await s.download(res.features)).data, from * c.width);
      s.dispose(res.features);
      s.dispose(x);
    }
    for (const v of Object.values(w)) s.dispose(v);
    return wide;
  }

  /** Sums over chunks of a whole-signal program's outputs on n cached rows `f` and their targets `y`,
   *  with the head's parameters (head names, k frozen). */
  private async sums(
    p: Program,
    k: number,
    head: Params,
    f: Float32Array,
    y: Float32Array,
    n: number,
  ): Promise<Record<string, Float64Array>> {
    const s = await this.load(p);
    const cw = cacheWidth(this.config, k),
      out = this.config.outDim;
    const params: Record<string, unknown> = {};
    for (const spec of paramSpecs(headConfig(this.config, k)))
      if (s.inputNames.includes(spec.name)) params[spec.name] = s.upload(hostTensor(spec.shape, head[spec.name]));
    const acc: Record<string, Float64Array> = {};
    for (const [from, to] of chunks(n)) {
      const coords = s.upload(hostTensor([to - from, cw], f.subarray(from * cw, to * cw)));
      const targets = s.upload(hostTensor([to - from, out], y.subarray(from * out, to * out)));
      const res = await s.run({ ...params, coords, targets });
      for (const name of s.outputNames) {
        const d = (await s.download(res[name])).data;
        const a = (acc[name] ??= new Float64Array(d.length));
        for (let i = 0; i < d.length; i++) a[i] += d[i];
        s.dispose(res[name]);
      }
      s.dispose(coords);
      s.dispose(targets);
    }
    for (const v of Object.values(params)) s.dispose(v);
    return acc;
  }

  /** The head's squared error over the whole signal, summed over samples and channels, from the cache. */
  async sse(k: number, cache: Float32Array, head: Params): Promise<number> {
    const sse = (await this.sums(headEvalProgram(this.config, k), k, head, cache, this.targets, this.rows)).sse;
    return sse.reduce((a, b) => a + b, 0);
  }

  /** The closed-form decoder (ridge.ts, relative penalty `ridge`) for the head's current sine layers, from
   *  a random `fraction` of the rows (at least 4 per unknown) drawn with `r`. */
  async decoder(k: number, cache: Float32Array, head: Params, ridge: number, fraction = 1, r?: Rng): Promise<Decoder> {
    const c = this.config,
      out = c.outDim,
      cw = cacheWidth(c, k),
      rows = this.rows;
    let f = cache,
      y = this.targets,
      n = rows;
    if (fraction < 1 && r) {
      n = Math.min(rows, Math.max(4 * (c.width + 1), Math.round(fraction * rows)));
      f = new Float32Array(n * cw);
      y = new Float32Array(n * out);
      sampleRows(rows, n, r).forEach((p, j) => {
        f.set(cache.subarray(p * cw, (p + 1) * cw), j * cw);
        y.set(this.targets.subarray(p * out, (p + 1) * out), j * out);
      });
    }
    const st = await this.sums(gramProgram(c, k), k, head, f, y, n);
    const ysum = new Float64Array(out);
    for (let i = 0; i < n * out; i++) ysum[i % out] += y[i];
    return ridgeDecoder(
      { width: c.width, outDim: out, rows: n, gram: st.gram, sums: st.sums, fty: st.fty, ysum },
      ridge,
    );
  }
}
