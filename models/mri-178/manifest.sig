{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "8d4472fa97cd014a75f6365127f7859bdcdee6286d9dc792845ccc86356aed9a",
  "signature": "rSc8+Ir6V3mu81jlYIj+5hdf+6iLmESmUEUrGGKUSM3bhUE2BtYAJIIe4TMW1mQjXNQTzmRHWcTB5Z7uHBxwCw=="
}
