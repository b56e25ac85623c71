// Volumes as 3-D signals: a NIfTI volume (src/data/nifti.ts) or a rank-3 .npy array becomes a Signal
// [depth, height, width] on the [0, 1] scale with its voxel size, is brought to res^3 (zero-padded to a
// centred cube of its longest PHYSICAL extent, then area-averaged per axis by its own physical ratio:
// the image convention of src/data/mri.ts, one step up, so anisotropic voxels do not squash it), and a
// fitted volume is written back as a float32 NIfTI-1 file with its voxel size. Header fields and
// offsets: nifti1.h (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h). Platform-neutral (gzip by fflate).
import { gzipSync } from 'fflate';
import { check } from '../util/errors.ts';
import { makeSignal, sampleCount, type Signal } from './signal.ts';
import type { Taps } from './pixels.ts';

/** Voxel size in mm in NIfTI order (x, y, z) = pixdim[1..3]: for a signal [nz, ny, nx], its last axis first. */
export type VoxelSize = [number, number, number];

/**
 * A volume's values on the [0, 1] scale, the factor that restores the stored values, and its voxel
 * size (mm, x y z; [1, 1, 1] for a .npy array, which has none).
 */
export interface VolumeSignal { signal: Signal; scale: number; voxel: VoxelSize }

/**
 * Values kept when they already lie in [0, 1]; otherwise divided by the maximum and clamped below at 0
 * (MRI intensities: the normalisation of the MRI slices, src/data/nifti.ts axialSlice).
 */
function unitScale(dims: number[], data: Float32Array, name: string, voxel: VoxelSize): VolumeSignal {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) { if (data[i] < lo) lo = data[i]; if (data[i] > hi) hi = data[i]; }
  check(Number.isFinite(lo) && Number.isFinite(hi), `${name}: volume holds non-finite values`);
  if (lo >= 0 && hi <= 1) return { signal: makeSignal(dims, 1, data), scale: 1, voxel };
  check(hi > 0, `${name}: volume has no positive values, cannot normalise by its maximum`);
  return { signal: makeSignal(dims, 1, data.map((v) => Math.max(0, v / hi))), scale: hi, voxel };
}

/** A NIfTI volume (./nifti.ts Volume: x fastest) as a signal [nz, ny, nx]: row-major with x last, the
 *  same memory order; `voxel` (./nifti.ts: pixdim in mm) defaults to 1 mm. (Structural types here keep
 *  this file free of the Node-side readers.) */
export function niftiSignal(vol: { dims: readonly [number, number, number]; data: Float32Array; voxel?: Readonly<VoxelSize> }, name: string): VolumeSignal {
  const [nx, ny, nz] = vol.dims;
  return unitScale([nz, ny, nx], vol.data, name, vol.voxel ? [...vol.voxel] : [1, 1, 1]);
}

/** A rank-3 .npy array (C order) as a signal of its shape (voxel size unknown: 1 per axis). */
export function npySignal(arr: { shape: readonly number[]; data: Float32Array }, name: string): VolumeSignal {
  check(arr.shape.length === 3 && arr.shape.every((d) => d > 0), `${name}: a volume needs a .npy array of rank 3 with no empty axis, got shape (${arr.shape.join(', ')})`);
  return unitScale([...arr.shape], arr.data, name, [1, 1, 1]);
}

function checkCube(s: Signal, res: number, voxel: Readonly<VoxelSize>): void {
  check(s.dims.length === 3, `a volume cube needs a 3-D signal, got ${s.dims.length}-D`);
  check(Number.isInteger(res) && res >= 2, `volume resolution must be an integer >= 2, got ${res}`);
  check(voxel.every((v) => Number.isFinite(v) && v > 0), `voxel size must be positive, got ${voxel.join(' x ')}`);
}

/** The side of the cube in mm: the longest physical extent, voxels x voxel size, over the three axes. */
function cubeSide(dims: readonly number[], voxel: Readonly<VoxelSize>): number {
  const [nz, ny, nx] = dims;
  return Math.max(nx * voxel[0], ny * voxel[1], nz * voxel[2]);
}

/**
 * Area taps of one axis of the cube: its n voxels (1 unit each) sit at offset `off` inside a cube `side`
 * units long (in this axis's voxels, fractional when the voxels are anisotropic), which is cut into
 * `res` output voxels; output j is the mean over its footprint, zero outside the volume. Coordinates
 * are scaled by res (output j spans [j side, (j + 1) side), voxel i spans [(off + i) res, (off + i + 1) res)),
 * so with a whole `side` and `off` the weights are exact and those of pixels.ts areaTaps(side, res) over
 * the zero-padded axis, with the padding's taps left out.
 */
function cubeTaps(n: number, side: number, off: number, res: number): Taps[] {
  const taps: Taps[] = [];
  for (let j = 0; j < res; j++) {
    const lo = j * side, hi = lo + side;
    const first = Math.max(0, Math.floor(lo / res - off)), last = Math.min(n - 1, Math.ceil(hi / res - off) - 1);
    const weights: number[] = [];
    for (let i = first; i <= last; i++) weights.push(Math.max(0, Math.min(hi, (off + i + 1) * res) - Math.max(lo, (off + i) * res)) / side);
    taps.push({ first, weights });
  }
  return taps;
}

/**
 * The volume [nz, ny, nx] zero-padded to a centred cube of its longest physical extent (voxels x
 * `voxel`, mm in NIfTI order x y z; default 1 mm isotropic) and area-averaged to res^3, each axis by its
 * own physical ratio, so that a sphere stays a sphere whatever the voxel size. Padding by whole voxels
 * puts an odd voxel at the END of the axis (as padCentered does); padding by a fraction of a voxel
 * (anisotropic voxels) is split evenly. Isotropic volumes give exactly the result of padCentered to the
 * longest side followed by resampleArea (the same taps, in the same order, without the padding's zeros).
 * A volume that already is an isotropic res-cube comes back as stored.
 */
export function cubeAt(s: Signal, res: number, voxel: Readonly<VoxelSize> = [1, 1, 1]): Signal {
  checkCube(s, res, voxel);
  const spacing = [voxel[2], voxel[1], voxel[0]]; // per signal axis [z, y, x]
  // The cube's side in each axis's own voxels: p_k / p_k is exactly 1, so isotropic sides are whole.
  const sides = spacing.map((p) => Math.max(...s.dims.map((n, k) => n * (spacing[k] / p))));
  if (s.dims.every((n, k) => n === res && sides[k] === res)) return s;
  let cur: Float32Array | Float64Array = s.data;
  const shape = [...s.dims];
  for (let k = 2; k >= 0; k--) {
    const n = shape[k], excess = sides[k] - n;
    const off = Number.isInteger(excess) ? Math.floor(excess / 2) : excess / 2;
    const taps = cubeTaps(n, sides[k], off, res);
    const outer = sampleCount(shape.slice(0, k)), blk = sampleCount(shape.slice(k + 1)) * s.channels;
    const next = new Float64Array(outer * res * blk);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < res; j++) {
        const { first, weights } = taps[j], to = (o * res + j) * blk;
        for (let t = 0; t < weights.length; t++) {
          const from = (o * n + first + t) * blk, w = weights[t];
          for (let i = 0; i < blk; i++) next[to + i] += w * cur[from + i];
        }
      }
    }
    cur = next;
    shape[k] = res;
  }
  return makeSignal([res, res, res], s.channels, Float32Array.from(cur));
}

/** The voxel size (mm, isotropic) of cubeAt(s, res, voxel): the longest physical extent over res. */
export function cubeVoxel(dims: readonly number[], res: number, voxel: Readonly<VoxelSize> = [1, 1, 1]): VoxelSize {
  const v = cubeSide(dims, voxel) / res;
  return [v, v, v];
}

/** A volume brought to its res^3 cube (cubeAt), with the cube's voxel size; scale unchanged. */
export function volumeCube(v: VolumeSignal, res: number): VolumeSignal {
  return { signal: cubeAt(v.signal, res, v.voxel), scale: v.scale, voxel: cubeVoxel(v.signal.dims, res, v.voxel) };
}

// nifti1.h
const HEADER = 348, VOX_OFFSET = 352, DT_FLOAT32 = 16, NIFTI_UNITS_MM = 2;

/**
 * A 1-channel 3-D signal [nz, ny, nx] as a single-file NIfTI-1 volume of float32 voxels (gzipped when
 * `gzip`). `scale` goes to scl_slope, so readers see the source's units (value * scale); `voxel` is the
 * voxel size (pixdim) in mm. No orientation is recorded (qform_code = sform_code = 0).
 */
export function encodeNifti(s: Signal, o: { scale?: number; voxel?: Readonly<VoxelSize>; gzip?: boolean } = {}): Uint8Array {
  check(s.dims.length === 3 && s.channels === 1, `NIfTI: needs a 1-channel 3-D signal, got ${s.dims.length}-D with ${s.channels} channels`);
  const [nz, ny, nx] = s.dims;
  check(s.dims.every((d) => d <= 32767), `NIfTI-1 stores sizes as int16; ${s.dims.join('x')} is too large`);
  const out = new Uint8Array(VOX_OFFSET + s.data.length * 4);
  const v = new DataView(out.buffer);
  v.setInt32(0, HEADER, true);
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, DT_FLOAT32, true);
  v.setInt16(72, 32, true);
  const vox = o.voxel ?? [1, 1, 1];
  check(vox.length === 3 && vox.every((d) => Number.isFinite(d) && d > 0), `NIfTI: voxel size must be three positive numbers, got ${vox.join(' x ')}`);
  [1, ...vox, 1, 1, 1, 1].forEach((d, i) => v.setFloat32(76 + 4 * i, d, true)); // pixdim[0] = qfac 1
  v.setFloat32(108, VOX_OFFSET, true);
  v.setFloat32(112, o.scale ?? 1, true);
  v.setFloat32(116, 0, true);
  out[123] = NIFTI_UNITS_MM;
  const descrip = 'strainer INR volume';
  for (let i = 0; i < descrip.length; i++) out[148 + i] = descrip.charCodeAt(i);
  out.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0": single file
  for (let i = 0; i < s.data.length; i++) v.setFloat32(VOX_OFFSET + 4 * i, s.data[i], true);
  return o.gzip ? gzipSync(out) : out;
}
