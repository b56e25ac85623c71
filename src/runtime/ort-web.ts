// onnxruntime-web adapter: the Session interface over the WebGPU execution provider or wasm, chosen
// automatically ('auto': WebGPU on a hardware adapter; wasm where there is none or it is a software
// fallback such as SwiftShader, which fits ~40x slower than wasm: bench/web.md; webgpu-adapter.ts)
// or forced, with the reason for the choice. On WebGPU, uploads go
// straight into GPU buffers and the outputs named in `outputsOnDevice` stay there
// (`preferredOutputLocation: 'gpu-buffer'`), so weights and Adam state never leave the GPU between
// steps; dispose() destroys a value's GPU buffer, keeping memory flat over thousands of steps.
// 'onnxruntime-web/webgpu' is the native WebGPU EP; on SwiftShader its train steps ran ~4x faster than
// the default build's JSEP EP (measured: ~200 vs ~800 ms, SIREN width 32, 32x32). Its wasm EP is the same.
import * as ort from 'onnxruntime-web/webgpu';
import type { Backend, HostTensor, Session } from './session.ts';
import { UserError } from '../util/errors.ts';
import { programToOnnx } from '../onnx/write.ts';
import * as B from '../graph/builder.ts';
import { decideProvider, type WebProvider, type ProviderChoice } from './webgpu-adapter.ts';
export {
  webgpuAdapter,
  webgpuAvailable,
  decideProvider,
  chooseProvider,
  type AdapterInfo,
  type ProviderDecision,
  type WebProvider,
  type ProviderChoice,
} from './webgpu-adapter.ts';

export interface OrtWebOptions {
  /** 'auto' (default): WebGPU on a hardware adapter, else wasm. */
  provider?: ProviderChoice;
  /** wasm threads; needs a cross-origin-isolated page for more than 1. Default: in a worker one per core,
   *  at most 4; on a page's main thread 1 (see configureWasm). */
  threads?: number;
  /** URL prefix where onnxruntime-web's .wasm/.mjs files are served; default: next to the ort module. */
  wasmPaths?: string;
}

// WebGPU's types come from @webgpu/types (tsconfig "types"); none appears in this file's exports, so
// consumers of the package need no WebGPU declarations. Buffers we upload: read back, written, storage.
const gpuUsage = (): number => GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;

export class DeviceLostError extends UserError {
  constructor(detail: string) {
    super(`the WebGPU device was lost (${detail || 'no reason given'}); reload the page or choose the wasm backend`);
  }
}

function configureWasm(o: OrtWebOptions): void {
  if (o.wasmPaths !== undefined) ort.env.wasm.wasmPaths = o.wasmPaths;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  // Threads need SharedArrayBuffer, i.e. a cross-origin-isolated page (COOP + COEP headers).
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  // In a worker, one thread per core, at most 4. onnxruntime-web's own default is half the logical
  // cores (lib/backend-wasm.ts): its wasm threads are one global pool that busy-waits between kernels
  // (the session option intra_op.allow_spinning=0 changed nothing, measured) and the step's Sin/Cos run
  // on one thread, so on cores shared with other work fewer threads can win. Measured on this
  // project's 2-core machine (64x64 step in a Worker, bench/web.md): idle, 2 threads were 1.2-1.4x
  // faster than 1 (210 vs 300 ms); under other work (load 5-9), 1 thread was 1.15-1.5x faster. Users'
  // machines are mostly idle, so a thread per core; `threads: 1` suits a loaded one.
  // onnxruntime starts its wasm threads as workers of the script that holds it. Bundled into a page's own
  // chunk, that script is the page's code, which then runs again in each thread, and the first fit never
  // ends (seen with a Vite build of a consumer app); bundled into strainer/web/worker, the worker knows
  // those threads and leaves them to onnxruntime. So by default threads only inside a worker.
  const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
  ort.env.wasm.numThreads = isolated ? Math.max(1, o.threads ?? (inWorker ? Math.min(4, cores) : 1)) : 1;
}

let lostMessage: string | null = null;
const lostListeners = new Set<(m: string) => void>();
let watchedDevice: GPUDevice | null = null;

/** Calls `f` when the WebGPU device in use is lost (driver reset, GPU removed, ...); returns an unsubscribe. */
export function onDeviceLost(f: (message: string) => void): () => void {
  lostListeners.add(f);
  return () => lostListeners.delete(f);
}

/** Tests only: destroys the device, which resolves its `lost` promise like a real loss. */
export function loseDeviceForTesting(): void {
  if (!watchedDevice) return;
  simulatedLoss = watchedDevice;
  watchedDevice.destroy();
}

let simulatedLoss: GPUDevice | null = null;

function watchDevice(device: GPUDevice): void {
  if (watchedDevice === device) return;
  watchedDevice = device;
  void device.lost.then((info) => {
    // 'destroyed' means someone called destroy(): onnxruntime-web closing its last session (not a
    // loss; holdDevice prevents it anyway) or loseDeviceForTesting (a loss, on purpose).
    if (info.reason === 'destroyed' && simulatedLoss !== device) return;
    lostMessage = info.message || info.reason || 'unknown reason';
    for (const f of lostListeners) f(lostMessage);
  });
}

// onnxruntime-web's WebGPU EP destroys its device, and with it every compiled shader, when the last
// session is released; the next fit then recompiles them (~10 s per model on SwiftShader, measured).
// One tiny session held for the page's lifetime keeps the device and its pipeline cache alive.
let deviceHolder: Promise<ort.InferenceSession> | null = null;

function holdDevice(): Promise<ort.InferenceSession> {
  if (!deviceHolder) {
    const x = B.input('x', [1]);
    const model = programToOnnx({
      name: 'hold_device',
      inputs: [x],
      outputs: { y: B.neg(x) },
      doc: 'keeps the WebGPU device alive between fits',
    });
    deviceHolder = ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
    deviceHolder.catch(() => {
      deviceHolder = null;
    });
  }
  return deviceHolder;
}

/** A failed run or download on a device that is being lost reports the loss, not the symptom (the
 *  failure can arrive before the device's `lost` promise settles, so give it a moment). */
async function explain(e: unknown, device: GPUDevice | null): Promise<unknown> {
  if (device && lostMessage === null) await Promise.race([device.lost, new Promise((r) => setTimeout(r, 250))]);
  return lostMessage !== null ? new DeviceLostError(lostMessage) : e;
}

/** The backend for one provider; resolve 'auto' first with chooseProvider(). */
export function ortWebBackend(provider: WebProvider, opts: OrtWebOptions = {}): Backend {
  configureWasm(opts);
  const name = `onnxruntime-web (${provider})`;
  return {
    name,
    async load(model: Uint8Array, lo?: { outputsOnDevice?: readonly string[] }): Promise<Session> {
      if (lostMessage !== null) throw new DeviceLostError(lostMessage);
      const onDevice = provider === 'webgpu' ? (lo?.outputsOnDevice ?? []) : [];
      let s: ort.InferenceSession;
      try {
        if (provider === 'webgpu') await holdDevice();
        s = await ort.InferenceSession.create(model, {
          executionProviders: [provider],
          graphOptimizationLevel: 'all',
          ...(onDevice.length > 0
            ? { preferredOutputLocation: Object.fromEntries(onDevice.map((n) => [n, 'gpu-buffer' as const])) }
            : {}),
        });
      } catch (e) {
        throw new UserError(
          `onnxruntime-web (${provider}) could not load the model (${String((e as Error).message ?? e).split('\n')[0]})`,
        );
      }
      const device = provider === 'webgpu' ? await ort.env.webgpu.device : null;
      if (device) watchDevice(device);
      const upload = (t: HostTensor): ort.Tensor => {
        if (!device) return new ort.Tensor('float32', t.data, [...t.shape]);
        // Round the size up to 16 bytes, the alignment onnxruntime-web uses for its own GPU buffers.
        const buf = device.createBuffer({
          size: Math.max(16, Math.ceil(t.data.byteLength / 16) * 16),
          usage: gpuUsage(),
        });
        device.queue.writeBuffer(buf, 0, t.data as Float32Array<ArrayBuffer>);
        return ort.Tensor.fromGpuBuffer(buf, {
          dataType: 'float32',
          dims: [...t.shape],
          dispose: () => buf.destroy(),
        });
      };
      const session: Session<ort.Tensor> = {
        backend: name,
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: async (feeds) => {
          if (lostMessage !== null) throw new DeviceLostError(lostMessage);
          try {
            return await s.run(feeds);
          } catch (e) {
            throw await explain(e, device);
          }
        },
        upload,
        download: async (v) => {
          try {
            const data = v.location === 'cpu' ? v.data : await v.getData();
            return { shape: [...v.dims], data: data as Float32Array };
          } catch (e) {
            throw await explain(e, device);
          }
        },
        dispose: (v) => v.dispose(),
        release: () => s.release(),
      };
      return session;
    },
  };
}

/** Resolves 'auto' and returns the backend with the provider it chose and why. */
export async function autoBackend(
  opts: OrtWebOptions = {},
): Promise<{ backend: Backend; provider: WebProvider; reason: string }> {
  const { provider, reason } = await decideProvider(opts.provider ?? 'auto');
  return { backend: ortWebBackend(provider, opts), provider, reason };
}
