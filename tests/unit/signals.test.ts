// Signals of dimension 1, 2 and 3 (src/data/signal.ts, wav.ts, volume.ts, src/train/grid.ts): N-D grids
// that equal the 2-D grid exactly, N-D area resampling and padding against the image versions, WAV and
// NIfTI round trips on real files (a speech clip of scripts/fetch-data.sh, skipped with a reason when
// absent; the bundled ch2bet volume), every bad WAV ending in one UserError line, and gradient checks
// of 1-D and 3-D SIREN losses (first-layer omega_0 separate from the hidden omega).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gridCoords, latticeCoords, linspace } from '../../src/train/grid.ts';
import {
  makeSignal,
  imageSignal,
  signalImage,
  resampleArea,
  padCentered,
  padEnd,
  middleSlices,
} from '../../src/data/signal.ts';
import { makeImage, resizeArea, padToSquare } from '../../src/data/pixels.ts';
import { parseWav, encodeWav, wavSignal, signalWav, snrDb, mixDown, type WavEncoding } from '../../src/data/wav.ts';
import { encodeNifti, niftiSignal, npySignal, cubeAt } from '../../src/data/volume.ts';
import { parseNifti } from '../../src/data/nifti.ts';
import { loadNifti } from '../../src/node/read.ts';
import { parseNpy } from '../../src/data/npy.ts';
import { cachedDataset, missingDatasetMessage } from '../../src/node/datasets.ts';
import { UserError } from '../../src/util/errors.ts';
import { rng } from '../../src/util/random.ts';
import * as B from '../../src/graph/builder.ts';
import { forward, initParams, paramSpecs } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { tensor, type Tensor } from '../../src/graph/tensor.ts';
import { evaluate } from '../../src/graph/interp.ts';
import { finiteDiffCheck } from './fd.ts';

const speech = cachedDataset('speech');
if (speech === null) console.warn(`skipping speech tests: ${missingDatasetMessage('speech')}`);
const clipPath = speech ? join(speech, 'letters', 'a.wav') : '';

function userError(fn: () => unknown, problem: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a UserError').toBeInstanceOf(UserError);
  expect((err as Error).message).toMatch(problem);
  expect((err as Error).message).not.toContain('\n');
}

describe('N-D coordinate grids', () => {
  it('2-D equals the image grid of rows x columns exactly, row-major', () => {
    const h = 5,
      w = 7,
      ys = linspace(h),
      xs = linspace(w),
      g = gridCoords(h, w);
    const want = new Float32Array(h * w * 2);
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        want[2 * (i * w + j)] = ys[i];
        want[2 * (i * w + j) + 1] = xs[j];
      }
    expect(g).toEqual(want);
  });

  it('1-D is linspace; 3-D puts the last axis fastest', () => {
    expect(gridCoords(9)).toEqual(linspace(9));
    const [d, h, w] = [3, 4, 5],
      g = gridCoords(d, h, w);
    const at = (i: number, j: number, k: number): number[] =>
      Array.from(g.subarray(((i * h + j) * w + k) * 3, ((i * h + j) * w + k) * 3 + 3));
    expect(at(0, 0, 0)).toEqual([-1, -1, -1]);
    expect(at(2, 3, 4)).toEqual([1, 1, 1]);
    expect(at(1, 0, 1)).toEqual([0, -1, -0.5]);
  });

  it("a clip on a longer lattice takes the lattice's first positions (zero-padding coordinates)", () => {
    expect(latticeCoords([5], [9])).toEqual(linspace(9).subarray(0, 5));
    expect(latticeCoords([4, 3], [4, 3])).toEqual(gridCoords(4, 3));
  });
});

describe('signals', () => {
  const r = rng(4);
  const rnd = (n: number): Float32Array => Float32Array.from({ length: n }, () => r.next());

  it('an image converts to a 2-D signal and back without a copy', () => {
    const img = makeImage(3, 2, 3, rnd(18));
    const s = imageSignal(img);
    expect(s.dims).toEqual([2, 3]);
    expect(s.data).toBe(img.data);
    expect(signalImage(s)).toEqual(img);
  });

  it('N-D area resampling equals the image resize in 2-D and averages blocks in 3-D', () => {
    const img = makeImage(7, 5, 3, rnd(105));
    expect(resampleArea(imageSignal(img), [3, 4]).data).toEqual(resizeArea(img, 4, 3).data);
    const v = makeSignal([4, 4, 4], 1, rnd(64));
    const half = resampleArea(v, [2, 2, 2]);
    let s = 0;
    for (const z of [2, 3]) for (const y of [0, 1]) for (const x of [2, 3]) s += v.data[(z * 4 + y) * 4 + x];
    expect(half.data[(1 * 2 + 0) * 2 + 1]).toBeCloseTo(s / 8, 6);
  });

  it('centred padding equals padToSquare in 2-D; padEnd appends the fill value (silence for clips)', () => {
    const img = makeImage(3, 6, 1, rnd(18));
    expect(padCentered(imageSignal(img), [6, 6]).data).toEqual(padToSquare(img).data);
    const c = makeSignal([3], 2, Float32Array.from([1, 2, 3, 4, 5, 6]));
    expect(Array.from(padEnd(c, 5, 0.5).data)).toEqual([1, 2, 3, 4, 5, 6, 0.5, 0.5, 0.5, 0.5]);
    const cube = cubeAt(makeSignal([2, 4, 3], 1, rnd(24)), 4);
    expect(cube.dims).toEqual([4, 4, 4]);
  });

  it('middle slices of a volume are its three central planes', () => {
    const v = makeSignal(
      [3, 4, 5],
      1,
      Float32Array.from({ length: 60 }, (_, i) => i / 60),
    );
    const m = middleSlices(v);
    expect([m.width, m.height]).toEqual([5 + 5 + 4 + 4, 4]);
    // Axial plane z = 1, row y = 0 drawn at the bottom: voxel (1, 0, x) = (20 + x) / 60.
    expect(m.data[3 * m.width + 2]).toBeCloseTo(22 / 60, 6);
  });
});

describe('WAV', () => {
  it.skipIf(speech === null)('reads a real 16-bit clip and writes it back byte for byte', () => {
    const bytes = new Uint8Array(readFileSync(clipPath));
    const w = parseWav(bytes, clipPath);
    expect(w).toMatchObject({ rate: 8000, channels: 1, encoding: 'pcm16', frames: (bytes.length - 44) / 2 });
    expect(Math.max(...w.samples.map(Math.abs))).toBeGreaterThan(0.1);
    expect(encodeWav(w)).toEqual(bytes);
  });

  it.skipIf(speech === null)(
    'round-trips the real clip through every encoding, stereo and WAVE_FORMAT_EXTENSIBLE',
    () => {
      const w = parseWav(new Uint8Array(readFileSync(clipPath)), clipPath);
      for (const encoding of ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'] as WavEncoding[]) {
        for (const extensible of [false, true]) {
          const back = parseWav(encodeWav(w, { encoding, extensible }), 'x.wav');
          expect(back.encoding).toBe(encoding);
          let max = 0;
          for (let i = 0; i < w.frames; i++) max = Math.max(max, Math.abs(back.samples[i] - w.samples[i]));
          expect(max, encoding).toBeLessThanOrEqual(encoding === 'pcm8' ? 1 / 256 : 0);
        }
      }
      const stereo = {
        rate: 22050,
        channels: 2,
        samples: Float32Array.from({ length: 2 * w.frames }, (_, i) => (i % 2 ? -0.5 : 0.5) * w.samples[i >> 1] + 0),
      };
      const back = parseWav(encodeWav(stereo, { encoding: 'pcm24' }), 's.wav');
      expect([back.rate, back.channels, back.frames]).toEqual([22050, 2, w.frames]);
      expect(back.samples).toEqual(stereo.samples);
      expect(Array.from(mixDown(back).samples.subarray(0, 50)).every((x) => x === 0)).toBe(true);
    },
  );

  it.skipIf(speech === null)(
    'a clip is a 1-D signal on the [0, 1] scale and back; SNR of the clip against itself plus noise',
    () => {
      const w = parseWav(new Uint8Array(readFileSync(clipPath)), clipPath);
      const s = wavSignal(w);
      expect(s.dims).toEqual([w.frames]);
      expect(Math.min(...s.data)).toBeGreaterThanOrEqual(0);
      expect(signalWav(s, w.rate).samples).toEqual(w.samples);
      // Noise at a tenth of the clip's RMS: SNR 20 dB.
      let p = 0;
      for (const y of w.samples) p += y * y;
      const rms = Math.sqrt(p / w.frames),
        noisy = s.data.map((v, i) => v + ((i % 2 ? 1 : -1) * rms) / 20);
      expect(snrDb(noisy, s.data)).toBeCloseTo(20, 3);
    },
  );

  const ok = encodeWav({ rate: 8000, channels: 1, samples: Float32Array.from([0, 0.5, -0.5, 0.25]) });
  const mutate = (f: (v: DataView, b: Uint8Array) => void, bytes = ok): Uint8Array => {
    const b = bytes.slice();
    f(new DataView(b.buffer), b);
    return b;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /empty file/],
    ['not RIFF', new TextEncoder().encode('hello, this is not a wave file'), /not a WAV file/],
    ['ADPCM (format 2)', mutate((v) => v.setUint16(20, 2, true)), /format code 2 is not supported/],
    ['12-bit PCM', mutate((v) => v.setUint16(34, 12, true)), /12 bits per sample is not supported/],
    ['truncated data', ok.slice(0, ok.length - 3), /truncated/],
    ['no data chunk', ok.slice(0, 36), /no data chunk/],
    ['zero frames', mutate((v) => v.setUint32(40, 0, true), ok.slice(0, 44)), /holds no samples/],
    [
      'data size 4 GB',
      mutate((v) => v.setUint32(40, 0xffffffff, true)),
      /truncated WAV file \(data chunk claims 4294967295 bytes/,
    ],
    ['0 channels', mutate((v) => v.setUint16(22, 0, true)), /claims 0 channels/],
    ['65535 channels', mutate((v) => v.setUint16(22, 65535, true)), /claims 65535 channels/],
    ['rate 0', mutate((v) => v.setUint32(24, 0, true)), /sample rate of 0 Hz/],
    ['block align mismatch', mutate((v) => v.setUint16(32, 3, true)), /inconsistent/],
    [
      'fmt after data',
      (() => {
        const b = ok.slice();
        b.set(ok.subarray(36), 12);
        b.set(ok.subarray(12, 36), 12 + ok.length - 36);
        return b;
      })(),
      /data chunk comes before the fmt chunk/,
    ],
    ['big-endian RIFX', mutate((_, b) => b.set([0x52, 0x49, 0x46, 0x58], 0)), /RIFX WAV files/],
    [
      'NaN float sample',
      encodeWav({ rate: 8000, channels: 1, samples: Float32Array.from([0, NaN]) }, { encoding: 'float32' }),
      /non-finite sample/,
    ],
  ];
  for (const [what, bytes, problem] of cases)
    it(`refuses a bad WAV: ${what}`, () => userError(() => parseWav(bytes, 'bad.wav'), problem));

  it('refuses a clip above the sample limit before allocating', () => {
    userError(
      () => parseWav(ok, 'big.wav', { maxPixels: 3 }),
      /audio is 4 frames of 1 channel\(s\) \(4 samples\), above the limit of 3/,
    );
  });
});

describe('volumes', () => {
  const vol = loadNifti('data/ch2bet.nii.gz');
  const full = niftiSignal(vol, 'ch2bet');

  it('a NIfTI volume is a [z, y, x] signal in its own memory order, scaled to [0, 1]', () => {
    expect(full.signal.dims).toEqual([vol.dims[2], vol.dims[1], vol.dims[0]]);
    const i = vol.dims[0] * (vol.dims[1] * 90 + 100) + 90;
    expect(full.signal.data[i]).toBeCloseTo(vol.data[i] / full.scale, 6);
    expect(full.signal.data.reduce((a, b) => Math.max(a, b), 0)).toBe(1);
  });

  it('round-trips a real sub-volume through NIfTI (plain and gzipped), scale restored by scl_slope', () => {
    const sub = makeSignal([12, 10, 8], 1);
    const [, ny, nx] = full.signal.dims;
    for (let z = 0; z < 12; z++)
      for (let y = 0; y < 10; y++)
        for (let x = 0; x < 8; x++)
          sub.data[(z * 10 + y) * 8 + x] = full.signal.data[((80 + z) * ny + 100 + y) * nx + 85 + x];
    expect(Math.max(...sub.data)).toBeGreaterThan(0.2);
    for (const gzip of [false, true]) {
      const back = parseNifti(encodeNifti(sub, { scale: full.scale, gzip, voxel: [2, 2, 2] }), 'sub.nii');
      expect(back.dims).toEqual([8, 10, 12]);
      const again = niftiSignal(back, 'sub.nii');
      for (let i = 0; i < sub.data.length; i++)
        expect(again.signal.data[i] * again.scale).toBeCloseTo(sub.data[i] * full.scale, 3);
    }
  });

  it('a rank-3 .npy array is a volume; other ranks are refused', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const text = header + ' '.repeat(pad) + '\n';
    const bytes = new Uint8Array(10 + text.length + 96);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
    bytes.set(new TextEncoder().encode(text), 10);
    new Float32Array(bytes.buffer, 10 + text.length, 24).set(Float32Array.from({ length: 24 }, (_, i) => i / 23));
    const v = npySignal(parseNpy(bytes, 'v.npy'), 'v.npy');
    expect(v.signal.dims).toEqual([2, 3, 4]);
    expect(v.signal.data[23]).toBe(1);
    userError(() => npySignal({ shape: [4, 6], data: new Float32Array(24) }, 'flat.npy'), /rank 3/);
  });
});

describe('gradients of 1-D and 3-D SIREN losses against finite differences', () => {
  const cases: InrConfig[] = [
    { kind: 'siren', inDim: 1, outDim: 1, width: 5, depth: 3, omega: 30, omega0: 90 },
    { kind: 'siren', inDim: 3, outDim: 1, width: 4, depth: 3, omega: 30 },
  ];
  for (const c of cases) {
    it(`inDim ${c.inDim}${c.omega0 ? `, omega0 ${c.omega0}` : ''}`, () => {
      const dims = c.inDim === 1 ? [7] : [2, 3, 2];
      const rows = dims.reduce((a, b) => a * b, 1);
      const specs = paramSpecs(c);
      const params = Object.fromEntries(specs.map((s) => [s.name, B.input(s.name, s.shape)]));
      const coords = B.constant(Array.from(gridCoords(...dims)), [rows, c.inDim]);
      const r = rng(3);
      const targets = B.constant(
        Array.from({ length: rows }, () => r.uniform(-1, 1)),
        [rows, 1],
      );
      const loss = B.mul(B.sumAll(B.square(B.sub(forward(c, params, coords), targets))), 1 / rows);
      const init = initParams(c, 5);
      const feeds = new Map<string, Tensor>(specs.map((s) => [s.name, tensor(s.shape, init[s.name])]));
      const { maxErr, report } = finiteDiffCheck(
        loss,
        specs.map((s) => params[s.name]),
        feeds,
      );
      expect(maxErr, report).toBeLessThan(1e-5);
    });
  }

  it('omega0 changes only the first layer: with omega0 = omega the graph is the plain SIREN', () => {
    const base: InrConfig = { kind: 'siren', inDim: 1, outDim: 1, width: 3, depth: 3, omega: 30 };
    const x = B.constant([0.3], [1, 1]);
    const init = initParams(base, 1);
    const value = (c: InrConfig): number => {
      const ps = Object.fromEntries(paramSpecs(c).map((s) => [s.name, B.constant(Array.from(init[s.name]), s.shape)]));
      return evaluate([forward(c, ps, x)], new Map())[0].data[0];
    };
    expect(value({ ...base, omega0: 30 })).toBe(value(base));
    expect(value({ ...base, omega0: 3000 })).not.toBe(value(base));
    expect(paramSpecs({ ...base, omega0: 3000 })).toEqual(paramSpecs(base)); // init uses the hidden omega
  });
});
