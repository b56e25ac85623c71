// Prior bundles: the encoder ONNX (encoder weights + coords -> features), the train step that fits a
// new signal from it (any ONNX runtime can drive it) and the encoder weights, stored once in
// weights.bin (float32, or float16/int8 in compact priors), all hashed in the manifest. A meta-learned
// prior (format version 3) also stores its decoder in weights.bin, and `method` and `meta` (its recipe)
// in the manifest. loadPrior holds
// the one prior-trust policy (a pinned key: the signature must verify; none: a note that nothing vouches
// for the prior) and PROJECT_KEY, the key that signs the shipped priors.
import {
  loadBundle,
  buildBundle,
  type FileSource,
  type Manifest,
  type BuiltBundle,
  type BundleLoadOptions,
  type ManifestMeta,
} from './bundle.ts';
import { SIGNATURE_FILE, type SignatureStatus } from './signature.ts';
import { programToOnnx } from '../onnx/write.ts';
import { graphEntry, manifestSignal, signalDims } from './fit-bundle.ts';
import type { HostTensor } from '../runtime/session.ts';
import { trainStepProgram, encoderProgram } from '../train/programs.ts';
import { ADAM_DEFAULTS } from '../train/adam.ts';
import type { InrConfig } from '../model/config.ts';
import { isEncoderParam, paramSpecs, type Params } from '../model/inr.ts';
import type { TargetRange } from '../train/grid.ts';
import type { MetaRecipe, Prior, PriorMethod } from '../train/prior.ts';
import { UserError } from '../util/errors.ts';

export interface BundledPrior extends Prior {
  manifest: Manifest;
  signature: SignatureStatus;
}

/**
 * The project's Ed25519 public key (models/strainer-project.pub; its private half is not in the
 * repository): it signs every prior shipped with strainer. 'strainer/node' checks shipped priors
 * against it wherever they are loaded; a web app pins it in one line:
 * `loadPriorFromUrl(url, { publicKey: PROJECT_KEY })`.
 */
export const PROJECT_KEY = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA2AB32NHXOoSTzwKfu1PkhKlnDGZtpYeYgBEI5lkHUI8=
-----END PUBLIC KEY-----
`;

export interface PriorLoadOptions extends BundleLoadOptions {
  /** Without a pinned key: where the note that nothing vouches for the prior goes, once per location
   *  (default console.warn; the CLI writes it to stderr as `strainer: note: ...`). */
  onNote?: (line: string) => void;
}

const noted = new Set<string>();

/**
 * Loads a prior under the one trust policy, wherever a prior is loaded (the CLI, 'strainer/node',
 * 'strainer/web'): with a pinned `publicKey` the prior must carry that key's valid signature of its
 * manifest, which pins every file (else one UserError line); without one, every file must still match
 * the manifest, and a note says once that the prior is unsigned, or signed but not verified.
 */
export async function loadPrior(src: FileSource, o: PriorLoadOptions = {}): Promise<BundledPrior> {
  const prior = await readPrior(src, o);
  if (o.publicKey === undefined) {
    const signed = await src.read(SIGNATURE_FILE).then(
      () => true,
      () => false,
    );
    const note = signed
      ? `prior ${src.where} is signed but not verified (pin its signer's public key to check the signature)`
      : `prior ${src.where} is unsigned (its files match its own manifest; nothing vouches for the manifest)`;
    if (!noted.has(note)) {
      noted.add(note);
      (o.onNote ?? ((line: string) => console.warn(`strainer: note: ${line}`)))(note);
    }
  }
  return prior;
}

/** Reads and checks a prior bundle (every file against the manifest; with a key, the signature first). */
async function readPrior(src: FileSource, o: BundleLoadOptions): Promise<BundledPrior> {
  const b = await loadBundle(src, { publicKey: o.publicKey });
  const m = b.manifest;
  if (m.kind !== 'prior') throw new UserError(`${src.where}: bundle is a '${m.kind}', not a prior`);
  const encoder: Params = {};
  for (const s of paramSpecs(m.config).filter((p) => isEncoderParam(p.name))) {
    const t = b.tensors[s.name];
    if (!t || t.data.length !== s.shape.reduce((a, c) => a * c, 1))
      throw new UserError(`${src.where}: prior lacks encoder tensor '${s.name}' of shape [${s.shape}]`);
    encoder[s.name] = t.data;
  }
  const prior: BundledPrior = {
    name: m.name,
    config: m.config,
    range: m.range,
    encoder,
    manifest: m,
    signature: b.signature,
    ...(m.signal ? { dims: signalDims(m.signal) } : {}),
    ...(m.signal?.rate !== undefined ? { rate: m.signal.rate } : {}),
  };
  if (m.method !== undefined) {
    // parseManifest has checked method and meta; a meta-learned prior is a whole-network init.
    const decoder: Params = {};
    for (const s of paramSpecs(m.config).filter((p) => !isEncoderParam(p.name))) {
      const t = b.tensors[s.name];
      if (!t || t.data.length !== s.shape.reduce((a, c) => a * c, 1))
        throw new UserError(`${src.where}: ${m.method} prior lacks decoder tensor '${s.name}' of shape [${s.shape}]`);
      decoder[s.name] = t.data;
    }
    prior.decoder = decoder;
    prior.method = m.method;
    prior.meta = metaRecipe(m.meta!);
  }
  return prior;
}

/** The manifest's `meta` as the trainer names it, and back. */
export function metaRecipe(m: ManifestMeta): MetaRecipe {
  return {
    innerSteps: m.inner_steps,
    innerLr: m.inner_lr,
    innerOptimizer: m.inner_optimizer,
    metaBatch: m.meta_batch,
    outerLr: m.outer_lr,
    outerSteps: m.outer_steps,
  };
}
export function manifestMeta(r: MetaRecipe): ManifestMeta {
  return {
    inner_steps: r.innerSteps,
    inner_lr: r.innerLr,
    inner_optimizer: r.innerOptimizer,
    meta_batch: r.metaBatch,
    outer_lr: r.outerLr,
    outer_steps: r.outerSteps,
  };
}

export interface PriorBundleArgs {
  name: string;
  /** Single-signal config (outDim = channels). */
  config: InrConfig;
  range: TargetRange;
  encoder: Params;
  /** Resolution the prior was trained at; the bundled train step fits a new res x res signal. */
  res: number;
  /** The grid of a clip or volume prior ([n], [d, h, w]; its train step fits that many samples), instead of res x res. */
  dims?: number[];
  /** Samples per second of an audio prior's clips. */
  rate?: number;
  lr: number;
  iters: number;
  signals: number;
  engine: string;
  finalLoss?: number;
  data?: Manifest['data'];
  eval?: Record<string, unknown>;
  /** ISO time to record (default now); a rebuilt bundle keeps its original's. */
  created?: string;
  /** A meta-learned prior: its method ('strainer', the default, writes none), recipe and decoder. */
  method?: PriorMethod;
  meta?: MetaRecipe;
  decoder?: Params;
}

export async function buildPriorBundle(a: PriorBundleArgs): Promise<BuiltBundle> {
  const tensors: Record<string, HostTensor> = {};
  for (const s of paramSpecs(a.config).filter((p) => isEncoderParam(p.name))) {
    const v = a.encoder[s.name];
    if (!v) throw new UserError(`prior '${a.name}': encoder tensor '${s.name}' missing`);
    tensors[s.name] = { shape: s.shape, data: v };
  }
  const method = a.method === 'strainer' ? undefined : a.method;
  if (method !== undefined) {
    if (!a.meta) throw new UserError(`prior '${a.name}': a ${method} prior needs its meta recipe`);
    for (const s of paramSpecs(a.config).filter((p) => !isEncoderParam(p.name))) {
      const v = a.decoder?.[s.name];
      if (!v) throw new UserError(`prior '${a.name}': decoder tensor '${s.name}' missing`);
      tensors[s.name] = { shape: s.shape, data: v };
    }
  }
  const dims = a.dims ?? [a.res, a.res],
    batch = dims.reduce((x, y) => x * y, 1);
  const step = trainStepProgram({ config: a.config, batch });
  // The encoder graph takes its weights as inputs (from weights.bin): stored once per bundle.
  const enc = encoderProgram(a.config);
  const g1 = graphEntry('encoder.onnx', enc, programToOnnx(enc));
  const g2 = graphEntry('train_step.onnx', step, programToOnnx(step));
  return buildBundle(
    {
      kind: 'prior',
      name: a.name,
      config: a.config,
      range: a.range,
      ...(a.created ? { created: a.created } : {}),
      train: {
        lr: a.lr,
        iters: a.iters,
        adam: ADAM_DEFAULTS,
        batch,
        signals: a.signals,
        engine: a.engine,
        ...(a.finalLoss !== undefined ? { final_loss: a.finalLoss } : {}),
      },
      ...(method !== undefined ? { method, meta: manifestMeta(a.meta!) } : {}),
      signal: manifestSignal(dims, a.config.outDim, a.rate !== undefined ? { rate: a.rate } : {}),
      ...(a.data ? { data: a.data } : {}),
      ...(a.eval ? { eval: a.eval } : {}),
      graphs: { encoder: g1.entry, train_step: g2.entry },
    },
    tensors,
    { 'encoder.onnx': g1.bytes, 'train_step.onnx': g2.bytes },
  );
}
