{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "b1b4f20dc1702f6212e9b29974938cf4783decd342245d115c2128482a4c7c00",
  "signature": "U2w0iXV7ooexcp361eR24cb53kLUjDBWYv6Fu9CYTOLBYXL5q4HZ+uxx4x5xffl1Jfaou6L/5jy5NvpPyU/jDw=="
}
