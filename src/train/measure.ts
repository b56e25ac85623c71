// Measurement operators (forward models) for inverse problems: the INR is evaluated on the fine grid
// and its output [H*W, C] (row-major pixels, grid.ts) goes through one of these before the loss, inside
// the compiled train step. Only standard ops with constant shapes (Reshape, ReduceSum, Mul), so the
// step runs on every backend. Adding an operator is one function returning a `Measurement`.
import type { Node } from '../graph/ir.ts';
import * as B from '../graph/builder.ts';
import type { Measurement } from './programs.ts';
import { UserError } from '../util/errors.ts';

/** An integer scale factor that divides both sides of a width x height image. */
export function checkScale(width: number, height: number, factor: number, what = 'image'): void {
  if (!Number.isInteger(factor) || factor < 1) throw new UserError(`scale must be a positive integer, got ${factor}`);
  if (width % factor !== 0 || height % factor !== 0)
    throw new UserError(`scale ${factor} does not divide the ${what} size ${width}x${height}`);
}

function checkSize(h: number, w: number, channels: number): void {
  for (const [v, what] of [
    [h, 'height'],
    [w, 'width'],
    [channels, 'channels'],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`measurement: ${what} must be a positive integer, got ${v}`);
  }
}

function rowsGuard(name: string, rows: number): (got: number) => void {
  return (got) => {
    if (got !== rows) throw new Error(`${name}: built for ${rows} rows, applied to ${got}`);
  };
}

/**
 * Super-resolution: area (box) averaging of each factor x factor block, the integer-factor case of
 * src/data/image.ts resizeArea. [H*W, C] is viewed as [H/s, s, W/s, s, C] (a free reshape of the
 * row-major layout), summed over the two s axes and scaled by 1/s^2 -> [(H/s)*(W/s), C].
 */
export function boxDownsample(h: number, w: number, channels: number, factor: number): Measurement {
  checkSize(h, w, channels);
  const s = factor;
  checkScale(w, h, s);
  const hs = h / s,
    ws = w / s;
  const name = `box${s}x`;
  const guard = rowsGuard(name, h * w);
  return {
    name: `${name} ${w}x${h} -> ${ws}x${hs}`,
    observedRows: (rows) => {
      guard(rows);
      return hs * ws;
    },
    apply: (y: Node, rows: number) => {
      guard(rows);
      const blocks = B.reshape(y, [hs, s, ws, s, channels]);
      const sums = B.reduceSum(blocks, [1, 3], false);
      return B.mul(B.reshape(sums, [hs * ws, channels]), 1 / (s * s));
    },
  };
}

/**
 * Inpainting: only pixels with keep[p] != 0 are observed. The prediction is multiplied by the 0/1
 * mask, so unknown pixels contribute nothing to the gradient; give the observation 0 there so the loss
 * value is the masked error. (The MSE is still divided by all H*W rows: a constant scale.)
 * A blur would be the same size of addition: `apply: (y) => B.matmul(K, y)` with a constant [rows, rows]
 * kernel matrix K for small images, or two matmuls (rows, then columns on a transposed view) for a
 * separable kernel.
 */
export function pixelMask(h: number, w: number, keep: ArrayLike<number>): Measurement {
  checkSize(h, w, 1);
  if (keep.length !== h * w) throw new UserError(`mask has ${keep.length} entries, the image has ${h * w} pixels`);
  const mask = Float64Array.from(keep, (v) => (v !== 0 ? 1 : 0));
  const guard = rowsGuard('mask', h * w);
  return {
    name: `mask ${w}x${h} (${mask.reduce((a, b) => a + b, 0)} observed)`,
    observedRows: (rows) => {
      guard(rows);
      return rows;
    },
    apply: (y: Node, rows: number) => {
      guard(rows);
      return B.mul(y, B.constant(mask, [rows, 1]));
    },
  };
}
