// `strainer render FITDIR --res R --out FILE.png [--window x0,y0,x1,y1]`: a fitted INR is a continuous
// function of its coordinates, so its inference graph (inference.onnx in a `strainer fit --out` folder:
// coords [n, 2] in [-1,1] -> output [n, C]) renders it at any resolution and over any crop of [-1,1]^2,
// in chunks of coordinates so memory stays bounded. A fitted volume renders as a whole (--out X.nii.gz,
// R^3 voxels) or as any plane (--slice z:0.1 --out X.png, R x R); a fitted clip as R samples over its
// span at any sample rate (--rate HZ --out X.wav). Output is written atomically, never over a file
// without --force.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { intArg } from './args.ts';
import { THREADS_FLAG } from './backend-choice.ts';
import { loadBundle } from '../export/bundle.ts';
import { encodePng } from '../data/image.ts';
import { encodeWav, signalWav } from '../data/wav.ts';
import { encodeNifti } from '../data/volume.ts';
import { makeSignal } from '../data/signal.ts';
import type { Session } from '../runtime/session.ts';
import { dirSource, writeFileAtomic } from '../node/fs.ts';
import { nodeBackend } from '../node/backend.ts';
import { hostTensor } from '../runtime/session.ts';
import { fromTargetRange } from '../train/grid.ts';
import { UserError } from '../util/errors.ts';

/** Coordinates per inference run: 65536 x width-256 float32 activations are 64 MiB per layer. */
export const RENDER_CHUNK = 65536;
/** Largest side: 8192^2 pixels x 3 channels of float32 is 805 MB on the host before PNG encoding. */
export const RENDER_MAX = 8192;
/** Largest side of a whole rendered volume: 256^3 voxels are 67 MB of float32 (and ~4 TFLOP at width 256). */
export const RENDER_MAX_VOLUME = 256;
/** Most samples of a rendered clip: an hour at 48 kHz. */
export const RENDER_MAX_SAMPLES = 48_000 * 3600;
/** Highest rate a clip renders at (the WAV writer's limit, src/data/wav.ts). */
export const RENDER_MAX_RATE = 768_000;

/** [x0, y0, x1, y1]: x runs along columns (coordinate 1), y along rows (coordinate 0, downwards). */
export type Window = [number, number, number, number];
export const FULL_WINDOW: Window = [-1, -1, 1, 1];

export function parseWindow(v: string): Window {
  const parts = v.split(',').map((s) => s.trim());
  const n = parts.map(Number);
  if (parts.length !== 4 || parts.some((s) => s === '') || n.some((x) => !Number.isFinite(x)))
    throw new UserError(`--window must be four numbers x0,y0,x1,y1, got '${v}'`);
  if (n[0] === n[2] || n[1] === n[3]) throw new UserError(`--window must have x0 != x1 and y0 != y1, got '${v}'`);
  return n as Window;
}

/** Pixel (i, j) of an R x R render of window w: (y0 + (y1-y0) i/(R-1), x0 + (x1-x0) j/(R-1)); with
 *  the full window this is gridCoords(R, R), the grid a fit trains on (src/train/grid.ts). */
export function windowCoords(res: number, w: Window, from: number, count: number): Float32Array {
  const out = new Float32Array(count * 2);
  const t = (k: number): number => (res === 1 ? 0.5 : k / (res - 1));
  for (let p = 0; p < count; p++) {
    const i = Math.floor((from + p) / res),
      j = (from + p) % res;
    out[2 * p] = w[1] + (w[3] - w[1]) * t(i);
    out[2 * p + 1] = w[0] + (w[2] - w[0]) * t(j);
  }
  return out;
}

/** A plane of a volume: the axis held fixed (z, y, x = coordinates 0, 1, 2) and its coordinate in [-1, 1]. */
export interface Slice {
  axis: 0 | 1 | 2;
  at: number;
}

export function parseSlice(v: string): Slice {
  const m = /^([zyx012]):(.+)$/.exec(v.trim());
  const at = m ? Number(m[2]) : NaN;
  if (!m || !Number.isFinite(at) || at < -1 || at > 1)
    throw new UserError(
      `--slice must be AXIS:POSITION with AXIS z, y or x (or 0, 1, 2) and POSITION in [-1, 1], got '${v}'`,
    );
  return { axis: ({ z: 0, y: 1, x: 2, 0: 0, 1: 1, 2: 2 } as const)[m[1] as 'z'], at };
}

export interface RenderCliOptions {
  res?: number;
  rate?: number;
  out: string;
  window?: Window;
  slice?: Slice;
  force?: boolean;
  threads?: number;
}

/** Runs the inference graph over `n` coordinates made by `coordsAt(from, count)`, RENDER_CHUNK at a time. */
async function inferAll(
  s: Session,
  n: number,
  inDim: number,
  outDim: number,
  coordsAt: (from: number, count: number) => Float32Array,
): Promise<Float32Array> {
  const data = new Float32Array(n * outDim);
  for (let from = 0; from < n; from += RENDER_CHUNK) {
    const count = Math.min(RENDER_CHUNK, n - from);
    const coords = s.upload(hostTensor([count, inDim], coordsAt(from, count)));
    const out = await s.run({ coords });
    data.set((await s.download(out.output)).data, from * outDim);
    s.dispose(coords);
    s.dispose(out.output);
  }
  return data;
}

/** Coordinates of a res^3 grid over [-1, 1]^3, or of a res x res plane with `slice.axis` fixed at `slice.at`. */
export function volumeCoords(res: number, slice: Slice | undefined, from: number, count: number): Float32Array {
  const t = (k: number): number => (res === 1 ? 0 : -1 + (2 * k) / (res - 1));
  const out = new Float32Array(count * 3);
  for (let p = 0; p < count; p++) {
    const q = from + p;
    if (slice) {
      const free = [0, 1, 2].filter((a) => a !== slice.axis);
      out[3 * p + slice.axis] = slice.at;
      out[3 * p + free[0]] = t(Math.floor(q / res));
      out[3 * p + free[1]] = t(q % res);
    } else {
      out[3 * p] = t(Math.floor(q / (res * res)));
      out[3 * p + 1] = t(Math.floor(q / res) % res);
      out[3 * p + 2] = t(q % res);
    }
  }
  return out;
}

/** The end of a fitted clip's span: its last sample sits at -1 + 2 (n - 1) / (lattice - 1) (grid.ts latticeCoords). */
function clipSpan(n: number, lattice: number): number {
  return lattice === 1 ? 0 : -1 + (2 * (n - 1)) / (lattice - 1);
}

/** A fitted volume as a whole (NIfTI) or as one plane (PNG). */
async function renderVolume(
  dir: string,
  o: RenderCliOptions & { res: number },
  m: Awaited<ReturnType<typeof loadBundle>>['manifest'],
  s: Session,
): Promise<string> {
  const c = m.config,
    lower = o.out.toLowerCase();
  if (c.outDim !== 1) throw new UserError(`${dir}: render writes volumes of one channel; the bundle has ${c.outDim}`);
  if (o.slice) {
    if (!lower.endsWith('.png')) throw new UserError(`--slice writes a PNG; --out must end in .png, got ${o.out}`);
    const data = await inferAll(s, o.res * o.res, 3, 1, (f, n) => volumeCoords(o.res, o.slice, f, n));
    // Rows top to bottom = the first free axis from +1 to -1 (the middle-slices convention of fit --out).
    const img = makeSignal([o.res, o.res], 1);
    const v = fromTargetRange(data, m.range);
    for (let r = 0; r < o.res; r++) img.data.set(v.subarray((o.res - 1 - r) * o.res, (o.res - r) * o.res), r * o.res);
    writeFileAtomic(o.out, encodePng({ width: o.res, height: o.res, channels: 1, data: img.data }));
    return `plane ${'zyx'[o.slice.axis]} = ${o.slice.at} at ${o.res}x${o.res}`;
  }
  if (!(lower.endsWith('.nii') || lower.endsWith('.nii.gz')))
    throw new UserError(
      `a whole volume is written as NIfTI; --out must end in .nii or .nii.gz (or pass --slice AXIS:POS for a PNG plane), got ${o.out}`,
    );
  if (o.res > RENDER_MAX_VOLUME)
    throw new UserError(`--res for a whole volume must be at most ${RENDER_MAX_VOLUME}, got ${o.res}`);
  const data = await inferAll(s, o.res ** 3, 3, 1, (f, n) => volumeCoords(o.res, undefined, f, n));
  const scale = typeof m.eval?.value_scale === 'number' ? m.eval.value_scale : 1; // the source's units (fit-signal.ts)
  // The fitted cube's voxel size, scaled to this resolution (same physical extent); 1 mm when unrecorded.
  const fitSide = m.signal?.dims?.[0] ?? o.res,
    vox = m.eval?.voxel_mm;
  const voxel = (
    Array.isArray(vox) && vox.length === 3 && vox.every((x) => typeof x === 'number' && x > 0) ? vox : [1, 1, 1]
  ).map((x: number) => (x * fitSide) / o.res) as [number, number, number];
  writeFileAtomic(
    o.out,
    encodeNifti(makeSignal([o.res, o.res, o.res], 1, fromTargetRange(data, m.range)), {
      scale,
      voxel,
      gzip: lower.endsWith('.gz'),
    }),
  );
  return `volume at ${o.res}^3`;
}

/** A fitted clip resampled at `rate` Hz over its own span (the duration of its n samples at the fitted rate). */
async function renderClip(
  o: RenderCliOptions,
  m: Awaited<ReturnType<typeof loadBundle>>['manifest'],
  s: Session,
): Promise<string> {
  if (!o.out.toLowerCase().endsWith('.wav'))
    throw new UserError(`a clip is written as WAV; --out must end in .wav, got ${o.out}`);
  const sig = m.signal;
  const n = sig?.dims?.[0] ?? sig?.width ?? 1,
    fitted = sig?.rate ?? 8000,
    rate = o.rate ?? fitted;
  const count = Math.max(1, Math.round(((n - 1) * rate) / fitted) + 1);
  if (count > RENDER_MAX_SAMPLES)
    throw new UserError(`that is ${count} samples, above the ${RENDER_MAX_SAMPLES} render writes`);
  const end = clipSpan(n, sig?.lattice?.[0] ?? n),
    step = count === 1 ? 0 : (end + 1) / (count - 1);
  const data = await inferAll(s, count, 1, m.config.outDim, (f, k) =>
    Float32Array.from({ length: k }, (_, i) => -1 + step * (f + i)),
  );
  writeFileAtomic(
    o.out,
    encodeWav(signalWav(makeSignal([count], m.config.outDim, fromTargetRange(data, m.range)), rate)),
  );
  return `${count} samples at ${rate} Hz (fitted: ${n} at ${fitted} Hz)`;
}

export async function runRender(dir: string, o: RenderCliOptions): Promise<void> {
  if (existsSync(o.out) && !o.force) throw new UserError(`${o.out} already exists (pass --force to overwrite)`);
  if (!existsSync(join(dir, 'manifest.json'))) throw new UserError(`${dir}: not a bundle folder (no manifest.json)`);
  const b = await loadBundle(dirSource(dir));
  const m = b.manifest;
  if (!m.graphs.inference)
    throw new UserError(
      `${dir}: a '${m.kind}' bundle has no inference graph; render takes a fitted signal (a strainer fit --out folder)`,
    );
  const c = m.config;
  if (c.inDim === 1 || c.inDim === 3) {
    if (o.window) throw new UserError('--window applies to images (2-D bundles)');
    if (c.inDim === 1 && o.slice) throw new UserError('--slice applies to volumes (3-D bundles)');
    if (c.inDim === 1 && o.res !== undefined)
      throw new UserError('a clip renders at a sample rate: pass --rate HZ (default the fitted rate), not --res');
    if (c.inDim === 3 && o.res === undefined)
      throw new UserError('--res is required: the side of the rendered volume or plane');
    const s = await nodeBackend('ort', o.threads).load(await b.graph('inference'));
    const t0 = performance.now();
    const what = await (c.inDim === 1 ? renderClip(o, m, s) : renderVolume(dir, { ...o, res: o.res! }, m, s)).finally(
      () => s.release(),
    );
    process.stderr.write(
      `rendered ${dir}: ${what} in ${((performance.now() - t0) / 1000).toFixed(2)} s: wrote ${resolve(o.out)}\n`,
    );
    return;
  }
  if (o.slice) throw new UserError('--slice applies to volumes (3-D bundles)');
  if (o.rate !== undefined) throw new UserError('--rate applies to clips (1-D bundles)');
  if (o.res === undefined) throw new UserError('--res is required: the side of the rendered image');
  if (c.inDim !== 2 || (c.outDim !== 1 && c.outDim !== 3))
    throw new UserError(
      `${dir}: render writes images: needs 2-D coordinates and 1 or 3 channels, the bundle has ${c.inDim} and ${c.outDim}`,
    );
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
  process.stderr.write(
    `rendered ${dir} at ${o.res}x${o.res} over [${w[0]},${w[2]}]x[${w[1]},${w[3]}] in ${((performance.now() - t0) / 1000).toFixed(2)} s: wrote ${resolve(o.out)}\n`,
  );
}

export function registerRender(program: Command): void {
  program
    .command('render')
    .description(
      'render a fitted INR (a strainer fit --out folder) at any resolution and crop through its inference graph',
    )
    .argument('<fitdir>', 'folder written by strainer fit --out')
    .option(
      '--res <r>',
      `images: r x r pixels (at most ${RENDER_MAX}); volumes: r^3 voxels (at most ${RENDER_MAX_VOLUME}) or an r x r plane`,
      intArg('--res', 1, RENDER_MAX),
    )
    .option(
      '--rate <hz>',
      "clips: sample rate to render at (default the fitted clip's)",
      intArg('--rate', 1, RENDER_MAX_RATE),
    )
    .requiredOption(
      '--out <file>',
      'file to write: PNG (images, volume planes), .nii/.nii.gz (whole volumes), .wav (clips)',
    )
    .option(
      '--window <x0,y0,x1,y1>',
      'region of [-1,1]^2 to render; x along columns, y along rows (default -1,-1,1,1)',
      parseWindow,
    )
    .option(
      '--slice <axis:pos>',
      'volumes: render the plane with axis z, y or x fixed at pos in [-1, 1] (e.g. z:0), as a PNG',
      parseSlice,
    )
    .option(...THREADS_FLAG)
    .option('--force', 'overwrite an existing --out file')
    .action(async (dir: string, opts: RenderCliOptions) => runRender(dir, opts));
}
