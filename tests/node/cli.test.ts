// The CLI as a user meets it: a fit that works (with --json and --out artifacts that onnxruntime can
// render again), and every kind of bad input ending in one line on stderr, exit code 2, nothing written.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ortNodeBackend } from '../../src/runtime/ort-node.ts';
import { hostTensor } from '../../src/runtime/session.ts';
import { gridCoords } from '../../src/train/grid.ts';
import { loadBundle } from '../../src/export/bundle.ts';
import { dirSource } from '../../src/node/fs.ts';

const CLI = join(__dirname, '../../bin/strainer.js');
const run = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'strainer-cli-'));
const slice = 'tests/fixtures/slice-z073.png';

describe('strainer fit', () => {
  it('fits a real image, prints the JSON summary last, and writes re-usable artifacts', async () => {
    const out = join(tmp, 'fit');
    const r = run([
      'fit',
      slice,
      '--recipe',
      'paper',
      '--iters',
      '60',
      '--res',
      '32',
      '--width',
      '64',
      '--depth',
      '4',
      '--lr',
      '1e-3',
      '--out',
      out,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(Object.keys(j.psnr)).toEqual(['0', '10', '50']);
    expect(j.psnr['50']).toBeGreaterThan(j.psnr['0'] + 5);
    expect(j).toMatchObject({ iters: 60, res: 32, width: 64, backend: 'onnxruntime-node (cpu)' });
    for (const f of [
      'reconstruction.png',
      'psnr.csv',
      'psnr.svg',
      'manifest.json',
      'inference.onnx',
      'train_step.onnx',
      'weights.bin',
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'psnr.csv'), 'utf8').split('\n')[0]).toBe('iteration,psnr_db');
    // Any ONNX runtime renders the fitted signal from inference.onnx alone; the result matches final_psnr.
    const b = await loadBundle(dirSource(out));
    const s = await ortNodeBackend().load(await b.graph('inference'));
    const y = await s.download(
      (await s.run({ coords: s.upload(hostTensor([32 * 32, 2], gridCoords(32, 32))) })).output,
    );
    expect(y.shape).toEqual([1024, 1]);
    await s.release();
    expect(b.manifest.kind).toBe('fit');
    expect(b.tensors.step.data[0]).toBe(60);
  }, 120_000);

  it('fits from a prior with the default (fast) recipe to a target; its bundle renders like any other', () => {
    const out = join(tmp, 'fast');
    const r = run(['fit', slice, '--prior', 'mri-64', '--res', '64', '--until-psnr', '30', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j).toMatchObject({ recipe: 'fast', batch_mode: 'staged', stop: 'psnr' });
    expect(j.reached.psnr).toBeGreaterThanOrEqual(30);
    expect(j.final_psnr).toBeGreaterThanOrEqual(30);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m.train).toMatchObject({ recipe: 'fast', iters: j.iters });
    const png = join(tmp, 'fast-render.png');
    const rr = run(['render', out, '--res', '96', '--out', png]);
    expect(rr.status, rr.stderr).toBe(0);
    expect(existsSync(png)).toBe(true);
    // A whole SIREN with the ordinary train step and fresh Adam state to train on from.
    expect(Object.keys(m.graphs)).toEqual(['train_step', 'inference']);
  }, 120_000);

  it('refuses to overwrite a result unless --force', () => {
    const out = join(tmp, 'fit');
    const r = run(['fit', slice, '--iters', '2', '--res', '16', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already exists.*--force/);
  });

  const bad: [string, string[], RegExp][] = [
    ['missing file', ['fit', join(tmp, 'nope.png')], /no such file/],
    ['non-image file', ['fit', 'package.json'], /not a PNG or JPEG/],
    ['truncated PNG', ['fit', 'TRUNC'], /truncated|corrupt|cannot decode|invalid/i],
    ['unknown flag', ['fit', slice, '--bogus'], /unknown option/],
    ['non-numeric value', ['fit', slice, '--iters', 'abc'], /--iters must be an integer/],
    ['out-of-range value', ['fit', slice, '--lr', '-1'], /--lr must be/],
    ['zero width', ['fit', slice, '--width', '0'], /--width must be an integer between 1 and 4096, got 0/],
    ['unknown command', ['fitt', slice], /unknown command/],
  ];
  for (const [what, args0, msg] of bad) {
    it(`bad input: ${what} -> one line, exit 2, nothing written`, () => {
      const out = join(tmp, `bad-${what.replace(/\W/g, '')}`);
      let args = args0;
      if (args0[1] === 'TRUNC') {
        const t = join(tmp, 'trunc.png');
        writeFileSync(t, readFileSync(slice).subarray(0, 200));
        args = ['fit', t];
      }
      const r = run([...args, '--out', out, '--iters', '1']);
      expect(r.status, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(msg);
      expect(lines[0]).not.toMatch(/^\s+at /);
      expect(existsSync(out) && readdirSync(out).length > 0).toBe(false);
    });
  }
});
