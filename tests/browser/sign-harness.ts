// Page side of tests/browser/sign.test.ts: loads a prior with a pinned public key in Chromium
// (WebCrypto Ed25519) and returns what happened as plain JSON.
import { loadPriorFromUrl, clearPriorCache } from '../../src/web/prior.ts';
import { PROJECT_KEY } from '../../src/web/index.ts';

export interface PinnedLoad {
  name?: string;
  release?: number | null;
  keyId?: string | null;
  fromCache?: string[];
  error?: string;
}

export async function loadPinned(url: string, publicKey: string | null, allowRollback = false): Promise<PinnedLoad> {
  try {
    const p = await loadPriorFromUrl(url, { ...(publicKey !== null ? { publicKey } : {}), allowRollback });
    return {
      name: p.name,
      release: p.release ?? null,
      keyId: p.signature.state === 'verified' ? p.signature.keyId : null,
      fromCache: p.fromCache,
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Forgets cached priors and the releases seen (a fresh client). */
export async function forget(): Promise<boolean> {
  return clearPriorCache();
}

/** As a web app pins the project's key in one line: loadPriorFromUrl(url, { publicKey: PROJECT_KEY }). */
export async function loadProjectPinned(url: string): Promise<PinnedLoad> {
  return loadPinned(url, PROJECT_KEY);
}
