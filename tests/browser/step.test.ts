// One train step (forward, autodiff, Adam) built in the browser and run by onnxruntime-web on WebGPU
// (SwiftShader here) and on wasm must equal the Node reference interpreter (float64) and
// onnxruntime-node within float32 tolerance; the graph bytes built in the page equal Node's.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { programToOnnx } from '../../src/onnx/write.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import { trainStepProgram, stateKeys, stateNames } from '../../src/train/programs.ts';
import { referenceBackend } from '../../src/runtime/reference.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import type { Backend } from '../../src/runtime/session.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { stepFeeds } from './fixtures.ts';
import { startEnv, tempModelsDir, callHarness, type BrowserEnv } from './env.ts';
import type { StepResult } from './harness.ts';

const C: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 32, depth: 4, omega: 30 };
const H = 16,
  W = 16,
  SEED = 3;

async function nodeStep(be: Backend): Promise<Record<string, Float32Array>> {
  const s = await be.load(programToOnnx(trainStepProgram({ config: C, batch: H * W })));
  const feeds = Object.fromEntries(Object.entries(stepFeeds(C, H, W, SEED)).map(([k, v]) => [k, s.upload(v)]));
  const out = await s.run(feeds);
  const host: Record<string, Float32Array> = {};
  for (const k of s.outputNames) host[k] = (await s.download(out[k])).data;
  await s.release();
  return host;
}

/** Max relative difference (denominator floored at 1e-3) and the first element above `tol`. */
function compare(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): { max: number; first: string } {
  let max = 0,
    first = '';
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) / Math.max(1e-3, Math.abs(want[i]));
    if (d > max) max = d;
    if (d > tol && !first) first = `[${i}] ${got[i]} vs ${want[i]}`;
  }
  return { max, first };
}

describe('browser train step equals the Node reference', () => {
  let env: BrowserEnv;
  let page: Page;
  let ref: Record<string, Float32Array>;
  let ortNode: Record<string, Float32Array>;

  beforeAll(async () => {
    env = await startEnv(tempModelsDir());
    page = await env.page();
    ref = await nodeStep(referenceBackend);
    ortNode = await nodeStep(ortNodeBackend({ threads: 1 }));
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  for (const provider of ['wasm', 'webgpu'] as const) {
    it(`${provider}: every output within float32 tolerance`, async () => {
      const r = await callHarness<StepResult>(page, 'runStep', C, H, W, SEED, provider);
      expect(r.backend).toBe(`onnxruntime-web (${provider})`);
      expect(r.modelSha).toBe(await sha256Hex(programToOnnx(trainStepProgram({ config: C, batch: H * W }))));
      // State stays on the GPU under WebGPU; wasm has no device memory.
      const state = stateKeys(C).map(stateNames.next);
      expect(r.onDevice.sort()).toEqual(provider === 'webgpu' ? [...state].sort() : []);
      expect(Object.keys(r.outputs).sort()).toEqual(Object.keys(ref).sort());
      for (const k of ['loss', 'mse', ...state]) {
        const vsRef = compare(r.outputs[k], ref[k], 2e-3);
        expect(
          vsRef.max,
          `${provider} ${k} vs reference: max rel diff ${vsRef.max}; first mismatch ${vsRef.first}`,
        ).toBeLessThan(2e-3);
        const vsOrt = compare(r.outputs[k], ortNode[k], 2e-3);
        expect(
          vsOrt.max,
          `${provider} ${k} vs onnxruntime-node: max rel diff ${vsOrt.max}; first mismatch ${vsOrt.first}`,
        ).toBeLessThan(2e-3);
      }
    }, 120_000);
  }
});
