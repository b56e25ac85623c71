// Coordinate grids and target layout, for signals of any rank. Sample (i0, ..., ik) of a grid of
// dims [d0, ..., dk] sits at (linspace(-1,1,d0)[i0], ..., linspace(-1,1,dk)[ik]) — for an H x W image,
// pixel (row i, col j) at (linspace(-1,1,H)[i], linspace(-1,1,W)[j]), the paper code's
// meshgrid(indexing='ij') — and samples are flattened row-major (last axis fastest), so targets are the
// signal's data (an image's HWC) viewed as [samples, C].

export function linspace(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = n === 1 ? 0 : -1 + (2 * i) / (n - 1);
  return out;
}

/** Coordinates [d0 * ... * dk, k + 1] of the grid with these sizes (gridCoords(h, w) for an image). */
export function gridCoords(...dims: number[]): Float32Array {
  return latticeCoords(dims, dims);
}

/**
 * Coordinates of a grid of `dims` samples placed on a finer or coarser lattice: along axis k, sample i
 * sits at -1 + 2 i / (lattice[k] - 1), so lattice = dims is gridCoords, and a clip shorter than the
 * lattice occupies its first dims[k] positions (the coordinates of the clip zero-padded to lattice[k]).
 */
export function latticeCoords(dims: readonly number[], lattice: readonly number[]): Float32Array {
  const rank = dims.length;
  if (lattice.length !== rank) throw new Error(`lattice has ${lattice.length} axes, the grid ${rank}`);
  const axes = dims.map((d, k) => {
    const n = lattice[k],
      out = new Float32Array(d);
    for (let i = 0; i < d; i++) out[i] = n === 1 ? 0 : -1 + (2 * i) / (n - 1);
    return out;
  });
  const count = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count * rank);
  const idx = new Array<number>(rank).fill(0);
  for (let p = 0; p < count; p++) {
    for (let k = 0; k < rank; k++) out[p * rank + k] = axes[k][idx[k]];
    for (let k = rank - 1; k >= 0 && ++idx[k] === dims[k]; k--) idx[k] = 0;
  }
  return out;
}

/** Target value convention: [0,1] (alpine, default) or [-1,1] (the demo notebook). */
export type TargetRange = 'unit' | 'pm1';

export function toTargetRange(data: Float32Array, range: TargetRange): Float32Array {
  return range === 'unit' ? data : data.map((v) => 2 * v - 1);
}

export function fromTargetRange(data: Float32Array, range: TargetRange): Float32Array {
  return range === 'unit' ? data : data.map((v) => (v + 1) / 2);
}

/** PSNR on the [0,1] scale (data range 1) from an MSE measured in the target range. */
export function psnrFromMse(mse: number, range: TargetRange): number {
  const m = range === 'unit' ? mse : mse / 4;
  return -10 * Math.log10(m);
}
