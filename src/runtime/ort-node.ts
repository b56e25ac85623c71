// onnxruntime-node adapter: the Session interface over its CPU, WebGPU (bundled: Dawn on Vulkan,
// Metal or D3D12) and CUDA (a separate download) execution providers. The package is loaded on the
// first load(), never at import, so `strainer --help` runs without the native addon. run() is
// synchronous inside the addon (it blocks the event loop; REFERENCE.md).
// WebGPU keeps state on the device: outputs named in `outputsOnDevice` come back as 'gpu-buffer'
// tensors (preferredOutputLocation) and are fed back as they are. Reading a gpu-buffer tensor with
// getData() aborts the process in onnxruntime-node 1.30 (std::terminate inside its WebGPU copy;
// measured, cf. microsoft/onnxruntime#32315), so values move across through tiny Identity sessions
// instead: host -> device ("copy-in", output kept on the GPU) and device -> host ("copy-out").
// Those copy sessions live as long as the process: they also keep onnxruntime's WebGPU context, and
// with it every compiled shader, alive between models (releasing the last session destroys it; the
// next train step then recompiles, ~4 CPU-seconds on SwiftShader, measured).
import type * as Ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import type { Backend, HostTensor, Session } from './session.ts';
import { UserError } from '../util/errors.ts';
import { programToOnnx } from '../onnx/write.ts';
import * as B from '../graph/builder.ts';

export const NODE_EPS = ['cpu', 'webgpu', 'cuda'] as const;
export type NodeEp = (typeof NODE_EPS)[number];

export interface OrtNodeOptions {
  threads?: number;
  executionProvider?: NodeEp;
}

type OrtModule = typeof Ort;
let ortModule: Promise<OrtModule> | null = null;

/** onnxruntime-node, imported once on first use; a missing package is a UserError. */
export function loadOrtNode(): Promise<OrtModule> {
  ortModule ??= import('onnxruntime-node').then(
    (m) => m as OrtModule,
    (e: unknown) => {
      ortModule = null;
      const err = e as { code?: string; message?: string };
      if (err.code === 'ERR_MODULE_NOT_FOUND' && /onnxruntime-node/.test(err.message ?? ''))
        throw new UserError('onnxruntime-node is not installed: npm install onnxruntime-node');
      throw new UserError(`onnxruntime-node failed to load (${String(err.message ?? e).split('\n')[0]})`);
    },
  );
  return ortModule;
}

/** onnxruntime's messages carry a source path, a check expression or a C API name before what a
 *  user can act on; keep that part, on one line. */
export function ortMessage(e: unknown): string {
  const line = String((e as Error)?.message ?? e)
    .trim()
    .split('\n')[0];
  const tail = /was false\. (.*)$/.exec(line)?.[1] ?? line;
  return tail
    .replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '')
    .replace(/^OrtSessionOptionsAppendExecutionProvider_\w+:\s*/, '')
    .trim();
}

function sessionOptions(ep: NodeEp, threads: number, onDevice: readonly string[]): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Idle pool threads sleep instead of spinning (onnxruntime session config
    // session.intra_op.allow_spinning): with several processes on few cores, spinning threads
    // steal the time slices the working ones need. STRAINER_ORT_SPIN=1 restores spinning.
    extra: { session: { intra_op: { allow_spinning: process.env.STRAINER_ORT_SPIN === '1' ? '1' : '0' } } },
    // 'gpu-buffer' is the WebGPU EP's device location; the CUDA EP has none in onnxruntime-node.
    ...(ep === 'webgpu' && onDevice.length > 0
      ? { preferredOutputLocation: Object.fromEntries(onDevice.map((n) => [n, 'gpu-buffer' as const])) }
      : {}),
  };
}

/** A host value uploaded to a WebGPU session: copied to the device on its first run, then reused. */
class PendingUpload {
  device: Ort.Tensor | null = null;
  constructor(readonly host: Ort.Tensor) {}
}
type Value = Ort.Tensor | PendingUpload;

/** Identity sessions per shape that move tensors between host and the WebGPU device (see header). */
class DeviceCopies {
  private ins = new Map<string, Promise<Ort.InferenceSession>>();
  private outs = new Map<string, Promise<Ort.InferenceSession>>();
  constructor(
    private ort: OrtModule,
    private threads: number,
  ) {}

  /** The first copy session, created with the first WebGPU model: it holds the device. */
  hold(): Promise<unknown> {
    return this.session(this.outs, [1], false);
  }

  private session(
    cache: Map<string, Promise<Ort.InferenceSession>>,
    dims: readonly number[],
    toDevice: boolean,
  ): Promise<Ort.InferenceSession> {
    const key = dims.join('x');
    let s = cache.get(key);
    if (!s) {
      const x = B.input('x', [...dims]);
      const model = programToOnnx({
        name: toDevice ? 'copy_in' : 'copy_out',
        inputs: [x],
        outputs: { y: x },
        doc: 'moves one tensor between host and WebGPU device',
      });
      s = this.ort.InferenceSession.create(model, sessionOptions('webgpu', this.threads, toDevice ? ['y'] : []));
      cache.set(key, s);
    }
    return s;
  }

  async toDevice(t: Ort.Tensor): Promise<Ort.Tensor> {
    return (await (await this.session(this.ins, t.dims, true)).run({ x: t })).y;
  }

  async toHost(t: Ort.Tensor): Promise<Float32Array> {
    return (await (await this.session(this.outs, t.dims, false)).run({ x: t })).y.data as Float32Array;
  }
}

let deviceCopies: DeviceCopies | null = null;

export function ortNodeBackend(opts: OrtNodeOptions = {}): Backend {
  const ep: NodeEp = opts.executionProvider ?? 'cpu';
  const name = `onnxruntime-node (${ep})`;
  const threads = opts.threads ?? availableParallelism();
  return {
    name,
    async load(model: Uint8Array, lo?: { outputsOnDevice?: readonly string[] }): Promise<Session> {
      const ort = await loadOrtNode();
      const onDevice = ep === 'webgpu' ? (lo?.outputsOnDevice ?? []) : [];
      let copies: DeviceCopies | null = null;
      if (ep === 'webgpu') {
        try {
          copies = deviceCopies ??= new DeviceCopies(ort, threads);
          await copies.hold();
        } catch (e) {
          deviceCopies = null;
          throw new UserError(`${name} cannot start (${ortMessage(e)})`);
        }
      }
      let s: Ort.InferenceSession;
      try {
        s = await ort.InferenceSession.create(model, sessionOptions(ep, threads, onDevice));
      } catch (e) {
        throw new UserError(`${name} could not load the model (${ortMessage(e)})`);
      }
      const onGpu = (v: Ort.Tensor): boolean => v.location === 'gpu-buffer';
      const session: Session<Value> = {
        backend: name,
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: async (feeds) => {
          const resolved: Record<string, Ort.Tensor> = {};
          for (const [k, v] of Object.entries(feeds)) {
            if (v instanceof PendingUpload) v.device ??= await copies!.toDevice(v.host);
            resolved[k] = v instanceof PendingUpload ? v.device! : v;
          }
          return await s.run(resolved);
        },
        upload: (t: HostTensor) => {
          const host = new ort.Tensor('float32', t.data, [...t.shape]);
          return copies ? new PendingUpload(host) : host;
        },
        download: async (v) => {
          if (v instanceof PendingUpload) return { shape: [...v.host.dims], data: v.host.data as Float32Array };
          return { shape: [...v.dims], data: onGpu(v) ? await copies!.toHost(v) : (v.data as Float32Array) };
        },
        dispose: (v) => {
          if (v === undefined) return;
          const t = v instanceof PendingUpload ? v.device : v;
          if (t && onGpu(t)) t.dispose();
          if (v instanceof PendingUpload) v.device = null;
        },
        release: () => s.release(),
      };
      return session;
    },
  };
}

/** Execution providers this onnxruntime-node build knows, and whether their libraries ship with it. */
export async function supportedEps(): Promise<{ name: string; bundled: boolean }[]> {
  return (await loadOrtNode()).listSupportedBackends();
}
