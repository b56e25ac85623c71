{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "9192f599ba90b902d1c90dfa23765c78ebd73d244af796406c545267daf012ce",
  "signature": "gSAX8+Yld+73AwQ0XCzuLDmB3hYM8V9NSUcR4jTAu8xOqMo36W5Sq4D+5NwEb4k5lYA4zWhscCm5Xx0IZ2w0AA=="
}
