{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "88ed6ffd9a922014dcb1d5f783112f957365e74ddba73fd08d0c838fb81c894f",
  "signature": "B7TRH2o+uLH+ueHFs5+Y+BXtCpvOLysRb7/oDY7g8GgtrwTln5W8F+EUe8JZZJVpGdqhDBG5tJo+JCq4mvu7DQ=="
}
