// NIfTI-1 single-file volumes (.nii, optionally gzipped): header parsing, voxel decoding to Float32
// (x fastest) with the voxel size in mm, axial slices as images and the "usable slice" rule of the MRI
// split. Field offsets are from the NIfTI-1 header definition, nifti1.h (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h).
// Decoding is platform-neutral (gunzip by fflate, its size and CRC checked against ./limits.ts and RFC 1952);
// reading a file is src/node/read.ts (loadNifti).

import { gunzipSync } from 'fflate';
import { UserError, check } from '../util/errors.ts';
import { type Image, makeImage } from './pixels.ts';
import { checkPixels, maxPixels, formatCount, DEFLATE_MAX_RATIO, MAX_PIXELS_ENV, type SizeLimit } from './limits.ts';

export interface Volume {
  dims: [number, number, number];
  /** Voxel (x, y, z) is at x + nx * (y + ny * z); scl_slope/scl_inter already applied. */
  data: Float32Array;
  /** Voxel size (x, y, z) in mm: pixdim[1..3] converted from the header's spatial unit (see voxelSize). */
  voxel: [number, number, number];
}

// nifti1.h: sizeof_hdr must be 348; the data of a single-file .nii starts at vox_offset >= 352.
const HEADER_SIZE = 348;
const MIN_VOX_OFFSET = 352;

// nifti1.h DT_* codes -> bytes per voxel and a DataView reader.
type Reader = (v: DataView, at: number, le: boolean) => number;
const DATATYPES: Record<number, { name: string; bytes: number; read: Reader }> = {
  2: { name: 'uint8', bytes: 1, read: (v, at) => v.getUint8(at) },
  4: { name: 'int16', bytes: 2, read: (v, at, le) => v.getInt16(at, le) },
  8: { name: 'int32', bytes: 4, read: (v, at, le) => v.getInt32(at, le) },
  16: { name: 'float32', bytes: 4, read: (v, at, le) => v.getFloat32(at, le) },
  64: { name: 'float64', bytes: 8, read: (v, at, le) => v.getFloat64(at, le) },
  512: { name: 'uint16', bytes: 2, read: (v, at, le) => v.getUint16(at, le) },
};

// RFC 1952 section 8: CRC-32 with the reflected polynomial 0xEDB88320, over the uncompressed data.
const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// A volume within the voxel limit needs at most 8 bytes a voxel (float64) plus its header and
// extensions, for which 1 MiB is ample (ch2bet's are 352 bytes).
const MAX_HEADER_BYTES = 2 ** 20;

/**
 * Gunzip a single-member gzip file (RFC 1952). Its trailer's ISIZE (the uncompressed size) is checked
 * before anything is allocated: against what the compressed bytes can expand to and what a volume
 * within the voxel limit can need; the output must then have exactly that size and CRC-32.
 */
function gunzipVolume(gz: Uint8Array, name: string, opts: SizeLimit): Uint8Array {
  check(gz.length >= 18, `${name}: corrupt or truncated gzip data (${gz.length} bytes)`);
  const trailer = new DataView(gz.buffer, gz.byteOffset + gz.length - 8, 8);
  const crc = trailer.getUint32(0, true), isize = trailer.getUint32(4, true);
  const cap = 8 * maxPixels(opts) + MAX_HEADER_BYTES;
  if (isize > cap) {
    throw new UserError(`${name}: gzip data claims ${formatCount(isize)} bytes, more than a volume within the limit of ${formatCount(maxPixels(opts))} voxels needs (set ${MAX_PIXELS_ENV} to raise it)`);
  }
  check(isize <= DEFLATE_MAX_RATIO * gz.length, `${name}: corrupt or truncated gzip data (${gz.length} bytes cannot expand to the ${isize} its trailer claims)`);
  let out: Uint8Array;
  try {
    // Given the output buffer, fflate never grows it: a stream longer than ISIZE is cut, and fails the CRC.
    out = gunzipSync(gz, { out: new Uint8Array(isize) });
  } catch (e) {
    throw new UserError(`${name}: corrupt or truncated gzip data (${(e as Error).message})`);
  }
  check(out.length === isize && crc32(out) === crc, `${name}: corrupt or truncated gzip data (size or CRC-32 does not match its trailer)`);
  return out;
}

// nifti1.h: xyzt_units (char at byte 123) holds the spatial unit in its low 3 bits (XYZT_TO_SPACE):
// NIFTI_UNITS_METER 1, NIFTI_UNITS_MM 2, NIFTI_UNITS_MICRON 3; 0 is "unknown" (ch2bet's), read as mm,
// as are the codes that are not spatial units. Factors to mm:
const UNIT_TO_MM: Record<number, number> = { 1: 1000, 2: 1, 3: 1e-3 };
/** Largest voxel side accepted, 10 m in mm: our sanity bound, beyond any scanner's field of view. */
export const MAX_VOXEL_MM = 1e4;

/**
 * The voxel size in mm from pixdim[1..3] (float32 at bytes 80, 84, 88; pixdim[0] at 76 is qfac).
 * nifti1.h: "pixdim[i] = voxel width along dimension #i, i=1..dim[0] (positive)". A zero width is
 * read as 1, as the reference library does (nifti1_io.c nifti_convert_nhdr2nim: "set bad grid
 * spacings to 1.0"); an axis beyond dim[0] has width 1; a negative, non-finite or absurd width
 * (> MAX_VOXEL_MM) is refused.
 */
function voxelSize(view: DataView, le: boolean, ndim: number, name: string): [number, number, number] {
  const unit = UNIT_TO_MM[view.getUint8(123) & 0x07] ?? 1;
  const out: number[] = [];
  for (let i = 1; i <= 3; i++) {
    const raw = i <= ndim ? view.getFloat32(76 + 4 * i, le) : 1;
    check(Number.isFinite(raw) && raw >= 0, `${name}: invalid voxel size pixdim[${i}] = ${raw} (must be a positive width)`);
    const mm = (raw === 0 ? 1 : raw) * unit;
    check(mm <= MAX_VOXEL_MM, `${name}: invalid voxel size pixdim[${i}] = ${raw} (${formatCount(mm)} mm, above ${formatCount(MAX_VOXEL_MM)} mm)`);
    out.push(mm);
  }
  return out as [number, number, number];
}

/** Parse a .nii or .nii.gz file's bytes (gzip detected by its magic 1f 8b, RFC 1952). */
export function parseNifti(fileBytes: Uint8Array, name: string, opts: SizeLimit = {}): Volume {
  check(fileBytes.length > 0, `${name}: empty file`);
  const bytes = fileBytes[0] === 0x1f && fileBytes[1] === 0x8b ? gunzipVolume(fileBytes, name, opts) : fileBytes;
  check(bytes.length >= MIN_VOX_OFFSET, `${name}: too short for a NIfTI-1 header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Endianness: sizeof_hdr (int32 at byte 0) reads 348 in the file's byte order.
  const le = view.getInt32(0, true) === HEADER_SIZE;
  check(le || view.getInt32(0, false) === HEADER_SIZE, `${name}: not a NIfTI-1 file (sizeof_hdr is not 348)`);
  const magic = String.fromCharCode(...bytes.subarray(344, 348));
  check(magic !== 'ni1\0', `${name}: NIfTI-1 .hdr/.img pair; only single-file .nii is supported`);
  check(magic === 'n+1\0', `${name}: not a NIfTI-1 file (bad magic at byte 344)`);

  const dim = Array.from({ length: 8 }, (_, i) => view.getInt16(40 + 2 * i, le));
  check(dim[0] >= 1 && dim[0] <= 7, `${name}: invalid dim[0] = ${dim[0]}`);
  const size = (i: number) => (i <= dim[0] ? dim[i] : 1);
  const dims: [number, number, number] = [size(1), size(2), size(3)];
  check(dims.every((d) => d > 0), `${name}: zero or negative dimension ${dims.join('x')}`);
  for (let i = 4; i <= dim[0]; i++) check(dim[i] <= 1, `${name}: ${dim[0]}-D volume; only 3-D volumes are supported`);

  const voxel = voxelSize(view, le, dim[0], name);

  const datatype = view.getInt16(70, le);
  const bitpix = view.getInt16(72, le);
  const type = DATATYPES[datatype];
  check(type !== undefined, `${name}: unsupported NIfTI datatype ${datatype} (supported: uint8, int16, uint16, int32, float32, float64)`);
  check(bitpix === type.bytes * 8, `${name}: bitpix ${bitpix} does not match datatype ${type.name}`);
  const voxOffset = view.getFloat32(108, le);
  check(Number.isInteger(voxOffset) && voxOffset >= MIN_VOX_OFFSET, `${name}: invalid vox_offset ${voxOffset}`);
  // nifti1.h: scl_slope = 0 means "no scaling".
  const slope = view.getFloat32(112, le);
  const inter = view.getFloat32(116, le);
  const scaled = Number.isFinite(slope) && slope !== 0;

  checkPixels(name, 'volume', dims, opts);
  const n = dims[0] * dims[1] * dims[2];
  const need = voxOffset + n * type.bytes;
  check(bytes.length >= need, `${name}: truncated voxel data (${bytes.length} bytes, need ${need})`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const raw = type.read(view, voxOffset + i * type.bytes, le);
    data[i] = scaled ? raw * slope + (Number.isFinite(inter) ? inter : 0) : raw;
  }
  return { dims, data, voxel };
}

const maxCache = new WeakMap<Volume, number>();

/** Largest voxel value (cached per volume object). */
export function volumeMax(vol: Volume): number {
  let m = maxCache.get(vol);
  if (m === undefined) {
    m = -Infinity;
    const d = vol.data;
    for (let i = 0; i < d.length; i++) if (d[i] > m) m = d[i];
    maxCache.set(vol, m);
  }
  return m;
}

/**
 * Axial slice z as a 1-channel image of width nx and height ny, divided by the volume maximum and
 * clamped to [0, 1] (negative voxels become 0). Orientation: column = x index; row r = y index
 * ny - 1 - r, i.e. the y axis is flipped so that the LAST y row is at the top. In an RAS-stored
 * volume (ch2bet's sform is diagonal and positive: +y points anterior, +x to the subject's right) this
 * puts the nose at the top and the subject's right on the image right: the upright "neurological"
 * view that MRIcron shows. Volumes stored in another orientation are not reoriented.
 */
export function axialSlice(vol: Volume, z: number): Image {
  const [nx, ny, nz] = vol.dims;
  check(Number.isInteger(z) && z >= 0 && z < nz, `axial slice z = ${z} out of range 0..${nz - 1}`);
  const max = volumeMax(vol);
  check(max > 0, 'volume has no positive voxels, cannot normalise by its maximum');
  const img = makeImage(nx, ny, 1);
  for (let r = 0; r < ny; r++) {
    const from = nx * (ny - 1 - r + ny * z);
    for (let x = 0; x < nx; x++) img.data[r * nx + x] = Math.min(1, Math.max(0, vol.data[from + x] / max));
  }
  return img;
}

// The usable-slice rule of this project's MRI split (src/data/mri.ts): a slice counts when more than
// 15 % of its voxels exceed 5 % of the volume maximum, i.e. it holds a substantial brain section
// (REFERENCE.md: ch2bet has "~113 axial slices with >15 % tissue"; measured: 113).
const TISSUE_LEVEL = 0.05;
const TISSUE_FRACTION = 0.15;

/** The z indices (0-based, ascending) whose axial slice is mostly tissue (see the rule above). */
export function usableSlices(vol: Volume): number[] {
  const [nx, ny, nz] = vol.dims;
  const level = TISSUE_LEVEL * volumeMax(vol);
  const out: number[] = [];
  for (let z = 0; z < nz; z++) {
    let count = 0;
    for (let i = z * nx * ny, end = i + nx * ny; i < end; i++) if (vol.data[i] > level) count++;
    if (count > TISSUE_FRACTION * nx * ny) out.push(z);
  }
  return out;
}
