{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "cb981b14d4f7b80f9fd795926f2f7f447dfc57cf514d2f0caf513f956b9f6268",
  "signature": "XNOKeMNHSMmmK+L2f0KUiggVa2p53MvBjR1P1HZ4qwdLurzGNA1xKS5uojcSmrhB7OIVdjo+nGN4k2dAM0r6DA=="
}
