// Tensor storage codecs (src/export/tensor-codec.ts): float16 conversion is exact IEEE binary16
// rounding (checked against a brute-force nearest-value search, subnormals, overflow and ties
// included); int8 per-output-channel quantization errs by at most half a scale step; a tensor file
// mixing dtypes unpacks to float32, old entries without a dtype still read, and bad entries are refused.
import { describe, it, expect } from 'vitest';
import { float16Bits, float16Value, quantizeInt8, dequantizeInt8 } from '../../src/export/tensor-codec.ts';
import {
  packTensors,
  unpackTensors,
  buildBundle,
  parseManifest,
  FORMAT_VERSION,
  formatVersion,
  type TensorEntry,
} from '../../src/export/bundle.ts';
import { rng } from '../../src/util/random.ts';
import { ADAM_DEFAULTS } from '../../src/train/adam.ts';
import { UserError } from '../../src/util/errors.ts';

/** Reference binary16 rounding: the nearest of all finite non-negative binary16 values (ascending in
 *  their bits, 0x0000..0x7bff), ties to the even bit pattern; 0x7c00 (infinity) stands for 65536, so
 *  values from 65520 (halfway to it) up round to infinity as IEEE 754 says. */
const POS = Float64Array.from({ length: 0x7c01 }, (_, h) => (h === 0x7c00 ? 65536 : float16Value(h)));
function referenceBits(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65536) return sign | 0x7c00;
  let lo = 0,
    hi = 0x7c00; // POS[lo] <= a < POS[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (POS[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - POS[lo],
    dHi = POS[hi] - a;
  return sign | (dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi);
}

describe('float16', () => {
  it('every binary16 value converts back to the same bits (NaN stays NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = float16Value(h);
      if (((h >> 10) & 0x1f) === 0x1f && (h & 0x3ff) !== 0) {
        expect(Number.isNaN(v)).toBe(true);
        expect(float16Bits(v) & 0x7fff).toBeGreaterThan(0x7c00);
      } else if (float16Bits(v) !== h) {
        expect.fail(`0x${h.toString(16)} -> ${v} -> 0x${float16Bits(v).toString(16)}`);
      }
    }
  });

  it('known values: subnormals, the largest finite, overflow, ties, signed zero, infinity', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [1 / 3, 0x3555],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00],
      [1e6, 0x7c00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000],
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002], // ties to even
      [2 ** -14, 0x0400],
      [2 ** -14 - 2 ** -24, 0x03ff],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [1e-10, 0x0000],
      [-1e-10, 0x8000],
    ];
    for (const [x, want] of cases) expect(float16Bits(x), `${x}`).toBe(want);
    expect(Number.isNaN(float16Value(float16Bits(NaN)))).toBe(true);
  });

  it('matches the brute-force nearest value on 100000 float32 values of every magnitude', () => {
    const r = rng(7);
    const f = new Float32Array(1);
    for (let k = 0; k < 100_000; k++) {
      // Log-uniform magnitudes from float32 subnormals to beyond binary16's range, both signs.
      f[0] = (r.uniform(0, 1) < 0.5 ? -1 : 1) * 2 ** r.uniform(-30, 17);
      const want = referenceBits(f[0]);
      if (float16Bits(f[0]) !== want)
        expect.fail(`${f[0]}: got 0x${float16Bits(f[0]).toString(16)}, want 0x${want.toString(16)}`);
    }
  });
});

describe('int8 per output channel', () => {
  it('errs by at most half a scale step in every column; the largest entry is +-127; zero columns stay zero', () => {
    const r = rng(3);
    const rows = 37,
      cols = 9;
    const w = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) w[i * cols + j] = j === 4 ? 0 : r.uniform(-1, 1) * 10 ** (j - 5);
    const { q, scales } = quantizeInt8(w, [rows, cols]);
    const back = dequantizeInt8(q, scales);
    for (let j = 0; j < cols; j++) {
      let max = 0,
        err = 0,
        top = 0;
      for (let i = 0; i < rows; i++) {
        const k = i * cols + j;
        max = Math.max(max, Math.abs(w[k]));
        err = Math.max(err, Math.abs(w[k] - back[k]));
        top = Math.max(top, Math.abs(q[k]));
      }
      expect(scales[j]).toBe(Math.fround(max / 127));
      // s/2 exactly in real arithmetic; the float32 product q*s adds at most half an ulp of |w|.
      expect(err, `column ${j}`).toBeLessThanOrEqual(scales[j] / 2 + max * 2 ** -24);
      expect(top).toBe(j === 4 ? 0 : 127);
    }
    expect(() => quantizeInt8(Float32Array.of(1, NaN), [2, 1])).toThrow(UserError);
  });
});

describe('tensor file with dtypes', () => {
  const r = rng(11);
  const mat = Float32Array.from({ length: 6 * 5 }, () => r.uniform(-0.1, 0.1));
  const vec = Float32Array.from({ length: 5 }, () => r.uniform(-1, 1));
  const odd = Float32Array.from({ length: 3 }, () => r.uniform(-1, 1));

  it('packs float32, float16 and int8 at 4-byte offsets and unpacks all to float32', () => {
    const { bin, entries } = packTensors({
      a: { shape: [6, 5], data: mat, dtype: 'int8' },
      b: { shape: [3], data: odd, dtype: 'float16' },
      c: { shape: [5], data: vec },
      d: { shape: [6, 5], data: mat, dtype: 'float16' },
    });
    for (const e of entries) expect(e.offset % 4).toBe(0);
    expect(entries[2]).toEqual({ name: 'c', shape: [5], offset: entries[2].offset, length: 5 }); // float32: the old entry layout
    expect(entries[0].dtype).toBe('int8');
    expect(entries[0].scaleOffset! % 4).toBe(0);
    expect(bin.byteLength).toBe(32 + 20 + 8 + 20 + 60); // int8 30 B (+2 pad) + 5 scales; f16 6 B (+2); f32 20 B; f16 60 B
    const t = unpackTensors(bin, entries);
    expect(t.c.data).toEqual(vec);
    const maxErr = (x: Float32Array, y: Float32Array): number =>
      x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    expect(maxErr(t.a.data, mat)).toBeLessThanOrEqual(0.1 / 127 / 2 + 1e-9);
    expect(maxErr(t.a.data, mat)).toBeGreaterThan(0);
    expect(maxErr(t.b.data, odd)).toBeLessThanOrEqual(2 ** -11); // half an ulp of binary16 in [0.5, 1)
    expect(maxErr(t.d.data, mat)).toBeLessThanOrEqual(0.1 * 2 ** -11);
    expect(t.a.shape).toEqual([6, 5]);
  });

  it('refuses an unknown dtype, scales outside the file and a truncated file with one message', () => {
    const { bin, entries } = packTensors({
      a: { shape: [6, 5], data: mat, dtype: 'int8' },
      b: { shape: [5], data: vec, dtype: 'float16' },
    });
    const bad =
      (patch: Partial<TensorEntry>, i = 0, file = bin): (() => unknown) =>
      () =>
        unpackTensors(
          file,
          entries.map((e, k) => (k === i ? { ...e, ...patch } : e)),
        );
    expect(bad({ dtype: 'bfloat16' as never })).toThrow(/tensor 'a' has unknown dtype 'bfloat16'/);
    expect(bad({ scaleOffset: bin.byteLength - 4 })).toThrow(/tensor 'a' does not fit the tensor file/);
    expect(bad({ scaleOffset: undefined })).toThrow(/tensor 'a' does not fit/);
    expect(bad({ offset: -2 }, 1)).toThrow(/tensor 'b' does not fit/);
    expect(bad({}, 1, bin.subarray(0, bin.byteLength - 3))).toThrow(UserError); // 2 bytes of padding, then b's last value
  });
});

describe('format version', () => {
  const draft = {
    kind: 'prior' as const,
    name: 'v',
    config: { kind: 'siren' as const, inDim: 2, outDim: 1, width: 4, depth: 2, omega: 30 },
    range: 'unit' as const,
    graphs: {},
    train: { lr: 1e-4, iters: 1, adam: ADAM_DEFAULTS, batch: 4, signals: 1, engine: 'test' },
  };
  const t = { shape: [2, 2], data: new Float32Array([0.5, -0.25, 1, 0]) };

  it('writes version 1 for float32 bundles (older readers read them), 2 for compact ones, 3 for a meta-learned prior; reads all', async () => {
    const f32 = await buildBundle(draft, { w: t }, {});
    const i8 = await buildBundle(draft, { w: { ...t, dtype: 'int8' } }, {});
    expect([f32.manifest.version, i8.manifest.version]).toEqual([1, 2]);
    expect(formatVersion([], { method: 'maml' })).toBe(3);
    expect(FORMAT_VERSION).toBe(3);
    for (const b of [f32, i8]) expect(parseManifest(JSON.stringify(b.manifest), 'b').version).toBe(b.manifest.version);
  });

  it('refuses a version-1 manifest that stores int8 tensors, and a version from the future, with one line', async () => {
    const i8 = await buildBundle(draft, { w: { ...t, dtype: 'int8' } }, {});
    expect(() => parseManifest(JSON.stringify({ ...i8.manifest, version: 1 }), 'b')).toThrow(
      /says format version 1 but stores float16\/int8 tensors, which need version 2/,
    );
    expect(() => parseManifest(JSON.stringify({ ...i8.manifest, version: 4 }), 'b')).toThrow(
      /bundle format version 4 is not supported \(this strainer reads versions 1 to 3\)/,
    );
    expect(() => parseManifest(JSON.stringify({ ...i8.manifest, version: 1.5 }), 'b')).toThrow(UserError);
  });
});
