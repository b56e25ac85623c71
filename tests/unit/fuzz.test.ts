// Seeded mutation fuzz of every reader a user's file reaches: PNG and JPEG (decodeImage), NIfTI (the
// gzip stream and the raw header), .npy, the ONNX reader, bundle manifests (parseManifest/loadBundle/
// loadPrior over in-memory files), pretraining checkpoints and bundle signatures. Each case mutates a
// real file (bit flips, truncation, appended junk, zeroed headers, absurd sizes written into header
// fields) and must end in a valid result or a one-line UserError: never another exception, never a
// case slower than CASE_MS, never a large allocation (peak RSS is checked at the end). Every case is
// reproducible from its reader's seed and index, printed with any failure (FUZZ_VERBOSE=1 prints
// every refusal too). Over 400 lines: each reader needs its own seed builder and header-field table,
// kept in one file so the harness, the bounds and the case counts sit in one place.
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { gunzipSync, gzipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { adam7RawBytes, decodeImage } from '../../src/data/image.ts';
import { parseNifti } from '../../src/data/nifti.ts';
import { parseNpy } from '../../src/data/npy.ts';
import { onnxToProgram } from '../../src/onnx/read.ts';
import { programToOnnx } from '../../src/onnx/write.ts';
import { decodeModel, encodeModel, type ModelObj } from '../../src/onnx/proto.ts';
import { loadBundle, parseManifest, type FileSource } from '../../src/export/bundle.ts';
import { buildPriorBundle, loadPrior } from '../../src/export/prior.ts';
import { encodeCheckpoint, decodeCheckpoint } from '../../src/export/checkpoint.ts';
import { generateKeyPair, signManifest, verifyManifest, SIGNATURE_FILE } from '../../src/export/signature.ts';
import { trainStepProgram } from '../../src/train/programs.ts';
import { initParams, isEncoderParam } from '../../src/model/inr.ts';
import { initialState } from '../../src/train/trainer.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { UserError } from '../../src/util/errors.ts';
import { rng, type Rng } from '../../src/util/random.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import { encodePngFile, interlacedBomb } from './png-adam7.ts';

/** Per-case bound on a busy 2-core machine (cases take 0.1-60 ms); allocating a claimed 7 GB took 14 s. */
const CASE_MS = 1000;
/** Peak resident memory may grow at most this much over the whole file (the largest seed is 100 KB). */
const RSS_GROWTH_MB = 256;
const rssAtStart = process.resourceUsage().maxRSS / 1024;

// ---- harness ------------------------------------------------------------------------------------

interface Tally {
  cases: number;
  ok: number;
  refused: number;
  maxMs: number;
  totalMs: number;
}
const tallies: Record<string, Tally> = {};

/** Runs every case of one reader; returns the failures (anything but a result or a one-line UserError). */
async function fuzz(reader: string, seed: number, cases: [string, () => unknown][]): Promise<string[]> {
  const t: Tally = (tallies[reader] = { cases: 0, ok: 0, refused: 0, maxMs: 0, totalMs: 0 });
  const failures: string[] = [];
  for (const [i, [what, run]] of cases.entries()) {
    const label = `${reader} seed ${seed} case ${i} (${what})`;
    const t0 = performance.now();
    try {
      await run();
      t.ok++;
    } catch (e) {
      if (!(e instanceof UserError)) failures.push(`${label}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
      else if (e.message.includes('\n') || e.message.trim() === '')
        failures.push(`${label}: UserError is not one line: ${JSON.stringify(e.message)}`);
      else {
        t.refused++;
        if (process.env.FUZZ_VERBOSE) console.log(`${label}: ${e.message}`);
      }
    }
    const ms = performance.now() - t0;
    if (ms > CASE_MS) failures.push(`${label}: took ${ms.toFixed(0)} ms`);
    t.cases++;
    t.totalMs += ms;
    t.maxMs = Math.max(t.maxMs, ms);
  }
  return failures;
}

function expectNoFailures(failures: string[]): void {
  expect(failures.slice(0, 10), `${failures.length} failing cases`).toEqual([]);
}

// ---- mutations ----------------------------------------------------------------------------------

type Mutation = [string, (b: Uint8Array, r: Rng) => Uint8Array];

const randomBytes = (r: Rng, n: number) => Uint8Array.from({ length: n }, () => r.int(256));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A fresh copy: Node Buffers (protobufjs and fflate may return them) share memory under .slice(). */
const copy = (b: Uint8Array, end = b.length) => Uint8Array.from(b.subarray(0, end));

/** Byte-level mutations any file can take; `header` is how many leading bytes form its header. */
function byteMutations(header: number): Mutation[] {
  return [
    [
      'flip 1 bit',
      (b, r) => {
        const c = copy(b);
        const i = r.int(c.length);
        c[i] ^= 1 << r.int(8);
        return c;
      },
    ],
    [
      'flip 8 bits',
      (b, r) => {
        const c = copy(b);
        for (let k = 0; k < 8; k++) c[r.int(c.length)] ^= 1 << r.int(8);
        return c;
      },
    ],
    [
      'flip a header bit',
      (b, r) => {
        const c = copy(b);
        c[r.int(Math.min(header, c.length))] ^= 1 << r.int(8);
        return c;
      },
    ],
    ['truncate', (b, r) => copy(b, r.int(b.length))],
    ['truncate the header', (b, r) => copy(b, r.int(Math.min(header, b.length)))],
    ['append junk', (b, r) => concat(b, randomBytes(r, 1 + r.int(256)))],
    [
      'zero the header',
      (b, r) => {
        const c = copy(b);
        const at = r.int(Math.min(header, c.length));
        c.fill(0, at, at + 1 + r.int(header));
        return c;
      },
    ],
    [
      'random header bytes',
      (b, r) => {
        const c = copy(b);
        const at = r.int(Math.min(header, c.length));
        c.set(randomBytes(r, Math.min(8, c.length - at)), at);
        return c;
      },
    ],
  ];
}

/** Values a lying header writes into a size field. */
const ABSURD = [0, 1, 255, 0x7fff, 0x8000, 0xffff, 30000, 60000, 1e6, 1e9, 0x7fffffff, 0xffffffff];

/** A header field; `count` > 1 writes the same value into that many consecutive fields (width and height). */
interface Field {
  name: string;
  at: number | ((b: Uint8Array) => number);
  bytes: 1 | 2 | 4;
  le: boolean;
  float?: boolean;
  count?: number;
}

function writeField(b: Uint8Array, f: Field, v: number): Uint8Array {
  const c = copy(b);
  const start = typeof f.at === 'number' ? f.at : f.at(c);
  const dv = new DataView(c.buffer);
  for (let k = 0, at = start; k < (f.count ?? 1); k++, at += f.bytes) {
    if (at < 0 || at + f.bytes > c.length) break;
    if (f.float) dv.setFloat32(at, v, f.le);
    else if (f.bytes === 1) dv.setUint8(at, v & 0xff);
    else if (f.bytes === 2) dv.setUint16(at, v & 0xffff, f.le);
    else dv.setUint32(at, v >>> 0, f.le);
  }
  return c;
}

/** `n` mutants: byte mutations and absurd values in `fields`, alternating, over the seeds in turn. */
function mutants(
  seeds: [string, Uint8Array][],
  fields: Field[],
  n: number,
  r: Rng,
  fix: (b: Uint8Array) => Uint8Array = (b) => b,
): [string, Uint8Array][] {
  const muts = byteMutations(64);
  const out: [string, Uint8Array][] = [];
  for (let i = 0; i < n; i++) {
    const [seedName, seed] = seeds[i % seeds.length];
    if (fields.length > 0 && i % 2 === 1) {
      const f = fields[r.int(fields.length)],
        v = ABSURD[r.int(ABSURD.length)];
      out.push([`${seedName}: ${f.name} = ${v}`, fix(writeField(seed, f, v))]);
    } else {
      const [name, m] = muts[r.int(muts.length)];
      out.push([`${seedName}: ${name}`, m(seed, r)]);
    }
  }
  return out;
}

/** The mutants as fuzz cases of one reader. */
function cases(
  seeds: [string, Uint8Array][],
  fields: Field[],
  n: number,
  r: Rng,
  decode: (b: Uint8Array) => unknown,
  fix?: (b: Uint8Array) => Uint8Array,
): [string, () => unknown][] {
  return mutants(seeds, fields, n, r, fix).map(([what, bytes]) => [what, () => decode(bytes)]);
}

// ---- images -------------------------------------------------------------------------------------

const pngSeeds: [string, Uint8Array][] = ['slice-z073.png', 'slice-z075.png'].map((f) => [
  f,
  new Uint8Array(readFileSync(`tests/fixtures/${f}`)),
]);
const slice = decodeImage(pngSeeds[0][1], 'slice');
// The same slice written interlaced (Adam7, tests/unit/png-adam7.ts): pngjs inflates those uncapped.
pngSeeds.push([
  'slice-z073 adam7.png',
  encodePngFile(
    { width: slice.width, height: slice.height, depth: 8, colorType: 0, interlace: true },
    slice.data.map((v) => Math.round(v * 255)),
  ),
]);
/** A 415 KB interlaced PNG whose IDAT inflates to 100x its 2048x2048 header's 4.2 MB (pngjs alone: +806 MB RSS). */
const pngBomb = interlacedBomb(2048, 2048, 100, adam7RawBytes(2048, 2048, 8));

/** Image results must be well-formed: positive size, every value in [0, 1]. */
function checkImage(b: Uint8Array): void {
  const im = decodeImage(b, 'fuzz.img');
  if (!(im.width > 0 && im.height > 0 && im.data.length === im.width * im.height * im.channels))
    throw new Error(`malformed image ${im.width}x${im.height}x${im.channels}`);
  for (const v of im.data) if (!(v >= 0 && v <= 1)) throw new Error(`pixel value ${v} outside [0, 1]`);
}

/** Recompute the IHDR CRC after a field was written, so pngjs reads the lying header instead of failing its CRC. */
function fixIhdrCrc(b: Uint8Array): Uint8Array {
  if (b.length < 33) return b;
  new DataView(b.buffer, b.byteOffset).setUint32(29, crc32(b.subarray(12, 29)));
  return b;
}

const PNG_FIELDS: Field[] = [
  { name: 'IHDR width', at: 16, bytes: 4, le: false },
  { name: 'IHDR height', at: 20, bytes: 4, le: false },
  { name: 'IHDR width and height', at: 16, bytes: 4, le: false, count: 2 },
  { name: 'bit depth', at: 24, bytes: 1, le: false },
  { name: 'colour type', at: 25, bytes: 1, le: false },
  { name: 'interlace', at: 28, bytes: 1, le: false },
  { name: 'IHDR length', at: 8, bytes: 4, le: false },
  { name: 'second chunk length', at: 33, bytes: 4, le: false },
];

function jpegSeed(quality: number, rgb: boolean): Uint8Array {
  const { width, height, data } = slice;
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const v = Math.round(data[i] * 255);
    rgba.set([v, rgb ? 255 - v : v, rgb ? (v * 3) & 255 : v, 255], 4 * i);
  }
  return new Uint8Array(jpeg.encode({ width, height, data: rgba }, quality).data);
}
const jpegSeeds: [string, Uint8Array][] = [
  ['slice q90.jpg', jpegSeed(90, false)],
  ['slice rgb q50.jpg', jpegSeed(50, true)],
];

/** Offset of the first marker segment of a type (ITU-T T.81 Annex B), for writing its fields. */
function segment(b: Uint8Array, marker: number): number {
  for (let at = 2; at + 4 <= b.length;) {
    if (b[at] !== 0xff) return -1;
    if (b[at + 1] === marker) return at;
    at += 2 + ((b[at + 2] << 8) | b[at + 3]);
  }
  return -1;
}
const JPEG_FIELDS: Field[] = [
  { name: 'SOF0 height', at: (b) => segment(b, 0xc0) + 5, bytes: 2, le: false },
  { name: 'SOF0 width', at: (b) => segment(b, 0xc0) + 7, bytes: 2, le: false },
  { name: 'SOF0 height and width', at: (b) => segment(b, 0xc0) + 5, bytes: 2, le: false, count: 2 },
  { name: 'SOF0 components', at: (b) => segment(b, 0xc0) + 9, bytes: 1, le: false },
  { name: 'SOF0 sampling', at: (b) => segment(b, 0xc0) + 11, bytes: 1, le: false },
  { name: 'SOF0 length', at: (b) => segment(b, 0xc0) + 2, bytes: 2, le: false },
  { name: 'DQT length', at: (b) => segment(b, 0xdb) + 2, bytes: 2, le: false },
  { name: 'DHT length', at: (b) => segment(b, 0xc4) + 2, bytes: 2, le: false },
  { name: 'SOS length', at: (b) => segment(b, 0xda) + 2, bytes: 2, le: false },
];

// ---- NIfTI: a small valid volume cut from the bundled ch2bet --------------------------------------

const ch2bet = gunzipSync(new Uint8Array(readFileSync('data/ch2bet.nii.gz')));
function niftiSeed(size: [number, number, number], int16: boolean): Uint8Array {
  const src = new DataView(ch2bet.buffer, ch2bet.byteOffset);
  const [nx, ny] = [src.getInt16(42, true), src.getInt16(44, true)]; // uint8 voxels at vox_offset 352
  const [sx, sy, sz] = size,
    [ox, oy, oz] = [70, 90, 80];
  const bpv = int16 ? 2 : 1;
  const out = new Uint8Array(352 + sx * sy * sz * bpv);
  out.set(ch2bet.subarray(0, 352));
  const dv = new DataView(out.buffer);
  [sx, sy, sz].forEach((d, i) => dv.setInt16(42 + 2 * i, d, true));
  if (int16) {
    dv.setInt16(70, 4, true);
    dv.setInt16(72, 16, true);
    dv.setFloat32(112, 0.5, true);
    dv.setFloat32(116, 1, true);
  }
  let k = 0;
  for (let z = 0; z < sz; z++)
    for (let y = 0; y < sy; y++)
      for (let x = 0; x < sx; x++) {
        const v = ch2bet[352 + (ox + x) + nx * (oy + y + ny * (oz + z))];
        if (int16) dv.setInt16(352 + 2 * k, v * 7 - 300, true);
        else out[352 + k] = v;
        k++;
      }
  return out;
}
const niiSeeds: [string, Uint8Array][] = [
  ['ch2bet 24x20x6 uint8.nii', niftiSeed([24, 20, 6], false)],
  ['ch2bet 16x16x4 int16.nii', niftiSeed([16, 16, 4], true)],
];
const gzSeeds: [string, Uint8Array][] = niiSeeds.map(([n, b]) => [`${n}.gz`, gzipSync(b)]);
const NII_FIELDS: Field[] = [
  { name: 'sizeof_hdr', at: 0, bytes: 4, le: true },
  { name: 'dim[0]', at: 40, bytes: 2, le: true },
  { name: 'dim[1]', at: 42, bytes: 2, le: true },
  { name: 'dim[2]', at: 44, bytes: 2, le: true },
  { name: 'dim[3]', at: 46, bytes: 2, le: true },
  { name: 'dim[1..3]', at: 42, bytes: 2, le: true, count: 3 },
  { name: 'dim[4]', at: 48, bytes: 2, le: true },
  { name: 'datatype', at: 70, bytes: 2, le: true },
  { name: 'bitpix', at: 72, bytes: 2, le: true },
  { name: 'vox_offset', at: 108, bytes: 4, le: true, float: true },
  { name: 'scl_slope', at: 112, bytes: 4, le: true, float: true },
  { name: 'pixdim[3]', at: 88, bytes: 4, le: true, float: true },
  { name: 'pixdim[1..3]', at: 80, bytes: 4, le: true, float: true, count: 3 },
  { name: 'xyzt_units', at: 123, bytes: 1, le: true },
];
const GZ_FIELDS: Field[] = [
  { name: 'ISIZE', at: (b) => b.length - 4, bytes: 4, le: true },
  { name: 'CRC32', at: (b) => b.length - 8, bytes: 4, le: true },
  { name: 'FLG', at: 3, bytes: 1, le: true },
  { name: 'CM', at: 2, bytes: 1, le: true },
  { name: 'XLEN', at: 10, bytes: 2, le: true },
];
function checkVolume(b: Uint8Array): void {
  const v = parseNifti(b, 'fuzz.nii');
  if (v.data.length !== v.dims[0] * v.dims[1] * v.dims[2])
    throw new Error(`volume of ${v.data.length} voxels for dims ${v.dims}`);
  if (!v.voxel.every((d) => d > 0 && d <= 1e4)) throw new Error(`voxel size ${v.voxel}`);
}

// ---- .npy ---------------------------------------------------------------------------------------

function npy(descr: string, shape: string, data: Uint8Array, version = 1): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const lenBytes = version === 1 ? 2 : 4;
  header += ' '.repeat((64 - ((8 + lenBytes + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(8 + lenBytes + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), 8 + lenBytes);
  out.set(data, 8 + lenBytes + header.length);
  return out;
}
const stackF32 = new Uint8Array(
  Float32Array.from({ length: 2 * 16 * 16 }, (_, i) => slice.data[i % slice.data.length]).buffer,
);
const stackU8 = Uint8Array.from({ length: 3 * 8 * 8 * 3 }, (_, i) =>
  Math.round(slice.data[i % slice.data.length] * 255),
);
const npySeeds: [string, Uint8Array][] = [
  ['(2,16,16) <f4 v1', npy('<f4', '(2, 16, 16)', stackF32)],
  ['(3,8,8,3) |u1 v2', npy('|u1', '(3, 8, 8, 3)', stackU8, 2)],
];
const NPY_FIELDS: Field[] = [
  { name: 'major version', at: 6, bytes: 1, le: true },
  { name: 'header length (v1)', at: 8, bytes: 2, le: true },
  { name: 'header length (v2)', at: 8, bytes: 4, le: true },
];
/** Shapes and dtypes a lying header states (the data stays that of the seed). */
const NPY_LIES = [
  '(1000000000, 1000000000)',
  '(60000, 60000)',
  '(-1, 16, 16)',
  '(1e400,)',
  '(99999999999999999999,)',
  '()',
  '(0,)',
  '(2, 16, 17)',
  '(3,8,8,3',
  '(2**40,)',
];
const NPY_DESCRS = ['<f8', '>f4', '<c8', '<f16', '|V8', '<i8', "'"];

// ---- ONNX, bundles, checkpoints -----------------------------------------------------------------

const tiny: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 8, depth: 3, omega: 30 };
const onnxSeed = programToOnnx(trainStepProgram({ config: tiny, batch: 4 }));

/** Structured ONNX mutations: decode, lie in one field, encode again. */
const ONNX_LIES: [string, (m: ModelObj, r: Rng) => void][] = [
  [
    'initializer dims absurd',
    (m, r) => {
      const t = m.graph!.initializer![r.int(m.graph!.initializer!.length)];
      t.dims = [1e9, 1e9];
    },
  ],
  [
    'initializer dims negative',
    (m, r) => {
      const t = m.graph!.initializer![r.int(m.graph!.initializer!.length)];
      t.dims = (t.dims ?? []).map((d) => -d);
    },
  ],
  [
    'raw_data cut by one byte',
    (m, r) => {
      const t = m.graph!.initializer!.filter((x) => x.raw_data?.length)[0];
      if (t) t.raw_data = t.raw_data!.subarray(0, t.raw_data!.length - 1 - r.int(2));
    },
  ],
  [
    'initializer data type',
    (m, r) => {
      const t = m.graph!.initializer![r.int(m.graph!.initializer!.length)];
      t.data_type = [0, 2, 7, 11, 16, 99][r.int(6)];
    },
  ],
  [
    'input dim absurd',
    (m, r) => {
      const d = m.graph!.input![r.int(m.graph!.input!.length)].type?.tensor_type?.shape?.dim;
      if (d?.length) d[0] = { dim_value: [-1, 1e12, 2 ** 53][r.int(3)] };
    },
  ],
  [
    'input unnamed',
    (m, r) => {
      m.graph!.input![r.int(m.graph!.input!.length)].name = '';
    },
  ],
  [
    'node op renamed',
    (m, r) => {
      m.graph!.node![r.int(m.graph!.node!.length)].op_type = ['Conv', '', 'Identity', 'Gemm', 'Slice'][r.int(5)];
    },
  ],
  [
    'node input renamed',
    (m, r) => {
      const n = m.graph!.node![r.int(m.graph!.node!.length)];
      if (n.input?.length) n.input[r.int(n.input.length)] = 'nowhere';
    },
  ],
  [
    'node output dropped',
    (m, r) => {
      m.graph!.node![r.int(m.graph!.node!.length)].output = [];
    },
  ],
  [
    'nodes reordered',
    (m, r) => {
      const ns = m.graph!.node!;
      const i = r.int(ns.length),
        j = r.int(ns.length);
      [ns[i], ns[j]] = [ns[j], ns[i]];
    },
  ],
  [
    'attribute absurd',
    (m, r) => {
      const n = m.graph!.node!.filter((x) => x.attribute?.length)[r.int(8)];
      if (n) n.attribute = n.attribute!.map((a) => ({ ...a, i: [-5, 1e9][r.int(2)], ints: [7, 7, 7] }));
    },
  ],
  [
    'int64 initializer values',
    (m, r) => {
      const t = m.graph!.initializer!.filter((x) => x.data_type === 7)[r.int(4)];
      if (t) {
        t.raw_data = undefined;
        t.int64_data = [[], [-3], [1e15, 2], [5, 5, 5, 5]][r.int(4)];
      }
    },
  ],
  [
    'graph dropped',
    (m) => {
      m.graph = undefined;
    },
  ],
];

function onnxCases(n: number, r: Rng): [string, () => unknown][] {
  const model = decodeModel(onnxSeed);
  const out = cases([['train_step.onnx', onnxSeed]], [], Math.ceil(n / 2), r, (b) => onnxToProgram(b));
  for (let i = 0; out.length < n; i++) {
    const [what, lie] = ONNX_LIES[i % ONNX_LIES.length];
    const m = structuredClone(model);
    lie(m, r);
    let bytes: Uint8Array;
    try {
      bytes = encodeModel(m);
    } catch {
      continue;
    } // a lie protobufjs itself will not encode
    out.push([`train_step.onnx: ${what}`, () => onnxToProgram(bytes)]);
  }
  return out;
}

const memorySource = (files: Record<string, Uint8Array>): FileSource => ({
  where: 'fuzz-bundle',
  read: async (name) => {
    const b = files[name];
    if (!b) throw new Error(`ENOENT: no such file '${name}'`);
    return b;
  },
});

/** A consumer's whole load: every file verified, the prior's tensors checked, its encoder graph read. */
async function loadAll(files: Record<string, Uint8Array>, publicKey?: string): Promise<void> {
  const p = await loadPrior(memorySource(files), publicKey ? { publicKey } : {});
  const b = await loadBundle(memorySource(files));
  onnxToProgram(await b.graph('encoder'));
  if (Object.keys(p.encoder).length === 0) throw new Error('a prior without encoder tensors loaded');
}

/** Paths into a manifest and the values a damaged one holds there. */
const MANIFEST_PATHS = [
  'format',
  'version',
  'kind',
  'name',
  'range',
  'release',
  'config',
  'config.kind',
  'config.width',
  'config.depth',
  'config.omega',
  'config.inDim',
  'train',
  'train.lr',
  'signal',
  'signal.height',
  'data',
  'data.files',
  'data.train',
  'tensors',
  'tensors.file',
  'tensors.entries',
  'tensors.entries.0',
  'tensors.entries.0.name',
  'tensors.entries.0.shape',
  'tensors.entries.0.shape.0',
  'tensors.entries.0.offset',
  'tensors.entries.0.length',
  'tensors.entries.1.dtype',
  'tensors.entries.1.scaleOffset',
  'files',
  'files.weights\\.bin',
  'files.weights\\.bin.bytes',
  'files.weights\\.bin.sha256',
  'graphs',
  'graphs.encoder',
  'graphs.encoder.file',
  'graphs.train_step.inputs',
];
const MANIFEST_VALUES: unknown[] = [
  null,
  -1,
  0,
  1.5,
  1e12,
  2 ** 53,
  'x',
  '../../etc/passwd',
  '__proto__',
  [],
  {},
  true,
  [1e9, 1e9],
  'int8',
  'float16',
];

function setPath(obj: unknown, path: string, value: unknown): void {
  const keys = path.split(/(?<!\\)\./).map((k) => k.replace(/\\\./g, '.'));
  let o = obj as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) return;
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
}

/** Rewrites the manifest's record of `name` so a changed file passes its integrity check. */
async function rehash(manifestText: string, name: string, bytes: Uint8Array): Promise<Uint8Array> {
  const m = JSON.parse(manifestText);
  m.files[name] = { sha256: await sha256Hex(bytes), bytes: bytes.byteLength };
  return new TextEncoder().encode(JSON.stringify(m));
}

// ---- the fuzz -----------------------------------------------------------------------------------

describe('mutation fuzz: every reader ends in a result or a one-line UserError', () => {
  it('PNG (decodeImage)', async () => {
    const r = rng(1201);
    const bomb: [string, () => unknown] = ['interlaced IDAT bomb, 100x its header', () => checkImage(pngBomb)];
    expectNoFailures(await fuzz('png', 1201, [bomb, ...cases(pngSeeds, PNG_FIELDS, 110, r, checkImage, fixIhdrCrc)]));
  });

  it('JPEG (decodeImage)', async () => {
    const r = rng(1202);
    expectNoFailures(await fuzz('jpeg', 1202, cases(jpegSeeds, JPEG_FIELDS, 110, r, checkImage)));
  });

  it('NIfTI: the raw header and the gzip stream (parseNifti)', async () => {
    const r = rng(1203);
    const raw = cases(niiSeeds, NII_FIELDS, 90, r, checkVolume);
    // Header lies inside the gzip stream too: recompress the lying .nii so only the header lies.
    const lyingGz = cases(niiSeeds, NII_FIELDS, 20, r, (b) => checkVolume(gzipSync(b)));
    const stream = cases(gzSeeds, GZ_FIELDS, 90, r, checkVolume);
    expectNoFailures(await fuzz('nifti', 1203, [...raw, ...lyingGz, ...stream]));
  });

  it('.npy (parseNpy)', async () => {
    const r = rng(1204);
    const lies: [string, () => unknown][] = [];
    for (const shape of NPY_LIES)
      lies.push([`shape ${shape}`, () => parseNpy(npy('<f4', shape, stackF32), 'fuzz.npy')]);
    for (const descr of NPY_DESCRS)
      lies.push([`descr ${descr}`, () => parseNpy(npy(descr, '(2, 16, 16)', stackF32), 'fuzz.npy')]);
    const check = (b: Uint8Array) => {
      const a = parseNpy(b, 'fuzz.npy');
      if (a.data.length !== a.shape.reduce((x, y) => x * y, 1))
        throw new Error(`array of ${a.data.length} for shape ${a.shape}`);
    };
    expectNoFailures(await fuzz('npy', 1204, [...lies, ...cases(npySeeds, NPY_FIELDS, 90, r, check)]));
  });

  it('ONNX reader (onnxToProgram)', async () => {
    expectNoFailures(await fuzz('onnx', 1205, onnxCases(110, rng(1205))));
  });

  it('bundle manifest and files (parseManifest, loadBundle, loadPrior)', async () => {
    const r = rng(1206);
    const encoder = initParams(tiny, 3, isEncoderParam);
    const built = await buildPriorBundle({
      name: 'fuzz',
      config: tiny,
      range: 'unit',
      encoder,
      res: 4,
      lr: 1e-3,
      iters: 1,
      signals: 1,
      engine: 'fuzz',
    });
    const text = JSON.stringify(built.manifest);
    const good: Record<string, Uint8Array> = { ...built.files, 'manifest.json': new TextEncoder().encode(text) };
    await loadAll(good); // the seed itself loads
    const out: [string, () => unknown][] = [];
    for (const [what, bytes] of mutants([['manifest.json', good['manifest.json']]], [], 30, r)) {
      out.push([what, () => loadAll({ ...good, 'manifest.json': bytes })]);
      out.push([`${what} (parseManifest)`, () => parseManifest(new TextDecoder().decode(bytes), 'fuzz-bundle')]);
    }
    for (let i = 0; i < 40; i++) {
      const path = MANIFEST_PATHS[r.int(MANIFEST_PATHS.length)],
        value = MANIFEST_VALUES[r.int(MANIFEST_VALUES.length)];
      const m = JSON.parse(text);
      setPath(m, path, value);
      out.push([
        `manifest ${path} = ${JSON.stringify(value)}`,
        () => loadAll({ ...good, 'manifest.json': new TextEncoder().encode(JSON.stringify(m)) }),
      ]);
    }
    // Changed files whose manifest record was rewritten to match: the tensor and graph readers see them.
    for (const [name, n] of [
      ['weights.bin', 20],
      ['encoder.onnx', 20],
    ] as const) {
      for (const [what, bytes] of mutants([[name, good[name]]], [], n, r)) {
        const files = { ...good, [name]: bytes, 'manifest.json': await rehash(text, name, bytes) };
        out.push([`${what}, hashes rewritten`, () => loadAll(files)]);
      }
    }
    expectNoFailures(await fuzz('bundle', 1206, out));
  });

  it('checkpoint (decodeCheckpoint)', async () => {
    const r = rng(1207);
    const state = initialState(tiny, initParams(tiny, 5));
    const recipe = { config: tiny, data: ['abc'], lr: 1e-3, seed: 0 };
    const seed = await encodeCheckpoint(state, {
      recipe,
      iters: 10,
      step: 3,
      loss: [0.5, 0.25, NaN],
      meanPsnr: [3, 6, 9],
    });
    await decodeCheckpoint(seed, 'fuzz.checkpoint', recipe); // the seed itself decodes
    const hl = new DataView(seed.buffer).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(seed.subarray(12, 12 + hl)));
    const bin = seed.subarray(12 + hl);
    const withHeader = (h: unknown, b = bin) => {
      const t = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(12 + t.length + b.length);
      out.set(seed.subarray(0, 8));
      new DataView(out.buffer).setUint32(8, t.length, true);
      out.set(t, 12);
      out.set(b, 12 + t.length);
      return out;
    };
    const decode = (b: Uint8Array) => decodeCheckpoint(b, 'fuzz.checkpoint', recipe);
    const out = cases([['checkpoint', seed]], [{ name: 'header length', at: 8, bytes: 4, le: true }], 50, r, decode);
    const paths = [
      'entries',
      'entries.0',
      'entries.0.length',
      'entries.0.offset',
      'entries.0.shape',
      'entries.0.name',
      'entries.1.name',
      'entries.2.dtype',
      'iters',
      'step',
      'loss',
      'meanPsnr',
      'sha256',
      'recipe',
    ];
    for (let i = 0; i < 40; i++) {
      const path = paths[r.int(paths.length)],
        value = MANIFEST_VALUES[r.int(MANIFEST_VALUES.length)];
      const h = structuredClone(header);
      setPath(h, path, value);
      const bytes = withHeader(h);
      out.push([`header ${path} = ${JSON.stringify(value)}`, () => decode(bytes)]);
    }
    // Tensor bytes changed with the header's sha256 rewritten to match.
    for (const [what, b] of mutants([['tensors', bin]], [], 20, r)) {
      const h = { ...header, sha256: await sha256Hex(b) };
      out.push([`${what}, sha256 rewritten`, () => decode(withHeader(h, b))]);
    }
    expectNoFailures(await fuzz('checkpoint', 1207, out));
  });

  it('signature (manifest.sig with verifyManifest, and signed bundles through loadPrior)', async () => {
    const r = rng(1208);
    const keys = await generateKeyPair();
    const encoder = initParams(tiny, 4, isEncoderParam);
    const built = await buildPriorBundle({
      name: 'signed',
      config: tiny,
      range: 'unit',
      encoder,
      res: 4,
      lr: 1e-3,
      iters: 1,
      signals: 1,
      engine: 'fuzz',
    });
    const manifest = new TextEncoder().encode(JSON.stringify(built.manifest));
    const { bytes: sig } = await signManifest(manifest, keys.privatePem);
    const files = { ...built.files, 'manifest.json': manifest, [SIGNATURE_FILE]: sig };
    await loadAll(files, keys.publicPem); // the seed itself verifies
    const verify = (s: Uint8Array, m: Uint8Array = manifest) => verifyManifest(m, s, keys.publicPem, 'fuzz-bundle');
    const out = cases([[SIGNATURE_FILE, sig]], [], 40, r, verify);
    const sigJson = JSON.parse(new TextDecoder().decode(sig));
    const lies: [string, unknown][] = [
      ['signature', btoa(String.fromCharCode(...randomBytes(r, 64)))],
      ['signature', btoa('short')],
      ['signature', 42],
      ['version', 2],
      ['algorithm', 'RSA'],
      ['key_id', '0000000000000000'],
      ['format', null],
      ['manifest_sha256', 'x'],
      ['signed', 'weights.bin'],
    ];
    for (const [field, value] of lies) {
      const bytes = new TextEncoder().encode(JSON.stringify({ ...sigJson, [field]: value }));
      out.push([`${SIGNATURE_FILE} ${field} = ${JSON.stringify(value)}`, () => verify(bytes)]);
    }
    for (const [what, m] of mutants([['manifest.json', manifest]], [], 15, r)) {
      out.push([`signed ${what}`, () => verify(sig, m)]);
    }
    for (const [what, b] of mutants([['public key', new TextEncoder().encode(keys.publicPem)]], [], 10, r)) {
      const pem = new TextDecoder().decode(b);
      out.push([`pinned ${what}`, () => verifyManifest(manifest, sig, pem, 'fuzz-bundle')]);
    }
    for (const [what, s] of mutants([[SIGNATURE_FILE, sig]], [], 10, r)) {
      out.push([`bundle with ${what}`, () => loadAll({ ...files, [SIGNATURE_FILE]: s }, keys.publicPem)]);
    }
    expectNoFailures(await fuzz('signature', 1208, out));
  });

  afterAll(() => {
    const rows = Object.entries(tallies).map(
      ([k, t]) =>
        `${k.padEnd(10)} ${String(t.cases).padStart(5)} ${String(t.ok).padStart(5)} ${String(t.refused).padStart(7)} ${(t.totalMs / t.cases).toFixed(2).padStart(8)} ${t.maxMs.toFixed(1).padStart(8)}`,
    );
    const total = Object.values(tallies).reduce((a, t) => a + t.cases, 0);
    const rss = process.resourceUsage().maxRSS / 1024;
    console.log(
      [
        'reader     cases    ok refused  mean ms   max ms',
        ...rows,
        `total ${total} cases; peak RSS ${rss.toFixed(0)} MB (${rssAtStart.toFixed(0)} MB at start)`,
      ].join('\n'),
    );
  });

  it('covers at least 500 cases without a large allocation', () => {
    const total = Object.values(tallies).reduce((a, t) => a + t.cases, 0);
    expect(total).toBeGreaterThanOrEqual(500);
    expect(process.resourceUsage().maxRSS / 1024 - rssAtStart).toBeLessThan(RSS_GROWTH_MB);
  });
});
