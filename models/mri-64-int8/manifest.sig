{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "1fd73aa2c5637c175d80eaa16a0e08e27d9d0ad243d41a7f0d31f49ba74c2f79",
  "signature": "bCCWZyMojMpD4WsdVgktBGhdRYzj0wQcuQ32fpPQSsJnDCiLptP+I/aINvckHT1j4yqGnfCe/OvpFjstf1uNAQ=="
}
