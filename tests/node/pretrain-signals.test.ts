// `strainer pretrain` on WAV clips (issue 13): a tiny pretraining on 3 real speech clips writes an audio
// prior (inDim 1, the clips' rate, zero-padded to the longest training clip, SIREN's audio omega0 and
// targets, the held-out gain) that strainer/node's pretrain reproduces from the same settings (one path)
// and `strainer fit clip.wav --prior` fits from exactly as the gain was measured; --omega0 is recorded;
// the tfjs engine pretrains clips too and its model converts back to such a prior; a folder of clips at
// two sample rates, of mono and stereo clips, or of clips and images is one line, exit 2, nothing
// written. Needs the speech clips of scripts/fetch-data.sh (skipped with the reason otherwise).
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pretrain } from '../../src/node/api.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { encodeWav, parseWav } from '../../src/data/wav.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import { cachedDataset, missingDatasetMessage } from '../../src/node/datasets.ts';
import type { Manifest } from '../../src/export/bundle.ts';

const CLI = join(__dirname, '../../bin/strainer.js');
const run = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8' });
const speech = cachedDataset('speech');
if (speech === null) console.warn(`skipping clip pretraining tests: ${missingDatasetMessage('speech')}`);
const clip = (id: string): string => join(speech ?? '', 'digits', `${id}.wav`);
const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
const lastJson = (stdout: string): Record<string, unknown> =>
  JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
// Small enough to run in about a second: width 32, 3 layers, 30 steps of the 3 clips, a 10-step gain.
const TINY = [
  '--n',
  '3',
  '--test',
  '1',
  '--width',
  '32',
  '--depth',
  '3',
  '--iters',
  '30',
  '--gain-iters',
  '10',
  '--ep',
  'cpu',
  '--threads',
  '1',
];

/** A folder holding copies of the named digit clips (and any extra files). */
function folder(root: string, name: string, ids: string[], extra: Record<string, Uint8Array> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const id of ids) copyFileSync(clip(id), join(dir, `${id}.wav`));
  for (const [f, bytes] of Object.entries(extra)) writeFileSync(join(dir, f), bytes);
  return dir;
}

/** One line on stderr, exit 2, and neither the prior nor a checkpoint written. */
function refused(r: ReturnType<typeof run>, out: string, message: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^strainer: /);
  expect(r.stderr).toMatch(message);
  expect(existsSync(out), `${out} written`).toBe(false);
  expect(existsSync(`${out}.checkpoint`)).toBe(false);
}

describe.skipIf(speech === null)('strainer pretrain on WAV clips', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'strainer-pretrain-signals-'));
  let clips: string, prior: string, longest: number;
  beforeAll(() => {
    // digits/10 sorts after 2 in natural order, so it is the held-out clip.
    clips = folder(tmp, 'clips', ['0', '1', '2', '10']);
    longest = Math.max(...['0', '1', '2'].map((id) => parseWav(new Uint8Array(readFileSync(clip(id))), id).frames));
    prior = join(tmp, 'prior');
  });

  it('writes an audio prior: inDim 1, the rate, the padded length, omega0 3000, pm1, the held-out gain', async () => {
    const r = run(['pretrain', '--data', clips, ...TINY, '--out', prior, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const m = manifest(prior);
    expect(m.config).toEqual({ kind: 'siren', inDim: 1, outDim: 1, width: 32, depth: 3, omega: 30, omega0: 3000 });
    expect(m.range).toBe('pm1');
    expect(m.signal).toMatchObject({ dims: [longest], rate: 8000, channels: 1 });
    expect(m.train).toMatchObject({ batch: longest, signals: 3, iters: 30 });
    expect(m.data?.train).toEqual(['0', '1', '2']);
    expect(m.data?.test).toEqual(['10']);
    expect(m.data?.description).toMatch(new RegExp(`8000 Hz, mono.*zero-padded at the end to ${longest} samples`));
    // Natural name order: 10 after 2.
    expect(m.data?.files.map((f) => f.sha256)).toEqual(
      await Promise.all(['0', '1', '2', '10'].map((id) => sha256Hex(new Uint8Array(readFileSync(clip(id)))))),
    );
    const ev = m.eval as { iteration: number; images: string[]; gain_db: number; per_image: { strainer: number[] }[] };
    expect(ev).toMatchObject({ iteration: 10, images: ['10'] });
    expect(Number.isFinite(ev.gain_db)).toBe(true);
    expect(lastJson(r.stdout)).toMatchObject({ dims: [longest], rate: 8000, omega0: 3000, targets: 'pm1', n: 3 });
    expect(existsSync(`${prior}.checkpoint`), 'checkpoint left behind').toBe(false);
  }, 60_000);

  it('strainer/node pretrain with the same settings writes the same prior (the CLI is a call of it)', async () => {
    const out = join(tmp, 'library');
    const r = await pretrain(clips, {
      n: 3,
      test: 1,
      model: { width: 32, depth: 3 },
      iters: 30,
      gainIters: 10,
      backend: ortNodeBackend({ threads: 1 }),
      out,
    });
    const a = manifest(prior),
      b = manifest(out);
    for (const k of ['config', 'range', 'signal', 'data', 'eval'] as const) expect(b[k], k).toEqual(a[k]);
    expect(b.train.final_loss).toBe(a.train.final_loss); // one thread, same graphs: onnxruntime is deterministic
    expect(r.prior.rate).toBe(8000);
  }, 60_000);

  it('strainer fit clip.wav --prior fits from it on its time grid, as the held-out gain was measured', () => {
    const r = run([
      'fit',
      clip('10'),
      '--recipe',
      'paper',
      '--prior',
      prior,
      '--iters',
      '20',
      '--ep',
      'cpu',
      '--threads',
      '1',
      '--out',
      join(tmp, 'fit'),
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = lastJson(r.stdout) as { psnr: Record<string, number>; lattice: number[]; rate: number; prior: string };
    expect(j).toMatchObject({ lattice: [longest], rate: 8000, prior: 'prior' });
    const ev = manifest(prior).eval as { per_image: { at: number[]; strainer: number[] }[] };
    // Same seed, lr and lattice as the measurement: the same PSNR at iterations 0 and 10.
    expect(j.psnr['0']).toBeCloseTo(ev.per_image[0].strainer[0], 2);
    expect(j.psnr['10']).toBeCloseTo(ev.per_image[0].strainer[1], 2);
    expect(existsSync(join(tmp, 'fit', 'reconstruction.wav'))).toBe(true);
  }, 60_000);

  it('--omega0 sets the first layer and is recorded', () => {
    const out = join(tmp, 'omega0');
    const r = run([
      'pretrain',
      '--data',
      clips,
      ...TINY,
      '--iters',
      '3',
      '--gain-iters',
      '0',
      '--omega0',
      '1000',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(manifest(out).config).toMatchObject({ omega: 30, omega0: 1000 });
    expect(manifest(out).eval).toBeUndefined();
  }, 60_000);

  it('--engine tfjs pretrains clips with omega0, and its LayersModel converts to the same kind of prior', () => {
    const out = join(tmp, 'tfjs');
    const r = run([
      'pretrain',
      '--data',
      clips,
      ...TINY,
      '--width',
      '16',
      '--iters',
      '5',
      '--gain-iters',
      '0',
      '--engine',
      'tfjs',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(manifest(out).config).toMatchObject({ inDim: 1, omega0: 3000 });
    const topology = JSON.parse(readFileSync(join(out, 'tfjs', 'model.json'), 'utf8')).modelTopology;
    const layers = (topology.model_config ?? topology).config.layers as { name: string; config: { omega?: number } }[];
    expect(layers.filter((l) => l.name.startsWith('encoder_')).map((l) => l.config.omega)).toEqual([3000, 30]);
    const ex = run(['export', '--from-tfjs', join(out, 'tfjs'), '--out', join(tmp, 'tfjs-export')]);
    expect(ex.status, ex.stderr).toBe(0);
    const m = manifest(join(tmp, 'tfjs-export'));
    expect(m.config).toEqual(manifest(out).config);
    expect(m.signal).toMatchObject({ dims: [longest], rate: 8000 });
    expect(m.range).toBe('pm1');
  }, 60_000);

  it('a clip folder at two sample rates is one line, exit 2, nothing written', () => {
    const w = parseWav(new Uint8Array(readFileSync(clip('2'))), '2.wav');
    const dir = folder(tmp, 'rates', ['0', '1'], { 'fast.wav': encodeWav({ ...w, rate: 16000 }) });
    const out = join(tmp, 'rates-prior');
    refused(
      run(['pretrain', '--data', dir, ...TINY, '--n', '2', '--test', '0', '--out', out]),
      out,
      /more than one sample rate \(8000 Hz: 0\.wav, 1\.wav; 16000 Hz: fast\.wav\)/,
    );
  });

  it('mono and stereo clips are refused unless mixed down with --channels 1', () => {
    const w = parseWav(new Uint8Array(readFileSync(clip('2'))), '2.wav');
    const stereo = new Float32Array(w.frames * 2);
    w.samples.forEach((y, f) => {
      stereo[2 * f] = y;
      stereo[2 * f + 1] = -y;
    });
    const dir = folder(tmp, 'channels', ['0', '1'], {
      'st.wav': encodeWav({ rate: w.rate, channels: 2, samples: stereo }),
    });
    const out = join(tmp, 'channels-prior');
    const args = ['pretrain', '--data', dir, ...TINY, '--iters', '2', '--gain-iters', '0', '--test', '0', '--out', out];
    refused(run(args), out, /different channel counts .*pass --channels 1/);
    refused(run([...args, '--channels', '3']), out, /--channels 3 applies to images/);
    const r = run([...args, '--channels', '1']);
    expect(r.status, r.stderr).toBe(0);
    expect(manifest(out).config.outDim).toBe(1);
  }, 60_000);

  it('a folder of clips and images is one line, exit 2, nothing written', () => {
    const dir = folder(tmp, 'mixed', ['0', '1'], {
      'slice.png': new Uint8Array(readFileSync('tests/fixtures/slice-z073.png')),
    });
    const out = join(tmp, 'mixed-prior');
    refused(
      run(['pretrain', '--data', dir, ...TINY, '--n', '2', '--test', '0', '--out', out]),
      out,
      /both WAV clips \(2\) and images \(1\)/,
    );
  });

  it('a folder whose clips sit in subfolders says so', () => {
    mkdirSync(join(tmp, 'nested', 'digits'), { recursive: true });
    copyFileSync(clip('0'), join(tmp, 'nested', 'digits', '0.wav'));
    const out = join(tmp, 'nested-prior');
    refused(
      run(['pretrain', '--data', join(tmp, 'nested'), ...TINY, '--out', out]),
      out,
      /no PNG or JPEG images and no WAV clips \(subfolders are not read\)/,
    );
  });

  it('--resume with the tfjs engine is one line, exit 2', () => {
    const out = join(tmp, 'tfjs-resume');
    refused(
      run(['pretrain', '--data', clips, ...TINY, '--engine', 'tfjs', '--resume', '--out', out]),
      out,
      /need the onnxruntime engine/,
    );
  });
});
