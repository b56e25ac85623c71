{
  "format": "strainer-signature",
  "version": 1,
  "algorithm": "Ed25519",
  "signed": "manifest.json",
  "key_id": "1916fca460a90d76",
  "manifest_sha256": "b89095c06b256f00759217b04297cf91a4e857eff646545ed8683fffee3aef3a",
  "signature": "gqW6rmF/x4QXvfnt8yqMJo5s6+PZdQq0ahySC33wxjIIgOtOIBfI8Y2gh8KANIytauAr9HDk5InnGsIS2leQDQ=="
}
