// The tiny interface every runtime implements (onnxruntime-node, onnxruntime-web, the reference
// interpreter). Values are opaque handles (`V`) so a GPU runtime can keep them on the device between
// steps; only what the host asks for is downloaded. The core never imports onnxruntime-* itself.

export interface HostTensor {
  shape: readonly number[];
  data: Float32Array;
}

export interface Session<V = unknown> {
  readonly backend: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model. Feeds are not consumed; the caller disposes what it no longer needs. */
  run(feeds: Record<string, V>): Promise<Record<string, V>>;
  upload(t: HostTensor): V;
  download(v: V): Promise<HostTensor>;
  dispose(v: V): void;
  release(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  /** Loads an ONNX model; `outputsOnDevice` names outputs to keep device-resident where supported. */
  load(model: Uint8Array, opts?: { outputsOnDevice?: readonly string[] }): Promise<Session>;
}

export function hostTensor(dims: readonly number[], data?: Float32Array): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data !== undefined && data.length !== n)
    throw new Error(`tensor of shape [${dims}] needs ${n} values, got ${data.length}`);
  return { shape: [...dims], data: data ?? new Float32Array(n) };
}
