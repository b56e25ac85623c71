// Signed priors in Chromium: loadPriorFromUrl with a pinned public key (WebCrypto Ed25519) accepts a
// prior signed by that key (PEM or raw base64), refuses an unsigned one, another key's, one whose
// manifest changed with its hashes recomputed and one whose weights changed; a client that verified
// release 2 refuses release 1 of the same prior unless allowRollback; and a verified prior loads again
// offline with its signature from Cache Storage. Keys and signatures are made in Node (same module).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEnv, tempModelsDir, makeTestPrior, type BrowserEnv } from './env.ts';
import { REPO_ROOT } from '../../web/server.ts';
import { generateKeyPair, signManifest, SIGNATURE_FILE, type KeyPairPem } from '../../src/export/signature.ts';
import { withRelease } from '../../src/cli/sign.ts';
import { sha256Hex } from '../../src/util/sha256.ts';
import type { PinnedLoad } from './sign-harness.ts';

const SIGN_HARNESS = `/@fs${REPO_ROOT}/tests/browser/sign-harness.ts`;
const call = async <T>(page: Page, fn: string, ...args: unknown[]): Promise<T> =>
  await page.evaluate(
    `import(${JSON.stringify(SIGN_HARNESS)}).then((m) => m[${JSON.stringify(fn)}](...${JSON.stringify(args)}))`,
  );

/** Stamps `release` into the bundle in `dir` and signs it with `key`. */
async function signDir(dir: string, key: KeyPairPem, release: number): Promise<void> {
  const text = withRelease(readFileSync(join(dir, 'manifest.json'), 'utf8'), release);
  writeFileSync(join(dir, 'manifest.json'), text);
  writeFileSync(join(dir, SIGNATURE_FILE), (await signManifest(new TextEncoder().encode(text), key.privatePem)).bytes);
}

describe('signed priors in the browser', () => {
  let env: BrowserEnv;
  let page: Page;
  let team: KeyPairPem;
  let other: KeyPairPem;

  beforeAll(async () => {
    [team, other] = [await generateKeyPair(), await generateKeyPair()];
    const dir = tempModelsDir();
    await makeTestPrior(dir, 'test-mri');
    const copy = (name: string): string => {
      cpSync(join(dir, 'test-mri'), join(dir, name), { recursive: true });
      return join(dir, name);
    };
    const unsigned = copy('unsigned');
    const old = copy('old');
    const foreign = copy('foreign');
    await signDir(join(dir, 'test-mri'), team, 2);
    await signDir(old, team, 1);
    await signDir(foreign, other, 3);
    // A weight byte changed: the manifest (and so the signature) still name the old sha256.
    const weights = copy('weights');
    const w = readFileSync(join(weights, 'weights.bin'));
    w[64] ^= 0x10;
    writeFileSync(join(weights, 'weights.bin'), w);
    // The same change with manifest.json's hash updated to match: only the signature catches it.
    const rehashed = copy('rehashed');
    writeFileSync(join(rehashed, 'weights.bin'), w);
    const m = JSON.parse(readFileSync(join(rehashed, 'manifest.json'), 'utf8'));
    m.files['weights.bin'].sha256 = await sha256Hex(w);
    writeFileSync(join(rehashed, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
    rmSync(join(unsigned, SIGNATURE_FILE), { force: true });
    // The shipped mri-64 as the package holds it, and a copy with one weight byte changed and its hash
    // recomputed in the manifest: a web app that pins PROJECT_KEY takes the first and refuses the second.
    cpSync(join(REPO_ROOT, 'models', 'mri-64'), join(dir, 'shipped'), { recursive: true });
    cpSync(join(REPO_ROOT, 'models', 'mri-64'), join(dir, 'shipped-rehashed'), { recursive: true });
    const sw = readFileSync(join(dir, 'shipped-rehashed', 'weights.bin'));
    sw[1000] ^= 0x40;
    writeFileSync(join(dir, 'shipped-rehashed', 'weights.bin'), sw);
    const sm = JSON.parse(readFileSync(join(dir, 'shipped-rehashed', 'manifest.json'), 'utf8'));
    sm.files['weights.bin'].sha256 = await sha256Hex(sw);
    writeFileSync(join(dir, 'shipped-rehashed', 'manifest.json'), JSON.stringify(sm, null, 2) + '\n');
    env = await startEnv(dir);
    page = await env.page();
    await call(page, 'forget');
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });

  it('accepts the prior signed by the pinned key, as PEM and as raw base64', async () => {
    for (const key of [team.publicPem, team.publicRaw]) {
      const r = await call<PinnedLoad>(page, 'loadPinned', '/models/test-mri/', key);
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ name: 'test-mri', release: 2, keyId: team.keyId });
    }
  }, 60_000);

  it('refuses unsigned, another key, a changed manifest with hashes recomputed, and a changed weight byte', async () => {
    const cases: [string, RegExp][] = [
      ['unsigned', /the bundle is not signed \(manifest\.sig: HTTP 404\) but a public key \([0-9a-f]{16}\) is pinned/],
      ['foreign', new RegExp(`signed by another key \\(${other.keyId}\\), not the pinned key ${team.keyId}`)],
      ['rehashed', /manifest\.json does not match its signature by key [0-9a-f]{16} \(changed after signing\)/],
      ['weights', /weights\.bin fails its integrity check/],
    ];
    for (const [name, msg] of cases) {
      const r = await call<PinnedLoad>(page, 'loadPinned', `/models/${name}/`, team.publicPem);
      expect(r.error, name).toMatch(msg);
    }
    // Without a pinned key the unsigned and rehashed copies load as before (hashes alone agree).
    for (const name of ['unsigned', 'rehashed'])
      expect((await call<PinnedLoad>(page, 'loadPinned', `/models/${name}/`, null)).error, name).toBeUndefined();
  }, 60_000);

  it('an app pinning PROJECT_KEY loads the shipped prior and refuses a tampered copy with its hash recomputed', async () => {
    const ok = await call<PinnedLoad>(page, 'loadProjectPinned', '/models/shipped/');
    expect(ok.error).toBeUndefined();
    expect(ok).toMatchObject({ name: 'mri-64', keyId: '1916fca460a90d76' });
    const bad = await call<PinnedLoad>(page, 'loadProjectPinned', '/models/shipped-rehashed/');
    expect(bad.error).toMatch(
      /manifest\.json does not match its signature by key 1916fca460a90d76 \(changed after signing\)/,
    );
    expect(bad.error).not.toContain('\n');
  }, 60_000);

  it('refuses an older release of a prior it verified, unless allowRollback', async () => {
    const r = await call<PinnedLoad>(page, 'loadPinned', '/models/old/', team.publicPem);
    expect(r.error).toMatch(
      /prior 'test-mri' release 1 is older than release 2, which this client already verified; refusing the rollback/,
    );
    const allowed = await call<PinnedLoad>(page, 'loadPinned', '/models/old/', team.publicPem, true);
    expect(allowed.error).toBeUndefined();
    expect(allowed.release).toBe(1);
    // Allowing one rollback does not lower the floor.
    expect((await call<PinnedLoad>(page, 'loadPinned', '/models/old/', team.publicPem)).error).toMatch(
      /older than release 2/,
    );
  }, 60_000);

  it('a verified signed prior loads again offline, its signature from Cache Storage', async () => {
    await page.context().setOffline(true);
    try {
      const r = await call<PinnedLoad>(page, 'loadPinned', '/models/test-mri/', team.publicPem);
      expect(r.error).toBeUndefined();
      expect(r.fromCache?.sort()).toEqual(['manifest.json', 'manifest.sig', 'weights.bin']);
    } finally {
      await page.context().setOffline(false);
    }
  }, 60_000);
});
