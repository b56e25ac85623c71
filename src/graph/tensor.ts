// Dense float64 tensors for the reference interpreter: row-major, shape as plain numbers. Slow and
// simple on purpose; the interpreter is the living definition of every op, not a fast path.
import { broadcastDims } from './broadcast.ts';

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  if (data !== undefined) {
    if (data.length !== n) throw new Error(`tensor: ${data.length} values for shape [${shape.join(',')}]`);
    out.set(data);
  }
  return { shape: [...shape], data: out };
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** numpy-style broadcast of two shapes (right-aligned; 1 stretches). */
export const broadcastShapes = (a: readonly number[], b: readonly number[]): number[] => broadcastDims(a, b);

/** Index map from an output of shape `out` back into a broadcast operand of shape `src`. */
function broadcastIndex(out: readonly number[], src: readonly number[]): Int32Array {
  const n = out.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(n);
  const os = strides(out);
  const pad = out.length - src.length;
  const ss = strides(src);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let j = 0;
    for (let d = 0; d < out.length; d++) {
      const c = Math.floor(rem / os[d]);
      rem -= c * os[d];
      if (d >= pad && src[d - pad] !== 1) j += c * ss[d - pad];
    }
    idx[i] = j;
  }
  return idx;
}

export function binary(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const out = tensor(shape);
  const ia = broadcastIndex(shape, a.shape);
  const ib = broadcastIndex(shape, b.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(a.data[ia[i]], b.data[ib[i]]);
  return out;
}

export function unary(a: Tensor, f: (x: number) => number): Tensor {
  const out = tensor(a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[i] = f(a.data[i]);
  return out;
}

export function expandTo(a: Tensor, shape: readonly number[]): Tensor {
  const out = tensor(shape);
  const ia = broadcastIndex(shape, a.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[ia[i]];
  return out;
}

/** C = op(A) op(B) for 2-D A, B with optional transposes (Gemm's transA/transB). */
export function matmul(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const [ar, ac] = a.shape;
  const [br, bc] = b.shape;
  const m = transA ? ac : ar,
    k = transA ? ar : ac;
  const k2 = transB ? bc : br,
    n = transB ? br : bc;
  if (k !== k2) throw new Error(`matmul: inner dims ${k} vs ${k2}`);
  const out = tensor([m, n]);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = transA ? a.data[p * ac + i] : a.data[i * ac + p];
      if (av === 0) continue;
      for (let j = 0; j < n; j++) out.data[i * n + j] += av * (transB ? b.data[j * bc + p] : b.data[p * bc + j]);
    }
  }
  return out;
}

export function reduceSum(a: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const keepShape = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = tensor(keepShape);
  const idx = broadcastIndex(a.shape, keepShape);
  for (let i = 0; i < a.data.length; i++) out.data[idx[i]] += a.data[i];
  return keepdims ? out : { shape: a.shape.filter((_, i) => !axes.includes(i)), data: out.data };
}

export function transpose(a: Tensor, perm: readonly number[]): Tensor {
  const shape = perm.map((p) => a.shape[p]);
  const out = tensor(shape);
  const is = strides(a.shape);
  const os = strides(shape);
  for (let i = 0; i < out.data.length; i++) {
    let rem = i,
      j = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(rem / os[d]);
      rem -= c * os[d];
      j += c * is[perm[d]];
    }
    out.data[i] = a.data[j];
  }
  return out;
}

/** Copy of `a` restricted to [start, end) along `axis`. */
export function slice(a: Tensor, axis: number, start: number, end: number): Tensor {
  const shape = a.shape.map((d, i) => (i === axis ? end - start : d));
  const outer = a.shape.slice(0, axis).reduce((x, y) => x * y, 1);
  const inner = a.shape.slice(axis + 1).reduce((x, y) => x * y, 1);
  const out = tensor(shape);
  const len = (end - start) * inner;
  for (let o = 0; o < outer; o++) {
    const src = (o * a.shape[axis] + start) * inner;
    out.data.set(a.data.subarray(src, src + len), o * len);
  }
  return out;
}

export function concat(parts: readonly Tensor[], axis: number): Tensor {
  const shape = parts[0].shape.map((d, i) => (i === axis ? parts.reduce((s, p) => s + p.shape[axis], 0) : d));
  const outer = shape.slice(0, axis).reduce((x, y) => x * y, 1);
  const out = tensor(shape);
  let off = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const len = p.data.length / outer;
      out.data.set(p.data.subarray(o * len, (o + 1) * len), off);
      off += len;
    }
  }
  return out;
}
