// Edge prior delivery: a prior bundle read over HTTP (manifest.json + the files it lists), every file
// verified against its sha256 (SubtleCrypto, in loadBundle) before use, and kept in Cache Storage so
// a second visit loads it offline. The manifest is fetched network-first (a new prior replaces the
// old), falling back to the cache when the network fails; the other files are taken from the cache
// when their hash still matches the manifest. Nothing is cached until the whole bundle has verified.
import type { FileSource, Manifest } from '../export/bundle.ts';
import { sha256Hex } from '../util/sha256.ts';
import { type Prior } from '../train/prior.ts';
import { loadPrior } from '../export/prior.ts';
import { UserError } from '../util/errors.ts';

/** Cache Storage name; bump the suffix if the cached layout ever changes. */
export const PRIOR_CACHE = 'strainer-priors-v1';

export interface PriorLoadOptions {
  /** Use Cache Storage (default true where it exists: secure contexts, i.e. https or localhost). */
  cache?: boolean;
}

export interface LoadedPrior extends Prior {
  url: string;
  /** Files that came from Cache Storage rather than the network. */
  fromCache: string[];
}

class HttpBundleSource implements FileSource {
  readonly fetched = new Map<string, Uint8Array>();
  readonly fromCache: string[] = [];
  private expected = new Map<string, string>();

  constructor(readonly where: string, private readonly cache: Cache | null) {}

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
    if (name === 'manifest.json') {
      let bytes: Uint8Array;
      try {
        bytes = await this.network(url);
        this.fetched.set(name, bytes);
      } catch (e) {
        // fetch() rejects with a TypeError when the network is unreachable: then the cache may serve.
        const hit = e instanceof TypeError ? await this.cached(url) : null;
        if (!hit) throw new Error(e instanceof TypeError ? 'offline and not cached' : (e as Error).message);
        bytes = hit;
        this.fromCache.push(name);
      }
      try {
        const m = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Manifest>;
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
      await this.cache.put(new URL(name, this.where).href, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/octet-stream' } }));
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
export async function loadPriorFromUrl(url: string, o: PriorLoadOptions = {}): Promise<LoadedPrior> {
  const base = new URL(url.endsWith('/') ? url : `${url}/`, globalThis.location?.href).href;
  const src = new HttpBundleSource(base, await openCache(o.cache ?? true));
  const prior = await loadPrior(src);
  checkWebSupport(prior, base);
  await src.commit();
  return { ...prior, url: base, fromCache: src.fromCache };
}

/** What this runtime can fit: images (2 input coordinates). Format version and config validity are
 *  checked by parseManifest/validateConfig inside loadBundle. */
export function checkWebSupport(p: Prior, where: string): void {
  if (p.config.inDim !== 2) throw new UserError(`${where}: prior takes ${p.config.inDim}-D coordinates; the web runtime fits 2-D images only`);
}

/** Removes every cached prior (e.g. a "forget downloaded priors" button). */
export async function clearPriorCache(): Promise<boolean> {
  return typeof caches === 'undefined' ? false : caches.delete(PRIOR_CACHE);
}
