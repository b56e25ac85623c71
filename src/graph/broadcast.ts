// numpy-style broadcasting of two shapes (right-aligned; a 1 stretches), as ONNX's multidirectional
// broadcasting. Shared by the op shape rules (symbolic dims allowed) and the reference tensors.

export function broadcastDims<D extends number | string>(a: readonly D[], b: readonly D[]): D[] {
  const n = Math.max(a.length, b.length);
  const out: D[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? (1 as D);
    const db = b[b.length - n + i] ?? (1 as D);
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a.join(',')}] with [${b.join(',')}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}
