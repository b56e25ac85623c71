{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "e3fd747364be8056bae40c1e60412f2f275e4b796686bbe3e451518fc810a3f5",
  "signature": "EuV22DGpDjSoJTTFNdhgu/BANX81xv0CiarN7ZCId/XOjoEqOGMZpoMXJubSJuWlIP89goTGkvTBDxCHqpcDAA=="
}
