{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "593359c5dee23bbfda0ea4c90c32422896e34b8c798e0e6dfff6ae11f4f4d8d8",
  "signature": "Zhvwe0K48LTCEn6THv+iI/gc4aCS/krFiddlwL1g0KuG+bhRLH4dGSx3FhNsfAx+nl2yheIejGiLmU8OO+oyAQ=="
}
