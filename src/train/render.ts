// Rendering an INR on an image grid for any weights: one compiled render graph (weights as inputs)
// and the grid's coordinates kept on the runtime, so previews, measurements against a truth and the
// final output of a fit need no new graph. Used by fitSignal, restoreImage and the browser's fit.
import type { Backend, Session } from '../runtime/session.ts';
import { hostTensor } from '../runtime/session.ts';
import type { InrConfig } from '../model/config.ts';
import { paramSpecs, type Params } from '../model/inr.ts';
import { programToOnnx } from '../onnx/write.ts';
import { renderProgram } from './programs.ts';
import { gridCoords, fromTargetRange, type TargetRange } from './grid.ts';

export interface Renderer {
  readonly height: number;
  readonly width: number;
  /** The signal for these weights, HWC in [0,1] (unclamped). */
  render(params: Params): Promise<Float32Array>;
  release(): Promise<void>;
}

export async function createRenderer(backend: Backend, c: InrConfig, height: number, width: number, range: TargetRange = 'unit'): Promise<Renderer> {
  const rows = height * width;
  const specs = paramSpecs(c);
  const s: Session = await backend.load(programToOnnx(renderProgram(c, rows)));
  const coords = s.upload(hostTensor([rows, c.inDim], gridCoords(height, width)));
  return {
    height, width,
    async render(params) {
      const feeds: Record<string, unknown> = { coords };
      for (const p of specs) feeds[p.name] = s.upload(hostTensor(p.shape, params[p.name]));
      try {
        const out = await s.run(feeds);
        const data = fromTargetRange(Float32Array.from((await s.download(out.output)).data), range);
        s.dispose(out.output);
        return data;
      } finally {
        for (const p of specs) s.dispose(feeds[p.name]);
      }
    },
    async release() {
      s.dispose(coords);
      await s.release();
    },
  };
}
