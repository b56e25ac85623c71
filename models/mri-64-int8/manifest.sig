{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "2b2a757fc2b0cc23e841efc9522dac493147fa19922ad835e38a2bee8647e06b",
  "signature": "ajE0a8cLy8o/9/kCKfobHXOOWfiEwqcukmk/sxYa3WsshKjrTgGbbf9hw2xrFj2pdXB+rfPrc+1iT91BqD2wAw=="
}
