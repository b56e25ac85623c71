// Deterministic inputs shared by the Node side of the browser tests and the page side (harness.ts):
// both build the same float32 feeds from a seed, so outputs can be compared without shipping tensors.
import type { InrConfig } from '../../src/model/config.ts';
import { initParams } from '../../src/model/inr.ts';
import { initialState } from '../../src/train/trainer.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { hostTensor, type HostTensor } from '../../src/runtime/session.ts';
import { rng } from '../../src/util/random.ts';

/** Train-step feeds for an h x w grid: params from `seed`, small random Adam moments, step 4, random targets. */
export function stepFeeds(c: InrConfig, h: number, w: number, seed: number): Record<string, HostTensor> {
  const st = initialState(c, initParams(c, seed));
  st.step = hostTensor([], new Float32Array([4])); // exercise Adam's bias correction at t = 5
  const r = rng(seed + 100);
  for (const k of Object.keys(st)) {
    if (k.startsWith('adam_m')) st[k].data.forEach((_, i, a) => { a[i] = r.uniform(-1e-2, 1e-2); });
    if (k.startsWith('adam_v')) st[k].data.forEach((_, i, a) => { a[i] = r.uniform(0, 1e-4); });
  }
  return {
    ...st,
    lr: hostTensor([], new Float32Array([1e-3])),
    coords: hostTensor([h * w, c.inDim], gridCoords(h, w)),
    targets: hostTensor([h * w, c.outDim], Float32Array.from({ length: h * w * c.outDim }, () => r.next())),
  };
}
