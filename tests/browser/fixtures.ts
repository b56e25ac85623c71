// Test helpers that run both in Node and in the page (harness.ts): deterministic train-step feeds built
// from a seed, so outputs can be compared without shipping tensors, and a Backend wrapper that counts
// the runtime values its sessions hold (tests/webgpu and the browser tier check memory stays flat).
import type { InrConfig } from '../../src/model/config.ts';
import { initParams } from '../../src/model/inr.ts';
import { initialState, type Transfer } from '../../src/train/trainer.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { hostTensor, type Backend, type HostTensor, type Session } from '../../src/runtime/session.ts';
import { rng } from '../../src/util/random.ts';

/** Train-step feeds for an h x w grid: params from `seed`, small random Adam moments, step 4, random targets. */
export function stepFeeds(c: InrConfig, h: number, w: number, seed: number): Record<string, HostTensor> {
  const st = initialState(c, initParams(c, seed));
  st.step = hostTensor([], new Float32Array([4])); // exercise Adam's bias correction at t = 5
  const r = rng(seed + 100);
  for (const k of Object.keys(st)) {
    if (k.startsWith('adam_m'))
      st[k].data.forEach((_, i, a) => {
        a[i] = r.uniform(-1e-2, 1e-2);
      });
    if (k.startsWith('adam_v'))
      st[k].data.forEach((_, i, a) => {
        a[i] = r.uniform(0, 1e-4);
      });
  }
  return {
    ...st,
    lr: hostTensor([], new Float32Array([1e-3])),
    coords: hostTensor([h * w, c.inDim], gridCoords(h, w)),
    targets: hostTensor(
      [h * w, c.outDim],
      Float32Array.from({ length: h * w * c.outDim }, () => r.next()),
    ),
  };
}

/** `inner` with every session reporting the values it holds to `onChange`: +1 per upload and per run
 *  output, -1 per disposal of a value. */
export function countingBackend(inner: Backend, onChange: (delta: number) => void): Backend {
  return {
    name: inner.name,
    async load(model, o) {
      const s = await inner.load(model, o);
      const wrapped: Session = {
        backend: s.backend,
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: async (feeds) => {
          const out = await s.run(feeds);
          onChange(Object.keys(out).length);
          return out;
        },
        upload: (t) => {
          onChange(1);
          return s.upload(t);
        },
        download: (v) => s.download(v),
        dispose: (v) => {
          if (v !== undefined) onChange(-1);
          s.dispose(v);
        },
        release: () => s.release(),
      };
      return wrapped;
    },
  };
}

/** `inner` with every byte it moves between host and runtime added to `m` (uploads and downloads). */
export function metered(inner: Backend, m: Transfer): Backend {
  return {
    name: inner.name,
    async load(model, o) {
      const s = await inner.load(model, o);
      return {
        ...s,
        backend: s.backend,
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: (feeds) => s.run(feeds),
        upload: (t) => {
          m.uploaded += t.data.byteLength;
          return s.upload(t);
        },
        download: async (v) => {
          const t = await s.download(v);
          m.downloaded += t.data.byteLength;
          return t;
        },
        dispose: (v) => s.dispose(v),
        release: () => s.release(),
      };
    },
  };
}
