// `strainer render FITDIR --res R --out FILE.png [--window x0,y0,x1,y1]`: a fitted INR is a continuous
// function of its coordinates, so its inference graph (inference.onnx in a `strainer fit --out` folder:
// coords [n, 2] in [-1,1] -> output [n, C]) renders it at any resolution and over any crop of [-1,1]^2,
// in chunks of coordinates so memory stays bounded. Output is written atomically, never over a file
// without --force.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { intArg } from './args.ts';
import { loadBundle } from '../export/bundle.ts';
import { encodePng } from '../data/image.ts';
import { dirSource, writeFileAtomic } from '../node/fs.ts';
import { nodeBackend } from '../node/backend.ts';
import { hostTensor } from '../runtime/session.ts';
import { fromTargetRange } from '../train/grid.ts';
import { UserError } from '../util/errors.ts';

/** Coordinates per inference run: 65536 x width-256 float32 activations are 64 MiB per layer. */
export const RENDER_CHUNK = 65536;
/** Largest side: 8192^2 pixels x 3 channels of float32 is 805 MB on the host before PNG encoding. */
export const RENDER_MAX = 8192;

/** [x0, y0, x1, y1]: x runs along columns (coordinate 1), y along rows (coordinate 0, downwards). */
export type Window = [number, number, number, number];
export const FULL_WINDOW: Window = [-1, -1, 1, 1];

export function parseWindow(v: string): Window {
  const parts = v.split(',').map((s) => s.trim());
  const n = parts.map(Number);
  if (parts.length !== 4 || parts.some((s) => s === '') || n.some((x) => !Number.isFinite(x))) throw new UserError(`--window must be four numbers x0,y0,x1,y1, got '${v}'`);
  if (n[0] === n[2] || n[1] === n[3]) throw new UserError(`--window must have x0 != x1 and y0 != y1, got '${v}'`);
  return n as Window;
}

/** Pixel (i, j) of an R x R render of window w: (y0 + (y1-y0) i/(R-1), x0 + (x1-x0) j/(R-1)); with
 *  the full window this is gridCoords(R, R), the grid a fit trains on (src/train/grid.ts). */
export function windowCoords(res: number, w: Window, from: number, count: number): Float32Array {
  const out = new Float32Array(count * 2);
  const t = (k: number): number => (res === 1 ? 0.5 : k / (res - 1));
  for (let p = 0; p < count; p++) {
    const i = Math.floor((from + p) / res), j = (from + p) % res;
    out[2 * p] = w[1] + (w[3] - w[1]) * t(i);
    out[2 * p + 1] = w[0] + (w[2] - w[0]) * t(j);
  }
  return out;
}

export interface RenderCliOptions { res: number; out: string; window?: Window; force?: boolean; threads?: number }

export async function runRender(dir: string, o: RenderCliOptions): Promise<void> {
  if (existsSync(o.out) && !o.force) throw new UserError(`${o.out} already exists (pass --force to overwrite)`);
  if (!existsSync(join(dir, 'manifest.json'))) throw new UserError(`${dir}: not a bundle folder (no manifest.json)`);
  const b = await loadBundle(dirSource(dir));
  const m = b.manifest;
  if (!m.graphs.inference) throw new UserError(`${dir}: a '${m.kind}' bundle has no inference graph; render takes a fitted signal (a strainer fit --out folder)`);
  const c = m.config;
  if (c.inDim !== 2 || (c.outDim !== 1 && c.outDim !== 3)) throw new UserError(`${dir}: render writes images: needs 2-D coordinates and 1 or 3 channels, the bundle has ${c.inDim} and ${c.outDim}`);
  const w = o.window ?? FULL_WINDOW;
  const s = await nodeBackend('ort', o.threads).load(await b.graph('inference'));
  const n = o.res * o.res;
  const data = new Float32Array(n * c.outDim);
  const t0 = performance.now();
  try {
    for (let from = 0; from < n; from += RENDER_CHUNK) {
      const count = Math.min(RENDER_CHUNK, n - from);
      const coords = s.upload(hostTensor([count, 2], windowCoords(o.res, w, from, count)));
      const out = await s.run({ coords });
      data.set((await s.download(out.output)).data, from * c.outDim);
      s.dispose(coords);
      s.dispose(out.output);
    }
  } finally {
    await s.release();
  }
  const png = encodePng({ width: o.res, height: o.res, channels: c.outDim, data: fromTargetRange(data, m.range) });
  writeFileAtomic(o.out, png);
  process.stderr.write(`rendered ${dir} at ${o.res}x${o.res} over [${w[0]},${w[2]}]x[${w[1]},${w[3]}] in ${((performance.now() - t0) / 1000).toFixed(2)} s: wrote ${resolve(o.out)}\n`);
}

export function registerRender(program: Command): void {
  program.command('render')
    .description('render a fitted INR (a strainer fit --out folder) at any resolution and crop through its inference graph')
    .argument('<fitdir>', 'folder written by strainer fit --out')
    .requiredOption('--res <r>', `output size r x r pixels (at most ${RENDER_MAX})`, intArg('--res', 1, RENDER_MAX))
    .requiredOption('--out <file>', 'PNG file to write')
    .option('--window <x0,y0,x1,y1>', 'region of [-1,1]^2 to render; x along columns, y along rows (default -1,-1,1,1)', parseWindow)
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)', intArg('--threads', 1, 1024))
    .option('--force', 'overwrite an existing --out file')
    .action(async (dir: string, opts: RenderCliOptions) => runRender(dir, opts));
}
