// Rendering an INR on a signal's grid (any rank) for any weights: one compiled render graph (weights
// as inputs) and the grid's coordinates kept on the runtime, so previews, measurements against a truth
// and the final output of a fit need no new graph. A grid of more than MAX_RENDER_ROWS samples (a
// volume) is rendered in chunks of that many rows, the last one padded, so memory stays bounded. Used
// by fitSignal, restoreImage and the browser's fit.
import type { Backend, Session } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import type { InrConfig } from '../model/config.ts';
import { paramSpecs, type Params } from '../model/inr.ts';
import { programToOnnx } from '../onnx/write.ts';
import { renderProgram } from './programs.ts';
import { latticeCoords, fromTargetRange, type TargetRange } from './grid.ts';

/** Rows per render run: 65536 x width-256 float32 activations are 64 MiB a layer (images up to 256x256 render in one run). */
export const MAX_RENDER_ROWS = 65536;

/** Samples per axis, and optionally the lattice they sit on (latticeCoords; default: dims). */
export interface Grid {
  dims: number[];
  lattice?: number[];
}

export interface Renderer {
  readonly dims: readonly number[];
  /** The signal for these weights, row-major with channels last, in [0,1] (unclamped). */
  render(params: Params): Promise<Float32Array>;
  release(): Promise<void>;
}

/** A renderer for an image grid (height x width). */
export async function createRenderer(
  backend: Backend,
  c: InrConfig,
  height: number,
  width: number,
  range: TargetRange = 'unit',
): Promise<Renderer> {
  return createGridRenderer(backend, c, { dims: [height, width] }, range);
}

export async function createGridRenderer(
  backend: Backend,
  c: InrConfig,
  grid: Grid,
  range: TargetRange = 'unit',
): Promise<Renderer> {
  const rows = grid.dims.reduce((a, b) => a * b, 1);
  const chunk = Math.min(rows, MAX_RENDER_ROWS);
  const specs = paramSpecs(c);
  const s: Session = await backend.load(programToOnnx(renderProgram(c, chunk)));
  const all = latticeCoords(grid.dims, grid.lattice ?? grid.dims);
  const chunks: unknown[] = [];
  for (let from = 0; from < rows; from += chunk) {
    const part = new Float32Array(chunk * c.inDim); // the last chunk's tail stays 0 and is dropped
    part.set(all.subarray(from * c.inDim, Math.min(rows, from + chunk) * c.inDim));
    chunks.push(s.upload(hostTensor([chunk, c.inDim], part)));
  }
  return {
    dims: [...grid.dims],
    async render(params) {
      const feeds: Record<string, unknown> = {};
      for (const p of specs) feeds[p.name] = s.upload(hostTensor(p.shape, params[p.name]));
      try {
        const out = new Float32Array(rows * c.outDim);
        for (let k = 0; k < chunks.length; k++) {
          const r = await s.run({ ...feeds, coords: chunks[k] });
          const data = (await s.download(r.output)).data;
          const n = Math.min(chunk, rows - k * chunk) * c.outDim;
          out.set(n === data.length ? data : data.subarray(0, n), k * chunk * c.outDim);
          s.dispose(r.output);
        }
        return fromTargetRange(out, range);
      } finally {
        for (const p of specs) s.dispose(feeds[p.name]);
      }
    },
    async release() {
      for (const x of chunks) s.dispose(x);
      await s.release();
    },
  };
}
