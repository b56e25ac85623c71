// The `bundles` namespace of the core entry: the bundle format below loadPrior and fitBundle — building
// and parsing manifests, prior bundles, pretraining checkpoints, compact (float16/int8) storage, and
// Ed25519 signing and verification of manifests.
export {
  buildBundle,
  parseManifest,
  manifestBytes,
  bundleSource,
  FORMAT_VERSION,
  type ManifestDraft,
  type LoadedBundle,
  type BundleLoadOptions,
  type ManifestMeta,
} from './bundle.ts';
export { buildPriorBundle, type PriorBundleArgs } from './prior.ts';
export { encodeCheckpoint, decodeCheckpoint, type CheckpointMeta } from './checkpoint.ts';
export { quantizePrior, QUANTIZE_TARGETS, type QuantizeTarget } from './quantize.ts';
export { TENSOR_DTYPES, type TensorDtype } from './tensor-codec.ts';
export {
  generateKeyPair,
  signManifest,
  verifyManifest,
  importPublicKey,
  publicKeyId,
  SIGNATURE_FILE,
  type SignatureStatus,
  type KeyPairPem,
} from './signature.ts';
