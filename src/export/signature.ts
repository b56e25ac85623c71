// Bundle signatures (Ed25519, RFC 8032) through WebCrypto, the same code in Node >= 20 and browsers
// (Chromium 137+, Firefox 129+, Safari 17+). `manifest.sig` is a detached signature over the exact bytes
// of manifest.json, which pins every other file by sha256; so a verified signature plus loadBundle's
// file checks cover every byte of a bundle. Keys are PEM: private PKCS#8 ("BEGIN PRIVATE KEY"), public
// SPKI ("BEGIN PUBLIC KEY", what openssl and node:crypto read); a public key may also be given as the
// base64 of its 32 raw bytes. A key id is the first 16 hex digits of sha256(raw public key): a hint
// that tells "another key" from "changed bytes", never trusted on its own.
import { UserError } from '../util/errors.ts';
import { sha256Hex } from '../util/sha256.ts';

export const SIGNATURE_FILE = 'manifest.sig';
export const SIGNATURE_FORMAT = 'strainer-signature';
export const SIGNATURE_VERSION = 1;

/** manifest.sig as JSON. `key_id` and `manifest_sha256` are diagnostics; only `signature` is checked. */
export interface SignatureFile {
  format: typeof SIGNATURE_FORMAT;
  version: number;
  algorithm: 'Ed25519';
  signed: 'manifest.json';
  key_id: string;
  manifest_sha256: string;
  /** base64 of the 64-byte Ed25519 signature over manifest.json's bytes. */
  signature: string;
}

/** What loading found: verified against the pinned key, or not looked at (no key pinned). */
export type SignatureStatus = { state: 'verified'; keyId: string } | { state: 'unchecked' };

export interface KeyPairPem {
  privatePem: string;
  publicPem: string;
  keyId: string;
  publicRaw: string;
}

// WebCrypto's surface used here, typed locally so the core needs no DOM typings (as util/sha256.ts).
type Key = object;
type KeyFormat = 'raw' | 'spki' | 'pkcs8';
const ED = { name: 'Ed25519' } as const;
interface EdSubtle {
  generateKey(a: typeof ED, extractable: boolean, usages: string[]): Promise<{ publicKey: Key; privateKey: Key }>;
  importKey(f: KeyFormat, data: Uint8Array, a: typeof ED, extractable: boolean, usages: string[]): Promise<Key>;
  exportKey(f: KeyFormat, k: Key): Promise<ArrayBuffer>;
  exportKey(f: 'jwk', k: Key): Promise<{ x?: string }>;
  sign(a: typeof ED, k: Key, data: Uint8Array): Promise<ArrayBuffer>;
  verify(a: typeof ED, k: Key, sig: Uint8Array, data: Uint8Array): Promise<boolean>;
}
const subtle = (): EdSubtle => (globalThis as unknown as { crypto: { subtle: EdSubtle } }).crypto.subtle;

/** Runs a WebCrypto call, turning "no Ed25519 here" into a UserError naming the runtimes that have it. */
async function webcrypto<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if ((e as Error)?.name === 'NotSupportedError')
      throw new UserError(
        `${what}: this runtime has no WebCrypto Ed25519 (Node >= 20, Chromium 137+, Firefox 129+, Safari 17+)`,
      );
    throw new UserError(`${what}: ${(e as Error)?.message ?? String(e)}`);
  }
}

const toBase64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b));
function fromBase64(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
const fromBase64Url = (s: string): Uint8Array | null =>
  fromBase64(
    s
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(s.length / 4) * 4, '='),
  );

function toPem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/** The DER inside a PEM block with this label, or null when `text` holds no such block. */
function fromPem(text: string, label: string): Uint8Array | null {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*)-----END ${label}-----`).exec(text);
  return m ? fromBase64(m[1].replace(/\s+/g, '')) : null;
}

const keyIdOf = async (raw: Uint8Array): Promise<string> => (await sha256Hex(raw)).slice(0, 16);

/** A new Ed25519 key pair as PEM text, with its key id and the raw public key in base64. */
export async function generateKeyPair(): Promise<KeyPairPem> {
  return webcrypto('keygen', async () => {
    const kp = await subtle().generateKey(ED, true, ['sign', 'verify']);
    const raw = new Uint8Array(await subtle().exportKey('raw', kp.publicKey));
    return {
      privatePem: toPem('PRIVATE KEY', new Uint8Array(await subtle().exportKey('pkcs8', kp.privateKey))),
      publicPem: toPem('PUBLIC KEY', new Uint8Array(await subtle().exportKey('spki', kp.publicKey))),
      keyId: await keyIdOf(raw),
      publicRaw: toBase64(raw),
    };
  });
}

interface PublicKey {
  key: Key;
  keyId: string;
}

/** A public key from PEM SPKI text or the base64 of its 32 raw bytes. */
export async function importPublicKey(text: string, where = 'public key'): Promise<PublicKey> {
  const spki = fromPem(text, 'PUBLIC KEY');
  const raw = spki ? null : fromBase64(text.trim());
  if (!spki && raw?.byteLength !== 32)
    throw new UserError(
      `${where}: not an Ed25519 public key (want PEM "BEGIN PUBLIC KEY" or the base64 of 32 raw bytes)`,
    );
  return webcrypto(where, async () => {
    const key = spki
      ? await subtle().importKey('spki', spki, ED, true, ['verify'])
      : await subtle().importKey('raw', raw!, ED, true, ['verify']);
    return { key, keyId: await keyIdOf(new Uint8Array(await subtle().exportKey('raw', key))) };
  });
}

/** The key id of a public key (PEM or raw base64). */
export async function publicKeyId(text: string): Promise<string> {
  return (await importPublicKey(text)).keyId;
}

/** manifest.sig's bytes for these manifest bytes, signed with a PKCS#8 PEM private key. */
export async function signManifest(
  manifest: Uint8Array,
  privatePem: string,
  where = 'private key',
): Promise<{ bytes: Uint8Array; keyId: string }> {
  const der = fromPem(privatePem, 'PRIVATE KEY');
  if (!der)
    throw new UserError(`${where}: not a PEM private key (want "BEGIN PRIVATE KEY", as strainer keygen writes)`);
  return webcrypto(where, async () => {
    // Extractable only to read the public half (JWK "x", RFC 8037 section 2) for the key id.
    const key = await subtle().importKey('pkcs8', der, ED, true, ['sign']);
    const x = fromBase64Url((await subtle().exportKey('jwk', key)).x ?? '');
    if (x?.byteLength !== 32) throw new Error('cannot read the public half of the key');
    const sig = new Uint8Array(await subtle().sign(ED, key, manifest));
    const file: SignatureFile = {
      format: SIGNATURE_FORMAT,
      version: SIGNATURE_VERSION,
      algorithm: 'Ed25519',
      signed: 'manifest.json',
      key_id: await keyIdOf(x),
      manifest_sha256: await sha256Hex(manifest),
      signature: toBase64(sig),
    };
    return { bytes: new TextEncoder().encode(JSON.stringify(file, null, 2) + '\n'), keyId: file.key_id };
  });
}

/** Parses manifest.sig, refusing anything but a well-formed version-1 Ed25519 signature file. */
export function parseSignatureFile(bytes: Uint8Array, where: string): SignatureFile & { sig: Uint8Array } {
  let s: Partial<SignatureFile>;
  try {
    s = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Partial<SignatureFile>;
  } catch {
    throw new UserError(`${where}: ${SIGNATURE_FILE} is not valid JSON`);
  }
  if (s?.format !== SIGNATURE_FORMAT)
    throw new UserError(`${where}: ${SIGNATURE_FILE} is not a strainer signature file`);
  if (s.version !== SIGNATURE_VERSION)
    throw new UserError(
      `${where}: ${SIGNATURE_FILE} version ${String(s.version)} is not supported (this strainer reads version ${SIGNATURE_VERSION})`,
    );
  if (s.algorithm !== 'Ed25519')
    throw new UserError(`${where}: ${SIGNATURE_FILE} uses algorithm '${String(s.algorithm)}', not Ed25519`);
  const sig = typeof s.signature === 'string' ? fromBase64(s.signature) : null;
  if (sig?.byteLength !== 64) throw new UserError(`${where}: ${SIGNATURE_FILE} holds no 64-byte Ed25519 signature`);
  return { ...(s as SignatureFile), sig };
}

/**
 * Verifies manifest.json's bytes against manifest.sig (null: the bundle has none) with the pinned key;
 * returns the key id or throws one UserError line naming what failed: unsigned, another key, a changed
 * manifest, or a damaged signature.
 */
export async function verifyManifest(
  manifest: Uint8Array,
  sigBytes: Uint8Array | null,
  publicKey: string,
  where: string,
  missing = 'no manifest.sig',
): Promise<string> {
  const pinned = await importPublicKey(publicKey, `${where}: pinned public key`);
  if (!sigBytes)
    throw new UserError(`${where}: the bundle is not signed (${missing}) but a public key (${pinned.keyId}) is pinned`);
  const s = parseSignatureFile(sigBytes, where);
  const ok = await webcrypto(where, () => subtle().verify(ED, pinned.key, s.sig, manifest));
  if (ok) return pinned.keyId;
  if (s.key_id !== pinned.keyId)
    throw new UserError(`${where}: signed by another key (${String(s.key_id)}), not the pinned key ${pinned.keyId}`);
  if (s.manifest_sha256 !== (await sha256Hex(manifest)))
    throw new UserError(
      `${where}: manifest.json does not match its signature by key ${pinned.keyId} (changed after signing)`,
    );
  throw new UserError(
    `${where}: ${SIGNATURE_FILE} is not a valid signature of manifest.json by key ${pinned.keyId} (signature damaged)`,
  );
}

/** Reads manifest.sig with `read` (a bundle's file reader) and verifies `manifest` with the pinned key. */
export async function checkSignature(
  read: (name: string) => Promise<Uint8Array>,
  manifest: Uint8Array,
  publicKey: string,
  where: string,
): Promise<SignatureStatus> {
  let sig: Uint8Array | null = null;
  let missing = `no ${SIGNATURE_FILE}`;
  try {
    sig = await read(SIGNATURE_FILE);
  } catch (e) {
    missing = `${SIGNATURE_FILE}: ${(e as Error).message}`;
  }
  return { state: 'verified', keyId: await verifyManifest(manifest, sig, publicKey, where, missing) };
}
