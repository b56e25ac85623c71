// The closed-form decoder: the linear last layer y = f W + b that minimises the squared error on given
// features f (a prior's encoder output) plus a ridge penalty on W, solved on the host in float64 by
// Cholesky of the (width + 1)^2 normal equations with the bias as an unpenalised extra column. Fitting
// only a decoder on a STRAINER prior's features this way starts a fit near 33 dB on slices close to the
// prior's training data (a JAX prototype, shared/REFERENCE.md 2026-12-02), where Adam needs tens of
// steps. The statistics F^T F, F^T 1, F^T y come from gramProgram (./head.ts) or `gramStats` (host).

/** Normal-equation statistics of `rows` feature rows f [rows, width] and targets y [rows, outDim]. */
export interface GramStats {
  width: number;
  outDim: number;
  rows: number;
  /** F^T F, [width, width] row-major. */
  gram: ArrayLike<number>;
  /** F^T 1, [width]. */
  sums: ArrayLike<number>;
  /** F^T y, [width, outDim] row-major. */
  fty: ArrayLike<number>;
  /** 1^T y, [outDim]. */
  ysum: ArrayLike<number>;
}

/** The statistics computed on the host in float64 (tests, small problems; gramProgram is the fast path). */
export function gramStats(
  features: ArrayLike<number>,
  rows: number,
  width: number,
  targets: ArrayLike<number>,
  outDim: number,
): GramStats {
  const gram = new Float64Array(width * width),
    sums = new Float64Array(width),
    fty = new Float64Array(width * outDim),
    ysum = new Float64Array(outDim);
  for (let r = 0; r < rows; r++) {
    const f = r * width,
      y = r * outDim;
    for (let i = 0; i < width; i++) {
      const fi = features[f + i];
      sums[i] += fi;
      for (let j = 0; j <= i; j++) gram[i * width + j] += fi * features[f + j];
      for (let o = 0; o < outDim; o++) fty[i * outDim + o] += fi * targets[y + o];
    }
    for (let o = 0; o < outDim; o++) ysum[o] += targets[y + o];
  }
  for (let i = 0; i < width; i++) for (let j = 0; j < i; j++) gram[j * width + i] = gram[i * width + j];
  return { width, outDim, rows, gram, sums, fty, ysum };
}

/** In-place Cholesky A = L L^T of an n x n symmetric positive definite matrix (lower triangle used);
 *  false when a pivot is not positive. */
function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
  }
  return true;
}

/** Solves L L^T x = b in place for each of the m columns of b [n, m] (row-major). */
function cholSolve(l: Float64Array, n: number, b: Float64Array, m: number): void {
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = b[i * m + c];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * b[k * m + c];
      b[i * m + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = b[i * m + c];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k * m + c];
      b[i * m + c] = s / l[i * n + i];
    }
  }
}

export interface Decoder {
  /** [width, outDim] row-major, the layout of a model's 'decoder.weight'. */
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * argmin over W, b of |F W + 1 b^T - Y|^2 + lambda |W|^2 with lambda = `ridge` times the mean diagonal
 * of F^T F (a scale-free setting; the bias is not penalised), from the statistics alone. If the system
 * is not numerically positive definite the penalty is raised tenfold until it is.
 */
export function ridgeDecoder(s: GramStats, ridge: number): Decoder {
  const w = s.width,
    n = w + 1,
    m = s.outDim;
  let trace = 0;
  for (let i = 0; i < w; i++) trace += s.gram[i * w + i];
  for (
    let lambdaRel = Math.max(ridge, 0), tries = 0;
    tries < 30;
    tries++, lambdaRel = Math.max(lambdaRel * 10, 1e-12)
  ) {
    const lambda = (lambdaRel * trace) / w;
    const a = new Float64Array(n * n);
    for (let i = 0; i < w; i++) {
      for (let j = 0; j < w; j++) a[i * n + j] = s.gram[i * w + j];
      a[i * n + i] += lambda;
      a[i * n + w] = a[w * n + i] = s.sums[i];
    }
    a[w * n + w] = s.rows;
    if (!cholesky(a, n)) continue;
    const b = new Float64Array(n * m);
    for (let i = 0; i < w; i++) for (let o = 0; o < m; o++) b[i * m + o] = s.fty[i * m + o];
    for (let o = 0; o < m; o++) b[w * m + o] = s.ysum[o];
    cholSolve(a, n, b, m);
    return { weight: Float32Array.from(b.subarray(0, w * m)), bias: Float32Array.from(b.subarray(w * m)) };
  }
  throw new Error('ridgeDecoder: the normal equations stay singular');
}
