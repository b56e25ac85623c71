// Volumes as 3-D signals: a NIfTI volume (src/data/nifti.ts) or a rank-3 .npy array becomes a Signal
// [depth, height, width] on the [0, 1] scale, is brought to res^3 (zero-padded to a centred cube, then
// area-averaged: the image convention of src/data/mri.ts, one step up), and a fitted volume is written
// back as a float32 NIfTI-1 file. Header fields and offsets: nifti1.h
// (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h). Platform-neutral (gzip by fflate).
import { gzipSync } from 'fflate';
import { check } from '../util/errors.ts';
import { makeSignal, padCentered, resampleArea, type Signal } from './signal.ts';

/** A volume's values on the [0, 1] scale, and the factor that restores the stored values. */
export interface VolumeSignal { signal: Signal; scale: number }

/**
 * Values kept when they already lie in [0, 1]; otherwise divided by the maximum and clamped below at 0
 * (MRI intensities: the normalisation of the MRI slices, src/data/nifti.ts axialSlice).
 */
function unitScale(dims: number[], data: Float32Array, name: string): VolumeSignal {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) { if (data[i] < lo) lo = data[i]; if (data[i] > hi) hi = data[i]; }
  check(Number.isFinite(lo) && Number.isFinite(hi), `${name}: volume holds non-finite values`);
  if (lo >= 0 && hi <= 1) return { signal: makeSignal(dims, 1, data), scale: 1 };
  check(hi > 0, `${name}: volume has no positive values, cannot normalise by its maximum`);
  return { signal: makeSignal(dims, 1, data.map((v) => Math.max(0, v / hi))), scale: hi };
}

/** A NIfTI volume (./nifti.ts Volume: x fastest) as a signal [nz, ny, nx]: row-major with x last, the
 *  same memory order. (Structural types here keep this file free of the Node-side readers.) */
export function niftiSignal(vol: { dims: readonly [number, number, number]; data: Float32Array }, name: string): VolumeSignal {
  const [nx, ny, nz] = vol.dims;
  return unitScale([nz, ny, nx], vol.data, name);
}

/** A rank-3 .npy array (C order) as a signal of its shape. */
export function npySignal(arr: { shape: readonly number[]; data: Float32Array }, name: string): VolumeSignal {
  check(arr.shape.length === 3 && arr.shape.every((d) => d > 0), `${name}: a volume needs a .npy array of rank 3 with no empty axis, got shape (${arr.shape.join(', ')})`);
  return unitScale([...arr.shape], arr.data, name);
}

/** The volume zero-padded to a centred cube of its longest side, then area-resampled to res^3 (as
 *  stored when it already is a res-cube). */
export function cubeAt(s: Signal, res: number): Signal {
  check(Number.isInteger(res) && res >= 2, `volume resolution must be an integer >= 2, got ${res}`);
  const side = Math.max(...s.dims);
  const cube = s.dims.every((d) => d === side) ? s : padCentered(s, [side, side, side]);
  return side === res ? cube : resampleArea(cube, [res, res, res]);
}

// nifti1.h
const HEADER = 348, VOX_OFFSET = 352, DT_FLOAT32 = 16, NIFTI_UNITS_MM = 2;

/**
 * A 1-channel 3-D signal [nz, ny, nx] as a single-file NIfTI-1 volume of float32 voxels (gzipped when
 * `gzip`). `scale` goes to scl_slope, so readers see the source's units (value * scale); `voxel` is the
 * voxel size (pixdim) in mm. No orientation is recorded (qform_code = sform_code = 0).
 */
export function encodeNifti(s: Signal, o: { scale?: number; voxel?: [number, number, number]; gzip?: boolean } = {}): Uint8Array {
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
