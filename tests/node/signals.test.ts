// Signals of dimension 1 and 3 on onnxruntime-node: 1-D and 3-D train steps equal the reference
// interpreter; a fit of a real speech clip beats silence; a fit of a small real sub-volume (ch2bet)
// beats its mean, also in random coordinate batches; priors refuse signals of another dimension,
// channel count or sample rate in one line; `strainer fit` on a clip and a volume writes what it says,
// `strainer render` renders both at another resolution; and bad WAV and volume files end in one line,
// exit code 2, nothing written. Clip tests need scripts/fetch-data.sh (skipped with a reason otherwise).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programToOnnx } from '../../src/onnx/write.ts';
import { trainStepProgram, stateKeys, stateNames } from '../../src/train/programs.ts';
import { initialState } from '../../src/train/trainer.ts';
import { initParams } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { referenceBackend } from '../../src/runtime/reference.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { hostTensor, type HostTensor } from '../../src/runtime/session.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { planFit } from '../../src/train/plan.ts';
import { rng } from '../../src/util/random.ts';
import { psnrBetween } from '../../src/util/stats.ts';
import { UserError } from '../../src/util/errors.ts';
import { fit, loadPrior, pretrain, readImage, saveFit } from '../../src/node/api.ts';
import { readAudio, readVolume } from '../../src/node/signals.ts';
import { makeSignal, type Signal } from '../../src/data/signal.ts';
import { encodeWav, parseWav, snrDb, wavSignal } from '../../src/data/wav.ts';
import { encodeNifti } from '../../src/data/volume.ts';
import { parseNifti } from '../../src/data/nifti.ts';
import { cachedDataset, missingDatasetMessage } from '../../src/node/datasets.ts';
import { outputsOn, maxRelDiff } from './outputs.ts';

const CLI = join(__dirname, '../../bin/strainer.js');
const run = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'strainer-signals-'));
const speech = cachedDataset('speech');
if (speech === null) console.warn(`skipping clip tests: ${missingDatasetMessage('speech')}`);
const clipA = speech ? join(speech, 'letters', 'a.wav') : '';
const clipE = speech ? join(speech, 'letters', 'e.wav') : '';
const VOLUME = 'data/ch2bet.nii.gz';

/** mean-value signal: the trivial baseline of a fit. */
function constantPsnr(s: Signal, v: number): number {
  return psnrBetween(new Float32Array(s.data.length).fill(v), s.data);
}

describe('1-D and 3-D train steps: onnxruntime-node equals the reference interpreter', () => {
  // omega_0 300, not the audio default 3000: at 3000 the first layer's arguments reach thousands of
  // radians, where float32's spacing (~2e-4 rad) alone moves the first layer's Adam moments by ~2 %
  // against float64 (measured) — conditioning, not a difference between the two runtimes' graphs.
  const cases: { c: InrConfig; dims: number[] }[] = [
    { c: { kind: 'siren', inDim: 1, outDim: 2, width: 16, depth: 4, omega: 30, omega0: 300 }, dims: [30] },
    { c: { kind: 'siren', inDim: 3, outDim: 1, width: 16, depth: 4, omega: 30 }, dims: [3, 4, 5] },
  ];
  for (const { c, dims } of cases) {
    it(`inDim ${c.inDim}${c.omega0 ? ` (first-layer omega_0 ${c.omega0})` : ''}, ${dims.join('x')} grid`, async () => {
      const rows = dims.reduce((a, b) => a * b, 1);
      const model = programToOnnx(trainStepProgram({ config: c, batch: rows }));
      const st = initialState(c, initParams(c, 3));
      st.step = hostTensor([], new Float32Array([4]));
      const r = rng(9);
      for (const k of Object.keys(st))
        if (k.startsWith('adam_'))
          st[k].data.forEach((_, i, a) => {
            a[i] = k.startsWith('adam_v') ? r.uniform(0, 1e-4) : r.uniform(-1e-2, 1e-2);
          });
      const feeds: Record<string, HostTensor> = {
        ...st,
        lr: hostTensor([], new Float32Array([1e-3])),
        coords: hostTensor([rows, c.inDim], gridCoords(...dims)),
        targets: hostTensor(
          [rows, c.outDim],
          Float32Array.from({ length: rows * c.outDim }, () => r.next()),
        ),
      };
      const [ref, ort] = await outputsOn([referenceBackend, ortNodeBackend({ threads: 1 })], model, feeds);
      expect(ort.loss[0]).toBeGreaterThan(0);
      for (const k of ['loss', 'mse', ...stateKeys(c).map(stateNames.next)]) {
        const { max, first } = maxRelDiff(ort[k], ref[k]);
        expect(max, `${k}: max rel diff ${max}; first mismatch ${first}`).toBeLessThan(2e-3);
      }
      expect(maxRelDiff(ort['next.encoder.0.weight'], st['encoder.0.weight'].data).max).toBeGreaterThan(0);
    });
  }
});

describe('fitting real clips and volumes', () => {
  it.skipIf(speech === null)('a fit of a real speech clip beats silence and its mean by far', async () => {
    const a = readAudio(clipA);
    const r = await fit(a.signal, {
      recipe: 'paper',
      iters: 120,
      lr: 1e-3,
      model: { width: 64, depth: 4 },
      rate: a.rate,
      threads: 1,
    });
    expect(r.plan.config).toMatchObject({ inDim: 1, omega0: 3000, omega: 30 });
    expect(r.plan.range).toBe('pm1');
    expect(r.output.dims).toEqual(a.signal.dims);
    const silence = constantPsnr(a.signal, 0.5);
    const mean = constantPsnr(a.signal, a.signal.data.reduce((x, y) => x + y, 0) / a.signal.data.length);
    expect(r.finalPsnr, `fit ${r.finalPsnr} dB, silence ${silence}, mean ${mean}`).toBeGreaterThan(
      Math.max(silence, mean) + 6,
    );
    expect(snrDb(r.output.data, a.signal.data)).toBeGreaterThan(6);
  });

  it.skipIf(speech === null)(
    "a clip fit's bundle records the trainer's true last loss (targets in [-1, 1], not a PSNR's [0, 1] MSE)",
    async () => {
      const a = readAudio(clipA);
      const clip = makeSignal([600], 1, a.signal.data.slice(2000, 2600));
      const o = { recipe: 'paper' as const, lr: 1e-3, model: { width: 16, depth: 3 }, rate: a.rate, threads: 1 };
      const r = await fit(clip, { ...o, iters: 6 });
      const dir = join(tmp, 'clip-loss');
      const m = (await saveFit(r, dir)).manifest;
      expect(m.train.final_loss).toBe(r.loss[5]);
      expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).train.final_loss).toBe(r.loss[5]);
      // Independently: the loss before update 6 is the MSE, in [-1, 1], of the model after 5 updates.
      const before = await fit(clip, { ...o, iters: 5 });
      let se = 0;
      for (let i = 0; i < clip.data.length; i++) se += (2 * before.output.data[i] - 2 * clip.data[i]) ** 2;
      const mse = se / clip.data.length;
      expect(Math.abs(mse - r.finalLoss) / mse, `rendered MSE ${mse}, trainer ${r.finalLoss}`).toBeLessThan(1e-3);
      // The old rule, 10^(-PSNR/10), is the [0, 1] MSE: a quarter of it.
      expect(10 ** (-r.psnr[5] / 10) / r.finalLoss).toBeCloseTo(0.25, 3);
    },
  );

  it('a fit of a small real sub-volume beats its mean, with the whole grid and in random batches', async () => {
    const v = readVolume(VOLUME, { res: 12 });
    expect(v.signal.dims).toEqual([12, 12, 12]);
    expect(v.stored).toEqual([181, 217, 181]);
    const mean = constantPsnr(v.signal, v.signal.data.reduce((x, y) => x + y, 0) / v.signal.data.length);
    const full = await fit(v.signal, {
      recipe: 'paper',
      iters: 100,
      lr: 1e-3,
      model: { width: 64, depth: 4 },
      threads: 1,
    });
    expect(full.plan.config.inDim).toBe(3);
    expect(full.plan.batch).toBeUndefined();
    expect(full.finalPsnr, `fit ${full.finalPsnr} dB, mean ${mean}`).toBeGreaterThan(mean + 8);
    const batched = await fit(v.signal, {
      iters: 100,
      lr: 1e-3,
      model: { width: 64, depth: 4 },
      batch: 512,
      threads: 1,
    });
    expect(batched.plan.batch).toBe(512);
    expect(batched.finalPsnr).toBeGreaterThan(mean + 6);
  });

  it('planFit batches a grid larger than one step and keeps smaller grids whole', () => {
    expect(planFit({ dims: [64, 64, 64], channels: 1 }, {}).batch).toBe(65536);
    expect(planFit({ dims: [40, 40, 40], channels: 1 }, {}).batch).toBeUndefined();
    expect(planFit({ dims: [178, 178], channels: 1 }, {}).batch).toBeUndefined();
    expect(planFit({ dims: [64, 64, 64], channels: 1 }, { batch: 1000 }).batch).toBe(1000);
  });
});

describe('priors refuse signals of another dimension, channel count or rate', () => {
  it('the shipped 2-D prior refuses a clip and a volume, in one line', async () => {
    const prior = await loadPrior('mri-64');
    expect(() => planFit({ dims: [4000], channels: 1 }, { prior })).toThrow(
      /prior 'mri-64' was trained on 2-D signals \(images\); it cannot start a 1-D signal \(a clip\)/,
    );
    await expect(fit(makeSignal([6, 6, 6], 1), { prior, iters: 1 })).rejects.toThrow(
      /trained on 2-D signals \(images\); it cannot start a 3-D signal \(a volume\)/,
    );
    // An image of another channel count is still started (the decoder is fresh).
    expect(planFit({ dims: [8, 8], channels: 3 }, { prior }).config.outDim).toBe(3);
  });

  it.skipIf(speech === null)(
    'an audio prior keeps its clip length and rate, and refuses images, stereo clips and other rates',
    async () => {
      const a = readAudio(clipA),
        e = readAudio(clipE);
      const short = makeSignal([900], 1, a.signal.data.slice(2000, 2900)),
        long = makeSignal([1200], 1, e.signal.data.slice(1500, 2700));
      const p = await pretrain([short, long], {
        iters: 20,
        lr: 1e-3,
        model: { width: 16, depth: 3 },
        rate: 8000,
        gainIters: 0,
        threads: 1,
      });
      expect(p.prior.config).toMatchObject({ inDim: 1, omega0: 3000 });
      expect(p.prior.dims).toEqual([1200]);
      expect(p.prior.rate).toBe(8000);
      expect(p.bundle.manifest.signal).toMatchObject({ dims: [1200], rate: 8000 });
      const held = makeSignal([700], 1, a.signal.data.slice(3000, 3700));
      const r = await fit(held, { prior: p.prior, iters: 3, rate: 8000, threads: 1 });
      expect(r.plan.lattice).toEqual([1200]);
      const refuse = async (s: Signal, rate: number | undefined, msg: RegExp): Promise<void> => {
        const err = await fit(s, { prior: p.prior, iters: 1, ...(rate ? { rate } : {}) }).catch((x: unknown) => x);
        expect(err).toBeInstanceOf(UserError);
        expect((err as Error).message).toMatch(msg);
        expect((err as Error).message).not.toContain('\n');
      };
      await refuse(
        readImage('tests/fixtures/slice-z073.png', { res: 16 }) as unknown as Signal,
        undefined,
        /trained on 1-D signals \(clips\); it cannot start a 2-D signal \(an image\)/,
      );
      await refuse(
        makeSignal([700], 2),
        8000,
        /trained on 1-channel signals; the signal, a 1-D signal \(a clip\), has 2/,
      );
      await refuse(held, 16000, /trained on clips sampled at 8000 Hz; this clip is 16000 Hz/);
    },
  );
});

describe('strainer fit and render on clips and volumes', () => {
  it.skipIf(speech === null)(
    'fits a clip: reconstruction.wav, curves, waveform plots, PSNR and SNR; renders it at another rate',
    () => {
      const out = join(tmp, 'clip');
      const r = run([
        'fit',
        clipA,
        '--recipe',
        'paper',
        '--iters',
        '30',
        '--width',
        '32',
        '--depth',
        '3',
        '--lr',
        '1e-3',
        '--threads',
        '1',
        '--out',
        out,
        '--json',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(j).toMatchObject({ kind: 'audio', rate: 8000, channels: 1, iters: 30, omega0: 3000, batch_mode: 'full' });
      expect(j.snr_db).toBeGreaterThan(0);
      for (const f of [
        'reconstruction.wav',
        'waveform.svg',
        'waveform.png',
        'psnr.csv',
        'psnr.svg',
        'inference.onnx',
        'manifest.json',
      ])
        expect(existsSync(join(out, f)), f).toBe(true);
      const a = parseWav(new Uint8Array(readFileSync(clipA)), clipA),
        b = parseWav(new Uint8Array(readFileSync(join(out, 'reconstruction.wav'))), 'r.wav');
      expect([b.rate, b.frames, b.encoding]).toEqual([a.rate, a.frames, 'pcm16']);
      expect(snrDb(wavSignal(b).data, wavSignal(a).data)).toBeCloseTo(j.snr_db, 1);
      expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).signal).toMatchObject({
        dims: [a.frames],
        rate: 8000,
        height: 1,
        width: a.frames,
      });
      const wav = join(tmp, 'clip16k.wav');
      const rr = run(['render', out, '--rate', '16000', '--out', wav]);
      expect(rr.status, rr.stderr).toBe(0);
      const up = parseWav(new Uint8Array(readFileSync(wav)), wav);
      expect([up.rate, up.frames]).toEqual([16000, 2 * a.frames - 1]);
      // Every second sample of the 16 kHz rendering is the fitted clip itself.
      const even = wavSignal({ ...up, frames: a.frames, samples: up.samples.filter((_, i) => i % 2 === 0) });
      expect(psnrBetween(even.data, wavSignal(b).data)).toBeGreaterThan(80);
    },
  );

  it('fits a volume at --res in random batches: NIfTI and middle slices; renders a plane and the whole volume', () => {
    const out = join(tmp, 'vol');
    const r = run([
      'fit',
      VOLUME,
      '--res',
      '12',
      '--batch',
      '500',
      '--iters',
      '20',
      '--width',
      '32',
      '--depth',
      '3',
      '--lr',
      '1e-3',
      '--threads',
      '1',
      '--out',
      out,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j).toMatchObject({
      kind: 'volume',
      dims: [12, 12, 12],
      stored_dims: [181, 217, 181],
      batch: 500,
      batch_mode: 'random',
    });
    const back = parseNifti(new Uint8Array(readFileSync(join(out, 'reconstruction.nii.gz'))), 'r.nii.gz');
    expect(back.dims).toEqual([12, 12, 12]);
    // Voxel size: the cube spans the volume's longest physical extent, 217 mm (1 mm voxels), at every resolution.
    for (const x of back.voxel ?? []) expect(x).toBeCloseTo(217 / 12, 4);
    expect(existsSync(join(out, 'slices.png'))).toBe(true);
    expect(run(['render', out, '--res', '20', '--out', join(tmp, 'v20.nii.gz')]).status).toBe(0);
    const v20 = parseNifti(new Uint8Array(readFileSync(join(tmp, 'v20.nii.gz'))), 'v20');
    expect(v20.dims).toEqual([20, 20, 20]);
    expect(v20.voxel?.length).toBe(3);
    for (const x of v20.voxel ?? []) expect(x).toBeCloseTo(217 / 20, 4);
    const plane = run(['render', out, '--res', '40', '--slice', 'y:0.25', '--out', join(tmp, 'plane.png')]);
    expect(plane.status, plane.stderr).toBe(0);
    expect(run(['render', out, '--res', '20', '--out', join(tmp, 'v.png')]).stderr).toMatch(
      /must end in \.nii or \.nii\.gz/,
    );
  });
});

describe('bad clip and volume files: one line, exit code 2, nothing written', () => {
  const good = encodeWav({
    rate: 8000,
    channels: 1,
    samples: Float32Array.from({ length: 400 }, (_, i) => Math.sin(i / 5) / 2),
  });
  const bad = (f: (v: DataView) => void, b = good.slice()): Uint8Array => {
    f(new DataView(b.buffer));
    return b;
  };
  const real = speech ? new Uint8Array(readFileSync(clipA)) : good;
  const vol = encodeNifti(
    makeSignal(
      [4, 5, 6],
      1,
      Float32Array.from({ length: 120 }, (_, i) => i / 119),
    ),
  );
  const cases: [string, string, Uint8Array, RegExp][] = [
    ['truncated WAV', 'cut.wav', real.slice(0, real.length - 101), /truncated WAV file/],
    [
      'WAV that is not PCM or float (mu-law)',
      'ulaw.wav',
      bad((v) => v.setUint16(20, 7, true)),
      /format code 7 is not supported/,
    ],
    ['zero-length WAV', 'empty.wav', new Uint8Array(0), /empty file/],
    [
      'WAV with an absurd header (4 GB data chunk)',
      'huge.wav',
      bad((v) => v.setUint32(40, 0xfffffff0, true)),
      /truncated WAV file \(data chunk claims/,
    ],
    ['WAV with an absurd header (9 channels)', 'ch.wav', bad((v) => v.setUint16(22, 9, true)), /claims 9 channels/],
    [
      'NIfTI whose header claims more voxels than it holds',
      'lie.nii',
      bad((v) => v.setInt16(42, 60, true), vol.slice()),
      /truncated voxel data/,
    ],
    [
      '.npy whose header claims more elements than it holds',
      'lie.npy',
      (() => {
        const h = "{'descr': '<f4', 'fortran_order': False, 'shape': (40, 40, 40), }";
        const text = h + ' '.repeat(128 - 10 - h.length - 1) + '\n';
        const b = new Uint8Array(128 + 64);
        b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0]);
        b.set(new TextEncoder().encode(text), 10);
        return b;
      })(),
      /truncated \.npy data/,
    ],
  ];
  for (const [what, name, bytes, msg] of cases) {
    it(what, () => {
      const file = join(tmp, name),
        out = join(tmp, `out-${name}`);
      writeFileSync(file, bytes);
      const r = run(['fit', file, '--iters', '1', '--out', out]);
      expect(r.status, r.stderr).toBe(2);
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('strainer: note'));
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^strainer: /);
      expect(lines[0]).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    });
  }
});
