// SHA-256 of bytes as lowercase hex, through WebCrypto (globalThis.crypto.subtle: Node >= 20 and every
// current browser), so bundles, checkpoints and data pins use one function on every platform.

interface SubtleLike {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis as unknown as { crypto: { subtle: SubtleLike } }).crypto.subtle;
  const d = await subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
