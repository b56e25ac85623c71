{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "f8f2ad1466019be23187a7daf50e8c2daa8a11d7f787df9a50841d9204e637fe",
  "signature": "sUXe13tjcQI0NXMHNQOWbbENyDLKkiQbHPdujKpx6reTHS9uC0hRKlrZyp4hwaVPOEmoOGv91WFnZ83IiwOcDQ=="
}
