{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "0ceac926fd028cba3eabb3f177690f1ce9bde0b90882e6436eccea60df82ab53",
  "signature": "0RUSvyr+H8KWzh93elWJZ905IUGx4I0cn3Vs+IRrrBF4DOUIuTOmR+eZfRMkM/f/5N/ppfBD2aPFlHpGERbTBA=="
}
