{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "01f1b3e365a15631a2cf2e68648e3af61c9fa9dce3d86f60c7b93349a13e7875",
  "signature": "ApGWUbUQ6wuxGidgpeqMKRJzj5HtCPeJnymJF9yevR1ubnO4xN7VQxqfoUFgu/7lbA43EBLhOFDtYMpMF0sODw=="
}
