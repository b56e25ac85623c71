// The comparison behind the train-step tests: one model run once on each backend from the same host
// feeds, every output downloaded, so the reference interpreter and onnxruntime can be compared.
import type { Backend, HostTensor } from '../../src/runtime/session.ts';

/** Every output of `model` on each of `backends`, for the same feeds; one record per backend, in order. */
export async function outputsOn(backends: readonly Backend[], model: Uint8Array, feeds: Record<string, HostTensor>): Promise<Record<string, Float32Array>[]> {
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
