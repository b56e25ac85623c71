// Compact priors in Node: `strainer quantize` writes float16 and int8 copies of a real (small) prior
// that load, stay within their rounding bounds, run their encoder graph from weights.bin and fit a
// held-out MRI slice like the float32 prior; bundles of the older layout (encoder weights baked into
// encoder.onnx) still load; the shipped priors hold their pretrained weights bit for bit, stored once,
// with int8 copies beside them; bad requests end in one line and exit code 2.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNifti } from '../../src/node/read.ts';
import { referenceSplit, mriSliceImage } from '../../src/data/mri.ts';
import type { Image } from '../../src/data/pixels.ts';
import { fit } from '../../src/train/fit.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { hostTensor } from '../../src/runtime/session.ts';
import { loadBundle, buildBundle } from '../../src/export/bundle.ts';
import { loadPrior, buildPriorBundle } from '../../src/export/prior.ts';
import { rebuildPrior, quantizePrior } from '../../src/export/quantize.ts';
import { graphEntry } from '../../src/export/fit-bundle.ts';
import { dirSource, writeBundleDir } from '../../src/node/fs.ts';
import { programToOnnx } from '../../src/onnx/write.ts';
import * as B from '../../src/graph/builder.ts';
import { encode, isEncoderParam, paramSpecs, type Params } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { ADAM_DEFAULTS } from '../../src/train/adam.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { sha256Hex } from '../../src/util/sha256.ts';

const CLI = join(__dirname, '../../bin/strainer.js');
const run = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'strainer-quantize-'));
const CONFIG: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 32, depth: 4, omega: 30 };
const RES = 32;
const ort = ortNodeBackend({ threads: 1 });

/** sha256 of each shipped prior's weights.bin as pretraining wrote it (before weights-once). */
const TRAINED_WEIGHTS: Record<string, string> = {
  'mri-178': '9ba8a807815d3869aed413bd31b687f08e0d0751119bc9613ea482b99bfbab6f',
  'mri-64': '64397deff1ac6d970723dec86c0b851c3f99fce0af9067760a7d3d12caa6ab96',
  'lfw-25': '7eec85b05e09a770a84c0f7b0b468dccbbe50b4164a0b89d6eac6207515f5e5b',
};
/** The float32 mri-178 bundle before weights-once: 2,136,650 bytes (every file and the manifest). */
const MRI178_BEFORE = 2_136_650;

let held: Image;
let encoder: Params;
const f32Dir = join(tmp, 'tiny');

beforeAll(async () => {
  const vol = loadNifti('data/ch2bet.nii.gz');
  const split = referenceSplit(vol);
  held = mriSliceImage(vol, split.test[0], RES);
  // A STRAINER-1-style prior: a SIREN fitted to one training slice, keeping its encoder.
  const r = await fit(mriSliceImage(vol, split.train[0], RES), {
    recipe: 'paper',
    model: CONFIG,
    iters: 200,
    lr: 1e-3,
    seed: 1,
    backend: ort,
  });
  encoder = Object.fromEntries(Object.entries(r.params).filter(([k]) => isEncoderParam(k)));
  writeBundleDir(
    f32Dir,
    await buildPriorBundle({
      name: 'tiny',
      config: CONFIG,
      range: 'unit',
      encoder,
      res: RES,
      lr: 1e-3,
      iters: 200,
      signals: 1,
      engine: 'test',
    }),
    false,
  );
}, 120_000);

describe('strainer quantize', () => {
  it('writes int8 and f16 priors that record their origin and stay within their rounding bounds', async () => {
    for (const to of ['int8', 'f16']) {
      const r = run(['quantize', f32Dir, '--to', to, '--out', join(tmp, `tiny-${to}`)]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`wrote prior 'tiny-${to}' \\((int8|float16)\\) to .*: \\d+ bytes, [\\d.]+ % of 'tiny'`),
      );
    }
    const f32 = await loadBundle(dirSource(f32Dir));
    const q8 = await loadPrior(dirSource(join(tmp, 'tiny-int8')));
    const q16 = await loadPrior(dirSource(join(tmp, 'tiny-f16')));
    for (const [q, dtype] of [
      [q8, 'int8'],
      [q16, 'float16'],
    ] as const) {
      expect(q.manifest.quantization).toMatchObject({
        dtype,
        from: { name: 'tiny', weights_sha256: f32.manifest.files['weights.bin'].sha256 },
      });
      expect(q.manifest.files['train_step.onnx'].sha256).toBe(f32.manifest.files['train_step.onnx'].sha256); // copied unchanged
      expect(q.manifest.eval).toBeUndefined(); // float32's measurements are not carried over
    }
    let worst8 = 0,
      worst16 = 0;
    for (const e of q8.manifest.tensors.entries) {
      const w = encoder[e.name],
        got = q8.encoder[e.name];
      if (e.shape.length === 1) {
        expect(e.dtype).toBeUndefined(); // biases stay float32
        expect(got).toEqual(w);
        continue;
      }
      expect(e.dtype).toBe('int8');
      const cols = e.shape[1];
      for (let j = 0; j < cols; j++) {
        let max = 0;
        for (let i = j; i < w.length; i += cols) max = Math.max(max, Math.abs(w[i]));
        for (let i = j; i < w.length; i += cols) {
          const err = Math.abs(w[i] - got[i]);
          worst8 = Math.max(worst8, err);
          expect(err).toBeLessThanOrEqual((max / 127 / 2) * (1 + 1e-6));
        }
      }
    }
    for (const e of q16.manifest.tensors.entries) {
      expect(e.dtype).toBe('float16');
      encoder[e.name].forEach((v, i) => {
        const err = Math.abs(v - q16.encoder[e.name][i]);
        worst16 = Math.max(worst16, err);
        expect(err).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25); // half an ulp (normal or subnormal)
      });
    }
    expect(worst8).toBeGreaterThan(0);
    expect(q8.manifest.quantization!.max_abs_error).toBeCloseTo(worst8, 6);
    expect(worst16).toBeLessThan(worst8);
    const size = (d: string): number => statSync(join(tmp, d, 'weights.bin')).size;
    // Width 32: 2208 weights, 8832 bytes as float32; int8 adds a 4-byte scale per column and keeps
    // biases float32 (2880 bytes, 33 %; at width 256 it is 26 %).
    expect(size('tiny-int8')).toBe(2880);
    expect(size('tiny-f16')).toBe(size('tiny') / 2);
  });

  it('the encoder graph takes its weights from weights.bin and runs in onnxruntime', async () => {
    const n = 300;
    const coords = gridCoords(20, 15);
    const features = async (dir: string): Promise<Float32Array> => {
      const b = await loadBundle(dirSource(dir));
      expect(b.manifest.graphs.encoder.inputs).toEqual([
        ...paramSpecs(CONFIG)
          .filter((s) => isEncoderParam(s.name))
          .map((s) => s.name),
        'coords',
      ]);
      expect(b.manifest.files['encoder.onnx'].bytes).toBeLessThan(4096); // no second copy of the weights
      const s = await ort.load(await b.graph('encoder'));
      const feeds = Object.fromEntries(Object.entries(b.tensors).map(([k, t]) => [k, s.upload(t)]));
      const y = await s.download((await s.run({ ...feeds, coords: s.upload(hostTensor([n, 2], coords)) })).features);
      await s.release();
      expect(y.shape).toEqual([n, CONFIG.width]);
      return y.data;
    };
    const a = await features(f32Dir),
      b8 = await features(join(tmp, 'tiny-int8')),
      b16 = await features(join(tmp, 'tiny-f16'));
    const maxDiff = (x: Float32Array, y: Float32Array): number =>
      x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    console.log(
      `encoder features, max |quantized - float32|: int8 ${maxDiff(a, b8).toFixed(4)}, float16 ${maxDiff(a, b16).toExponential(2)}`,
    );
    // Sine features lie in [-1, 1]; omega 30 amplifies weight errors layer by layer. Measured here:
    // int8 moves the worst of 9600 features by 0.17, float16 by 0.025.
    expect(maxDiff(a, b8)).toBeGreaterThan(0);
    expect(maxDiff(a, b8)).toBeLessThan(0.3);
    expect(maxDiff(a, b16)).toBeLessThan(0.05);
    expect(maxDiff(a, b16)).toBeLessThan(maxDiff(a, b8));
  });

  it('a quantized prior fits a held-out slice like the float32 prior (library and CLI)', async () => {
    const curve = async (dir: string): Promise<number[]> => {
      const p = await loadPrior(dirSource(dir));
      return (await fit(held, { prior: p, recipe: 'paper', iters: 40, lr: 1e-3, seed: 5, backend: ort })).psnr;
    };
    const f32 = await curve(f32Dir),
      q8 = await curve(join(tmp, 'tiny-int8')),
      q16 = await curve(join(tmp, 'tiny-f16'));
    const worst = (x: number[]): number => Math.max(...x.map((v, i) => Math.abs(v - f32[i])));
    console.log(
      `PSNR at it 0/39: float32 ${f32[0].toFixed(2)}/${f32[39].toFixed(2)}, int8 ${q8[0].toFixed(2)}/${q8[39].toFixed(2)}, f16 ${q16[0].toFixed(2)}/${q16[39].toFixed(2)}; max |diff| int8 ${worst(q8).toFixed(3)}, f16 ${worst(q16).toFixed(4)} dB`,
    );
    expect(q8[39]).toBeGreaterThan(q8[0] + 5);
    expect(worst(q8)).toBeLessThan(0.5);
    expect(worst(q16)).toBeLessThan(0.05);
    const r = run([
      'fit',
      'tests/fixtures/slice-z073.png',
      '--prior',
      join(tmp, 'tiny-int8'),
      '--recipe',
      'paper',
      '--iters',
      '20',
      '--res',
      '24',
      '--lr',
      '1e-3',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j.prior).toBe('tiny-int8');
    expect(j.psnr['10']).toBeGreaterThan(j.psnr['0']);
  }, 120_000);

  it('refuses a compact prior, a non-prior, an unknown dtype and a missing bundle with one line, writing nothing', async () => {
    const fitDir = join(tmp, 'a-fit');
    writeBundleDir(
      fitDir,
      await buildBundle(
        {
          kind: 'fit',
          name: 'a-fit',
          config: CONFIG,
          range: 'unit',
          graphs: {},
          train: { lr: 1e-3, iters: 1, adam: ADAM_DEFAULTS, batch: 4, signals: 1 },
        },
        { 'decoder.bias': { shape: [1], data: Float32Array.of(0.5) } },
        {},
      ),
      false,
    );
    const cases: [string[], RegExp][] = [
      [
        ['quantize', join(tmp, 'tiny-int8'), '--to', 'f16', '--out', join(tmp, 'x1')],
        /prior 'tiny-int8' is already stored as int8; quantize its float32 bundle instead/,
      ],
      [
        ['quantize', fitDir, '--to', 'int8', '--out', join(tmp, 'x2')],
        /bundle 'a-fit' is a 'fit'; only priors can be quantized/,
      ],
      [['quantize', f32Dir, '--to', 'int4', '--out', join(tmp, 'x3')], /--to must be one of f16, int8, got 'int4'/],
      [['quantize', join(tmp, 'nope'), '--to', 'int8', '--out', join(tmp, 'x4')], /cannot read manifest\.json/],
      [
        ['quantize', f32Dir, '--to', 'int8', '--out', join(tmp, 'tiny-int8')],
        /already exists and is not empty \(pass --force/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    for (const d of ['x1', 'x2', 'x3', 'x4']) expect(existsSync(join(tmp, d))).toBe(false);
  });
});

describe('older bundles', () => {
  it('a prior whose encoder.onnx bakes its weights in (the layout before weights-once) loads and quantizes', async () => {
    const coords = B.input('coords', ['n', 2]);
    const baked = Object.fromEntries(
      Object.entries(encoder).map(([k, v]) => [
        k,
        B.constant(v, paramSpecs(CONFIG).find((s) => s.name === k)!.shape, k),
      ]),
    );
    const prog = {
      name: 'encoder',
      inputs: [coords],
      outputs: { features: encode(CONFIG, baked, coords) },
      doc: 'old layout',
    };
    const g = graphEntry('encoder.onnx', prog, programToOnnx(prog));
    const tensors = Object.fromEntries(
      paramSpecs(CONFIG)
        .filter((s) => isEncoderParam(s.name))
        .map((s) => [s.name, { shape: s.shape, data: encoder[s.name] }]),
    );
    const old = await buildBundle(
      {
        kind: 'prior',
        name: 'old',
        config: CONFIG,
        range: 'unit',
        graphs: { encoder: g.entry },
        train: { lr: 1e-3, iters: 200, adam: ADAM_DEFAULTS, batch: RES * RES, signals: 1 },
      },
      tensors,
      { 'encoder.onnx': g.bytes },
    );
    const dir = join(tmp, 'old');
    writeBundleDir(dir, old, false);
    expect(old.manifest.tensors.entries.every((e) => !('dtype' in e))).toBe(true);
    const p = await loadPrior(dirSource(dir));
    for (const [k, v] of Object.entries(encoder)) expect(p.encoder[k]).toEqual(v);
    const q = await quantizePrior(await loadBundle(dirSource(dir)), 'int8');
    expect(q.manifest.graphs.encoder.inputs).toContain('encoder.0.weight');
    expect(q.files['encoder.onnx'].byteLength).toBeLessThan(g.bytes.byteLength / 4);
  });
});

describe('shipped priors', () => {
  for (const name of Object.keys(TRAINED_WEIGHTS)) {
    it(`${name}: pretrained weights bit for bit, stored once; ${name}-int8 beside it`, async () => {
      const dir = join('models', name);
      expect(await sha256Hex(new Uint8Array(readFileSync(join(dir, 'weights.bin'))))).toBe(TRAINED_WEIGHTS[name]);
      const b = await loadBundle(dirSource(dir));
      expect(b.manifest.graphs.encoder.inputs).toContain('encoder.0.weight');
      expect(b.manifest.files['encoder.onnx'].bytes).toBeLessThan(4096);
      // scripts/rebuild-priors.ts is idempotent: rebuilding gives back every file byte for byte.
      const again = await rebuildPrior(b);
      for (const [f, e] of Object.entries(b.manifest.files)) expect(again.manifest.files[f], f).toEqual(e);
      expect(again.manifest).toEqual(b.manifest);
      const q = await loadPrior(dirSource(`${dir}-int8`));
      expect(q.name).toBe(`${name}-int8`);
      expect(q.manifest.quantization).toMatchObject({
        dtype: 'int8',
        from: { name, weights_sha256: TRAINED_WEIGHTS[name] },
      });
      expect(q.manifest.files['train_step.onnx'].sha256).toBe(b.manifest.files['train_step.onnx'].sha256);
      expect(q.config).toEqual(b.manifest.config);
      // The whole folder as shipped (manifest.sig included once signed): the goal, same architecture for all three.
      const total = readdirSync(`${dir}-int8`).reduce((a, f) => a + statSync(join(`${dir}-int8`, f)).size, 0);
      expect(total).toBeLessThanOrEqual(0.15 * MRI178_BEFORE);
    });
  }
});
