{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "acb7e7108c1797c24f948d3656248dd71c1aab7a23d17605126d0caf7f2909a4",
  "signature": "z7yLiSWVnss1qiAK87o+0ZEB5KBbYC2kGDXyrF0mCI+rTdRKWqR4J/OL9aiqLeiW6wWIq0mCmiB3fwJT4l17AQ=="
}
