// Meta-learned priors end to end (issue 20): strainer/node's pretrain({ method: 'maml' }) on 32x32 MRI
// slices (width 64, 300 outer steps) gives an init that fit() with 2 inner SGD steps takes far above a
// random SIREN on the held-out slices; meta-training stopped and resumed from its checkpoint ends with
// the same weights as an uninterrupted run; the prior round-trips through its bundle (decoder, method,
// meta, format version 3), signs and verifies with a test key, quantizes (decoder kept float32) and fits
// from every form; an SGD fit's bundle renders and keeps training; `strainer info` says what the prior
// is; `strainer eval --meta-prior` adds both meta rows; bad input is one line, exit 2, nothing written.
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { pretrain, fit, loadPrior } from '../../src/node/api.ts';
import { metaBatchOf, metaPretrain } from '../../src/pipeline/meta.ts';
import type { CheckpointStore, NamedSignal } from '../../src/pipeline/pretrain.ts';
import type { CheckpointMeta } from '../../src/export/checkpoint.ts';
import { loadBundle, parseManifest, type Manifest } from '../../src/export/bundle.ts';
import { dirSource } from '../../src/node/fs.ts';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { hostTensor } from '../../src/runtime/session.ts';
import { initParams, paramSpecs } from '../../src/model/inr.ts';
import type { State } from '../../src/train/trainer.ts';
import { loadNifti } from '../../src/node/read.ts';
import { referenceSplit, mriSliceImage } from '../../src/data/mri.ts';
import { gridCoords } from '../../src/train/grid.ts';

const tmp = mkdtempSync(join(tmpdir(), 'strainer-meta-'));
const slice = 'tests/fixtures/slice-z073.png';
const ort = ortNodeBackend({ threads: 1 });

/** Runs the CLI in this process, capturing what it writes. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [],
    err: string[] = [];
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const [ow, ew] = [process.stdout.write, process.stderr.write];
  process.stdout.write = (s: string | Uint8Array) => (out.push(String(s)), true);
  process.stderr.write = (s: string | Uint8Array) => (err.push(String(s)), true);
  try {
    const code = await main(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    // eslint-disable-next-line @typescript-eslint/unbound-method
    [process.stdout.write, process.stderr.write] = [ow, ew];
  }
}

/** One `strainer: ...` line matching `msg`, exit 2, and `out` not written. */
function refusal(r: { code: number; err: string }, msg: RegExp, out?: string): void {
  expect(r.code, r.err).toBe(2);
  const lines = r.err.trim().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^strainer: /);
  expect(lines[0]).toMatch(msg);
  if (out) expect(existsSync(out) && readdirSync(out).length > 0, out).toBe(false);
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
const MODEL = { width: 64, depth: 4 };
const maml = join(tmp, 'maml');

describe('a MAML prior through pretrain and fit', () => {
  beforeAll(async () => {
    // Outer Adam lr 1e-4, not Learnit's 1e-5: Learnit trains for 150K outer steps, this check for 300.
    await pretrain('data/ch2bet.nii.gz', {
      method: 'maml',
      res: 32,
      model: MODEL,
      iters: 300,
      outerLr: 1e-4,
      gainIters: 10,
      out: maml,
      backend: ort,
    });
  }, 300_000);

  it('after 2 inner SGD steps the meta-init beats a random init by >10 dB on every held-out slice', async () => {
    const m = manifest(maml);
    expect(m).toMatchObject({
      kind: 'prior',
      version: 3,
      method: 'maml',
      meta: { inner_steps: 2, inner_lr: 0.01, inner_optimizer: 'sgd', meta_batch: 3, outer_lr: 1e-4, outer_steps: 300 },
      train: { iters: 300, lr: 1e-4, signals: 10, batch: 1024 },
    });
    const inner = (m.eval as { inner: { meta_psnr: number; siren_psnr: number } }).inner;
    expect(inner.meta_psnr).toBeGreaterThan(inner.siren_psnr + 10);
    const vol = loadNifti('data/ch2bet.nii.gz');
    const prior = await loadPrior(maml, { onNote: () => {} });
    const lines: string[] = [];
    for (const z of referenceSplit(vol).test) {
      const img = mriSliceImage(vol, z, 32);
      const sgd = { iters: 2, lr: 1e-2, optimizer: 'sgd' as const, backend: ort };
      const a = (await fit(img, { ...sgd, prior })).finalPsnr;
      const b = (await fit(img, { ...sgd, model: MODEL })).finalPsnr;
      lines.push(`z${z}: meta ${a.toFixed(2)} dB, random ${b.toFixed(2)} dB`);
      expect(a).toBeGreaterThan(b + 10);
    }
    console.log(`after 2 inner SGD steps on held-out slices:\n  ${lines.join('\n  ')}`);
  });

  it('round-trips through its bundle; info says what it is; fits start from its decoder', async () => {
    const p = await loadPrior(maml, { onNote: () => {} });
    const b = await loadBundle(dirSource(maml));
    expect(p.method).toBe('maml');
    expect(p.meta).toEqual({
      innerSteps: 2,
      innerLr: 0.01,
      innerOptimizer: 'sgd',
      metaBatch: 3,
      outerLr: 1e-4,
      outerSteps: 300,
    });
    expect(Object.keys(p.decoder!).sort()).toEqual(['decoder.bias', 'decoder.weight']);
    expect(p.decoder!['decoder.weight']).toEqual(b.tensors['decoder.weight'].data);
    // A fit starts the whole network from the prior: encoder and decoder.
    const img = mriSliceImage(loadNifti('data/ch2bet.nii.gz'), 73, 32);
    const r = await fit(img, { prior: p, iters: 1, backend: ort });
    for (const s of paramSpecs(p.config))
      expect(r.plan.init?.[s.name], s.name).toBe(p.encoder[s.name] ?? p.decoder![s.name]);
    const info = await cli('info', maml);
    expect(info.out).toMatch(
      /^prior +MAML meta-learned init \(encoder and decoder\): 300 outer steps of Adam lr 0\.0001, meta batch 3 of 10 signals, 2 inner SGD step\(s\) of lr 0\.01/m,
    );
    expect(info.out).toMatch(/^inner +[\d.]+ dB after 2 SGD step\(s\) of lr 0\.01 from this init/m);
    expect(JSON.parse((await cli('info', maml, '--json')).out)).toMatchObject({ method: 'maml', format_version: 3 });
    expect((await cli('info', 'models/mri-64')).out).toMatch(/^prior +STRAINER-10: a shared encoder/m);
    // A manifest that claims a method below version 3 is corrupt (a 0.2 reader refuses version 3 by number).
    const text = readFileSync(join(maml, 'manifest.json'), 'utf8');
    expect(() => parseManifest(text.replace('"version": 3', '"version": 2'), 'x')).toThrow(/needs version 3/);
    expect(() => parseManifest(text.replace('"method": "maml"', '"method": "nope"'), 'x')).toThrow(/method 'nope'/);
  });

  it('signs and verifies with a test key; quantizes to int8 with the decoder kept float32', async () => {
    const key = join(tmp, 'key');
    expect((await cli('keygen', '--out', key)).code).toBe(0);
    const signed = join(tmp, 'signed');
    expect((await cli('quantize', maml, '--to', 'f16', '--out', join(tmp, 'f16'))).code).toBe(0);
    // Sign a copy (quantize to int8 first: signing rewrites the manifest's release).
    const q = await cli('quantize', maml, '--to', 'int8', '--out', signed);
    expect(q.code, q.err).toBe(0);
    expect((await cli('sign', signed, '--key', `${key}.pem`, '--release', '1')).code).toBe(0);
    const v = await cli('verify', signed, '--public-key', `${key}.pub`, '--json');
    expect(v.code, v.err).toBe(0);
    const p = await loadPrior(signed, { publicKey: readFileSync(`${key}.pub`, 'utf8') });
    expect(p.signature.state).toBe('verified');
    const f32 = await loadPrior(maml, { onNote: () => {} });
    expect(p.method).toBe('maml');
    expect(p.meta).toEqual(f32.meta);
    expect(p.decoder!['decoder.weight']).toEqual(f32.decoder!['decoder.weight']);
    const m = manifest(signed);
    expect(m.version).toBe(3);
    const dtypes = Object.fromEntries(m.tensors.entries.map((e) => [e.name, e.dtype ?? 'float32']));
    expect(dtypes).toMatchObject({
      'encoder.0.weight': 'int8',
      'decoder.weight': 'float32',
      'decoder.bias': 'float32',
    });
    for (const dir of [signed, join(tmp, 'f16')]) {
      const r = await cli(
        'fit',
        slice,
        '--prior',
        dir,
        '--res',
        '32',
        '--optimizer',
        'sgd',
        '--lr',
        '1e-2',
        '--iters',
        '2',
        '--json',
      );
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out.trim().split('\n').pop()!).final_psnr).toBeGreaterThan(20);
    }
  });

  it('an SGD fit: --optimizer recorded, the bundle renders and its train step keeps training with SGD', async () => {
    const out = join(tmp, 'sgd-fit');
    const r = await cli(
      'fit',
      slice,
      '--prior',
      maml,
      '--res',
      '32',
      '--optimizer',
      'sgd',
      '--lr',
      '1e-2',
      '--iters',
      '2',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').pop()!)).toMatchObject({ optimizer: 'sgd', iters: 2 });
    const m = manifest(out);
    expect(m).toMatchObject({ kind: 'fit', version: 1, train: { optimizer: 'sgd', lr: 0.01 } });
    const rr = await cli('render', out, '--res', '32', '--out', join(tmp, 'render.png'));
    expect(rr.code, rr.err).toBe(0);
    const b = await loadBundle(dirSource(out));
    const s = await ort.load(await b.graph('train_step'));
    const feeds = Object.fromEntries(
      [
        ...Object.entries(b.tensors),
        ['lr', hostTensor([], new Float32Array([1e-2]))],
        ['coords', hostTensor([1024, 2], gridCoords(32, 32))],
        ['targets', hostTensor([1024, 1], mriSliceImage(loadNifti('data/ch2bet.nii.gz'), 73, 32).data)],
      ].map(([k, v]) => [k, s.upload(v as State[string])]),
    );
    const y = await s.run(feeds);
    const next = await s.download(y['next.step']);
    expect(next.data[0]).toBe(3);
    // Plain SGD: Adam's moments pass through untouched.
    expect((await s.download(y['next.adam_m.decoder.weight'])).data).toEqual(b.tensors['adam_m.decoder.weight'].data);
    await s.release();
  });

  it('strainer eval --meta-prior adds the meta rows under both protocols, with iteration 2', async () => {
    const strainer = join(tmp, 'strainer10');
    const p = await cli(
      'pretrain',
      '--data',
      'data/ch2bet.nii.gz',
      '--res',
      '32',
      '--width',
      '64',
      '--depth',
      '4',
      '--iters',
      '20',
      '--gain-iters',
      '0',
      '--out',
      strainer,
    );
    expect(p.code, p.err).toBe(0);
    const out = join(tmp, 'eval');
    const r = await cli(
      'eval',
      '--prior',
      strainer,
      '--meta-prior',
      maml,
      '--data',
      'data/ch2bet.nii.gz',
      '--methods',
      'siren,strainer10,meta,meta-sgd',
      '--images',
      '1',
      '--iters',
      '10',
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\| method \| it 0 \| it 2 \| it 10 \|$/m);
    expect(r.out).toMatch(/^\| Meta-learned \| /m);
    expect(r.out).toMatch(/^\| Meta-learned, own inner SGD first \| /m);
    expect(r.out).toMatch(/its 2 inner SGD update\(s\) at lr 0\.01 \(iterations 0\.\.1\), then Adam lr 0\.0001/);
    const j = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(Object.keys(j.psnr)).toEqual(['siren', 'strainer10', 'meta', 'meta-sgd']);
    // Learnit's protocol: after its 2 inner SGD steps the meta-init is far above a random SIREN's.
    expect(j.psnr['meta-sgd']['2']).toBeGreaterThan(j.psnr.siren['2'] + 10);
    expect(readFileSync(join(out, 'psnr.svg'), 'utf8')).toMatch(/Meta-learned, own inner SGD first/);
  }, 120_000);

  it('bad input: one line, exit 2, nothing written', async () => {
    const data = ['--data', 'data/ch2bet.nii.gz', '--res', '16', '--width', '16', '--depth', '3', '--iters', '2'];
    const out = join(tmp, 'bad');
    refusal(
      await cli('pretrain', ...data, '--method', 'nope', '--out', out),
      /--method must be one of strainer, maml, fomaml, reptile, got 'nope'/,
      out,
    );
    refusal(
      await cli('pretrain', ...data, '--method', 'maml', '--inner-steps', '0', '--out', out),
      /--inner-steps must be an integer between 1 and 32, got 0/,
      out,
    );
    refusal(
      await cli('pretrain', ...data, '--inner-steps', '2', '--out', out),
      /innerSteps \(--inner-steps\) applies to meta-learned priors/,
      out,
    );
    refusal(
      await cli('pretrain', ...data, '--method', 'maml', '--lr', '1e-3', '--out', out),
      /a maml prior takes outerLr \(--outer-lr\)/,
      out,
    );
    refusal(
      await cli('pretrain', ...data, '--method', 'reptile', '--engine', 'tfjs', '--out', out),
      /onnxruntime engine only/,
      out,
    );
    refusal(
      await cli('fit', slice, '--optimizer', 'lbfgs', '--out', out),
      /--optimizer must be one of adam, sgd, got 'lbfgs'/,
      out,
    );
    const ev = ['--data', 'data/ch2bet.nii.gz', '--iters', '2', '--images', '1', '--out', out];
    refusal(
      await cli('eval', '--prior', maml, ...ev),
      /--prior: prior 'maml' is a maml meta-learned init, not a STRAINER prior/,
      out,
    );
    refusal(
      await cli('eval', '--prior', 'models/mri-64', '--meta-prior', 'models/mri-64', ...ev),
      /--meta-prior: prior 'mri-64' is a STRAINER prior/,
      out,
    );
    refusal(
      await cli('eval', '--prior', 'models/mri-64', '--methods', 'siren,meta', ...ev),
      /--methods meta needs --meta-prior/,
      out,
    );
    await expect(
      pretrain([mriSliceImage(loadNifti('data/ch2bet.nii.gz'), 80, 8)], { method: 'maml', metaBatch: 0, backend: ort }),
    ).rejects.toThrow(/meta batch must be an integer between 1 and 64, got 0/);
  });
});

/** A checkpoint store in memory. */
function memoryStore(): CheckpointStore & { saved: number } {
  let kept: { state: State; meta: CheckpointMeta } | null = null;
  return {
    where: 'memory',
    saved: 0,
    load: async () => kept,
    async save(state, meta) {
      this.saved++;
      kept = { state, meta: { ...meta, loss: [...meta.loss], meanPsnr: [...meta.meanPsnr] } };
    },
  };
}

describe('meta-training resumes exactly', () => {
  const vol = loadNifti('data/ch2bet.nii.gz');
  const train: NamedSignal[] = referenceSplit(vol).train.map((z) => ({
    id: `z${z}`,
    signal: mriSliceImage(vol, z, 12),
  }));
  const o = {
    method: 'maml' as const,
    model: { width: 16, depth: 3 },
    iters: 40,
    outerLr: 1e-3,
    seed: 3,
    gainIters: 0,
    backend: ort,
  };

  it('which signals form a meta batch depends only on (seed, step): distinct while there are enough', () => {
    expect(metaBatchOf(3, 17, 10, 3)).toEqual(metaBatchOf(3, 17, 10, 3));
    expect(new Set(metaBatchOf(3, 17, 10, 3)).size).toBe(3);
    expect(new Set(Array.from({ length: 50 }, (_, s) => metaBatchOf(3, s, 10, 3).join())).size).toBeGreaterThan(40);
    expect(metaBatchOf(0, 0, 2, 5)).toHaveLength(5);
  });

  it('stopped at outer step 15 and resumed, it ends with the weights of an uninterrupted run', async () => {
    const straight = await metaPretrain({ train }, o);
    const store = memoryStore();
    const first = await metaPretrain(
      { train },
      {
        ...o,
        checkpoint: { every: 10, store },
        onStep: (e) => e.it < 14,
      },
    );
    expect(first.loss).toHaveLength(15);
    expect(store.saved).toBe(2); // at step 10 and at the stop
    const resumed = await metaPretrain({ train }, { ...o, checkpoint: { every: 10, store, resume: true } });
    expect(resumed.loss).toEqual(straight.loss);
    for (const s of paramSpecs(resumed.prior.config)) {
      const a = { ...straight.prior.encoder, ...straight.prior.decoder }[s.name];
      const b = { ...resumed.prior.encoder, ...resumed.prior.decoder }[s.name];
      expect(b, s.name).toEqual(a);
    }
    expect(resumed.prior.meta?.outerSteps).toBe(40);
    // And it moved away from its random start.
    expect(resumed.prior.decoder!['decoder.weight']).not.toEqual(initParams(resumed.prior.config, 3)['decoder.weight']);
  }, 120_000);
});
