// Edge prior delivery: a prior bundle read over HTTP (manifest.json + the files it lists), every file
// verified against its sha256 (SubtleCrypto, in loadBundle) before use, and kept in Cache Storage so
// a second visit loads it offline. The manifest is fetched network-first (a new prior replaces the
// old), falling back to the cache when the network fails; the other files are taken from the cache
// when their hash still matches the manifest. Nothing is cached until the whole bundle has verified.
// With a pinned public key the manifest must carry the signer's Ed25519 signature (manifest.sig, read
// network-first like the manifest), and a prior whose release is below one this client has already
// verified is refused (rollback protection; the floor is kept in the same Cache Storage).
import type { FileSource, Manifest } from '../export/bundle.ts';
import { SIGNATURE_FILE, type SignatureStatus } from '../export/signature.ts';
import { sha256Hex } from '../util/sha256.ts';
import { type Prior } from '../train/prior.ts';
import { loadPrior, type PriorLoadOptions } from '../export/prior.ts';
import { UserError } from '../util/errors.ts';

/** Cache Storage name; bump the suffix if the cached layout ever changes. */
export const PRIOR_CACHE = 'strainer-priors-v1';

/** The core's prior options (a pinned `publicKey`: PEM "BEGIN PUBLIC KEY" text or the base64 of its 32
 *  raw bytes, e.g. PROJECT_KEY; a note sink), with the browser's cache and rollback protection. */
export interface UrlPriorOptions extends PriorLoadOptions {
  /** Use Cache Storage (default true where it exists: secure contexts, i.e. https or localhost). */
  cache?: boolean;
  /** Accept a served release below the highest this client verified before (default false). The floor
   *  lives in Cache Storage, so with `cache: false` (or no Cache Storage) there is no rollback check. */
  allowRollback?: boolean;
}

export interface LoadedPrior extends Prior {
  url: string;
  /** Files that came from Cache Storage rather than the network. */
  fromCache: string[];
  /** The manifest's release (undefined when it names none). */
  release?: number;
  signature: SignatureStatus;
}

class HttpBundleSource implements FileSource {
  readonly fetched = new Map<string, Uint8Array>();
  readonly fromCache: string[] = [];
  private expected = new Map<string, string>();

  constructor(
    readonly where: string,
    private readonly cache: Cache | null,
  ) {}

  private async network(url: string): Promise<Uint8Array> {
    const r = await fetch(url, { cache: 'no-cache' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }

  private async cached(url: string): Promise<Uint8Array | null> {
    const hit = await this.cache?.match(url);
    return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
  }

  async read(name: string): Promise<Uint8Array> {
    const url = new URL(name, this.where).href;
    if (name === 'manifest.json' || name === SIGNATURE_FILE) {
      let bytes: Uint8Array;
      try {
        bytes = await this.network(url);
        this.fetched.set(name, bytes);
      } catch (e) {
        // fetch() rejects with a TypeError when the network is unreachable: then the cache may serve.
        const hit = e instanceof TypeError ? await this.cached(url) : null;
        if (!hit)
          throw new Error(e instanceof TypeError ? 'offline and not cached' : (e as Error).message, { cause: e });
        bytes = hit;
        this.fromCache.push(name);
      }
      try {
        const m = name === 'manifest.json' ? (JSON.parse(new TextDecoder().decode(bytes)) as Partial<Manifest>) : {};
        for (const [f, e] of Object.entries(m.files ?? {})) this.expected.set(f, e.sha256);
      } catch {
        // loadBundle reports the bad JSON with its own message.
      }
      return bytes;
    }
    const hit = await this.cached(url);
    if (hit && (await sha256Hex(hit)) === this.expected.get(name)) {
      this.fromCache.push(name);
      return hit;
    }
    const bytes = await this.network(url);
    this.fetched.set(name, bytes);
    return bytes;
  }

  /** Stores what came from the network, once the whole bundle has verified. */
  async commit(): Promise<void> {
    if (!this.cache) return;
    for (const [name, bytes] of this.fetched) {
      await this.cache.put(
        new URL(name, this.where).href,
        new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/octet-stream' } }),
      );
    }
  }
}

async function openCache(want: boolean): Promise<Cache | null> {
  if (!want || typeof caches === 'undefined') return null;
  try {
    return await caches.open(PRIOR_CACHE);
  } catch {
    return null; // e.g. storage disabled by the user: work uncached
  }
}

/** Loads and verifies the prior bundle at `url` (a folder URL holding manifest.json). */
export async function loadPriorFromUrl(url: string, o: UrlPriorOptions = {}): Promise<LoadedPrior> {
  const base = new URL(url.endsWith('/') ? url : `${url}/`, globalThis.location?.href).href;
  const cache = await openCache(o.cache ?? true);
  const src = new HttpBundleSource(base, cache);
  const prior = await loadPrior(src, { publicKey: o.publicKey, onNote: o.onNote });
  checkWebSupport(prior, base);
  const release = prior.manifest.release;
  const floor = await releaseFloor(cache, prior);
  if (floor !== null && (release ?? 0) < floor && !o.allowRollback) {
    throw new UserError(
      `${base}: prior '${prior.name}' release ${release ?? '(none)'} is older than release ${floor}, which this client already verified; refusing the rollback (allowRollback: true accepts it)`,
    );
  }
  await src.commit();
  if (cache && release !== undefined && (floor === null || release > floor))
    await cache.put(floorUrl(prior), new Response(String(release)));
  return { ...prior, url: base, fromCache: src.fromCache, ...(release !== undefined ? { release } : {}) };
}

/** Where the highest verified release of a prior is kept: per name, and per signer when a key is pinned
 *  (so an unsigned load never raises the floor of signed ones). A Cache key needs an http(s) URL; the
 *  reserved .invalid domain (RFC 2606) keeps it off every real origin. */
function floorUrl(p: { name: string; signature: SignatureStatus }): string {
  const who = p.signature.state === 'verified' ? `${p.name}@${p.signature.keyId}` : p.name;
  return `https://strainer.invalid/prior-release/${encodeURIComponent(who)}`;
}

async function releaseFloor(
  cache: Cache | null,
  p: { name: string; signature: SignatureStatus },
): Promise<number | null> {
  const hit = await cache?.match(floorUrl(p));
  if (!hit) return null;
  const n = Number(await hit.text());
  return Number.isSafeInteger(n) ? n : null;
}

/** What this runtime can fit: clips, images and volumes (1 to 3 input coordinates). Format version and
 *  config validity are checked by parseManifest/validateConfig inside loadBundle. */
export function checkWebSupport(p: Prior, where: string): void {
  if (!(p.config.inDim >= 1 && p.config.inDim <= 3))
    throw new UserError(
      `${where}: prior takes ${p.config.inDim}-D coordinates; the web runtime fits 1-D to 3-D signals`,
    );
}

/** Removes every cached prior (e.g. a "forget downloaded priors" button). */
export async function clearPriorCache(): Promise<boolean> {
  return typeof caches === 'undefined' ? false : caches.delete(PRIOR_CACHE);
}
