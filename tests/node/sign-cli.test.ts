// Signing, verifying, describing and rendering bundles through the CLI (main() in-process, real
// onnxruntime-node, real files): keygen writes a 0600 private key and never overwrites one; a signed
// prior verifies and fits with its pinned key, and is refused with another key or once a byte changes;
// without a key `fit` notes once that the prior is not verified; info reports the signature; render
// reproduces a fit's reconstruction at its own grid and renders any resolution and crop. The shipped
// priors verify against the committed project key (re-sign with scripts/sign-priors.sh).
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, statSync, existsSync, readdirSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { main } from '../../src/cli/main.ts';
import { buildPriorBundle } from '../../src/export/prior.ts';
import { writeBundleDir } from '../../src/node/fs.ts';
import { initParams, isEncoderParam } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import { windowCoords } from '../../src/cli/render.ts';
import { gridCoords } from '../../src/train/grid.ts';

const tmp = mkdtempSync(join(tmpdir(), 'strainer-sign-'));
const slice = 'tests/fixtures/slice-z073.png';
const CONFIG: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 16, depth: 3, omega: 30 };
const RES = 16;

/** Runs the CLI in this process, capturing what it writes. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [],
    err: string[] = [];
  // Saved to be put back as they were: the methods keep their own `this` binding when restored.
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

/** A one-line refusal: exit 2 and one `strainer: ...` line matching `msg`. */
function refusal(r: { code: number; err: string }, msg: RegExp): void {
  expect(r.code, r.err).toBe(2);
  const lines = r.err.trim().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^strainer: /);
  expect(lines[0]).toMatch(msg);
}

const readPng = (path: string): PNG => PNG.sync.read(readFileSync(path));

describe('strainer keygen / sign / verify / info', () => {
  const key = join(tmp, 'keys', 'team');
  const other = join(tmp, 'other');
  const prior = join(tmp, 'prior');

  beforeAll(async () => {
    const encoder = initParams(CONFIG, 7, isEncoderParam);
    writeBundleDir(
      prior,
      await buildPriorBundle({
        name: 'tiny',
        config: CONFIG,
        range: 'unit',
        encoder,
        res: RES,
        lr: 1e-4,
        iters: 1,
        signals: 1,
        engine: 'test',
      }),
      false,
    );
  });

  it('keygen writes a mode-0600 PKCS#8 private key and a PEM public key, and never overwrites them', async () => {
    const r = await cli('keygen', '--out', key);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/key id [0-9a-f]{16}/);
    expect(statSync(`${key}.pem`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${key}.pem`, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(`${key}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const before = readFileSync(`${key}.pem`);
    refusal(await cli('keygen', '--out', key), /team\.pem already exists \(pass --force to overwrite\)/);
    expect(readFileSync(`${key}.pem`).equals(before)).toBe(true);
    expect(readdirSync(join(tmp, 'keys')).sort()).toEqual(['team.pem', 'team.pub']); // no temp file left
    expect((await cli('keygen', '--out', other)).code).toBe(0);
    expect((await cli('keygen', '--out', other, '--force')).code).toBe(0);
    expect(statSync(`${other}.pem`).mode & 0o777).toBe(0o600);
  });

  it('an unsigned prior: info says so, verify refuses it, fit notes it once', async () => {
    expect((await cli('info', prior)).out).toMatch(/^signature +unsigned$/m);
    refusal(
      await cli('verify', prior, '--public-key', `${key}.pub`),
      /the bundle is not signed \(manifest\.sig: manifest\.sig not found\)/,
    );
    const r = await cli('fit', slice, '--prior', prior, '--res', String(RES), '--iters', '2');
    expect(r.code, r.err).toBe(0);
    expect(r.err.match(/note: prior .* is unsigned/g)).toHaveLength(1);
  });

  it('sign stamps the release and signs; verify, info and fit --public-key accept it', async () => {
    const r = await cli('sign', prior, '--key', `${key}.pem`, '--release', '4');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(prior, 'manifest.json'), 'utf8')).release).toBe(4);
    const v = await cli('verify', prior, '--public-key', `${key}.pub`, '--json');
    expect(v.code, v.err).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({
      kind: 'prior',
      name: 'tiny',
      release: 4,
      signature: 'verified',
      files: ['encoder.onnx', 'train_step.onnx', 'weights.bin'],
    });
    const info = JSON.parse((await cli('info', prior, '--json')).out);
    expect(info).toMatchObject({
      kind: 'prior',
      name: 'tiny',
      release: 4,
      signature: { state: 'signed', key_id: JSON.parse(v.out).key_id },
      config: CONFIG,
    });
    expect(info.total_bytes).toBe(Object.values(info.files as Record<string, number>).reduce((a, b) => a + b, 0));
    expect(info.files['manifest.sig']).toBe(statSync(join(prior, 'manifest.sig')).size);
    expect(JSON.parse((await cli('info', prior, '--json', '--public-key', `${key}.pub`)).out).signature.state).toBe(
      'verified',
    );
    const pinned = await cli(
      'fit',
      slice,
      '--prior',
      prior,
      '--public-key',
      `${key}.pub`,
      '--res',
      String(RES),
      '--iters',
      '2',
      '--json',
    );
    expect(pinned.code, pinned.err).toBe(0);
    expect(pinned.err).not.toMatch(/note:/);
    expect(JSON.parse(pinned.out.trim().split('\n').pop()!).prior).toBe('tiny');
    const unpinned = await cli('fit', slice, '--prior', join(prior, '.'), '--res', String(RES), '--iters', '2');
    expect(unpinned.err).toMatch(/note: prior .* is signed but not verified/);
  });

  it('sign refuses to replace a signature or lower the release without --force', async () => {
    refusal(await cli('sign', prior, '--key', `${key}.pem`), /manifest\.sig already exists \(pass --force/);
    const copy = join(tmp, 'resign');
    cpSync(prior, copy, { recursive: true });
    rmSync(join(copy, 'manifest.sig'));
    const before = readFileSync(join(copy, 'manifest.json'));
    refusal(
      await cli('sign', copy, '--key', `${key}.pem`, '--release', '3'),
      /--release 3 is below the manifest's release 4/,
    );
    expect(readFileSync(join(copy, 'manifest.json')).equals(before)).toBe(true);
    expect(existsSync(join(copy, 'manifest.sig'))).toBe(false);
  });

  it('refuses another key, a changed weight byte, and a changed manifest with hashes recomputed', async () => {
    refusal(
      await cli('verify', prior, '--public-key', `${other}.pub`),
      /signed by another key \([0-9a-f]{16}\), not the pinned key/,
    );
    refusal(
      await cli('fit', slice, '--prior', prior, '--public-key', `${other}.pub`, '--res', String(RES), '--iters', '2'),
      /signed by another key/,
    );

    const weights = join(tmp, 'weights-changed');
    cpSync(prior, weights, { recursive: true });
    const w = readFileSync(join(weights, 'weights.bin'));
    w[100] ^= 0x04;
    writeFileSync(join(weights, 'weights.bin'), w);
    refusal(await cli('verify', weights, '--public-key', `${key}.pub`), /weights\.bin fails its integrity check/);

    const rehashed = join(tmp, 'rehashed');
    cpSync(weights, rehashed, { recursive: true });
    const m = JSON.parse(readFileSync(join(rehashed, 'manifest.json'), 'utf8'));
    m.files['weights.bin'].sha256 = await sha256Hex(w);
    writeFileSync(join(rehashed, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
    expect((await cli('info', rehashed)).code).toBe(0); // self-consistent: only the signature catches it
    refusal(
      await cli('verify', rehashed, '--public-key', `${key}.pub`),
      /manifest\.json does not match its signature by key [0-9a-f]{16} \(changed after signing\)/,
    );
    refusal(
      await cli('fit', slice, '--prior', rehashed, '--public-key', `${key}.pub`, '--res', String(RES), '--iters', '2'),
      /changed after signing/,
    );
  });

  it('bad arguments end in one line', async () => {
    refusal(
      await cli('verify', prior, '--public-key', join(tmp, 'nope.pub')),
      /--public-key .*nope\.pub: no such file/,
    );
    refusal(await cli('verify', prior, '--public-key', `${key}.pem`), /not an Ed25519 public key/);
    refusal(await cli('sign', join(tmp, 'nowhere'), '--key', `${key}.pem`), /not a bundle folder/);
    refusal(await cli('info', tmp), /not a bundle folder/);
  });
});

describe('strainer render', () => {
  const fit = join(tmp, 'fit');
  const FIT_RES = 24;

  beforeAll(async () => {
    const r = await cli(
      'fit',
      slice,
      '--iters',
      '40',
      '--res',
      String(FIT_RES),
      '--width',
      '32',
      '--depth',
      '3',
      '--lr',
      '1e-3',
      '--out',
      fit,
    );
    expect(r.code, r.err).toBe(0);
  }, 120_000);

  it('the full window at the fit resolution is the fit grid, and reproduces reconstruction.png', async () => {
    expect(Array.from(windowCoords(FIT_RES, [-1, -1, 1, 1], 0, FIT_RES * FIT_RES))).toEqual(
      Array.from(gridCoords(FIT_RES, FIT_RES)),
    );
    const out = join(tmp, 'same.png');
    const r = await cli('render', fit, '--res', String(FIT_RES), '--out', out);
    expect(r.code, r.err).toBe(0);
    const a = readPng(out),
      b = readPng(join(fit, 'reconstruction.png'));
    expect([a.width, a.height]).toEqual([FIT_RES, FIT_RES]);
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
    expect(worst, "largest 8-bit difference from the fit's own render").toBeLessThanOrEqual(1);
  });

  it('renders at a higher resolution and over a crop, which is the matching corner of the full render', async () => {
    const big = join(tmp, 'big.png'),
      crop = join(tmp, 'crop.png');
    expect((await cli('render', fit, '--res', '97', '--out', big)).code).toBe(0);
    // The crop [-1,0]x[-1,0] (top-left quarter) at 49 px has the 97-px render's spacing (1/48): it is that
    // render's top-left 49x49 pixels.
    expect((await cli('render', fit, '--res', '49', '--window', '-1,-1,0,0', '--out', crop)).code).toBe(0);
    const B = readPng(big),
      C = readPng(crop);
    expect([B.width, C.width]).toEqual([97, 49]);
    let worst = 0,
      spread = 0;
    for (let i = 0; i < 49; i++) {
      for (let j = 0; j < 49; j++) {
        const c = C.data[4 * (i * 49 + j)],
          b = B.data[4 * (i * 97 + j)];
        worst = Math.max(worst, Math.abs(c - b));
        spread = Math.max(spread, c);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(spread, 'the crop is not blank').toBeGreaterThan(50);
  });

  it('refuses to overwrite without --force, a prior, and a bad window; nothing written', async () => {
    const out = join(tmp, 'same.png');
    const before = readFileSync(out);
    refusal(await cli('render', fit, '--res', '8', '--out', out), /same\.png already exists \(pass --force/);
    expect(readFileSync(out).equals(before)).toBe(true);
    expect((await cli('render', fit, '--res', '8', '--out', out, '--force')).code).toBe(0);
    expect(readPng(out).width).toBe(8);
    const none = join(tmp, 'none.png');
    refusal(
      await cli('render', join(tmp, 'prior'), '--res', '8', '--out', none),
      /'prior' bundle has no inference graph/,
    );
    refusal(
      await cli('render', fit, '--res', '8', '--window', '0,0,0,1', '--out', none),
      /--window must have x0 != x1/,
    );
    refusal(
      await cli('render', fit, '--res', '8', '--window', '1,2,3', '--out', none),
      /--window must be four numbers/,
    );
    refusal(await cli('render', fit, '--res', '0', '--out', none), /--res must be an integer between 1 and 8192/);
    expect(existsSync(none)).toBe(false);
  });
});

describe('the shipped priors', () => {
  const shipped = readdirSync('models')
    .filter((d) => existsSync(join('models', d, 'manifest.json')))
    .sort();
  it('include the three float32 priors', () =>
    expect(shipped).toEqual(expect.arrayContaining(['lfw-25', 'mri-178', 'mri-64'])));
  for (const dir of shipped) {
    it(`models/${dir} is signed by the project key (models/strainer-project.pub) and names its release`, async () => {
      const r = await cli('verify', join('models', dir), '--public-key', 'models/strainer-project.pub', '--json');
      expect(r.code, `${r.err} (re-sign with scripts/sign-priors.sh)`).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ kind: 'prior', signature: 'verified', release: expect.any(Number) });
    });
  }
});
