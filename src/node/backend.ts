// The one place Node code chooses a runtime: onnxruntime-node on an execution provider (`--ep`,
// STRAINER_EP: cpu, webgpu, cuda, or auto), or the reference interpreter on request (slow; for
// checking). `auto` takes WebGPU only on a hardware adapter, else the CPU, and says why. A provider
// that cannot start (no WebGPU adapter, no CUDA provider) is a one-line UserError found by a probe in
// a child process, so the native libraries' own warnings and a crashing driver stay out of ours.
// The browser chooses in src/runtime/ort-web.ts.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend } from '../runtime/session.ts';
import { ortNodeBackend, ortMessage, loadOrtNode, type NodeEp } from '../runtime/ort-node.ts';
import { referenceBackend } from '../runtime/reference.ts';
import { programToOnnx } from '../onnx/write.ts';
import * as B from '../graph/builder.ts';
import { UserError } from '../util/errors.ts';

export const NODE_BACKENDS = ['ort', 'reference'] as const;
export type NodeBackendName = (typeof NODE_BACKENDS)[number];
export const EP_CHOICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const;
/** What a user may ask for: `--ep`, STRAINER_EP, and the `ep` option of the `strainer/node` API. */
export type Ep = (typeof EP_CHOICES)[number];
export type { NodeEp };

export interface NodeBackendOptions {
  /** onnxruntime-node execution provider; default $STRAINER_EP, else 'auto'. */
  ep?: Ep;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** 'reference' runs the float64 interpreter instead (the CPU only). Default 'ort'. */
  engine?: NodeBackendName;
}

export interface ChosenBackend {
  backend: Backend;
  /** The provider in use (null for the reference interpreter). */
  ep: NodeEp | null;
  /** Why this one, in a phrase: shown on stderr by the CLI. */
  reason: string;
}

/** A concrete runtime, no probing: onnxruntime-node on `ep` (default cpu) or the reference interpreter. */
export function nodeBackend(name: NodeBackendName = 'ort', threads?: number, ep: NodeEp = 'cpu'): Backend {
  switch (name) {
    case 'ort':
      return ortNodeBackend({ executionProvider: ep, ...(threads === undefined ? {} : { threads }) });
    case 'reference':
      return referenceBackend;
    default:
      return name satisfies never;
  }
}

export function parseEp(v: string, what = '--ep'): Ep {
  if (!(EP_CHOICES as readonly string[]).includes(v))
    throw new UserError(`${what} must be one of ${EP_CHOICES.join(', ')}, got '${v}'`);
  return v as Ep;
}

const HOW_TO_GET_WEBGPU =
  "onnxruntime-node's WebGPU runs on Vulkan (Linux), Metal (macOS) or D3D12 (Windows): install your GPU's Vulkan driver, or use --ep cpu";
const HOW_TO_GET_CUDA =
  'on a CUDA 12 machine: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node, or use --ep cpu';

/** Resolves `ep` (or STRAINER_EP, or auto) to a runtime that starts, or throws one UserError line. */
export async function chooseBackend(o: NodeBackendOptions = {}): Promise<ChosenBackend> {
  const engine = o.engine ?? 'ort';
  if (engine === 'reference') {
    if (o.ep !== undefined && o.ep !== 'cpu' && o.ep !== 'auto')
      throw new UserError(`--ep ${o.ep} applies to onnxruntime-node; the reference interpreter runs on the CPU`);
    return { backend: referenceBackend, ep: null, reason: 'reference interpreter (requested)' };
  }
  const env = process.env.STRAINER_EP;
  const choice = o.ep ?? (env ? parseEp(env, 'STRAINER_EP') : 'auto');
  await loadOrtNode(); // a missing package is the one error, before anything is announced
  const source = o.ep !== undefined ? `--ep ${choice}` : env ? `STRAINER_EP=${env}` : '--ep auto (default)';
  const make = (ep: NodeEp, reason: string): ChosenBackend => ({
    backend: nodeBackend('ort', o.threads, ep),
    ep,
    reason: `${source}: ${reason}`,
  });
  switch (choice) {
    case 'cpu':
      return make('cpu', 'requested');
    case 'webgpu': {
      const probe = await probeProvider('webgpu');
      if (!probe.ok) throw new UserError(`${source}: WebGPU cannot start here (${probe.error}); ${HOW_TO_GET_WEBGPU}`);
      const a = adapterKind(hostFacts());
      return make(
        'webgpu',
        a.hardware ? `requested; ${a.detail}` : `requested; a software adapter, correct but slow (${a.detail})`,
      );
    }
    case 'cuda': {
      const probe = await probeProvider('cuda');
      if (!probe.ok)
        throw new UserError(
          `${source}: onnxruntime-node's CUDA provider does not start (${probe.error}); ${HOW_TO_GET_CUDA}`,
        );
      return make('cuda', 'requested');
    }
    case 'auto': {
      const a = adapterKind(hostFacts());
      if (!a.hardware) return make('cpu', `cpu, as there is no hardware WebGPU adapter (${a.detail})`);
      const probe = await probeProvider('webgpu');
      if (!probe.ok) return make('cpu', `cpu, as WebGPU does not start (${probe.error}; found ${a.detail})`);
      return make('webgpu', `webgpu on a hardware adapter: ${a.detail}`);
    }
    default:
      return choice satisfies never;
  }
}

/** The one stderr line the CLI prints: which runtime runs and why. */
export function describeChoice(c: ChosenBackend): string {
  return `backend ${c.backend.name} (${c.reason})`;
}

// ---- Is the WebGPU adapter hardware? -------------------------------------------------------------
// onnxruntime-node does not expose Dawn's adapter info, so the answer comes from what the adapter is
// made from: on Linux, a GPU on the PCI bus and a Vulkan driver (ICD) that is not a software one.

export interface HostFacts {
  platform: string;
  /** PCI devices: class, vendor, device as the hex strings sysfs prints (e.g. '0x030000'). */
  pci: { class: string; vendor: string; device: string }[];
  /** Vulkan ICD manifests the loader would use: the VK_ICD_FILENAMES/VK_DRIVER_FILES list when set,
   *  else those in the standard search folders; each with the library it names. */
  icds: { file: string; library: string }[];
  icdsFromEnv: boolean;
}

// GPU vendors' PCI IDs (the PCI ID repository, https://pci-ids.ucw.cz). Other display-class devices
// (ASPEED and Matrox server consoles, QEMU, VMware, Hyper-V and virtio display adapters) drive a
// screen, not compute.
const GPU_VENDORS: Record<string, string> = {
  '0x10de': 'NVIDIA',
  '0x1002': 'AMD',
  '0x8086': 'Intel',
  '0x5143': 'Qualcomm',
  '0x13b5': 'Arm',
  '0x1010': 'Imagination',
  '0x106b': 'Apple',
  '0x1ed5': 'Moore Threads',
};
/** Software Vulkan drivers: SwiftShader (Chromium's), lavapipe (Mesa's lvp, on llvmpipe). */
const SOFTWARE_ICD = /swiftshader|lvp|lavapipe|llvmpipe/i;

export function adapterKind(f: HostFacts): { hardware: boolean; detail: string } {
  if (f.platform === 'darwin') return { hardware: true, detail: "Metal on this Mac's GPU" };
  if (f.platform === 'win32') return { hardware: true, detail: 'D3D12 (Windows; adapter assumed to be hardware)' };
  if (f.platform !== 'linux') return { hardware: false, detail: `no WebGPU backend known for ${f.platform}` };
  const hw = f.icds.filter((i) => !SOFTWARE_ICD.test(i.file) && !SOFTWARE_ICD.test(i.library));
  if (f.icdsFromEnv && hw.length === 0) {
    const names = f.icds.map((i) => basename(i.file)).join(', ') || 'none';
    return { hardware: false, detail: `VK_ICD_FILENAMES selects only software Vulkan drivers: ${names}` };
  }
  const gpus = f.pci.filter((d) => d.class.startsWith('0x03') && GPU_VENDORS[d.vendor.toLowerCase()]);
  if (gpus.length === 0) return { hardware: false, detail: 'no GPU found on the PCI bus' };
  if (hw.length === 0) return { hardware: false, detail: 'no hardware Vulkan driver is installed' };
  const g = gpus[0];
  return {
    hardware: true,
    detail: `${GPU_VENDORS[g.vendor.toLowerCase()]} GPU ${g.vendor}:${g.device} with Vulkan driver ${basename(hw[0].file)}`,
  };
}

function readText(p: string): string {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

function icdManifest(file: string): { file: string; library: string } {
  try {
    return {
      file,
      library: String(
        (JSON.parse(readFileSync(file, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? '',
      ),
    };
  } catch {
    return { file, library: '' };
  }
}

/** This machine's facts for adapterKind (Linux: sysfs and the Vulkan loader's search folders). */
export function hostFacts(): HostFacts {
  const pci: HostFacts['pci'] = [];
  const bus = '/sys/bus/pci/devices';
  if (existsSync(bus))
    for (const d of readdirSync(bus))
      pci.push({
        class: readText(join(bus, d, 'class')),
        vendor: readText(join(bus, d, 'vendor')),
        device: readText(join(bus, d, 'device')),
      });
  const fromEnv = process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES;
  let files: string[];
  if (fromEnv) files = fromEnv.split(':').filter((s) => s);
  else {
    // The Vulkan loader's Linux search order (KhronosGroup/Vulkan-Loader docs/LoaderDriverInterface.md).
    const dirs = [
      ...(process.env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':'),
      '/etc',
      ...(process.env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':'),
    ].map((d) => join(d, 'vulkan', 'icd.d'));
    files = dirs
      .filter((d) => existsSync(d))
      .flatMap((d) =>
        readdirSync(d)
          .filter((f) => f.endsWith('.json'))
          .map((f) => join(d, f)),
      );
  }
  return { platform: process.platform, pci, icds: files.map(icdManifest), icdsFromEnv: Boolean(fromEnv) };
}

// ---- Probing a provider in a child process -------------------------------------------------------

const probes = new Map<NodeEp, Promise<{ ok: true } | { ok: false; error: string }>>();

/** Starts a one-node session on `ep` in a child process (cached per process). */
export function probeProvider(ep: NodeEp): Promise<{ ok: true } | { ok: false; error: string }> {
  let p = probes.get(ep);
  if (!p) {
    p = runProbe(ep);
    probes.set(ep, p);
  }
  return p;
}

function runProbe(ep: NodeEp): Promise<{ ok: true } | { ok: false; error: string }> {
  let entry: string;
  try {
    entry = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
  } catch {
    throw new UserError('onnxruntime-node is not installed: npm install onnxruntime-node');
  }
  const x = B.input('x', [1]);
  const model = Buffer.from(
    programToOnnx({ name: 'probe', inputs: [x], outputs: { y: B.neg(x) }, doc: 'does this execution provider start?' }),
  ).toString('base64');
  const script = `
    const ort = await import(${JSON.stringify(entry)});
    try {
      const s = await ort.InferenceSession.create(Buffer.from(${JSON.stringify(model)}, 'base64'), { executionProviders: [${JSON.stringify(ep)}], logSeverityLevel: 4 });
      await s.release();
      process.stdout.write('ok\\n');
    } catch (e) {
      process.stdout.write('error ' + String(e && e.message || e).split('\\n')[0] + '\\n');
    }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (line === 'ok') return resolve({ ok: true });
      if (line.startsWith('error ')) return resolve({ ok: false, error: ortMessage(line.slice(6)) });
      resolve({
        ok: false,
        error: signal ? `the probe process was killed by ${signal}` : `the probe process exited with code ${code}`,
      });
    });
  });
}
