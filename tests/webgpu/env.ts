// Shared setup of the WebGPU-in-Node tier: onnxruntime-node's bundled WebGPU provider (Dawn) on a
// Vulkan driver. Without a GPU that is SwiftShader, the software Vulkan driver Debian's chromium
// ships (scripts/test-deps.sh installs chromium and libvulkan1); this process points the Vulkan
// loader at it through VK_ICD_FILENAMES, nothing global. SwiftShader is correct and slow, so the
// tests use tiny models. With no driver found the tier is skipped with a message, unless
// STRAINER_REQUIRE_WEBGPU=1 (CI), where that is a failure.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadNifti } from '../../src/node/read.ts';
import { mriSliceImage, referenceSplit } from '../../src/data/mri.ts';
import type { Image } from '../../src/data/pixels.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { probeProvider, adapterKind, hostFacts } from '../../src/node/backend.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
/** Small enough for SwiftShader on 2 busy cores (a 16x16 step takes ~40 ms there, its first ~5 s). */
export const TINY: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 32, depth: 4, omega: 30 };

/** SwiftShader's ICD manifest: $STRAINER_VK_ICD, else where Debian's chromium(-common) installs it. */
function swiftshaderIcd(): string | null {
  const candidates = [process.env.STRAINER_VK_ICD, '/usr/lib/chromium/vk_swiftshader_icd.json'];
  // dpkg lists the files of whichever of the two packages is installed (it ships in chromium-common).
  const listed = spawnSync('dpkg', ['-L', 'chromium-common', 'chromium'], { encoding: 'utf8' }).stdout ?? '';
  candidates.push(...listed.split('\n').filter((l) => l.endsWith('vk_swiftshader_icd.json')));
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

export interface WebgpuEnv {
  ready: boolean;
  why: string;
  icd: string | null;
  /** the adapter is a software one (SwiftShader) */ software: boolean;
}

let env: Promise<WebgpuEnv> | null = null;

/** Points this process's Vulkan loader at SwiftShader unless a driver is configured or the machine has
 *  a GPU with a Vulkan driver, and checks that onnxruntime-node's WebGPU provider starts. */
export function webgpuEnv(): Promise<WebgpuEnv> {
  env ??= (async () => {
    const hardware = adapterKind(hostFacts()).hardware;
    const icd = process.env.VK_ICD_FILENAMES ?? (hardware ? null : swiftshaderIcd());
    if (icd) process.env.VK_ICD_FILENAMES = icd;
    const software = !adapterKind(hostFacts()).hardware;
    // Dawn's Vulkan loader warns on every start without it.
    process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'strainer-xdg-'));
    const probe = await probeProvider('webgpu');
    if (probe.ok) return { ready: true, why: '', icd, software };
    const why =
      icd || hardware
        ? `WebGPU does not start on ${icd ?? 'this GPU'} (${probe.error})`
        : 'no Vulkan driver found (install chromium and libvulkan1: bash scripts/test-deps.sh)';
    if (process.env.STRAINER_REQUIRE_WEBGPU === '1') throw new Error(`STRAINER_REQUIRE_WEBGPU=1 but ${why}`);
    console.warn(`tests/webgpu skipped: ${why}`);
    return { ready: false, why, icd, software };
  })();
  return env;
}

let volume: ReturnType<typeof loadNifti> | null = null;
/** A slice of the bundled MRI volume's reference split at res x res. */
export function mriSlice(which: 'train' | 'test', k: number, res: number): Image {
  volume ??= loadNifti(join(REPO_ROOT, 'data', 'ch2bet.nii.gz'));
  return mriSliceImage(volume, referenceSplit(volume)[which][k], res);
}

/** Max relative difference (denominator floored at `floor`) and the first element above `tol`. */
export function compare(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: number,
  floor = 1e-3,
): { max: number; first: string } {
  let max = 0,
    first = '';
  if (got.length !== want.length) return { max: Infinity, first: `lengths ${got.length} vs ${want.length}` };
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]) / Math.max(floor, Math.abs(want[i]));
    if (!(d <= max)) max = d;
    if (!(d <= tol) && !first) first = `[${i}] ${got[i]} vs ${want[i]}`;
  }
  return { max, first };
}
