{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "fb4ce7aecf830b6133db7ba8f8fb1eae65a0f12c5005e96d44c59a1ecadd3bc8",
  "signature": "y4jww7pTpUJklBV2dRqNK6ha8kHUr/nZnXMeFSbUe1Ms8jfZj5+ji3SQgJ3HzHlzxCsPT3BjnSKFJgJQvgotDA=="
}
