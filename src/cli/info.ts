// `strainer info BUNDLE [--public-key PUB] [--json]`: what a bundle is (kind, name, release, what kind of
// prior — STRAINER-N or a meta-learned init with its recipe —, config, training, data and split), whether it is signed (and, given a key, verified), the bytes of each file,
// and the quality measured when it was made (a prior's held-out gain over a random SIREN). Every file is
// checked against its sha256 first, so what is shown is what a loader would accept.
import type { Command } from 'commander';
import { existsSync, statSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readKeyFile } from './prior.ts';
import { loadBundle, type Manifest } from '../export/bundle.ts';
import { parseSignatureFile, SIGNATURE_FILE } from '../export/signature.ts';
import { dirSource } from '../node/fs.ts';
import { UserError } from '../util/errors.ts';

export interface InfoCliOptions {
  publicKey?: string;
  json?: boolean;
}

export type SignatureInfo =
  | { state: 'verified'; key_id: string }
  | { state: 'signed'; key_id: string; detail: string }
  | { state: 'unsigned' }
  | { state: 'invalid'; detail: string };

/** The measured quality a manifest records: a prior's gain (eval.gain_db etc.), a fit's PSNR. */
interface Gain {
  iteration?: number;
  strainer_psnr?: number;
  siren_psnr?: number;
  gain_db?: number;
  psnr?: number;
  curve?: Record<string, { strainer: number; siren: number; gain: number }>;
  /** A meta-learned prior: PSNR after its inner SGD steps, from it and from a random SIREN. */
  inner?: { steps: number; lr: number; meta_psnr: number; siren_psnr: number; gain_db: number };
}

export interface BundleInfo {
  bundle: string;
  kind: Manifest['kind'];
  name: string;
  release: number | null;
  format_version: number;
  /** Priors: 'strainer' or the meta-learning method; null for other bundles. */
  method: string | null;
  /** A meta-learned prior's recipe (manifest `meta`), else null. */
  meta: Manifest['meta'] | null;
  created: string;
  config: Manifest['config'];
  range: Manifest['range'];
  train: Manifest['train'];
  signal: Manifest['signal'] | null;
  data: { description: string; train: string[]; test: string[]; files: { path: string; sha256: string }[] } | null;
  signature: SignatureInfo;
  files: Record<string, number>;
  total_bytes: number;
  eval: Gain | null;
  /** Compact bundles: how the weights are stored (manifest `quantization`), else null. */
  quantization: { dtype?: string; from?: { name?: string }; max_abs_error?: number } | null;
}

function signatureInfo(dir: string, verifiedKey: string | null): SignatureInfo {
  if (verifiedKey) return { state: 'verified', key_id: verifiedKey };
  const path = join(dir, SIGNATURE_FILE);
  if (!existsSync(path)) return { state: 'unsigned' };
  try {
    return {
      state: 'signed',
      key_id: parseSignatureFile(readFileSync(path), dir).key_id,
      detail: 'not verified: pass --public-key to check it',
    };
  } catch (e) {
    if (e instanceof UserError) return { state: 'invalid', detail: e.message };
    throw e;
  }
}

export async function bundleInfo(dir: string, publicKeyFile?: string): Promise<BundleInfo> {
  if (!existsSync(join(dir, 'manifest.json'))) throw new UserError(`${dir}: not a bundle folder (no manifest.json)`);
  const b = await loadBundle(
    dirSource(dir),
    publicKeyFile !== undefined ? { publicKey: readKeyFile(publicKeyFile, '--public-key') } : {},
  );
  const m = b.manifest;
  const files: Record<string, number> = { 'manifest.json': statSync(join(dir, 'manifest.json')).size };
  if (existsSync(join(dir, SIGNATURE_FILE))) files[SIGNATURE_FILE] = statSync(join(dir, SIGNATURE_FILE)).size;
  for (const [name, f] of Object.entries(m.files)) files[name] = f.bytes;
  const e = m.eval ?? null;
  return {
    bundle: resolve(dir),
    kind: m.kind,
    name: m.name,
    release: m.release ?? null,
    format_version: m.version,
    method: m.kind === 'prior' ? (m.method ?? 'strainer') : null,
    meta: m.meta ?? null,
    created: m.created,
    config: m.config,
    range: m.range,
    train: m.train,
    signal: m.signal ?? null,
    data: m.data
      ? { description: m.data.description, train: m.data.train, test: m.data.test, files: m.data.files }
      : null,
    signature: signatureInfo(dir, b.signature.state === 'verified' ? b.signature.keyId : null),
    files,
    total_bytes: Object.values(files).reduce((a, n) => a + n, 0),
    quantization: (m as { quantization?: BundleInfo['quantization'] }).quantization ?? null,
    eval: e
      ? Object.fromEntries(
          ['iteration', 'strainer_psnr', 'siren_psnr', 'gain_db', 'psnr', 'curve', 'inner']
            .filter((k) => e[k] !== undefined)
            .map((k) => [k, e[k]]),
        )
      : null,
  };
}

const span = (ids: string[]): string =>
  ids.length > 2 ? `${ids[0]}..${ids[ids.length - 1]} (${ids.length})` : `${ids.join(', ')} (${ids.length})`;

export function formatInfo(i: BundleInfo): string {
  const c = i.config,
    t = i.train;
  const sig = i.signature;
  const lines: [string, string][] = [
    [
      'bundle',
      `${i.kind} '${i.name}'${i.release !== null ? ` release ${i.release}` : ' (no release)'}, format version ${i.format_version}, created ${i.created}`,
    ],
    [
      'config',
      `${c.kind} inDim ${c.inDim} outDim ${c.outDim} width ${c.width} depth ${c.depth}${c.kind === 'siren' ? ` omega ${c.omega}` : ''}${c.kind === 'siren' && c.omega0 !== undefined && c.omega0 !== c.omega ? ` omega0 ${c.omega0}` : ''}, targets ${i.range}`,
    ],
    [
      'trained',
      `${t.iters} iterations, lr ${t.lr}, ${t.signals} signal(s)${i.signal ? ` at ${(i.signal.dims ?? [i.signal.height, i.signal.width]).join('x')}x${i.signal.channels}${i.signal.rate ? ` (${i.signal.rate} Hz)` : ''}` : ''}${t.engine ? `, ${t.engine}` : ''}${t.final_loss !== undefined ? `, final loss ${t.final_loss.toExponential(3)}` : ''}`,
    ],
  ];
  const what = priorKind(i);
  if (what) lines.splice(1, 0, ['prior', what]);
  const q = i.quantization;
  if (q)
    lines.push([
      'weights',
      `${q.dtype ?? '?'}${q.from?.name ? `, converted from '${q.from.name}'` : ''}${q.max_abs_error !== undefined ? ` (max abs error ${q.max_abs_error})` : ''}`,
    ]);
  if (i.data) lines.push(['data', `${i.data.description}; train ${span(i.data.train)}, held out ${span(i.data.test)}`]);
  lines.push([
    'signature',
    sig.state === 'verified'
      ? `verified: signed by the given key ${sig.key_id}`
      : sig.state === 'signed'
        ? `signed by key ${sig.key_id} (${sig.detail})`
        : sig.state === 'unsigned'
          ? 'unsigned'
          : `invalid: ${sig.detail}`,
  ]);
  lines.push([
    'files',
    `${Object.entries(i.files)
      .map(([n, b]) => `${n} ${b.toLocaleString('en-US')}`)
      .join(', ')} bytes; total ${(i.total_bytes / 1e6).toFixed(2)} MB`,
  ]);
  const e = i.eval;
  if (e?.inner)
    lines.push([
      'inner',
      `${e.inner.meta_psnr.toFixed(2)} dB after ${e.inner.steps} SGD step(s) of lr ${e.inner.lr} from this init vs ${e.inner.siren_psnr.toFixed(2)} dB from a random SIREN on the held-out images (${e.inner.gain_db >= 0 ? '+' : ''}${e.inner.gain_db.toFixed(2)} dB)`,
    ]);
  if (e?.gain_db !== undefined) {
    const curve = e.curve
      ? `; gain by iteration ${Object.entries(e.curve)
          .map(([it, p]) => `${it}: ${p.gain >= 0 ? '+' : ''}${p.gain.toFixed(2)}`)
          .join(', ')}`
      : '';
    lines.push([
      'gain',
      `${e.gain_db >= 0 ? '+' : ''}${e.gain_db.toFixed(2)} dB at iteration ${e.iteration}: ${e.strainer_psnr?.toFixed(2)} dB from this prior vs ${e.siren_psnr?.toFixed(2)} dB from a random SIREN on the held-out images${curve}`,
    ]);
  } else if (e?.psnr !== undefined) {
    lines.push(['psnr', `${e.psnr.toFixed(2)} dB`]);
  }
  return lines.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n') + '\n';
}

/** What a prior is, in words: STRAINER-N, or a meta-learned init with its recipe; null for other bundles. */
export function priorKind(i: Pick<BundleInfo, 'kind' | 'method' | 'meta' | 'train'>): string | null {
  if (i.kind !== 'prior') return null;
  const m = i.meta;
  if (i.method === 'strainer' || !m)
    return `STRAINER-${i.train.signals}: a shared encoder pretrained with ${i.train.signals} decoder(s); a fit starts its encoder and a fresh decoder`;
  const name = { maml: 'MAML', fomaml: 'first-order MAML', reptile: 'Reptile' }[i.method ?? ''] ?? i.method;
  return `${name} meta-learned init (encoder and decoder): ${m.outer_steps} outer steps of Adam lr ${m.outer_lr}, meta batch ${m.meta_batch} of ${i.train.signals} signals, ${m.inner_steps} inner ${m.inner_optimizer.toUpperCase()} step(s) of lr ${m.inner_lr}; its own test-time fit: --optimizer sgd --lr ${m.inner_lr} --iters ${m.inner_steps}`;
}

export async function runInfo(dir: string, o: InfoCliOptions): Promise<void> {
  const i = await bundleInfo(dir, o.publicKey);
  process.stdout.write(o.json ? JSON.stringify(i) + '\n' : formatInfo(i));
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('describe a bundle: kind, name, release, config, data, signature, file sizes, measured gain')
    .argument('<bundle>', 'bundle folder (holding manifest.json)')
    .option('--public-key <file>', 'also verify the signature with this public key')
    .option('--json', 'print the description as JSON')
    .action(async (dir: string, opts: InfoCliOptions) => runInfo(dir, opts));
}
