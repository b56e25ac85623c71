// Row sampling for fits that step on part of a signal: random permutations (every sample once per
// epoch), distinct random subsets, and a distribution that favours the signal's detailed regions.
// Pure functions over a seeded Rng, so a fit's batches are reproducible from its seed.
import type { Rng } from '../util/random.ts';

/** Fisher-Yates, in place. */
export function shuffle(a: Int32Array, r: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** n distinct row indices out of `rows`, uniformly at random (a partial Fisher-Yates). */
export function sampleRows(rows: number, n: number, r: Rng): Int32Array {
  const a = Int32Array.from({ length: rows }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + r.int(rows - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.subarray(0, n);
}

/** Cumulative distribution over the samples of a grid (row-major, channels last) proportional to the
 *  signal's local variation: the sum over axes and channels of |forward difference| (the last sample
 *  of an axis takes the backward one), plus a tenth of its mean so that flat regions keep some weight. */
export function variationCdf(dims: readonly number[], y: Float32Array, channels: number): Float64Array {
  const rows = dims.reduce((a, b) => a * b, 1);
  const w = new Float64Array(rows);
  let stride = 1;
  for (let ax = dims.length - 1; ax >= 0; ax--) {
    if (dims[ax] > 1)
      for (let i = 0; i < rows; i++) {
        const j = Math.floor(i / stride) % dims[ax] < dims[ax] - 1 ? i + stride : i - stride;
        for (let q = 0; q < channels; q++) w[i] += Math.abs(y[j * channels + q] - y[i * channels + q]);
      }
    stride *= dims[ax];
  }
  const floor = (0.1 * w.reduce((a, b) => a + b, 0)) / rows || 1;
  for (let i = 0; i < rows; i++) w[i] += floor + (i > 0 ? w[i - 1] : 0);
  return w;
}

/** A sample index drawn from a cumulative distribution (binary search). */
export function drawFrom(cdf: Float64Array, r: Rng): number {
  const u = r.next() * cdf[cdf.length - 1];
  let lo = 0,
    hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
