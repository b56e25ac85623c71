// Which WebGPU adapter a browser offers and which onnxruntime-web provider to take: 'auto' is
// WebGPU on a hardware adapter and wasm otherwise, since a software fallback adapter (SwiftShader
// in headless Chromium) fits ~40x slower than wasm (bench/web.md). No onnxruntime import, so a page
// can decide, and show why, without loading the runtime (web/main.ts); ort-web.ts re-exports it.
import { UserError } from '../util/errors.ts';

export type WebProvider = 'webgpu' | 'wasm';
export type ProviderChoice = WebProvider | 'auto';

// WebGPU's types come from @webgpu/types (tsconfig "types"); none appears in this file's exports.

/** The WebGPU adapter a page or worker is offered. `software`: the spec's fallback flag
 *  (GPUAdapterInfo.isFallbackAdapter; GPUAdapter.isFallbackAdapter before Chrome 136), or the name of
 *  a known software rasterizer (SwiftShader, llvmpipe/lavapipe, Microsoft's WARP / Basic Render). */
export interface AdapterInfo {
  label: string;
  software: boolean;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|warp|basic render|software/i;

/** This browser's WebGPU adapter, or null when there is none. */
export async function webgpuAdapter(): Promise<AdapterInfo | null> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) return null;
  try {
    const a = await gpu.requestAdapter();
    if (!a) return null;
    const i: Partial<GPUAdapterInfo> = a.info ?? {};
    const label = [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' / ') || 'unnamed adapter';
    return {
      label,
      software:
        i.isFallbackAdapter === true ||
        (a as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
        SOFTWARE_ADAPTER.test(label),
    };
  } catch {
    return null;
  }
}

/** True when this browser exposes a WebGPU adapter (hardware or software). */
export async function webgpuAvailable(): Promise<boolean> {
  return (await webgpuAdapter()) !== null;
}

/** A provider and why: 'auto' takes WebGPU only on a hardware adapter. */
export interface ProviderDecision {
  provider: WebProvider;
  reason: string;
  adapter: AdapterInfo | null;
}

export async function decideProvider(choice: ProviderChoice = 'auto'): Promise<ProviderDecision> {
  if (choice === 'wasm') return { provider: 'wasm', reason: 'wasm: requested', adapter: null };
  const adapter = await webgpuAdapter();
  if (choice === 'webgpu') {
    if (!adapter) throw new UserError('WebGPU is not available in this browser (no adapter); choose the wasm backend');
    return {
      provider: 'webgpu',
      reason: `WebGPU: requested (${adapter.label}${adapter.software ? ', a software adapter: slow' : ''})`,
      adapter,
    };
  }
  if (!adapter) return { provider: 'wasm', reason: 'wasm: this browser has no WebGPU adapter', adapter };
  if (adapter.software)
    return {
      provider: 'wasm',
      reason: `wasm: the WebGPU adapter (${adapter.label}) is a software fallback, slower than wasm`,
      adapter,
    };
  return { provider: 'webgpu', reason: `WebGPU: hardware adapter (${adapter.label})`, adapter };
}

export async function chooseProvider(choice: ProviderChoice = 'auto'): Promise<WebProvider> {
  return (await decideProvider(choice)).provider;
}
