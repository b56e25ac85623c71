// The comparison behind the train-step tests: one model run once on each backend from the same host
// feeds, every output downloaded, and the largest relative difference between two outputs.
import type { Backend, HostTensor } from '../../src/runtime/session.ts';

/** Every output of `model` on each of `backends`, for the same feeds; one record per backend, in order. */
export async function outputsOn(
  backends: readonly Backend[],
  model: Uint8Array,
  feeds: Record<string, HostTensor>,
): Promise<Record<string, Float32Array>[]> {
  const results: Record<string, Float32Array>[] = [];
  for (const be of backends) {
    const s = await be.load(model);
    const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, s.upload(v)])));
    const host: Record<string, Float32Array> = {};
    for (const k of s.outputNames) host[k] = (await s.download(out[k])).data;
    results.push(host);
    await s.release();
  }
  return results;
}

/** Largest |a - b| / max(1e-3, |b|) over the elements, and the first element that differs by more than 1e-3. */
export function maxRelDiff(a: Float32Array, b: Float32Array): { max: number; first: string } {
  let max = 0,
    first = '';
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i]));
    if (d > max) max = d;
    if (d > 1e-3 && first === '') first = `[${i}] ${a[i]} vs ${b[i]}`;
  }
  return { max, first };
}
