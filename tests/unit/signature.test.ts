// Bundle signatures (src/export/signature.ts) through WebCrypto Ed25519: a signed prior loads with its
// pinned key, and each attack ends in one UserError naming what failed: no signature, another key's
// signature, a manifest byte changed (even with every file hash recomputed to match), a weight byte
// changed, a damaged signature file. A real prior-shaped bundle, held in memory.
import { describe, it, expect, beforeAll } from 'vitest';
import { buildBundle, type FileSource } from '../../src/export/bundle.ts';
import { loadPrior, PROJECT_KEY } from '../../src/export/prior.ts';
import { readFileSync } from 'node:fs';
import {
  generateKeyPair,
  signManifest,
  importPublicKey,
  parseSignatureFile,
  SIGNATURE_FILE,
  type KeyPairPem,
} from '../../src/export/signature.ts';
import { initParams, isEncoderParam, paramSpecs } from '../../src/model/inr.ts';
import type { InrConfig } from '../../src/model/config.ts';
import { ADAM_DEFAULTS } from '../../src/train/adam.ts';
import type { HostTensor } from '../../src/runtime/session.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import { UserError } from '../../src/util/errors.ts';

const CONFIG: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: 8, depth: 3, omega: 30 };
type Files = Record<string, Uint8Array>;

const memory = (files: Files): FileSource => ({
  where: 'mem',
  read: async (n) => {
    if (!files[n]) throw new Error(`${n} not found`);
    return files[n];
  },
});

async function priorFiles(): Promise<Files> {
  const params = initParams(CONFIG, 3);
  const tensors: Record<string, HostTensor> = {};
  for (const s of paramSpecs(CONFIG).filter((p) => isEncoderParam(p.name)))
    tensors[s.name] = { shape: s.shape, data: params[s.name] };
  const b = await buildBundle(
    {
      kind: 'prior',
      name: 'sig-test',
      release: 3,
      config: CONFIG,
      range: 'unit',
      train: { lr: 1e-4, iters: 1, adam: ADAM_DEFAULTS, batch: 16, signals: 1 },
      graphs: {},
    },
    tensors,
    {},
  );
  return { ...b.files, 'manifest.json': new TextEncoder().encode(JSON.stringify(b.manifest, null, 2) + '\n') };
}

/** Fails unless `p` rejects with a UserError of one line matching `msg`. */
async function refused(p: Promise<unknown>, msg: RegExp): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'should have been refused').toBeInstanceOf(UserError);
  expect((e as Error).message).toMatch(msg);
  expect((e as Error).message).not.toContain('\n');
}

describe('Ed25519 bundle signatures', () => {
  let team: KeyPairPem;
  let other: KeyPairPem;
  let signed: Files;

  beforeAll(async () => {
    [team, other] = [await generateKeyPair(), await generateKeyPair()];
    const files = await priorFiles();
    signed = { ...files, [SIGNATURE_FILE]: (await signManifest(files['manifest.json'], team.privatePem)).bytes };
  });

  it('writes PEM keys whose ids agree, and a PEM and a raw key name the same key', async () => {
    expect(team.privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
    expect(team.publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(team.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(team.keyId).not.toBe(other.keyId);
    expect((await importPublicKey(team.publicPem)).keyId).toBe(team.keyId);
    expect((await importPublicKey(team.publicRaw)).keyId).toBe(team.keyId);
    const s = parseSignatureFile(signed[SIGNATURE_FILE], 'mem');
    expect(s.key_id).toBe(team.keyId);
    expect(s.sig.byteLength).toBe(64);
    expect(s.manifest_sha256).toBe(await sha256Hex(signed['manifest.json']));
  });

  it('round trip: a signed prior loads with its pinned key, PEM or raw', async () => {
    for (const publicKey of [team.publicPem, team.publicRaw]) {
      const p = await loadPrior(memory(signed), { publicKey });
      expect(p.signature).toEqual({ state: 'verified', keyId: team.keyId });
      expect(p.manifest.release).toBe(3);
      expect(Object.keys(p.encoder).length).toBeGreaterThan(0);
    }
  });

  it('without a pinned key, loading is as before and the signature is not looked at', async () => {
    const { [SIGNATURE_FILE]: _sig, ...unsigned } = signed;
    expect((await loadPrior(memory(unsigned))).signature).toEqual({ state: 'unchecked' });
  });

  it('refuses an unsigned bundle', async () => {
    const { [SIGNATURE_FILE]: _sig, ...unsigned } = signed;
    await refused(
      loadPrior(memory(unsigned), { publicKey: team.publicPem }),
      /^mem: the bundle is not signed \(manifest\.sig: manifest\.sig not found\) but a public key \([0-9a-f]{16}\) is pinned$/,
    );
  });

  it('refuses a signature by another key', async () => {
    await refused(
      loadPrior(memory(signed), { publicKey: other.publicPem }),
      new RegExp(`signed by another key \\(${team.keyId}\\), not the pinned key ${other.keyId}`),
    );
  });

  it('refuses a changed weight byte (manifest untouched, so its sha256 no longer matches)', async () => {
    const w = Uint8Array.from(signed['weights.bin']);
    w[5] ^= 0x01;
    await refused(
      loadPrior(memory({ ...signed, 'weights.bin': w }), { publicKey: team.publicPem }),
      /weights\.bin fails its integrity check/,
    );
  });

  it('refuses a changed weight byte with the manifest hashes recomputed to match', async () => {
    const w = Uint8Array.from(signed['weights.bin']);
    w[5] ^= 0x01;
    const m = JSON.parse(new TextDecoder().decode(signed['manifest.json'])) as {
      files: Record<string, { sha256: string }>;
    };
    m.files['weights.bin'].sha256 = await sha256Hex(w);
    const files = {
      ...signed,
      'weights.bin': w,
      'manifest.json': new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n'),
    };
    await loadPrior(memory(files)); // consistent for the hash checks alone: only the signature catches it
    await refused(
      loadPrior(memory(files), { publicKey: team.publicPem }),
      /manifest\.json does not match its signature by key [0-9a-f]{16} \(changed after signing\)/,
    );
  });

  it('refuses any single changed manifest byte, even whitespace', async () => {
    const m = Uint8Array.from(signed['manifest.json']);
    m[m.length - 1] = 0x20; // the final newline becomes a space: same JSON, other bytes
    await refused(
      loadPrior(memory({ ...signed, 'manifest.json': m }), { publicKey: team.publicPem }),
      /does not match its signature/,
    );
  });

  it('refuses a damaged or malformed signature file', async () => {
    const s = JSON.parse(new TextDecoder().decode(signed[SIGNATURE_FILE])) as { signature: string; version: number };
    const bytes = Uint8Array.from(atob(s.signature), (c) => c.charCodeAt(0));
    bytes[0] ^= 0x80;
    const damaged = new TextEncoder().encode(JSON.stringify({ ...s, signature: btoa(String.fromCharCode(...bytes)) }));
    await refused(
      loadPrior(memory({ ...signed, [SIGNATURE_FILE]: damaged }), { publicKey: team.publicPem }),
      /manifest\.sig is not a valid signature of manifest\.json .*\(signature damaged\)/,
    );
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('{"format":'), /manifest\.sig is not valid JSON/],
      [new TextEncoder().encode('{"format":"other"}'), /not a strainer signature file/],
      [new TextEncoder().encode(JSON.stringify({ ...s, version: 9 })), /version 9 is not supported/],
      [new TextEncoder().encode(JSON.stringify({ ...s, signature: 'AAAA' })), /no 64-byte Ed25519 signature/],
    ];
    for (const [bad, msg] of cases)
      await refused(loadPrior(memory({ ...signed, [SIGNATURE_FILE]: bad }), { publicKey: team.publicPem }), msg);
  });

  it('refuses a key that is not an Ed25519 public key, and a private key that is not PEM', async () => {
    await refused(loadPrior(memory(signed), { publicKey: 'hello' }), /not an Ed25519 public key/);
    await refused(loadPrior(memory(signed), { publicKey: team.privatePem }), /not an Ed25519 public key/);
    await refused(signManifest(new Uint8Array(4), team.publicPem), /not a PEM private key/);
  });

  it('refuses a release that is not a non-negative integer', async () => {
    const m = JSON.parse(new TextDecoder().decode(signed['manifest.json'])) as Record<string, unknown>;
    await refused(
      loadPrior(
        memory({ ...signed, 'manifest.json': new TextEncoder().encode(JSON.stringify({ ...m, release: 1.5 })) }),
      ),
      /release must be a non-negative integer, got 1\.5/,
    );
  });

  it('without a pinned key: loads, and notes once per prior that nothing vouches for it (signed or not)', async () => {
    const notes: string[] = [];
    const onNote = (line: string): void => {
      notes.push(line);
    };
    const unsigned = { ...signed };
    delete unsigned[SIGNATURE_FILE];
    const at = (where: string, files: Record<string, Uint8Array>): FileSource => ({ ...memory(files), where });
    for (let i = 0; i < 2; i++) {
      await loadPrior(at('mem://signed-once', signed), { onNote });
      await loadPrior(at('mem://unsigned-once', unsigned), { onNote });
    }
    expect(notes).toEqual([
      "prior mem://signed-once is signed but not verified (pin its signer's public key to check the signature)",
      'prior mem://unsigned-once is unsigned (its files match its own manifest; nothing vouches for the manifest)',
    ]);
    // With a pinned key there is nothing to note: it verifies or is refused.
    await loadPrior(at('mem://pinned', signed), { publicKey: team.publicPem, onNote });
    expect(notes).toHaveLength(2);
  });

  it('PROJECT_KEY is the committed project key that signs the shipped priors', () => {
    expect(PROJECT_KEY).toBe(readFileSync('models/strainer-project.pub', 'utf8'));
  });
});
