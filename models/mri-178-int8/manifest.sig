{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "7500aa78849fdaa5d22faa5363160acc298ece733fa28e664dd6d4f4d88e5b1a",
  "signature": "Ov26QwirILgu2I0GonwjCR/W/seFB5tgjYAlsjdcHNjn6sHONQ5q6WfY3l06I0TJWK3vMTeXv4obEXQPInu3BQ=="
}
