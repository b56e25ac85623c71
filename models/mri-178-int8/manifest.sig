{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "343b5b29febd613970841a9242d78b6e32633233b47733e564fc8d0785059213",
  "signature": "AGZMihY3/v8vwSkPjLBcZ0w+oHQyRX52WfOjR2Xv4wZ8qlJ83qCqR4Zqod1yVBl7TaCIFz9Kptb9zbOpdbtZBw=="
}
