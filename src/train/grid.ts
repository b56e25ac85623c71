// Coordinate grids and target layout. Pixel (row i, col j) of an H x W image sits at
// (linspace(-1,1,H)[i], linspace(-1,1,W)[j]) — the paper code's meshgrid(indexing='ij') — and rows
// are flattened row-major, so targets are the image's HWC data viewed as [H*W, C].

export function linspace(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = n === 1 ? 0 : -1 + (2 * i) / (n - 1);
  return out;
}

export function gridCoords(h: number, w: number): Float32Array {
  const ys = linspace(h), xs = linspace(w);
  const out = new Float32Array(h * w * 2);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      out[2 * (i * w + j)] = ys[i];
      out[2 * (i * w + j) + 1] = xs[j];
    }
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
